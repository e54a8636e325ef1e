//! A fleet on one database: many Twilio accounts, several campaigns on some of them, hosts as
//! processes, one PostgreSQL. Figures only, no timed assertions.
//!
//! 1. Pace: A accounts (20) with CPS spread from 1 to 30 (Σ ≈ 270), every fourth account with
//!    two campaigns sharing its CPS, each account a sandbox of its own (its own Account SID,
//!    port, and CPS queue, answering in 250 ms) that its campaign files name (`[twilio]
//!    api_base` and `credentials_file`); H `dialer worker` processes (4), each with a TMPDIR of
//!    its own, on the one folder of campaign files and one PostgreSQL server of the bench's own
//!    with `pg_stat_statements`. Rows: the account's CPS × 25 s. No callbacks: how calls ended
//!    is polled. Printed per account: its CPS and rows, creates per second from its first
//!    create to its last (and as a share of its CPS), the most creates in any 1-second window
//!    on the sandbox's clock, the longest a create waited in the sandbox's CPS queue (as
//!    Twilio queues creates that come faster than the CPS), people called twice, rows never
//!    dialed, and the time from the workers' start to its first create. Fleet-wide, over the
//!    middle of the run (from 20% of the creates to 90%) and over the whole run: transactions
//!    committed and rolled back per create (`pg_stat_database`), CPU per create of PostgreSQL
//!    (its postmaster and every process it started, from `/proc/<pid>/stat`) and of the
//!    workers; the statements run most per create (middle only).
//! 2. Idle: the H workers on 25 campaigns whose lists hold nobody (25 × H campaign-hosts with
//!    nothing to dial), once with the worker's default `--idle 10s` and once with `--idle 1s`.
//!    After a 15 s settling, over 30 s: PostgreSQL's CPU and the workers' as a share of one
//!    core, transactions per second, and the statements run most, per second.
//!
//! Every host, the database, and the sandboxes (in this process) share the machine's cores.
//!
//! Run with `cargo bench --bench fleet`. Knobs: `DIALER_BENCH_ACCOUNTS` (20),
//! `DIALER_BENCH_HOSTS` (4), `DIALER_BENCH_PART=pace|idle` for one part alone.

// The tests' PostgreSQL harness, shared rather than copied; the bench uses part of it.
#[path = "../tests/it/support/postgres.rs"]
#[allow(dead_code)]
mod postgres;

mod common;

use common::workers::Workers;
use dialer::domain::{AccountSid, Cps};
use dialer::sandbox::{DEMO_AUTH_TOKEN, Sandbox, SandboxConfig};
use std::path::Path;
use std::time::{Duration, Instant};

/// Seconds of dialing at each account's CPS: its rows are its CPS times this.
const DIALING_SECONDS: u64 = 25;
const LATENCY_MS: u64 = 250;
/// The least and the most CPS of an account (`campaign.cps` is 1 to 30).
const CPS_RANGE: (f64, f64) = (1.0, 30.0);
/// The spread's curve: 1.3 puts Σ CPS near 270 for 20 accounts.
const CPS_CURVE: f64 = 1.3;
/// Every this-many-th account has two campaigns.
const TWO_CAMPAIGNS_EVERY: usize = 4;
/// Statements printed, most run first.
const TOP_STATEMENTS: i64 = 16;
const IDLE_CAMPAIGNS: u64 = 25;
/// The worker's default `--idle`, then the tick the other benches use.
const IDLE_TICKS: [&str; 2] = ["10s", "1s"];
const IDLE_SETTLE: Duration = Duration::from_secs(15);
const IDLE_SECONDS: u64 = 30;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let accounts = knob("DIALER_BENCH_ACCOUNTS", 20)?;
    let hosts = knob("DIALER_BENCH_HOSTS", 4)?;
    let part = std::env::var("DIALER_BENCH_PART").unwrap_or_default();
    println!("fleet: many accounts' campaigns dialed by several hosts through one PostgreSQL");
    println!("  run with: cargo bench --bench fleet");
    println!("  {} cores", std::thread::available_parallelism()?.get());
    // A server of its own: `pg_stat_statements` is loaded only by a server started with it.
    let server = postgres::PgServer::start();
    common::pg_stats::preload_statements(&server.url("postgres"), || server.restart()).await?;
    if part.is_empty() || part == "pace" {
        pace(&server, accounts, hosts).await?;
    }
    if part.is_empty() || part == "idle" {
        for tick in IDLE_TICKS {
            idle(&server, hosts, tick).await?;
        }
    }
    Ok(())
}

