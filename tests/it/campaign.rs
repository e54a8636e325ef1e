//! `dialer run` end to end: the real binary, a real SQLite file, the sandbox on loopback.

use crate::support::campaign::{
    TestCampaign, assert_nobody_called_twice, numbers, output, sandbox, sandbox_config,
    until_creates,
};
use crate::support::exit::{CONFIG, DONE, DONE_WITH_FAILURES, LOCKED, STOPPED_EARLY};
use dialer::domain::Cps;
use dialer::sandbox::SandboxConfig;

#[tokio::test]
async fn a_full_run_creates_every_row_once_and_exits_zero() {
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(30).unwrap(),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(30, &numbers(40), "");

    let out = campaign.run(&sandbox, &[]).await;

    assert_eq!(out.code, DONE, "{out:?}");
    assert_eq!(campaign.rows_in("created").await, 40);
    assert_eq!(sandbox.stats().creates, 40);
    assert_nobody_called_twice(&sandbox);
    assert!(
        out.stdout.contains("summary: campaign \"test\" finished"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("40 created"), "{}", out.stdout);
}

#[tokio::test]
async fn bad_rows_are_reported_by_line_and_the_good_rows_go_on() {
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(30).unwrap(),
        ..sandbox_config()
    })
    .await;
    let list = "to,timeout\n+14155550001,\n4155550002,\n+14155550003,4\n+14155550004,20,extra\n+1 (415) 555-0005,30\n\"+14155550006\",\n";
    let campaign = TestCampaign::new(30, list, "");

    let out = campaign.run(&sandbox, &[]).await;

    assert_eq!(out.code, DONE_WITH_FAILURES, "{out:?}");
    for expected in [
        "list.csv:3: invalid to: must be an E.164 number",
        "list.csv:4: invalid Timeout: must be from 5 to 600, got 4",
        "list.csv:5: has 3 fields, the header has 2",
    ] {
        assert!(
            out.stderr.contains(expected),
            "missing {expected:?} in {}",
            out.stderr
        );
    }
    let rejects = std::fs::read_to_string(campaign.dir.path().join("list.rejects.csv")).unwrap();
    assert_eq!(rejects.lines().count(), 4, "header + 3 rejects: {rejects}");
    assert_eq!(campaign.rows_in("created").await, 3);
    assert!(
        sandbox.stats().creates_by_to.contains_key("+14155550005"),
        "formatting was normalised"
    );
}

#[tokio::test]
async fn a_number_listed_twice_is_dialed_once() {
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(30).unwrap(),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(30, "to\n+14155550001\n+14155550002\n+1-415-555-0001\n", "");

    let out = campaign.run(&sandbox, &[]).await;

    assert!(
        out.stderr.contains("list.csv:4: duplicate of line 2"),
        "{}",
        out.stderr
    );
    assert_eq!(sandbox.stats().creates, 2);
    assert_nobody_called_twice(&sandbox);
}

#[tokio::test]
async fn a_list_that_grows_between_runs_dials_only_the_new_rows() {
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(30).unwrap(),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(30, "to\n+14155550001\n+14155550002\n", "");
    assert_eq!(campaign.run(&sandbox, &[]).await.code, DONE);

    campaign.append("+14155550003\n+14155550001\n");
    let out = campaign.run(&sandbox, &[]).await;

    assert!(
        out.stdout.contains("1 new, 2 already imported"),
        "{}",
        out.stdout
    );
    assert_eq!(sandbox.stats().creates, 3);
    assert_nobody_called_twice(&sandbox);
}

