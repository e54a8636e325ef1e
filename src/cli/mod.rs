//! The command line: clap types, and the exit codes that are part of the interface.

mod param_flags;
pub mod participants;

use crate::twilio::client::DEFAULT_API_BASE;
use crate::twilio::{ClientConfig, Credentials, TwilioClient};
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::time::Duration;

pub use param_flags::ParamFlags;

/// Exit codes (documented in the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Everything asked for was done.
    Done = 0,
    /// An error stopped the command (Twilio refused a request, I/O, ...).
    Error = 1,
    /// Bad arguments, configuration or credentials: nothing was dialed.
    Config = 2,
    /// The run finished, but some rows failed or their outcome is unknown.
    DoneWithFailures = 3,
    /// Stopped early (deadline, signal, calling window) with rows left for the next run.
    StoppedEarly = 4,
    /// Another run holds this campaign's lock.
    Locked = 5,
}

#[derive(Debug, Parser)]
#[command(name = "dialer", version, about = "Outbound call campaigns on Twilio conferences, paced at your account's CPS.")]
pub struct Cli {
    /// Only the final summary and errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
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
}

/// Runs a parsed command line; the exit code says what happened.
pub async fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Participants(command) => participants::run(command, &cli.twilio).await.map(|()| Exit::Done),
    }
}

/// The exit code for an error that ended a command.
pub fn exit_for(error: &anyhow::Error) -> Exit {
    let is_config = error.chain().any(|cause| {
        cause.is::<crate::twilio::credentials::CredentialsError>() || cause.is::<crate::twilio::ParamError>()
    });
    let aborted = error.chain().any(|cause| {
        cause
            .downcast_ref::<crate::twilio::ApiError>()
            .is_some_and(|e| e.disposition() == crate::twilio::Disposition::Abort)
    });
    if is_config || aborted { Exit::Config } else { Exit::Error }
}

/// Where Twilio is and how long to wait for it. Credentials come from the environment only
/// (TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, or TWILIO_API_KEY + TWILIO_API_SECRET).
#[derive(Debug, Clone, Args)]
pub struct TwilioArgs {
    /// Twilio's API base URL (a sandbox or proxy for tests).
    #[arg(long, global = true, env = "TWILIO_API_BASE", default_value = DEFAULT_API_BASE)]
    pub api_base: url::Url,
    /// Seconds to wait for an answer; past it a create's outcome is unknown.
    #[arg(long, global = true, default_value_t = 15)]
    pub request_timeout: u64,
}

impl TwilioArgs {
    pub fn client(&self) -> anyhow::Result<TwilioClient> {
        let credentials = Credentials::from_env().context("Twilio credentials")?;
        let config = ClientConfig {
            api_base: self.api_base.clone(),
            request_timeout: Duration::from_secs(self.request_timeout),
            ..ClientConfig::default()
        };
        Ok(TwilioClient::new(config, credentials)?)
    }
}