fn knob(name: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(name) {
        Ok(value) => Ok(value.parse()?),
        Err(_) => Ok(default),
    }
}

// ---- 1. pace ---------------------------------------------------------------------------

/// One Twilio account: its sandbox, and its campaigns' rows.
struct Account {
    cps: u32,
    campaigns: u64,
    rows: u64,
    sandbox: Sandbox,
    /// When the sandbox's clock (`create_times_ms`) started, give or take its start.
    clock_origin: Instant,
}

/// CPS from `CPS_RANGE.0` to `CPS_RANGE.1`, most accounts low, as real fleets are.
fn cps_spread(accounts: usize) -> Vec<u32> {
    let (low, high) = CPS_RANGE;
    (0..accounts)
        .map(|index| {
            let x = index as f64 / (accounts.saturating_sub(1).max(1)) as f64;
            let x = if accounts == 1 { 1.0 } else { x };
            (low + (high - low) * x.powf(CPS_CURVE)).round() as u32
        })
        .collect()
}

/// Starts each account's sandbox and writes its campaign files and credentials in `folder`.
async fn open_accounts(folder: &Path, accounts: usize) -> anyhow::Result<Vec<Account>> {
    let mut opened = Vec::with_capacity(accounts);
    let mut next_campaign = 0;
    for (index, cps) in cps_spread(accounts).into_iter().enumerate() {
        let account_sid = AccountSid::parse(&format!("AC{:032x}", index + 1))?;
        let clock_origin = Instant::now();
        let sandbox = Sandbox::start(SandboxConfig {
            account_sid: account_sid.clone(),
            cps: Cps::new(cps)?,
            latency_ms: LATENCY_MS,
            seed: Some(index as u64),
            ..SandboxConfig::ephemeral()
        })
        .await?;
        let credentials = format!("a{index}.env");
        let credentials_path = folder.join(&credentials);
        std::fs::write(
            &credentials_path,
            format!("TWILIO_ACCOUNT_SID={account_sid}\nTWILIO_AUTH_TOKEN={DEMO_AUTH_TOKEN}\n"),
        )?;
        // A secret file every user can read is refused.
        std::fs::set_permissions(
            &credentials_path,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )?;
        let twilio = format!(
            "[twilio]\napi_base = \"{}\"\ncredentials_file = \"{credentials}\"\n",
            sandbox.base_url()
        );
        let campaigns = if index % TWO_CAMPAIGNS_EVERY == 1 {
            2
        } else {
            1
        };
        let rows = u64::from(cps) * DIALING_SECONDS;
        for share in 0..campaigns {
            // The first campaign takes what does not split evenly.
            let campaign_rows = rows / campaigns + if share == 0 { rows % campaigns } else { 0 };
            common::workers::write_campaign_in(folder, next_campaign, campaign_rows, cps, &twilio)?;
            next_campaign += 1;
        }
        opened.push(Account {
            cps,
            campaigns,
            rows,
            sandbox,
            clock_origin,
        });
    }
    Ok(opened)
}

