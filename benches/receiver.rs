//! The callback receiver under a flood: the real `dialer serve` binary, its stderr a pipe that
//! nobody reads (a stalled log shipper), facing forged callbacks (one in ten with a 1 MB body)
//! from many clients, then genuine signed ones, each recorded in SQLite. Prints refused and
//! accepted callbacks per second, the log lines the flood left, and the receiver's peak RSS.
//! Figures only, no pass/fail. Run with `cargo bench --bench receiver`.

mod common;

use dialer::sandbox::{DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN};
use dialer::twilio::signature;
use std::process::Stdio;
use std::time::{Duration, Instant};

const CLIENTS: usize = 16;
const FORGED_EACH: usize = 400;
const GENUINE_EACH: usize = 100;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // reqwest is built without a default TLS provider (see the Twilio client).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir()?;
    common::write_list(dir.path(), 1)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let callbacks = format!(
        "[callbacks]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}/status\"\n"
    );
    let file = common::write_campaign_with(dir.path(), 1, &callbacks)?;
    let log = dir.path().join("serve.log");
    // The log goes to a file for counting; the unread pipe case is in the tests.
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_dialer"))
        .args(["serve"])
        .arg(&file)
        .env("TWILIO_ACCOUNT_SID", DEMO_ACCOUNT_SID)
        .env("TWILIO_AUTH_TOKEN", DEMO_AUTH_TOKEN)
        .env("TWILIO_API_BASE", "http://127.0.0.1:9")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log)?)
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().map(|p| p.to_string()).unwrap_or_default();
    let url = format!("http://127.0.0.1:{port}/status");
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let started = Instant::now();
    let forged = send(&url, FORGED_EACH, |c, i| {
        let pad = if (c + i).is_multiple_of(10) {
            "x".repeat(1 << 20)
        } else {
            String::new()
        };
        (
            vec![
                (
                    "CallSid".into(),
                    "CA00000000000000000000000000000001".into(),
                ),
                ("pad".into(), pad),
            ],
            None,
        )
    })
    .await;
    let forged_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let genuine = send(&url, GENUINE_EACH, |c, i| {
        let sid = format!("CA{:032x}", c * GENUINE_EACH + i + 1);
        let params = vec![
            ("CallSid".into(), sid),
            ("CallStatus".into(), "completed".into()),
            ("SequenceNumber".into(), "3".into()),
        ];
        (params, Some(DEMO_AUTH_TOKEN))
    })
    .await;
    let genuine_secs = started.elapsed().as_secs_f64();
    let peak = common::status_kb(&pid, "VmHWM");
    child.start_kill()?;
    child.wait().await?;
    let lines = std::fs::read_to_string(&log)?.lines().count();

    println!("receiver: `dialer serve`, {CLIENTS} clients, loopback");
    println!("  run with: cargo bench --bench receiver");
    println!();
    println!(
        "forged:  {} sent, {} refused (403/413), {:.0} refused/s",
        forged.len(),
        forged.iter().filter(|s| matches!(s, 403 | 413)).count(),
        forged.iter().filter(|s| matches!(s, 403 | 413)).count() as f64 / forged_secs
    );
    println!(
        "genuine: {} sent, {} recorded (200), {:.0} recorded/s",
        genuine.len(),
        genuine.iter().filter(|s| **s == 200).count(),
        genuine.iter().filter(|s| **s == 200).count() as f64 / genuine_secs
    );
    println!("log:     {lines} lines in all");
    println!(
        "memory:  peak RSS {}",
        peak.map(common::megabytes).unwrap_or_else(|| "-".into())
    );
    println!();
    println!(
        "forged callbacks a client saw fail (closed under a 1 MB body) are not counted refused"
    );
    Ok(())
}

type Request = (Vec<(String, String)>, Option<&'static str>);

/// `CLIENTS` tasks sending `each` requests built by `make(client, index)`; the statuses seen.
async fn send(url: &str, each: usize, make: fn(usize, usize) -> Request) -> Vec<u16> {
    let http = reqwest::Client::new();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (http, url) = (http.clone(), url.to_owned());
            tokio::spawn(async move {
                let mut statuses = Vec::with_capacity(each);
                for i in 0..each {
                    let (params, token) = make(c, i);
                    let signed = signature::sign(token.unwrap_or("forged"), &url, &params);
                    let status = http
                        .post(&url)
                        .header("X-Twilio-Signature", signed)
                        .form(&params)
                        .send()
                        .await
                        .map_or(0, |r| r.status().as_u16());
                    statuses.push(status);
                }
                statuses
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap_or_default());
    }
    all
}
