//! The real `TwilioClient` against Twilio's own OpenAPI definition.
//!
//! Prism (`prism mock`) serves `tests/corpus/twilio/participants.prism.openapi.json` and checks
//! every request against it: a request breaking a rule gets 422 and a list of the rules. A
//! recording gateway sits between the client and Prism, so that any such answer fails the test
//! with Prism's whole body, and so that every parameter name sent is also checked against the
//! definition, which Prism does not do (it lets unknown names through).

use crate::support::tools;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dialer::domain::{
    AccountSid, CallSid, Caller, ConferenceSid, ConferenceTarget, Endpoint, ParticipantId,
};
use dialer::twilio::{
    ApiError, ClientConfig, CreateParticipant, Credentials, ListFilter, ParticipantOptions,
    ParticipantUpdate, TwilioClient,
};
use serde_json::Value;
use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const CONFERENCE: &str = "CF0123456789abcdef0123456789abcdef";
const CALL: &str = "CA0123456789abcdef0123456789abcdef";
const COACHED_CALL: &str = "CAfedcba9876543210fedcba9876543210";

/// A valid value for every optional Create Participant parameter, by wire name. The event
/// lists name several events each, so they go out as repeated keys.
const CREATE_VALUES: &[(&str, &str)] = &[
    ("StatusCallback", "https://example.com/status"),
    ("StatusCallbackMethod", "POST"),
    (
        "StatusCallbackEvent",
        "initiated ringing answered completed",
    ),
    ("Label", "renewals-42"),
    ("Timeout", "30"),
    ("Record", "true"),
    ("Muted", "false"),
    ("Beep", "onEnter"),
    ("StartConferenceOnEnter", "true"),
    ("EndConferenceOnExit", "false"),
    ("WaitUrl", "https://example.com/wait"),
    ("WaitMethod", "GET"),
    ("EarlyMedia", "true"),
    ("MaxParticipants", "10"),
    ("ConferenceRecord", "record-from-start"),
    ("ConferenceTrim", "trim-silence"),
    ("ConferenceStatusCallback", "https://example.com/conference"),
    ("ConferenceStatusCallbackMethod", "POST"),
    ("ConferenceStatusCallbackEvent", "start end join leave"),
    ("RecordingChannels", "dual"),
    ("RecordingStatusCallback", "https://example.com/recording"),
    ("RecordingStatusCallbackMethod", "POST"),
    ("SipAuthUsername", "agent"),
    ("SipAuthPassword", "not-a-real-password"),
    ("Region", "ie1"),
    (
        "ConferenceRecordingStatusCallback",
        "https://example.com/conference-recording",
    ),
    ("ConferenceRecordingStatusCallbackMethod", "GET"),
    (
        "RecordingStatusCallbackEvent",
        "in-progress completed absent",
    ),
    (
        "ConferenceRecordingStatusCallbackEvent",
        "in-progress completed failed",
    ),
    ("Coaching", "true"),
    ("CallSidToCoach", COACHED_CALL),
    ("JitterBufferSize", "large"),
    ("Byoc", "BY0123456789abcdef0123456789abcdef"),
    ("CallerId", "+15017122662"),
    ("CallReason", "Renewal reminder"),
    ("RecordingTrack", "both"),
    ("TimeLimit", "3600"),
    ("MachineDetection", "DetectMessageEnd"),
    ("MachineDetectionTimeout", "30"),
    ("MachineDetectionSpeechThreshold", "2400"),
    ("MachineDetectionSpeechEndThreshold", "1200"),
    ("MachineDetectionSilenceTimeout", "5000"),
    ("AmdStatusCallback", "https://example.com/amd"),
    ("AmdStatusCallbackMethod", "POST"),
    ("Trim", "do-not-trim"),
    ("CallToken", "not-a-real-call-token"),
    ("ClientNotificationUrl", "https://example.com/notify"),
    ("CallerDisplayName", "Renewals Team"),
];

