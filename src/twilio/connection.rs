//! Twilio's webhook connection overrides: a fragment on a callback URL (`#rc=3&rp=ct,rt,5xx`)
//! that tells Twilio how long to wait for our receiver and when to try a callback again
//! (docs page "Webhooks (HTTP callbacks): Connection Overrides"). Pairs are `key=value`
//! joined by `&`: `ct` connect timeout (ms, 100–10000, default 5000), `rt` read timeout (ms,
//! 100–15000, default 15000), `tt` total time for every try (ms, 100–15000, default 15000),
//! `rc` retry count (0–5, default 1), `rp` retry policy (a comma list of `4xx`, `5xx`, `ct`,
//! `rt`, or `all`; default `ct`), plus `e` (edge) and `sni`, which change nothing here.
//!
//! A fragment never goes on the wire (HTTP clients leave it out of the request line), so a
//! receiver sees the URL without it. Whether Twilio's `X-Twilio-Signature` covers the
//! fragment is not written on that page nor on "Webhooks security", which says only that the
//! full URL Twilio was given is signed: the receiver accepts a signature over the URL with
//! the fragment and one over the URL without it (`signed_urls`). The sandbox signs the URL
//! as it was given, fragment included.

use crate::domain::Invalid;
use std::time::Duration;

/// What dialer asks of Twilio for the status callbacks it routes to its receiver: three more
/// tries after a connect timeout, a read timeout or a 5xx (the receiver answers 500 when its
/// database is away), so that a callback the receiver could not take is sent again rather
/// than lost. A 4xx is the receiver's verdict and is not retried.
pub const DIALER_OVERRIDES: &str = "rc=3&rp=ct,rt,5xx";

/// The overrides a callback URL's fragment asks for, with Twilio's defaults for the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionOverrides {
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub total_time: Duration,
    /// Tries after the first.
    pub retry_count: u8,
    pub retry_on: RetryOn,
}

/// Which failures of a try are tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetryOn {
    pub client_error: bool,
    pub server_error: bool,
    pub connect_timeout: bool,
    pub read_timeout: bool,
}

/// How one try of a callback failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryFailure {
    /// No connection (refused, or not made within `ct`).
    Connect,
    /// No answer within `rt`, or the connection broke before one.
    Read,
    /// Answered with this status (4xx or 5xx).
    Status(u16),
}

impl Default for ConnectionOverrides {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_millis(5_000),
            read_timeout: Duration::from_millis(15_000),
            total_time: Duration::from_millis(15_000),
            retry_count: 1,
            retry_on: RetryOn {
                connect_timeout: true,
                ..RetryOn::default()
            },
        }
    }
}

impl ConnectionOverrides {
    /// The overrides of a URL's fragment (`None`: Twilio's defaults).
    pub fn parse(fragment: Option<&str>) -> Result<Self, Invalid> {
        let mut overrides = Self::default();
        for pair in fragment
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| Invalid(format!("connection override {pair:?} is not key=value")))?;
            let ms = |min: u64, max: u64| -> Result<Duration, Invalid> {
                value
                    .parse::<u64>()
                    .ok()
                    .filter(|v| (min..=max).contains(v))
                    .map(Duration::from_millis)
                    .ok_or_else(|| {
                        Invalid(format!("{key} must be {min} to {max} ms, got {value:?}"))
                    })
            };
            match key {
                "ct" => overrides.connect_timeout = ms(100, 10_000)?,
                "rt" => overrides.read_timeout = ms(100, 15_000)?,
                "tt" => overrides.total_time = ms(100, 15_000)?,
                "rc" => {
                    overrides.retry_count = value
                        .parse::<u8>()
                        .ok()
                        .filter(|n| *n <= 5)
                        .ok_or_else(|| Invalid(format!("rc must be 0 to 5, got {value:?}")))?
                }
                "rp" => overrides.retry_on = RetryOn::parse(value)?,
                "e" | "sni" => {}
                other => return Err(Invalid(format!("unknown connection override {other:?}"))),
            }
        }
        Ok(overrides)
    }

    /// Whether a try that failed so is tried again (while tries are left).
    pub fn retries(&self, failure: TryFailure) -> bool {
        let on = self.retry_on;
        match failure {
            TryFailure::Connect => on.connect_timeout,
            TryFailure::Read => on.read_timeout,
            TryFailure::Status(400..=499) => on.client_error,
            TryFailure::Status(500..=599) => on.server_error,
            TryFailure::Status(_) => false,
        }
    }
}

impl RetryOn {
    fn parse(raw: &str) -> Result<Self, Invalid> {
        let mut on = Self::default();
        for policy in raw.split(',').map(str::trim) {
            match policy {
                "4xx" => on.client_error = true,
                "5xx" => on.server_error = true,
                "ct" => on.connect_timeout = true,
                "rt" => on.read_timeout = true,
                "all" => {
                    on = Self {
                        client_error: true,
                        server_error: true,
                        connect_timeout: true,
                        read_timeout: true,
                    }
                }
                other => return Err(Invalid(format!("unknown retry policy {other:?}"))),
            }
        }
        Ok(on)
    }
}

/// The URLs a genuine callback may have been signed over: `public_url` (its fragment left
/// out) with the request's `query`, then the same with the fragment, if it has one.
pub fn signed_urls(public_url: &url::Url, query: Option<&str>) -> Vec<String> {
    let mut url = public_url.clone();
    url.set_fragment(None);
    url.set_query(query);
    let mut urls = vec![url.to_string()];
    if let Some(fragment) = public_url.fragment() {
        url.set_fragment(Some(fragment));
        urls.push(url.to_string());
    }
    urls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_read_as_twilio_lists_them_and_bad_ones_are_refused() {
        let ours = ConnectionOverrides::parse(Some(DIALER_OVERRIDES)).unwrap();
        let tight =
            ConnectionOverrides::parse(Some("ct=200&rt=300&tt=900&rc=5&rp=all&e=dublin")).unwrap();

        assert_eq!(ours.retry_count, 3);
        assert!(ours.retries(TryFailure::Status(500)) && ours.retries(TryFailure::Read));
        assert!(!ours.retries(TryFailure::Status(403)));
        assert_eq!(
            ConnectionOverrides::parse(None).unwrap(),
            ConnectionOverrides::default()
        );
        assert!(ConnectionOverrides::default().retries(TryFailure::Connect));
        assert!(!ConnectionOverrides::default().retries(TryFailure::Status(503)));
        assert_eq!(
            (tight.connect_timeout, tight.read_timeout, tight.retry_count),
            (Duration::from_millis(200), Duration::from_millis(300), 5)
        );
        assert!(tight.retries(TryFailure::Status(404)));
        for bad in ["rc=6", "ct=50", "rt=20000", "rp=sometimes", "xx=1", "rc"] {
            assert!(ConnectionOverrides::parse(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_callback_is_checked_over_the_url_with_and_without_its_fragment() {
        let public = url::Url::parse("https://d.example.com/status#rc=3&rp=ct,rt,5xx").unwrap();
        let plain = url::Url::parse("https://d.example.com/status").unwrap();

        assert_eq!(
            signed_urls(&public, Some("dialer_attempt=k-1-1")),
            [
                "https://d.example.com/status?dialer_attempt=k-1-1",
                "https://d.example.com/status?dialer_attempt=k-1-1#rc=3&rp=ct,rt,5xx"
            ]
        );
        assert_eq!(signed_urls(&plain, None), ["https://d.example.com/status"]);
    }
}
