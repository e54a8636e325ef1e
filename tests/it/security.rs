//! Secrets stay secret and numbers stay masked: after a campaign run at the most verbose log
//! level, with errors on the way, nothing the run wrote contains the auth token (plain or as
//! the Basic credentials it travels in), and the logs hold no full phone number.

use crate::support::campaign::{TestCampaign, numbers, sandbox, sandbox_config};
use base64::Engine;
use dialer::sandbox::{DEMO_ACCOUNT_SID, SandboxConfig};

const TOKEN: &str = "tok-3f9a1c77e0d54b2b9e7d";

#[tokio::test]
async fn no_output_file_or_log_of_a_run_contains_the_auth_token_or_a_full_number() {
    let sandbox = sandbox(SandboxConfig {
        auth_token: TOKEN.to_string().into(),
        share_drop: 0.2,
        share_429: 0.1,
        invalid_to_prefix: Some("+1415555000".into()),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(30, &format!("{}4155550000\n", numbers(20)), "");

    let child = campaign
        .command(&sandbox, &[])
        .env("TWILIO_AUTH_TOKEN", TOKEN)
        .env("RUST_LOG", "trace")
        .spawn()
        .unwrap();
    let run = crate::support::campaign::output(child).await;
    let report = dialer_output(&campaign, "report").await;
    let export = dialer_output(&campaign, "export").await;

    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{DEMO_ACCOUNT_SID}:{TOKEN}"));
    let mut written: Vec<(String, Vec<u8>)> = vec![
        ("stdout".into(), run.stdout.clone().into_bytes()),
        ("stderr".into(), run.stderr.clone().into_bytes()),
        ("report".into(), report.into_bytes()),
        ("export".into(), export.into_bytes()),
    ];
    // The database (and its WAL), the list, the rejects file, the campaign file.
    for entry in std::fs::read_dir(campaign.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        written.push((path.display().to_string(), std::fs::read(&path).unwrap()));
    }
    for (name, bytes) in &written {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains(TOKEN), "the token is in {name}");
        assert!(
            !text.contains(&basic),
            "the Basic credentials are in {name}"
        );
    }
    assert!(
        run.stderr.lines().count() > 5,
        "the run logged: {}",
        run.stderr
    );
    for n in 0..20 {
        let number = format!("+1415555{n:04}");
        assert!(
            !run.stderr.contains(&number[1..]),
            "{number} in full in the logs"
        );
    }
}

async fn dialer_output(campaign: &TestCampaign, command: &str) -> String {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_dialer"))
        .arg(command)
        .arg(&campaign.file)
        .env("RUST_LOG", "trace")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success() || out.status.code() == Some(3),
        "{command}: {out:?}"
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
