//! Was a call created although we never saw the answer? Every signal is asked before any
//! re-dial: a status callback that named the attempt (the receiver records it), the participant
//! by its label (Twilio lists only participants still in the conference), and the call log by
//! `To`, `From` and the attempt's start on Twilio's clock (one read answers for many rows). A
//! positive signal is final. Negative ones prove nothing until the call log has had time to show
//! the call (`retry.call_log_grace` after the answer was lost, since Twilio's lists are not
//! read-your-writes), or until it shows calls created well after the attempt: until then the
//! row stays in doubt.

pub(super) mod checks;

use super::breaker::Breaker;
use super::request::row_request;
use crate::config::Campaign;
use crate::domain::{CallSid, Caller, ConferenceSid, ConferenceTarget, Label, ParticipantId};
use crate::store::{Store, Unresolved};
use crate::twilio::{ApiError, CallLog, Disposition, TwilioClient};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Found {
        call_sid: CallSid,
        conference_sid: Option<ConferenceSid>,
    },
    NotCreated,
    /// No signal shows a call, but the call log may not show it yet: ask again at `at_ms`.
    NotYet {
        at_ms: i64,
    },
    /// Twilio answered with a transient error (429, 5xx): ask again shortly.
    Later {
        why: String,
        after: Option<std::time::Duration>,
    },
    /// Twilio could not be reached; the row stays unknown until the next run.
    Unreachable(String),
    /// The credentials were refused.
    Abort(String),
}

/// What one look (at our own records or at Twilio) says about the attempt in doubt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    Call {
        call_sid: CallSid,
        conference_sid: Option<ConferenceSid>,
    },
    NoCall,
    /// No such call, and the call log already shows calls created well after the attempt's
    /// answer was lost: the log has caught up past the attempt, so its silence is proof.
    Absent,
    /// The look could not be made.
    Failed(Failure),
}

/// Why a look could not be made, as it bears on the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Transient {
        why: String,
        after: Option<std::time::Duration>,
    },
    Unreachable(String),
    Refused(String),
}

/// When the answer of the attempt in doubt was lost, and when the call log is trusted to show
/// a call created before that (unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Doubt {
    pub lost_at_ms: i64,
    pub settled_at_ms: i64,
}

/// The shortest wait between two checks of one row while the call log catches up…
const MIN_RECHECK_MS: i64 = 1_000;
/// …and the longest: checks are reads of the call log shared by every row in doubt, and a
/// read that shows calls created after the attempt settles it long before the grace.
const MAX_RECHECK_MS: i64 = 10_000;

/// The decision. Any call seen is final. A look that failed leaves the row in doubt. Only
/// looks that all say "no call", made once the call log has settled (or by a log that already
/// shows calls created well after the attempt), prove that the attempt never took effect. Before that the row is checked again, each time after as long again as
/// it has been in doubt (5 s, 10 s, 20 s, …), so that a call the log shows late is found as
/// soon as it shows, and a create that took no effect costs a few lookups, not one a second.
pub fn verdict(signals: &[Signal], checked_at_ms: i64, doubt: Doubt) -> Resolution {
    let call = signals.iter().find_map(|signal| match signal {
        Signal::Call {
            call_sid,
            conference_sid,
        } => Some(Resolution::Found {
            call_sid: call_sid.clone(),
            conference_sid: conference_sid.clone(),
        }),
        _ => None,
    });
    if let Some(found) = call {
        return found;
    }
    let worst = signals
        .iter()
        .filter_map(|signal| match signal {
            Signal::Failed(failure) => Some(failure),
            _ => None,
        })
        .max_by_key(|failure| match failure {
            Failure::Transient { .. } => 0,
            Failure::Unreachable(_) => 1,
            Failure::Refused(_) => 2,
        });
    match worst {
        Some(Failure::Refused(why)) => Resolution::Abort(why.clone()),
        Some(Failure::Unreachable(why)) => Resolution::Unreachable(why.clone()),
        Some(Failure::Transient { why, after }) => Resolution::Later {
            why: why.clone(),
            after: *after,
        },
        None if signals.contains(&Signal::Absent) => Resolution::NotCreated,
        None if signals.is_empty() || checked_at_ms < doubt.settled_at_ms => {
            let in_doubt = (checked_at_ms - doubt.lost_at_ms).clamp(MIN_RECHECK_MS, MAX_RECHECK_MS);
            Resolution::NotYet {
                at_ms: (checked_at_ms + in_doubt).min(doubt.settled_at_ms),
            }
        }
        None => Resolution::NotCreated,
    }
}

/// When the attempt in doubt lost its answer, and when the call log is trusted to show it.
fn doubt_of(client: &TwilioClient, campaign: &Campaign, row: &Unresolved) -> Doubt {
    // A run stopped mid-request: its request could have reached Twilio until it timed out.
    let lost_at_ms = row
        .attempt_finished_at
        .unwrap_or(row.attempt_started_at + client.request_timeout().as_millis() as i64);
    Doubt {
        lost_at_ms,
        settled_at_ms: lost_at_ms + campaign.retry.call_log_grace.as_millis() as i64,
    }
}

