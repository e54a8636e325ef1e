//! The command line: clap types, one module per command, and the exit codes (`exit`) that
//! are part of the interface.

pub mod campaign;
pub mod check;
mod demo;
mod exit;
mod move_to;
mod optout;
mod param_flags;
pub mod participants;
mod plan;
mod progress;
pub mod report;
mod requeue;
pub mod run;
pub mod serve;
mod status;
pub mod sync;
mod worker;

pub use exit::Exit;

use crate::config::Campaign;
use crate::twilio::{ClientConfig, Credentials, TwilioClient};
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::time::Duration;

pub use param_flags::ParamFlags;

#[derive(Debug, Parser)]
#[command(
    name = "dialer",
    version,
    about = "Outbound call campaigns on Twilio conferences, paced at your account's CPS."
)]
pub struct Cli {
    /// Only the final summary and errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Log lines on stderr as text, or one JSON object per line.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t,
        env = "DIALER_LOG_FORMAT"
    )]
    pub log_format: crate::telemetry::LogFormat,
    #[command(flatten)]
    pub twilio: TwilioArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Conference participants by hand: create, get, list, update, remove.
    #[command(subcommand)]
    Participants(participants::ParticipantsCommand),
    /// Run a campaign: import new list rows, dial every due row, exit (cron-safe).
    Run(run::RunArgs),
    /// Check a campaign file and its whole list as a run would, without dialing anyone.
    Check(check::CheckArgs),
    /// Pause, resume or cancel a campaign, or put failed rows back, even while a run is dialing.
    #[command(subcommand)]
    Campaign(campaign::CampaignCommand),
    /// The example campaign end to end on the built-in sandbox: no account needed.
    Demo(demo::DemoArgs),
    /// A Twilio emulator on loopback, for demos and tests (never for real calls).
    Sandbox(Box<crate::sandbox::SandboxConfig>),
    /// What a campaign did, and why each person without a call was not called.
    Report(report::ReportArgs),
    /// What is going on now: each campaign's status, who dials it, what its rows wait for.
    Status(status::StatusArgs),
    /// Which rows would be called at an instant, and every rule that holds the others.
    Plan(plan::PlanArgs),
    /// Record, remove or list people who asked not to be called again (every campaign honours them).
    #[command(subcommand)]
    Optout(optout::OptOutCommand),
    /// Every list line as CSV: state, attempts, call SID, queue_time, error, reason.
    Export(report::ExportArgs),
    /// Receive Twilio's status callbacks for a campaign: who answered, who was busy.
    Serve(serve::ServeArgs),
    /// Ask Twilio how each created call ended (when callbacks cannot reach this machine).
    Sync(sync::SyncArgs),
    /// Dial every due row of these campaigns (files or folders of them) until SIGTERM.
    Worker(worker::WorkerArgs),
    /// Move a campaign begun on SQLite, its whole history, to a shared PostgreSQL database.
    Move(move_to::MoveArgs),
    /// Shell completions on stdout (e.g. `dialer completions bash > /etc/bash_completion.d/dialer`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The manual page on stdout, in roff (`dialer manpage > /usr/local/share/man/man1/dialer.1`).
    Manpage,
}

/// The command line as `main` parses it: `version` is the package's and the commit it was
/// built from, which only the binary knows.
pub fn command(version: &'static str) -> clap::Command {
    <Cli as clap::CommandFactory>::command().version(version)
}

/// Runs a parsed command line (`command` is what it was parsed with, for the completions and
/// the manual); the exit code says what happened.
pub async fn run(cli: Cli, command: clap::Command) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Participants(command) => participants::run(command, &cli.twilio)
            .await
            .map(|()| Exit::Done),
        Command::Run(args) => run::run(args, &cli.twilio, cli.quiet).await,
        Command::Check(args) => check::check(args).await,
        Command::Campaign(command) => campaign::run(command).await,
        Command::Demo(args) => demo::run(args, cli.quiet).await,
        Command::Sandbox(config) => crate::sandbox::run(*config).await.map(|()| Exit::Done),
        Command::Report(args) => report::report(args).await,
        Command::Status(args) => status::status(args).await,
        Command::Plan(args) => plan::run(args).await,
        Command::Optout(command) => optout::run(command).await,
        Command::Export(args) => report::export(args).await,
        Command::Serve(args) => serve::serve(args, &cli.twilio).await,
        Command::Sync(args) => sync::sync(args, &cli.twilio, cli.quiet).await,
        Command::Worker(args) => worker::worker(args, &cli.twilio).await,
        Command::Move(args) => move_to::run(args).await,
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command.clone(), "dialer", &mut script);
            to_stdout(&script).context("could not write the completions")
        }
        Command::Manpage => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command).render(&mut page)?;
            to_stdout(&page).context("could not write the manual page")
        }
    }
}

/// Generated text on stdout, whole (generators given stdout itself panic on a closed pipe).
fn to_stdout(text: &[u8]) -> std::io::Result<Exit> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text)?;
    out.flush()?;
    Ok(Exit::Done)
}

/// Where Twilio is and how long to wait for it. Credentials come from the environment only
/// (TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, or TWILIO_API_KEY + TWILIO_API_SECRET).
#[derive(Debug, Clone, Args)]
pub struct TwilioArgs {
    /// Twilio's API base URL (a sandbox or proxy for tests) [default: https://api.twilio.com].
    #[arg(long, global = true, env = "TWILIO_API_BASE")]
    pub api_base: Option<url::Url>,
    /// Seconds to wait for an answer; past it a create's outcome is unknown [default: 15].
    #[arg(long, global = true)]
    pub request_timeout: Option<u64>,
}

impl TwilioArgs {
    /// A client for commands without a campaign file: flags and environment only.
    pub fn client(&self) -> anyhow::Result<TwilioClient> {
        let credentials = Credentials::from_env().context("Twilio credentials")?;
        self.build(None, None, credentials)
    }

    /// Flags and environment first, then the campaign file, then Twilio's defaults.
    pub fn client_for(&self, campaign: &Campaign) -> anyhow::Result<TwilioClient> {
        let credentials = match &campaign.credentials_file {
            Some(path) if std::env::var_os("TWILIO_ACCOUNT_SID").is_none() => {
                let file = read_env_file(path)?;
                Credentials::from_lookup(|name| file.get(name).cloned())
            }
            _ => Credentials::from_env(),
        }
        .context("Twilio credentials")?;
        self.build(
            campaign.api_base.clone(),
            Some(campaign.request_timeout),
            credentials,
        )
    }

    fn build(
        &self,
        api_base: Option<url::Url>,
        timeout: Option<Duration>,
        credentials: Credentials,
    ) -> anyhow::Result<TwilioClient> {
        let defaults = ClientConfig::default();
        let config = ClientConfig {
            api_base: self
                .api_base
                .clone()
                .or(api_base)
                .unwrap_or(defaults.api_base),
            request_timeout: self
                .request_timeout
                .map(Duration::from_secs)
                .or(timeout)
                .unwrap_or(defaults.request_timeout),
            connect_timeout: defaults.connect_timeout,
        };
        Ok(TwilioClient::new(config, credentials)?)
    }
}

/// `KEY=VALUE` lines (comments with #), as in a systemd or docker env file.
fn read_env_file(
    path: &std::path::Path,
) -> anyhow::Result<std::collections::HashMap<String, String>> {
    let text = crate::domain::read_secret_file(path).context("the credentials file")?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
        .collect())
}
