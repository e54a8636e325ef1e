//! Pacing on a good day and a bad one: the same list and CPS on the sandbox, with no faults;
//! with the fault mix of a bad day (10% 429 with Retry-After 1 s, 10% 5xx, 3% answers dropped
//! after the call was created); and on an account that places only a third of the campaign's
//! CPS. Each with adaptive pacing on and off, latency 250 ms ± 100 ms, default campaign
//! settings otherwise (rows a 5xx or a drop left in doubt wait for the call log's grace, so
//! the wall time of a faulty run includes it). Figures only, no pass/fail.
//! Run with `cargo bench --bench bad_day` (`DIALER_BENCH_DAYS=fault` for the fault mix only).

mod common;

use dialer::config::Campaign;
use dialer::domain::Cps;
use dialer::sandbox::{Sandbox, SandboxConfig, SandboxStats};
use std::time::{Duration, Instant};

const CPS: u32 = 30;
const LATENCY_MS: u64 = 250;
const JITTER_MS: u64 = 100;

fn rows() -> u64 {
    std::env::var("DIALER_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600)
}

struct Day {
    name: &'static str,
    account_cps: u32,
    share_429: f64,
    share_5xx: f64,
    share_drop: f64,
}

const DAYS: [Day; 3] = [
    Day {
        name: "no faults",
        account_cps: CPS,
        share_429: 0.0,
        share_5xx: 0.0,
        share_drop: 0.0,
    },
    Day {
        name: "fault mix",
        account_cps: CPS,
        share_429: 0.10,
        share_5xx: 0.10,
        share_drop: 0.03,
    },
    Day {
        name: "slow account",
        account_cps: CPS / 3,
        share_429: 0.0,
        share_5xx: 0.0,
        share_drop: 0.0,
    },
];

/// The days asked for: `DIALER_BENCH_DAYS=fault` runs the days whose name contains "fault".
fn chosen(day: &Day) -> bool {
    std::env::var("DIALER_BENCH_DAYS").map_or(true, |wanted| {
        wanted.split(',').any(|w| day.name.contains(w.trim()))
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n = rows();
    let on_time = Duration::from_secs_f64(1.3 * n as f64 / f64::from(CPS));
    println!("bad_day: {n} rows, campaign at CPS {CPS}, latency {LATENCY_MS} ms ± {JITTER_MS} ms");
    println!("  run with: cargo bench --bench bad_day  (DIALER_BENCH_DAYS=fault for one day)");
    println!();
    println!(
        "{:<13} {:<9} {:>7} {:>7} {:>9} {:>7} {:>9} {:>9} {:>6} {:>9}  requests by kind",
        "day",
        "adaptive",
        "wall s",
        "tail s",
        "created/s",
        "max/s",
        "on time",
        "req/pers",
        "twice",
        "queue p95"
    );
    for day in DAYS.iter().filter(|day| chosen(day)) {
        for adaptive in [true, false] {
            let (wall, stats) = measure(day, adaptive, n).await?;
            let mut arrivals = stats.create_times_ms.clone();
            arrivals.sort_unstable();
            let first = arrivals.first().copied().unwrap_or_default();
            // When 95% of the people had their call (arrivals past the first pass are re-dials).
            let most = arrivals
                .get((n as usize * 95 / 100).saturating_sub(1))
                .copied()
                .unwrap_or_default();
            let in_time = arrivals
                .iter()
                .filter(|t| **t - first <= on_time.as_millis() as u64)
                .count();
            let twice = stats.creates_by_to.values().filter(|c| **c > 1).count();
            let people = stats.creates_by_to.len().max(1) as f64;
            let kinds: Vec<String> = stats
                .requests_by_kind
                .iter()
                .map(|(kind, count)| format!("{kind} {:.2}", *count as f64 / people))
                .collect();
            println!(
                "{:<13} {:<9} {:>7.1} {:>7.1} {:>9.1} {:>7} {:>8.1}% {:>9.2} {:>6} {:>6} ms  {}",
                day.name,
                adaptive,
                wall.as_secs_f64(),
                (most - first) as f64 / 1000.0,
                common::achieved_rate(&arrivals),
                stats
                    .creates_per_second
                    .iter()
                    .map(|(_, n)| *n)
                    .max()
                    .unwrap_or(0),
                100.0 * in_time.min(n as usize) as f64 / n as f64,
                stats.requests as f64 / people,
                twice,
                stats.queue_time_ms.p95,
                kinds.join(", "),
            );
        }
    }
    println!();
    println!("wall s: `run` from start to exit (import included)");
    println!(
        "tail s: wall time not spent between the first and the last create (import, waits for rows in doubt)"
    );
    println!("created/s: calls created at the sandbox per second, first to last create");
    println!("max/s: the most creates the sandbox received in one second of its clock");
    println!(
        "on time: creates within 1.3 × rows / CPS ({:.0} s) of the first, per row",
        on_time.as_secs_f64()
    );
    println!(
        "req/pers: every API request (creates, retries, checks, status reads) per person called, then by kind"
    );
    println!("twice: people called more than once (must be 0)");
    println!("queue p95: Twilio's queue_time, how long calls waited for the account's CPS");
    Ok(())
}

async fn measure(day: &Day, adaptive: bool, n: u64) -> anyhow::Result<(Duration, SandboxStats)> {
    let dir = tempfile::tempdir()?;
    common::write_list(dir.path(), n)?;
    let pacing = format!("[pacing]\nadaptive = {adaptive}\n");
    let file = common::write_campaign_with(dir.path(), CPS, &pacing)?;
    let campaign = Campaign::load(&file)?;
    let sandbox = Sandbox::start(SandboxConfig {
        cps: Cps::new(day.account_cps)?,
        latency_ms: LATENCY_MS,
        latency_jitter_ms: JITTER_MS,
        share_429: day.share_429,
        share_5xx: day.share_5xx,
        share_drop: day.share_drop,
        seed: Some(1),
        ..SandboxConfig::ephemeral()
    })
    .await?;
    let client = common::client_for(&sandbox)?;
    let started = Instant::now();
    common::run_to_the_end(&campaign, client).await?;
    let wall = started.elapsed();
    let stats = sandbox.stats();
    sandbox.shutdown().await;
    Ok((wall, stats))
}
