//! Engine benchmark: how far one process goes beyond one campaign's 30 calls per second, how
//! fast a large campaign resumes, and how memory grows with the list. Figures only.
//!
//! 1. Store: durable attempt pairs per second, no HTTP. K tasks each loop on
//!    `Store::claim_next` (the attempt committed before a request would leave) and
//!    `Store::record` (its outcome committed after), WAL with `synchronous=FULL`.
//! 2. Engine: N campaigns at once in this process, each a real `run::run` (lock, store, gate,
//!    pacer, client, dial tasks) at CPS 30, the ceiling, on its own sandbox account with no
//!    latency and no CPS queue (`unpaced`, a sandbox setting for benchmarks). A campaign can
//!    never dial above 30 per second, so the engine is loaded with N × 30 durable attempts per
//!    second instead, N growing until the creates fall short: the largest N that keeps up is
//!    how many 30-CPS accounts one process drives. The sandboxes share the process and its
//!    cores, so this is a lower bound.
//! 3. Resume and memory: the real `dialer` binary as a child process against an in-process
//!    sandbox, on lists of 10,000 and 1,000,000 rows (`DIALER_BENCH_ROWS` for the large one).
//!    A fresh run (import, then dialing) is timed to its import line and to the sandbox's first
//!    creates, reading the child's peak RSS (`VmHWM` in `/proc/<pid>/status`) at both, then
//!    killed. Then 99% of the rows are marked created (with their attempts) in SQL, and a
//!    second run is timed from its start to the first create arriving at the sandbox.
//!
//! Run with `cargo bench --bench engine` (`DIALER_BENCH_CAMPAIGNS=1,8,16` for other N).

mod common;

use dialer::campaign;
use dialer::config::Campaign;
use dialer::dialing::progress::Progress;
use dialer::domain::{AccountSid, Cps};
use dialer::sandbox::{DEMO_AUTH_TOKEN, Sandbox, SandboxConfig};
use dialer::stop::{Stop, StopReason};
use dialer::store::{Database, Store};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};

const CAMPAIGN_CPS: u32 = 30;
const STORE_ROWS: u64 = 100_000;
const STORE_TASKS: [usize; 3] = [1, 8, 32];
const STORE_SECONDS: u64 = 5;
const CAMPAIGNS_VAR: &str = "DIALER_BENCH_CAMPAIGNS";
const DEFAULT_CAMPAIGNS: [usize; 6] = [1, 8, 16, 32, 48, 64];
/// Dialing before the measured window (import, first slots), then the window itself.
const WARMUP: Duration = Duration::from_secs(3);
const WINDOW: Duration = Duration::from_secs(10);
/// Below this share of N × 30, larger N are not tried.
const KEEPS_UP: f64 = 0.95;
const ROWS_VAR: &str = "DIALER_BENCH_ROWS";
const SIZES: [u64; 2] = [10_000, 1_000_000];
const DONE_SHARE: f64 = 0.99;
/// The child run is measured until the sandbox has seen this many creates.
const FIRST_CREATES: u64 = 30;
/// Linux's USER_HZ: the unit of utime and stime in `/proc/self/stat`.
const TICKS_PER_SECOND: f64 = 100.0;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!("engine: durable attempts per second in one process, resume, memory");
    println!("  run with: cargo bench --bench engine");
    println!("  {} cores", std::thread::available_parallelism()?.get());
    store_headroom().await?;
    engine_headroom().await?;
    resume_and_memory().await?;
    Ok(())
}

// ---- 1. store --------------------------------------------------------------------------

async fn store_headroom() -> anyhow::Result<()> {
    println!();
    println!("store: claim_next + record (Created) pairs, {STORE_SECONDS} s per line, no HTTP");
    let dir = tempfile::tempdir()?;
    let store = Store::open(&Database::Sqlite(dir.path().join("store.sqlite")), "bench").await?;
    common::fill_store(&store, STORE_ROWS).await?;
    common::print_store_pairs(&store, &STORE_TASKS, STORE_SECONDS).await?;
    store.close().await;
    Ok(())
}

