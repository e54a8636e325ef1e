//! The law's calling rules on real runs: a telemarketing campaign (the default) keeps the
//! federal hours and each state's where the person is, strictest wins, with no `[window]` at
//! all; `dialer plan` says the same without dialing. The host's clock is moved to the evening
//! (libfaketime); the sandbox keeps the true time, as Twilio does.

use crate::support::campaign::{TestCampaign, output, sandbox, sandbox_config};
use crate::support::exit::{DONE, STOPPED_EARLY};
use crate::support::faketime::skewed;
use dialer::domain::Cps;
use dialer::sandbox::{Sandbox, SandboxConfig};
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};

const MIAMI: [&str; 4] = [
    "+13055550101",
    "+13055550102",
    "+13055550103",
    "+13055550104",
];
const NEW_YORK: [&str; 2] = ["+12125550101", "+12125550102"];

/// The next Tuesday at 20:30 in New York (Florida and New York bar no holidays), and how far
/// it is from now in seconds.
fn next_tuesday_evening() -> (Zoned, i64) {
    let new_york = TimeZone::get("America/New_York").unwrap();
    let mut day = Timestamp::now()
        .to_zoned(new_york.clone())
        .date()
        .tomorrow()
        .unwrap();
    while day.weekday() != Weekday::Tuesday {
        day = day.checked_add(1.day()).unwrap();
    }
    let evening = day.at(20, 30, 0, 0).to_zoned(new_york).unwrap();
    let offset = Timestamp::now()
        .duration_until(evening.timestamp())
        .as_secs();
    (evening, offset)
}

fn people() -> String {
    MIAMI
        .iter()
        .chain(&NEW_YORK)
        .fold("to\n".to_owned(), |list, to| format!("{list}{to}\n"))
}

async fn thirty_cps() -> Sandbox {
    sandbox(SandboxConfig {
        cps: Cps::new(30).unwrap(),
        ..sandbox_config()
    })
    .await
}

fn called(sandbox: &Sandbox) -> Vec<String> {
    sandbox.stats().creates_by_to.into_keys().collect()
}

#[tokio::test]
async fn at_half_past_eight_in_the_evening_new_york_is_called_and_miami_waits_for_eight() {
    // Arrange: no window; the law's hours are the default.
    let sandbox = thirty_cps().await;
    let campaign = TestCampaign::new(30, &people(), "[law]\n");
    let (evening, offset) = next_tuesday_evening();
    let morning = evening.date().tomorrow().unwrap();
    let opens = format!("{morning}T08:00:00-05:00");

    // Act
    let plan = output(
        skewed(campaign.subcommand(&sandbox, "plan", &["--json"]), offset)
            .spawn()
            .unwrap(),
    )
    .await;
    let run = output(
        skewed(campaign.command(&sandbox, &[]), offset)
            .spawn()
            .unwrap(),
    )
    .await;
    let report = output(
        skewed(campaign.subcommand(&sandbox, "report", &["--json"]), offset)
            .spawn()
            .unwrap(),
    )
    .await;

    // Assert: the plan said it, the run did it, the report says why.
    assert_eq!(plan.code, DONE, "{plan:?}");
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(
        (plan["pending"].as_u64(), plan["callable"].as_u64()),
        (Some(6), Some(2))
    );
    assert_eq!(
        plan["held"][0]["rule"],
        "outside Florida's telemarketing hours"
    );
    assert_eq!(plan["held"][0]["source"], "Fla. Stat. § 501.616(6)(a),(b)");
    assert_eq!(plan["held"][0]["rows"], 4);
    assert_eq!(plan["rows"][0]["first_callable_at"], opens.as_str());
    assert_eq!(run.code, STOPPED_EARLY, "{run:?}");
    assert_eq!(called(&sandbox), NEW_YORK, "{run:?}");
    assert_eq!(campaign.rows_in("pending").await, 4);
    let report: serde_json::Value = serde_json::from_str(&report.stdout).unwrap();
    let reasons: Vec<&str> = report["not_dialed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["reason"].as_str().unwrap())
        .collect();
    let expected = format!("waiting for Florida's telemarketing hours: opens {opens}");
    assert_eq!(reasons, [expected.as_str(); 4]);
    let applied: Vec<(&str, u64, bool)> = report["law"]["jurisdictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            let (code, rows) = (j["code"].as_str().unwrap(), j["rows"].as_u64().unwrap());
            (code, rows, j["source"].is_string())
        })
        .collect();
    assert_eq!(applied, [("US", 6, true), ("FL", 4, true), ("NY", 2, true)]);
    assert_eq!(report["law"]["telemarketing"], true);
}

#[tokio::test]
async fn a_campaign_that_is_not_telemarketing_calls_miami_in_the_evening_too() {
    let sandbox = thirty_cps().await;
    let campaign = TestCampaign::new(30, &people(), "");
    let (_, offset) = next_tuesday_evening();

    let run = output(
        skewed(campaign.command(&sandbox, &[]), offset)
            .spawn()
            .unwrap(),
    )
    .await;

    assert_eq!(run.code, DONE, "{run:?}");
    assert_eq!(called(&sandbox).len(), 6);
}

#[tokio::test]
async fn plan_at_an_instant_weighs_that_instant_without_dialing_anyone() {
    let sandbox = thirty_cps().await;
    let campaign = TestCampaign::new(30, &people(), "[law]\n");
    let (evening, _) = next_tuesday_evening();
    let noon = evening
        .date()
        .at(12, 0, 0, 0)
        .to_zoned(evening.time_zone().clone())
        .unwrap();
    let five_am = evening
        .date()
        .at(5, 0, 0, 0)
        .to_zoned(evening.time_zone().clone())
        .unwrap();
    let at = |z: &Zoned| z.timestamp().to_string();

    let at_noon = campaign
        .subcommand(&sandbox, "plan", &["--at", &at(&noon)])
        .output()
        .await
        .unwrap();
    let early = campaign
        .subcommand(&sandbox, "plan", &["--at", &at(&five_am), "--json"])
        .output()
        .await
        .unwrap();

    let at_noon = String::from_utf8(at_noon.stdout).unwrap();
    assert!(
        at_noon.contains(": 6 pending, 6 would be called, 0 held"),
        "{at_noon}"
    );
    let early: serde_json::Value = serde_json::from_slice(&early.stdout).unwrap();
    assert_eq!(early["callable"], 0);
    let rules: Vec<&str> = early["held"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"outside the federal telemarketing hours"),
        "{rules:?}"
    );
    assert!(
        rules.contains(&"outside Florida's telemarketing hours"),
        "{rules:?}"
    );
    assert_eq!(sandbox.stats().creates, 0, "a plan dials nobody");
}
