//! Why a list line has no call, as one sentence: the same words in the report and the export,
//! so that both answer "why was this person not called?" alike, with the time a held row
//! waits for. And a row's requeues, as one sentence of its history.

use crate::compliance::schedule::{Hours, Schedule};
use crate::config::rules::Rules;
use crate::domain::{CampaignStatus, Hold, LineState, RowState};
use crate::store::{RowExport, RowGroup, Store, StoreError};
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// What a row's reason depends on besides the row: whether the campaign is paused, what time
/// it is (a hold that has ended is no longer a reason), the zone of the campaign's calling
/// window, in which an opening is told for a row without a zone of its own, and the hours
/// that bind each row (which one holds it back is named).
#[derive(Debug, Clone)]
pub struct Circumstances {
    pub status: CampaignStatus,
    pub now_ms: i64,
    pub window_zone: Option<TimeZone>,
    pub schedule: Option<Schedule>,
}

impl Circumstances {
    /// The campaign's status and the time now, from its database; `rules`: the campaign's.
    pub async fn read(store: &Store, rules: Option<&Rules>) -> Result<Self, StoreError> {
        Ok(Self {
            status: store.campaign_status().await?,
            now_ms: store.now_ms(),
            window_zone: rules
                .and_then(|r| r.window.as_ref())
                .map(|w| w.timezone.clone()),
            schedule: rules.map(|r| Schedule::new(r.window.clone(), r.law)),
        })
    }

    /// "waiting for the calling window", "waiting for Florida's telemarketing hours": the
    /// hours that hold `row` back now.
    fn waiting_for(&self, row: &RowExport) -> String {
        let group = RowGroup {
            zones: row.timezone.clone(),
            jurisdictions: row.jurisdictions.clone(),
        };
        let now = Timestamp::from_millisecond(self.now_ms).unwrap_or(Timestamp::UNIX_EPOCH);
        match self.schedule.as_ref().map(|s| s.now(&group, now)) {
            Some(Hours::Closed { rule, .. } | Hours::Never { rule }) => rule.waiting_for(),
            _ => "waiting for the calling window".to_owned(),
        }
    }

    /// The hold a pending row waits for and until when, if it has not ended.
    fn hold(&self, row: &RowExport) -> Option<(Hold, i64)> {
        let until = row.next_attempt_at.filter(|at| *at > self.now_ms)?;
        Some((row.held_by?, until))
    }

    /// `at` on the callee's clock (their first zone, else the window's): RFC 3339 with offset.
    fn callee_time(&self, row: &RowExport, at: i64) -> String {
        let zone = row
            .timezone
            .as_ref()
            .and_then(|zones| zones.zones().first().cloned())
            .or_else(|| self.window_zone.clone())
            .unwrap_or(TimeZone::UTC);
        zoned(at, zone)
    }
}

/// Unix ms on `zone`'s clock, RFC 3339 with its offset: `2026-12-05T08:00:00-08:00`.
pub(super) fn zoned(at: i64, zone: TimeZone) -> String {
    match Timestamp::from_millisecond(at) {
        Ok(at) => at
            .to_zoned(zone)
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string(),
        Err(_) => at.to_string(),
    }
}

/// `None` for a line whose call was created.
pub fn why_not_created(row: &RowExport, now: &Circumstances) -> Option<String> {
    let reason = held_or_not_created(row, now)?;
    let pending = row.state == LineState::Row(RowState::Pending);
    Some(match now.status {
        // What it waits for once resumed, if anything.
        CampaignStatus::Paused if pending && reason != PAUSED => format!("{PAUSED}; {reason}"),
        _ => reason,
    })
}

const PAUSED: &str = "paused";

