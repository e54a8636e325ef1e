//! Secrets stay secret and numbers stay masked: after a campaign run at the most verbose log
//! level, with errors on the way, nothing the run wrote contains the auth token (plain or as
//! the Basic credentials it travels in), and the logs hold no full phone number.

use crate::support::campaign::{RunOutput, TestCampaign, numbers, output, sandbox, sandbox_config};
use crate::support::exit::{CONFIG, DONE, DONE_WITH_FAILURES};
use base64::Engine;
use dialer::domain::ApiKeySid;
use dialer::sandbox::{DEMO_ACCOUNT_SID, SandboxConfig};

const TOKEN: &str = "tok-3f9a1c77e0d54b2b9e7d";
const API_KEY: &str = "SK0123456789abcdef0123456789abcdef";
const API_SECRET: &str = "sec-8d1e55b0c2a94f7e";
const WRONG_SECRET: &str = "sec-not-this-one-4c1d";

#[tokio::test]
async fn no_output_file_or_log_of_a_run_contains_the_auth_token_or_a_full_number() {
    token_and_numbers_stay_out_of_a_run_logged_as("text").await;
}

#[tokio::test]
async fn json_logs_keep_the_auth_token_and_full_numbers_out_as_text_logs_do() {
    let stderr = token_and_numbers_stay_out_of_a_run_logged_as("json").await;
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .all(|l| l["level"].is_string() && l["timestamp"].is_string())
    );
    // A dial's lines carry its span's fields (label, attempt) and the run's (campaign) as keys.
    let dials: Vec<_> = lines.iter().filter(|l| l["attempt"].is_u64()).collect();
    assert!(!dials.is_empty(), "lines of a dial: {stderr}");
    for line in dials {
        assert_eq!(line["campaign"], "test", "{line}");
        assert!(line["label"].is_string(), "{line}");
    }
}