#[tokio::test]
async fn a_list_reordered_with_a_new_person_on_top_dials_only_the_new_person() {
    let sandbox = sandbox(sandbox_config()).await;
    let campaign = TestCampaign::new(30, "to\n+14155550001\n+14155550002\n", "");
    assert_eq!(campaign.run(&sandbox, &[]).await.code, DONE);

    // A new person on line 2, where a generated label `test-2` was already given; the rest
    // sorted the other way, each now on another line.
    std::fs::write(
        &campaign.list,
        "to\n+14155550003\n+14155550002\n+14155550001\n",
    )
    .unwrap();
    let out = campaign.run(&sandbox, &[]).await;

    assert_eq!(out.code, DONE, "{out:?}");
    assert!(
        out.stdout
            .contains("3 lines read, 1 new, 2 already imported, 0 rejected, 0 duplicates"),
        "{}",
        out.stdout
    );
    assert_eq!(sandbox.stats().creates, 3);
    assert_nobody_called_twice(&sandbox);
    let lines: Vec<(u64, String, String)> = campaign
        .rows()
        .await
        .into_iter()
        .map(|r| (r.line, r.to, r.label))
        .collect();
    assert!(
        lines.contains(&(2, "+14155550003".into(), "test-2-2".into()))
            && lines.contains(&(4, "+14155550001".into(), "test-2".into())),
        "each row gives its line in the list as it is now, its label as first given: {lines:?}"
    );
}

#[tokio::test]
async fn an_unchanged_list_is_not_read_again_and_its_rejects_are_still_reported() {
    let sandbox = sandbox(sandbox_config()).await;
    let campaign = TestCampaign::new(30, "to\n+14155550001\n12345\n+14155550001\n", "");
    let first = campaign.run(&sandbox, &[]).await;
    assert!(first.stdout.contains("3 lines read, 1 new"), "{first:?}");
    let rejects_file = campaign.dir.path().join("list.rejects.csv");
    std::fs::remove_file(&rejects_file).unwrap();

    let again = campaign.run(&sandbox, &[]).await;

    assert!(
        again.stdout.contains(
            "import: list unchanged since its last import (3 lines, 1 imported, 1 rejected, 1 duplicates): not read again"
        ),
        "{again:?}"
    );
    assert!(
        again.stderr.contains("list.csv:3: invalid to")
            && again.stderr.contains("list.csv:4: duplicate of line 2"),
        "{}",
        again.stderr
    );
    let rejects = std::fs::read_to_string(&rejects_file).expect("rejects file written again");
    assert_eq!(rejects.lines().count(), 3, "{rejects}");

    // A change to the list, even one that keeps its size and modification time, or to the
    // campaign's defaults or caller reads the whole list again.
    let modified = std::fs::metadata(&campaign.list)
        .unwrap()
        .modified()
        .unwrap();
    let list = std::fs::read_to_string(&campaign.list).unwrap();
    // Line 4, the duplicate, becomes a new number.
    let last = list.rfind("+14155550001").unwrap();
    let edited_list = format!("{}+14155550009\n", &list[..last]);
    std::fs::write(&campaign.list, edited_list).unwrap();
    let list_file = std::fs::File::options()
        .write(true)
        .open(&campaign.list)
        .unwrap();
    list_file.set_modified(modified).unwrap();
    drop(list_file);
    let same_stamp = campaign.run(&sandbox, &[]).await;
    assert!(
        same_stamp
            .stdout
            .contains("3 lines read, 1 new, 1 already imported"),
        "{same_stamp:?}"
    );
    let file = std::fs::read_to_string(&campaign.file).unwrap();
    std::fs::write(
        &campaign.file,
        file.replace("from = \"+15017122661\"", "from = \"+15017122662\""),
    )
    .unwrap();
    let edited = campaign.run(&sandbox, &[]).await;
    assert!(
        edited
            .stdout
            .contains("3 lines read, 0 new, 2 already imported"),
        "{edited:?}"
    );
    campaign.append("+14155550005\n");
    let grown = campaign.run(&sandbox, &[]).await;
    assert!(grown.stdout.contains("4 lines read, 1 new"), "{grown:?}");
    assert_eq!(sandbox.stats().creates, 3);
    assert_nobody_called_twice(&sandbox);
}

