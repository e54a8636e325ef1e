//! Compliance end to end: calling windows in each person's zone, do-not-call lists, and
//! pause / resume / cancel, with the real binary against the sandbox.
//!
//! The gate's checks at claim time (rows that arrive after the run's first sweep) are driven
//! directly against a campaign database.
//!
//! Windows are chosen relative to the current UTC hour through fixed-offset zones (whose
//! local hour is known exactly), so each test is open or closed by hours, never by seconds.

use crate::support::campaign::{
    TestCampaign, assert_nobody_called_twice, numbers, output, sandbox, sandbox_config,
    until_creates,
};
use crate::support::exit::{CONFIG, DONE, STOPPED_EARLY};
use crate::support::faketime::skewed;
use dialer::compliance::gate::{Admission, Gate};
use dialer::config::Campaign;
use dialer::dialing::pace::account_slots::AccountSlots;
use dialer::domain::Cps;
use dialer::sandbox::{DEMO_ACCOUNT_SID, Sandbox, SandboxConfig};
use dialer::stop::Stop;
use dialer::store::{ImportPass, NewRow, Store};
use jiff::tz::TimeZone;
use jiff::{RoundMode, SignedDuration, Timestamp, TimestampRound, Unit};

/// A fixed-offset zone where the local hour is `hour` right now (Etc/GMT names invert the sign).
pub(crate) fn zone_where_it_is(hour: i64) -> String {
    zone_where_it_is_at(hour, Timestamp::now())
}

/// A fixed-offset zone where the local hour is `hour` at `at`.
fn zone_where_it_is_at(hour: i64, at: Timestamp) -> String {
    let utc_hour = i64::from(at.to_zoned(TimeZone::UTC).hour());
    let offset = match hour - utc_hour {
        o if o < -12 => o + 24,
        o if o > 14 => o - 24,
        o => o,
    };
    match offset {
        0 => "Etc/UTC".to_owned(),
        east if east > 0 => format!("Etc/GMT-{east}"),
        west => format!("Etc/GMT+{}", -west),
    }
}

/// Open from 06:00 to 18:00 every day in `zone`.
pub(crate) fn six_to_six_in(zone: &str) -> String {
    format!("[window]\nstart = \"06:00\"\nend = \"18:00\"\ntimezone = \"{zone}\"\n")
}

async fn fast_sandbox() -> Sandbox {
    sandbox(SandboxConfig {
        cps: Cps::new(30).unwrap(),
        ..sandbox_config()
    })
    .await
}

fn was_called(sandbox: &Sandbox, to: &str) -> bool {
    sandbox.stats().creates_by_to.contains_key(to)
}

