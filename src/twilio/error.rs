//! Errors of the Twilio layer. Each carries its [`Disposition`], decided here where the error
//! is born, so the scheduler never guesses whether a resend could call someone twice.

use super::params::ParamError;
use super::resource::ErrorBody;
use crate::foreign_text::printable;
use std::time::Duration;

/// What the caller may do after an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Not processed by Twilio: safe to send again, after `after` if the server said so.
    Retry { after: Option<Duration> },
    /// Refused for good (a Twilio 4xx code): do not resend.
    Fail,
    /// The credentials are wrong: stop the whole run.
    Abort,
    /// The request may have taken effect (timeout, connection lost after sending, 5xx):
    /// find out before sending it again.
    Unknown,
}

/// What a failed request says about Twilio being reachable at all (not about the row): the
/// breaker (`dialing::breaker`) opens on these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutageSignal {
    /// Never reached Twilio (connection refused, DNS, TLS): nothing was sent. Opens at once.
    Unreached,
    /// Sent, then no answer (timeout, connection lost): it may have reached Twilio.
    Lost,
    /// Twilio answered 5xx. Counts toward a run of failures, like `Lost`.
    ServerError,
}

/// Twilio codes that mean "not processed, try later" although the status is 4xx.
pub const CODE_TOO_MANY_REQUESTS: u32 = 20429;
pub const CODE_QUEUE_FULL: u32 = 22005;
pub const CODE_CONFERENCE_FULL: u32 = 16020;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Invalid(#[from] ParamError),
    #[error("{}", twilio_message(.body))]
    Twilio {
        body: ErrorBody,
        retry_after: Option<Duration>,
    },
    #[error("could not reach Twilio at {base}")]
    Connect {
        base: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("no answer from Twilio within {0:?}; the request may have been processed")]
    Timeout(Duration),
    #[error("connection lost after the request was sent; it may have been processed")]
    Dropped(#[source] reqwest::Error),
    #[error("unreadable answer from Twilio (HTTP {status}): {}", printable(.detail))]
    Unreadable { status: u16, detail: String },
}

/// Whether the connection was refused (nothing listens), as opposed to DNS or TLS failing.
fn refused(error: &reqwest::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        cause = e.source();
    }
    false
}

fn twilio_message(body: &ErrorBody) -> String {
    match body.code {
        Some(code) => format!(
            "error {code}: {} (HTTP {})",
            printable(&body.message),
            body.status
        ),
        None => format!("HTTP {}: {}", body.status, printable(&body.message)),
    }
}

