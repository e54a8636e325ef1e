//! The campaign file (TOML): parsed and checked in full before anything is dialed.
//! Relative paths resolve against the file's own folder, since cron runs elsewhere.

mod database;
mod fields;
mod participant;
mod retry;
pub mod rules;

use database::DatabaseSection;
pub use database::{DatabaseEnv, move_target};
pub use retry::RetryPolicy;

use crate::domain::{Caller, ConferenceTarget, Cps, Invalid, Region, deserialize_duration};
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
    /// A value serde refused while reading the file, at its key path (`campaign.cps`).
    #[error("{path}: {key} {rule}{}", at_line(*line))]
    Value {
        path: String,
        key: String,
        rule: String,
        line: Option<usize>,
    },
    /// A rule over several keys, the environment or the file's folder, at the key it names.
    #[error("{path}: {key} {rule}")]
    Invalid {
        path: String,
        key: String,
        rule: Invalid,
    },
    /// A command-line argument, or the variable standing in for it.
    #[error("{key} {rule}")]
    Argument { key: &'static str, rule: Invalid },
    #[error("{path}: participant.{}: {cause}", participant::key(&cause.param))]
    Param { path: String, cause: ParamError },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CampaignFile {
    campaign: CampaignSection,
    #[serde(default)]
    participant: toml::Table,
    #[serde(default)]
    retry: RetryPolicy,
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
    frequency: rules::FrequencySection,
    #[serde(default)]
    suppression: rules::SuppressionSection,
    #[serde(default)]
    pacing: rules::PacingSection,
    #[serde(default)]
    law: rules::LawSection,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CampaignSection {
    #[serde(deserialize_with = "fields::not_blank")]
    name: String,
    list: PathBuf,
    conference: ConferenceTarget,
    from: Caller,
    cps: Cps,
    #[serde(
        default = "fields::default_max_attempts",
        deserialize_with = "fields::max_attempts"
    )]
    max_attempts: u32,
    #[serde(
        default = "fields::default_max_in_flight",
        deserialize_with = "fields::max_in_flight"
    )]
    max_in_flight: usize,
    /// ISO 3166 alpha-2: the country the list's national numbers are read in.
    default_region: Option<Region>,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct TwilioSection {
    api_base: Option<url::Url>,
    /// A KEY=VALUE file with TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN (or API key and secret).
    credentials_file: Option<PathBuf>,
    #[serde(deserialize_with = "deserialize_duration")]
    request_timeout: Duration,
}

impl Default for TwilioSection {
    fn default() -> Self {
        Self {
            api_base: None,
            credentials_file: None,
            request_timeout: Duration::from_secs(15),
        }
    }
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

    /// The file's values arrive typed (serde, see `fields`); what is left here needs more than
    /// one key, the environment, or the file's folder.
    pub fn load_with(path: &Path, env: &DatabaseEnv) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let file = read(path, &shown)?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let invalid = |key: &str, rule: Invalid| ConfigError::Invalid {
            path: shown.clone(),
            key: key.into(),
            rule,
        };
        let mut defaults = participant::defaults(&file.participant, &shown)?;
        let twilio = file.twilio;
        let lease = file
            .database
            .lease(twilio.request_timeout)
            .map_err(|rule| invalid("database.lease", rule))?;
        let c = file.campaign;
        // The stem from the name as written (`fields::not_blank` says why).
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
            law: file.law,
        }
        .parse(&dir)
        .map_err(|(key, rule)| invalid(&key, rule))?;
        if let Some(timeout) = defaults.timeout {
            rules
                .law
                .check_ring(timeout.get())
                .map_err(|rule| invalid("participant.timeout", rule))?;
        }
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
            conference: c.conference,
            from: c.from,
            cps: c.cps,
            max_attempts: c.max_attempts,
            max_in_flight: c.max_in_flight,
            default_region: c.default_region,
            defaults,
            retry: file.retry,
            database,
            lease,
            api_base: twilio.api_base,
            credentials_file: twilio.credentials_file.map(|p| dir.join(p)),
            request_timeout: twilio.request_timeout,
            rules,
        })
    }
}