// ---- 2. engine -------------------------------------------------------------------------

/// One campaign of the N, with its own account.
struct Account {
    _dir: tempfile::TempDir,
    campaign: Campaign,
    sandbox: Sandbox,
    /// When the sandbox started (its arrival times count from there).
    started: Instant,
}

async fn engine_headroom() -> anyhow::Result<()> {
    println!();
    println!(
        "engine: N campaigns at CPS {CAMPAIGN_CPS} at once, each on its own unpaced sandbox \
         account, 0 ms latency; creates counted over {} s after {} s",
        WINDOW.as_secs(),
        WARMUP.as_secs()
    );
    println!(
        "{:>4} {:>8} {:>10} {:>7} {:>14} {:>11}",
        "N", "target/s", "creates/s", "share", "slowest cps", "cores busy"
    );
    for n in campaigns_from_env()? {
        let share = measure_campaigns(n).await?;
        if share < KEEPS_UP {
            break;
        }
    }
    println!("share: creates per second in the window / (N × {CAMPAIGN_CPS})");
    println!("cores busy: this process's CPU time in the window / the window (sandboxes included)");
    Ok(())
}

fn campaigns_from_env() -> anyhow::Result<Vec<usize>> {
    match std::env::var(CAMPAIGNS_VAR) {
        Ok(raw) => Ok(raw
            .split(',')
            .map(|n| n.trim().parse())
            .collect::<Result<_, _>>()?),
        Err(_) => Ok(DEFAULT_CAMPAIGNS.to_vec()),
    }
}

async fn start_account(index: usize, rows: u64) -> anyhow::Result<Account> {
    let dir = tempfile::tempdir()?;
    common::write_list(dir.path(), rows)?;
    let campaign = Campaign::load(&common::write_campaign(dir.path(), CAMPAIGN_CPS)?)?;
    let sandbox = Sandbox::start(SandboxConfig {
        account_sid: AccountSid::parse(&format!("AC{:032x}", index + 1))?,
        cps: Cps::new(CAMPAIGN_CPS)?,
        unpaced: true,
        ring_ms: 100,
        talk_ms: 50,
        seed: Some(index as u64),
        ..SandboxConfig::ephemeral()
    })
    .await?;
    Ok(Account {
        _dir: dir,
        campaign,
        sandbox,
        started: Instant::now(),
    })
}

/// Runs `n` campaigns together and prints their line; returns the share of N × 30 achieved.
async fn measure_campaigns(n: usize) -> anyhow::Result<f64> {
    let rows = u64::from(CAMPAIGN_CPS) * (WARMUP + WINDOW).as_secs() * 2;
    let mut accounts = Vec::with_capacity(n);
    for index in 0..n {
        accounts.push(start_account(index, rows).await?);
    }
    let stop = Stop::default();
    let t0 = Instant::now();
    // Each run on a thread of its own with its own runtime (a run's future cannot be handed
    // to tokio::spawn), as N engines sharing one process and its two cores.
    let mut runs = Vec::with_capacity(n);
    for account in &accounts {
        let (campaign, stop) = (account.campaign.clone(), stop.clone());
        let client = common::client_for(&account.sandbox)?;
        runs.push(std::thread::spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let progress = Arc::new(Progress::default());
            runtime.block_on(campaign::run(&campaign, client, stop, progress, |_, _| {}))?;
            Ok(())
        }));
    }
    tokio::time::sleep(WARMUP).await;
    let cpu_before = cpu_seconds();
    tokio::time::sleep(WINDOW).await;
    let cpu = cpu_seconds()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    stop.trigger(StopReason::Deadline);
    for run in runs {
        tokio::task::spawn_blocking(move || run.join())
            .await?
            .map_err(|_| anyhow::anyhow!("a campaign's thread panicked"))??;
    }
    let (from, to) = (
        WARMUP.as_millis() as u64,
        (WARMUP + WINDOW).as_millis() as u64,
    );
    let mut total = 0;
    let mut slowest = usize::MAX;
    for account in accounts {
        // Arrivals on the shared clock: t0 is after every sandbox started.
        let offset = (t0 - account.started).as_millis() as u64;
        let in_window = account
            .sandbox
            .stats()
            .create_times_ms
            .iter()
            .filter(|t| (from..to).contains(&t.saturating_sub(offset)))
            .count();
        total += in_window;
        slowest = slowest.min(in_window);
        account.sandbox.shutdown().await;
    }
    let window = WINDOW.as_secs_f64();
    let target = n as f64 * f64::from(CAMPAIGN_CPS);
    let rate = total as f64 / window;
    let busy = cpu.map_or("-".to_owned(), |s| format!("{:.2}", s / window));
    println!(
        "{n:>4} {target:>8.0} {rate:>10.1} {:>6.1}% {:>14.1} {busy:>11}",
        rate / target * 100.0,
        slowest as f64 / window
    );
    Ok(rate / target)
}

