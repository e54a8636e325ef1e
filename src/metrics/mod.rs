//! The process's metrics, in Prometheus' text format: what an on-call engineer graphs and
//! alerts on. One registry per process, whatever the number of campaigns it runs; every
//! series is labelled with its campaign and account SID, never with a phone number.
//!
//! A run feeds them through its [`Progress`](crate::dialing::progress::Progress), the
//! callback receiver and the pollers through their `Recorder`; `exposition` serves them
//! (`GET /metrics`) or writes them to a file for node_exporter's textfile collector. A
//! worker adds each campaign's `health`; a served `/metrics` adds the `process`'s series.

pub mod exposition;
pub mod health;
mod process;

use crate::domain::{AccountSid, CallStatus, Cps, RowState};
use crate::store::{Outcome, StateCounts};
use prometheus::core::Collector;
use prometheus::{
    GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};

/// The labels every series has.
const CAMPAIGN_LABELS: [&str; 2] = ["campaign", "account_sid"];

/// queue_time buckets, in seconds: under a second is a paced account, minutes is one far
/// over its real CPS.
const QUEUE_TIME_BUCKETS: [f64; 12] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

struct Families {
    registry: Registry,
    calls_created: IntCounterVec,
    create_requests: IntCounterVec,
    queue_time: HistogramVec,
    in_flight: IntGaugeVec,
    pacing_rate: GaugeVec,
    twilio_reachable: IntGaugeVec,
    cps: GaugeVec,
    rows: IntGaugeVec,
    callbacks: IntCounterVec,
    call_outcomes: IntCounterVec,
    host_clock_ahead: GaugeVec,
}

static FAMILIES: LazyLock<Families> = LazyLock::new(Families::register);

impl Families {
    fn register() -> Self {
        let registry = Registry::new();
        let with = |extra: &[&'static str]| -> Vec<&'static str> {
            CAMPAIGN_LABELS.iter().chain(extra).copied().collect()
        };
        // The names and labels below are constants: a failure is a bug, found by any test.
        let counter = |name: &str, help: &str, extra: &[&'static str]| {
            registered(
                &registry,
                IntCounterVec::new(Opts::new(name, help), &with(extra)),
            )
        };
        let int_gauge = |name: &str, help: &str, extra: &[&'static str]| {
            registered(
                &registry,
                IntGaugeVec::new(Opts::new(name, help), &with(extra)),
            )
        };
        let gauge = |name: &str, help: &str| {
            registered(&registry, GaugeVec::new(Opts::new(name, help), &with(&[])))
        };
        let queue_time = registered(
            &registry,
            HistogramVec::new(
                HistogramOpts::new(
                    "dialer_queue_time_seconds",
                    "How long Twilio queued each created call before dialing it (its queue_time).",
                )
                .buckets(QUEUE_TIME_BUCKETS.to_vec()),
                &with(&[]),
            ),
        );
        Self {
            calls_created: counter(
                "dialer_calls_created_total",
                "Calls Twilio created, by a create request or found after an unknown outcome.",
                &[],
            ),
            create_requests: counter(
                "dialer_create_requests_total",
                "Create Participant requests answered, by outcome (created, retry, failed, unknown) and Twilio error code.",
                &["outcome", "code"],
            ),
            queue_time,
            in_flight: int_gauge(
                "dialer_requests_in_flight",
                "Create Participant requests sent and not yet answered.",
                &[],
            ),
            pacing_rate: gauge(
                "dialer_pacing_rate",
                "Create requests per second the pacer allows now: the CPS, or less while Twilio queues calls.",
            ),
            twilio_reachable: int_gauge(
                "dialer_twilio_reachable",
                "1 while Twilio answers, 0 while an outage holds every request (the breaker is open).",
                &[],
            ),
            cps: gauge(
                "dialer_cps_configured",
                "The campaign's calls-per-second limit.",
            ),
            rows: int_gauge(
                "dialer_rows",
                "List lines by state (rejected: refused at import).",
                &["state"],
            ),
            callbacks: counter(
                "dialer_callbacks_total",
                "Status callbacks received, by result (accepted, duplicate, forged, malformed, too_large, too_slow).",
                &["result"],
            ),
            call_outcomes: counter(
                "dialer_call_outcomes_total",
                "Calls that reached a final status, by status.",
                &["status"],
            ),
            host_clock_ahead: gauge(
                "dialer_host_clock_ahead_seconds",
                "This host's wall clock minus Twilio's (read from the Date header of Twilio's answers); dialer goes by Twilio's and the database's clocks, not by this one.",
            ),
            registry,
        }
    }
}

fn registered<C: Collector + Clone + 'static>(
    registry: &Registry,
    family: prometheus::Result<C>,
) -> C {
    let family = family.expect("a valid metric family");
    registry
        .register(Box::new(family.clone()))
        .expect("each family registered once");
    family
}

/// What became of a status callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackResult {
    /// Signed by Twilio and recorded (news or not).
    Accepted,
    /// The same event was recorded before.
    Duplicate,
    /// No valid signature.
    Forged,
    Malformed,
    TooLarge,
    TooSlow,
    /// Signed by Twilio, but another campaign's call, or not the call its token names.
    Stray,
}

impl CallbackResult {
    fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Duplicate => "duplicate",
            Self::Forged => "forged",
            Self::Malformed => "malformed",
            Self::TooLarge => "too_large",
            Self::TooSlow => "too_slow",
            Self::Stray => "stray",
        }
    }
}