/// A valid value for every Update Participant parameter, by wire name.
const UPDATE_VALUES: &[(&str, &str)] = &[
    ("Muted", "true"),
    ("Hold", "true"),
    ("HoldUrl", "https://example.com/hold"),
    ("HoldMethod", "GET"),
    ("AnnounceUrl", "https://example.com/announce"),
    ("AnnounceMethod", "POST"),
    ("WaitUrl", "https://example.com/wait"),
    ("WaitMethod", "POST"),
    ("BeepOnExit", "false"),
    ("EndConferenceOnExit", "true"),
    ("Coaching", "true"),
    ("CallSidToCoach", COACHED_CALL),
];

#[tokio::test]
async fn a_create_with_every_optional_parameter_set_passes_twilios_definition() {
    // Arrange
    let table: BTreeSet<&str> = CREATE_VALUES.iter().map(|(name, _)| *name).collect();
    let names: BTreeSet<&str> = ParticipantOptions::NAMES.iter().map(|n| n.wire).collect();
    assert_eq!(
        table, names,
        "CREATE_VALUES must give a value for exactly ParticipantOptions::NAMES"
    );
    let mut options = ParticipantOptions::default();
    for (name, value) in CREATE_VALUES {
        options
            .set(name, value)
            .unwrap_or_else(|e| panic!("{name}={value:?}: {e}"));
    }
    let request = CreateParticipant::new(
        Caller::parse("+15017122661").unwrap(),
        Endpoint::parse("+15558675310").unwrap(),
        options,
    )
    .unwrap();
    let conference = ConferenceTarget::parse("Renewals morning run").unwrap();
    let mock = Mock::start().await;

    // Act
    let participant = mock.ok(
        "create",
        mock.client()
            .create_participant(&conference, &request)
            .await,
    );

    // Assert
    assert!(
        participant
            .call_sid
            .is_some_and(|sid| CallSid::parse(sid.as_str()).is_ok())
    );
    mock.assert_every_request_passed();
    let sent = mock.form_of(&Method::POST, "/Participants.json");
    let sent_names: BTreeSet<&str> = sent.iter().map(|(k, _)| k.as_str()).collect();
    let expected: BTreeSet<&str> = names.iter().copied().chain(["From", "To"]).collect();
    assert_eq!(sent_names, expected, "every parameter set is sent");
    let events = sent
        .iter()
        .filter(|(k, _)| k == "StatusCallbackEvent")
        .count();
    assert_eq!(events, 4, "one StatusCallbackEvent key per event");
}

#[tokio::test]
async fn fetch_list_update_delete_and_the_call_reads_pass_twilios_definition() {
    // Arrange
    let table: BTreeSet<&str> = UPDATE_VALUES.iter().map(|(name, _)| *name).collect();
    let names: BTreeSet<&str> = ParticipantUpdate::NAMES.iter().map(|n| n.wire).collect();
    assert_eq!(
        table, names,
        "UPDATE_VALUES must give a value for exactly ParticipantUpdate::NAMES"
    );
    let mut update = ParticipantUpdate::default();
    for (name, value) in UPDATE_VALUES {
        update
            .set(name, value)
            .unwrap_or_else(|e| panic!("{name}={value:?}: {e}"));
    }
    let conference = ConferenceSid::parse(CONFERENCE).unwrap();
    let by_sid = ParticipantId::parse(CALL).unwrap();
    let by_label = ParticipantId::parse("renewals-42").unwrap();
    let filter = ListFilter {
        muted: Some(true),
        hold: Some(false),
        coaching: Some(false),
        page_size: Some(50),
    };
    let since = "2026-11-24T08:00:00Z".parse().unwrap();
    let mock = Mock::start().await;
    let client = mock.client();

    // Act
    let fetched = mock.ok(
        "fetch by CallSid",
        client.fetch_participant(&conference, &by_sid).await,
    );
    let labelled = mock.ok(
        "fetch by label",
        client.fetch_participant(&conference, &by_label).await,
    );
    let listed = mock.ok("list", client.list_participants(&conference, &filter).await);
    let updated = mock.ok(
        "update",
        client
            .update_participant(&conference, &by_sid, &update)
            .await,
    );
    mock.ok(
        "delete",
        client.delete_participant(&conference, &by_label).await,
    );
    let call = mock.ok(
        "fetch call",
        client.fetch_call(&CallSid::parse(CALL).unwrap()).await,
    );
    mock.ok(
        "list calls",
        client
            .list_calls_to(
                &dialer::domain::Endpoint::parse("+15558675310").unwrap(),
                None,
                since,
            )
            .await,
    );

    // Assert
    mock.assert_every_request_passed();
    assert!(
        fetched.call_sid.is_some() && labelled.call_sid.is_some() && updated.call_sid.is_some()
    );
    assert_eq!(
        listed.len(),
        2,
        "a full page, then the empty last one its next_page_uri names"
    );
    assert!(call.sid.is_some());
    let sent: BTreeSet<String> = mock
        .form_of(&Method::POST, "/Participants/")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        sent,
        names.iter().map(|n| n.to_string()).collect(),
        "every update parameter is sent"
    );
    let lists = mock.targets(&Method::GET, "/Participants.json");
    assert!(
        lists[0].contains("Muted=true") && lists[0].contains("Hold=false"),
        "{lists:?}"
    );
    assert!(
        lists[0].contains("Coaching=false") && lists[0].contains("PageSize=50"),
        "{lists:?}"
    );
}