/// This process's user + system CPU time, from `/proc/self/stat`.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}

// ---- 3. resume and memory --------------------------------------------------------------

/// What one child run showed, on the sandbox's and the child's clocks.
struct ChildRun {
    to_import_line: Option<Duration>,
    to_first_create: Option<Duration>,
    to_first_creates: Option<Duration>,
    peak_at_import_kb: Option<u64>,
    peak_at_creates_kb: Option<u64>,
}

async fn resume_and_memory() -> anyhow::Result<()> {
    let large = match std::env::var(ROWS_VAR) {
        Ok(raw) => raw.replace(['_', ','], "").parse()?,
        Err(_) => SIZES[1],
    };
    println!();
    println!(
        "resume and memory: the dialer binary, CPS {CAMPAIGN_CPS}, against an unpaced sandbox; \
         measured until {FIRST_CREATES} creates, then killed"
    );
    println!(
        "{:>9} {:<14} {:>12} {:>13} {:>12} {:>14} {:>16}",
        "rows", "run", "import line", "first create", "creates", "peak @import", "peak @creates"
    );
    for rows in [SIZES[0], large] {
        let dir = tempfile::tempdir()?;
        common::write_list(dir.path(), rows)?;
        let file = common::write_campaign(dir.path(), CAMPAIGN_CPS)?;
        let fresh = child_run(&file).await?;
        print_child(rows, "fresh", &fresh);
        let database = Campaign::load(&file)?.database;
        let marking = Instant::now();
        let database = database
            .sqlite_file()
            .expect("the bench's campaign is on SQLite");
        let done = mark_done(database, rows).await?;
        let marking = marking.elapsed();
        let resumed = child_run(&file).await?;
        print_child(rows, "resume 99%", &resumed);
        println!(
            "{:>9} ({done} rows marked created with their attempts in {:.1} s, not timed)",
            "",
            marking.as_secs_f64()
        );
    }
    println!("import line: start to the run's `import:` line (lock, database, import, gate)");
    println!(
        "first create: start to the first create at the sandbox; creates: to the {FIRST_CREATES}th"
    );
    println!(
        "peak: the child's VmHWM when the import line is read, and at the {FIRST_CREATES}th create"
    );
    Ok(())
}

fn print_child(rows: u64, what: &str, run: &ChildRun) {
    let secs =
        |d: Option<Duration>| d.map_or("-".to_owned(), |d| format!("{:.2}s", d.as_secs_f64()));
    let mb = |kb: Option<u64>| kb.map_or("-".to_owned(), common::megabytes);
    println!(
        "{rows:>9} {what:<14} {:>12} {:>13} {:>12} {:>14} {:>16}",
        secs(run.to_import_line),
        secs(run.to_first_create),
        secs(run.to_first_creates),
        mb(run.peak_at_import_kb),
        mb(run.peak_at_creates_kb)
    );
}