/// Runs a campaign with errors on the way at the most verbose level, logging in `format`;
/// asserts that no output holds the token or a full number; returns the run's stderr.
async fn token_and_numbers_stay_out_of_a_run_logged_as(format: &str) -> String {
    let sandbox = sandbox(SandboxConfig {
        auth_token: TOKEN.to_string().into(),
        share_drop: 0.2,
        share_429: 0.1,
        invalid_to_prefix: Some("+1415555000".into()),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(30, &format!("{}4155550000\n", numbers(20)), "");

    let metrics = campaign.dir.path().join("dialer.prom");
    let child = campaign
        .command(&sandbox, &["--metrics-file", metrics.to_str().unwrap()])
        .env("TWILIO_AUTH_TOKEN", TOKEN)
        .env("RUST_LOG", "trace")
        .env("DIALER_LOG_FORMAT", format)
        .spawn()
        .unwrap();
    let run = output(child).await;

    let written = everything_written(&campaign, &run).await;
    assert_nowhere(
        &[TOKEN, &basic_credentials(DEMO_ACCOUNT_SID, TOKEN)],
        &written,
    );
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
    run.stderr
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
        out.status.success() || out.status.code() == DONE_WITH_FAILURES,
        "{command}: {out:?}"
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test]
async fn an_api_key_secret_accepted_or_refused_stays_out_of_every_output() {
    let sandbox = sandbox(SandboxConfig {
        api_key: Some(ApiKeySid::parse(API_KEY).unwrap()),
        api_secret: Some(API_SECRET.to_string().into()),
        share_drop: 0.2,
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(30, &numbers(10), "");
    let with_secret = |secret: &str| {
        let mut cmd = campaign.command(&sandbox, &[]);
        cmd.env_remove("TWILIO_AUTH_TOKEN")
            .env("TWILIO_API_KEY", API_KEY)
            .env("TWILIO_API_SECRET", secret)
            .env("RUST_LOG", "trace");
        cmd
    };

    let refused = output(with_secret(WRONG_SECRET).spawn().unwrap()).await;
    let run = output(with_secret(API_SECRET).spawn().unwrap()).await;

    assert_eq!(refused.code, CONFIG, "{refused:?}");
    assert_eq!(run.code, DONE, "{run:?}");
    let mut written = everything_written(&campaign, &run).await;
    written.push(("refused run's stdout".into(), refused.stdout.into_bytes()));
    written.push(("refused run's stderr".into(), refused.stderr.into_bytes()));
    assert_nowhere(
        &[
            API_SECRET,
            WRONG_SECRET,
            &basic_credentials(API_KEY, API_SECRET),
            &basic_credentials(API_KEY, WRONG_SECRET),
        ],
        &written,
    );
}

/// Secrets come from the environment or a credentials file only: no command has an option
/// that would put one in the process list.
#[test]
fn no_command_takes_a_secret_as_an_argument() {
    let commands: &[&[&str]] = &[
        &[],
        &["run"],
        &["participants", "create"],
        &["participants", "list"],
        &["demo"],
        &["sandbox"],
        &["serve"],
        &["sync"],
        &["report"],
        &["export"],
        &["campaign", "pause"],
        &["campaign", "requeue"],
        &["optout", "add"],
        &["plan"],
    ];
    for command in commands {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_dialer"))
            .args(*command)
            .arg("--help")
            .output()
            .unwrap();
        assert!(out.status.success(), "{command:?} --help: {out:?}");
        let help = String::from_utf8_lossy(&out.stdout).to_lowercase();
        let options: Vec<&str> = help
            .split_whitespace()
            .filter(|w| w.starts_with("--"))
            // A file that holds a secret is named, never the secret itself.
            .filter(|w| !w.ends_with("-file"))
            .filter(|w| {
                ["token", "secret", "password"]
                    .iter()
                    .any(|s| w.contains(s))
            })
            .collect();
        assert!(options.is_empty(), "{command:?} takes {options:?}");
    }
}

fn basic_credentials(user: &str, secret: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"))
}

/// A run's output, the report and export after it, and every file in the campaign's folder
/// (the database and its WAL, the list, the rejects file, the campaign file).
async fn everything_written(campaign: &TestCampaign, run: &RunOutput) -> Vec<(String, Vec<u8>)> {
    let mut written: Vec<(String, Vec<u8>)> = vec![
        ("stdout".into(), run.stdout.clone().into_bytes()),
        ("stderr".into(), run.stderr.clone().into_bytes()),
        (
            "report".into(),
            dialer_output(campaign, "report").await.into_bytes(),
        ),
        (
            "export".into(),
            dialer_output(campaign, "export").await.into_bytes(),
        ),
    ];
    // The HTML report is a file of the campaign's folder, read below with the others.
    let html = campaign.dir.path().join("report.html");
    let made = tokio::process::Command::new(env!("CARGO_BIN_EXE_dialer"))
        .args(["report", "--html", html.to_str().unwrap()])
        .arg(&campaign.file)
        .output()
        .await
        .unwrap();
    assert!(made.status.success(), "report --html: {made:?}");
    for entry in std::fs::read_dir(campaign.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        written.push((path.display().to_string(), std::fs::read(&path).unwrap()));
    }
    written
}

fn assert_nowhere(secrets: &[&str], written: &[(String, Vec<u8>)]) {
    for (name, bytes) in written {
        let text = String::from_utf8_lossy(bytes);
        for secret in secrets {
            assert!(!text.contains(secret), "{secret:?} is in {name}");
        }
    }
}

/// SQL lives in the store only, and every statement is a literal with bound parameters: no
/// query text is ever built from data.
#[test]
fn sql_is_only_in_the_store_and_only_literal_statements() {
    let mut checked = 0;
    for path in rust_files(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let in_store = path.components().any(|c| c.as_os_str() == "store");
        if !in_store {
            assert!(!text.contains("sqlx::"), "{} uses sqlx", path.display());
            continue;
        }
        for (at, _) in text.match_indices("sqlx::query") {
            let call = &text[at..];
            let open = call.find('(').unwrap();
            let argument = call[open + 1..].trim_start();
            assert!(
                argument.starts_with('"') || argument.starts_with("r#\""),
                "{}: a query whose text is not a literal: {}",
                path.display(),
                &call[..call.len().min(80)]
            );
            checked += 1;
        }
    }
    assert!(
        checked > 20,
        "found only {checked} queries: is the scan right?"
    );
}

fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn a_database_password_stays_out_of_every_output_whether_the_database_answers_or_not() {
    // Arrange: the shared database's address with a password (the test server trusts any).
    const PASSWORD: &str = "pw-6c2f0e91d8a4";
    let db = crate::support::postgres::fresh_database().await;
    let with_password = db
        .url
        .replacen("postgres@", &format!("postgres:{PASSWORD}@"), 1);
    let unreachable = format!("postgres://postgres:{PASSWORD}@127.0.0.1:9/nowhere");
    let sandbox = sandbox(sandbox_config()).await;
    let campaign = TestCampaign::new(30, &numbers(5), "");
    let metrics = campaign.dir.path().join("dialer.prom");
    let html = campaign.dir.path().join("report.html");
    let (metrics_path, html_path) = (metrics.to_str().unwrap(), html.to_str().unwrap());

    // Act: a run and reports on the database, then a run that cannot reach it.
    let mut ran = Vec::new();
    for (url, args) in [
        (&with_password, &["run", "--metrics-file", metrics_path][..]),
        (&with_password, &["report"][..]),
        (&with_password, &["report", "--html", html_path][..]),
        (&unreachable, &["run"][..]),
    ] {
        let child = crate::support::campaign::dialer_at(&sandbox, args)
            .arg(&campaign.file)
            .env("DIALER_DATABASE_URL", url)
            .env("RUST_LOG", "trace")
            .spawn()
            .unwrap();
        ran.push(output(child).await);
    }

    // Assert
    assert_eq!(ran[0].code, DONE, "{:?}", ran[0]);
    assert_eq!(ran[1].code, DONE, "{:?}", ran[1]);
    assert_eq!(ran[2].code, DONE, "{:?}", ran[2]);
    assert_ne!(ran[3].code, DONE, "{:?}", ran[3]);
    assert!(
        ran[3]
            .stderr
            .contains("postgres://postgres:***@127.0.0.1:9/nowhere"),
        "the address is named, masked: {}",
        ran[3].stderr
    );
    for file in [&metrics, &html] {
        let text = std::fs::read_to_string(file).expect("written");
        assert!(
            !text.contains(PASSWORD),
            "the password in {}",
            file.display()
        );
    }
    for out in &ran {
        assert!(
            !out.stdout.contains(PASSWORD) && !out.stderr.contains(PASSWORD),
            "the password in an output: {out:?}"
        );
    }
}

#[tokio::test]
async fn cells_a_spreadsheet_would_evaluate_are_exported_and_rejected_as_text() {
    // Arrange: labels shaped as formulas, and a rejected line shaped as one.
    let sandbox = sandbox(sandbox_config()).await;
    let list = "to,label\n\
                +15550000001,\"=cmd|\"\" /C calc\"\"!A0\"\n\
                +15550000002,@SUM(1)\n\
                +15550000003,-2+3\n\
                =HYPERLINK(\"\"http://x\"\"),plain\n";
    let campaign = TestCampaign::new(30, list, "");

    // Act
    let run = campaign.run(&sandbox, &[]).await;
    let export = campaign.export().await;
    let rejects = std::fs::read(campaign.dir.path().join("list.rejects.csv")).unwrap();

    // Assert: every such cell starts with `'`; E.164 numbers are as they were.
    assert_eq!(run.code, DONE_WITH_FAILURES, "{run:?}");
    let by_line = |line: &str| {
        export
            .iter()
            .find(|r| &r[0] == line)
            .unwrap_or_else(|| panic!("line {line} in {export:?}"))
            .clone()
    };
    assert_eq!(
        (&by_line("2")[1], &by_line("2")[2]),
        ("+15550000001", "'=cmd|\" /C calc\"!A0")
    );
    assert_eq!(&by_line("3")[2], "'@SUM(1)");
    assert_eq!(&by_line("4")[2], "'-2+3");
    assert!(
        by_line("5")[1].starts_with("'=HYPERLINK"),
        "{:?}",
        by_line("5")
    );
    let rejects: Vec<csv::StringRecord> = csv::Reader::from_reader(rejects.as_slice())
        .records()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert!(rejects[0][2].starts_with("'=HYPERLINK"), "{rejects:?}");
}

#[tokio::test]
async fn control_characters_from_a_list_reach_no_terminal_or_log_unescaped() {
    // Arrange: an escape sequence that retitles a terminal in a header and in a `to` cell, and
    // a 10 KB header name.
    let sandbox = sandbox(sandbox_config()).await;
    let long = "h".repeat(10_000);
    let list =
        format!("to,\u{1b}]0;owned\u{7},{long}\n+15550000001,a,b\n+1555\u{1b}[2J0000002,a,b\n");
    let campaign = TestCampaign::new(30, &list, "");

    // Act
    let run = campaign.run(&sandbox, &[]).await;
    let report = campaign.manage(&["report"]).await;

    // Assert: nothing printed holds a control character but line ends, nor the whole long name.
    assert_eq!(run.code, DONE_WITH_FAILURES, "{run:?}");
    for (what, text) in [
        ("run stdout", &run.stdout),
        ("run stderr", &run.stderr),
        ("report", &report.stdout),
    ] {
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{what}: {text:?}"
        );
        assert!(!text.contains(&long), "{what} holds the whole 10 KB name");
    }
    assert!(run.stderr.contains("\\x1b]0;owned\\x07"), "{}", run.stderr);
}

#[tokio::test]
async fn a_credentials_file_every_user_can_read_stops_the_run_before_any_call() {
    use std::os::unix::fs::PermissionsExt;
    // Arrange: the campaign's credentials in a file left readable by every user.
    let sandbox = sandbox(sandbox_config()).await;
    let campaign = TestCampaign::new(30, &numbers(3), "");
    campaign.set(
        "request_timeout",
        "\"1s\"\ncredentials_file = \"secrets.env\"",
    );
    let secrets = campaign.dir.path().join("secrets.env");
    std::fs::write(
        &secrets,
        format!("TWILIO_ACCOUNT_SID={DEMO_ACCOUNT_SID}\nTWILIO_AUTH_TOKEN=sandbox-auth-token\n"),
    )
    .unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run_with_file = |campaign: &TestCampaign| {
        let mut command = campaign.command(&sandbox, &[]);
        command
            .env_remove("TWILIO_ACCOUNT_SID")
            .env_remove("TWILIO_AUTH_TOKEN");
        output(command.spawn().expect("dialer starts"))
    };

    // Act
    let exposed = run_with_file(&campaign).await;
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    let kept = run_with_file(&campaign).await;

    // Assert
    assert_eq!(exposed.code, CONFIG, "{exposed:?}");
    assert!(exposed.stderr.contains("chmod 600"), "{}", exposed.stderr);
    assert_eq!(kept.code, DONE, "{kept:?}");
    assert_eq!(sandbox.stats().creates, 3, "only the second run called");
}
