//! Several hosts on one PostgreSQL database: the account's CPS kept across them, and what one
//! process sustains on PostgreSQL. Figures only.
//!
//! 1. Pace: H hosts (1, 2, 4), each a real `dialer worker` process with a TMPDIR of its own (as
//!    separate machines have: no slot file is shared), working C campaigns (1, 4) of one
//!    30-CPS account, against one sandbox answering in 250 ms, on one fresh database (jittered
//!    latency bunches arrivals at Twilio whatever the pacing: see the pacing bench).
//!    Printed: the combined rate of creates while every host dials, as a share of the CPS; the
//!    most creates in any 1-second window; `queue_time` p99.
//! 2. Store: claim + record (Created) pairs per second on PostgreSQL, no HTTP: the durable
//!    attempts one process sustains, as `engine` measures them on SQLite.
//! 3. Database cost: H hosts (1, 4) dialing one 30-CPS campaign without callbacks (so how
//!    calls ended is polled), on a server of its own with `pg_stat_statements`. Printed, over
//!    the middle of the run (startup and tail left out): committed transactions of the
//!    campaign's database per create (`pg_stat_database.xact_commit`, and `xact_rollback`),
//!    call-log reads per create, and the statements run most, per create.
//!
//! Run with `cargo bench --bench hosts` (`DIALER_BENCH_STORE_ONLY=1` for the store part alone,
//! `DIALER_BENCH_DB_COST=1` for the database cost alone). It starts PostgreSQL itself, as the
//! tests do.

// The tests' PostgreSQL harness, shared rather than copied; the bench uses part of it.
#[path = "../tests/it/support/postgres.rs"]
#[allow(dead_code)]
mod postgres;

mod common;

use common::workers::Workers;
use dialer::domain::Cps;
use dialer::sandbox::{Sandbox, SandboxConfig};
use dialer::store::{Database, Store};
use std::time::{Duration, Instant};

const CPS: u32 = 30;
/// Seconds of dialing at the full CPS, whatever the number of hosts and campaigns.
const SECONDS: u64 = 20;
const HOSTS: [usize; 3] = [1, 2, 4];
const CAMPAIGNS: [usize; 2] = [1, 4];
const STORE_ROWS: u64 = 100_000;
const STORE_TASKS: [usize; 3] = [1, 8, 32];
const STORE_SECONDS: u64 = 5;
const COST_HOSTS: [usize; 2] = [1, 4];
const COST_SECONDS: u64 = 40;
/// Statements printed per run of the cost part, most run first.
const COST_STATEMENTS: i64 = 16;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!("hosts: one 30-CPS account dialed from several hosts through one PostgreSQL database");
    println!("  run with: cargo bench --bench hosts");
    println!("  {} cores", std::thread::available_parallelism()?.get());
    if std::env::var_os("DIALER_BENCH_DB_COST").is_some() {
        for hosts in COST_HOSTS {
            db_cost(hosts).await?;
        }
        return Ok(());
    }
    if std::env::var_os("DIALER_BENCH_STORE_ONLY").is_none() {
        println!();
        println!(
            "{:>5} {:>9} {:>6} {:>10} {:>9} {:>11} {:>9}",
            "hosts", "campaigns", "rows", "creates/s", "% of CPS", "max in 1 s", "queue p99"
        );
        for hosts in HOSTS {
            for campaigns in CAMPAIGNS {
                pace(hosts, campaigns).await?;
            }
        }
    }
    store_headroom().await?;
    Ok(())
}

// ---- 1. pace ---------------------------------------------------------------------------

async fn pace(hosts: usize, campaigns: usize) -> anyhow::Result<()> {
    let db = postgres::fresh_database().await;
    let sandbox = Sandbox::start(SandboxConfig {
        cps: Cps::new(CPS)?,
        latency_ms: 250,
        seed: Some(hosts as u64 * 10 + campaigns as u64),
        ..SandboxConfig::ephemeral()
    })
    .await?;
    let folder = tempfile::tempdir()?;
    let rows = u64::from(CPS) * SECONDS;
    let per_campaign = rows / campaigns as u64;
    for campaign in 0..campaigns as u64 {
        common::workers::write_campaign_in(folder.path(), campaign, per_campaign, CPS, "")?;
    }
    let workers = Workers::start(
        hosts,
        folder.path(),
        &db.url,
        "1s",
        &common::workers::sandbox_env(&sandbox),
    )?;
    let deadline = Instant::now() + Duration::from_secs(SECONDS * 4 + 30);
    while sandbox.stats().creates < rows && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    workers.stop().await?;
    let stats = sandbox.stats();
    let mut arrivals = stats.create_times_ms.clone();
    arrivals.sort_unstable();
    let rate = common::achieved_rate(&arrivals);
    let twice = stats.creates_by_to.values().filter(|n| **n > 1).count();
    println!(
        "{hosts:>5} {campaigns:>9} {:>6} {rate:>10.2} {:>8.1}% {:>11} {:>7} ms{}",
        stats.creates,
        rate / f64::from(CPS) * 100.0,
        common::max_in_window(&arrivals, 1_000),
        stats.queue_time_ms.p99,
        if twice > 0 {
            format!("  ({twice} people called twice!)")
        } else {
            String::new()
        },
    );
    sandbox.shutdown().await;
    Ok(())
}