/// Runs `dialer run` on a fresh sandbox until it has created `FIRST_CREATES` calls.
async fn child_run(campaign_file: &Path) -> anyhow::Result<ChildRun> {
    let sandbox = Sandbox::start(SandboxConfig {
        cps: Cps::new(CAMPAIGN_CPS)?,
        unpaced: true,
        ring_ms: 100,
        talk_ms: 50,
        ..SandboxConfig::ephemeral()
    })
    .await?;
    let sandbox_started = Instant::now();
    let started = Instant::now();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_dialer"))
        .arg("run")
        .arg(campaign_file)
        .args(["--progress-every", "3600"])
        .env_remove("TWILIO_API_KEY")
        .env_remove("TWILIO_API_SECRET")
        .env(
            "TWILIO_ACCOUNT_SID",
            sandbox.config().account_sid.to_string(),
        )
        .env("TWILIO_AUTH_TOKEN", DEMO_AUTH_TOKEN)
        .env("TWILIO_API_BASE", sandbox.base_url())
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().map(|id| id.to_string()).unwrap_or_default();
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let mut run = ChildRun {
        to_import_line: None,
        to_first_create: None,
        to_first_creates: None,
        peak_at_import_kb: None,
        peak_at_creates_kb: None,
    };
    let give_up = started + Duration::from_secs(600);
    while Instant::now() < give_up {
        tokio::select! {
            line = lines.next_line() => match line? {
                Some(line) if line.starts_with("import:") => {
                    run.peak_at_import_kb = common::status_kb(&pid, "VmHWM");
                    run.to_import_line = Some(started.elapsed());
                }
                Some(_) => {}
                None => break,
            },
            _ = tokio::time::sleep(Duration::from_millis(2)) => {
                if sandbox.stats().creates >= FIRST_CREATES {
                    run.peak_at_creates_kb = common::status_kb(&pid, "VmHWM");
                    break;
                }
            }
        }
    }
    child.kill().await?;
    let offset = (started - sandbox_started).as_millis() as u64;
    let arrivals = sandbox.stats().create_times_ms;
    let since_start = |i: usize| {
        arrivals
            .get(i)
            .map(|ms| Duration::from_millis(ms.saturating_sub(offset)))
    };
    run.to_first_create = since_start(0);
    run.to_first_creates = since_start(FIRST_CREATES as usize - 1);
    sandbox.shutdown().await;
    Ok(run)
}

/// Leaves the first 99% of the rows created, each with its one attempt, and the rest pending,
/// as a long campaign's database would be near its end. Returns how many were marked.
async fn mark_done(database: &Path, rows: u64) -> anyhow::Result<u64> {
    let cutoff = (rows as f64 * DONE_SHARE) as i64;
    let pool = sqlx::SqlitePool::connect_with(
        sqlx::sqlite::SqliteConnectOptions::new().filename(database),
    )
    .await?;
    let now = jiff::Timestamp::now().as_millisecond();
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM attempts")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE rows SET state = 'created', attempts = 1, failures = 0, next_attempt_at = 0,
         call_sid = printf('CA%032x', id), queue_time_ms = 0, last_status = 201, created_at = ?1,
         call_status = 'completed', duration_secs = 1, outcome_at = ?1, outcome_final = 1,
         updated_at = ?1 WHERE id <= ?2",
    )
    .bind(now)
    .bind(cutoff)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE rows SET state = 'pending', attempts = 0, failures = 0, next_attempt_at = 0,
         call_sid = NULL, conference_sid = NULL, created_at = NULL, updated_at = ?1 WHERE id > ?2",
    )
    .bind(now)
    .bind(cutoff)
    .execute(&mut *tx)
    .await?;
    let marked = sqlx::query(
        "INSERT INTO attempts (row_id, number, started_at, finished_at, outcome, http_status,
         call_sid, queue_time_ms, call_status, duration_secs)
         SELECT id, 1, created_at, created_at, 'created', 201, call_sid, 0, 'completed', 1
         FROM rows WHERE id <= ?",
    )
    .bind(cutoff)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    pool.close().await;
    Ok(marked)
}
