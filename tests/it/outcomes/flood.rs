//! The receiver under a flood and against clients that hold connections: it refuses what is
//! not Twilio's without narrating every refusal, never stalls on a log nobody reads, cuts off
//! slow clients, and still records a genuine callback.

use super::{event_count, free_port, post, with_callbacks};
use crate::support::campaign::{TestCampaign, numbers, sandbox, sandbox_config};
use crate::support::sandbox::eventually;
use dialer::sandbox::{DEMO_AUTH_TOKEN, Sandbox};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const GENUINE_SID: &str = "CA00000000000000000000000000000042";

/// `dialer serve` with stderr going to `stderr`, listening on `port`.
async fn serve_with(
    campaign: &TestCampaign,
    sandbox: &Sandbox,
    port: u16,
    stderr: Stdio,
) -> (tokio::process::Child, String) {
    let child = campaign
        .subcommand(sandbox, "serve", &[])
        .env("RUST_LOG", "info")
        .stderr(stderr)
        .spawn()
        .expect("dialer serve starts");
    let address = format!("127.0.0.1:{port}");
    let listening = eventually(|| async { tokio::net::TcpStream::connect(&address).await.is_ok() });
    assert!(listening.await, "dialer serve listens on {address}");
    (child, format!("http://{address}/twilio/status"))
}

/// `clients` tasks posting `each` forged callbacks, every tenth with a 1 MB body if `large`;
/// returns the statuses seen.
async fn flood(url: &str, clients: usize, each: usize, large: bool) -> Vec<u16> {
    let http = reqwest::Client::new();
    let big = "x".repeat(1024 * 1024);
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (http, url, big) = (http.clone(), url.to_owned(), big.clone());
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for i in 0..each {
                    let body = if large && (c * each + i).is_multiple_of(10) {
                        format!("CallSid={GENUINE_SID}&pad={big}")
                    } else {
                        format!("CallSid={GENUINE_SID}&CallStatus=completed")
                    };
                    let status = http
                        .post(&url)
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .header("X-Twilio-Signature", "forged")
                        .body(body)
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                        .unwrap_or(0);
                    statuses.push(status);
                }
                statuses
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("flood task"));
    }
    all
}

fn genuine() -> [(&'static str, &'static str); 3] {
    [
        ("CallSid", GENUINE_SID),
        ("CallStatus", "completed"),
        ("SequenceNumber", "3"),
    ]
}

#[tokio::test]
async fn a_flood_of_forged_callbacks_with_a_log_nobody_reads_never_stops_a_genuine_one() {
    let sandbox = sandbox(sandbox_config()).await;
    let port = free_port();
    let campaign = TestCampaign::new(1, &numbers(1), &with_callbacks(port, ""));
    // Piped and never read: once the pipe's buffer is full, every write to it would block.
    let (_child, url) = serve_with(&campaign, &sandbox, port, Stdio::piped()).await;

    let statuses = flood(&url, 8, 400, true).await;

    // 0: the connection was closed under a large body (refused before it was read).
    let others: Vec<_> = statuses
        .iter()
        .filter(|s| !matches!(s, 0 | 403 | 413))
        .collect();
    assert!(
        others.is_empty(),
        "every forged callback is refused: {others:?}"
    );
    assert!(
        statuses.contains(&413),
        "large bodies are refused as too large"
    );
    let accepted = tokio::time::timeout(
        Duration::from_secs(10),
        post(&url, Some(DEMO_AUTH_TOKEN), &genuine()),
    )
    .await
    .expect("the receiver still answers");
    assert_eq!(accepted, 200);
    assert_eq!(event_count(&campaign, GENUINE_SID).await, 1);
}

