//! Import benchmark: how fast, and in how much memory, a large list goes into a campaign.
//!
//! Generates a `to,timeout` list of distinct numbers (1,000,000 rows unless
//! `DIALER_BENCH_ROWS` says otherwise) in a temporary folder, then imports it with the real
//! code path (`import::import` into a fresh store), imports it again into the same store as
//! cron re-runs would (the list unchanged, one row appended, then sorted backwards so every
//! row moves), and, for scale, loads the same file with the
//! `sqlite3` command-line tool's `.import --csv`. A 10,000-row import runs first, so its peak
//! memory can be set beside the large one's. Last, the same number of rows written as a US
//! list writes them (`(415) 867-5309`) into a campaign with `default_region = "US"`, so every
//! number goes through libphonenumber's parsing and validation instead of E.164's shape check.
//! Figures only, no pass/fail.
//! Run with `cargo bench --bench import` (quick: `DIALER_BENCH_ROWS=20000 cargo bench --bench import`).

mod common;

use dialer::config::Campaign;
use dialer::import::{self, ImportSummary};
use dialer::store::Store;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tempfile::TempDir;

const ROWS_VAR: &str = "DIALER_BENCH_ROWS";
const DEFAULT_ROWS: u64 = 1_000_000;
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
}

/// Resident set sizes in kB, from `/proc/self/status`.
#[derive(Clone, Copy)]
struct Memory {
    baseline_kb: u64,
    peak_kb: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows = rows_from_env()?;
    print_header(rows);
    let peak_resets = reset_peak_rss();
    let mut table = Vec::new();
    if rows > SMALL_ROWS {
        let small = prepare(SMALL_ROWS)?;
        let (measured, store) = import_fresh(&small).await?;
        store.close().await;
        table.push(measured);
    }
    let large = prepare(rows)?;
    print_list(&large, rows);
    let (first, store) = import_fresh(&large).await?;
    table.push(first);
    // Before the list is rewritten below, so sqlite3 loads the same file.
    let sqlite3 = sqlite3_import(&large, rows);
    table.push(import_again(&large, &store, "unchanged").await?);
    rewrite_list(&large, 0..=rows)?;
    table.push(import_again(&large, &store, "a row appended").await?);
    rewrite_list(&large, (0..=rows).rev())?;
    table.push(import_again(&large, &store, "sorted backwards").await?);
    store.close().await;
    if let Ok(measured) = &sqlite3 {
        table.push(measured.clone());
    }
    drop(large);
    let national = prepare_national(rows)?;
    let (mut measured, store) = import_fresh(&national).await?;
    measured.what = "dialer import, national (US)".to_owned();
    store.close().await;
    table.push(measured);
    print_table(&table);
    print_notes(peak_resets, sqlite3.err());
    Ok(())
}

fn rows_from_env() -> anyhow::Result<u64> {
    match std::env::var(ROWS_VAR) {
        Ok(raw) => Ok(raw.replace(['_', ','], "").parse()?),
        Err(_) => Ok(DEFAULT_ROWS),
    }
}

fn print_header(rows: u64) {
    println!("import: a {rows}-row list (to, timeout) into a fresh campaign database");
    println!("  the real path (CSV read, every row checked as its request, SQLite with WAL");
    println!("  and synchronous=FULL), then re-runs over the same store (unchanged, one row");
    println!("  appended, sorted backwards), then sqlite3's own");
    println!("  .import --csv of the same file for scale; last, as many rows in national format");
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

fn print_table(table: &[Measured]) {
    println!(
        "{:<34} {:>9} {:>9} {:>11} {:>13} {:>10}  outcome",
        "run", "rows", "time", "rows/s", "baseline RSS", "peak RSS"
    );
    for m in table {
        let (baseline, peak) = match m.memory {
            Some(mem) => (
                common::megabytes(mem.baseline_kb),
                common::megabytes(mem.peak_kb),
            ),
            None => ("-".to_owned(), "-".to_owned()),
        };
        println!(
            "{:<34} {:>9} {:>8.2}s {:>11.0} {:>13} {:>10}  {}",
            m.what,
            m.rows,
            m.time.as_secs_f64(),
            m.rows as f64 / m.time.as_secs_f64().max(1e-9),
            baseline,
            peak,
            m.outcome
        );
    }
}

fn print_notes(peak_resets: bool, sqlite3_skipped: Option<String>) {
    println!();
    if let Some(why) = sqlite3_skipped {
        println!("sqlite3 .import skipped: {why}");
    }
    println!("baseline RSS: VmRSS of this process just before the run; peak RSS: its VmHWM after");
    if peak_resets {
        println!("the peak is reset before each run, so each peak is that run's own");
    } else {
        println!("the peak could not be reset: each peak is the process's highest so far");
    }
}

/// Writes the list and its campaign file; not part of any measurement.
fn prepare(rows: u64) -> anyhow::Result<Prepared> {
    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    let list = common::write_list(dir.path(), rows)?;
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
    let (summary, time, memory) = measured_import(&prepared.campaign, &store).await?;
    let measured = Measured {
        what: "dialer import, fresh store".to_owned(),
        rows: summary.records,
        time,
        outcome: describe(&summary),
        memory,
    };
    Ok((measured, store))
}

/// The list again, as a cron job's next run finds it: unchanged (not read again), or changed
/// (read again: every row already there is recognised by its number).
async fn import_again(prepared: &Prepared, store: &Store, what: &str) -> anyhow::Result<Measured> {
    let (summary, time, memory) = measured_import(&prepared.campaign, store).await?;
    Ok(Measured {
        what: format!("dialer re-import, {what}"),
        rows: summary.records,
        time,
        outcome: describe(&summary),
        memory,
    })
}

/// Rewrites the list with the rows of these indexes, in this order (streamed, untimed).
fn rewrite_list(prepared: &Prepared, indexes: impl Iterator<Item = u64>) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(&prepared.campaign.list)?);
    writeln!(out, "to,timeout")?;
    for index in indexes {
        writeln!(out, "{},20", common::number(index))?;
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
