//! Opt-outs on real runs: recorded once with `dialer optout` or by a CRM on `dialer serve`
//! (with its bearer token; without it nothing is stored), honoured by every campaign of the
//! database from the next claim on, a running run included.

use crate::outcomes::{free_port, with_callbacks};
use crate::support::campaign::{
    TestCampaign, numbers, output, sandbox, sandbox_config, until_creates,
};
use crate::support::exit::{CONFIG, DONE};
use crate::support::sandbox::eventually;
use dialer::domain::Cps;
use dialer::sandbox::{Sandbox, SandboxConfig};
use std::os::unix::fs::PermissionsExt;

async fn sandbox_at(cps: u32) -> Sandbox {
    sandbox(SandboxConfig {
        cps: Cps::new(cps).unwrap(),
        ..sandbox_config()
    })
    .await
}

#[tokio::test]
async fn a_number_opted_out_on_the_command_line_is_never_dialed_and_the_report_counts_it() {
    // Arrange
    let sandbox = sandbox_at(30).await;
    let campaign = TestCampaign::new(30, &numbers(4), "");
    let add = campaign
        .subcommand(&sandbox, "optout", &[])
        .output()
        .await
        .unwrap();
    assert_eq!(add.status.code(), Some(2), "no subcommand: usage");

    // Act
    let added = optout(
        &campaign,
        &sandbox,
        &["add", "+14155550001", "--note", "asked on the phone"],
    )
    .await;
    let refused = optout(&campaign, &sandbox, &["add", "not a number"]).await;
    let listed = optout(&campaign, &sandbox, &["list", "--json"]).await;
    let plan = campaign
        .subcommand(&sandbox, "plan", &["--json"])
        .output()
        .await
        .unwrap();
    let run = campaign.run(&sandbox, &[]).await;
    let report = campaign.manage(&["report", "--json"]).await;

    // Assert
    assert_eq!(added.code, DONE, "{added:?}");
    assert_eq!(refused.code, CONFIG, "{refused:?}");
    let listed: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(listed[0]["number"], "+14155550001");
    assert_eq!(listed[0]["source"], "cli");
    assert_eq!(listed[0]["note"], "asked on the phone");
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(plan["callable"], 3, "{plan}");
    assert_eq!(plan["held"][0]["rule"], "opted out (dialer optout)");
    assert_eq!(run.code, DONE, "{run:?}");
    let called: Vec<String> = sandbox.stats().creates_by_to.into_keys().collect();
    assert_eq!(called, ["+14155550000", "+14155550002", "+14155550003"]);
    let report: serde_json::Value = serde_json::from_str(&report.stdout).unwrap();
    assert_eq!(report["opted_out"]["rows"], 1);
    assert_eq!(
        report["not_dialed"][0]["reason"],
        "suppressed: opted out (dialer optout)"
    );
}

#[tokio::test]
async fn an_opt_out_posted_to_serve_during_a_run_stops_that_number_and_needs_the_token() {
    // Arrange: a run at 2 CPS over 10 people; `dialer serve` takes opt-outs with a token.
    let sandbox = sandbox_at(2).await;
    let port = free_port();
    let campaign = TestCampaign::new(2, &numbers(10), &with_callbacks(port, ""));
    let token_file = campaign.dir.path().join("optout.token");
    std::fs::write(&token_file, "tok-3f9a\n").unwrap();
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let _serve = campaign
        .subcommand(
            &sandbox,
            "serve",
            &["--optout-token-file", token_file.to_str().unwrap()],
        )
        .spawn()
        .unwrap();
    let address = format!("127.0.0.1:{port}");
    assert!(eventually(|| async { tokio::net::TcpStream::connect(&address).await.is_ok() }).await);
    let url = format!("http://{address}/optouts");
    let run = campaign.command(&sandbox, &[]).spawn().unwrap();
    until_creates(&sandbox, 1).await;

    // Act: the last person opts out while the first ones are being called.
    let client = reqwest::Client::new();
    let post = |token: Option<&'static str>, number: &'static str| {
        let mut request = client.post(&url).form(&[("number", number)]);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let without = post(None, "+14155550008").await;
    let wrong = post(Some("tok-3f9b"), "+14155550008").await;
    let with_json = client
        .post(&url)
        .bearer_auth("tok-3f9a")
        .json(&serde_json::json!({"number": "+14155550009", "expires": "365d"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    let bad = post(Some("tok-3f9a"), "nine").await;
    let run = output(run).await;

    // Assert: only the authorised opt-out was stored, and honoured by the running run.
    assert_eq!((without, wrong, with_json, bad), (401, 401, 201, 422));
    assert_eq!(run.code, DONE, "{run:?}");
    let called = sandbox.stats().creates_by_to;
    assert!(!called.contains_key("+14155550009"), "{called:?}");
    assert!(
        called.contains_key("+14155550008"),
        "an unauthorised opt-out is not stored"
    );
    assert_eq!(called.len(), 9);
    let store = campaign.open_store().await;
    let opt_outs = store.opt_outs().await.unwrap();
    store.close().await;
    assert_eq!(opt_outs.len(), 1);
    assert!(opt_outs[0].expires_at.is_some());
}

async fn optout(
    campaign: &TestCampaign,
    sandbox: &Sandbox,
    args: &[&str],
) -> crate::support::campaign::RunOutput {
    let mut command = crate::support::campaign::dialer_at(sandbox, &["optout", args[0]]);
    command.arg(&campaign.file).args(&args[1..]);
    output(command.spawn().unwrap()).await
}

#[tokio::test]
async fn a_person_with_two_numbers_under_a_cap_of_one_call_is_called_once() {
    // Arrange: Ada has two numbers, Bob one; one call per person a day.
    let sandbox = sandbox_at(30).await;
    let list = "to,person\n+14155550000,crm-ada\n+14155550001,crm-ada\n+14155550002,crm-bob\n";
    let cap = "[frequency]\nmax_calls = 1\nwithin = \"24h\"\n";
    let campaign = TestCampaign::new(30, list, cap);

    // Act
    let run = campaign.run(&sandbox, &[]).await;
    let report = campaign.manage(&["report", "--json"]).await;

    // Assert
    assert_eq!(run.code, crate::support::exit::STOPPED_EARLY, "{run:?}");
    let called: Vec<String> = sandbox.stats().creates_by_to.into_keys().collect();
    assert_eq!(called, ["+14155550000", "+14155550002"]);
    let report: serde_json::Value = serde_json::from_str(&report.stdout).unwrap();
    let reason = report["not_dialed"][0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("held back by the frequency cap until "),
        "{reason}"
    );
}
