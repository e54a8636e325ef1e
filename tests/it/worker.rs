//! `dialer worker`: campaigns dialed again and again until SIGTERM, with the rows appended to
//! a list and the campaign files added to a folder picked up as it goes; between passes, a
//! worker with nothing to dial wakes for what other processes and the clock bring, and costs
//! the database about one statement a tick.

use crate::support::campaign::{
    RunOutput, TestCampaign, assert_nobody_called_twice, dialer_at, numbers, output, sandbox,
    sandbox_config, signal, until_creates,
};
use crate::support::exit::{CONFIG, DONE};
use crate::support::postgres::{PgTestDb, fresh_database};
use crate::support::sandbox::eventually;
use dialer::domain::Cps;
use dialer::sandbox::{Sandbox, SandboxConfig};
use dialer::store::{Database, Store};
use std::time::Duration;

#[tokio::test]
async fn a_worker_dials_new_rows_and_new_campaigns_until_sigterm_then_exits_0() {
    // Arrange: a folder holding one campaign file.
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(30).unwrap(),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(30, &numbers(5), "");
    let folder = campaign.dir.path();
    let mut worker = dialer_at(&sandbox, &["worker"]);
    worker
        .arg(folder)
        .args(["--idle", "200ms", "--rescan", "300ms"]);
    let child = worker.spawn().expect("dialer starts");

    // Act: more people on the list, then a second campaign in the folder.
    until_creates(&sandbox, 5).await;
    campaign.append("+14155559000\n+14155559001\n");
    until_creates(&sandbox, 7).await;
    let second = std::fs::read_to_string(&campaign.file)
        .unwrap()
        .replace("name = \"test\"", "name = \"second\"")
        .replace("list = \"list.csv\"", "list = \"second.csv\"");
    std::fs::write(
        folder.join("second.csv"),
        "to\n+14156660001\n+14156660002\n",
    )
    .unwrap();
    std::fs::write(folder.join("second.toml"), second).unwrap();
    until_creates(&sandbox, 9).await;
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let out = output(child).await;

    // Assert
    assert_eq!(out.code, DONE, "{out:?}");
    assert_nobody_called_twice(&sandbox);
    assert_eq!(sandbox.stats().creates, 9);
    assert_eq!(campaign.rows_in("created").await, 7);
}

#[tokio::test]
async fn a_worker_with_a_bad_campaign_file_fails_before_any_call() {
    // Arrange
    let sandbox = sandbox(sandbox_config()).await;
    let good = TestCampaign::new(10, &numbers(3), "");
    let bad = TestCampaign::new(31, &numbers(3), "");

    // Act
    let mut worker = dialer_at(&sandbox, &["worker"]);
    worker.arg(&good.file).arg(&bad.file);
    let out = output(worker.spawn().expect("dialer starts")).await;

    // Assert
    assert_eq!(out.code, CONFIG, "{out:?}");
    assert_eq!(sandbox.stats().creates, 0);
}

/// Two campaigns of one account in one worker share the account's pacer, and with it the
/// account's schedule in the database: the first campaign's run ending must not close what the
/// other one still paces with.
#[tokio::test]
async fn two_campaigns_of_one_account_in_one_worker_on_postgres_both_finish_when_one_ends_first() {
    // Arrange: a short campaign and a long one, in one folder, on one shared database.
    let db = crate::support::postgres::fresh_database().await;
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(10).unwrap(),
        ..sandbox_config()
    })
    .await;
    let short = TestCampaign::new(
        10,
        &numbers(10),
        &format!("[database]\nurl = \"{}\"\n", db.url),
    );
    let folder = short.dir.path();
    let long = std::fs::read_to_string(&short.file)
        .unwrap()
        .replace("name = \"test\"", "name = \"long\"")
        .replace("list = \"list.csv\"", "list = \"long.csv\"");
    let long_list: String = std::iter::once("to\n".to_owned())
        .chain((0..30).map(|i| format!("+1415666{i:04}\n")))
        .collect();
    std::fs::write(folder.join("long.csv"), long_list).unwrap();

    // Act: the long campaign starts while the short one dials, and so shares its pacer.
    let mut worker = dialer_at(&sandbox, &["worker"]);
    worker
        .arg(folder)
        .args(["--idle", "200ms", "--rescan", "100ms"]);
    let child = worker.spawn().expect("dialer starts");
    until_creates(&sandbox, 1).await;
    std::fs::write(folder.join("long.toml"), long).unwrap();
    for _ in 0..300 {
        if sandbox.stats().creates >= 40 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let out = output(child).await;

    // Assert
    assert_nobody_called_twice(&sandbox);
    assert_eq!(sandbox.stats().creates, 40, "{out:?}");
    assert!(!out.stderr.contains("closed pool"), "{}", out.stderr);
    assert_eq!(out.code, DONE, "{out:?}");
}

/// `dialer worker` on `campaign`'s file, looking for work every 100 ms.
fn idle_worker(sandbox: &Sandbox, campaign: &TestCampaign) -> tokio::process::Child {
    let mut worker = dialer_at(sandbox, &["worker"]);
    worker
        .arg(&campaign.file)
        .args(["--idle", "100ms", "--rescan", "60s"]);
    worker.spawn().expect("dialer starts")
}

