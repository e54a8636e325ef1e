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
//!
//! Run with `cargo bench --bench hosts` (`DIALER_BENCH_STORE_ONLY=1` for the store part alone).
//! It starts PostgreSQL itself, as the tests do.

// The tests' PostgreSQL harness, shared rather than copied; the bench uses part of it.
#[path = "../tests/it/support/postgres.rs"]
#[allow(dead_code)]
mod postgres;

mod common;

use dialer::domain::Cps;
use dialer::sandbox::{DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, Sandbox, SandboxConfig};
use dialer::store::{Database, Store};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const CPS: u32 = 30;
/// Seconds of dialing at the full CPS, whatever the number of hosts and campaigns.
const SECONDS: u64 = 20;
const HOSTS: [usize; 3] = [1, 2, 4];
const CAMPAIGNS: [usize; 2] = [1, 4];
const STORE_ROWS: u64 = 100_000;
const STORE_TASKS: [usize; 3] = [1, 8, 32];
const STORE_SECONDS: u64 = 5;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!("hosts: one 30-CPS account dialed from several hosts through one PostgreSQL database");
    println!("  run with: cargo bench --bench hosts");
    println!("  {} cores", std::thread::available_parallelism()?.get());
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
        write_campaign(folder.path(), campaign, per_campaign)?;
    }
    let mut workers = Vec::with_capacity(hosts);
    let mut tmpdirs = Vec::with_capacity(hosts);
    for _ in 0..hosts {
        let tmpdir = tempfile::tempdir()?;
        workers.push(
            tokio::process::Command::new(env!("CARGO_BIN_EXE_dialer"))
                .args(["worker", "--idle", "1s", "--rescan", "60s"])
                .arg(folder.path())
                .env("TMPDIR", tmpdir.path())
                .env("DIALER_DATABASE_URL", &db.url)
                .env("TWILIO_API_BASE", sandbox.base_url())
                .env("TWILIO_ACCOUNT_SID", DEMO_ACCOUNT_SID)
                .env("TWILIO_AUTH_TOKEN", DEMO_AUTH_TOKEN)
                .env_remove("RUST_LOG")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()?,
        );
        tmpdirs.push(tmpdir);
    }
    let deadline = Instant::now() + Duration::from_secs(SECONDS * 4 + 30);
    while sandbox.stats().creates < rows && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for worker in &workers {
        if let Some(pid) = worker.id() {
            std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()?;
        }
    }
    for worker in workers {
        worker.wait_with_output().await?;
    }
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

/// `c<index>.toml` with its list `c<index>.csv` of `rows` people of its own.
fn write_campaign(folder: &Path, index: u64, rows: u64) -> std::io::Result<()> {
    let mut list = String::from("to\n");
    for row in 0..rows {
        list.push_str(&common::number(index * 1_000_000 + row));
        list.push('\n');
    }
    std::fs::write(folder.join(format!("c{index}.csv")), list)?;
    std::fs::write(
        folder.join(format!("c{index}.toml")),
        format!(
            "[campaign]\nname = \"c{index}\"\nlist = \"c{index}.csv\"\nconference = \"BenchRoom\"\n\
             from = \"+15017122661\"\ncps = {CPS}\n"
        ),
    )
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
