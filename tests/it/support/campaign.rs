//! A campaign in a temporary folder, run by the real `dialer` binary against an in-process
//! sandbox, and read back through the store.

use dialer::sandbox::{DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, Sandbox, SandboxConfig, SandboxStats};
use dialer::store::{Database, RowExport, Store};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tempfile::TempDir;

pub struct TestCampaign {
    pub dir: TempDir,
    pub file: PathBuf,
    pub list: PathBuf,
    pub db: PathBuf,
}

#[derive(Debug)]
pub struct RunOutput {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// `n` distinct valid numbers, one per line, after a `to` header.
pub fn numbers(n: usize) -> String {
    let mut list = String::from("to\n");
    for i in 0..n {
        list.push_str(&format!("+1415555{i:04}\n"));
    }
    list
}

pub async fn sandbox(config: SandboxConfig) -> Sandbox {
    Sandbox::start(SandboxConfig {
        ring_ms: 50,
        talk_ms: 200,
        ..config
    })
    .await
    .expect("sandbox starts")
}

pub fn sandbox_config() -> SandboxConfig {
    SandboxConfig {
        seed: Some(1),
        ..SandboxConfig::ephemeral()
    }
}

impl TestCampaign {
    /// A campaign at `cps` over `list` (CSV text), with fast retries; `extra` is appended.
    pub fn new(cps: u32, list: &str, extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("campaign.toml");
        let list_path = dir.path().join("list.csv");
        std::fs::write(&list_path, list).expect("write list");
        // Tests dial whatever the hour: the law's calling hours are for tests that ask for them
        // (a `[law]` section of their own).
        let law = match extra.contains("[law]") {
            true => "",
            false => "[law]\ntelemarketing = false\n",
        };
        let campaign = format!(
            "[campaign]\nname = \"test\"\nlist = \"list.csv\"\nconference = \"TestRoom\"\nfrom = \"+15017122661\"\ncps = {cps}\n{extra}\n\
             [retry]\ninitial = \"50ms\"\nmax = \"200ms\"\nmultiplier = 2.0\njitter = false\nreconcile_after = \"100ms\"\ncall_log_grace = \"300ms\"\noutage_limit = \"3m\"\n\
             [twilio]\nrequest_timeout = \"1s\"\n{law}"
        );
        std::fs::write(&file, campaign).expect("write campaign");
        let db = dir.path().join("test.sqlite");
        Self {
            dir,
            file,
            list: list_path,
            db,
        }
    }