#[tokio::test]
async fn the_checks_fail_on_an_out_of_range_value_and_on_an_unknown_parameter() {
    // Arrange
    let mock = Mock::start().await;
    let url = format!(
        "{}2010-04-01/Accounts/{ACCOUNT}/Conferences/room/Participants.json",
        mock.gateway
    );
    let http = reqwest::Client::builder().build().unwrap();
    let post = |form: &'static [(&str, &str)]| {
        http.post(&url)
            .basic_auth(ACCOUNT, Some("token"))
            .form(form)
            .send()
    };

    // Act
    let out_of_range = post(&[
        ("From", "+15017122661"),
        ("To", "+15558675310"),
        ("Timeout", "4"),
    ])
    .await
    .unwrap();
    let out_of_range_status = out_of_range.status();
    let out_of_range_type = out_of_range.headers().get(header::CONTENT_TYPE).cloned();
    let out_of_range_body = out_of_range.text().await.unwrap();
    let misspelt = post(&[
        ("From", "+15017122661"),
        ("To", "+15558675310"),
        ("Timeot", "30"),
    ])
    .await
    .unwrap();

    // Assert
    assert_eq!(out_of_range_status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        out_of_range_type,
        Some(HeaderValue::from_static("application/problem+json"))
    );
    assert!(
        out_of_range_body.contains("Timeout must be >= 5"),
        "{out_of_range_body}"
    );
    assert_eq!(
        misspelt.status(),
        StatusCode::CREATED,
        "Prism lets unknown names through"
    );
    let refused = mock.refusals();
    assert_eq!(refused.len(), 2, "{refused:#?}");
    assert!(refused[0].contains("HTTP 422"), "{}", refused[0]);
    assert!(
        refused[1].contains("Timeot is not a parameter"),
        "{}",
        refused[1]
    );
}

/// Prism on a free port behind the recording gateway; Prism is stopped on drop.
struct Mock {
    prism: Child,
    gateway: url::Url,
    gate: Arc<Gate>,
    _logs: tempfile::TempDir,
}

/// What the gateway saw: every exchange, and the definition to check names against.
struct Gate {
    prism: String,
    http: reqwest::Client,
    spec: Value,
    exchanges: Mutex<Vec<Exchange>>,
}

#[derive(Debug, Clone)]
struct Exchange {
    method: Method,
    /// Path and query, as sent.
    target: String,
    body: String,
    status: u16,
    answer: String,
    /// Rules Prism reported broken by the request, from its 422 body or `sl-violations`.
    violations: Vec<String>,
    /// Parameter names the operation does not declare.
    undeclared: Vec<String>,
}

