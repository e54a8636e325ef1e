//! The emulator's settings: one struct that is both the `dialer sandbox` flags and the value
//! tests build with `..Default::default()`. Every default is a constant used by both, so the
//! command line and the library cannot drift apart.

use crate::domain::{AccountSid, ApiKeySid, Cps};
use clap::Args;
use secrecy::SecretString;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// The account the sandbox serves unless told otherwise (not a real account).
pub const DEMO_ACCOUNT_SID: &str = "AC5a4db0c5a4db0c5a4db0c5a4db0c5a4d";
/// The auth token the sandbox accepts unless `SANDBOX_AUTH_TOKEN` is set. Public on purpose.
pub const DEMO_AUTH_TOKEN: &str = "sandbox-auth-token";
pub const DEFAULT_PORT: u16 = 8099;
const DEFAULT_MAX_IN_FLIGHT: usize = 100;
/// Twilio refuses calls that would wait more than 24 hours in the account's queue.
const DEFAULT_QUEUE_LIMIT_SECS: u64 = 24 * 60 * 60;
const DEFAULT_RING_MS: u64 = 1_000;
const DEFAULT_TALK_MS: u64 = 3_000;
const DEFAULT_HANG_MS: u64 = 60 * 60 * 1_000;

/// How the emulated Twilio account behaves. Shares are probabilities from 0 to 1.
#[derive(Debug, Clone, Args)]
pub struct SandboxConfig {
    /// Address to listen on; must be a loopback address.
    #[arg(long, default_value_t = default_listen())]
    pub listen: SocketAddr,
    /// The Account SID the sandbox serves.
    #[arg(long, default_value_t = demo_account())]
    pub account_sid: AccountSid,
    /// The account's auth token: `SANDBOX_AUTH_TOKEN`, else the public demo token. Read from
    /// the environment only, like every secret here, so it never shows in a process list.
    #[arg(skip = secret_from_env("SANDBOX_AUTH_TOKEN").unwrap_or_else(|| DEMO_AUTH_TOKEN.into()))]
    pub auth_token: SecretString,
    /// An API key (SK…) accepted in place of the Account SID, with its secret in
    /// SANDBOX_API_SECRET.
    #[arg(long)]
    pub api_key: Option<ApiKeySid>,
    /// The API key's secret, from `SANDBOX_API_SECRET`.
    #[arg(skip = secret_from_env("SANDBOX_API_SECRET"))]
    pub api_secret: Option<SecretString>,
    /// The account's calls per second: creates beyond it are queued, as Twilio does.
    #[arg(long, default_value_t = default_cps())]
    pub cps: Cps,
    /// Requests in flight above which the sandbox answers 429 (code 20429).
    #[arg(long, default_value_t = DEFAULT_MAX_IN_FLIGHT)]
    pub max_in_flight: usize,
    /// A create that would wait longer than this in the CPS queue is refused (code 22005).
    #[arg(long, default_value_t = DEFAULT_QUEUE_LIMIT_SECS)]
    pub queue_limit_secs: u64,
    /// How long a call rings before it is answered (or fails).
    #[arg(long, default_value_t = DEFAULT_RING_MS)]
    pub ring_ms: u64,
    /// How long an answered call lasts; with --ring-ms, --busy and --failed, how soon a
    /// participant leaves its conference (and so is no longer found by its label).
    #[arg(long, default_value_t = DEFAULT_TALK_MS)]
    pub talk_ms: u64,
    /// The call log (List Calls) shows a new call only this long after its creation, as
    /// Twilio's list endpoints are not read-your-writes. Fetching a call by SID is not delayed.
    #[arg(long, default_value_t = 0)]
    pub call_log_lag_ms: u64,
    /// Delay added before every answer.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Uniform random ± spread around --latency-ms.
    #[arg(long, default_value_t = 0)]
    pub latency_jitter_ms: u64,
    /// Share of requests answered 429 (code 20429, Retry-After: 1) without being processed.
    #[arg(long, default_value_t = 0.0, value_parser = parse_share)]
    pub share_429: f64,
    /// Share of creates answered 500 (code 20500) without being processed.
    #[arg(long, default_value_t = 0.0, value_parser = parse_share)]
    pub share_5xx: f64,
    /// Share of creates that are processed, then the connection is closed with no answer.
    #[arg(long, default_value_t = 0.0, value_parser = parse_share)]
    pub share_drop: f64,
    /// Share of creates that are processed, then answered only after --hang-ms.
    #[arg(long, default_value_t = 0.0, value_parser = parse_share)]
    pub share_hang: f64,
    /// How long a hanging create waits before answering (or until shutdown).
    #[arg(long, default_value_t = DEFAULT_HANG_MS)]
    pub hang_ms: u64,
    /// Share of calls that end busy.
    #[arg(long, default_value_t = 0.0, value_parser = parse_share)]
    pub busy: f64,
    /// Share of calls nobody answers.
    #[arg(long, default_value_t = 0.0, value_parser = parse_share)]
    pub no_answer: f64,
    /// Share of calls that fail.
    #[arg(long, default_value_t = 0.0, value_parser = parse_share)]
    pub failed: f64,
    /// Share of answered calls with MachineDetection that a machine answers.
    #[arg(long, default_value_t = 0.0, value_parser = parse_share)]
    pub machine: f64,
    /// `To` numbers starting with this are refused as invalid (code 21211), e.g. +1555000.
    #[arg(long)]
    pub invalid_to_prefix: Option<String>,
    /// `To` numbers starting with this get a 500 (code 20500) to every create, never
    /// processed: a number Twilio keeps failing on.
    #[arg(long)]
    pub server_error_to_prefix: Option<String>,
    /// Seed for every random draw (outcomes, faults, SIDs), for reproducible runs.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Benchmarks only: no CPS pacing at all (queue_time always 0). Twilio never does this.
    #[arg(long)]
    pub unpaced: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            account_sid: demo_account(),
            auth_token: DEMO_AUTH_TOKEN.into(),
            api_key: None,
            api_secret: None,
            cps: default_cps(),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            queue_limit_secs: DEFAULT_QUEUE_LIMIT_SECS,
            ring_ms: DEFAULT_RING_MS,
            talk_ms: DEFAULT_TALK_MS,
            call_log_lag_ms: 0,
            latency_ms: 0,
            latency_jitter_ms: 0,
            share_429: 0.0,
            share_5xx: 0.0,
            share_drop: 0.0,
            share_hang: 0.0,
            hang_ms: DEFAULT_HANG_MS,
            busy: 0.0,
            no_answer: 0.0,
            failed: 0.0,
            machine: 0.0,
            invalid_to_prefix: None,
            server_error_to_prefix: None,
            seed: None,
            unpaced: false,
        }
    }
}