#[tokio::test]
async fn a_run_outside_the_calling_window_dials_nobody_and_exits_4() {
    let sandbox = fast_sandbox().await;
    let window = six_to_six_in(&zone_where_it_is(0));
    // International freephone numbers: no prefix places them, so the campaign's zone applies.
    let list: String = (0..5).fold("to\n".into(), |list, i| format!("{list}+8001234567{i}\n"));
    let campaign = TestCampaign::new(30, &list, &window);

    let out = campaign.run(&sandbox, &[]).await;

    assert_eq!(out.code, STOPPED_EARLY, "{out:?}");
    assert_eq!(sandbox.stats().creates, 0);
    assert_eq!(campaign.rows_in("pending").await, 5);
    assert!(
        out.stdout.contains("every calling window is closed"),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn each_person_is_called_only_inside_the_window_of_their_own_timezone() {
    let sandbox = fast_sandbox().await;
    let (noon, midnight) = (zone_where_it_is(12), zone_where_it_is(0));
    let list = format!("to,timezone\n+14155550001,{noon}\n+14155550002,{midnight}\n");
    let campaign = TestCampaign::new(30, &list, &six_to_six_in(&midnight));

    let out = campaign.run(&sandbox, &[]).await;

    assert_eq!(out.code, STOPPED_EARLY, "{out:?}");
    assert!(was_called(&sandbox, "+14155550001"), "{out:?}");
    assert!(!was_called(&sandbox, "+14155550002"));
    assert_eq!(campaign.rows_in("pending").await, 1);
}

/// Other campaigns on the account hold its slots until `until`, as the account's slot file in
/// `tmp` (the binary's TMPDIR) says: its next free slot, in unix nanoseconds.
fn account_busy_until(sandbox: &Sandbox, tmp: &std::path::Path, until: Timestamp) {
    let base: url::Url = sandbox.base_url().parse().unwrap();
    let slots = AccountSlots::open(tmp, DEMO_ACCOUNT_SID, &base).unwrap();
    let next_ns = until.as_nanosecond() as u64;
    std::fs::write(slots.path(), next_ns.to_le_bytes()).unwrap();
}

#[tokio::test]
async fn a_row_claimed_inside_its_window_is_dialed_though_every_other_window_closed_while_it_waited_for_its_slot()
 {
    // Arrange: at 1 CPS on an account busy for 3 s, the one row in an open zone waits for its
    // slot well past the watcher's look, which finds every pending row waiting for a window.
    let sandbox = fast_sandbox().await;
    let (noon, midnight) = (zone_where_it_is(12), zone_where_it_is(0));
    let list = format!("to,timezone\n+14155550001,{noon}\n+14155550002,{midnight}\n");
    let campaign = TestCampaign::new(1, &list, &six_to_six_in(&midnight));
    let tmp = tempfile::tempdir().unwrap();
    account_busy_until(
        &sandbox,
        tmp.path(),
        Timestamp::now() + SignedDuration::from_secs(3),
    );

    // Act
    let mut run = campaign.command(&sandbox, &[]);
    let out = output(run.env("TMPDIR", tmp.path()).spawn().unwrap()).await;

    // Assert: the run stopped for the closed window, but only after dialing the due row.
    assert_eq!(out.code, STOPPED_EARLY, "{out:?}");
    assert!(
        out.stdout.contains("every calling window is closed"),
        "{out:?}"
    );
    assert!(was_called(&sandbox, "+14155550001"), "{out:?}");
    assert!(!was_called(&sandbox, "+14155550002"));
    assert_nobody_called_twice(&sandbox);
    assert_eq!(campaign.rows_in("pending").await, 1);
}

#[tokio::test]
async fn a_row_whose_own_window_closed_while_it_waited_for_its_slot_is_not_dialed() {
    // Arrange: the host's clock reads 3 s before the window closes at 18:00 in the row's zone
    // (libfaketime), and the account is busy until 3 s after: the row is claimed and admitted
    // inside its window, and its slot comes outside it. The other zone is closed all along.
    let sandbox = fast_sandbox().await;
    let now = Timestamp::now();
    let to_the_hour = TimestampRound::new()
        .smallest(Unit::Hour)
        .mode(RoundMode::Ceil);
    let next_hour = now.round(to_the_hour).unwrap();
    let closing = zone_where_it_is_at(18, next_hour);
    let midnight = zone_where_it_is_at(0, now);
    let list = format!("to,timezone\n+14155550001,{closing}\n+14155550002,{midnight}\n");
    let campaign = TestCampaign::new(1, &list, &six_to_six_in(&midnight));
    let tmp = tempfile::tempdir().unwrap();
    let offset_secs = now.duration_until(next_hour).as_secs() - 3;
    account_busy_until(
        &sandbox,
        tmp.path(),
        next_hour + SignedDuration::from_secs(3),
    );

    // Act
    let mut run = skewed(campaign.command(&sandbox, &[]), offset_secs);
    let out = output(run.env("TMPDIR", tmp.path()).spawn().unwrap()).await;

    // Assert: nobody was called outside their window; both wait for it to open.
    assert_eq!(out.code, STOPPED_EARLY, "{out:?}");
    assert_eq!(sandbox.stats().creates, 0, "{out:?}");
    assert_eq!(campaign.rows_in("pending").await, 2);
}

/// A window open for the next hour or two in New York, closed then in California (3 hours
/// behind, or 2 to 4 in the hours of a daylight saving change).
fn open_now_in_new_york() -> String {
    let hour = jiff::Timestamp::now()
        .to_zoned(TimeZone::get("America/New_York").unwrap())
        .hour();
    let end = match hour {
        22.. => "23:59:59".to_owned(),
        h => format!("{:02}:00", h + 2),
    };
    format!(
        "[window]\nstart = \"{hour:02}:00\"\nend = \"{end}\"\ntimezone = \"America/New_York\"\n"
    )
}

#[tokio::test]
async fn a_us_wide_list_is_called_only_where_the_window_is_open_by_the_area_code() {
    let sandbox = fast_sandbox().await;
    let list = "to\n+12125550100\n+14155550100\n+18085550100\n+19075550100\n";
    let campaign = TestCampaign::new(30, list, &open_now_in_new_york());

    let out = campaign.run(&sandbox, &[]).await;
    let report = campaign.manage(&["report", "--json"]).await;

    assert_eq!(out.code, STOPPED_EARLY, "{out:?}");
    let called: Vec<String> = sandbox.stats().creates_by_to.into_keys().collect();
    assert_eq!(called, ["+12125550100"], "only New York is open: {out:?}");
    assert_eq!(campaign.rows_in("pending").await, 3);
    let report: serde_json::Value = serde_json::from_str(&report.stdout).unwrap();
    assert_eq!(report["zone_sources"]["prefix"], 4, "{report}");
    assert_eq!(report["zone_sources"]["campaign"], 0, "{report}");
}

#[tokio::test]
async fn the_report_counts_zones_from_the_list_the_number_and_the_campaign() {
    let sandbox = fast_sandbox().await;
    let list = "to,timezone\n+12125550100,Europe/Paris\n+14155550100,\n+80012345678,\n";
    let campaign = TestCampaign::new(30, list, "");

    let out = campaign.run(&sandbox, &[]).await;
    let report = campaign.manage(&["report"]).await;

    assert_eq!(out.code, DONE, "{out:?}");
    assert!(
        report
            .stdout
            .contains("time zone from the list 1 · from the number 1 · the campaign's 1"),
        "{}",
        report.stdout
    );
}

#[tokio::test]
async fn a_registry_flat_file_suppresses_its_us_numbers() {
    let sandbox = fast_sandbox().await;
    let campaign = TestCampaign::new(
        30,
        &numbers(3),
        "[suppression]\nlists = [\"registry.txt\"]\n",
    );
    std::fs::write(
        campaign.dir.path().join("registry.txt"),
        "415,5550001\n212,5550100\n",
    )
    .unwrap();

    let out = campaign.run(&sandbox, &[]).await;

    assert_eq!(out.code, DONE, "{out:?}");
    assert!(!was_called(&sandbox, "+14155550001"));
    assert!(was_called(&sandbox, "+14155550000"));
    assert!(was_called(&sandbox, "+14155550002"));
    assert_eq!(campaign.rows_in("suppressed").await, 1);
}

#[tokio::test]
async fn registry_data_40_days_old_stops_the_run_before_any_call_and_a_fresh_change_list_lets_it_go()
 {
    // Arrange: the Registry's full download, 40 days old.
    let sandbox = fast_sandbox().await;
    let suppression = "[suppression]\nlists = [\"registry.txt\"]\n";
    let campaign = TestCampaign::new(30, &numbers(3), suppression);
    let full = campaign.dir.path().join("registry.txt");
    std::fs::write(&full, "415,5550001\n415,5550002\n").unwrap();
    let forty_days_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(40 * 86_400);
    std::fs::File::options()
        .write(true)
        .open(&full)
        .unwrap()
        .set_modified(forty_days_ago)
        .unwrap();

    // Act: as it is; then with today's change list of deletions beside it.
    let stale = campaign.run(&sandbox, &[]).await;
    let creates_when_stale = sandbox.stats().creates;
    std::fs::write(campaign.dir.path().join("deleted.txt"), "415,5550002\n").unwrap();
    let file = std::fs::read_to_string(&campaign.file).unwrap().replace(
        suppression,
        "[suppression]\nlists = [\"registry.txt\"]\ndeletions = [\"deleted.txt\"]\n",
    );
    std::fs::write(&campaign.file, file).unwrap();
    let fresh = campaign.run(&sandbox, &[]).await;

    // Assert
    assert_eq!(stale.code, CONFIG, "{stale:?}");
    assert!(
        stale
            .stderr
            .contains("the Do Not Call Registry's data (registry.txt) is 40 days old"),
        "{stale:?}"
    );
    assert_eq!(creates_when_stale, 0);
    assert_eq!(fresh.code, DONE, "{fresh:?}");
    assert!(
        !was_called(&sandbox, "+14155550001"),
        "still on the Registry"
    );
    assert!(
        was_called(&sandbox, "+14155550002"),
        "deleted from it since"
    );
    assert!(was_called(&sandbox, "+14155550000"));
}

#[tokio::test]
async fn a_malformed_suppression_file_stops_the_run_before_any_call_naming_its_line() {
    let sandbox = fast_sandbox().await;
    let campaign = TestCampaign::new(
        30,
        &numbers(3),
        "[suppression]\nlists = [\"registry.txt\"]\n",
    );
    std::fs::write(
        campaign.dir.path().join("registry.txt"),
        "415,5550001\n415,555000\n",
    )
    .unwrap();

    let out = campaign.run(&sandbox, &[]).await;

    assert_eq!(out.code, CONFIG, "{out:?}");
    assert!(out.stderr.contains("registry.txt:2:"), "{}", out.stderr);
    assert_eq!(sandbox.stats().creates, 0);
}

#[tokio::test]
async fn an_unknown_timezone_is_rejected_with_its_line_number() {
    let sandbox = fast_sandbox().await;
    let list = "to,timezone\n+14155550001,Europe/Paris\n+14155550002,Mars/Olympus\n";
    let campaign = TestCampaign::new(30, list, "");

    let out = campaign.run(&sandbox, &[]).await;

    assert!(
        out.stderr.contains("list.csv:3: invalid timezone"),
        "{}",
        out.stderr
    );
    assert!(was_called(&sandbox, "+14155550001"));
    assert!(!was_called(&sandbox, "+14155550002"));
}

#[tokio::test]
async fn numbers_on_a_do_not_call_list_never_reach_the_api_and_show_as_suppressed() {
    let sandbox = fast_sandbox().await;
    let campaign = TestCampaign::new(30, &numbers(4), "[suppression]\nlists = [\"dnc.csv\"]\n");
    let dnc = "name,to\nAda,+1 415 555 0001\nBob,not-a-number\nCy,+14155550003\n";
    std::fs::write(campaign.dir.path().join("dnc.csv"), dnc).unwrap();

    let out = campaign.run(&sandbox, &[]).await;
    let report = campaign.manage(&["report"]).await;

    assert_eq!(out.code, DONE, "{out:?}");
    assert!(
        out.stderr.contains("dnc.csv:3: not a number"),
        "{}",
        out.stderr
    );
    let called: Vec<String> = sandbox.stats().creates_by_to.into_keys().collect();
    assert_eq!(called, ["+14155550000", "+14155550002"]);
    assert_eq!(campaign.rows_in("suppressed").await, 2);
    assert!(
        report.stdout.contains("suppressed: on dnc.csv"),
        "{}",
        report.stdout
    );
}

#[tokio::test]
async fn a_number_added_to_the_do_not_call_list_after_import_is_never_dialed() {
    let sandbox = fast_sandbox().await;
    let campaign = TestCampaign::new(30, &numbers(3), "[suppression]\nlists = [\"dnc.txt\"]\n");
    let dnc = campaign.dir.path().join("dnc.txt");
    std::fs::write(&dnc, "+14155550000\n").unwrap();
    campaign.manage(&["campaign", "pause"]).await;
    let paused = campaign.run(&sandbox, &[]).await;
    std::fs::write(&dnc, "+14155550000\n+14155550001\n").unwrap();
    campaign.manage(&["campaign", "resume"]).await;

    let out = campaign.run(&sandbox, &[]).await;

    assert_eq!(paused.code, STOPPED_EARLY, "{paused:?}");
    assert_eq!(out.code, DONE, "{out:?}");
    assert!(!was_called(&sandbox, "+14155550000"));
    assert!(!was_called(&sandbox, "+14155550001"));
    assert!(was_called(&sandbox, "+14155550002"));
    assert_eq!(campaign.rows_in("suppressed").await, 2);
}

#[tokio::test]
async fn a_paused_campaign_dials_nobody_until_it_is_resumed() {
    let sandbox = fast_sandbox().await;
    let campaign = TestCampaign::new(30, &numbers(3), "");

    let pause = campaign.manage(&["campaign", "pause"]).await;
    let paused = campaign.run(&sandbox, &[]).await;
    let creates_while_paused = sandbox.stats().creates;
    let resume = campaign.manage(&["campaign", "resume"]).await;
    let resumed = campaign.run(&sandbox, &[]).await;

    assert_eq!(pause.code, DONE, "{pause:?}");
    assert_eq!(paused.code, STOPPED_EARLY, "{paused:?}");
    assert!(paused.stdout.contains("paused"), "{}", paused.stdout);
    assert_eq!(creates_while_paused, 0);
    assert_eq!(resume.code, DONE, "{resume:?}");
    assert_eq!(resumed.code, DONE, "{resumed:?}");
    assert_eq!(sandbox.stats().creates, 3);
}

#[tokio::test]
async fn pausing_a_running_campaign_stops_it_taking_rows() {
    let sandbox = fast_sandbox().await;
    let campaign = TestCampaign::new(1, &numbers(60), "");
    let child = campaign.command(&sandbox, &[]).spawn().unwrap();
    until_creates(&sandbox, 1).await;

    let pause = campaign.manage(&["campaign", "pause"]).await;
    let out = output(child).await;

    assert_eq!(pause.code, DONE, "{pause:?}");
    assert_eq!(out.code, STOPPED_EARLY, "{out:?}");
    assert!(sandbox.stats().creates < 60);
    assert!(campaign.rows_in("pending").await > 0);
    assert_nobody_called_twice(&sandbox);
}

#[tokio::test]
async fn cancel_makes_every_pending_row_canceled_for_good() {
    let sandbox = fast_sandbox().await;
    let campaign = TestCampaign::new(30, &numbers(3), "");
    campaign.manage(&["campaign", "pause"]).await;
    campaign.run(&sandbox, &[]).await;

    let cancel = campaign.manage(&["campaign", "cancel"]).await;
    let resume = campaign.manage(&["campaign", "resume"]).await;
    let after = campaign.run(&sandbox, &[]).await;

    assert_eq!(cancel.code, DONE, "{cancel:?}");
    assert_eq!(resume.code, CONFIG, "a cancel is final: {resume:?}");
    assert_eq!(after.code, DONE, "{after:?}");
    assert!(after.stdout.contains("canceled"), "{}", after.stdout);
    assert_eq!(campaign.rows_in("canceled").await, 3);
    assert_eq!(sandbox.stats().creates, 0);
}

/// The gate of a campaign whose window is closed now, over an empty list, with `dnc.txt`.
async fn gate_over_an_empty_list(dnc: &str) -> (TestCampaign, Store, Gate) {
    let window = six_to_six_in(&zone_where_it_is(0));
    let extra = format!("[suppression]\nlists = [\"dnc.txt\"]\n{window}");
    let campaign = TestCampaign::new(30, "to\n", &extra);
    std::fs::write(campaign.dir.path().join("dnc.txt"), dnc).unwrap();
    let loaded = Campaign::load(&campaign.file).unwrap();
    let store = Store::open(&loaded.database, &loaded.name).await.unwrap();
    let gate = Gate::open(&loaded, &store, &Stop::default()).await.unwrap();
    (campaign, store, gate)
}

async fn import(store: &Store, numbers: &[&str]) {
    let rows: Vec<NewRow> = (0..)
        .zip(numbers)
        .map(|(i, to)| NewRow {
            line: i + 2,
            to: dialer::domain::Endpoint::parse(to).unwrap(),
            label: dialer::domain::Label::parse(&format!("row-{i}")).unwrap(),
            params: Default::default(),
            zone: None,
            jurisdictions: None,
            person: None,
        })
        .collect();
    store
        .import_rows(&mut ImportPass::default(), &rows)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_listed_number_is_suppressed_when_claimed_even_if_it_arrived_after_the_check() {
    let (_campaign, store, gate) = gate_over_an_empty_list("+14155550009\n").await;
    import(&store, &["+14155550009"]).await;
    let claimed = store.claim_next().await.unwrap().unwrap();

    let admission = gate.admit(&store, &claimed).await.unwrap();

    let reason = "on dnc.txt".to_owned();
    assert_eq!(admission, Admission::Suppress { reason });
}

#[tokio::test]
async fn claiming_one_row_of_a_closed_zone_defers_the_whole_zone_in_one_go() {
    let (_campaign, store, gate) = gate_over_an_empty_list("").await;
    import(&store, &["+14155550001", "+14155550002", "+14155550003"]).await;
    let claimed = store.claim_next().await.unwrap().unwrap();

    let admission = gate.admit(&store, &claimed).await.unwrap();

    let Admission::Defer { until_ms, .. } = admission else {
        panic!("a closed zone must defer, got {admission:?}");
    };
    store.release(&claimed, until_ms, "outside").await.unwrap();
    assert!(until_ms > jiff::Timestamp::now().as_millisecond());
    assert!(
        store.claim_next().await.unwrap().is_none(),
        "the others wait too"
    );
    assert_eq!(store.next_pending_at().await.unwrap(), Some(until_ms));
}

#[tokio::test]
async fn a_frequency_cap_counts_the_calls_of_every_campaign_sharing_the_database() {
    // Arrange: two campaigns on one SQLite file, each capping a person at one call a day.
    let sandbox = fast_sandbox().await;
    let cap = "[frequency]\nmax_calls = 1\nwithin = \"24h\"\n";
    let first = TestCampaign::new(30, &numbers(3), cap);
    let second_file = first.dir.path().join("second.toml");
    let second_text = std::fs::read_to_string(&first.file)
        .unwrap()
        .replace("name = \"test\"", "name = \"second\"")
        .replace("list = \"list.csv\"", "list = \"second.csv\"")
        .replace("[retry]", "[database]\npath = \"test.sqlite\"\n\n[retry]");
    std::fs::write(&second_file, second_text).unwrap();
    std::fs::write(
        first.dir.path().join("second.csv"),
        "to\n+14155550000\n+14155550001\n+14155559999\n",
    )
    .unwrap();

    // Act
    let one = first.run(&sandbox, &[]).await;
    let mut again = crate::support::campaign::dialer_at(&sandbox, &["run"]);
    let two = output(again.arg(&second_file).spawn().unwrap()).await;
    let mut report = crate::support::campaign::dialer_at(&sandbox, &["export"]);
    let export = output(report.arg(&second_file).spawn().unwrap()).await;

    // Assert: the second campaign calls only the person the first did not.
    assert_eq!(one.code, DONE, "{one:?}");
    assert_eq!(two.code, STOPPED_EARLY, "{two:?}");
    assert_nobody_called_twice(&sandbox);
    assert!(was_called(&sandbox, "+14155559999"));
    assert_eq!(sandbox.stats().creates, 4);
    let held = export
        .stdout
        .lines()
        .filter(|l| l.contains("held back by the frequency cap"))
        .count();
    assert_eq!(held, 2, "{}", export.stdout);
}