#[tokio::test]
async fn an_import_writes_each_person_once_with_their_zone_and_changes_no_row_after() {
    // Arrange: a paused campaign (its run imports, then stops before dialing), whose database
    // counts every change made to a row once it is in.
    let sandbox = sandbox(sandbox_config()).await;
    let campaign = TestCampaign::new(30, &numbers(50), "");
    let paused = campaign.manage(&["campaign", "pause"]).await;
    assert_eq!(paused.code, DONE, "{paused:?}");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", campaign.db.display()))
        .await
        .unwrap();
    sqlx::raw_sql(
        "CREATE TABLE row_changes (row_id INTEGER NOT NULL);
         CREATE TRIGGER count_row_changes AFTER UPDATE ON rows
         BEGIN INSERT INTO row_changes VALUES (new.id); END;",
    )
    .execute(&pool)
    .await
    .unwrap();

    // Act
    let out = campaign.run(&sandbox, &["-q"]).await;

    // Assert: every row came in with its callee's zone (from the number's prefix), written by
    // its insert rather than by an update of each row after it.
    assert_eq!(out.code, STOPPED_EARLY, "{out:?}");
    let zoned: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM rows
         WHERE timezone = 'America/Los_Angeles' AND timezone_source = 'prefix'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(zoned, 50, "each person imported with their zone");
    let changes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM row_changes")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(changes, 0, "no row changed after its insert");
}

#[tokio::test]
async fn rows_refused_with_429_or_5xx_are_retried_until_created_once() {
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(30).unwrap(),
        share_429: 0.3,
        share_5xx: 0.2,
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(30, &numbers(30), "max_attempts = 10");

    let out = campaign.run(&sandbox, &[]).await;

    assert_eq!(out.code, DONE, "{out:?}");
    let stats = sandbox.stats();
    assert!(
        stats.too_many_requests > 0 && stats.server_errors > 0,
        "faults were injected: {stats:?}"
    );
    assert_eq!(campaign.rows_in("created").await, 30);
    assert_nobody_called_twice(&sandbox);
}

