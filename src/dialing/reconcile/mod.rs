//! Was a call created although we never saw the answer? Every signal is asked before any
//! re-dial: a status callback that named the attempt (the receiver records it), the participant
//! by its label (Twilio lists only participants still in the conference), and the call log by
//! `To`, `From` and the attempt's start. A positive signal is final. Negative ones prove nothing
//! until the call log has had time to show the call (`retry.call_log_grace` after the answer
//! was lost, since Twilio's lists are not read-your-writes): until then the row stays in doubt.

pub(super) mod checks;

use super::breaker::Breaker;
use super::request::row_request;
use crate::config::Campaign;
use crate::domain::{CallSid, Caller, ConferenceSid, ConferenceTarget, Label, ParticipantId};
use crate::store::{Store, Unresolved};
use crate::twilio::{ApiError, Disposition, TwilioClient};

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

/// The shortest wait between two checks of one row while the call log catches up.
const MIN_RECHECK_MS: i64 = 1_000;

/// The decision. Any call seen is final. A look that failed leaves the row in doubt. Only
/// looks that all say "no call", made once the call log has settled, prove that the attempt
/// never took effect. Before that the row is checked again, each time after as long again as
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
        None if signals.is_empty() || checked_at_ms < doubt.settled_at_ms => {
            let in_doubt = (checked_at_ms - doubt.lost_at_ms).max(MIN_RECHECK_MS);
            Resolution::NotYet {
                at_ms: (checked_at_ms + in_doubt).min(doubt.settled_at_ms),
            }
        }
        None => Resolution::NotCreated,
    }
}

/// How long before the attempt's start, on Twilio's clock, a call in the log is still taken as
/// the attempt's: the distance between the store's clock and Twilio's is measured to about a
/// second (a `Date` header has whole seconds); the rest is margin.
const MATCH_MARGIN_MS: i64 = 30_000;

/// The widest disagreement between clocks that dialer is made for: how far back the call log
/// is asked when no answer has told Twilio's clock yet.
const MAX_SKEW_MS: i64 = 15 * 60_000;

/// Asks every signal about `row`; each answer from Twilio (or its absence) also tells the
/// `breaker` whether Twilio is reachable.
pub async fn resolve(
    client: &TwilioClient,
    breaker: &Breaker,
    store: &Store,
    campaign: &Campaign,
    row: &Unresolved,
) -> Resolution {
    // A run stopped mid-request: its request could have reached Twilio until it timed out.
    let lost_at_ms = row
        .attempt_finished_at
        .unwrap_or(row.attempt_started_at + client.request_timeout().as_millis() as i64);
    let doubt = Doubt {
        lost_at_ms,
        settled_at_ms: lost_at_ms + campaign.retry.call_log_grace.as_millis() as i64,
    };
    let mut signals = Vec::new();
    if let Some(call_sid) = &row.callback_call_sid {
        signals.push(Signal::Call {
            call_sid: call_sid.clone(),
            conference_sid: None,
        });
    } else {
        // A row whose request no longer builds (the campaign file changed) has no conference
        // or caller to trust: the call log by `To` alone still answers, after the grace.
        let built = row
            .params
            .as_ref()
            .ok()
            .and_then(|own| row_request(campaign, &row.to, &row.label, own, None).ok());
        if let Some((conference, _)) = &built {
            signals.push(by_label(client, breaker, store, conference, &row.label).await);
        }
        if !signals.iter().any(|s| matches!(s, Signal::Call { .. })) {
            let from = built.as_ref().map(|(_, request)| request.from());
            signals.push(in_call_log(client, breaker, store, row, from).await);
        }
    }
    verdict(&signals, store.now_ms(), doubt)
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
        Err(e) => Signal::Failed(failure(e)),
    }
}

/// A call in the account's log to the row's number since the attempt started. The attempt's
/// start is on the store's clock and `date_created` on Twilio's: the start is moved onto
/// Twilio's clock by how far apart the two are, as measured from the answer itself.
async fn in_call_log(
    client: &TwilioClient,
    breaker: &Breaker,
    store: &Store,
    row: &Unresolved,
    from: Option<&Caller>,
) -> Signal {
    let twilio_ahead_of_store = || client.clock().now_ms().map(|t| t - store.now_ms());
    let rough = row.attempt_started_at + twilio_ahead_of_store().unwrap_or(0) - MAX_SKEW_MS;
    let rough = jiff::Timestamp::from_millisecond(rough).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    // Twilio filters the call log by date: ask from the start of that day, match exactly here.
    let day_start = rough
        .to_zoned(jiff::tz::TimeZone::UTC)
        .start_of_day()
        .map(|z| z.timestamp())
        .unwrap_or(rough);
    // The call log shows a phone caller as dialed; other callers are matched by `To` alone.
    let from = match from {
        Some(caller @ Caller::Phone(_)) => Some(caller.as_str()),
        _ => None,
    };
    let answer = client.list_calls_to(&row.to, from, day_start).await;
    breaker.observe(&answer);
    match answer {
        Ok(calls) => {
            // The answer just read has set Twilio's clock.
            let since = twilio_ahead_of_store()
                .map(|ahead| row.attempt_started_at + ahead - MATCH_MARGIN_MS)
                .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
                .unwrap_or(rough);
            calls
                .into_iter()
                .find(|call| {
                    call.date_created
                        .as_deref()
                        .and_then(parse_rfc2822)
                        .is_some_and(|created| created >= since)
                })
                .and_then(|call| call.sid)
                .map_or(Signal::NoCall, |call_sid| Signal::Call {
                    call_sid,
                    conference_sid: None,
                })
        }
        Err(e) => Signal::Failed(failure(e)),
    }
}

fn failure(e: ApiError) -> Failure {
    match (&e, e.disposition()) {
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

/// Twilio's dates: "Fri, 18 Feb 2011 21:07:19 +0000".
pub fn parse_rfc2822(raw: &str) -> Option<jiff::Timestamp> {
    jiff::fmt::rfc2822::parse(raw).ok().map(|z| z.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(next_check(LOST + 80_000), Some(120_000));
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
