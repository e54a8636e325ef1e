//! The Participants resource (and the two Calls reads dialer needs) over HTTP.
//! Every request is validated before it leaves; every failure comes back as an [`ApiError`]
//! with its disposition.

use super::clock::TwilioClock;
use super::credentials::Credentials;
use super::error::ApiError;
use super::params::{CreateParticipant, ParamError, ParticipantUpdate};
use super::resource::{Call, CallPage, ErrorBody, Participant, ParticipantPage};
use crate::domain::{CallSid, ConferenceSid, ConferenceTarget, Endpoint, Invalid, ParticipantId};
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use std::sync::Once;
use std::time::Duration;
use url::Url;

pub const DEFAULT_API_BASE: &str = "https://api.twilio.com";

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub api_base: Url,
    pub connect_timeout: Duration,
    /// The whole request: past it the outcome is unknown.
    pub request_timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            api_base: Url::parse(DEFAULT_API_BASE).expect("constant URL"),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
        }
    }
}

/// Filters and page size of List Participants.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub muted: Option<bool>,
    pub hold: Option<bool>,
    pub coaching: Option<bool>,
    pub page_size: Option<u16>,
}

#[derive(Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    config: ClientConfig,
    credentials: Credentials,
    /// Twilio's clock, read off every answer.
    clock: TwilioClock,
}

