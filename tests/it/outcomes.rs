//! Call outcomes end to end: `dialer serve` receiving Twilio's signed status callbacks,
//! `dialer sync` polling when nothing can reach us, and busy rows called again later.
//! The helpers here drive the real binary; the tests are in the two modules below.

mod callbacks;
mod flood;
mod polling;

use crate::support::campaign::{RunOutput, TestCampaign, output};
use crate::support::sandbox::eventually;
use dialer::domain::CallSid;
use dialer::sandbox::Sandbox;
use dialer::store::RowExport;
use dialer::twilio::signature;

/// A `dialer serve` child process on a free loopback port, killed when dropped.
pub(crate) struct Receiver {
    pub url: String,
    _child: tokio::process::Child,
}

/// `[callbacks]` pointing at a free local port (and `extra` campaign keys before it).
pub(crate) fn with_callbacks(port: u16, extra: &str) -> String {
    format!(
        "{extra}\n[callbacks]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}/twilio/status\"\n"
    )
}

pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}

pub(crate) async fn serve(campaign: &TestCampaign, sandbox: &Sandbox, port: u16) -> Receiver {
    let child = campaign
        .subcommand(sandbox, "serve", &[])
        .spawn()
        .expect("dialer serve starts");
    let address = format!("127.0.0.1:{port}");
    let listening = eventually(|| async { tokio::net::TcpStream::connect(&address).await.is_ok() });
    assert!(listening.await, "dialer serve listens on {address}");
    Receiver {
        url: format!("http://{address}/twilio/status"),
        _child: child,
    }
}

pub(crate) async fn sync(campaign: &TestCampaign, sandbox: &Sandbox) -> RunOutput {
    let child = campaign
        .subcommand(sandbox, "sync", &["--every", "1", "--deadline", "60s"])
        .spawn()
        .expect("dialer sync starts");
    output(child).await
}

/// Posts a status callback signed with `token` (no signature if `None`); returns the HTTP status.
pub(crate) async fn post(url: &str, token: Option<&str>, params: &[(&str, &str)]) -> u16 {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut request = reqwest::Client::new().post(url).form(&params);
    if let Some(token) = token {
        request = request.header("X-Twilio-Signature", signature::sign(token, url, &params));
    }
    request
        .send()
        .await
        .expect("the receiver answers")
        .status()
        .as_u16()
}

pub(crate) async fn event_count(campaign: &TestCampaign, call_sid: &str) -> usize {
    let store = campaign.open_store().await;
    let call_sid = CallSid::parse(call_sid).expect("a call SID");
    let events = store.call_events(&call_sid).await.expect("events read");
    store.close().await;
    events.len()
}

/// The same callback by GET: its parameters in the query, which the signature covers.
pub(crate) async fn get(url: &str, token: &str, params: &[(&str, &str)]) -> u16 {
    let mut url = url::Url::parse(url).expect("a URL");
    url.query_pairs_mut().extend_pairs(params);
    let signed = signature::sign(token, url.as_str(), &[]);
    reqwest::Client::new()
        .get(url)
        .header("X-Twilio-Signature", signed)
        .send()
        .await
        .expect("the receiver answers")
        .status()
        .as_u16()
}

/// How many callbacks the receiver at `url` counted with `result` (its `/metrics`).
pub(crate) async fn callbacks_counted(url: &str, result: &str) -> u64 {
    let mut metrics = url::Url::parse(url).expect("a URL");
    metrics.set_path("/metrics");
    let text = reqwest::get(metrics)
        .await
        .expect("the receiver answers")
        .text()
        .await
        .expect("metrics read");
    let label = format!("result=\"{result}\"");
    text.lines()
        .filter(|line| line.starts_with("dialer_callbacks_total{") && line.contains(&label))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|n| n as u64)
        .sum()
}

pub(crate) async fn only_row(campaign: &TestCampaign) -> RowExport {
    campaign.rows().await.remove(0)
}

pub(crate) fn created_calls(sandbox: &Sandbox) -> u64 {
    sandbox.stats().creates
}

pub(crate) async fn report_json(campaign: &TestCampaign, sandbox: &Sandbox) -> serde_json::Value {
    let out = output(
        campaign
            .subcommand(sandbox, "report", &["--json"])
            .spawn()
            .expect("dialer report starts"),
    )
    .await;
    serde_json::from_str(&out.stdout).expect("the report is JSON")
}
