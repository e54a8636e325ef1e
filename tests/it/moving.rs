//! `dialer move`: a campaign begun on SQLite, moved to PostgreSQL mid-way with rows of every
//! kind, reads the same there and ends there with nobody called twice; and what the move
//! refuses, writing nothing.

use crate::support::campaign::{
    RunOutput, TestCampaign, assert_nobody_called_twice, dialer_at, numbers, output, sandbox,
    sandbox_config,
};
use crate::support::exit::{CONFIG, DONE, DONE_WITH_FAILURES, ERROR, LOCKED, STOPPED_EARLY};
use crate::support::postgres::{PgTestDb, fresh_database};
use crate::support::sandbox::{client, conference, participant};
use dialer::campaign::lock::CampaignLock;
use dialer::domain::CampaignStatus;
use dialer::sandbox::{DEMO_AUTH_TOKEN, Sandbox, SandboxConfig};
use dialer::store::{Database, Outcome, StateCounts, Store};
use std::time::Duration;

/// `dialer ARGS CAMPAIGN.toml [TAIL]` on the sandbox, with the database URL in the environment
/// when `db` is given (the campaign file itself names no database: its SQLite file).
async fn dialer(
    campaign: &TestCampaign,
    sandbox: &Sandbox,
    db: Option<&PgTestDb>,
    args: &[&str],
    tail: &[&str],
) -> RunOutput {
    let mut cmd = dialer_at(sandbox, args);
    cmd.arg(&campaign.file).args(tail);
    if let Some(db) = db {
        cmd.env("DIALER_DATABASE_URL", &db.url);
    }
    output(cmd.spawn().expect("dialer starts")).await
}

async fn move_to(campaign: &TestCampaign, sandbox: &Sandbox, db: &PgTestDb) -> RunOutput {
    dialer(campaign, sandbox, None, &["move"], &["--to", &db.url]).await
}

async fn report_json(
    campaign: &TestCampaign,
    sandbox: &Sandbox,
    db: Option<&PgTestDb>,
) -> serde_json::Value {
    let out = dialer(campaign, sandbox, db, &["report", "--json"], &[]).await;
    assert_eq!(out.code, DONE, "{}", out.stderr);
    serde_json::from_str(&out.stdout).expect("the report is JSON")
}

async fn on_postgres(db: &PgTestDb) -> Store {
    Store::open(&Database::Postgres(db.database_url()), "test")
        .await
        .expect("database opens")
}

