//! `dialer participants …` end to end: the real binary against an in-process sandbox, read
//! back through its stdout, stderr, exit code and the sandbox's own counters.

use crate::support::campaign::{RunOutput, dialer_at, output};
use crate::support::exit::{CONFIG, DONE, ERROR};
use crate::support::sandbox::steady;
use dialer::domain::CallSid;
use dialer::sandbox::{DEMO_ACCOUNT_SID, Sandbox, SandboxConfig};
use dialer::twilio::Participant;

const FROM: &str = "+15017122661";

async fn sandbox(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config).await.expect("the sandbox starts")
}

/// `dialer participants ARGS…` aimed at `sandbox`.
fn dialer(sandbox: &Sandbox, args: &[&str]) -> tokio::process::Command {
    let mut cmd = dialer_at(sandbox, &["participants"]);
    cmd.args(args);
    cmd
}

async fn run(mut cmd: tokio::process::Command) -> RunOutput {
    output(cmd.spawn().expect("dialer starts")).await
}

async fn participants(sandbox: &Sandbox, args: &[&str]) -> RunOutput {
    run(dialer(sandbox, args)).await
}

/// Creates a participant in `room` with `--json` and returns what the binary printed.
async fn create(sandbox: &Sandbox, room: &str, to: &str, label: &str) -> Participant {
    let out = participants(
        sandbox,
        &[
            "create",
            "--conference",
            room,
            "--from",
            FROM,
            "--to",
            to,
            "--label",
            label,
            "--json",
        ],
    )
    .await;
    assert_eq!(out.code, DONE, "{out:?}");
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

fn parse<T: serde::de::DeserializeOwned>(out: &RunOutput) -> T {
    assert_eq!(out.code, DONE, "{out:?}");
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

fn call_sids(list: &[Participant]) -> Vec<CallSid> {
    list.iter().filter_map(|p| p.call_sid.clone()).collect()
}

#[tokio::test]
async fn a_create_by_friendly_name_with_several_flags_prints_the_call_its_conference_label_and_status()
 {
    // Arrange
    let sandbox = sandbox(steady()).await;

    // Act
    let out = participants(
        &sandbox,
        &[
            "create",
            "--conference",
            "Renewals Room",
            "--from",
            FROM,
            "--to",
            "+14155550101",
            "--label",
            "agent-1",
            "--beep",
            "onEnter",
            "--timeout",
            "20",
            "--status-callback-event",
            "initiated",
            "--status-callback-event",
            "answered",
        ],
    )
    .await;

    // Assert
    assert_eq!(out.code, DONE, "{out:?}");
    let line = out.stdout.trim();
    let fields: Vec<&str> = line.split(' ').collect();
    assert!(
        fields[0].starts_with("CA") && fields[0].len() == 34,
        "{line}"
    );
    let conference = fields
        .iter()
        .find_map(|f| f.strip_prefix("conference="))
        .unwrap_or_else(|| panic!("no conference in {line}"));
    assert!(
        conference.starts_with("CF") && conference.len() == 34,
        "{line}"
    );
    assert!(fields.contains(&"label=agent-1"), "{line}");
    let status = fields
        .iter()
        .find_map(|f| f.strip_prefix("status="))
        .unwrap_or_else(|| panic!("no status in {line}"));
    assert!(
        ["queued", "connecting", "ringing", "connected"].contains(&status),
        "{line}"
    );
    assert_eq!(sandbox.stats().creates_by_to.get("+14155550101"), Some(&1));
}

#[tokio::test]
async fn a_create_with_json_prints_twilios_participant_with_its_queue_time() {
    // Arrange
    let sandbox = sandbox(steady()).await;

    // Act
    let out = participants(
        &sandbox,
        &[
            "create",
            "--conference",
            "JsonRoom",
            "--from",
            FROM,
            "--to",
            "+14155550102",
            "--label",
            "json-1",
            "--json",
        ],
    )
    .await;

    // Assert
    let created: Participant = parse(&out);
    assert!(
        created
            .call_sid
            .as_ref()
            .map(|s| s.as_str())
            .unwrap()
            .starts_with("CA")
    );
    assert!(
        created
            .conference_sid
            .as_ref()
            .map(|s| s.as_str())
            .unwrap()
            .starts_with("CF")
    );
    assert_eq!(created.label.as_deref(), Some("json-1"));
    assert_eq!(created.account_sid.as_deref(), Some(DEMO_ACCOUNT_SID));
    assert_eq!(created.queue_time_ms(), Some(0), "unpaced: {created:?}");
}

#[tokio::test]
async fn a_participant_is_found_by_its_label_and_by_its_call_sid() {
    // Arrange
    let sandbox = sandbox(steady()).await;
    let created = create(&sandbox, "FindRoom", "+14155550103", "find-me").await;
    let conference = created.conference_sid.as_ref().map(|s| s.as_str()).unwrap();
    let call = created.call_sid.as_ref().map(|s| s.as_str()).unwrap();

    // Act
    let by_label = participants(
        &sandbox,
        &["get", "--conference", conference, "find-me", "--json"],
    )
    .await;
    let by_call = participants(&sandbox, &["get", "--conference", conference, call]).await;

    // Assert
    let by_label: Participant = parse(&by_label);
    assert_eq!(by_label.call_sid.as_ref().map(|s| s.as_str()), Some(call));
    assert_eq!(by_label.label.as_deref(), Some("find-me"));
    assert_eq!(by_call.code, DONE, "{by_call:?}");
    assert!(by_call.stdout.starts_with(call), "{}", by_call.stdout);
    assert!(
        by_call.stdout.contains("label=find-me"),
        "{}",
        by_call.stdout
    );
}

#[tokio::test]
async fn an_update_to_muted_and_on_hold_shows_in_the_next_get() {
    // Arrange
    let sandbox = sandbox(steady()).await;
    let created = create(&sandbox, "HoldRoom", "+14155550104", "hold-me").await;
    let conference = created.conference_sid.as_ref().map(|s| s.as_str()).unwrap();
    assert_eq!((created.muted, created.hold), (Some(false), Some(false)));

    // Act
    let updated = participants(
        &sandbox,
        &[
            "update",
            "--conference",
            conference,
            "hold-me",
            "--muted",
            "true",
            "--hold",
            "true",
        ],
    )
    .await;
    let got = participants(&sandbox, &["get", "--conference", conference, "hold-me"]).await;

    // Assert
    assert_eq!(updated.code, DONE, "{updated:?}");
    assert_eq!(got.code, DONE, "{got:?}");
    assert!(
        got.stdout.contains("muted=true hold=true"),
        "{}",
        got.stdout
    );
}

#[tokio::test]
async fn a_list_follows_every_page_and_filters_on_muted() {
    // Arrange
    let sandbox = sandbox(steady()).await;
    let first = create(&sandbox, "ListRoom", "+14155550111", "list-1").await;
    let second = create(&sandbox, "ListRoom", "+14155550112", "list-2").await;
    let third = create(&sandbox, "ListRoom", "+14155550113", "list-3").await;
    let conference = first.conference_sid.clone().unwrap().to_string();
    assert_eq!(
        third.conference_sid.as_ref().map(|s| s.as_str()),
        Some(conference.as_str())
    );
    let muted = participants(
        &sandbox,
        &[
            "update",
            "--conference",
            &conference,
            "list-2",
            "--muted",
            "true",
        ],
    )
    .await;
    assert_eq!(muted.code, DONE, "{muted:?}");

    // Act
    let before = sandbox.stats().requests;
    let paged = participants(
        &sandbox,
        &[
            "list",
            "--conference",
            &conference,
            "--page-size",
            "1",
            "--json",
        ],
    )
    .await;
    let paged_requests = sandbox.stats().requests - before;
    let only_muted = participants(
        &sandbox,
        &["list", "--conference", &conference, "--json", "--muted"],
    )
    .await;
    let as_lines = participants(
        &sandbox,
        &["list", "--conference", &conference, "--page-size", "2"],
    )
    .await;

    // Assert
    let paged: Vec<Participant> = parse(&paged);
    let expected = call_sids(&[first, second.clone(), third]);
    assert_eq!(call_sids(&paged), expected, "every page, in joining order");
    assert_eq!(paged_requests, 3, "one request per page of one");
    let only_muted: Vec<Participant> = parse(&only_muted);
    assert_eq!(call_sids(&only_muted), call_sids(&[second]));
    assert_eq!(as_lines.code, DONE, "{as_lines:?}");
    assert!(
        as_lines.stdout.trim_end().ends_with("3 participant(s)"),
        "{}",
        as_lines.stdout
    );
}

#[tokio::test]
async fn a_removed_participant_is_gone_and_a_get_exits_one_with_error_20404() {
    // Arrange
    let sandbox = sandbox(steady()).await;
    let stays = create(&sandbox, "RemoveRoom", "+14155550121", "stays").await;
    let leaves = create(&sandbox, "RemoveRoom", "+14155550122", "leaves").await;
    let conference = stays.conference_sid.as_ref().map(|s| s.as_str()).unwrap();
    let call = leaves.call_sid.as_ref().map(|s| s.as_str()).unwrap();

    // Act
    let removed = participants(&sandbox, &["remove", "--conference", conference, call]).await;
    let got = participants(&sandbox, &["get", "--conference", conference, call]).await;

    // Assert
    assert_eq!(removed.code, DONE, "{removed:?}");
    assert!(
        removed
            .stdout
            .contains(&format!("removed {call} from {conference}")),
        "{}",
        removed.stdout
    );
    assert_eq!(got.code, ERROR, "{got:?}");
    assert!(got.stderr.contains("error 20404"), "{}", got.stderr);
    assert!(got.stdout.is_empty(), "{}", got.stdout);
}

#[tokio::test]
async fn invalid_parameters_are_refused_before_any_request_naming_the_parameter_and_its_rule() {
    // Arrange
    let sandbox = sandbox(steady()).await;
    let cases: [(&[&str], &[&str]); 3] = [
        (&["--timeout", "4"], &["--timeout", "must be from 5 to 600"]),
        (
            &["--coaching", "true"],
            &["CallSidToCoach", "is required when Coaching is true"],
        ),
        (&["--to", "12345"], &["--to", "E.164"]),
    ];

    for (flags, expected) in cases {
        let mut args = vec!["create", "--conference", "NeverRoom", "--from", FROM];
        if !flags.contains(&"--to") {
            args.extend(["--to", "+14155550131"]);
        }
        args.extend(flags);

        // Act
        let out = participants(&sandbox, &args).await;

        // Assert
        assert_eq!(out.code, CONFIG, "{flags:?}: {out:?}");
        for needle in expected {
            assert!(
                out.stderr.contains(needle),
                "{flags:?}: {needle:?} missing in {}",
                out.stderr
            );
        }
        assert!(out.stdout.is_empty(), "{flags:?}: {}", out.stdout);
    }
    assert_eq!(sandbox.stats().requests, 0, "nothing reached the sandbox");
}

#[tokio::test]
async fn a_refusal_from_twilio_is_printed_with_its_code_and_message_and_exits_one() {
    // Arrange
    let sandbox = sandbox(SandboxConfig {
        invalid_to_prefix: Some("+1555000".into()),
        ..steady()
    })
    .await;

    // Act
    let out = participants(
        &sandbox,
        &[
            "create",
            "--conference",
            "RefusedRoom",
            "--from",
            FROM,
            "--to",
            "+15550001234",
        ],
    )
    .await;

    // Assert
    assert_eq!(out.code, ERROR, "{out:?}");
    assert!(
        out.stderr
            .contains("error 21211: Invalid 'To' Phone Number"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert_eq!(sandbox.stats().creates, 0);
}

#[tokio::test]
async fn without_twilio_account_sid_the_command_exits_two_naming_the_variable() {
    // Arrange
    let sandbox = sandbox(steady()).await;
    let mut cmd = dialer(
        &sandbox,
        &["list", "--conference", &format!("CF{:032x}", 1)],
    );
    cmd.env_remove("TWILIO_ACCOUNT_SID");

    // Act
    let out = run(cmd).await;

    // Assert
    assert_eq!(out.code, CONFIG, "{out:?}");
    assert!(out.stderr.contains("TWILIO_ACCOUNT_SID"), "{}", out.stderr);
    assert_eq!(sandbox.stats().requests, 0);
}

#[tokio::test]
async fn the_auth_token_never_appears_in_the_output_even_with_trace_logging() {
    // Arrange
    const TOKEN: &str = "tok-9f4c1e7a-kept-out-of-every-log";
    const WRONG: &str = "tok-2b8d5f3c-a-wrong-one-kept-out-too";
    let sandbox = sandbox(SandboxConfig {
        auth_token: TOKEN.to_string().into(),
        ..steady()
    })
    .await;
    let traced = |args: &[&str], token: &str| {
        let mut cmd = dialer(&sandbox, args);
        cmd.env("TWILIO_AUTH_TOKEN", token).env("RUST_LOG", "trace");
        cmd
    };
    let create_args = [
        "create",
        "--conference",
        "SecretRoom",
        "--from",
        FROM,
        "--to",
        "+14155550141",
        "--label",
        "secret-1",
        "--json",
    ];

    // Act
    let created = run(traced(&create_args, TOKEN)).await;
    let created_json: Participant = parse(&created);
    let conference = created_json.conference_sid.clone().unwrap().to_string();
    let listed = run(traced(&["list", "--conference", &conference], TOKEN)).await;
    let refused = run(traced(&["list", "--conference", &conference], WRONG)).await;

    // Assert
    assert_eq!(listed.code, DONE, "{listed:?}");
    assert_eq!(refused.code, CONFIG, "a 401 stops the command: {refused:?}");
    assert!(refused.stderr.contains("error 20003"), "{}", refused.stderr);
    assert!(
        created.stderr.contains("TRACE") || created.stderr.contains("DEBUG"),
        "trace logging was on: {}",
        created.stderr
    );
    for (token, outputs) in [(TOKEN, [&created, &listed]), (WRONG, [&refused, &refused])] {
        let basic = base64_basic(DEMO_ACCOUNT_SID, token);
        for out in outputs {
            for text in [&out.stdout, &out.stderr] {
                assert!(!text.contains(token), "the token leaked: {text}");
                assert!(!text.contains(&basic), "the Authorization header leaked");
            }
        }
    }
}

/// The base64 part of a Basic `Authorization` header for `user:password`.
fn base64_basic(user: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

#[tokio::test]
async fn a_friendly_name_where_a_conference_sid_is_needed_says_where_to_find_the_sid() {
    let sandbox = sandbox(SandboxConfig::ephemeral()).await;

    let out = participants(&sandbox, &["list", "--conference", "Sales"]).await;

    assert_eq!(out.code, CONFIG, "{out:?}");
    assert!(
        out.stderr.contains("\"Sales\" is a friendly name")
            && out.stderr.contains("`participants create` prints"),
        "{}",
        out.stderr
    );
    assert_eq!(sandbox.stats().requests, 0, "nothing was asked of Twilio");
}
