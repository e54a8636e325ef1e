//! `dialer campaign requeue` end to end: the real binary puts failed rows back, on SQLite and
//! on PostgreSQL, between runs and while a run is dialing, and the export shows each requeue.

use crate::support::campaign::{
    TestCampaign, assert_nobody_called_twice, dialer_at, numbers, output, sandbox, sandbox_config,
    until_creates,
};
use crate::support::exit::{CONFIG, DONE, DONE_WITH_FAILURES};
use crate::support::postgres::fresh_database;
use dialer::domain::Cps;
use dialer::report::HEADER;
use dialer::sandbox::SandboxConfig;

/// The export's `(line, state, attempts, requeued)` of every row, header left out.
async fn rows(campaign: &TestCampaign) -> Vec<(String, String, String, String)> {
    let records = campaign.export().await;
    assert_eq!(records[0].iter().collect::<Vec<_>>(), HEADER);
    records[1..]
        .iter()
        .map(|r| (r[0].into(), r[3].into(), r[4].into(), r[12].into()))
        .collect()
}

/// Twilio refuses every number of a run (21211), so each row fails; requeued, the rows are
/// called once each by the next run (Twilio accepts them now), their attempts numbered on.
/// (An outage no longer fails rows: the breaker leaves them pending.)
async fn rows_refused_are_put_back_and_called_once_by_the_next_run(campaign: TestCampaign) {
    // Arrange
    let refusing = sandbox(SandboxConfig {
        invalid_to_prefix: Some("+1415555".into()),
        ..sandbox_config()
    })
    .await;
    let failed = campaign.run(&refusing, &[]).await;
    assert_eq!(failed.code, DONE_WITH_FAILURES, "{failed:?}");
    let before = rows(&campaign).await;
    assert!(
        before.iter().all(|r| r.1 == "failed" && r.2 == "1"),
        "{before:?}"
    );
    let healthy = sandbox(sandbox_config()).await;

    // Act
    let requeue = campaign.requeue(&["--failed"]).await;
    let run = campaign.run(&healthy, &[]).await;

    // Assert
    assert_eq!(requeue.code, DONE, "{requeue:?}");
    assert!(
        requeue.stdout.starts_with("put back 3 rows (failed: ")
            && requeue.stdout.contains("21211")
            && requeue.stdout.contains(" ×3)"),
        "{}",
        requeue.stdout
    );
    assert_eq!(run.code, DONE, "{run:?}");
    assert_eq!(healthy.stats().creates, 3);
    assert_nobody_called_twice(&healthy);
    for (line, state, attempts, requeued) in rows(&campaign).await {
        assert_eq!(
            (state.as_str(), attempts.as_str()),
            ("created", "2"),
            "line {line}"
        );
        assert!(
            requeued.starts_with("requeued by `dialer campaign requeue` at ")
                && requeued.contains(", was failed: ")
                && requeued.contains("21211"),
            "line {line}: {requeued}"
        );
    }
    let again = campaign.requeue(&["--failed"]).await;
    assert_eq!(again.code, DONE, "{again:?}");
    assert_eq!(again.stdout, "no failed row matches: nothing put back\n");
}

#[tokio::test]
async fn on_sqlite_rows_refused_are_put_back_and_called_once_by_the_next_run() {
    let campaign = TestCampaign::new(30, &numbers(3), "");
    rows_refused_are_put_back_and_called_once_by_the_next_run(campaign).await;
}

#[tokio::test]
async fn on_postgres_rows_refused_are_put_back_and_called_once_by_the_next_run() {
    let db = fresh_database().await;
    let campaign = TestCampaign::new(
        30,
        &numbers(3),
        &format!("[database]\nurl = \"{}\"\n", db.url),
    );
    rows_refused_are_put_back_and_called_once_by_the_next_run(campaign).await;
}