/// The conference and caller of the row's request. A row whose request no longer builds (the
/// campaign file changed) has neither to trust: the call log by `To` alone still answers.
fn request_of(campaign: &Campaign, row: &Unresolved) -> Option<(ConferenceTarget, Option<Caller>)> {
    let own = row.params.as_ref().ok()?;
    let (conference, request) = row_request(campaign, &row.to, &row.label, own, None).ok()?;
    Some((conference, Some(request.from().clone())))
}

/// The call log shows a phone caller as dialed; other callers are matched by `To` alone.
fn phone_caller(caller: Option<&Caller>) -> Option<&str> {
    match caller {
        Some(caller @ Caller::Phone(_)) => Some(caller.as_str()),
        _ => None,
    }
}

/// The first look at a row in doubt, its own: a status callback that named the attempt, or
/// the participant by its label (a call still in the conference shows there at once, however
/// far behind the call log is). Without a call seen, the row waits for the next read of the
/// call log, which answers for every row in doubt at once.
pub async fn first_look(
    client: &TwilioClient,
    breaker: &Breaker,
    store: &Store,
    campaign: &Campaign,
    row: &Unresolved,
) -> Resolution {
    if let Some(call_sid) = &row.callback_call_sid {
        return Resolution::Found {
            call_sid: call_sid.clone(),
            conference_sid: None,
        };
    }
    let Some((conference, _)) = request_of(campaign, row) else {
        return Resolution::NotYet {
            at_ms: store.now_ms(),
        };
    };
    let now = store.now_ms();
    match verdict(
        &[by_label(client, breaker, store, &conference, &row.label).await],
        now,
        doubt_of(client, campaign, row),
    ) {
        // "Not in the conference" alone proves nothing: the call log is read next.
        Resolution::NotCreated => Resolution::NotYet { at_ms: now },
        resolution => resolution,
    }
}

/// How much of the call log is read at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogRead {
    /// Every call since the oldest attempt: it answers for many rows, and its later calls
    /// prove the log caught up.
    Stretch,
    /// Only the calls to one row's number: for a row far older than the others.
    Number,
}

/// Every row in `rows` judged by one read of the call log: a call to the row's number (from
/// its caller) created since its attempt started is its call. Rows the log does not show stay
/// in doubt until their grace has passed, or until the log shows later calls.
pub async fn by_call_log(
    client: &TwilioClient,
    breaker: &Breaker,
    store: &Store,
    campaign: &Campaign,
    rows: Vec<Unresolved>,
    read: LogRead,
) -> Vec<(Unresolved, Resolution)> {
    let callers: Vec<Option<Caller>> = rows
        .iter()
        .map(|row| request_of(campaign, row).and_then(|(_, caller)| caller))
        .collect();
    // One caller for every row (the usual campaign): the log is read for that caller only.
    let shared = phone_caller(callers.first().and_then(Option::as_ref)).filter(|first| {
        callers
            .iter()
            .all(|c| phone_caller(c.as_ref()) == Some(*first))
    });
    let oldest = rows.iter().map(|r| r.attempt_started_at).min().unwrap_or(0);
    let to = match (read, rows.as_slice()) {
        (LogRead::Number, [only]) => Some(&only.to),
        _ => None,
    };
    let log = CallLog::read(client, || store.now_ms(), to, shared, oldest).await;
    breaker.observe(&log);
    let now = store.now_ms();
    rows.into_iter()
        .zip(callers)
        .map(|(row, caller)| {
            let doubt = doubt_of(client, campaign, &row);
            let signal = match &log {
                Ok(log) => log
                    .call_to(
                        &row.to,
                        phone_caller(caller.as_ref()),
                        row.attempt_started_at,
                    )
                    .map_or_else(
                        || match log.caught_up_past(doubt.lost_at_ms) {
                            true => Signal::Absent,
                            false => Signal::NoCall,
                        },
                        |call_sid| Signal::Call {
                            call_sid,
                            conference_sid: None,
                        },
                    ),
                Err(e) => Signal::Failed(failure(e)),
            };
            let resolution = verdict(&[signal], now, doubt);
            (row, resolution)
        })
        .collect()
}

async fn by_label(
    client: &TwilioClient,
    breaker: &Breaker,
    store: &Store,
    conference: &ConferenceTarget,
    label: &Label,
) -> Signal {
    let sid = match conference {
        ConferenceTarget::Sid(sid) => Some(sid.clone()),
        ConferenceTarget::FriendlyName(name) => store.conference_sid(name).await.ok().flatten(),
    };
    // No conference SID known: no call of this campaign reached that conference yet.
    let Some(sid) = sid else {
        return Signal::NoCall;
    };
    let answer = client
        .fetch_participant(&sid, &ParticipantId::Label(label.clone()))
        .await;
    breaker.observe(&answer);
    match answer {
        Ok(p) => match p.call_sid {
            Some(call_sid) => Signal::Call {
                call_sid,
                conference_sid: Some(sid),
            },
            None => Signal::NoCall,
        },
        Err(e) if e.is_not_found() => Signal::NoCall,
        Err(e) => Signal::Failed(failure(&e)),
    }
}