#[derive(Debug, thiserror::Error)]
#[error("could not build the HTTP client: {0}")]
pub struct ClientBuildError(#[from] reqwest::Error);

impl TwilioClient {
    pub fn new(config: ClientConfig, credentials: Credentials) -> Result<Self, ClientBuildError> {
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls_config())
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(concat!("dialer/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(256)
            .build()?;
        Ok(Self {
            http,
            config,
            credentials,
            clock: TwilioClock::default(),
        })
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Twilio's clock, as its latest answer told it.
    pub fn clock(&self) -> &TwilioClock {
        &self.clock
    }

    pub fn request_timeout(&self) -> Duration {
        self.config.request_timeout
    }

    pub fn api_base(&self) -> &Url {
        &self.config.api_base
    }

    pub async fn create_participant(
        &self,
        conference: &ConferenceTarget,
        request: &CreateParticipant,
    ) -> Result<Participant, ApiError> {
        let url = self.url(&["Conferences", conference.as_str(), "Participants.json"]);
        self.send(self.http.post(url).form(&request.to_form()))
            .await
    }

    pub async fn fetch_participant(
        &self,
        conference: &ConferenceSid,
        id: &ParticipantId,
    ) -> Result<Participant, ApiError> {
        self.send(self.http.get(self.participant_url(conference, id)))
            .await
    }

    pub async fn update_participant(
        &self,
        conference: &ConferenceSid,
        id: &ParticipantId,
        update: &ParticipantUpdate,
    ) -> Result<Participant, ApiError> {
        update.check()?;
        let form = update.to_form();
        self.send(
            self.http
                .post(self.participant_url(conference, id))
                .form(&form),
        )
        .await
    }

    pub async fn delete_participant(
        &self,
        conference: &ConferenceSid,
        id: &ParticipantId,
    ) -> Result<(), ApiError> {
        let request = self
            .http
            .request(Method::DELETE, self.participant_url(conference, id));
        self.execute(request).await.map(drop)
    }

    /// One page of List Participants.
    pub async fn list_participants_page(
        &self,
        conference: &ConferenceSid,
        filter: &ListFilter,
    ) -> Result<ParticipantPage, ApiError> {
        let url = self.url(&["Conferences", conference.as_str(), "Participants.json"]);
        self.send(self.http.get(url).query(&list_query(filter)?))
            .await
    }

    /// Every page of List Participants, following `next_page_uri`.
    pub async fn list_participants(
        &self,
        conference: &ConferenceSid,
        filter: &ListFilter,
    ) -> Result<Vec<Participant>, ApiError> {
        let mut page = self.list_participants_page(conference, filter).await?;
        let mut all = std::mem::take(&mut page.participants);
        while let Some(next) = page.meta.next_page_uri.take().filter(|u| !u.is_empty()) {
            page = self.send(self.http.get(self.follow(&next)?)).await?;
            all.append(&mut page.participants);
        }
        Ok(all)
    }

    pub async fn fetch_call(&self, sid: &CallSid) -> Result<Call, ApiError> {
        let name = format!("{sid}.json");
        self.send(self.http.get(self.url(&["Calls", &name]))).await
    }

    /// Calls to `to` (from `from`, if given) that started at or after `since` (every page).
    pub async fn list_calls_to(
        &self,
        to: &Endpoint,
        from: Option<&str>,
        since: jiff::Timestamp,
    ) -> Result<Vec<Call>, ApiError> {
        let since = since.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let mut query = vec![
            ("To", to.as_str()),
            ("StartTime>", since.as_str()),
            ("PageSize", "1000"),
        ];
        query.extend(from.map(|from| ("From", from)));
        let mut page: CallPage = self
            .send(self.http.get(self.url(&["Calls.json"])).query(&query))
            .await?;
        let mut all = std::mem::take(&mut page.calls);
        while let Some(next) = page.meta.next_page_uri.take().filter(|u| !u.is_empty()) {
            page = self.send(self.http.get(self.follow(&next)?)).await?;
            all.append(&mut page.calls);
        }
        Ok(all)
    }

    fn participant_url(&self, conference: &ConferenceSid, id: &ParticipantId) -> Url {
        let name = format!("{}.json", id.as_str());
        self.url(&["Conferences", conference.as_str(), "Participants", &name])
    }

    /// `{api_base}/2010-04-01/Accounts/{AccountSid}/…`, each segment percent-encoded.
    fn url(&self, tail: &[&str]) -> Url {
        let mut url = self.config.api_base.clone();
        {
            let mut segments = url.path_segments_mut().expect("an http(s) base URL");
            segments.pop_if_empty().extend([
                "2010-04-01",
                "Accounts",
                self.credentials.account().as_str(),
            ]);
            segments.extend(tail);
        }
        // A comma in a friendly name or label would read as a list separator to an OpenAPI
        // server; escaped, it is the same name to Twilio.
        let path = url.path().replace(',', "%2C");
        url.set_path(&path);
        url
    }

    /// A `next_page_uri` is a path on the API host.
    fn follow(&self, next: &str) -> Result<Url, ApiError> {
        self.config
            .api_base
            .join(next)
            .map_err(|e| ApiError::Unreadable {
                status: 200,
                detail: format!("bad next_page_uri {next:?}: {e}"),
            })
    }

    async fn send<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, ApiError> {
        let (status, body) = self.execute(request).await?;
        serde_json::from_slice(&body).map_err(|e| ApiError::Unreadable {
            status,
            detail: e.to_string(),
        })
    }

    async fn execute(&self, request: RequestBuilder) -> Result<(u16, bytes::Bytes), ApiError> {
        let request =
            request.basic_auth(self.credentials.username(), Some(self.credentials.secret()));
        let response = request.send().await.map_err(|e| self.transport_error(e))?;
        let status = response.status().as_u16();
        if let Some(date) = response.headers().get(reqwest::header::DATE) {
            self.clock.observe(date.to_str().unwrap_or_default());
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(e))?;
        if (200..300).contains(&status) {
            return Ok((status, body));
        }
        let body = serde_json::from_slice::<ErrorBody>(&body).unwrap_or_else(|_| ErrorBody {
            code: None,
            message: String::from_utf8_lossy(&body).chars().take(200).collect(),
            more_info: None,
            status,
        });
        Err(ApiError::Twilio {
            body: ErrorBody { status, ..body },
            retry_after,
        })
    }

    fn transport_error(&self, e: reqwest::Error) -> ApiError {
        if e.is_connect() {
            ApiError::Connect {
                base: self.config.api_base.to_string(),
                source: e,
            }
        } else if e.is_timeout() {
            ApiError::Timeout(self.config.request_timeout)
        } else {
            ApiError::Dropped(e)
        }
    }
}

fn list_query(filter: &ListFilter) -> Result<Vec<(&'static str, String)>, ApiError> {
    let mut query = Vec::new();
    for (name, value) in [
        ("Muted", filter.muted),
        ("Hold", filter.hold),
        ("Coaching", filter.coaching),
    ] {
        if let Some(v) = value {
            query.push((name, v.to_string()));
        }
    }
    if let Some(size) = filter.page_size {
        if !(1..=1000).contains(&size) {
            let rule = Invalid(format!("must be from 1 to 1000, got {size}"));
            return Err(ParamError::new("PageSize", rule).into());
        }
        query.push(("PageSize", size.to_string()));
    }
    Ok(query)
}

/// rustls with the ring provider and Mozilla's roots compiled in: works on a bare machine
/// with no CA store, and builds much faster than the default provider.
fn tls_config() -> rustls::ClientConfig {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth()
}
