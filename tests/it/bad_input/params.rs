//! One bad value for every Create Participant parameter, given as a `[participant]` default:
//! each is refused by the real binary with exit 2, a message naming the key and the rule, and
//! no request sent. A parameter added to the table in `src/twilio/params.rs` without a bad
//! value here fails the coverage test.

use crate::support::campaign::{TestCampaign, numbers, sandbox, sandbox_config};
use crate::support::exit::CONFIG;
use dialer::twilio::ParticipantOptions;
use futures::StreamExt;

/// `(key, TOML value, the rule the message must give)`; the message names `participant.<key>`.
const BAD: &[(&str, &str, &str)] = &[
    (
        "status_callback",
        r#""ftp://example.com/cb""#,
        "must be an http:// or https:// URL",
    ),
    (
        "status_callback_method",
        r#""PUT""#,
        "must be one of GET, POST, got \"PUT\"",
    ),
    (
        "status_callback_event",
        r#"["initiated", "busy"]"#,
        "got \"busy\"",
    ),
    ("label", r#""alice""#, "is per row: use a `label` column"),
    ("timeout", "4", "must be from 5 to 600, got 4"),
    (
        "timeout",
        r#""ten""#,
        "must be a whole number from 5 to 600, got \"ten\"",
    ),
    (
        "timeout",
        "4.5",
        "must be a string, number, boolean or list, got float",
    ),
    ("record", r#""yes""#, "must be true or false, got \"yes\""),
    ("muted", "1", "must be true or false, got \"1\""),
    (
        "beep",
        r#""loud""#,
        "must be one of true, false, onEnter, onExit",
    ),
    (
        "start_conference_on_enter",
        r#""maybe""#,
        "must be true or false",
    ),
    (
        "end_conference_on_exit",
        r#""""#,
        "must be true or false, got \"\"",
    ),
    ("wait_url", r#""/hold.xml""#, "must be an absolute URL"),
    (
        "wait_method",
        r#""get""#,
        "must be one of GET, POST, got \"get\"",
    ),
    ("early_media", r#""on""#, "must be true or false"),
    ("max_participants", "251", "must be from 2 to 250, got 251"),
    (
        "conference_record",
        r#""always""#,
        "must be one of true, false, record-from-start",
    ),
    (
        "conference_trim",
        r#""trim""#,
        "must be one of trim-silence, do-not-trim",
    ),
    (
        "conference_status_callback",
        r#""example.com/conf""#,
        "must be an absolute URL",
    ),
    (
        "conference_status_callback_method",
        r#""DELETE""#,
        "must be one of GET, POST",
    ),
    (
        "conference_status_callback_event",
        r#"["start", "begin"]"#,
        "got \"begin\"",
    ),
    (
        "recording_channels",
        r#""stereo""#,
        "must be one of mono, dual",
    ),
    (
        "recording_status_callback",
        r#""https://""#,
        "must be an absolute URL",
    ),
    (
        "recording_status_callback_method",
        r#""""#,
        "must be one of GET, POST, got \"\"",
    ),
    (
        "sip_auth_username",
        r#""""#,
        "must be 1 to 255 characters, has 0",
    ),
    ("sip_auth_password", r#""""#, "must not be empty"),
    ("region", r#""eu1""#, "must be one of us1, us2, ie1"),
    (
        "conference_recording_status_callback",
        r#""mailto:ops@example.com""#,
        "must be an http:// or https:// URL",
    ),
    (
        "conference_recording_status_callback_method",
        r#""PATCH""#,
        "must be one of GET, POST",
    ),
    (
        "recording_status_callback_event",
        r#"["done"]"#,
        "got \"done\"",
    ),
    (
        "conference_recording_status_callback_event",
        r#"["started"]"#,
        "got \"started\"",
    ),
    ("coaching", r#""sometimes""#, "must be true or false"),
    (
        "call_sid_to_coach",
        r#""CA123""#,
        "must match ^CA[0-9a-fA-F]{32}$",
    ),
    (
        "jitter_buffer_size",
        r#""huge""#,
        "must be one of off, small, medium, large",
    ),
    ("byoc", r#""BY0123""#, "must match ^BY[0-9a-fA-F]{32}$"),
    (
        "caller_id",
        r#""not a number""#,
        "must be an E.164 number (+15017122661), client:name, or a SIP user name",
    ),
    (
        "call_reason",
        "\"{256 x}\"",
        "must be 1 to 255 characters, has 256",
    ),
    (
        "recording_track",
        r#""all""#,
        "must be one of inbound, outbound, both",
    ),
    ("time_limit", "0", "must be from 1 to 86400, got 0"),
    (
        "machine_detection",
        r#""enable""#,
        "must be one of Enable, DetectMessageEnd, got \"enable\"",
    ),
    (
        "machine_detection_timeout",
        "60",
        "must be from 3 to 59, got 60",
    ),
    (
        "machine_detection_speech_threshold",
        "999",
        "must be from 1000 to 6000, got 999",
    ),
    (
        "machine_detection_speech_end_threshold",
        "5001",
        "must be from 500 to 5000, got 5001",
    ),
    (
        "machine_detection_silence_timeout",
        "1999",
        "must be from 2000 to 10000, got 1999",
    ),
    (
        "amd_status_callback",
        r#""not a url""#,
        "must be an absolute URL",
    ),
    (
        "amd_status_callback_method",
        r#""put""#,
        "must be one of GET, POST",
    ),
    (
        "trim",
        r#""yes""#,
        "must be one of trim-silence, do-not-trim",
    ),
    ("call_token", r#""""#, "must not be empty"),
    (
        "client_notification_url",
        r#""//example.com/notify""#,
        "must be an absolute URL",
    ),
    (
        "caller_display_name",
        r#""x""#,
        "must be 2 to 255 characters, has 1",
    ),
    (
        "no_such_parameter",
        "1",
        "is not a parameter of this request",
    ),
];

/// Values each valid alone that break a rule between parameters: `(lines, key named, rule)`.
const BAD_TOGETHER: &[(&str, &str, &str)] = &[
    (
        "coaching = true",
        "call_sid_to_coach",
        "is required when Coaching is true",
    ),
    (
        "machine_detection_timeout = 30",
        "machine_detection",
        "must be set (Enable or DetectMessageEnd)",
    ),
    (
        "amd_status_callback = \"https://example.com/amd\"",
        "machine_detection",
        "must be set",
    ),
];

#[test]
fn every_create_parameter_has_a_bad_value_in_the_table() {
    let missing: Vec<&str> = ParticipantOptions::NAMES
        .iter()
        .map(|name| name.snake)
        .filter(|snake| BAD.iter().all(|(key, _, _)| key != snake))
        .collect();
    assert!(missing.is_empty(), "no bad value for {missing:?}");
}

#[tokio::test]
async fn every_bad_participant_default_exits_2_naming_the_key_before_any_request() {
    let sandbox = sandbox(sandbox_config()).await;
    let cases = BAD
        .iter()
        .map(|(key, value, rule)| {
            let value = value.replace("{256 x}", &"x".repeat(256));
            (format!("{key} = {value}"), *key, *rule)
        })
        .chain(
            BAD_TOGETHER
                .iter()
                .map(|(lines, key, rule)| (lines.to_string(), *key, *rule)),
        );

    let failures: Vec<String> = futures::stream::iter(cases)
        .map(|(lines, key, rule)| {
            let sandbox = &sandbox;
            async move {
                let campaign =
                    TestCampaign::new(30, &numbers(2), &format!("[participant]\n{lines}"));
                let out = campaign.run(sandbox, &[]).await;
                let named = format!("participant.{key}");
                let refused =
                    out.code == CONFIG && out.stderr.contains(&named) && out.stderr.contains(rule);
                (!refused).then(|| {
                    format!("{lines}: expected exit 2 naming {named} and {rule:?}: {out:?}")
                })
            }
        })
        .buffer_unordered(4)
        .filter_map(|failure| async { failure })
        .collect()
        .await;

    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_eq!(sandbox.stats().requests, 0, "nothing reached Twilio");
}