impl Mock {
    async fn start() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let spec_path = twilio_definition().join("participants.prism.openapi.json");
        let spec: Value = serde_json::from_str(
            &std::fs::read_to_string(&spec_path)
                .unwrap_or_else(|e| panic!("{}: {e}", spec_path.display())),
        )
        .unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let logs = tempfile::tempdir().unwrap();
        let log_path = logs.path().join("prism.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let prism = Command::new(tools::prism())
            .args(["mock", "-h", "127.0.0.1", "-p", &port.to_string()])
            .arg(&spec_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start prism");
        let gate = Arc::new(Gate {
            prism: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::builder().build().unwrap(),
            spec,
            exchanges: Mutex::new(Vec::new()),
        });
        let mut mock = Self {
            prism,
            gateway: url::Url::parse("http://127.0.0.1/").unwrap(),
            gate,
            _logs: logs,
        };
        mock.wait_until_prism_answers(&log_path).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        mock.gateway
            .set_port(Some(listener.local_addr().unwrap().port()))
            .unwrap();
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(mock.gate.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        mock
    }

    /// Prism reads and resolves the definition before it listens: up to a minute when cold.
    async fn wait_until_prism_answers(&mut self, log: &Path) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.gate.http.get(&self.gate.prism).send().await.is_ok() {
                return;
            }
            let log = || std::fs::read_to_string(log).unwrap_or_default();
            if let Some(status) = self.prism.try_wait().unwrap() {
                panic!("prism exited ({status}) before answering:\n{}", log());
            }
            assert!(
                Instant::now() < deadline,
                "prism did not answer within 60 s:\n{}",
                log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn client(&self) -> TwilioClient {
        let config = ClientConfig {
            api_base: self.gateway.clone(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
        };
        let credentials =
            Credentials::with_auth_token(AccountSid::parse(ACCOUNT).unwrap(), "token".into());
        TwilioClient::new(config, credentials).unwrap()
    }

    /// The value of a client call, or a panic showing the error and what Prism refused.
    fn ok<T>(&self, what: &str, result: Result<T, ApiError>) -> T {
        result.unwrap_or_else(|e| panic!("{what} failed: {e}\n{}", self.refusals().join("\n")))
    }

    /// One line per refused request, with Prism's whole answer.
    fn refusals(&self) -> Vec<String> {
        let exchanges = self.gate.exchanges.lock().unwrap();
        exchanges
            .iter()
            .filter(|x| x.status == 422 || !x.violations.is_empty() || !x.undeclared.is_empty())
            .map(|x| {
                let undeclared = x
                    .undeclared
                    .iter()
                    .map(|n| format!("{n} is not a parameter of this operation"));
                let rules: Vec<String> = x.violations.iter().cloned().chain(undeclared).collect();
                format!(
                    "{} {} {:?} -> HTTP {}: {}\n  {}",
                    x.method,
                    x.target,
                    x.body,
                    x.status,
                    rules.join("; "),
                    x.answer
                )
            })
            .collect()
    }

    fn assert_every_request_passed(&self) {
        let refused = self.refusals();
        assert!(
            refused.is_empty(),
            "requests refused by Twilio's definition:\n{}",
            refused.join("\n")
        );
        assert!(
            !self.gate.exchanges.lock().unwrap().is_empty(),
            "no request reached Prism"
        );
    }

    /// Path and query of each `method` request whose path contains `path`.
    fn targets(&self, method: &Method, path: &str) -> Vec<String> {
        let exchanges = self.gate.exchanges.lock().unwrap();
        exchanges
            .iter()
            .filter(|x| {
                x.method == method && x.target.split('?').next().unwrap_or("").contains(path)
            })
            .map(|x| x.target.clone())
            .collect()
    }

    /// The form body of the one `method` request whose path contains `path`.
    fn form_of(&self, method: &Method, path: &str) -> Vec<(String, String)> {
        let exchanges = self.gate.exchanges.lock().unwrap();
        let matching: Vec<&Exchange> = exchanges
            .iter()
            .filter(|x| {
                x.method == method && x.target.split('?').next().unwrap_or("").contains(path)
            })
            .collect();
        assert_eq!(matching.len(), 1, "{method} …{path}: {matching:#?}");
        serde_urlencoded::from_str(&matching[0].body).unwrap()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.prism.kill();
        let _ = self.prism.wait();
    }
}

/// Twilio's definition and its Prism variant, kept in the repository with their source and
/// licence (`tests/corpus/twilio/SOURCE.md`).
fn twilio_definition() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/twilio")
}

/// Forwards one request to Prism unchanged (but for the example it should answer with) and
/// records the exchange.
async fn forward(State(gate): State<Arc<Gate>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap();
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let mut headers = parts.headers.clone();
    headers.remove(header::HOST);
    headers.remove(header::CONTENT_LENGTH);
    if let Some(example) = example_for(&parts.method, &target) {
        headers.insert(
            "prefer",
            HeaderValue::from_str(&format!("example={example}")).unwrap(),
        );
    }
    let upstream = gate
        .http
        .request(parts.method.clone(), format!("{}{target}", gate.prism))
        .headers(headers)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    let status = upstream.status();
    let content_type = upstream.headers().get(header::CONTENT_TYPE).cloned();
    let mut violations = request_violations(upstream.headers().get("sl-violations"));
    let answer = upstream.bytes().await.unwrap();
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        let problem: Value = serde_json::from_slice(&answer).unwrap_or_default();
        violations.extend(messages(&problem["validation"]));
    }
    let body_text = String::from_utf8_lossy(&body).into_owned();
    let undeclared = gate.undeclared(&parts.method, &target, &body_text);
    gate.exchanges.lock().unwrap().push(Exchange {
        method: parts.method,
        target,
        body: body_text,
        status: status.as_u16(),
        answer: String::from_utf8_lossy(&answer).into_owned(),
        violations,
        undeclared,
    });
    let mut response = (status, Body::from(answer)).into_response();
    if let Some(content_type) = content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
    }
    response
}

/// Prism answers with an operation's first example unless asked for another. The first
/// example of the call log links a next page whose query Twilio's definition refuses
/// (`StartTime=2008-01-02` is no date-time), so the call log answers with a last page. The
/// participant list starts with a full page whose `next_page_uri` leads to the (empty, last)
/// first example, so the client's paging is checked too.
fn example_for(method: &Method, target: &str) -> Option<&'static str> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if method != Method::GET {
        None
    } else if path.ends_with("/Calls.json") {
        Some("readEmptyDatesGreater")
    } else if path.ends_with("/Participants.json") && !query.contains("PageToken=") {
        Some("readFull")
    } else {
        None
    }
}