async fn pace(server: &postgres::PgServer, accounts: usize, hosts: usize) -> anyhow::Result<()> {
    let db = server.fresh_database().await;
    let mut watch = common::pg_stats::watch_database(&db.url).await?;
    let postmaster = common::pg_stats::postmaster_pid(&mut watch).await?;
    let folder = tempfile::tempdir()?;
    let fleet = open_accounts(folder.path(), accounts).await?;
    let rows: u64 = fleet.iter().map(|account| account.rows).sum();
    let total_cps: u32 = fleet.iter().map(|account| account.cps).sum();
    let creates = || -> u64 { fleet.iter().map(|a| a.sandbox.stats().creates).sum() };

    let before = Snapshot::take(0, postmaster, &[], &mut watch).await?;
    let started = Instant::now();
    let workers = Workers::start(hosts, folder.path(), &db.url, "1s", &[])?;
    let pids = workers.pids();
    let deadline = started + Duration::from_secs(DIALING_SECONDS * 2 + 60);
    let wait_for = |share: f64| async move {
        while (creates() as f64) < rows as f64 * share && Instant::now() < deadline {
            // Not faster: each look copies every sandbox's records.
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    };
    wait_for(0.2).await;
    let middle_start = Snapshot::take(creates(), postmaster, &pids, &mut watch).await?;
    common::pg_stats::reset_statements(&mut watch).await?;
    wait_for(0.9).await;
    let middle_end = Snapshot::take(creates(), postmaster, &pids, &mut watch).await?;
    let statements = common::pg_stats::top_statements(&mut watch, TOP_STATEMENTS).await?;
    wait_for(1.0).await;
    let end = Snapshot::take(creates(), postmaster, &pids, &mut watch).await?;
    workers.stop().await?;

    println!();
    println!(
        "pace: {accounts} accounts (Σ CPS {total_cps}), {} campaigns, {hosts} hosts, {rows} rows",
        fleet.iter().map(|a| a.campaigns).sum::<u64>()
    );
    print_accounts(&fleet, started);
    println!("  fleet, per create:");
    middle_end.print_since(&middle_start, "middle (20% to 90% of creates)");
    end.print_since(&before, "whole run (start to last create)");
    println!("  statements per create, middle of the run, most run first:");
    let middle_creates = (middle_end.creates - middle_start.creates).max(1) as f64;
    common::pg_stats::print_statements(&statements, middle_creates);
    for account in fleet {
        account.sandbox.shutdown().await;
    }
    Ok(())
}

/// One line per account, then the earliest first create of all.
fn print_accounts(fleet: &[Account], started: Instant) {
    println!(
        "  {:>7} {:>4} {:>9} {:>5} {:>9} {:>9} {:>8} {:>11} {:>9} {:>6} {:>9} {:>11}",
        "account",
        "CPS",
        "campaigns",
        "rows",
        "creates",
        "creates/s",
        "% of CPS",
        "max in 1 s",
        "queue max",
        "twice",
        "undialed",
        "first call"
    );
    let mut first_of_all: Option<Duration> = None;
    for (index, account) in fleet.iter().enumerate() {
        let stats = account.sandbox.stats();
        let mut arrivals = stats.create_times_ms.clone();
        arrivals.sort_unstable();
        let rate = common::achieved_rate(&arrivals);
        let queue_max = stats.queue_times_ms.iter().max().copied().unwrap_or(0);
        let twice = stats.creates_by_to.values().filter(|n| **n > 1).count();
        let undialed = account
            .rows
            .saturating_sub(stats.creates_by_to.len() as u64);
        let first = arrivals.first().map(|ms| {
            (account.clock_origin + Duration::from_millis(*ms)).saturating_duration_since(started)
        });
        first_of_all = match (first_of_all, first) {
            (Some(earliest), Some(first)) => Some(earliest.min(first)),
            (earliest, first) => earliest.or(first),
        };
        println!(
            "  {index:>7} {:>4} {:>9} {:>5} {:>9} {rate:>9.2} {:>7.1}% {:>11} {:>6} ms {twice:>6} {undialed:>9} {:>11}",
            account.cps,
            account.campaigns,
            account.rows,
            stats.creates,
            rate / f64::from(account.cps) * 100.0,
            common::max_in_window(&arrivals, 1_000),
            queue_max,
            seconds(first),
        );
    }
    println!(
        "  first call of the fleet: {} after the workers' start",
        seconds(first_of_all)
    );
}

fn seconds(duration: Option<Duration>) -> String {
    match duration {
        Some(duration) => format!("{:.2} s", duration.as_secs_f64()),
        None => "none".to_owned(),
    }
}

/// The counters compared at two moments.
struct Snapshot {
    at: Instant,
    creates: u64,
    commits: i64,
    rollbacks: i64,
    postgres_cpu_secs: f64,
    workers_cpu_secs: f64,
}

impl Snapshot {
    /// `creates` and the CPU times as of now; the transactions a moment later, as backends
    /// report their counts within a second or so.
    async fn take(
        creates: u64,
        postmaster: u32,
        workers: &[u32],
        watch: &mut sqlx::PgConnection,
    ) -> anyhow::Result<Self> {
        let at = Instant::now();
        let postgres_cpu_secs = common::cpu::process_tree_cpu_secs(postmaster);
        let workers_cpu_secs = common::cpu::cpu_secs(workers);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let (commits, rollbacks) = common::pg_stats::transactions(watch).await?;
        Ok(Self {
            at,
            creates,
            commits,
            rollbacks,
            postgres_cpu_secs,
            workers_cpu_secs,
        })
    }

    /// Per create since `start`: transactions, PostgreSQL's CPU, the workers' CPU.
    fn print_since(&self, start: &Snapshot, span: &str) {
        let creates = (self.creates - start.creates).max(1) as f64;
        println!(
            "  {span}: {} creates in {:.1} s; {:.2} transactions committed and {:.2} rolled \
             back; PostgreSQL {:.2} ms CPU, workers {:.2} ms CPU",
            self.creates - start.creates,
            self.at.duration_since(start.at).as_secs_f64(),
            (self.commits - start.commits) as f64 / creates,
            (self.rollbacks - start.rollbacks) as f64 / creates,
            (self.postgres_cpu_secs - start.postgres_cpu_secs) * 1_000.0 / creates,
            (self.workers_cpu_secs - start.workers_cpu_secs) * 1_000.0 / creates,
        );
    }
}

// ---- 2. idle ---------------------------------------------------------------------------

async fn idle(server: &postgres::PgServer, hosts: usize, tick: &str) -> anyhow::Result<()> {
    let db = server.fresh_database().await;
    let mut watch = common::pg_stats::watch_database(&db.url).await?;
    let postmaster = common::pg_stats::postmaster_pid(&mut watch).await?;
    // Nobody is called: the sandbox is only the account the campaign files are checked with.
    let sandbox = Sandbox::start(SandboxConfig::ephemeral()).await?;
    let folder = tempfile::tempdir()?;
    for campaign in 0..IDLE_CAMPAIGNS {
        common::workers::write_campaign_in(folder.path(), campaign, 0, 30, "")?;
    }
    let workers = Workers::start(
        hosts,
        folder.path(),
        &db.url,
        tick,
        &common::workers::sandbox_env(&sandbox),
    )?;
    let pids = workers.pids();
    tokio::time::sleep(IDLE_SETTLE).await;
    let start = Snapshot::take(0, postmaster, &pids, &mut watch).await?;
    common::pg_stats::reset_statements(&mut watch).await?;
    tokio::time::sleep(Duration::from_secs(IDLE_SECONDS)).await;
    let end = Snapshot::take(0, postmaster, &pids, &mut watch).await?;
    let statements = common::pg_stats::top_statements(&mut watch, TOP_STATEMENTS / 2).await?;
    workers.stop().await?;
    let secs = end.at.duration_since(start.at).as_secs_f64();
    println!();
    println!(
        "idle: {} campaign-hosts ({IDLE_CAMPAIGNS} campaigns with empty lists × {hosts} hosts), \
         --idle {tick}, over {secs:.1} s",
        IDLE_CAMPAIGNS * hosts as u64
    );
    println!(
        "  PostgreSQL {:.2}% of a core, workers {:.2}% of a core; {:.2} transactions/s \
         committed, {:.2}/s rolled back",
        (end.postgres_cpu_secs - start.postgres_cpu_secs) / secs * 100.0,
        (end.workers_cpu_secs - start.workers_cpu_secs) / secs * 100.0,
        (end.commits - start.commits) as f64 / secs,
        (end.rollbacks - start.rollbacks) as f64 / secs,
    );
    println!("  statements per second, most run first:");
    common::pg_stats::print_statements(&statements, secs);
    sandbox.shutdown().await;
    Ok(())
}