#[tokio::test]
async fn a_permanent_error_fails_the_row_at_once_with_its_code() {
    let sandbox = sandbox(SandboxConfig {
        invalid_to_prefix: Some("+1415555000".into()),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(30, "to\n+14155550001\n+14155550100\n", "");

    let out = campaign.run(&sandbox, &[]).await;

    assert_eq!(out.code, DONE_WITH_FAILURES, "{out:?}");
    let rows = campaign.rows().await;
    let failed = rows.iter().find(|r| r.to == "+14155550001").unwrap();
    assert_eq!(
        (
            failed.state.as_str(),
            failed.attempts,
            failed.last_error_code
        ),
        ("failed", 1, Some(21211))
    );
    assert_eq!(
        rows.iter()
            .find(|r| r.to == "+14155550100")
            .unwrap()
            .state
            .as_str(),
        "created"
    );
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", campaign.db.display()))
        .await
        .unwrap();
    let recorded: Option<i64> = sqlx::query_scalar("SELECT exit_code FROM runs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        recorded.map(|c| c as i32),
        DONE_WITH_FAILURES,
        "the run's record holds the exit the command gave"
    );
}

#[tokio::test]
async fn answers_dropped_after_the_call_was_created_never_cause_a_second_call() {
    let sandbox = sandbox(SandboxConfig {
        share_drop: 0.5,
        share_hang: 0.1,
        hang_ms: 5_000,
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(30, &numbers(30), "");

    let out = campaign.run(&sandbox, &[]).await;

    assert_eq!(out.code, DONE, "{out:?}");
    let stats = sandbox.stats();
    assert!(stats.drops > 0, "answers were dropped: {stats:?}");
    assert_eq!(stats.creates, 30);
    assert_eq!(campaign.rows_in("created").await, 30);
    assert_nobody_called_twice(&sandbox);
}

#[tokio::test]
async fn kill_9_mid_run_then_resume_dials_nobody_twice_and_loses_no_row() {
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(20).unwrap(),
        latency_ms: 30,
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(20, &numbers(60), "");

    for kill_after in [5, 20, 35] {
        let mut child = campaign.command(&sandbox, &[]).spawn().unwrap();
        until_creates(&sandbox, kill_after).await;
        child.start_kill().unwrap();
        child.wait().await.unwrap();
    }
    let out = campaign.run(&sandbox, &[]).await;

    assert_eq!(out.code, DONE, "{out:?}");
    assert_eq!(campaign.rows_in("created").await, 60);
    assert_eq!(sandbox.stats().creates, 60);
    assert_nobody_called_twice(&sandbox);
}

#[tokio::test]
async fn two_overlapping_runs_one_dials_the_other_exits_with_the_lock_code() {
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(10).unwrap(),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(10, &numbers(10), "");

    let first = campaign.command(&sandbox, &[]).spawn().unwrap();
    let second = campaign.command(&sandbox, &[]).spawn().unwrap();
    let (a, b) = tokio::join!(output(first), output(second));

    let mut codes = [a.code, b.code];
    codes.sort();
    assert_eq!(codes, [DONE, LOCKED], "{a:?} {b:?}");
    assert_eq!(sandbox.stats().creates, 10);
    assert_nobody_called_twice(&sandbox);
}

#[tokio::test]
async fn the_deadline_stops_the_run_with_rows_left_and_the_next_run_finishes() {
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(5).unwrap(),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(5, &numbers(20), "");

    let first = campaign.run(&sandbox, &["--deadline", "1s"]).await;
    let created_first = sandbox.stats().creates;
    let second = campaign.run(&sandbox, &[]).await;

    assert_eq!(first.code, STOPPED_EARLY, "{first:?}");
    assert!(created_first > 0 && created_first < 20, "{created_first}");
    assert_eq!(second.code, DONE, "{second:?}");
    assert_eq!(sandbox.stats().creates, 20);
    assert_nobody_called_twice(&sandbox);
}

#[tokio::test]
async fn sigterm_stops_taking_rows_and_records_the_in_flight_ones() {
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(10).unwrap(),
        latency_ms: 200,
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(10, &numbers(40), "");

    let child = campaign.command(&sandbox, &[]).spawn().unwrap();
    until_creates(&sandbox, 5).await;
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let out = output(child).await;

    assert_eq!(out.code, STOPPED_EARLY, "{out:?}");
    let rows = campaign.rows().await;
    assert_eq!(
        rows.iter()
            .filter(|r| r.state.as_str() == "dialing")
            .count(),
        0,
        "in-flight rows were recorded"
    );
    let created = rows
        .iter()
        .filter(|r| r.state.as_str() == "created")
        .count() as u64;
    assert_eq!(
        created,
        sandbox.stats().creates,
        "every call Twilio created is recorded"
    );
    assert!(created < 40);
}

#[tokio::test]
async fn a_bad_campaign_file_fails_before_any_call() {
    let sandbox = sandbox(sandbox_config()).await;
    let campaign = TestCampaign::new(31, &numbers(3), "");

    let out = campaign.run(&sandbox, &[]).await;

    assert_eq!(out.code, CONFIG, "{out:?}");
    assert!(
        out.stderr
            .contains("campaign.cps must be a whole number from 1 to 30"),
        "{}",
        out.stderr
    );
    assert_eq!(sandbox.stats().requests, 0);
}

#[tokio::test]
async fn refused_credentials_stop_the_run_with_the_config_code() {
    let sandbox = sandbox(sandbox_config()).await;
    let campaign = TestCampaign::new(10, &numbers(3), "");

    let child = campaign
        .command(&sandbox, &[])
        .env("TWILIO_AUTH_TOKEN", "wrong-token")
        .spawn()
        .unwrap();
    let out = output(child).await;

    assert_eq!(out.code, CONFIG, "{out:?}");
    assert!(out.stderr.contains("20003"), "{}", out.stderr);
    assert_eq!(sandbox.stats().creates, 0);
    assert!(!out.stderr.contains("wrong-token") && !out.stdout.contains("wrong-token"));
}

/// The README's first command: the demo campaign end to end on the built-in sandbox.
#[tokio::test]
async fn the_demo_runs_a_whole_campaign_and_reports_how_the_calls_ended() {
    let dir = tempfile::tempdir().unwrap();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_dialer"))
        .arg("demo")
        .arg("--dir")
        .arg(dir.path())
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let out = output(child).await;

    assert_eq!(out.code, DONE, "{out:?}");
    for expected in [
        "import: 50 lines read, 46 new",
        "summary: campaign \"demo\" finished",
        "40 created, 6 failed, 0 unknown, 0 left",
        "calls ended 40: completed",
        "answered by human",
        "error 21211",
        "duplicate of line 4",
    ] {
        assert!(
            out.stdout.contains(expected),
            "missing {expected:?} in {}",
            out.stdout
        );
    }
    assert!(dir.path().join("demo.sqlite").exists());
}

#[tokio::test]
async fn a_run_stores_the_conference_sid_once_per_conference_not_once_per_call() {
    // Arrange: calls that last the whole run, so the conference does too; the campaign's
    // database made ahead, with every write to its conference SIDs counted.
    let sandbox = dialer::sandbox::Sandbox::start(SandboxConfig {
        cps: Cps::new(30).unwrap(),
        ring_ms: 50,
        talk_ms: 600_000,
        ..sandbox_config()
    })
    .await
    .unwrap();
    let campaign = TestCampaign::new(30, &numbers(12), "");
    campaign.open_store().await.close().await;
    let url = format!("sqlite://{}", campaign.db.display());
    let db = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE conference_writes (sid TEXT NOT NULL);
         CREATE TRIGGER conference_inserted AFTER INSERT ON conferences
         BEGIN INSERT INTO conference_writes VALUES (NEW.sid); END;
         CREATE TRIGGER conference_updated AFTER UPDATE ON conferences
         BEGIN INSERT INTO conference_writes VALUES (NEW.sid); END;",
    )
    .execute(&db)
    .await
    .unwrap();

    // Act
    let out = campaign.run(&sandbox, &[]).await;

    // Assert
    assert_eq!(out.code, DONE, "{out:?}");
    assert_eq!(sandbox.stats().creates, 12);
    let writes: Vec<String> = sqlx::query_scalar("SELECT sid FROM conference_writes")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(writes.len(), 1, "one conference, one write: {writes:?}");
    db.close().await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_list_with_a_header_and_no_rows_says_there_is_nobody_to_dial() {
    let sandbox = sandbox(sandbox_config()).await;
    let campaign = TestCampaign::new(30, "to,timeout\n", "");

    let out = campaign.run(&sandbox, &[]).await;

    assert_eq!(out.code, DONE, "{out:?}");
    assert!(
        out.stdout.contains("import: 0 lines read"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("has a header line but no rows: nobody to dial"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn each_request_is_counted_in_the_second_it_was_sent_though_rows_are_claimed_a_few_at_a_time()
{
    // Arrange: a run fast enough to claim several rows at once.
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(10).unwrap(),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(10, &numbers(40), "");

    // Act
    let out = campaign.run(&sandbox, &[]).await;

    // Assert: the report's timeline holds what the sandbox saw, the CPS and one more a second.
    assert_eq!(out.code, DONE, "{out:?}");
    let timeline = campaign
        .open_store()
        .await
        .request_timeline(1)
        .await
        .unwrap();
    let busiest = timeline.iter().map(|b| b.busiest_second).max().unwrap();
    assert!(
        busiest <= 11,
        "{busiest} requests counted in one second at CPS 10: {timeline:?}"
    );
    assert_eq!(timeline.iter().map(|b| b.requests).sum::<u64>(), 40);
}
