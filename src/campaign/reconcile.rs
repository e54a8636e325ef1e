//! Was a call created although we never saw the answer? Asked of Twilio before any re-dial:
//! first the participant by its label (Twilio lists only active participants), then the
//! account's call log for the number since the attempt started.

use super::config::Campaign;
use crate::domain::{ConferenceSid, ConferenceTarget, Label, ParticipantId};
use crate::store::{Store, Unresolved};
use crate::twilio::{ApiError, Disposition, TwilioClient};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Found {
        call_sid: String,
        conference_sid: Option<String>,
    },
    NotCreated,
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

/// Clock skew allowed between us and Twilio when matching the call log's dates.
const SKEW_MS: i64 = 5 * 60 * 1000;

pub async fn resolve(
    client: &TwilioClient,
    store: &Store,
    campaign: &Campaign,
    row: &Unresolved,
) -> Resolution {
    match by_label(client, store, campaign, row).await {
        Ok(Some(found)) => return found,
        Ok(None) => {}
        Err(e) => return failed(e),
    }
    let since = jiff::Timestamp::from_millisecond(row.attempt_started_at - SKEW_MS)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    // Twilio filters the call log by date: ask from the start of that day, match exactly here.
    let day_start = since
        .to_zoned(jiff::tz::TimeZone::UTC)
        .start_of_day()
        .map(|z| z.timestamp())
        .unwrap_or(since);
    match client.list_calls_to(&row.to, day_start).await {
        Ok(calls) => {
            let found = calls.into_iter().find(|call| {
                call.date_created
                    .as_deref()
                    .and_then(parse_rfc2822)
                    .is_some_and(|created| created >= since)
            });
            match found.and_then(|call| call.sid) {
                Some(call_sid) => Resolution::Found {
                    call_sid,
                    conference_sid: None,
                },
                None => Resolution::NotCreated,
            }
        }
        Err(e) => failed(e),
    }
}

async fn by_label(
    client: &TwilioClient,
    store: &Store,
    campaign: &Campaign,
    row: &Unresolved,
) -> Result<Option<Resolution>, ApiError> {
    let target = row_conference(campaign, &row.params);
    let sid = match &target {
        ConferenceTarget::Sid(sid) => Some(sid.clone()),
        ConferenceTarget::FriendlyName(name) => store
            .conference_sid(name)
            .await
            .ok()
            .flatten()
            .and_then(|s| ConferenceSid::parse(&s).ok()),
    };
    let (Some(sid), Ok(label)) = (sid, Label::parse(&row.label)) else {
        return Ok(None);
    };
    match client
        .fetch_participant(&sid, &ParticipantId::Label(label))
        .await
    {
        Ok(p) => Ok(p.call_sid.map(|call_sid| Resolution::Found {
            call_sid,
            conference_sid: Some(sid.to_string()),
        })),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

fn row_conference(campaign: &Campaign, params: &str) -> ConferenceTarget {
    serde_json::from_str::<std::collections::BTreeMap<String, String>>(params)
        .ok()
        .and_then(|own| {
            own.get("conference")
                .and_then(|c| ConferenceTarget::parse(c).ok())
        })
        .unwrap_or_else(|| campaign.conference.clone())
}

fn failed(e: ApiError) -> Resolution {
    match (&e, e.disposition()) {
        (_, Disposition::Abort) => Resolution::Abort(e.to_string()),
        (ApiError::Connect { .. } | ApiError::Timeout(_) | ApiError::Dropped(_), _) => {
            Resolution::Unreachable(e.to_string())
        }
        (_, Disposition::Retry { after }) => Resolution::Later {
            why: e.to_string(),
            after,
        },
        _ => Resolution::Later {
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
}
