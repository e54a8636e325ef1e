//! What the benchmarks share: a campaign file and a generated list in a temporary folder,
//! written the way a user would write them, a client for an in-process sandbox, the arrival
//! figures read from the sandbox, peak memory and CPU time read from `/proc`, `dialer worker`
//! processes on one folder of campaign files, and what PostgreSQL's statistics views say a
//! run cost. Each benchmark uses a part of it.
#![allow(dead_code)]

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
         from = \"+15017122661\"\ncps = {cps}\n{extra}"
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

// ---- hosts: `dialer worker` processes on one folder --------------------------------------

/// `c<index>.toml` in `folder` at `cps`, with its list `c<index>.csv` of `rows` people of its
/// own (numbers from `index * 100_000`) and `extra` TOML (whole tables) after it.
pub fn write_campaign_in(
    folder: &Path,
    index: u64,
    rows: u64,
    cps: u32,
    extra: &str,
) -> std::io::Result<()> {
    let mut list = String::from("to\n");
    for row in 0..rows {
        list.push_str(&number(index * 100_000 + row));
        list.push('\n');
    }
    std::fs::write(folder.join(format!("c{index}.csv")), list)?;
    std::fs::write(
        folder.join(format!("c{index}.toml")),
        format!(
            "[campaign]\nname = \"c{index}\"\nlist = \"c{index}.csv\"\nconference = \"BenchRoom\"\n\
             from = \"+15017122661\"\ncps = {cps}\n{extra}"
        ),
    )
}

/// The Twilio variables that point a worker at `sandbox`'s account.
pub fn sandbox_env(sandbox: &Sandbox) -> Vec<(&'static str, String)> {
    vec![
        ("TWILIO_API_BASE", sandbox.base_url()),
        (
            "TWILIO_ACCOUNT_SID",
            sandbox.config().account_sid.to_string(),
        ),
        ("TWILIO_AUTH_TOKEN", DEMO_AUTH_TOKEN.to_owned()),
    ]
}

/// The Twilio variables a worker could inherit from the bench's environment: none pass, so
/// a worker's account is the one `env` (or else its campaign file) names.
const TWILIO_VARIABLES: [&str; 5] = [
    "TWILIO_API_BASE",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_API_KEY",
    "TWILIO_API_SECRET",
];

/// `dialer worker` processes on one folder and database, each with a TMPDIR of its own (as
/// separate machines have: no slot file is shared).
pub struct Workers {
    children: Vec<tokio::process::Child>,
    _tmpdirs: Vec<tempfile::TempDir>,
}

impl Workers {
    /// `hosts` workers looking at waiting campaigns every `idle` (e.g. `"1s"`), with `env`.
    pub fn start(
        hosts: usize,
        folder: &Path,
        url: &str,
        idle: &str,
        env: &[(&str, String)],
    ) -> std::io::Result<Self> {
        let mut children = Vec::with_capacity(hosts);
        let mut tmpdirs = Vec::with_capacity(hosts);
        for _ in 0..hosts {
            let tmpdir = tempfile::tempdir()?;
            let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_dialer"));
            command
                .args(["worker", "--idle", idle, "--rescan", "60s"])
                .arg(folder)
                .env("TMPDIR", tmpdir.path())
                .env("DIALER_DATABASE_URL", url)
                .env_remove("RUST_LOG");
            for name in TWILIO_VARIABLES {
                command.env_remove(name);
            }
            children.push(
                command
                    .envs(env.iter().map(|(name, value)| (name, value)))
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .kill_on_drop(true)
                    .spawn()?,
            );
            tmpdirs.push(tmpdir);
        }
        Ok(Self {
            children,
            _tmpdirs: tmpdirs,
        })
    }

    pub fn pids(&self) -> Vec<u32> {
        self.children
            .iter()
            .filter_map(|child| child.id())
            .collect()
    }

    /// SIGTERM to each, then waits for all of them.
    pub async fn stop(self) -> anyhow::Result<()> {
        for pid in self.pids() {
            std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()?;
        }
        for worker in self.children {
            worker.wait_with_output().await?;
        }
        Ok(())
    }
}

// ---- CPU time from /proc -----------------------------------------------------------------