#[tokio::test]
async fn a_requeue_by_line_touches_only_failed_rows_and_names_the_others_with_their_state() {
    // Arrange: line 2 fails (invalid number), line 3 is created.
    let sandbox = sandbox(SandboxConfig {
        invalid_to_prefix: Some("+1415555999".into()),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(30, "to\n+14155559990\n+14155550001\nnot a number\n", "");
    assert_eq!(campaign.run(&sandbox, &[]).await.code, DONE_WITH_FAILURES);

    // Act
    let wrong_code = campaign.requeue(&["--code", "20003", "--line", "2"]).await;
    let requeue = campaign
        .requeue(&["--line", "2", "3", "4", "--code", "21211"])
        .await;

    // Assert
    assert_eq!(wrong_code.code, DONE, "{wrong_code:?}");
    assert_eq!(
        wrong_code.stdout,
        "no failed row matches: nothing put back\nline 2: failed, but not with that code; not touched\n"
    );
    assert_eq!(requeue.code, DONE, "{requeue:?}");
    assert!(
        requeue
            .stdout
            .starts_with("put back 1 row (failed: error 21211: "),
        "{}",
        requeue.stdout
    );
    assert!(
        requeue.stdout.ends_with(
            "line 3: created; not touched\n\
             line 4: no row (rejected at import, or not in the list); not touched\n"
        ),
        "{}",
        requeue.stdout
    );
    let states: Vec<(String, String)> = rows(&campaign)
        .await
        .into_iter()
        .map(|r| (r.1, r.3))
        .collect();
    assert_eq!(states[0].0, "pending");
    assert!(
        states[0].1.contains("was failed: error 21211"),
        "{states:?}"
    );
    assert_eq!(states[1], ("created".into(), String::new()));
    let report = campaign.manage(&["report"]).await;
    assert!(
        report
            .stdout
            .contains("requeued, not dialed again yet; requeued by `dialer campaign requeue` at "),
        "{}",
        report.stdout
    );
    let none = campaign.requeue(&[]).await;
    assert_eq!(none.code, CONFIG, "a selector is required: {none:?}");
    assert_eq!(campaign.manage(&["campaign", "cancel"]).await.code, DONE);
    let canceled = campaign.requeue(&["--failed"]).await;
    assert_eq!(canceled.code, CONFIG, "a cancel is final: {canceled:?}");
}

#[tokio::test]
async fn rows_requeued_while_a_run_is_dialing_are_dialed_by_that_run() {
    // Arrange: the first two lines fail at once; 30 more rows keep the run going.
    let sandbox = sandbox(SandboxConfig {
        invalid_to_prefix: Some("+1415555999".into()),
        cps: Cps::new(5).unwrap(),
        ..sandbox_config()
    })
    .await;
    let list = numbers(30).replacen("to\n", "to\n+14155559990\n+14155559991\n", 1);
    let campaign = TestCampaign::new(5, &list, "");
    let run = campaign
        .command(&sandbox, &[])
        .spawn()
        .expect("dialer starts");
    // A call created: the run has made its database (opening it earlier would race it).
    until_creates(&sandbox, 1).await;
    while campaign.rows_in("failed").await < 2 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // Act
    let requeue = campaign.requeue(&["--code", "21211"]).await;
    let run = output(run).await;

    // Assert
    assert!(
        requeue
            .stdout
            .starts_with("put back 2 rows (failed: error 21211: "),
        "{requeue:?}"
    );
    assert!(
        campaign.rows_in("created").await == 30 && run.code == DONE_WITH_FAILURES,
        "the run went to its end: {run:?}"
    );
    let invalid: Vec<(String, String, String)> = rows(&campaign).await[..2]
        .iter()
        .map(|r| {
            (
                r.1.clone(),
                r.2.clone(),
                r.3.contains("was failed: error 21211").to_string(),
            )
        })
        .collect();
    assert_eq!(
        invalid,
        vec![("failed".into(), "2".into(), "true".into()); 2],
        "each tried again by the run, once"
    );
}

#[tokio::test]
async fn a_campaign_moved_to_postgres_keeps_its_requeues() {
    // Arrange: line 2 failed, then put back, on SQLite.
    let sandbox = sandbox(SandboxConfig {
        invalid_to_prefix: Some("+1415555999".into()),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(30, "to\n+14155559990\n+14155550001\n", "");
    assert_eq!(campaign.run(&sandbox, &[]).await.code, DONE_WITH_FAILURES);
    assert_eq!(campaign.requeue(&["--failed"]).await.code, DONE);
    let on_sqlite = campaign.export().await;
    let db = fresh_database().await;

    // Act
    let mut move_to = dialer_at(&sandbox, &["move"]);
    move_to.arg(&campaign.file).args(["--to", &db.url]);
    let moved = output(move_to.spawn().expect("dialer starts")).await;

    // Assert
    assert_eq!(moved.code, DONE, "{moved:?}");
    let mut export = dialer_at(&sandbox, &["export"]);
    export
        .arg(&campaign.file)
        .env("DIALER_DATABASE_URL", &db.url);
    let on_postgres = output(export.spawn().expect("dialer starts")).await;
    let on_postgres: Vec<csv::StringRecord> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(on_postgres.stdout.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(on_postgres, on_sqlite);
    assert!(
        on_postgres[1][12].contains("was failed: error 21211"),
        "{on_postgres:?}"
    );
}