impl ApiError {
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::Invalid(_) => Disposition::Fail,
            Self::Connect { .. } => Disposition::Retry { after: None },
            Self::Timeout(_) | Self::Dropped(_) => Disposition::Unknown,
            Self::Unreadable { status, .. } if *status == 429 => Disposition::Retry { after: None },
            Self::Unreadable { status, .. } if (200..300).contains(status) || *status >= 500 => {
                Disposition::Unknown
            }
            Self::Unreadable { .. } => Disposition::Fail,
            Self::Twilio { body, retry_after } => match (body.status, body.code) {
                (429, _)
                | (_, Some(CODE_TOO_MANY_REQUESTS | CODE_QUEUE_FULL | CODE_CONFERENCE_FULL)) => {
                    Disposition::Retry {
                        after: *retry_after,
                    }
                }
                (401 | 403, _) => Disposition::Abort,
                (500.., _) => Disposition::Unknown,
                _ => Disposition::Fail,
            },
        }
    }

    /// Whether this failure hints at an outage; `None`: Twilio answered (or nothing was sent
    /// because the request was invalid), which says nothing against it being up.
    pub fn outage_signal(&self) -> Option<OutageSignal> {
        match self {
            Self::Connect { .. } => Some(OutageSignal::Unreached),
            Self::Timeout(_) | Self::Dropped(_) => Some(OutageSignal::Lost),
            _ if self.http_status().is_some_and(|s| s >= 500) => Some(OutageSignal::ServerError),
            _ => None,
        }
    }

    /// A few words naming an outage, for the progress line: "connection refused", "timeout"...
    pub fn outage_words(&self) -> String {
        match self {
            Self::Connect { source, .. } if refused(source) => "connection refused".into(),
            Self::Connect { .. } => "could not connect".into(),
            Self::Timeout(_) => "timeout".into(),
            Self::Dropped(_) => "connection lost".into(),
            _ => match self.http_status() {
                Some(status) => format!("HTTP {status}"),
                None => self.to_string(),
            },
        }
    }

    /// The Twilio error code, when Twilio gave one.
    pub fn code(&self) -> Option<u32> {
        match self {
            Self::Twilio { body, .. } => body.code,
            _ => None,
        }
    }

    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::Twilio { body, .. } => Some(body.status),
            Self::Unreadable { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// 404: the participant or conference is not (or no longer) there.
    pub fn is_not_found(&self) -> bool {
        self.http_status() == Some(404)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn twilio(status: u16, code: u32) -> ApiError {
        ApiError::Twilio {
            body: ErrorBody::new(status, code, "x"),
            retry_after: Some(Duration::from_secs(2)),
        }
    }

    #[test]
    fn dispositions_follow_twilios_documented_meaning() {
        let retry = Disposition::Retry {
            after: Some(Duration::from_secs(2)),
        };
        assert_eq!(twilio(429, 20429).disposition(), retry);
        assert_eq!(twilio(400, 22005).disposition(), retry);
        assert_eq!(twilio(400, 16020).disposition(), retry);
        assert_eq!(twilio(400, 21211).disposition(), Disposition::Fail);
        assert_eq!(twilio(404, 20404).disposition(), Disposition::Fail);
        assert_eq!(twilio(401, 20003).disposition(), Disposition::Abort);
        assert_eq!(twilio(403, 20003).disposition(), Disposition::Abort);
        assert_eq!(twilio(500, 20500).disposition(), Disposition::Unknown);
        assert_eq!(twilio(503, 20503).disposition(), Disposition::Unknown);
        assert_eq!(
            ApiError::Timeout(Duration::from_secs(1)).disposition(),
            Disposition::Unknown
        );
        let unreadable = ApiError::Unreadable {
            status: 201,
            detail: "eof".into(),
        };
        assert_eq!(unreadable.disposition(), Disposition::Unknown);
    }

    #[test]
    fn outage_signals_tell_a_request_never_sent_from_one_that_may_have_arrived() {
        assert_eq!(
            ApiError::Timeout(Duration::from_secs(1)).outage_signal(),
            Some(OutageSignal::Lost)
        );
        assert_eq!(
            twilio(503, 20503).outage_signal(),
            Some(OutageSignal::ServerError)
        );
        let unreadable = ApiError::Unreadable {
            status: 502,
            detail: "html".into(),
        };
        assert_eq!(unreadable.outage_signal(), Some(OutageSignal::ServerError));
        for answered in [twilio(429, 20429), twilio(400, 21211), twilio(401, 20003)] {
            assert_eq!(answered.outage_signal(), None, "{answered}");
        }
    }

    #[test]
    fn messages_show_code_and_text() {
        let e = ApiError::Twilio {
            body: ErrorBody::new(400, 21211, "Invalid 'To' Phone Number"),
            retry_after: None,
        };
        assert_eq!(
            e.to_string(),
            "error 21211: Invalid 'To' Phone Number (HTTP 400)"
        );
    }

    #[test]
    fn twilio_s_text_is_shown_on_one_line_without_control_characters_and_cut() {
        let forged = format!(
            "Bad\r\n2026-12-05T00:00:00Z INFO forged\x1b]0;owned\x07{}",
            "x".repeat(20_000)
        );
        let e = ApiError::Twilio {
            body: ErrorBody::new(400, 21211, forged),
            retry_after: None,
        };

        let shown = e.to_string();

        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert!(shown.starts_with("error 21211: Bad\\r\\n2026"), "{shown:?}");
        assert!(shown.len() < 1_000, "{} bytes", shown.len());
        assert!(shown.ends_with("more characters) (HTTP 400)"), "{shown:?}");
    }
}
