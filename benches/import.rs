//! Import benchmark: how fast, in how much memory and with how many bytes written, a list
//! goes into a campaign, and whether that grows in step with the list.
//!
//! Generates `to,timeout` lists of distinct numbers (100,000 and 1,000,000 rows unless
//! `DIALER_BENCH_ROWS` names one size) in a temporary folder and imports each with the real
//! code path (`import::import` into a fresh store), on SQLite and on PostgreSQL (a server of
//! its own, started as the tests start theirs; `DIALER_BENCH_PG=0` skips it). The largest
//! list is then imported again into the same store as cron re-runs would (the list unchanged,
//! one row appended, then sorted backwards so every row moves), and, for scale, loaded with
//! the `sqlite3` command-line tool's `.import --csv`. A 10,000-row import runs first, so its
//! peak memory can be set beside the large ones'. Last, as many rows written as a US list
//! writes them (`(415) 867-5309`) into a campaign with `default_region = "US"`, so every
//! number goes through libphonenumber's parsing and validation instead of E.164's shape check.
//! Bytes written: this process's `write_bytes` (`/proc/self/io`) on SQLite; on PostgreSQL,
//! the server's WAL (its table and index files are written after, by its checkpoints).
//! Figures only, no pass/fail.
//! Run with `cargo bench --bench import` (quick: `DIALER_BENCH_ROWS=20000 cargo bench --bench import`).

// The tests' PostgreSQL harness, shared rather than copied; the bench uses part of it.
#[path = "../tests/it/support/postgres.rs"]
#[allow(dead_code)]
mod postgres;

mod common;

use dialer::config::Campaign;
use dialer::import::{self, ImportSummary};
use dialer::store::{Database, Store};
use sqlx::Connection;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tempfile::TempDir;

const ROWS_VAR: &str = "DIALER_BENCH_ROWS";
const DEFAULT_ROWS: [u64; 2] = [100_000, 1_000_000];
const PG_VAR: &str = "DIALER_BENCH_PG";
/// The small run whose peak memory is compared with the large one's.
const SMALL_ROWS: u64 = 10_000;
const SQLITE_MISSING: &str = "sqlite3 not installed (apt-get install sqlite3)";

/// A list and its campaign in a temporary folder (removed on drop).
struct Prepared {
    dir: TempDir,
    campaign: Campaign,
    generate_time: Duration,
    list_bytes: u64,
}

/// One line of the table.
#[derive(Clone)]
struct Measured {
    what: String,
    rows: u64,
    time: Duration,
    outcome: String,
    memory: Option<Memory>,
    /// Bytes written by the run (see the module comment for what is counted where).
    written: Option<u64>,
}

/// Resident set sizes in kB, from `/proc/self/status`.
#[derive(Clone, Copy)]
struct Memory {
    baseline_kb: u64,
    peak_kb: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sizes = sizes_from_env()?;
    let largest = *sizes.last().expect("at least one size");
    print_header(&sizes);
    let peak_resets = reset_peak_rss();
    let large = prepare(largest)?;
    print_list(&large, largest);
    // Each line is printed as soon as it is measured: the whole takes minutes.
    print_columns();
    if largest > SMALL_ROWS {
        let small = prepare(SMALL_ROWS)?;
        let (measured, store) = import_fresh(&small).await?;
        store.close().await;
        print_line(&measured);
    }
    for &rows in &sizes[..sizes.len() - 1] {
        let prepared = prepare(rows)?;
        let (measured, store) = import_fresh(&prepared).await?;
        store.close().await;
        print_line(&measured);
    }
    let (first, store) = import_fresh(&large).await?;
    print_line(&first);
    // Before the list is rewritten below, so sqlite3 loads the same file.
    let sqlite3 = sqlite3_import(&large, largest);
    print_line(&import_again(&large, &store, "unchanged").await?);
    rewrite_list(&large, 0..=largest)?;
    print_line(&import_again(&large, &store, "a row appended").await?);
    rewrite_list(&large, (0..=largest).rev())?;
    print_line(&import_again(&large, &store, "sorted backwards").await?);
    store.close().await;
    if let Ok(measured) = &sqlite3 {
        print_line(measured);
    }
    drop(large);
    if std::env::var(PG_VAR).as_deref() != Ok("0") {
        on_postgres(&sizes).await?;
    }
    let national = prepare_national(largest)?;
    let (mut measured, store) = import_fresh(&national).await?;
    measured.what = "dialer import, national (US)".to_owned();
    store.close().await;
    print_line(&measured);
    print_notes(peak_resets, sqlite3.err());
    Ok(())
}