#[tokio::test]
async fn thousands_of_refusals_leave_a_few_log_lines_with_the_right_counts() {
    let sandbox = sandbox(sandbox_config()).await;
    let port = free_port();
    let campaign = TestCampaign::new(1, &numbers(1), &with_callbacks(port, ""));
    let log = campaign.dir.path().join("serve.log");
    let file = std::fs::File::create(&log).unwrap();
    let (mut child, url) = serve_with(&campaign, &sandbox, port, Stdio::from(file)).await;

    let statuses = flood(&url, 4, 500, false).await;
    // The summary comes every 10 s.
    tokio::time::sleep(Duration::from_secs(11)).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("refused")).collect();
    assert!(
        lines.len() <= 4,
        "a few lines, not one per refusal: {lines:#?}"
    );
    let told_at_once = lines
        .iter()
        .filter(|l| l.contains("status callback refused"))
        .count();
    let summed: u64 = lines
        .iter()
        .filter_map(|l| {
            l.split("refused ")
                .nth(1)?
                .split(' ')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum();
    let refused = statuses.iter().filter(|s| **s == 403).count();
    assert_eq!(refused, statuses.len(), "every forged callback is refused");
    assert_eq!(
        told_at_once as u64 + summed,
        refused as u64,
        "every refusal is counted: {lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("{} bad signatures", refused - 1))),
        "{lines:#?}"
    );
}

#[tokio::test]
async fn slow_headers_and_slow_bodies_are_cut_off_while_a_genuine_callback_gets_through() {
    let sandbox = sandbox(sandbox_config()).await;
    let port = free_port();
    let campaign = TestCampaign::new(1, &numbers(1), &with_callbacks(port, ""));
    let (_child, url) = serve_with(&campaign, &sandbox, port, Stdio::null()).await;
    let address = format!("127.0.0.1:{port}");

    let mut slow_header = tokio::net::TcpStream::connect(&address).await.unwrap();
    slow_header
        .write_all(b"POST /twilio/status HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut slow_body = tokio::net::TcpStream::connect(&address).await.unwrap();
    slow_body
        .write_all(
            b"POST /twilio/status HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nCallSid=",
        )
        .await
        .unwrap();
    let accepted = post(&url, Some(DEMO_AUTH_TOKEN), &genuine()).await;
    assert_eq!(accepted, 200, "a genuine callback gets through meanwhile");

    // Both are cut off within the receiver's bounds (10 s), never held open.
    for (what, stream) in [
        ("slow header", &mut slow_header),
        ("slow body", &mut slow_body),
    ] {
        let closed = tokio::time::timeout(Duration::from_secs(15), async {
            let mut buf = [0u8; 1024];
            loop {
                match tokio::io::AsyncReadExt::read(stream, &mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "the {what} client is still connected");
    }
}

/// One slowloris connection after another from `source`: each sends a request line, then a
/// header byte a second, and opens again once the receiver closes it; until `stop`.
async fn slowloris(
    address: String,
    source: &'static str,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    while !*stop.borrow() {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
        if let Ok(mut stream) = socket.connect(address.parse().unwrap()).await {
            let mut dribble = b"POST /twilio/status HTTP/1.1\r\nX-Slow: ".iter().copied();
            let _ = stream.write_all(&[dribble.next().unwrap()]).await;
            loop {
                let mut stop = stop.clone();
                let mut buf = [0u8; 64];
                tokio::select! {
                    _ = stop.changed() => return,
                    read = stream.read(&mut buf) => if matches!(read, Ok(0) | Err(_)) { break },
                    () = tokio::time::sleep(Duration::from_secs(1)) => {
                        let byte = dribble.next().unwrap_or(b'x');
                        if stream.write_all(&[byte]).await.is_err() { break }
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn a_slowloris_from_a_few_addresses_leaves_every_genuine_callback_answered() {
    // Arrange: 600 connections (more than the receiver holds in all) that send their headers
    // a byte a second, from two addresses other than the genuine callbacks' one.
    let sandbox = sandbox(sandbox_config()).await;
    let port = free_port();
    let campaign = TestCampaign::new(1, &numbers(1), &with_callbacks(port, ""));
    let (_child, url) = serve_with(&campaign, &sandbox, port, Stdio::null()).await;
    let address = format!("127.0.0.1:{port}");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let attackers: Vec<_> = (0..600)
        .map(|i| {
            let source = if i % 2 == 0 { "127.0.0.2" } else { "127.0.0.3" };
            tokio::spawn(slowloris(address.clone(), source, stopped.clone()))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Act: 80 genuine callbacks, 8 at a time, each given the 15 s Twilio waits.
    let mut statuses = Vec::new();
    for batch in 0..10 {
        let sent: Vec<_> = (0..8)
            .map(|i| {
                let url = url.clone();
                tokio::spawn(async move {
                    let sid = format!("CA{:032x}", batch * 8 + i + 1);
                    let event = [
                        ("CallSid", sid.as_str()),
                        ("CallStatus", "completed"),
                        ("SequenceNumber", "3"),
                    ];
                    tokio::time::timeout(
                        Duration::from_secs(15),
                        post(&url, Some(DEMO_AUTH_TOKEN), &event),
                    )
                    .await
                    .unwrap_or(0)
                })
            })
            .collect();
        for task in sent {
            statuses.push(task.await.unwrap());
        }
    }
    stop.send(true).unwrap();
    for attacker in attackers {
        attacker.await.unwrap();
    }

    // Assert
    assert_eq!(statuses, vec![200; 80], "every genuine callback answered");
    assert_eq!(
        event_count(&campaign, "CA00000000000000000000000000000050").await,
        1
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_answered_413_and_the_client_reads_it() {
    let sandbox = sandbox(sandbox_config()).await;
    let port = free_port();
    let campaign = TestCampaign::new(1, &numbers(1), &with_callbacks(port, ""));
    let (_child, url) = serve_with(&campaign, &sandbox, port, Stdio::null()).await;
    let http = reqwest::Client::new();

    // A client writes its whole body before it reads: cut off while writing, it would see a
    // broken pipe instead of the answer.
    let mut answers = Vec::new();
    for size in [100 * 1024, 1024 * 1024, 3 * 1024 * 1024].repeat(3) {
        let answer = http
            .post(&url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("X-Twilio-Signature", "forged")
            .body(format!("CallSid={GENUINE_SID}&pad={}", "x".repeat(size)))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| format!("{size} bytes: {e:?}"));
        answers.push(answer);
    }

    assert_eq!(answers, vec![Ok(413); 9]);
    let after = post(&url, Some(DEMO_AUTH_TOKEN), &genuine()).await;
    assert_eq!(after, 200, "the receiver goes on");
}