fn held_or_not_created(row: &RowExport, now: &Circumstances) -> Option<String> {
    let last_error = || describe_error(row.last_error_code, row.reason.as_deref());
    let reason = match row.state {
        LineState::Row(RowState::Created) => return None,
        LineState::Rejected => match row.duplicate_of {
            Some(first) => format!("duplicate of line {first}"),
            None => format!(
                "rejected at import: {}",
                row.reason.as_deref().unwrap_or("no reason recorded")
            ),
        },
        LineState::Row(RowState::Failed) => format!("failed: {}", last_error()),
        LineState::Row(RowState::Unknown) => {
            match row.next_attempt_at.filter(|at| *at > now.now_ms) {
                Some(at) => format!(
                    "unknown: {} (in doubt: checked again at {})",
                    last_error(),
                    utc(at).unwrap_or_else(|| at.to_string())
                ),
                None => format!(
                    "unknown: {} (checked with Twilio on the next run)",
                    last_error()
                ),
            }
        }
        LineState::Row(RowState::Dialing) => {
            "being dialed; if no run is in progress, the last one stopped before the answer \
                      (checked with Twilio on the next run)"
                .to_owned()
        }
        // Put back by `dialer campaign requeue` and not tried since.
        LineState::Row(RowState::Pending) if row.requeued_attempts == Some(row.attempts) => {
            "requeued, not dialed again yet".to_owned()
        }
        LineState::Row(RowState::Pending) if row.attempts > 0 => {
            let plural = if row.attempts == 1 { "" } else { "s" };
            format!(
                "waiting for retry after {} attempt{plural}: {}",
                row.attempts,
                last_error()
            )
        }
        // Held back before it was sent: by a calling window, or the frequency cap.
        LineState::Row(RowState::Pending) => match now.hold(row) {
            Some((Hold::Window, until)) => format!(
                "{}: opens {}",
                now.waiting_for(row),
                now.callee_time(row, until)
            ),
            Some((Hold::FrequencyCap, until)) => format!(
                "held back by the frequency cap until {}",
                now.callee_time(row, until)
            ),
            None if now.status == CampaignStatus::Paused => PAUSED.to_owned(),
            // A hold that has ended, or one stored before holds were kept.
            None if row.held_by.is_some() => "not dialed yet".to_owned(),
            None => not_dialed_yet(row),
        },
        LineState::Row(RowState::Suppressed) => format!(
            "suppressed: {}",
            row.reason.as_deref().unwrap_or("on a do-not-call list")
        ),
        LineState::Row(RowState::Canceled) => "canceled: the campaign was canceled".to_owned(),
    };
    Some(reason)
}

fn not_dialed_yet(row: &RowExport) -> String {
    match row.reason.as_deref() {
        Some(why) => format!("not dialed yet: {why}"),
        None => "not dialed yet".to_owned(),
    }
}

/// "requeued by `dialer campaign requeue` at TIME, was failed: REASON" (the last requeue, and
/// how many when more than one); `None` for a row never put back.
pub fn requeue_history(row: &RowExport) -> Option<String> {
    let at = row.requeued_at?;
    let times = match row.requeues {
        1 => String::new(),
        n => format!(" {n} times, last"),
    };
    let at = utc(at).unwrap_or_else(|| at.to_string());
    let was = describe_error(row.requeued_code, row.requeued_message.as_deref());
    Some(format!(
        "requeued{times} by `dialer campaign requeue` at {at}, was failed: {was}"
    ))
}

/// "error 21211: Invalid 'To' Phone Number"; Twilio's messages as stored often name their code already.
pub fn describe_error(code: Option<i64>, message: Option<&str>) -> String {
    let message = message.filter(|m| !m.is_empty());
    match (code, message) {
        (Some(code), Some(message)) if message.contains(&format!("error {code}")) => {
            message.to_owned()
        }
        (Some(code), Some(message)) => format!("error {code}: {message}"),
        (Some(code), None) => format!("error {code}"),
        (None, Some(message)) => message.to_owned(),
        (None, None) => "no error recorded".to_owned(),
    }
}