/// Each size into a fresh PostgreSQL database, then the largest again with one row appended
/// (read again: every row already there is recognised by its number).
async fn on_postgres(sizes: &[u64]) -> anyhow::Result<()> {
    let server = postgres::PgServer::start();
    for (n, &rows) in sizes.iter().enumerate() {
        let prepared = prepare(rows)?;
        let db = server.fresh_database().await;
        let mut campaign = prepared.campaign.clone();
        campaign.database = Database::Postgres(db.database_url());
        let store = Store::open(&campaign.database, &campaign.name).await?;
        let what = "dialer import, PostgreSQL";
        print_line(&measured_on_postgres(&db, &campaign, &store, what).await?);
        if n == sizes.len() - 1 {
            rewrite_list(&prepared, 0..=rows)?;
            let what = "dialer re-import, PostgreSQL, +1";
            print_line(&measured_on_postgres(&db, &campaign, &store, what).await?);
        }
        store.close().await;
    }
    Ok(())
}

async fn measured_on_postgres(
    db: &postgres::PgTestDb,
    campaign: &Campaign,
    store: &Store,
    what: &str,
) -> anyhow::Result<Measured> {
    let wal_before = wal_position(db).await?;
    let (summary, time, memory) = measured_import(campaign, store).await?;
    Ok(Measured {
        what: what.to_owned(),
        rows: summary.records,
        time,
        outcome: describe(&summary),
        memory,
        written: Some(wal_position(db).await? - wal_before),
    })
}

/// Where the server's WAL stands, in bytes since its start.
async fn wal_position(db: &postgres::PgTestDb) -> anyhow::Result<u64> {
    let mut conn = sqlx::PgConnection::connect(&db.url).await?;
    let at: i64 = sqlx::query_scalar("SELECT CAST(pg_current_wal_lsn() - '0/0' AS BIGINT)")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(at as u64)
}

fn sizes_from_env() -> anyhow::Result<Vec<u64>> {
    match std::env::var(ROWS_VAR) {
        Ok(raw) => Ok(vec![raw.replace(['_', ','], "").parse()?]),
        Err(_) => Ok(DEFAULT_ROWS.to_vec()),
    }
}

fn print_header(sizes: &[u64]) {
    println!("import: lists of {sizes:?} rows (to, timeout; numbers in no order) into a fresh");
    println!("  campaign database:");
    println!("  the real path (CSV read, every row checked as its request, SQLite with WAL");
    println!("  and synchronous=FULL), then re-runs over the same store (unchanged, one row");
    println!("  appended, sorted backwards), then sqlite3's own");
    println!("  .import --csv of the same file for scale; on PostgreSQL each size, then a re-run");
    println!("  with a row appended; last, as many rows in national format");
    println!("  ((415) 867-5309) with default_region = \"US\": each number through libphonenumber");
    println!("  run with: cargo bench --bench import    ({ROWS_VAR}=N for another size)");
    println!();
}

fn print_list(prepared: &Prepared, rows: u64) {
    println!(
        "list: {rows} rows, {:.1} MB, generated (streamed) in {:.1} s before measuring",
        prepared.list_bytes as f64 / 1e6,
        prepared.generate_time.as_secs_f64()
    );
    println!();
}

fn print_columns() {
    println!(
        "{:<34} {:>9} {:>9} {:>11} {:>10} {:>13} {:>10}  outcome",
        "run", "rows", "time", "rows/s", "written", "baseline RSS", "peak RSS"
    );
}

fn print_line(m: &Measured) {
    let (baseline, peak) = match m.memory {
        Some(mem) => (
            common::megabytes(mem.baseline_kb),
            common::megabytes(mem.peak_kb),
        ),
        None => ("-".to_owned(), "-".to_owned()),
    };
    println!(
        "{:<34} {:>9} {:>8.2}s {:>11.0} {:>10} {:>13} {:>10}  {}",
        m.what,
        m.rows,
        m.time.as_secs_f64(),
        m.rows as f64 / m.time.as_secs_f64().max(1e-9),
        m.written
            .map_or("-".to_owned(), |b| format!("{:.1} MB", b as f64 / 1e6)),
        baseline,
        peak,
        m.outcome
    );
}

fn print_notes(peak_resets: bool, sqlite3_skipped: Option<String>) {
    println!();
    if let Some(why) = sqlite3_skipped {
        println!("sqlite3 .import skipped: {why}");
    }
    println!("written: this process's write_bytes on SQLite, the server's WAL on PostgreSQL");
    println!("baseline RSS: VmRSS of this process just before the run; peak RSS: its VmHWM after");
    if peak_resets {
        println!("the peak is reset before each run, so each peak is that run's own");
    } else {
        println!("the peak could not be reset: each peak is the process's highest so far");
    }
}

/// The `index`-th distinct number of the list, in no order of its own as a real list's are
/// (numbers in order would spare the indexes by number the random inserts a real list makes):
/// `+1415` and seven digits, spread by a multiplier prime to ten million.
fn scattered_number(index: u64) -> String {
    format!("+1415{:07}", (index * 7_654_321 + 1_234_567) % 10_000_000)
}