    /// Sets `key` (a line of the template, e.g. `call_log_grace`) to `value` (TOML).
    pub fn set(&self, key: &str, value: &str) {
        let text = std::fs::read_to_string(&self.file).expect("read campaign");
        let prefix = format!("{key} = ");
        assert!(
            text.lines().any(|l| l.starts_with(&prefix)),
            "no {key} line"
        );
        let text: String = text
            .lines()
            .map(|l| {
                if l.starts_with(&prefix) {
                    format!("{prefix}{value}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        std::fs::write(&self.file, text).expect("write campaign");
    }

    pub fn append(&self, lines: &str) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.list)
            .expect("open list");
        f.write_all(lines.as_bytes()).expect("append");
    }

    /// `dialer run` (plus `args`) with the sandbox's credentials in the environment.
    pub fn command(&self, sandbox: &Sandbox, args: &[&str]) -> tokio::process::Command {
        self.subcommand(sandbox, "run", args)
    }

    /// `dialer <name> CAMPAIGN` (plus `args`) with the sandbox's credentials in the environment.
    pub fn subcommand(
        &self,
        sandbox: &Sandbox,
        name: &str,
        args: &[&str],
    ) -> tokio::process::Command {
        let mut cmd = dialer_at(sandbox, &[name]);
        cmd.arg(&self.file).args(args);
        cmd
    }

    pub async fn run(&self, sandbox: &Sandbox, args: &[&str]) -> RunOutput {
        let child = self.command(sandbox, args).spawn().expect("dialer starts");
        output(child).await
    }

    /// `dialer ARGS CAMPAIGN.toml` with no credentials, e.g. `campaign pause` or `report`.
    pub async fn manage(&self, args: &[&str]) -> RunOutput {
        self.manage_with(args, &[]).await
    }

    /// `dialer campaign requeue CAMPAIGN.toml ARGS` (the file first: `--line` takes every
    /// number after it).
    pub async fn requeue(&self, args: &[&str]) -> RunOutput {
        self.manage_with(&["campaign", "requeue"], args).await
    }

    /// `dialer BEFORE… CAMPAIGN.toml AFTER…` with no credentials.
    async fn manage_with(&self, before: &[&str], after: &[&str]) -> RunOutput {
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_dialer"))
            .args(before)
            .arg(&self.file)
            .args(after)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("dialer starts");
        output(child).await
    }

    /// `dialer export`: every list line as CSV records, header first.
    pub async fn export(&self) -> Vec<csv::StringRecord> {
        let out = self.manage(&["export"]).await;
        assert_eq!(out.code, Some(0), "{out:?}");
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(out.stdout.as_bytes())
            .records()
            .map(|record| record.expect("a CSV record"))
            .collect()
    }

    /// The campaign's store, as a run opens it.
    pub async fn open_store(&self) -> Store {
        Store::open(&Database::Sqlite(self.db.clone()), "test")
            .await
            .expect("database opens")
    }

    pub async fn rows(&self) -> Vec<RowExport> {
        let store = self.open_store().await;
        let rows = store.export_rows().await.expect("rows read");
        store.close().await;
        rows
    }

    pub async fn rows_in(&self, state: &str) -> usize {
        self.rows()
            .await
            .iter()
            .filter(|r| r.state.as_str() == state)
            .count()
    }
}

/// `dialer ARGS…` aimed at `sandbox` with its demo credentials, and nothing else from the
/// environment that could change what the binary does; output piped, killed when dropped.
pub fn dialer_at(sandbox: &Sandbox, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_dialer"));
    cmd.args(args)
        .env("TWILIO_API_BASE", sandbox.base_url())
        .env("TWILIO_ACCOUNT_SID", DEMO_ACCOUNT_SID)
        .env("TWILIO_AUTH_TOKEN", DEMO_AUTH_TOKEN)
        .env_remove("TWILIO_API_KEY")
        .env_remove("TWILIO_API_SECRET")
        .env_remove("RUST_LOG")
        .env_remove("DIALER_DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Waits for `child` to exit; one still running after two minutes is killed, and the test
/// fails with what it wrote to stderr so far.
pub async fn output(mut child: tokio::process::Child) -> RunOutput {
    let stdout = collect(child.stdout.take());
    let stderr = collect(child.stderr.take());
    let status = match tokio::time::timeout(Duration::from_secs(120), child.wait()).await {
        Ok(status) => status.expect("dialer's exit status"),
        Err(_) => {
            let _ = child.kill().await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            let stderr = stderr.lock().unwrap().clone();
            let tail: String = String::from_utf8_lossy(&stderr)
                .lines()
                .rev()
                .take(60)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            panic!("dialer did not finish within two minutes; the end of its stderr:\n{tail}");
        }
    };
    // The pipes close when the process exits; give the readers a moment to drain them.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let text = |buffer: &std::sync::Arc<std::sync::Mutex<Vec<u8>>>| {
        String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned()
    };
    RunOutput {
        code: status.code(),
        stdout: text(&stdout),
        stderr: text(&stderr),
    }
}

/// Reads a child's pipe to its end in the background, into a buffer readable at any time.
fn collect(
    pipe: Option<impl tokio::io::AsyncRead + Unpin + Send + 'static>,
) -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    if let Some(mut pipe) = pipe {
        let sink = buffer.clone();
        tokio::spawn(async move {
            let mut chunk = [0u8; 8192];
            while let Ok(n) = tokio::io::AsyncReadExt::read(&mut pipe, &mut chunk).await {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
        });
    }
    buffer
}

/// Sends `signal` (as `kill` spells it: `-KILL`, `-STOP`, `-CONT`) to the processes `pids`,
/// all in one `kill`.
pub fn signal(pids: &[u32], signal: &str) {
    std::process::Command::new("kill")
        .arg(signal)
        .args(pids.iter().map(u32::to_string))
        .status()
        .expect("kill runs");
}

/// Freezes the processes `pids` together (SIGSTOP), as a suspended VM or a saturated host,
/// half an interval at 10 CPS after a create, when each is waiting for a slot it has taken;
/// lets them go on (SIGCONT) two seconds later.
pub async fn freeze_between_two_creates(pids: &[u32]) {
    tokio::time::sleep(Duration::from_millis(50)).await;
    signal(pids, "-STOP");
    tokio::time::sleep(Duration::from_secs(2)).await;
    signal(pids, "-CONT");
}

/// Runs frozen together and resumed: each ended done, nobody was called twice, every row was
/// created, and no second saw more than the account's CPS and one.
pub fn assert_resumed_runs_kept_the_cps(
    outs: &[RunOutput],
    sandbox: &Sandbox,
    rows: u64,
    cps: usize,
) {
    for out in outs {
        assert_eq!(out.code, crate::support::exit::DONE, "{out:?}");
    }
    assert_nobody_called_twice(sandbox);
    let stats = sandbox.stats();
    assert_eq!(stats.creates, rows);
    let most = most_creates_in_one_second(&stats);
    eprintln!("most creates in one second: {most}");
    assert!(most <= cps + 1, "{most} creates in one second at CPS {cps}");
}

/// The most creates the sandbox saw arrive within any one second (a sliding window).
pub fn most_creates_in_one_second(stats: &SandboxStats) -> usize {
    let mut arrivals = stats.create_times_ms.clone();
    arrivals.sort_unstable();
    (0..arrivals.len())
        .map(|i| {
            arrivals[i..]
                .iter()
                .take_while(|t| **t < arrivals[i] + 1000)
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// Waits until the sandbox has created at least `n` calls.
pub async fn until_creates(sandbox: &Sandbox, n: u64) {
    for _ in 0..2000 {
        if sandbox.stats().creates >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the sandbox never reached {n} creates");
}

/// Asserts nobody received two calls: the promise the whole tool is built on.
pub fn assert_nobody_called_twice(sandbox: &Sandbox) {
    let stats = sandbox.stats();
    let twice: Vec<_> = stats
        .creates_by_to
        .iter()
        .filter(|(_, n)| **n > 1)
        .collect();
    assert!(twice.is_empty(), "called more than once: {twice:?}");
}