/// Unix ms as RFC 3339 UTC, to the second.
pub(super) fn utc(ms: i64) -> Option<String> {
    let at = jiff::Timestamp::from_millisecond(ms).ok()?;
    Some(at.round(jiff::Unit::Second).unwrap_or(at).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CalleeZones;

    const NOW: i64 = 1_796_457_600_000; // 2026-12-05T08:00:00Z

    fn pending(held_by: Option<Hold>, next_attempt_at: i64) -> RowExport {
        RowExport {
            line: 2,
            to: "+14155550100".into(),
            label: "r0".into(),
            state: LineState::Row(RowState::Pending),
            attempts: 0,
            call_sid: None,
            queue_time_ms: None,
            last_error_code: None,
            reason: None,
            duplicate_of: None,
            call_status: None,
            answered_by: None,
            duration_secs: None,
            requeues: 0,
            requeued_at: None,
            requeued_attempts: None,
            requeued_code: None,
            requeued_message: None,
            next_attempt_at: Some(next_attempt_at),
            held_by,
            timezone: Some(CalleeZones::from_stored("America/Los_Angeles")),
            jurisdictions: None,
        }
    }

    fn at(status: CampaignStatus) -> Circumstances {
        Circumstances {
            status,
            now_ms: NOW,
            window_zone: None,
            schedule: None,
        }
    }

    #[test]
    fn a_row_the_law_holds_names_the_jurisdiction_whose_hours_it_waits_for() {
        // Tuesday 2026-12-08, 20:30 in Miami: Florida's hours ended at 20:00.
        let ms = |at: &str| {
            let at: jiff::Zoned = at.parse().unwrap();
            at.timestamp().as_millisecond()
        };
        let evening = ms("2026-12-08T20:30[America/New_York]");
        let rules = crate::config::rules::Law {
            telemarketing: true,
            min_ring: None,
        };
        let now = Circumstances {
            now_ms: evening,
            schedule: Some(Schedule::new(None, rules)),
            ..at(CampaignStatus::Running)
        };
        let opens = ms("2026-12-09T08:00[America/New_York]");
        let miami = RowExport {
            timezone: Some(CalleeZones::from_stored("America/New_York")),
            jurisdictions: Some(crate::domain::Jurisdictions::parse("FL US").unwrap()),
            ..pending(Some(Hold::Window), opens)
        };

        assert_eq!(
            why_not_created(&miami, &now).as_deref(),
            Some("waiting for Florida's telemarketing hours: opens 2026-12-09T08:00:00-05:00")
        );
    }

    #[test]
    fn a_held_row_says_until_when_on_the_callee_s_clock_and_a_paused_one_says_paused() {
        let hour = 3_600_000;
        let running = at(CampaignStatus::Running);
        let paused = at(CampaignStatus::Paused);
        let window = pending(Some(Hold::Window), NOW + 8 * hour);
        let capped = pending(Some(Hold::FrequencyCap), NOW + hour);
        let ended = pending(Some(Hold::Window), NOW - hour);
        let mut in_doubt = pending(None, NOW + 60_000);
        in_doubt.state = LineState::Row(RowState::Unknown);
        in_doubt.reason = Some("the request timed out".into());

        let cases = [
            (
                &window,
                &running,
                "waiting for the calling window: opens 2026-12-05T08:00:00-08:00",
            ),
            (
                &capped,
                &running,
                "held back by the frequency cap until 2026-12-05T01:00:00-08:00",
            ),
            (&ended, &running, "not dialed yet"),
            (&ended, &paused, "paused"),
            (
                &window,
                &paused,
                "paused; waiting for the calling window: opens 2026-12-05T08:00:00-08:00",
            ),
            (
                &in_doubt,
                &running,
                "unknown: the request timed out (in doubt: checked again at 2026-12-05T08:01:00Z)",
            ),
        ];

        for (row, now, said) in cases {
            assert_eq!(why_not_created(row, now).as_deref(), Some(said));
        }
    }

    #[test]
    fn an_error_code_is_named_once() {
        let stored = "error 21211: Invalid 'To' Phone Number (HTTP 400)";

        assert_eq!(describe_error(Some(21211), Some(stored)), stored);
        assert_eq!(
            describe_error(Some(21211), Some("Invalid")),
            "error 21211: Invalid"
        );
        assert_eq!(describe_error(Some(21211), Some("")), "error 21211");
        assert_eq!(describe_error(None, None), "no error recorded");
    }
}
