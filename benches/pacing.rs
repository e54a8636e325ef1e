//! Pacing benchmark: does a campaign dial at its CPS, and never above it?
//!
//! For CPS 1, 10 and 30, a real campaign run (import, store, pacer, client) dials an
//! in-process sandbox account with the same CPS and 250 ms ± 100 ms of latency per request.
//! The figures are taken where Twilio would see them, at the sandbox: the achieved rate from
//! the first to the last create's arrival, the most creates in any sliding 1-second window,
//! and Twilio's `queue_time` (above 0 when a create arrived before its account slot).
//! A control pass repeats it with 250 ms ± 0 ms, so what the pacer does can be told apart
//! from what latency jitter does to the arrivals. Figures only, no pass/fail.
//! Run with `cargo bench --bench pacing`.

mod common;

use dialer::campaign::RunResult;
use dialer::config::Campaign;
use dialer::domain::Cps;
use dialer::sandbox::{Sandbox, SandboxConfig, SandboxStats};
use std::time::{Duration, Instant};

/// The CPS values measured, each for about `DIAL_SECONDS` of dialing.
const CPS_VALUES: [u32; 3] = [1, 10, 30];
const DIAL_SECONDS: u32 = 15;
const LATENCY_MS: u64 = 250;
/// The measured spread, then the control without any.
const JITTERS_MS: [u64; 2] = [100, 0];
/// Short calls, so the conference never nears its 250 active participants.
const RING_MS: u64 = 100;
const TALK_MS: u64 = 50;
const WINDOW_MS: u64 = 1_000;

/// One CPS's figures.
struct PacingFigures {
    cps: u32,
    rows: u64,
    created: u64,
    rate_share_of_cps: f64,
    max_in_any_second: usize,
    queue_p50_ms: u64,
    queue_p99_ms: u64,
    queue_max_ms: u64,
    /// From the run's start to the first create's arrival (lock, database, import).
    to_first_create: Duration,
    /// From the last create's arrival to the run's end.
    after_last_create: Duration,
    wall: Duration,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    print_header();
    for jitter_ms in JITTERS_MS {
        print_table_header(jitter_ms);
        let mut all = Vec::new();
        for cps in CPS_VALUES {
            let figures = measure(cps, jitter_ms).await?;
            print_row(&figures);
            all.push(figures);
        }
        print_over_cps(&all);
    }
    print_legend();
    Ok(())
}

fn print_header() {
    println!("pacing: a campaign at CPS n against a sandbox account at CPS n");
    println!(
        "  sandbox latency {LATENCY_MS} ms ± jitter, ring {RING_MS} ms, talk {TALK_MS} ms; \
         ~{DIAL_SECONDS} s of dialing per CPS; max_in_flight default"
    );
    println!("  run with: cargo bench --bench pacing");
}

fn print_table_header(jitter_ms: u64) {
    println!();
    println!("latency {LATENCY_MS} ms ± {jitter_ms} ms");
    println!(
        "{:>4} {:>5} {:>8} {:>9} {:>10} {:>10} {:>10} {:>10} {:>12} {:>11} {:>7}",
        "cps",
        "rows",
        "created",
        "rate/cps",
        "max in 1s",
        "queue p50",
        "queue p99",
        "queue max",
        "first create",
        "after last",
        "wall"
    );
}

fn print_row(f: &PacingFigures) {
    println!(
        "{:>4} {:>5} {:>8} {:>8.1}% {:>10} {:>7} ms {:>7} ms {:>7} ms {:>11.2}s {:>10.2}s {:>6.1}s",
        f.cps,
        f.rows,
        f.created,
        f.rate_share_of_cps * 100.0,
        f.max_in_any_second,
        f.queue_p50_ms,
        f.queue_p99_ms,
        f.queue_max_ms,
        f.to_first_create.as_secs_f64(),
        f.after_last_create.as_secs_f64(),
        f.wall.as_secs_f64()
    );
}

fn print_over_cps(all: &[PacingFigures]) {
    let over = all
        .iter()
        .filter(|f| f.max_in_any_second > f.cps as usize)
        .map(|f| f.cps.to_string())
        .collect::<Vec<_>>();
    if over.is_empty() {
        println!("no 1-second window held more creates than the CPS");
    } else {
        println!(
            "a 1-second window held more creates than the CPS at CPS {}",
            over.join(", ")
        );
    }
}

fn print_legend() {
    println!();
    println!("rate/cps: (creates - 1) / (last arrival - first arrival), as a share of the CPS");
    println!("max in 1s: most create arrivals in any sliding 1-second window");
    println!("queue: Twilio's queue_time; above 0 means a create arrived before its slot");
    println!("first create: run start to the first arrival; after last: last arrival to run end");
    println!("wall: the whole run (lock, import, dialing, end-of-run pass), sandbox excluded");
}

/// Runs one campaign at `cps` and reads the sandbox's view of it.
async fn measure(cps: u32, jitter_ms: u64) -> anyhow::Result<PacingFigures> {
    let rows = u64::from(cps.max(1) * DIAL_SECONDS);
    let dir = tempfile::tempdir()?;
    common::write_list(dir.path(), rows)?;
    let campaign = Campaign::load(&common::write_campaign(dir.path(), cps)?)?;
    let sandbox = Sandbox::start(sandbox_config(Cps::new(cps)?, jitter_ms)).await?;
    // The sandbox's arrival times count from its start: this is the same instant, within µs.
    let sandbox_started = Instant::now();
    let client = common::client_for(&sandbox)?;
    let started = Instant::now();
    let result = common::run_to_the_end(&campaign, client).await?;
    let ended = Instant::now();
    let stats = sandbox.stats();
    sandbox.shutdown().await;
    let run = RunSpan {
        started: started - sandbox_started,
        ended: ended - sandbox_started,
    };
    Ok(figures(cps, rows, &result, &stats, run))
}

fn sandbox_config(cps: Cps, jitter_ms: u64) -> SandboxConfig {
    SandboxConfig {
        cps,
        latency_ms: LATENCY_MS,
        latency_jitter_ms: jitter_ms,
        ring_ms: RING_MS,
        talk_ms: TALK_MS,
        seed: Some(1),
        ..SandboxConfig::ephemeral()
    }
}

/// When the run started and ended, on the sandbox's clock (since it started).
struct RunSpan {
    started: Duration,
    ended: Duration,
}

fn figures(
    cps: u32,
    rows: u64,
    result: &RunResult,
    stats: &SandboxStats,
    run: RunSpan,
) -> PacingFigures {
    let mut arrivals = stats.create_times_ms.clone();
    arrivals.sort_unstable();
    let first = Duration::from_millis(arrivals.first().copied().unwrap_or_default());
    let last = Duration::from_millis(arrivals.last().copied().unwrap_or_default());
    PacingFigures {
        cps,
        rows,
        created: result.counts.created,
        rate_share_of_cps: common::achieved_rate(&arrivals) / f64::from(cps),
        max_in_any_second: common::max_in_window(&arrivals, WINDOW_MS),
        queue_p50_ms: stats.queue_time_ms.p50,
        queue_p99_ms: stats.queue_time_ms.p99,
        queue_max_ms: stats.queue_time_ms.max,
        to_first_create: first.saturating_sub(run.started),
        after_last_create: run.ended.saturating_sub(last),
        wall: run.ended - run.started,
    }
}