/// The file at `path`, every value typed; a refused value is reported at its key.
fn read(path: &Path, shown: &str) -> Result<CampaignFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
        path: shown.to_owned(),
        cause,
    })?;
    let syntax = |cause| ConfigError::Syntax {
        path: shown.to_owned(),
        cause,
    };
    let document = toml::Deserializer::parse(&text).map_err(syntax)?;
    // toml's message shows the line but not the key; the key path is what a reader looks for.
    serde_path_to_error::deserialize(document).map_err(|e| {
        let key = e.path().to_string();
        let cause = e.into_inner();
        if key == "." {
            return syntax(cause);
        }
        let line = cause.span().map(|span| {
            let before = &text.as_bytes()[..span.start.min(text.len())];
            before.iter().filter(|&&b| b == b'\n').count() + 1
        });
        ConfigError::Value {
            path: shown.to_owned(),
            key,
            rule: in_words(cause.message()),
            line,
        }
    })
}

/// serde's message in the words of a campaign file: `expected i64` names a Rust type, where
/// the reader wants to know that `cps = "30"` needs no quotes.
fn in_words(message: &str) -> String {
    const TYPES: [(&str, &str); 5] = [
        ("expected i64", "expected a whole number, without quotes"),
        ("expected u64", "expected a whole number, without quotes"),
        ("expected u32", "expected a whole number, without quotes"),
        ("expected usize", "expected a whole number, without quotes"),
        ("expected f64", "expected a number, without quotes"),
    ];
    TYPES
        .iter()
        .find_map(|(rust, words)| {
            message
                .strip_suffix(rust)
                .map(|before| format!("{before}{words}"))
        })
        .unwrap_or_else(|| message.to_owned())
}