/// Whether `check` holds within `secs` seconds.
pub(crate) async fn within<F, Fut>(secs: u64, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// SIGTERM, and the worker's output once it exited.
pub(crate) async fn stop(worker: tokio::process::Child) -> RunOutput {
    signal(&[worker.id().expect("a pid")], "-TERM");
    output(worker).await
}

fn on_postgres(db: &PgTestDb) -> String {
    format!("[database]\nurl = \"{}\"\n", db.url)
}

async fn postgres_store(db: &PgTestDb) -> Store {
    Store::open(&Database::Postgres(db.database_url()), "test")
        .await
        .expect("database opens")
}

/// The rows of the campaign on `db`, as (state, attempts).
async fn postgres_rows(db: &PgTestDb) -> Vec<(String, i64)> {
    let store = postgres_store(db).await;
    let rows = store.export_rows().await.expect("rows read");
    rows.into_iter()
        .map(|r| (r.state.as_str().to_owned(), r.attempts))
        .collect()
}

/// A worker on a campaign of `rows` people on `db` whose first pass failed every row (Twilio
/// refused every number), and the worker waiting with nothing to dial; with its sandbox and
/// campaign, which must outlive it.
async fn worker_after_a_failed_pass(
    db: &PgTestDb,
    rows: usize,
) -> (Sandbox, TestCampaign, tokio::process::Child) {
    let refusing = sandbox(SandboxConfig {
        invalid_to_prefix: Some("+1415555".into()),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(30, &numbers(rows), &on_postgres(db));
    let worker = idle_worker(&refusing, &campaign);
    let failed =
        eventually(|| async { postgres_rows(db).await == vec![("failed".to_owned(), 1); rows] });
    assert!(failed.await, "the first pass fails every row");
    (refusing, campaign, worker)
}

#[tokio::test]
async fn an_idle_worker_dials_the_rows_another_process_requeues_on_postgres() {
    // Arrange: Twilio refuses every number, so the worker's first pass fails every row.
    let db = fresh_database().await;
    let (_refusing, campaign, worker) = worker_after_a_failed_pass(&db, 3).await;

    // Act
    let requeue = campaign.requeue(&["--failed"]).await;
    let failed_twice =
        eventually(|| async { postgres_rows(&db).await == vec![("failed".to_owned(), 2); 3] })
            .await;
    let out = stop(worker).await;

    // Assert
    assert_eq!(requeue.code, DONE, "{requeue:?}");
    assert!(failed_twice, "the worker dials the requeued rows");
    assert_eq!(out.code, DONE, "{out:?}");
}

#[tokio::test]
async fn an_idle_worker_dials_a_paused_campaign_once_another_process_resumes_it() {
    // Arrange: the campaign is paused before the worker starts.
    let sandbox = sandbox(sandbox_config()).await;
    let campaign = TestCampaign::new(30, &numbers(3), "");
    let pause = campaign.manage(&["campaign", "pause"]).await;
    assert_eq!(pause.code, DONE, "{pause:?}");
    let worker = idle_worker(&sandbox, &campaign);
    // Many ticks of the worker pass while the campaign is paused.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let while_paused = sandbox.stats().creates;

    // Act
    let resume = campaign.manage(&["campaign", "resume"]).await;
    until_creates(&sandbox, 3).await;
    let out = stop(worker).await;

    // Assert
    assert_eq!(resume.code, DONE, "{resume:?}");
    assert_eq!(while_paused, 0, "nobody is called while paused");
    assert_eq!(sandbox.stats().creates, 3);
    assert_nobody_called_twice(&sandbox);
    assert_eq!(out.code, DONE, "{out:?}");
}

#[tokio::test]
async fn an_idle_worker_calls_a_busy_row_again_when_its_recycle_delay_falls_due() {
    // Arrange: every call is busy, and a busy row is called again 2 s later, once.
    let sandbox = sandbox(SandboxConfig {
        busy: 1.0,
        ..sandbox_config()
    })
    .await;
    let extra = "max_attempts = 2\n[recycle]\nbusy = \"2s\"\n";
    let campaign = TestCampaign::new(30, &numbers(3), extra);

    // Act
    let worker = idle_worker(&sandbox, &campaign);
    until_creates(&sandbox, 3).await;
    // The outcomes are polled once the calls are 10 s old.
    let recycled = within(30, || async { campaign.rows_in("pending").await == 3 }).await;
    let called_again = within(10, || async { sandbox.stats().creates == 6 }).await;
    let out = stop(worker).await;

    // Assert
    assert!(recycled, "the busy rows are recycled");
    assert!(called_again, "the worker calls them again when due");
    assert_eq!(sandbox.stats().creates, 6, "max_attempts = 2");
    assert_eq!(out.code, DONE, "{out:?}");
}

/// PostgreSQL's count of committed transactions in the test's database (every statement
/// outside a transaction is one), once the server has gathered the other sessions' counts.
async fn commits(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(pool)
    .await
    .expect("the statistics read")
}

/// A worker with nothing to dial looked again at its campaign every `--idle` with a full pass,
/// about a dozen transactions each: with a hundred campaign-hosts that kept PostgreSQL busy.
#[tokio::test]
async fn an_idle_worker_costs_postgresql_about_one_statement_a_tick_per_campaign() {
    // Arrange: a worker whose every row failed (Twilio refused the numbers): nothing to dial.
    let db = fresh_database().await;
    let (_refusing, _campaign, worker) = worker_after_a_failed_pass(&db, 2).await;
    let pool = db.pool().await;
    // Let the last pass end and its counts reach the statistics.
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Act: 40 ticks of 100 ms, at most (a tick is the wait and what it does).
    let before = commits(&pool).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let after = commits(&pool).await;
    let out = stop(worker).await;

    // Assert: one statement a tick, two reads of the statistics, and room for a full pass.
    let per_tick = (after - before) as f64 / 40.0;
    println!("transactions per idle tick of one campaign: {per_tick:.2}");
    assert!(
        after - before <= 40 + 2 + 15,
        "{} commits in 40 ticks",
        after - before
    );
    assert_eq!(out.code, DONE, "{out:?}");
}