/// The metrics of one campaign on one account: cheap to clone.
#[derive(Debug, Clone)]
pub struct CampaignMetrics {
    labels: Arc<[String; 2]>,
    cps: f64,
}

impl CampaignMetrics {
    /// A campaign that dials: its dialing series exist from the start.
    pub fn new(campaign: &str, account: &AccountSid, cps: Cps) -> Self {
        let metrics = Self {
            labels: Arc::new([campaign.to_owned(), account.as_str().to_owned()]),
            cps: f64::from(cps.get().get()),
        };
        let families = &*FAMILIES;
        families
            .cps
            .with_label_values(&metrics.own())
            .set(metrics.cps);
        metrics.pacing_rate(None);
        metrics.twilio_reachable(true);
        // Every series a dashboard divides by exists from the start, at zero.
        families.in_flight.with_label_values(&metrics.own());
        families.calls_created.with_label_values(&metrics.own());
        families.queue_time.with_label_values(&metrics.own());
        metrics
    }

    /// A campaign whose calls' outcomes this process receives and does not dial (`dialer
    /// serve`): it exports what it measures, never a dialing series (a pacing rate, no calls
    /// created) that a dashboard would add to the runs' own.
    pub fn receiving(campaign: &str, account: &AccountSid) -> Self {
        let metrics = Self {
            labels: Arc::new([campaign.to_owned(), account.as_str().to_owned()]),
            // Read only by `pacing_rate`, which a receiver never sets.
            cps: 0.0,
        };
        FAMILIES
            .callbacks
            .with_label_values(&metrics.and(&[CallbackResult::Accepted.as_str()]));
        metrics
    }

    fn own(&self) -> [&str; 2] {
        [&self.labels[0], &self.labels[1]]
    }

    fn and<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        self.own()
            .into_iter()
            .chain(extra.iter().copied())
            .collect()
    }

    /// The answer to one create request.
    pub fn answered(&self, outcome: &Outcome) {
        let families = &*FAMILIES;
        let code = outcome.code().map(|c| c.to_string()).unwrap_or_default();
        families
            .create_requests
            .with_label_values(&self.and(&[outcome.kind().as_str(), &code]))
            .inc();
        if let Outcome::Created { queue_time_ms, .. } = outcome {
            self.found_created();
            if let Some(ms) = queue_time_ms {
                families
                    .queue_time
                    .with_label_values(&self.own())
                    .observe(*ms as f64 / 1000.0);
            }
        }
    }

    /// A call created, found at Twilio after an unknown outcome (or by its request).
    pub fn found_created(&self) {
        FAMILIES.calls_created.with_label_values(&self.own()).inc();
    }

    pub fn in_flight(&self, requests: u64) {
        FAMILIES
            .in_flight
            .with_label_values(&self.own())
            .set(i64::try_from(requests).unwrap_or(i64::MAX));
    }

    /// The rate the pacer allows now: `held` below the CPS, or the CPS.
    pub fn pacing_rate(&self, held: Option<f64>) {
        FAMILIES
            .pacing_rate
            .with_label_values(&self.own())
            .set(held.unwrap_or(self.cps));
    }

    /// Whether Twilio answers (0 while the breaker is open).
    pub fn twilio_reachable(&self, reachable: bool) {
        FAMILIES
            .twilio_reachable
            .with_label_values(&self.own())
            .set(i64::from(reachable));
    }

    /// Every state's count, read from the campaign's database.
    pub fn rows(&self, counts: &StateCounts) {
        let by_state = RowState::ALL
            .iter()
            .map(|state| (state.as_str(), counts.of(*state)))
            .chain([("rejected", counts.rejected)]);
        for (state, n) in by_state {
            FAMILIES
                .rows
                .with_label_values(&self.and(&[state]))
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }

    /// How far this host's wall clock is ahead of Twilio's (ms), once measured.
    pub fn host_clock_ahead(&self, ms: Option<i64>) {
        if let Some(ms) = ms {
            FAMILIES
                .host_clock_ahead
                .with_label_values(&self.own())
                .set(ms as f64 / 1000.0);
        }
    }

    pub fn callback(&self, result: CallbackResult) {
        FAMILIES
            .callbacks
            .with_label_values(&self.and(&[result.as_str()]))
            .inc();
    }

    /// A call reached its final status (counted once per call).
    pub fn call_ended(&self, status: CallStatus) {
        FAMILIES
            .call_outcomes
            .with_label_values(&self.and(&[status.as_str()]))
            .inc();
    }
}

/// Set once something reads this process's metrics (a `/metrics` route, a metrics file).
static EXPORTED: AtomicBool = AtomicBool::new(false);

/// Whether anything reads the metrics: what is measured only for them (the rows' counts,
/// a query every few seconds) is skipped otherwise.
pub fn exported() -> bool {
    EXPORTED.load(Ordering::Relaxed)
}

fn mark_exported() {
    EXPORTED.store(true, Ordering::Relaxed);
}

/// Every series of this process, in Prometheus' text format.
pub fn render() -> String {
    let families = FAMILIES.registry.gather();
    prometheus::TextEncoder::new()
        .encode_to_string(&families)
        .unwrap_or_else(|e| format!("# could not encode the metrics: {e}\n"))
}

/// The content type of [`render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