/// Writes the list and its campaign file; not part of any measurement.
fn prepare(rows: u64) -> anyhow::Result<Prepared> {
    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    let list = common::write_list_of(dir.path(), rows, scattered_number)?;
    let generate_time = started.elapsed();
    let campaign = Campaign::load(&common::write_campaign(dir.path(), 1)?)?;
    Ok(Prepared {
        list_bytes: std::fs::metadata(list)?.len(),
        dir,
        campaign,
        generate_time,
    })
}

/// The list in national format, read in the campaign's `default_region`; not measured.
fn prepare_national(rows: u64) -> anyhow::Result<Prepared> {
    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    let list = common::write_list_of(dir.path(), rows, common::national_number)?;
    let generate_time = started.elapsed();
    let file = common::write_campaign_with(dir.path(), 1, "default_region = \"US\"\n")?;
    Ok(Prepared {
        list_bytes: std::fs::metadata(list)?.len(),
        dir,
        campaign: Campaign::load(&file)?,
        generate_time,
    })
}

/// The first import, into a new database; the store stays open for the re-run.
async fn import_fresh(prepared: &Prepared) -> anyhow::Result<(Measured, Store)> {
    let store = Store::open(&prepared.campaign.database, &prepared.campaign.name).await?;
    let written_before = written_bytes();
    let (summary, time, memory) = measured_import(&prepared.campaign, &store).await?;
    let measured = Measured {
        what: "dialer import, fresh store".to_owned(),
        rows: summary.records,
        time,
        outcome: describe(&summary),
        memory,
        written: written_bytes().zip(written_before).map(|(a, b)| a - b),
    };
    Ok((measured, store))
}

/// The list again, as a cron job's next run finds it: unchanged (not read again), or changed
/// (read again: every row already there is recognised by its number).
async fn import_again(prepared: &Prepared, store: &Store, what: &str) -> anyhow::Result<Measured> {
    let written_before = written_bytes();
    let (summary, time, memory) = measured_import(&prepared.campaign, store).await?;
    Ok(Measured {
        what: format!("dialer re-import, {what}"),
        rows: summary.records,
        time,
        outcome: describe(&summary),
        memory,
        written: written_bytes().zip(written_before).map(|(a, b)| a - b),
    })
}

/// Rewrites the list with the rows of these indexes, in this order (streamed, untimed).
fn rewrite_list(prepared: &Prepared, indexes: impl Iterator<Item = u64>) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(&prepared.campaign.list)?);
    writeln!(out, "to,timeout")?;
    for index in indexes {
        writeln!(out, "{},20", scattered_number(index))?;
    }
    out.flush()?;
    Ok(())
}

async fn measured_import(
    campaign: &Campaign,
    store: &Store,
) -> anyhow::Result<(ImportSummary, Duration, Option<Memory>)> {
    reset_peak_rss();
    let baseline_kb = common::status_kb("self", "VmRSS");
    let started = Instant::now();
    let summary = import::import(campaign, store).await?;
    let time = started.elapsed();
    let memory =
        baseline_kb
            .zip(common::status_kb("self", "VmHWM"))
            .map(|(baseline_kb, peak_kb)| Memory {
                baseline_kb,
                peak_kb,
            });
    Ok((summary, time, memory))
}

fn describe(summary: &ImportSummary) -> String {
    format!(
        "{} new, {} already, {} rejected",
        summary.new, summary.already_imported, summary.rejected
    )
}

/// `sqlite3 new.db ".import --csv list.csv rows"`: a plain table, no checks, no indexes.
/// `Err` says why it could not run.
fn sqlite3_import(prepared: &Prepared, rows: u64) -> Result<Measured, String> {
    let db = prepared.dir.path().join("sqlite3-import.db");
    let started = Instant::now();
    let result = Command::new("sqlite3")
        .arg(&db)
        .arg(format!(
            ".import --csv \"{}\" rows",
            prepared.campaign.list.display()
        ))
        .output();
    let time = started.elapsed();
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(SQLITE_MISSING.to_owned()),
        Err(e) => Err(format!("sqlite3 could not run: {e}")),
        Ok(out) if !out.status.success() => Err(format!(
            "sqlite3 failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Ok(_) => Ok(Measured {
            what: "sqlite3 .import --csv".to_owned(),
            rows,
            time,
            outcome: sqlite3_count(&db),
            memory: None,
            written: None,
        }),
    }
}

fn sqlite3_count(db: &Path) -> String {
    match Command::new("sqlite3")
        .arg(db)
        .arg("SELECT COUNT(*) FROM rows")
        .output()
    {
        Ok(out) => format!(
            "{} rows in table",
            String::from_utf8_lossy(&out.stdout).trim()
        ),
        Err(e) => format!("sqlite3 could not count: {e}"),
    }
}

/// Resets this process's VmHWM to its current RSS (Linux 4.0+); false where not possible.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Bytes this process has sent to storage (`write_bytes` of `/proc/self/io`); `None` off Linux.
fn written_bytes() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines()
        .find_map(|line| line.strip_prefix("write_bytes:"))
        .and_then(|rest| rest.trim().parse().ok())
}