// ---- 2. store --------------------------------------------------------------------------

async fn store_headroom() -> anyhow::Result<()> {
    println!();
    println!(
        "store on PostgreSQL: claim_next + record (Created) pairs, {STORE_SECONDS} s per line, no HTTP"
    );
    let db = postgres::fresh_database().await;
    let store = Store::open(&Database::Postgres(db.database_url()), "bench").await?;
    common::fill_store(&store, STORE_ROWS).await?;
    common::print_store_pairs(&store, &STORE_TASKS, STORE_SECONDS).await?;
    store.close().await;
    Ok(())
}

// ---- 3. database cost ------------------------------------------------------------------

async fn db_cost(hosts: usize) -> anyhow::Result<()> {
    // A server of its own: `pg_stat_statements` is loaded only by a server started with it.
    let server = postgres::PgServer::start();
    common::pg_stats::preload_statements(&server.url("postgres"), || server.restart()).await?;
    let db = server.fresh_database().await;
    let mut watch = common::pg_stats::watch_database(&db.url).await?;
    let sandbox = Sandbox::start(SandboxConfig {
        cps: Cps::new(CPS)?,
        latency_ms: 250,
        seed: Some(hosts as u64),
        ..SandboxConfig::ephemeral()
    })
    .await?;
    let folder = tempfile::tempdir()?;
    let rows = u64::from(CPS) * COST_SECONDS;
    common::workers::write_campaign_in(folder.path(), 0, rows, CPS, "")?;
    let workers = Workers::start(
        hosts,
        folder.path(),
        &db.url,
        "1s",
        &common::workers::sandbox_env(&sandbox),
    )?;
    // The middle of the run: from a quarter of the creates to nine tenths.
    let deadline = Instant::now() + Duration::from_secs(COST_SECONDS * 4 + 30);
    let reached = |share: f64| sandbox.stats().creates as f64 >= rows as f64 * share;
    while !reached(0.25) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let start = Snapshot::take(&sandbox, &mut watch).await?;
    common::pg_stats::reset_statements(&mut watch).await?;
    while !reached(0.9) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let end = Snapshot::take(&sandbox, &mut watch).await?;
    let creates = (end.creates - start.creates).max(1) as f64;
    let statements = common::pg_stats::top_statements(&mut watch, COST_STATEMENTS).await?;
    workers.stop().await?;
    println!();
    println!(
        "database cost, {hosts} host(s), one {CPS}-CPS campaign polled for outcomes: {} creates \
         in {:.1} s",
        end.creates - start.creates,
        end.at.duration_since(start.at).as_secs_f64()
    );
    println!(
        "  {:.2} transactions committed and {:.2} rolled back per create, {:.2} call-log reads \
         per create",
        (end.commits - start.commits) as f64 / creates,
        (end.rollbacks - start.rollbacks) as f64 / creates,
        (end.log_reads - start.log_reads) as f64 / creates
    );
    println!("  statements per create, most run first:");
    common::pg_stats::print_statements(&statements, creates);
    sandbox.shutdown().await;
    Ok(())
}

/// The counters the cost part compares at two moments.
struct Snapshot {
    at: Instant,
    creates: u64,
    log_reads: u64,
    commits: i64,
    rollbacks: i64,
}

impl Snapshot {
    async fn take(sandbox: &Sandbox, watch: &mut sqlx::PgConnection) -> anyhow::Result<Self> {
        let stats = sandbox.stats();
        // Backends report their counts within a second or so: let the last ones in.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let (commits, rollbacks) = common::pg_stats::transactions(watch).await?;
        Ok(Self {
            at: Instant::now(),
            creates: stats.creates,
            log_reads: stats.requests_by_kind.get("call log").copied().unwrap_or(0),
            commits,
            rollbacks,
        })
    }
}