/// Rows of campaign `test` in the shared database, without creating the campaign.
async fn rows_on(db: &PgTestDb) -> i64 {
    let pool = db.pool().await;
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM campaigns WHERE name = 'test'")
        .fetch_optional(&pool)
        .await
        .unwrap_or(None);
    let rows = match exists {
        Some(id) => sqlx::query_scalar("SELECT COUNT(*) FROM rows WHERE campaign_id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .expect("rows counted"),
        None => 0,
    };
    pool.close().await;
    rows
}

/// Two rows claimed and left in doubt, as after a create that timed out: the first was
/// created at Twilio (by its label), the second never reached it.
async fn leave_two_rows_in_doubt(campaign: &TestCampaign, sandbox: &Sandbox) {
    let store = campaign.open_store().await;
    let twilio = client(sandbox, DEMO_AUTH_TOKEN, Duration::from_secs(10));
    for created in [true, false] {
        let claimed = store.claim_next().await.expect("claim").expect("a due row");
        if created {
            let request = participant(claimed.to.as_str(), &[("Label", claimed.label.as_str())]);
            twilio
                .create_participant(&conference("TestRoom"), &request)
                .await
                .expect("the sandbox creates the call");
        }
        let timed_out = Outcome::Unknown {
            check_at: store.now_ms(),
            http_status: None,
            code: None,
            message: "no answer before the request timeout".into(),
        };
        store.record(&claimed, &timed_out).await.expect("recorded");
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_campaign_moved_mid_way_reads_the_same_on_postgres_and_ends_there_with_nobody_called_twice()
 {
    // Arrange: 40 people, the first ten refused by Twilio, dialed at 5 CPS for 3 seconds on
    // SQLite; the calls' outcomes synced, two rows left in doubt, the campaign paused.
    let sandbox = sandbox(SandboxConfig {
        invalid_to_prefix: Some("+1415555000".into()),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(5, &numbers(40), "");
    let db = fresh_database().await;
    let first = dialer(&campaign, &sandbox, None, &["run"], &["--deadline", "3s"]).await;
    assert_eq!(first.code, STOPPED_EARLY, "{}", first.stderr);
    let synced = dialer(
        &campaign,
        &sandbox,
        None,
        &["sync"],
        &["--every", "1", "--deadline", "60s"],
    )
    .await;
    assert!(synced.code.is_some(), "{}", synced.stderr);
    leave_two_rows_in_doubt(&campaign, &sandbox).await;
    let paused = dialer(&campaign, &sandbox, None, &["campaign", "pause"], &[]).await;
    assert_eq!(paused.code, DONE, "{}", paused.stderr);
    let before = report_json(&campaign, &sandbox, None).await;
    let states = &before["states"];
    assert_eq!(states["failed"], 10, "{before}");
    assert_eq!(states["unknown"], 2, "{before}");
    assert!(states["created"].as_u64().unwrap() > 0, "{before}");
    assert!(states["pending"].as_u64().unwrap() > 0, "{before}");

    // Act
    let moved = move_to(&campaign, &sandbox, &db).await;

    // Assert: the same report on both sides, the SQLite file's unchanged, the status kept.
    assert_eq!(moved.code, DONE, "{}\n{}", moved.stdout, moved.stderr);
    assert!(moved.stdout.contains("moved to"), "{}", moved.stdout);
    assert!(
        moved.stdout.contains("DIALER_DATABASE_URL"),
        "{}",
        moved.stdout
    );
    let on_sqlite = report_json(&campaign, &sandbox, None).await;
    let on_pg = report_json(&campaign, &sandbox, Some(&db)).await;
    assert_eq!(on_sqlite, before, "the SQLite file is only read");
    assert_eq!(on_pg, before);
    let store = on_postgres(&db).await;
    assert_eq!(
        store.campaign_status().await.unwrap(),
        CampaignStatus::Paused
    );
    store.close().await;

    // Act: resumed and run to the end on PostgreSQL.
    let resumed = dialer(&campaign, &sandbox, Some(&db), &["campaign", "resume"], &[]).await;
    assert_eq!(resumed.code, DONE, "{}", resumed.stderr);
    let mut counts = StateCounts::default();
    for _ in 0..5 {
        let out = dialer(&campaign, &sandbox, Some(&db), &["run"], &[]).await;
        assert!(
            out.code == DONE || out.code == DONE_WITH_FAILURES,
            "{:?}: {}",
            out.code,
            out.stderr
        );
        let store = on_postgres(&db).await;
        counts = store.state_counts().await.unwrap();
        store.close().await;
        if counts.done() == counts.rows() {
            break;
        }
    }

    // Assert: every row settled, the ten refused still failed, and nobody called twice (the
    // row in doubt whose call Twilio had is found, not dialed again).
    assert_eq!(counts.rows(), 40, "{counts:?}");
    assert_eq!(counts.done(), 40, "{counts:?}");
    assert_eq!(counts.failed, 10, "{counts:?}");
    assert_eq!(counts.created, 30, "{counts:?}");
    assert_nobody_called_twice(&sandbox);
    assert_eq!(sandbox.stats().creates, 30);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_move_into_a_database_that_has_the_campaign_is_refused_and_writes_nothing() {
    let sandbox = sandbox(sandbox_config()).await;
    let campaign = TestCampaign::new(30, &numbers(3), "");
    let db = fresh_database().await;
    let run = dialer(&campaign, &sandbox, None, &["run"], &[]).await;
    assert_eq!(run.code, DONE, "{}", run.stderr);
    let first = move_to(&campaign, &sandbox, &db).await;
    assert_eq!(first.code, DONE, "{}", first.stderr);
    campaign.append("+14155559999\n");
    let again = dialer(&campaign, &sandbox, None, &["run"], &[]).await;
    assert_eq!(again.code, DONE, "{}", again.stderr);

    let second = move_to(&campaign, &sandbox, &db).await;

    assert_eq!(second.code, CONFIG, "{}", second.stderr);
    assert!(
        second.stderr.contains("already holds campaign"),
        "{}",
        second.stderr
    );
    assert!(
        second.stderr.contains("nothing was written"),
        "{}",
        second.stderr
    );
    assert_eq!(
        rows_on(&db).await,
        3,
        "the first move's rows, and nothing of the second"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_move_of_a_campaign_with_rows_being_dialed_is_refused_until_a_run_reconciles_them() {
    let sandbox = sandbox(sandbox_config()).await;
    let campaign = TestCampaign::new(30, &numbers(3), "");
    let db = fresh_database().await;
    let paused = dialer(&campaign, &sandbox, None, &["campaign", "pause"], &[]).await;
    assert_eq!(paused.code, DONE, "{}", paused.stderr);
    let imported = dialer(&campaign, &sandbox, None, &["run"], &[]).await;
    assert_eq!(imported.code, STOPPED_EARLY, "{}", imported.stderr);
    // A run killed after it claimed a row: the row is left `dialing`.
    let store = campaign.open_store().await;
    store.claim_next().await.expect("claim").expect("a due row");
    store.close().await;

    let refused = move_to(&campaign, &sandbox, &db).await;

    assert_eq!(refused.code, CONFIG, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("being dialed"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("run the campaign once more"),
        "{}",
        refused.stderr
    );
    assert_eq!(rows_on(&db).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_move_while_a_run_holds_the_campaign_lock_is_refused_as_locked() {
    let sandbox = sandbox(sandbox_config()).await;
    let campaign = TestCampaign::new(30, &numbers(3), "");
    let db = fresh_database().await;
    let run = dialer(&campaign, &sandbox, None, &["run"], &[]).await;
    assert_eq!(run.code, DONE, "{}", run.stderr);
    let _running = CampaignLock::acquire(&campaign.db, "test").expect("the lock is free");

    let refused = move_to(&campaign, &sandbox, &db).await;

    assert_eq!(refused.code, LOCKED, "{}", refused.stderr);
    assert!(refused.stderr.contains("another run"), "{}", refused.stderr);
    assert_eq!(rows_on(&db).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_move_names_its_missing_target_refuses_a_password_in_argv_and_never_shows_one() {
    let sandbox = sandbox(sandbox_config()).await;
    let campaign = TestCampaign::new(30, &numbers(3), "");
    let run = dialer(&campaign, &sandbox, None, &["run"], &[]).await;
    assert_eq!(run.code, DONE, "{}", run.stderr);

    let nowhere = dialer(&campaign, &sandbox, None, &["move"], &[]).await;
    let on_the_command_line = dialer(
        &campaign,
        &sandbox,
        None,
        &["move"],
        &["--to", "postgres://dialer:s3cret@127.0.0.1:1/dialer"],
    )
    .await;
    let unreachable = {
        let mut cmd = dialer_at(&sandbox, &["move"]);
        cmd.arg(&campaign.file).env(
            "DIALER_DATABASE_URL",
            "postgres://dialer:s3cret@127.0.0.1:1/dialer",
        );
        output(cmd.spawn().expect("dialer starts")).await
    };

    assert_eq!(nowhere.code, CONFIG, "{}", nowhere.stderr);
    assert!(nowhere.stderr.contains("--to"), "{}", nowhere.stderr);
    assert_eq!(
        on_the_command_line.code, CONFIG,
        "{}",
        on_the_command_line.stderr
    );
    assert!(
        on_the_command_line.stderr.contains("PGPASSWORD"),
        "{}",
        on_the_command_line.stderr
    );
    assert_eq!(unreachable.code, ERROR, "{}", unreachable.stderr);
    assert!(
        unreachable.stderr.contains("dialer:***@"),
        "{}",
        unreachable.stderr
    );
    for out in [&on_the_command_line, &unreachable] {
        assert!(!out.stderr.contains("s3cret"), "{}", out.stderr);
    }
}