/// A setting the sandbox cannot run with.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the sandbox only listens on loopback addresses, not {0}")]
    NotLoopback(SocketAddr),
    #[error("{what} shares add up to {sum}, more than 1")]
    SharesOverOne { what: &'static str, sum: f64 },
    #[error("--api-key needs SANDBOX_API_SECRET, and SANDBOX_API_SECRET needs --api-key")]
    HalfApiKey,
}

impl SandboxConfig {
    /// The defaults on an ephemeral loopback port: what tests and benchmarks start from.
    pub fn ephemeral() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            ..Self::default()
        }
    }

    pub fn check(&self) -> Result<(), ConfigError> {
        if !self.listen.ip().is_loopback() {
            return Err(ConfigError::NotLoopback(self.listen));
        }
        if self.api_key.is_some() != self.api_secret.is_some() {
            return Err(ConfigError::HalfApiKey);
        }
        for (what, shares) in [
            (
                "fault (5xx + drop + hang)",
                [self.share_5xx, self.share_drop, self.share_hang],
            ),
            (
                "outcome (busy + no-answer + failed)",
                [self.busy, self.no_answer, self.failed],
            ),
        ] {
            let sum: f64 = shares.iter().sum();
            if sum > 1.0 + f64::EPSILON {
                return Err(ConfigError::SharesOverOne { what, sum });
            }
        }
        Ok(())
    }

    pub fn uses_demo_token(&self) -> bool {
        secrecy::ExposeSecret::expose_secret(&self.auth_token) == DEMO_AUTH_TOKEN
    }

    pub(crate) fn ring(&self) -> Duration {
        Duration::from_millis(self.ring_ms)
    }

    pub(crate) fn talk(&self) -> Duration {
        Duration::from_millis(self.talk_ms)
    }

    pub(crate) fn call_log_lag(&self) -> Duration {
        Duration::from_millis(self.call_log_lag_ms)
    }

    pub(crate) fn queue_limit(&self) -> Duration {
        Duration::from_secs(self.queue_limit_secs)
    }

    pub(crate) fn hang(&self) -> Duration {
        Duration::from_millis(self.hang_ms)
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT))
}

fn demo_account() -> AccountSid {
    AccountSid::parse(DEMO_ACCOUNT_SID).expect("the demo SID is well formed")
}

fn default_cps() -> Cps {
    Cps::new(1).expect("1 is a valid CPS")
}

fn secret_from_env(name: &str) -> Option<SecretString> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(Into::into)
}

fn parse_share(raw: &str) -> Result<f64, String> {
    match raw.trim().parse::<f64>() {
        Ok(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err(format!("must be a number from 0 to 1, got {raw:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        config: SandboxConfig,
    }

    #[test]
    fn flag_defaults_equal_the_library_defaults() {
        let parsed = Flags::parse_from(["sandbox"]).config;
        // Debug redacts the token, so comparing it compares every other field.
        assert_eq!(
            format!("{parsed:?}"),
            format!("{:?}", SandboxConfig::default())
        );
        assert!(SandboxConfig::default().check().is_ok());
    }

    #[test]
    fn shares_outside_zero_to_one_and_public_addresses_are_refused() {
        assert!(Flags::try_parse_from(["sandbox", "--busy", "1.5"]).is_err());
        let public = SandboxConfig {
            listen: "0.0.0.0:8099".parse().unwrap(),
            ..SandboxConfig::default()
        };
        assert!(matches!(public.check(), Err(ConfigError::NotLoopback(_))));
        let over = SandboxConfig {
            busy: 0.6,
            failed: 0.6,
            ..SandboxConfig::default()
        };
        assert!(matches!(
            over.check(),
            Err(ConfigError::SharesOverOne { .. })
        ));
    }
}
