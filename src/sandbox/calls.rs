//! The call log and conferences as Twilio shows them. Every created call stays in the log with
//! its final status, and a call still queued is listed by its creation date: a dialer that lost
//! a create's answer finds the call again by `To` and time, once the log shows it
//! (`--call-log-lag-ms` makes it show late, as Twilio's may).

use super::clock::TimeFilter;
use super::failure::{CODE_INVALID_PARAMETER, Failure};
use super::record::CallRecord;
use super::state::State;
use crate::domain::{CallSid, ConferenceSid};
use crate::twilio::Call;
use jiff::Timestamp;
use serde::Serialize;
use std::time::{Duration, Instant};

/// Twilio's conference resource (the fields a dialer reads).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ConferenceJson {
    pub sid: String,
    pub account_sid: String,
    pub friendly_name: String,
    pub status: &'static str,
    pub date_created: String,
    pub date_updated: String,
    pub api_version: &'static str,
    pub region: &'static str,
    pub reason_conference_ended: Option<&'static str>,
    pub uri: String,
}

/// Filters of List Calls. `StartTime` falls back to the creation date while a call is queued.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallFilter {
    to: Option<String>,
    from: Option<String>,
    status: Option<String>,
    start: Vec<(Bound, TimeFilter)>,
    end: Vec<(Bound, TimeFilter)>,
}

#[derive(Debug, Clone, Copy)]
enum Bound {
    AtOrAfter,
    AtOrBefore,
    On,
}

impl CallFilter {
    /// Reads the filter keys of a query; paging and unknown keys are left to others.
    pub fn from_query(pairs: &[(String, String)]) -> Result<Self, Failure> {
        let mut filter = Self::default();
        for (key, value) in pairs {
            let (name, bound) = match key.strip_suffix(['>', '<']) {
                Some(name) if key.ends_with('>') => (name, Bound::AtOrAfter),
                Some(name) => (name, Bound::AtOrBefore),
                None => (key.as_str(), Bound::On),
            };
            let time = || {
                TimeFilter::parse(value).ok_or_else(|| {
                    let message = format!(
                        "invalid {key}: must be YYYY-MM-DD or an RFC 3339 date-time, got {value:?}"
                    );
                    Failure::bad_request(CODE_INVALID_PARAMETER, message)
                })
            };
            match name {
                "To" => filter.to = Some(value.clone()),
                "From" => filter.from = Some(value.clone()),
                "Status" => filter.status = Some(value.clone()),
                "StartTime" => filter.start.push((bound, time()?)),
                "EndTime" => filter.end.push((bound, time()?)),
                _ => {}
            }
        }
        Ok(filter)
    }
}

fn within(bounds: &[(Bound, TimeFilter)], at: Option<Timestamp>) -> bool {
    bounds.iter().all(|(bound, filter)| {
        at.is_some_and(|t| match bound {
            Bound::AtOrAfter => filter.at_or_after(t),
            Bound::AtOrBefore => filter.at_or_before(t),
            Bound::On => filter.matches(t),
        })
    })
}

impl State {
    pub fn fetch_call(&self, sid: &str, now: Instant) -> Result<Call, Failure> {
        let sid = CallSid::parse(sid).map_err(|_| Failure::not_found())?;
        let index = *self.call_index.get(&sid).ok_or_else(Failure::not_found)?;
        Ok(self.call_json(&self.calls[index], now))
    }

    /// Matching calls, newest first as Twilio lists them; a call shows only `lag` after its
    /// creation.
    pub fn list_calls(&self, filter: &CallFilter, lag: Duration, now: Instant) -> Vec<Call> {
        let admits = |call: &CallRecord| {
            let timeline = &call.timeline;
            if timeline.created + lag > now {
                return false;
            }
            let started = timeline.start_time(now).unwrap_or(timeline.created);
            filter.from.as_ref().is_none_or(|from| *from == call.from)
                && filter
                    .status
                    .as_ref()
                    .is_none_or(|status| status == timeline.call_status(now))
                && within(&filter.start, Some(self.clock.wall(started)))
                && within(
                    &filter.end,
                    timeline.end_time(now).map(|end| self.clock.wall(end)),
                )
        };
        let render = |call: &CallRecord| admits(call).then(|| self.call_json(call, now));
        match &filter.to {
            Some(to) => self
                .calls_by_to
                .get(to)
                .map(|indices| {
                    indices
                        .iter()
                        .rev()
                        .filter_map(|&i| render(&self.calls[i]))
                        .collect()
                })
                .unwrap_or_default(),
            None => self.calls.iter().rev().filter_map(render).collect(),
        }
    }

    fn call_json(&self, call: &CallRecord, now: Instant) -> Call {
        let timeline = &call.timeline;
        let date = |at: Option<Instant>| at.map(|at| self.clock.rfc2822(at));
        Call {
            sid: Some(call.sid.clone()),
            account_sid: Some(self.account.to_string()),
            parent_call_sid: None,
            date_created: date(Some(timeline.created)),
            date_updated: date(Some(timeline.last_change(now).max(call.updated))),
            to: Some(call.to.clone()),
            from: Some(call.from.clone()),
            status: Some(timeline.call_status(now).to_owned()),
            start_time: date(timeline.start_time(now)),
            end_time: date(timeline.end_time(now)),
            duration: timeline.duration_secs(now).map(|secs| secs.to_string()),
            answered_by: call
                .answered_by
                .filter(|_| timeline.answered_at(now).is_some())
                .map(str::to_owned),
            queue_time: Some(call.queue_time_ms.to_string()),
            direction: Some("outbound-api".to_owned()),
            uri: Some(format!(
                "/2010-04-01/Accounts/{}/Calls/{}.json",
                self.account, call.sid
            )),
        }
    }

    pub fn fetch_conference(&mut self, sid: &str, now: Instant) -> Result<ConferenceJson, Failure> {
        let sid = ConferenceSid::parse(sid).map_err(|_| Failure::not_found())?;
        self.refresh_conference(&sid, now);
        let conference = self.conferences.get(&sid).ok_or_else(Failure::not_found)?;
        Ok(ConferenceJson {
            sid: sid.to_string(),
            account_sid: self.account.to_string(),
            friendly_name: conference.friendly_name.clone(),
            status: if conference.ended.is_some() {
                "completed"
            } else {
                "in-progress"
            },
            date_created: self.clock.rfc2822(conference.created),
            date_updated: self
                .clock
                .rfc2822(conference.ended.unwrap_or(conference.created)),
            api_version: "2010-04-01",
            region: "us1",
            reason_conference_ended: conference.ended.map(|_| "last-participant-left"),
            uri: format!(
                "/2010-04-01/Accounts/{}/Conferences/{sid}.json",
                self.account
            ),
        })
    }
}
