//! Twilio's own Python helper library (PyPI `twilio`) as an independent client of the sandbox:
//! whatever the sandbox answers must parse there as it would from Twilio.
//!
//! `helper_library.py` beside this file does the requests and checks in Python what the
//! library parsed, then prints it as JSON; the assertions here are on those printed values.

use crate::support::sandbox::steady;
use crate::support::tools;
use dialer::sandbox::{DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, Sandbox};
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

const ROOM: &str = "Helper Library Room";
const LABEL: &str = "python-agent";
const TO: &str = "+14155550201";
const SECOND_TO: &str = "+14155550202";

fn sid<'a>(participant: &'a Value, field: &str) -> &'a str {
    participant[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {participant}"))
}

#[tokio::test]
async fn twilios_python_library_creates_fetches_and_lists_participants_on_the_sandbox() {
    // Arrange
    let python = tools::python();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/helper_library.py");
    let sandbox = Sandbox::start(steady()).await.expect("the sandbox starts");
    let mut cmd = tokio::process::Command::new(&python);
    cmd.arg(&script)
        .args([sandbox.base_url().as_str(), ROOM, LABEL, TO, SECOND_TO])
        .env("TWILIO_ACCOUNT_SID", DEMO_ACCOUNT_SID)
        .env("TWILIO_AUTH_TOKEN", DEMO_AUTH_TOKEN)
        .env_remove("TWILIO_EDGE")
        .env_remove("TWILIO_REGION")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);

    // Act
    let child = cmd.spawn().expect("python starts");
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("the script finishes within two minutes")
        .expect("the script's output");

    // Assert
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}\n{stdout}\n{stderr}", out.status);
    let seen: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));

    let created = &seen["created"];
    let call = sid(created, "call_sid");
    let conference = sid(created, "conference_sid");
    assert!(call.starts_with("CA") && call.len() == 34, "{created}");
    assert!(
        conference.starts_with("CF") && conference.len() == 34,
        "{created}"
    );
    assert_eq!(created["label"], LABEL);
    assert_eq!(created["account_sid"], DEMO_ACCOUNT_SID);
    assert_eq!(created["queue_time"], "0", "unpaced: {created}");
    assert_eq!(created["muted"], false);

    for fetched in [&seen["by_call_sid"], &seen["by_label"]] {
        assert_eq!(sid(fetched, "call_sid"), call, "{fetched}");
        assert_eq!(sid(fetched, "conference_sid"), conference, "{fetched}");
        assert_eq!(fetched["label"], LABEL);
        assert_eq!(fetched["date_created"], created["date_created"]);
    }

    let second = sid(&seen["second"], "call_sid");
    let listed: Vec<&str> = seen["listed"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| sid(p, "call_sid"))
        .collect();
    assert_eq!(listed, [call, second], "both pages, in joining order");

    let next_pages = seen["sent"]
        .as_array()
        .expect("the requests sent")
        .iter()
        .filter(|r| r["url"].as_str().is_some_and(|u| u.contains("PageToken=")))
        .count();
    assert_eq!(next_pages, 1, "the library followed next_page_uri once");

    let stats = sandbox.stats();
    assert_eq!(stats.creates, 2);
    assert_eq!(stats.creates_by_to.get(TO), Some(&1));
    assert_eq!(stats.creates_by_to.get(SECOND_TO), Some(&1));
}
