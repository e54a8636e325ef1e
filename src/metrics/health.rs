//! A worker's health, per campaign: whether it is dialing (or idle, waiting for work) or
//! failing, why it failed how often, and how its last run ended. What an on-call engineer
//! alerts on (`dialer_campaign_up == 0`) when a worker cannot work: its process is up, so
//! nothing else would say so.

use super::{FAMILIES, registered};
use prometheus::{GaugeVec, IntCounterVec, IntGaugeVec, Opts};
use std::sync::{Arc, LazyLock};

/// Why a campaign's pass failed: a small fixed set, so that the label stays bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Twilio refused the account's credentials (401/403).
    CredentialsRefused,
    /// Twilio could not be reached.
    TwilioUnreachable,
    /// The campaign file, or a file it names (list, credentials, suppression), does not load.
    CampaignFile,
    /// The campaign database could not be opened, read or written.
    Database,
    Other,
}

impl Failure {
    pub const ALL: [Self; 5] = [
        Self::CredentialsRefused,
        Self::TwilioUnreachable,
        Self::CampaignFile,
        Self::Database,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CredentialsRefused => "credentials_refused",
            Self::TwilioUnreachable => "twilio_unreachable",
            Self::CampaignFile => "campaign_file",
            Self::Database => "database",
            Self::Other => "other",
        }
    }
}

struct Families {
    up: IntGaugeVec,
    failures: IntCounterVec,
    last_run_end: GaugeVec,
    last_run_exit_code: IntGaugeVec,
}

/// Registered on first use: only a worker has them.
static HEALTH: LazyLock<Families> = LazyLock::new(|| {
    let registry = &FAMILIES.registry;
    let labels = |extra: &[&'static str]| -> Vec<&'static str> {
        super::CAMPAIGN_LABELS
            .iter()
            .chain(extra)
            .copied()
            .collect()
    };
    let opts = Opts::new;
    Families {
        up: registered(
            registry,
            IntGaugeVec::new(
                opts(
                    "dialer_campaign_up",
                    "1 while the worker dials the campaign or waits for work, 0 while its passes fail.",
                ),
                &labels(&[]),
            ),
        ),
        failures: registered(
            registry,
            IntCounterVec::new(
                opts(
                    "dialer_campaign_failures_total",
                    "The campaign's failed passes, by reason (credentials_refused, twilio_unreachable, campaign_file, database, other).",
                ),
                &labels(&["reason"]),
            ),
        ),
        last_run_end: registered(
            registry,
            GaugeVec::new(
                opts(
                    "dialer_campaign_last_run_end_timestamp_seconds",
                    "When the campaign's last recorded run ended, in seconds since the Unix epoch.",
                ),
                &labels(&[]),
            ),
        ),
        last_run_exit_code: registered(
            registry,
            IntGaugeVec::new(
                opts(
                    "dialer_campaign_last_run_exit_code",
                    "The exit code recorded for the campaign's last run (as `dialer run` would exit).",
                ),
                &labels(&[]),
            ),
        ),
    }
});

/// One campaign's health in a worker: up from its first pass, down from a failed pass until
/// a pass ends well. Its labels are the campaign's name and account as last
/// loaded (a file that never loaded is named after the file, on no account); when they change,
/// the series of the old ones go.
#[derive(Debug, Default)]
pub struct CampaignHealth {
    labels: Option<Arc<[String; 2]>>,
}

impl CampaignHealth {
    /// The campaign is now `campaign` on `account` (`""` while unknown).
    pub fn name(&mut self, campaign: &str, account: &str) {
        let fresh = [campaign.to_owned(), account.to_owned()];
        if self.labels.as_deref() == Some(&fresh) {
            return;
        }
        if let Some(old) = self.labels.take() {
            self.forget(&old);
        }
        let families = &*HEALTH;
        let own = [fresh[0].as_str(), fresh[1].as_str()];
        // Every reason exists from the start, at zero, for `increase()` to see the first.
        for reason in Failure::ALL {
            families
                .failures
                .with_label_values(&[own[0], own[1], reason.as_str()]);
        }
        // Up until a pass fails: a campaign is dialing or waiting for work from the start.
        families.up.with_label_values(&own).set(1);
        self.labels = Some(Arc::new(fresh));
    }

    /// Whether the campaign has a name yet.
    pub fn is_named(&self) -> bool {
        self.labels.is_some()
    }

    /// The campaign's name, as its series have it (`""` before any).
    pub fn campaign(&self) -> &str {
        self.labels.as_ref().map_or("", |l| l[0].as_str())
    }

    fn own(&self) -> Option<[&str; 2]> {
        self.labels.as_ref().map(|l| [l[0].as_str(), l[1].as_str()])
    }

    /// A pass dialed, or found nothing to dial.
    pub fn working(&self) {
        if let Some(own) = self.own() {
            HEALTH.up.with_label_values(&own).set(1);
        }
    }

    /// A pass failed.
    pub fn failed(&self, reason: Failure) {
        if let Some([campaign, account]) = self.own() {
            let families = &*HEALTH;
            families.up.with_label_values(&[campaign, account]).set(0);
            families
                .failures
                .with_label_values(&[campaign, account, reason.as_str()])
                .inc();
        }
    }

    /// A run ended now, recorded with this exit code.
    pub fn run_ended(&self, exit_code: i32) {
        if let Some(own) = self.own() {
            let families = &*HEALTH;
            let now = jiff::Timestamp::now().as_millisecond() as f64 / 1000.0;
            families.last_run_end.with_label_values(&own).set(now);
            families
                .last_run_exit_code
                .with_label_values(&own)
                .set(i64::from(exit_code));
        }
    }

    fn forget(&self, old: &[String; 2]) {
        let families = &*HEALTH;
        let own = [old[0].as_str(), old[1].as_str()];
        let _ = families.up.remove_label_values(&own);
        let _ = families.last_run_end.remove_label_values(&own);
        let _ = families.last_run_exit_code.remove_label_values(&own);
        for reason in Failure::ALL {
            let _ = families
                .failures
                .remove_label_values(&[own[0], own[1], reason.as_str()]);
        }
    }
}
