//! The campaign file (TOML): parsed and checked in full before anything is dialed.
//! Relative paths resolve against the file's own folder, since cron runs elsewhere.

mod database;
pub mod rules;

use database::DatabaseSection;
pub use database::{DatabaseEnv, move_target};

use crate::domain::{Caller, ConferenceTarget, Cps, Invalid, Region, duration};
use crate::store::Database;
use crate::twilio::{ParamError, ParticipantOptions};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read the campaign file {path}: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error("{path}: {cause}")]
    Syntax {
        path: String,
        cause: toml::de::Error,
    },
    #[error("{path}: {key} {rule}")]
    Invalid {
        path: String,
        key: String,
        rule: Invalid,
    },
    /// A command-line argument, or the variable standing in for it.
    #[error("{key} {rule}")]
    Argument { key: &'static str, rule: Invalid },
    #[error("{path}: participant.{}: {cause}", param_key(&cause.param))]
    Param { path: String, cause: ParamError },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CampaignFile {
    campaign: CampaignSection,
    #[serde(default)]
    participant: toml::Table,
    #[serde(default)]
    retry: RetrySection,
    #[serde(default)]
    database: DatabaseSection,
    #[serde(default)]
    twilio: TwilioSection,
    #[serde(default)]
    callbacks: Option<rules::CallbacksSection>,
    #[serde(default)]
    recycle: rules::RecycleSection,
    #[serde(default)]
    window: Option<rules::WindowSection>,
    #[serde(default)]
    frequency: Option<rules::FrequencySection>,
    #[serde(default)]
    suppression: rules::SuppressionSection,
    #[serde(default)]
    pacing: rules::PacingSection,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CampaignSection {
    name: String,
    list: PathBuf,
    conference: String,
    from: String,
    cps: i64,
    #[serde(default = "default_max_attempts")]
    max_attempts: i64,
    #[serde(default = "default_max_in_flight")]
    max_in_flight: i64,
    /// ISO 3166 alpha-2: the country the list's national numbers are read in.
    default_region: Option<String>,
}

fn default_max_attempts() -> i64 {
    3
}

fn default_max_in_flight() -> i64 {
    32
}

/// Twilio publishes no bound on how late its call log shows a new call; seconds are common.
/// Two minutes is a wide margin over that, and the README says what it costs.
const DEFAULT_CALL_LOG_GRACE: &str = "2m";

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RetrySection {
    initial: String,
    max: String,
    multiplier: f32,
    jitter: bool,
    /// How long after an unknown outcome to ask Twilio whether the call exists.
    reconcile_after: String,
    /// How long after a lost answer Twilio's call log is trusted to show the call.
    call_log_grace: String,
    /// How long a run waits for Twilio to answer again before it stops (exit 4).
    outage_limit: String,
}

impl Default for RetrySection {
    fn default() -> Self {
        Self {
            initial: "2s".into(),
            max: "5m".into(),
            multiplier: 2.0,
            jitter: true,
            reconcile_after: "5s".into(),
            call_log_grace: DEFAULT_CALL_LOG_GRACE.into(),
            outage_limit: "3m".into(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TwilioSection {
    api_base: Option<String>,
    /// A KEY=VALUE file with TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN (or API key and secret).
    credentials_file: Option<PathBuf>,
    request_timeout: Option<String>,
}

/// Backoff between transient failures.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    pub initial: Duration,
    pub max: Duration,
    pub multiplier: f32,
    pub jitter: bool,
    pub reconcile_after: Duration,
    /// An attempt in doubt is judged never created only by a check made this long after its
    /// answer was lost: Twilio's call log is not read-your-writes.
    pub call_log_grace: Duration,
    /// How long a run waits while Twilio cannot be reached before it stops with the rows
    /// left for the next run; `None`: it waits on (a worker).
    pub outage_limit: Option<Duration>,
}

/// A campaign, valid as a whole.
#[derive(Debug, Clone)]
pub struct Campaign {
    pub name: String,
    pub file: PathBuf,
    pub list: PathBuf,
    pub conference: ConferenceTarget,
    pub from: Caller,
    pub cps: Cps,
    pub max_attempts: u32,
    pub max_in_flight: usize,
    /// Where a row without a `number_region` reads a national number (`None`: numbers need `+`).
    pub default_region: Option<Region>,
    pub defaults: ParticipantOptions,
    pub retry: RetryPolicy,
    pub database: Database,
    /// How long a claim holds its row when hosts share the database (PostgreSQL).
    pub lease: Duration,
    pub api_base: Option<url::Url>,
    pub credentials_file: Option<PathBuf>,
    pub request_timeout: Duration,
    pub rules: rules::Rules,
}

impl Campaign {
    /// Records how calls ended into `store`, with this campaign's recycling rules.
    pub fn recorder(
        &self,
        store: crate::store::Store,
        metrics: crate::metrics::CampaignMetrics,
    ) -> crate::outcomes::Recorder {
        crate::outcomes::Recorder::new(
            store,
            self.rules.recycle.clone(),
            self.max_attempts,
            metrics,
        )
    }

    /// The campaign as a worker runs it: it waits out any Twilio outage, however long.
    pub fn waiting_out_outages(mut self) -> Self {
        self.retry.outage_limit = None;
        self
    }

    /// This campaign's metrics on `account`.
    pub fn metrics(&self, account: &crate::domain::AccountSid) -> crate::metrics::CampaignMetrics {
        crate::metrics::CampaignMetrics::new(&self.name, account, self.cps)
    }

    /// The campaign file at `path`, with the database the process's environment selects.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::load_with(path, &DatabaseEnv::from_process())
    }

    pub fn load_with(path: &Path, env: &DatabaseEnv) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
            path: shown.clone(),
            cause,
        })?;
        let file: CampaignFile = toml::from_str(&text).map_err(|cause| ConfigError::Syntax {
            path: shown.clone(),
            cause,
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let invalid = |key: &str, rule: Invalid| ConfigError::Invalid {
            path: shown.clone(),
            key: key.into(),
            rule,
        };
        let c = file.campaign;
        if c.name.trim().is_empty() {
            return Err(invalid("campaign.name", Invalid::new("must not be empty")));
        }
        let cps = u32::try_from(c.cps)
            .map_err(|_| Invalid(format!("must be from 1 to 30, got {}", c.cps)));
        let cps = cps
            .and_then(Cps::new)
            .map_err(|e| invalid("campaign.cps", e))?;
        let max_attempts = u32::try_from(c.max_attempts)
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| {
                invalid(
                    "campaign.max_attempts",
                    Invalid::new("must be from 1 to 100"),
                )
            })?;
        let max_in_flight = usize::try_from(c.max_in_flight)
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| {
                invalid(
                    "campaign.max_in_flight",
                    Invalid::new("must be from 1 to 100 (Twilio's default concurrency limit)"),
                )
            })?;
        let default_region = c
            .default_region
            .as_deref()
            .map(Region::parse)
            .transpose()
            .map_err(|e| invalid("campaign.default_region", e))?;
        let mut defaults = ParticipantOptions::default();
        for (key, value) in &file.participant {
            let raw =
                toml_text(value).map_err(|rule| invalid(&format!("participant.{key}"), rule))?;
            defaults
                .set(key, &raw)
                .map_err(|cause| ConfigError::Param {
                    path: shown.clone(),
                    cause,
                })?;
        }
        for name in ParticipantOptions::NAMES {
            let Some(var) = name.env_var() else { continue };
            if file.participant.keys().any(|key| name.matches(key)) {
                return Err(invalid(
                    &format!("participant.{}", name.snake),
                    Invalid::new(format!(
                        "is a credential: set {var} in the environment, not in the campaign file"
                    )),
                ));
            }
            if let Some(value) = std::env::var(&var).ok().filter(|v| !v.is_empty()) {
                defaults
                    .set(name.wire, &value)
                    .map_err(|cause| ConfigError::Param {
                        path: shown.clone(),
                        cause,
                    })?;
            }
        }
        defaults.check_alone().map_err(|cause| ConfigError::Param {
            path: shown.clone(),
            cause,
        })?;
        if defaults.label.is_some() {
            return Err(invalid(
                "participant.label",
                Invalid::new("is per row: use a `label` column"),
            ));
        }
        let retry = RetryPolicy {
            initial: duration(&file.retry.initial).map_err(|e| invalid("retry.initial", e))?,
            max: duration(&file.retry.max).map_err(|e| invalid("retry.max", e))?,
            multiplier: file.retry.multiplier,
            jitter: file.retry.jitter,
            reconcile_after: duration(&file.retry.reconcile_after)
                .map_err(|e| invalid("retry.reconcile_after", e))?,
            call_log_grace: duration(&file.retry.call_log_grace)
                .map_err(|e| invalid("retry.call_log_grace", e))?,
            outage_limit: Some(
                duration(&file.retry.outage_limit).map_err(|e| invalid("retry.outage_limit", e))?,
            ),
        };
        if !(1.0..=10.0).contains(&retry.multiplier) {
            return Err(invalid(
                "retry.multiplier",
                Invalid::new("must be from 1.0 to 10.0"),
            ));
        }
        let api_base = file
            .twilio
            .api_base
            .map(|raw| {
                url::Url::parse(&raw)
                    .map_err(|e| invalid("twilio.api_base", Invalid(e.to_string())))
            })
            .transpose()?;
        let request_timeout = match &file.twilio.request_timeout {
            Some(raw) => duration(raw).map_err(|e| invalid("twilio.request_timeout", e))?,
            None => Duration::from_secs(15),
        };
        let lease = file
            .database
            .lease(request_timeout)
            .map_err(|rule| invalid("database.lease", rule))?;
        let database = file
            .database
            .resolve(&dir, &file_stem(&c.name), env)
            .map_err(|(key, rule)| invalid(key, rule))?;
        let rules = rules::RulesSections {
            callbacks: file.callbacks,
            recycle: file.recycle,
            window: file.window,
            suppression: file.suppression,
            pacing: file.pacing,
            frequency: file.frequency,
        }
        .parse(&dir)
        .map_err(|(key, rule)| invalid(&key, rule))?;
        // Every row's request inherits the defaults: the one place calls learn where to report.
        if let Some(callbacks) = &rules.callbacks {
            callbacks
                .route(&mut defaults)
                .map_err(|cause| ConfigError::Param {
                    path: shown.clone(),
                    cause,
                })?;
        }
        Ok(Self {
            name: c.name.trim().to_owned(),
            file: path.to_path_buf(),
            list: dir.join(c.list),
            conference: ConferenceTarget::parse(&c.conference)
                .map_err(|e| invalid("campaign.conference", e))?,
            from: Caller::parse(&c.from).map_err(|e| invalid("campaign.from", e))?,
            cps,
            max_attempts,
            max_in_flight,
            default_region,
            defaults,
            retry,
            database,
            lease,
            api_base,
            credentials_file: file.twilio.credentials_file.map(|p| dir.join(p)),
            request_timeout,
            rules,
        })
    }
}

/// A `[participant]` key as the file spells it, from the parameter's wire name.
fn param_key(wire: &str) -> &str {
    ParticipantOptions::lookup(wire).map_or(wire, |name| name.snake)
}

/// A TOML value as the text a form parameter takes; arrays become space-separated lists.
fn toml_text(value: &toml::Value) -> Result<String, Invalid> {
    match value {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(n) => Ok(n.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        toml::Value::Array(items) => Ok(items
            .iter()
            .map(toml_text)
            .collect::<Result<Vec<_>, _>>()?
            .join(" ")),
        other => Err(Invalid(format!(
            "must be a string, number, boolean or list, got {}",
            other.type_str()
        ))),
    }
}

/// A campaign's name as part of a file name: its default database, its lock. Not the generated
/// labels' prefix (`import::record`), which drops characters instead: each rule stays as
/// existing campaigns have it, since changing either would lose a campaign's database or
/// re-label its rows.
pub fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Campaign, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).unwrap();
        Campaign::load(&path)
    }

    const BASE: &str = "[campaign]\nname = \"c\"\nlist = \"l.csv\"\nconference = \"Room\"\nfrom = \"+15017122661\"\n";

    #[test]
    fn a_minimal_campaign_gets_documented_defaults() {
        let c = load(&format!("{BASE}cps = 30\n")).unwrap();
        assert_eq!(c.max_attempts, 3);
        assert_eq!(c.retry.initial, Duration::from_secs(2));
        assert_eq!(c.retry.call_log_grace, Duration::from_secs(120));
        assert!(c.list.ends_with("l.csv") && c.list.is_absolute());
        assert!(
            c.database
                .sqlite_file()
                .is_some_and(|p| p.ends_with("c.sqlite"))
        );
    }

    #[test]
    fn bad_values_fail_before_anything_is_dialed_and_name_the_key() {
        for (extra, want) in [
            ("cps = 31\n", "campaign.cps"),
            ("cps = 0\n", "campaign.cps"),
            ("cps = 5\nmax_attempts = 0\n", "campaign.max_attempts"),
            (
                "cps = 5\n[participant]\ntimeout = 4\n",
                "participant.timeout: invalid Timeout",
            ),
            ("cps = 5\n[participant]\nbeep = \"loud\"\n", "invalid Beep"),
            (
                "cps = 5\n[participant]\ncoaching = true\n",
                "participant.call_sid_to_coach: invalid CallSidToCoach",
            ),
            ("cps = 5\n[participant]\nno_such = 1\n", "no_such"),
            ("cps = 5\n[retry]\ninitial = \"soon\"\n", "retry.initial"),
            (
                "cps = 5\n[retry]\ncall_log_grace = \"later\"\n",
                "retry.call_log_grace",
            ),
            (
                "cps = 5\n[retry]\noutage_limit = \"soon\"\n",
                "retry.outage_limit",
            ),
            ("cps = 5\ncolour = \"red\"\n", "colour"),
            (
                "cps = 5\ndefault_region = \"UK\"\n",
                "campaign.default_region \"UK\" is not a country",
            ),
            (
                "cps = 5\ndefault_region = \"USA\"\n",
                "campaign.default_region must be a two-letter ISO 3166 country code",
            ),
            (
                "cps = 5\n[participant]\nsip_auth_password = \"hunter2\"\n",
                "participant.sip_auth_password is a credential: set DIALER_SIP_AUTH_PASSWORD",
            ),
        ] {
            let err = load(&format!("{BASE}{extra}")).unwrap_err().to_string();
            assert!(err.contains(want), "{extra:?}: {err}");
        }
    }

    #[test]
    fn participant_defaults_accept_lists_numbers_and_booleans() {
        let c = load(&format!(
            "{BASE}cps = 5\n[participant]\nstatus_callback_event = [\"initiated\", \"completed\"]\ntimeout = 20\nrecord = true\n[retry]\ninitial = \"200ms\"\n"
        ))
        .unwrap();
        assert_eq!(c.defaults.timeout.map(|t| t.get()), Some(20));
        assert_eq!(c.defaults.record, Some(true));
        assert_eq!(c.retry.initial, Duration::from_millis(200));
    }
}