fn failure(e: &ApiError) -> Failure {
    match (e, e.disposition()) {
        (_, Disposition::Abort) => Failure::Refused(e.to_string()),
        (ApiError::Connect { .. } | ApiError::Timeout(_) | ApiError::Dropped(_), _) => {
            Failure::Unreachable(e.to_string())
        }
        (_, Disposition::Retry { after }) => Failure::Transient {
            why: e.to_string(),
            after,
        },
        _ => Failure::Transient {
            why: e.to_string(),
            after: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::twilio::call_log::parse_rfc2822;

    #[test]
    fn twilio_dates_parse() {
        let t = parse_rfc2822("Fri, 18 Feb 2011 21:07:19 +0000").unwrap();
        assert_eq!(t.as_second(), 1_298_063_239);
        assert!(parse_rfc2822("yesterday").is_none());
    }

    const LOST: i64 = 1_000_000;
    const SETTLED: i64 = LOST + 120_000;
    const DOUBT: Doubt = Doubt {
        lost_at_ms: LOST,
        settled_at_ms: SETTLED,
    };

    fn call(sid: &str) -> Signal {
        Signal::Call {
            call_sid: CallSid::parse(sid).unwrap(),
            conference_sid: None,
        }
    }

    fn transient() -> Signal {
        Signal::Failed(Failure::Transient {
            why: "HTTP 503".into(),
            after: None,
        })
    }

    #[test]
    fn a_call_seen_anywhere_is_final_whatever_else_was_seen_and_whenever() {
        let sid = "CA00000000000000000000000000000001";
        for signals in [
            vec![call(sid)],
            vec![Signal::NoCall, call(sid)],
            vec![transient(), call(sid)],
            vec![
                Signal::Failed(Failure::Unreachable("refused".into())),
                call(sid),
            ],
        ] {
            for checked_at in [LOST + 100, SETTLED, SETTLED + 1] {
                assert_eq!(
                    verdict(&signals, checked_at, DOUBT),
                    Resolution::Found {
                        call_sid: CallSid::parse(sid).unwrap(),
                        conference_sid: None
                    },
                    "{signals:?} at {checked_at}"
                );
            }
        }
    }

    #[test]
    fn no_call_anywhere_proves_nothing_until_the_call_log_has_settled() {
        let nothing = [Signal::NoCall, Signal::NoCall];
        let next_check = |checked_at| match verdict(&nothing, checked_at, DOUBT) {
            Resolution::NotYet { at_ms } => Some(at_ms - LOST),
            _ => None,
        };

        // Asked again after as long again as the row has been in doubt, never past the grace.
        assert_eq!(next_check(LOST + 5_000), Some(10_000));
        assert_eq!(next_check(LOST + 10_000), Some(20_000));
        assert_eq!(
            next_check(LOST + 20_000),
            Some(30_000),
            "every 10 s at most"
        );
        assert_eq!(next_check(LOST + 115_000), Some(120_000));
        assert_eq!(
            next_check(LOST + 100),
            Some(1_100),
            "at least a second apart"
        );
        assert_eq!(next_check(SETTLED - 1), Some(120_000));
        assert_eq!(verdict(&nothing, SETTLED, DOUBT), Resolution::NotCreated);
        assert!(
            matches!(verdict(&[], SETTLED + 1, DOUBT), Resolution::NotYet { .. }),
            "no look at all is no proof"
        );
    }

    #[test]
    fn a_call_log_caught_up_past_the_attempt_proves_no_call_before_the_grace() {
        assert_eq!(
            verdict(&[Signal::Absent], LOST + 100, DOUBT),
            Resolution::NotCreated
        );
        assert!(matches!(
            verdict(&[Signal::Absent, transient()], LOST + 100, DOUBT),
            Resolution::Later { .. }
        ));
        assert!(matches!(
            verdict(
                &[Signal::Absent, call("CA00000000000000000000000000000001")],
                LOST,
                DOUBT
            ),
            Resolution::Found { .. }
        ));
    }

    #[test]
    fn a_look_that_failed_keeps_the_row_in_doubt_even_after_the_grace() {
        assert_eq!(
            verdict(&[Signal::NoCall, transient()], SETTLED + 1, DOUBT),
            Resolution::Later {
                why: "HTTP 503".into(),
                after: None
            }
        );
        let unreachable = Signal::Failed(Failure::Unreachable("connection refused".into()));
        assert_eq!(
            verdict(&[transient(), unreachable.clone()], SETTLED + 1, DOUBT),
            Resolution::Unreachable("connection refused".into())
        );
        let refused = Signal::Failed(Failure::Refused("HTTP 401".into()));
        assert_eq!(
            verdict(&[unreachable, refused, Signal::NoCall], SETTLED + 1, DOUBT),
            Resolution::Abort("HTTP 401".into())
        );
    }
}