/// Where a refused value stands, when toml knows.
fn at_line(line: Option<usize>) -> String {
    line.map(|n| format!(" (line {n})")).unwrap_or_default()
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
            (
                "cps = \"30\"\n",
                "campaign.cps invalid type: string \"30\", expected a whole number, without quotes",
            ),
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

    #[test]
    fn a_ring_under_15_seconds_is_refused_unless_the_campaign_lowers_the_floor_or_is_not_telemarketing()
     {
        let with = |extra: &str| {
            load(&format!(
                "{BASE}cps = 5\n[participant]\ntimeout = 10\n{extra}"
            ))
        };

        let err = with("").unwrap_err().to_string();
        let lowered = with("[law]\nmin_ring = \"5s\"\n").unwrap();
        let raised = with("[law]\nmin_ring = \"30s\"\n").unwrap_err().to_string();
        let alerts = with("[law]\ntelemarketing = false\n").unwrap();

        assert!(
            err.contains("participant.timeout rings 10 s, under 15 s: the Telemarketing Sales Rule's floor (16 CFR 310.4(b)(4)(ii)"),
            "{err}"
        );
        assert!(err.contains("set `[law] min_ring` to ring less"), "{err}");
        assert_eq!(lowered.rules.law.ring_floor(), Some(Duration::from_secs(5)));
        assert!(
            raised.contains("under 30 s: the campaign's `[law] min_ring`"),
            "{raised}"
        );
        assert_eq!(alerts.rules.law.ring_floor(), None);
        assert!(!alerts.rules.law.telemarketing);
        assert!(load(&format!("{BASE}cps = 5\n[participant]\ntimeout = 15\n")).is_ok());
    }

    #[test]
    fn a_refused_value_names_its_key_its_rule_and_its_line() {
        let err = load(&format!("{BASE}cps = 5\n[retry]\nmultiplier = 0.5\n"))
            .unwrap_err()
            .to_string();

        assert!(
            err.ends_with("c.toml: retry.multiplier must be from 1.0 to 10.0 (line 8)"),
            "{err}"
        );
    }

    #[test]
    fn bounded_values_take_their_edges_and_refuse_one_past_them() {
        let cases = [
            (
                "cps = 5\nmax_attempts = {}\n",
                1,
                100,
                "campaign.max_attempts must be from 1 to 100",
            ),
            (
                "cps = 5\nmax_in_flight = {}\n",
                1,
                100,
                "campaign.max_in_flight must be from 1 to 100",
            ),
            ("cps = {}\n", 1, 30, "campaign.cps must be"),
            (
                "cps = 5\n[frequency]\nwithin = \"24h\"\nmax_calls = {}\n",
                1,
                1000,
                "frequency.max_calls must be from 1 to 1000",
            ),
        ];
        for (extra, low, high, refusal) in cases {
            let with = |n: i64| load(&format!("{BASE}{}", extra.replace("{}", &n.to_string())));
            for n in [low, high] {
                assert!(with(n).is_ok(), "{extra:?} with {n}");
            }
            for n in [low - 1, high + 1, -1] {
                let err = with(n).unwrap_err().to_string();
                assert!(err.contains(refusal), "{extra:?} with {n}: {err}");
            }
        }
    }

    #[test]
    fn typed_sections_keep_their_values_and_their_defaults() {
        let c = load(&format!(
            "{BASE}cps = 5\n[twilio]\napi_base = \"http://127.0.0.1:9/\"\n\
             [database]\nlease = \"90s\"\n[frequency]\nmax_calls = 7\nwithin = \"168h\"\n"
        ))
        .unwrap();
        let plain = load(&format!("{BASE}cps = 5\n")).unwrap();

        assert_eq!(c.api_base.unwrap().as_str(), "http://127.0.0.1:9/");
        assert_eq!(c.lease, Duration::from_secs(90));
        let cap = c.rules.frequency[0];
        assert_eq!(
            (cap.max_calls, cap.within),
            (7, Duration::from_secs(7 * 86400))
        );
        assert_eq!(plain.request_timeout, Duration::from_secs(15));
        assert_eq!(plain.lease, Duration::from_secs(60));
        assert_eq!(plain.max_in_flight, 32);
        assert_eq!(plain.retry, RetryPolicy::default());
        assert_eq!(plain.retry.outage_limit, Some(Duration::from_secs(180)));
        assert!(plain.rules.frequency.is_empty());
    }

    #[test]
    fn several_frequency_caps_apply_at_once_and_each_is_checked_by_its_keys() {
        let both = load(&format!(
            "{BASE}cps = 5\n[[frequency]]\nmax_calls = 3\nwithin = \"24h\"\n\
             [[frequency]]\nmax_calls = 7\nwithin = \"7d\"\n"
        ))
        .unwrap();
        let refused = load(&format!(
            "{BASE}cps = 5\n[[frequency]]\nmax_calls = 3\nwithin = \"24h\"\n\
             [[frequency]]\nmax_calls = 0\nwithin = \"7d\"\n"
        ))
        .unwrap_err()
        .to_string();

        let spans: Vec<(u32, u64)> = both
            .rules
            .frequency
            .iter()
            .map(|cap| (cap.max_calls, cap.within.as_secs()))
            .collect();
        assert_eq!(spans, [(3, 86_400), (7, 7 * 86_400)]);
        assert!(
            refused.contains("max_calls must be from 1 to 1000"),
            "{refused}"
        );
    }

    #[test]
    fn a_name_is_trimmed_but_its_database_keeps_the_name_as_written() {
        let c = load("[campaign]\nname = \" spring \"\nlist = \"l.csv\"\nconference = \"Room\"\nfrom = \"+15017122661\"\ncps = 5\n").unwrap();
        let blank = load(&BASE.replace("\"c\"", "\"  \""))
            .unwrap_err()
            .to_string();

        assert_eq!(c.name, "spring");
        assert!(
            c.database
                .sqlite_file()
                .is_some_and(|p| p.ends_with("-spring-.sqlite"))
        );
        assert!(blank.contains("campaign.name must not be empty"), "{blank}");
    }
}