/// The request-side rules in an `sl-violations` header (Prism also lists there where its own
/// examples break the definition's response schemas; those are not the client's doing).
fn request_violations(header: Option<&HeaderValue>) -> Vec<String> {
    let all: Value = header
        .and_then(|h| serde_json::from_slice(h.as_bytes()).ok())
        .unwrap_or_default();
    let requests: Vec<Value> = all
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["location"][0] != "response")
        .cloned()
        .collect();
    messages(&Value::Array(requests))
}

fn messages(violations: &Value) -> Vec<String> {
    let list = violations.as_array().into_iter().flatten();
    list.map(|v| {
        v["message"]
            .as_str()
            .map_or_else(|| v.to_string(), str::to_owned)
    })
    .collect()
}

impl Gate {
    /// Query and form names that the matching operation of the definition does not declare.
    fn undeclared(&self, method: &Method, target: &str, body: &str) -> Vec<String> {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let Some(operation) = self.operation(method, path) else {
            return vec![format!("{method} {path} (no such operation)")];
        };
        let mut declared: BTreeSet<&str> = BTreeSet::new();
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            declared.extend(parameter["name"].as_str());
        }
        let schema =
            &operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
        declared.extend(
            schema["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, _)| name.as_str()),
        );
        let query: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
        let form: Vec<(String, String)> = serde_urlencoded::from_str(body).unwrap_or_default();
        let sent = query.into_iter().chain(form);
        let names: BTreeSet<String> = sent.into_iter().map(|(name, _)| name).collect();
        names
            .into_iter()
            .filter(|name| !declared.contains(name.as_str()))
            .collect()
    }

    /// The operation whose path template matches `path` (`{Sid}.json` matches `CA….json`).
    fn operation(&self, method: &Method, path: &str) -> Option<&Value> {
        let segments: Vec<&str> = path.split('/').collect();
        let paths = self.spec["paths"].as_object()?;
        let (_, item) = paths.iter().find(|(template, _)| {
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(part, segment)| match part.split_once('}') {
                        Some((_, suffix)) if part.starts_with('{') => {
                            segment.ends_with(suffix) && segment.len() > suffix.len()
                        }
                        _ => part == segment,
                    })
        })?;
        item.get(method.as_str().to_ascii_lowercase())
    }
}
