//! What the benchmarks share: a campaign file and a generated list in a temporary folder,
//! written the way a user would write them, a client for an in-process sandbox, the arrival
//! figures read from the sandbox, peak memory read from `/proc`; `workers`, `dialer worker`
//! processes on one folder of campaign files; `cpu`, the CPU time processes used; `pg_stats`,
//! what PostgreSQL's statistics views say a run cost. Each benchmark uses a part of it.
#![allow(dead_code)]

pub mod cpu;
pub mod pg_stats;
pub mod workers;

use dialer::sandbox::{DEMO_AUTH_TOKEN, Sandbox};
use dialer::twilio::{ClientConfig, Credentials, TwilioClient};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The list's file name, next to the campaign file.
pub const LIST_FILE: &str = "list.csv";

/// Writes `campaign.toml` (list `list.csv`, database beside it) and returns its path.
pub fn write_campaign(dir: &Path, cps: u32) -> std::io::Result<PathBuf> {
    write_campaign_with(dir, cps, "")
}

/// The same campaign file with `extra` TOML (whole tables, e.g. `[pacing]`) after it.
pub fn write_campaign_with(dir: &Path, cps: u32, extra: &str) -> std::io::Result<PathBuf> {
    let file = dir.join("campaign.toml");
    let campaign = format!(
        "[campaign]\nname = \"bench\"\nlist = \"{LIST_FILE}\"\nconference = \"BenchRoom\"\n\
         from = \"+15017122661\"\ncps = {cps}\n{extra}\n[law]\ntelemarketing = false\n"
    );
    std::fs::write(&file, campaign)?;
    Ok(file)
}

/// The `index`-th distinct valid number: `+1415` and seven digits (up to ten million).
pub fn number(index: u64) -> String {
    format!("+1415{index:07}")
}

/// The `index`-th distinct number as a US list writes it, `(415) 867-5309`: area code 415,
/// exchanges 200 to 999, all valid by libphonenumber's rules (up to eight million).
pub fn national_number(index: u64) -> String {
    format!("(415) {:03}-{:04}", 200 + index / 10_000, index % 10_000)
}

/// Streams a `to,timeout` list of `rows` distinct numbers to `dir/list.csv`.
pub fn write_list(dir: &Path, rows: u64) -> std::io::Result<PathBuf> {
    write_list_of(dir, rows, number)
}

/// The same list with each number written by `number` (e.g. [`national_number`]).
pub fn write_list_of(
    dir: &Path,
    rows: u64,
    number: impl Fn(u64) -> String,
) -> std::io::Result<PathBuf> {
    let path = dir.join(LIST_FILE);
    let mut out = BufWriter::new(File::create(&path)?);
    writeln!(out, "to,timeout")?;
    for index in 0..rows {
        writeln!(out, "{},{}", number(index), ring_timeout_secs(index))?;
    }
    out.flush()?;
    Ok(path)
}

/// A per-row `timeout` from 20 to 59 seconds, so every row carries a parameter of its own.
fn ring_timeout_secs(index: u64) -> u64 {
    20 + index % 40
}

/// A client for `sandbox`'s account, with the sandbox's auth token.
pub fn client_for(sandbox: &Sandbox) -> anyhow::Result<TwilioClient> {
    Ok(TwilioClient::new(
        ClientConfig {
            api_base: url::Url::parse(&sandbox.base_url())?,
            ..ClientConfig::default()
        },
        Credentials::with_auth_token(
            sandbox.config().account_sid.clone(),
            DEMO_AUTH_TOKEN.to_owned().into(),
        ),
    )?)
}

/// Creates per second from the first to the last arrival (`sorted`, in ms).
pub fn achieved_rate(sorted: &[u64]) -> f64 {
    match (sorted.first(), sorted.last()) {
        (Some(first), Some(last)) if last > first => {
            (sorted.len() - 1) as f64 / ((last - first) as f64 / 1_000.0)
        }
        _ => 0.0,
    }
}

/// The most arrivals (`sorted`, in ms) in any window `[t, t + window_ms)`.
pub fn max_in_window(sorted: &[u64], window_ms: u64) -> usize {
    let mut end = 0;
    let mut most = 0;
    for (start, first) in sorted.iter().enumerate() {
        while end < sorted.len() && sorted[end] < first + window_ms {
            end += 1;
        }
        most = most.max(end - start);
    }
    most
}

/// A `kB` line of `/proc/<pid>/status` (`"self"` for this process), e.g. `VmRSS` or
/// `VmHWM` (the peak); `None` off Linux or once the process is gone.
pub fn status_kb(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

pub fn megabytes(kb: u64) -> String {
    format!("{:.1} MB", kb as f64 / 1024.0)
}

/// One whole run of `campaign` as cron would start it: no progress output, no stop but its end.
pub async fn run_to_the_end(
    campaign: &dialer::config::Campaign,
    client: TwilioClient,
) -> anyhow::Result<dialer::campaign::RunResult> {
    let progress = std::sync::Arc::new(dialer::dialing::progress::Progress::default());
    let stop = dialer::stop::Stop::default();
    Ok(dialer::campaign::run(campaign, client, stop, progress, |_, _| {}).await?)
}

/// Fills `store` with `rows` pending rows of the generated numbers, a batch at a time.
pub async fn fill_store(store: &dialer::store::Store, rows: u64) -> anyhow::Result<()> {
    let mut pass = dialer::store::ImportPass::default();
    for start in (0..rows).step_by(1000) {
        let batch: Vec<dialer::store::NewRow> = (start..(start + 1000).min(rows))
            .map(|i| dialer::store::NewRow {
                line: i + 2,
                to: dialer::domain::Endpoint::parse(&number(i)).expect("a valid number"),
                label: dialer::domain::Label::parse(&format!("bench-{i}")).expect("a valid label"),
                params: Default::default(),
                zone: None,
                jurisdictions: None,
                person: None,
            })
            .collect();
        store.import_rows(&mut pass, &batch).await?;
    }
    store.finish_import(&[], None).await?;
    Ok(())
}

/// Claims and records rows (as created) until `until`, as a dial would without its request:
/// the durable attempts the store sustains. Returns how many pairs.
pub async fn claim_and_record(
    store: &dialer::store::Store,
    until: std::time::Instant,
) -> anyhow::Result<u64> {
    let mut pairs = 0;
    while std::time::Instant::now() < until {
        let Some(claimed) = store.claim_next().await? else {
            break;
        };
        let outcome = dialer::store::Outcome::Created {
            call_sid: dialer::domain::CallSid::parse(&format!("CA{:032x}", claimed.row_id))?,
            conference_sid: None,
            queue_time_ms: Some(0),
            status: 201,
        };
        store.record(&claimed, &outcome).await?;
        pairs += 1;
    }
    Ok(pairs)
}

/// For each number of tasks, claim-and-record loops on `store` for `seconds`: prints a line of
/// tasks, pairs and pairs per second under a header.
pub async fn print_store_pairs(
    store: &dialer::store::Store,
    tasks: &[usize],
    seconds: u64,
) -> anyhow::Result<()> {
    println!("{:>6} {:>9} {:>11}", "tasks", "pairs", "pairs/s");
    for &tasks in tasks {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
        let started = std::time::Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..tasks {
            let store = store.clone();
            set.spawn(async move { claim_and_record(&store, until).await });
        }
        let mut pairs = 0;
        while let Some(done) = set.join_next().await {
            pairs += done??;
        }
        let rate = pairs as f64 / started.elapsed().as_secs_f64();
        println!("{tasks:>6} {pairs:>9} {rate:>11.0}");
    }
    Ok(())
}