/// What `/proc/<pid>/stat` says of a process: its parent, its own CPU time (user + system),
/// and that of its children it has waited for, in seconds.
struct ProcStat {
    parent: u32,
    own_secs: f64,
    reaped_secs: f64,
}

fn proc_stat(pid: u32) -> Option<ProcStat> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces: the fields start after its end.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |field: usize| fields.get(field)?.parse::<u64>().ok();
    let per_sec = clock_ticks_per_sec();
    Some(ProcStat {
        parent: fields.get(1)?.parse().ok()?,
        own_secs: (ticks(11)? + ticks(12)?) as f64 / per_sec,
        reaped_secs: (ticks(13)? + ticks(14)?) as f64 / per_sec,
    })
}

/// `getconf CLK_TCK`, the unit of `/proc/<pid>/stat`'s times (100 almost everywhere).
fn clock_ticks_per_sec() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// CPU seconds the processes `pids` have used so far (0 for one that is gone).
pub fn cpu_secs(pids: &[u32]) -> f64 {
    pids.iter()
        .filter_map(|pid| proc_stat(*pid))
        .map(|stat| stat.own_secs)
        .sum()
}

/// CPU seconds a server of processes has used so far: its parent `root`'s, its live
/// children's, and those of children already gone (a parent counts them once it reaps them,
/// as PostgreSQL's postmaster reaps its backends).
pub fn process_tree_cpu_secs(root: u32) -> f64 {
    let Some(parent) = proc_stat(root) else {
        return 0.0;
    };
    let children: f64 = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(proc_stat)
        .filter(|stat| stat.parent == root)
        .map(|stat| stat.own_secs)
        .sum();
    parent.own_secs + parent.reaped_secs + children
}

// ---- what PostgreSQL's statistics say ----------------------------------------------------

/// Loads `pg_stat_statements` into the server at `admin_url` (the `postgres` database):
/// `restart` restarts the server, which loads the library only at its start.
pub async fn preload_statements(admin_url: &str, restart: impl FnOnce()) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    restart();
    Ok(())
}

/// A connection to the database at `url` that reads its statistics, with
/// `pg_stat_statements` created in it.
pub async fn watch_database(url: &str) -> anyhow::Result<sqlx::PgConnection> {
    use sqlx::Connection;
    let mut watch = sqlx::PgConnection::connect(url).await?;
    sqlx::query("CREATE EXTENSION pg_stat_statements")
        .execute(&mut watch)
        .await?;
    Ok(watch)
}

/// The pid of the server's postmaster: the parent of the backend serving `watch`.
pub async fn postmaster_pid(watch: &mut sqlx::PgConnection) -> anyhow::Result<u32> {
    let (backend,): (i32,) = sqlx::query_as("SELECT pg_backend_pid()")
        .fetch_one(watch)
        .await?;
    let stat = proc_stat(u32::try_from(backend)?)
        .ok_or_else(|| anyhow::anyhow!("no /proc entry for the backend {backend}"))?;
    Ok(stat.parent)
}

/// Transactions committed and rolled back in `watch`'s database so far
/// (`pg_stat_database`).
pub async fn transactions(watch: &mut sqlx::PgConnection) -> anyhow::Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(watch)
    .await?)
}

/// Forgets the statements counted so far, in every database.
pub async fn reset_statements(watch: &mut sqlx::PgConnection) -> anyhow::Result<()> {
    sqlx::query("SELECT pg_stat_statements_reset()")
        .execute(watch)
        .await?;
    Ok(())
}

/// The `limit` statements run most in `watch`'s database since the last reset, with how
/// many times each ran.
pub async fn top_statements(
    watch: &mut sqlx::PgConnection,
    limit: i64,
) -> anyhow::Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT CAST(calls AS BIGINT), query FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
         ORDER BY calls DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(watch)
    .await?)
}

/// One line per statement: its count divided by `per` (creates, seconds), then its text on
/// one line, cut at 90 characters.
pub fn print_statements(statements: &[(i64, String)], per: f64) {
    for (calls, query) in statements {
        let query: String = query.split_whitespace().collect::<Vec<_>>().join(" ");
        let shown: String = query.chars().take(90).collect();
        println!("  {:>7.2}  {shown}", *calls as f64 / per);
    }
}
