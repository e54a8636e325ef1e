//! `dialer worker` processes on one folder of campaign files and one database, as hosts run
//! them, and the campaign files they work on.

use dialer::sandbox::{DEMO_AUTH_TOKEN, Sandbox};
use std::path::Path;

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
        list.push_str(&super::number(index * 100_000 + row));
        list.push('\n');
    }
    std::fs::write(folder.join(format!("c{index}.csv")), list)?;
    std::fs::write(
        folder.join(format!("c{index}.toml")),
        format!(
            "[campaign]\nname = \"c{index}\"\nlist = \"c{index}.csv\"\nconference = \"BenchRoom\"\n\
             from = \"+15017122661\"\ncps = {cps}\n{extra}\n[law]\ntelemarketing = false\n"
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
