//! The store's conformance suite: every backend keeps the same promises. Each test is written
//! once, as a function of the `Database` it runs on, and runs twice: `store::sqlite::…` on a
//! fresh SQLite file and `store::postgres::…` on a fresh database of a real PostgreSQL server.
//! Together they run every method of `Store`, so every statement of each backend has run
//! against its engine. What only hosts sharing a database can do is tested in `postgres`.

use dialer::domain::{
    AttemptToken, CallSid, CallStatus, CalleeZone, CalleeZones, CampaignStatus, ConferenceSid,
    Endpoint, Jurisdictions, Label, LineState, PersonId, RowState, RunEnding, ZoneSource,
};
use dialer::store::{
    AttemptSpan, CallEvent, CallObservation, Claimed, Database, EventSource, FailureGroup,
    FinishedImport, ImportPass, Inserted, NewRow, OptOutSource, Outcome, Recorded, Redial, Reject,
    RequestBucket, RequestErrors, RowGroup, Store, ZoneQuarterCalls, ZoneSources,
};
use dialer::twilio::RowOverrides;
use std::time::Duration;

mod history;
mod requeue;
mod status;
use history::*;
use requeue::*;
use status::*;

/// Runs each test, an `async fn name(db: Database)` below, on every backend.
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                let dir = tempfile::tempdir().unwrap();
                super::$name(dialer::store::Database::Sqlite(dir.path().join("c.sqlite"))).await;
            })*
        }

        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                let db = crate::support::postgres::fresh_database().await;
                super::$name(dialer::store::Database::Postgres(db.database_url())).await;
            })*
        }
    };
}

pub fn row(line: u64, to: &str, label: &str) -> NewRow {
    NewRow {
        line,
        to: Endpoint::parse(to).unwrap(),
        label: Label::parse(label).unwrap(),
        params: RowOverrides::from_json(r#"{"timeout":"20"}"#).unwrap(),
        zone: None,
        jurisdictions: None,
        person: None,
    }
}

/// The `n`th person of a test list: `+1415555nnnn`, label `r<n>`, on line `n + 2`.
pub fn person(n: u64) -> NewRow {
    row(n + 2, &format!("+1415555{n:04}"), &format!("r{n}"))
}

/// The campaign `c` in `db`, with `n` people imported.
pub async fn with_people(db: &Database, n: u64) -> Store {
    let store = Store::open(db, "c").await.unwrap();
    let people: Vec<NewRow> = (0..n).map(person).collect();
    store
        .import_rows(&mut ImportPass::default(), &people)
        .await
        .unwrap();
    store
}

fn call_sid(n: u32) -> CallSid {
    CallSid::parse(&format!("CA{n:032x}")).unwrap()
}

fn created(n: u32) -> Outcome {
    Outcome::Created {
        call_sid: call_sid(n),
        conference_sid: None,
        queue_time_ms: Some(100 + i64::from(n)),
        status: 201,
    }
}

pub fn in_doubt() -> Outcome {
    Outcome::Unknown {
        check_at: 0,
        http_status: None,
        code: None,
        message: "the request timed out".into(),
    }
}

fn callback(sid: &CallSid, sequence_number: i64, status: CallStatus) -> CallObservation {
    CallObservation {
        call_sid: sid.clone(),
        attempt: None,
        source: EventSource::Callback,
        sequence_number,
        status,
        answered_by: None,
        duration_secs: None,
        params: "{}".into(),
    }
}

/// The rows of one zone (`None`: the campaign's) outside the US.
pub fn zone_group(zones: Option<&CalleeZones>) -> RowGroup {
    RowGroup {
        zones: zones.cloned(),
        jurisdictions: None,
    }
}

async fn claim(store: &Store) -> Claimed {
    store.claim_next().await.unwrap().expect("a due row")
}

/// Sets every row's last change and due time, as a program writing the database directly.
async fn rewrite_every_row(db: &Database, updated_at: i64, next_attempt_at: i64) {
    match db {
        Database::Sqlite(path) => {
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            sqlx::query("UPDATE rows SET updated_at = ?, next_attempt_at = ?")
                .bind(updated_at)
                .bind(next_attempt_at)
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        Database::Postgres(url) => {
            let pool = sqlx::PgPool::connect(url.without_password().as_str())
                .await
                .unwrap();
            sqlx::query("UPDATE rows SET updated_at = $1, next_attempt_at = $2")
                .bind(updated_at)
                .bind(next_attempt_at)
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
    }
}

/// Sets when the attempt `number` of the row labelled `label` was sent, as if it were then.
async fn send_attempt_at(db: &Database, label: &str, number: i64, started_at: i64) {
    match db {
        Database::Sqlite(path) => {
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            let query = sqlx::query(
                "UPDATE attempts SET started_at = ?1
                 WHERE row_id = (SELECT id FROM rows WHERE label = ?2) AND number = ?3",
            );
            let query = query.bind(started_at).bind(label).bind(number);
            query.execute(&pool).await.unwrap();
            pool.close().await;
        }
        Database::Postgres(url) => {
            let pool = sqlx::PgPool::connect(url.without_password().as_str())
                .await
                .unwrap();
            let query = sqlx::query(
                "UPDATE attempts SET started_at = $1
                 WHERE row_id = (SELECT id FROM rows WHERE label = $2) AND number = $3",
            );
            let query = query.bind(started_at).bind(label).bind(number);
            query.execute(&pool).await.unwrap();
            pool.close().await;
        }
    }
}

/// The run dialing is gone: on PostgreSQL its leases run out (as if long ago); on SQLite
/// there are none, the campaign's lock says so.
async fn end_every_lease(db: &Database) {
    if let Database::Postgres(url) = db {
        let pool = sqlx::PgPool::connect(url.without_password().as_str())
            .await
            .unwrap();
        sqlx::query(
            "UPDATE rows SET lease_expires_at = unix_ms() - 3600000 WHERE state = 'dialing'",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }
}

on_every_backend!(
    an_import_batch_tells_new_already_imported_duplicate_and_label_taken_rows_apart,
    a_label_and_parameters_holding_backslashes_and_quotes_are_stored_as_written,
    a_first_import_into_an_empty_campaign_and_a_re_import_after_it_find_every_row,
    an_import_cut_short_after_a_commit_is_finished_by_the_next_one,
    an_import_transaction_keeps_its_batches_until_its_commit_and_none_when_dropped,
    due_times_set_before_the_clock_stepped_back_move_back_with_it,
    campaigns_sharing_a_database_see_only_their_own_rows,
    a_created_call_takes_each_event_once_and_its_final_status_into_the_report,
    what_one_poll_found_of_many_calls_is_recorded_together_as_one_by_one,
    a_retry_and_a_recycled_call_wait_for_their_times,
    a_claim_given_back_is_pending_again_and_a_suppressed_one_is_never_dialed,
    a_batch_claim_takes_the_first_due_rows_in_list_order_each_with_its_attempt,
    what_a_run_that_found_nothing_waits_for_is_read_in_one_statement,
    a_row_left_dialing_by_a_run_that_is_gone_is_checked_before_any_redial,
    rows_in_doubt_are_settled_once_by_a_check_or_by_a_callback,
    a_row_in_doubt_found_never_created_is_failed_with_its_reason_once_it_has_given_up,
    an_import_keeps_its_rejects_and_what_it_read_until_the_next_one,
    every_rejected_line_keeps_its_to_as_the_list_wrote_it,
    pauses_zones_and_do_not_call_lists_act_on_pending_rows_only,
    a_stored_zone_name_no_longer_known_is_skipped_and_its_rows_are_still_found_by_it,
    calls_placed_to_a_person_are_counted_over_every_campaign_of_the_database,
    each_campaign_keeps_its_own_key_and_names_only_its_own_attempts_party,
    the_charts_read_requests_per_second_errors_by_code_and_calls_by_zone_and_quarter,
    only_failed_rows_are_put_back_and_each_requeue_stays_in_the_rows_history,
    a_requeue_narrowed_by_code_and_lines_names_the_lines_it_left_alone,
    a_requeued_row_has_a_fresh_budget_for_redials_too,
    a_campaign_created_with_another_ones_history_reads_back_the_same,
    only_a_campaign_the_database_holds_is_opened_as_it_is,
    a_held_row_a_row_in_doubt_a_claimed_row_and_the_last_run_are_read_by_campaign_now,
    each_run_counts_the_requests_it_sent_and_the_calls_they_created,
    rows_are_grouped_and_deferred_by_their_jurisdictions_and_old_rows_get_theirs,
    an_opt_out_is_read_with_the_claim_suppresses_pending_rows_and_lapses,
    a_persons_numbers_share_calls_and_opt_outs_across_campaigns,
);

async fn a_persons_numbers_share_calls_and_opt_outs_across_campaigns(db: Database) {
    // Arrange: Ada has a mobile on spring's list and a landline on autumn's, under one
    // person id; spring calls the mobile; Bob, on autumn's list too, opts out by number.
    let ada = PersonId::parse("crm-ada").unwrap();
    let with_person = |line: u64, to: &str, label: &str, person: &PersonId| NewRow {
        person: Some(person.clone()),
        ..row(line, to, label)
    };
    let spring = Store::open(&db, "spring").await.unwrap();
    let autumn = Store::open(&db, "autumn").await.unwrap();
    spring
        .import_rows(
            &mut ImportPass::default(),
            &[with_person(2, "+14155550100", "ada-mobile", &ada)],
        )
        .await
        .unwrap();
    let bob = PersonId::parse("crm-bob").unwrap();
    autumn
        .import_rows(
            &mut ImportPass::default(),
            &[
                with_person(2, "+14155550200", "ada-landline", &ada),
                with_person(3, "+14155550300", "bob-home", &bob),
                with_person(4, "+14155550301", "bob-work", &bob),
            ],
        )
        .await
        .unwrap();
    let mobile = claim(&spring).await;
    spring.record(&mobile, &created(1)).await.unwrap();
    autumn
        .add_opt_out(
            &Endpoint::parse("+14155550300").unwrap(),
            None,
            OptOutSource::Cli,
            None,
        )
        .await
        .unwrap();

    // Act
    let landline = claim(&autumn).await;
    let calls_to_ada = autumn
        .calls_placed_to(
            &landline.to,
            landline.person.as_ref(),
            0,
            (landline.row_id, landline.attempt),
        )
        .await
        .unwrap();
    let calls_to_the_number_alone = autumn
        .calls_placed_to(&landline.to, None, 0, (landline.row_id, landline.attempt))
        .await
        .unwrap();
    let bob_home = claim(&autumn).await;
    let bob_work = claim(&autumn).await;

    // Assert
    assert_eq!(landline.person.as_ref(), Some(&ada));
    assert_eq!(
        calls_to_ada.len(),
        1,
        "spring's call to the mobile counts for the landline"
    );
    assert!(calls_to_the_number_alone.is_empty());
    assert_eq!(bob_home.opted_out, Some(OptOutSource::Cli));
    assert_eq!(
        bob_work.opted_out,
        Some(OptOutSource::Cli),
        "an opt-out holds for every number of the person"
    );
}

async fn an_opt_out_is_read_with_the_claim_suppresses_pending_rows_and_lapses(db: Database) {
    // Arrange: four people; the first opts out for good, the third for an hour that has
    // already passed, the fourth opts out and is then forgotten.
    let store = with_people(&db, 4).await;
    let to = |n: u64| Endpoint::parse(person(n).to.as_str()).unwrap();
    let now = store.now_ms();
    store
        .add_opt_out(&to(0), None, OptOutSource::Serve, Some("IVR"))
        .await
        .unwrap();
    store
        .add_opt_out(&to(2), Some(now - 1), OptOutSource::Cli, None)
        .await
        .unwrap();
    store
        .add_opt_out(&to(3), None, OptOutSource::Cli, None)
        .await
        .unwrap();
    let forgotten = store.remove_opt_out(&to(3)).await.unwrap();

    // Act
    let claimed = claim(&store).await;
    let listed = store.opt_outs().await.unwrap();
    let suppressed = store.suppress_opted_out().await.unwrap();
    let next = claim(&store).await;
    let counted = store.opted_out_rows().await.unwrap();

    // Assert
    assert!(forgotten);
    assert_eq!(claimed.to, to(0));
    assert_eq!(
        claimed.opted_out,
        Some(OptOutSource::Serve),
        "read with the claim"
    );
    assert_eq!(
        listed.iter().map(|o| o.number.clone()).collect::<Vec<_>>(),
        [to(0)],
        "the lapsed and the forgotten ones are not in force"
    );
    assert_eq!(suppressed, 0, "the opted-out row is claimed, not pending");
    assert_eq!(next.to, to(1));
    assert_eq!(next.opted_out, None);
    store.release(&claimed, now, "given back").await.unwrap();
    assert_eq!(store.suppress_opted_out().await.unwrap(), 1);
    assert_eq!(store.opted_out_rows().await.unwrap().0, 1);
    assert_eq!(counted.0, 0);
}

async fn rows_are_grouped_and_deferred_by_their_jurisdictions_and_old_rows_get_theirs(
    db: Database,
) {
    // Arrange: a Miami and a New York number in one zone, and a London one outside the US.
    let store = Store::open(&db, "c").await.unwrap();
    let eastern = CalleeZone {
        zones: CalleeZones::parse("America/New_York").unwrap(),
        source: ZoneSource::Prefix,
    };
    let with = |line: u64, to: &str, jurisdictions: Option<&str>| NewRow {
        zone: Some(eastern.clone()),
        jurisdictions: jurisdictions.map(|j| Jurisdictions::parse(j).unwrap()),
        ..row(line, to, &format!("r{line}"))
    };
    let rows = [
        with(2, "+13055550100", Some("FL US")),
        with(3, "+12125550100", Some("NY US")),
        with(4, "+442079460000", None),
    ];
    store
        .import_rows(&mut ImportPass::default(), &rows)
        .await
        .unwrap();

    // Act: Florida's hours are closed.
    let groups = store.pending_groups().await.unwrap();
    let florida = groups
        .iter()
        .find(|g| g.jurisdictions.as_ref().map(|j| j.as_str()) == Some("FL US"))
        .expect("Florida's group")
        .clone();
    let deferred = store
        .defer_group(&florida, store.now_ms() + 3_600_000)
        .await
        .unwrap();
    let next = claim(&store).await;
    forget_jurisdictions(&db).await;
    let unknown = store.rows_without_jurisdictions(10).await.unwrap();
    let found: Vec<_> = unknown
        .iter()
        .map(|(id, to)| (*id, dialer::law::by_area_code(to)))
        .collect();
    store.assign_jurisdictions(&found).await.unwrap();
    let left = store.rows_without_jurisdictions(10).await.unwrap();
    let regrouped = store.pending_groups().await.unwrap();

    // Assert
    assert_eq!(groups.len(), 3, "{groups:?}");
    assert_eq!(deferred, 1, "only the Miami row");
    assert_eq!(next.to.as_str(), "+12125550100");
    assert_eq!(
        next.jurisdictions.as_ref().map(|j| j.as_str()),
        Some("NY US")
    );
    assert_eq!(unknown.len(), 3);
    assert!(left.is_empty());
    let mut shown: Vec<_> = regrouped
        .iter()
        .map(|g| g.jurisdictions.as_ref().map(|j| j.as_str().to_owned()))
        .collect();
    shown.sort();
    assert_eq!(
        shown,
        [None, Some("FL US".to_owned())],
        "by area code again"
    );
}

/// Clears every row's jurisdictions, as rows imported before they were kept have none.
async fn forget_jurisdictions(db: &Database) {
    match db {
        Database::Sqlite(path) => {
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            sqlx::query("UPDATE rows SET jurisdictions = NULL")
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        Database::Postgres(url) => {
            let pool = sqlx::PgPool::connect(url.without_password().as_str())
                .await
                .unwrap();
            sqlx::query("UPDATE rows SET jurisdictions = NULL")
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
    }
}

async fn each_run_counts_the_requests_it_sent_and_the_calls_they_created(db: Database) {
    // Arrange: a first run creates two calls and loses an answer, then exits 0; a second run
    // (another process, as a second open is) creates one call, loses an answer, and is
    // still going.
    let first = with_people(&db, 5).await;
    let run = first.start_run().await.unwrap();
    for outcome in [created(1), created(2), in_doubt()] {
        let claimed = claim(&first).await;
        first.record(&claimed, &outcome).await.unwrap();
    }
    first
        .record_run_ending(run, RunEnding::Finished)
        .await
        .unwrap();
    first.finish_run(run, 0).await.unwrap();
    let second = Store::open(&db, "c").await.unwrap();
    second.start_run().await.unwrap();
    let claimed = claim(&second).await;
    second.record(&claimed, &created(3)).await.unwrap();
    let _sending = claim(&second).await;

    // Act
    let runs = second.run_totals().await.unwrap();

    // Assert
    let counted: Vec<_> = runs
        .iter()
        .map(|r| (r.requests, r.created, r.run.exit_code, r.run.ending))
        .collect();
    assert_eq!(
        counted,
        [
            (Some(3), Some(2), Some(0), Some(RunEnding::Finished)),
            (Some(2), Some(1), None, None),
        ],
        "a request being sent counts; the one in doubt is no call yet"
    );
    assert!(
        runs.iter()
            .all(|r| r.run.host.is_some() && r.run.holder.is_some())
    );
    assert_ne!(runs[0].run.holder, runs[1].run.holder);
    assert!(runs[0].first_request_at <= runs[0].last_request_at);
}

async fn what_a_run_that_found_nothing_waits_for_is_read_in_one_statement(db: Database) {
    // Arrange: a row in doubt, a row being dialed, and a pending one.
    let store = with_people(&db, 3).await;
    let doubted = claim(&store).await;
    store.record(&doubted, &in_doubt()).await.unwrap();
    let _dialing = claim(&store).await;

    // Act
    let left = store.left().await.unwrap();

    // Assert
    assert_eq!(left.unknown, 1);
    assert!(left.next_retry_at.is_some(), "the pending row");
    assert_eq!(
        left.dialing_elsewhere, 0,
        "the row being dialed is this holder's"
    );
}

async fn a_batch_claim_takes_the_first_due_rows_in_list_order_each_with_its_attempt(db: Database) {
    // Arrange
    let store = with_people(&db, 5).await;

    // Act: batches of three.
    let first = store.claim_due(3).await.unwrap();
    let second = store.claim_due(3).await.unwrap();
    let third = store.claim_due(3).await.unwrap();

    // Assert: in list order, each once, each with its first attempt, and then none.
    let labels = |rows: &[Claimed]| rows.iter().map(|r| r.label.to_string()).collect::<Vec<_>>();
    assert_eq!(labels(&first), ["r0", "r1", "r2"]);
    assert_eq!(labels(&second), ["r3", "r4"]);
    assert!(third.is_empty());
    assert!(first.iter().chain(&second).all(|r| r.attempt == 1));
    let rows = store.export_rows().await.unwrap();
    assert!(
        rows.iter()
            .all(|r| r.attempts == 1 && r.state == LineState::Row(RowState::Dialing)),
        "{rows:?}"
    );
    // Each attempt is on disk: recording it finds it.
    for (n, row) in first.iter().chain(&second).enumerate() {
        store.record(row, &created(n as u32 + 1)).await.unwrap();
    }
    assert_eq!(store.state_counts().await.unwrap().created, 5);
}

async fn an_import_transaction_keeps_its_batches_until_its_commit_and_none_when_dropped(
    db: Database,
) {
    // Arrange: an import that ends before its commit (a run killed mid-import).
    let store = Store::open(&db, "c").await.unwrap();
    let mut dropped = store.begin_import().await.unwrap();
    let mut pass = ImportPass::default();
    dropped
        .import_rows(&mut pass, &[person(0), person(1)])
        .await
        .unwrap();
    drop(dropped);
    assert!(store.export_rows().await.unwrap().is_empty(), "no row kept");

    // Act: the next import, two batches in one transaction.
    let mut pass = ImportPass::default();
    let mut tx = store.begin_import().await.unwrap();
    let first = tx
        .import_rows(&mut pass, &[person(0), person(1)])
        .await
        .unwrap();
    let second = tx
        .import_rows(&mut pass, &[person(2), person(0)])
        .await
        .unwrap();
    let before_commit = store.export_rows().await.unwrap().len();
    tx.commit().await.unwrap();

    // Assert: the second batch sees the first's rows; others see them all once committed.
    assert_eq!(first, vec![Inserted::New, Inserted::New]);
    assert_eq!(second, vec![Inserted::New, Inserted::DuplicateOf(2)]);
    assert_eq!(before_commit, 0, "nothing seen before the commit");
    assert_eq!(store.export_rows().await.unwrap().len(), 3);
}

async fn a_first_import_into_an_empty_campaign_and_a_re_import_after_it_find_every_row(
    db: Database,
) {
    // Arrange: the first import's pass, begun on an empty campaign.
    let store = Store::open(&db, "c").await.unwrap();
    let mut first = store.begin_import_pass().await.unwrap();
    let list = [
        person(0),
        person(1),
        row(4, "+14155550000", "r9"),
        person(3),
    ];
    let mut tx = store.begin_import().await.unwrap();
    let got = tx.import_rows(&mut first, &list).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        got,
        [
            Inserted::New,
            Inserted::New,
            Inserted::DuplicateOf(2),
            Inserted::New
        ]
    );

    // Act: the list again, one line inserted on top, in a pass begun after the first.
    let mut again = store.begin_import_pass().await.unwrap();
    let moved: Vec<NewRow> = [person(7), person(0), person(1), person(3)]
        .into_iter()
        .enumerate()
        .map(|(n, mut row)| {
            row.line = n as u64 + 2;
            row
        })
        .collect();
    let mut tx = store.begin_import().await.unwrap();
    let got = tx.import_rows(&mut again, &moved).await.unwrap();
    tx.commit().await.unwrap();

    // Assert
    assert_eq!(
        got,
        [
            Inserted::New,
            Inserted::AlreadyImported,
            Inserted::AlreadyImported,
            Inserted::AlreadyImported
        ]
    );
    let mut lines: Vec<(u64, String)> = store
        .export_rows()
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.line, row.label))
        .collect();
    lines.sort();
    let want = [(2, "r7"), (3, "r0"), (4, "r1"), (5, "r3")];
    assert_eq!(lines, want.map(|(line, label)| (line, label.to_owned())));
}

async fn an_import_cut_short_after_a_commit_is_finished_by_the_next_one(db: Database) {
    // Arrange: an import that committed its first transaction and died in its second.
    let store = Store::open(&db, "c").await.unwrap();
    let mut cut = store.begin_import_pass().await.unwrap();
    let mut tx = store.begin_import().await.unwrap();
    tx.import_rows(&mut cut, &[person(0), person(1)])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin_import().await.unwrap();
    tx.import_rows(&mut cut, &[person(2)]).await.unwrap();
    drop(tx);

    // Act: the next run reads the whole list again.
    let mut next = store.begin_import_pass().await.unwrap();
    let mut tx = store.begin_import().await.unwrap();
    let got = tx
        .import_rows(&mut next, &[person(0), person(1), person(2), person(3)])
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // Assert
    assert_eq!(
        got,
        [
            Inserted::AlreadyImported,
            Inserted::AlreadyImported,
            Inserted::New,
            Inserted::New
        ]
    );
    assert_eq!(store.state_counts().await.unwrap().pending, 4);
}

async fn a_label_and_parameters_holding_backslashes_and_quotes_are_stored_as_written(db: Database) {
    // Arrange: what a batch's encoding must escape (COPY's text format, JSON).
    let store = Store::open(&db, "c").await.unwrap();
    let mut odd = row(2, "+14155550100", r#"back\slash "quoted""#);
    odd.params =
        RowOverrides::from_json(r#"{"conference":"Room \\ \"A\"","timeout":"20"}"#).unwrap();

    // Act
    let inserted = store
        .import_rows(&mut ImportPass::default(), std::slice::from_ref(&odd))
        .await
        .unwrap();

    // Assert
    assert_eq!(inserted, [Inserted::New]);
    let claimed = store.claim_next().await.unwrap().expect("the row");
    assert_eq!(claimed.label, odd.label);
    assert_eq!(claimed.params.unwrap(), odd.params);
}

async fn an_import_batch_tells_new_already_imported_duplicate_and_label_taken_rows_apart(
    db: Database,
) {
    // Arrange
    let store = Store::open(&db, "c").await.unwrap();
    let first = [
        row(2, "+14155550100", "a"),
        row(3, "+14155550101", "b"),
        row(4, "+14155550100", "x"),
    ];
    assert_eq!(
        store
            .import_rows(&mut ImportPass::default(), &first)
            .await
            .unwrap(),
        [Inserted::New, Inserted::New, Inserted::DuplicateOf(2)]
    );

    // Act: the list as a later run reads it, in two batches.
    let mut pass = ImportPass::default();
    let second = [
        row(2, "+14155550100", "a"),
        row(4, "+14155550102", "c"),
        row(5, "+14155550101", "d"),
    ];
    let third = [
        row(6, "+14155550102", "e"),
        row(7, "+14155550103", "b"),
        row(8, "+14155550101", "f"),
    ];
    let got = [
        store.import_rows(&mut pass, &second).await.unwrap(),
        store.import_rows(&mut pass, &third).await.unwrap(),
    ]
    .concat();

    // Assert
    let want = [
        Inserted::AlreadyImported,
        Inserted::New,
        // Moved from line 3 to line 5 since the first import: the same person, not a duplicate.
        Inserted::AlreadyImported,
        Inserted::DuplicateOf(4),
        Inserted::LabelTaken(5),
        Inserted::DuplicateOf(5),
    ];
    assert_eq!(got, want);
    let counts = store.state_counts().await.unwrap();
    assert_eq!(counts.pending, 3);
    let lines: Vec<u64> = store
        .export_rows()
        .await
        .unwrap()
        .iter()
        .map(|r| r.line)
        .collect();
    assert_eq!(lines, [2, 4, 5], "each row gives the line it stands on now");
    let claimed = claim(&store).await;
    assert_eq!((claimed.line, claimed.label.as_str()), (2, "a"));
    assert_eq!(
        claimed.params,
        Ok(row(2, "+14155550100", "a").params),
        "the row's own values kept"
    );
}

async fn due_times_set_before_the_clock_stepped_back_move_back_with_it(db: Database) {
    // Arrange: a row put off by a second, an hour ago by a clock that was then an hour ahead.
    let store = with_people(&db, 1).await;
    let now = store.now_ms();
    let ahead = now + 3_600_000;
    rewrite_every_row(&db, ahead, ahead + 1_000).await;

    // Act
    let moved = store.undo_clock_step().await.unwrap();

    // Assert: due a second from now, not an hour and a second.
    assert_eq!(moved, 1);
    let due = store
        .left()
        .await
        .unwrap()
        .next_retry_at
        .expect("a pending row");
    assert!(
        (now..=now + 5_000).contains(&due),
        "due {} ms from now",
        due - now
    );
    assert_eq!(store.undo_clock_step().await.unwrap(), 0, "once only");
}

async fn campaigns_sharing_a_database_see_only_their_own_rows(db: Database) {
    // Arrange
    let spring = Store::open(&db, "spring").await.unwrap();
    let autumn = Store::open(&db, "autumn").await.unwrap();
    spring
        .import_rows(&mut ImportPass::default(), &[row(2, "+14155550100", "a")])
        .await
        .unwrap();

    // Act: the same person and label in the other campaign.
    let inserted = autumn
        .import_rows(&mut ImportPass::default(), &[row(2, "+14155550100", "a")])
        .await
        .unwrap();
    autumn.cancel_campaign().await.unwrap();

    // Assert
    assert_eq!(inserted, [Inserted::New], "a campaign of its own");
    assert_eq!(spring.state_counts().await.unwrap().pending, 1);
    assert_eq!(autumn.state_counts().await.unwrap().canceled, 1);
    assert_eq!(
        spring.campaign_status().await.unwrap(),
        CampaignStatus::Running,
        "canceling one campaign leaves the other running"
    );
    let claimed = claim(&spring).await;
    assert!(spring.claim_next().await.unwrap().is_none());
    assert!(autumn.claim_next().await.unwrap().is_none());
    assert_eq!(claimed.to.as_str(), "+14155550100");
    let again = Store::open(&db, "spring").await.unwrap();
    assert_eq!(
        again.state_counts().await.unwrap().dialing,
        1,
        "opened again, the same campaign"
    );
}

async fn a_created_call_takes_each_event_once_and_its_final_status_into_the_report(db: Database) {
    // Arrange
    let store = with_people(&db, 1).await;
    let run = store.start_run().await.unwrap();
    let claimed = claim(&store).await;
    let conference = ConferenceSid::parse(&format!("CF{:032x}", 7)).unwrap();
    store
        .remember_conference("room", &conference)
        .await
        .unwrap();
    let sid = call_sid(1);
    store
        .record(
            &claimed,
            &Outcome::Created {
                call_sid: sid.clone(),
                conference_sid: Some(conference.clone()),
                queue_time_ms: Some(120),
                status: 201,
            },
        )
        .await
        .unwrap();
    let awaiting = store
        .awaiting_outcome(store.now_ms() + 1_000, (0, 0), 10)
        .await
        .unwrap();

    // Act
    let ringing = store
        .record_call_event(&callback(&sid, 1, CallStatus::Ringing), None)
        .await
        .unwrap();
    let again = store
        .record_call_event(&callback(&sid, 1, CallStatus::Ringing), None)
        .await
        .unwrap();
    let late = store
        .record_call_event(&callback(&sid, 0, CallStatus::Initiated), None)
        .await
        .unwrap();
    let completed = CallObservation {
        answered_by: Some("human".into()),
        duration_secs: Some(42),
        ..callback(&sid, 3, CallStatus::Completed)
    };
    let last = store.record_call_event(&completed, None).await.unwrap();
    let stranger = store
        .record_call_event(&callback(&call_sid(99), 0, CallStatus::Ringing), None)
        .await
        .unwrap();
    store.finish_run(run, 0).await.unwrap();

    // Assert
    assert_eq!(awaiting.len(), 1);
    assert_eq!(
        (awaiting[0].row_id, &awaiting[0].call_sid),
        (claimed.row_id, &sid)
    );
    assert_eq!(
        ringing,
        Recorded::Applied {
            row_final: false,
            redial_at: None
        }
    );
    assert_eq!(again, Recorded::Duplicate);
    assert_eq!(late, Recorded::Superseded);
    assert_eq!(
        last,
        Recorded::Applied {
            row_final: true,
            redial_at: None
        }
    );
    assert_eq!(stranger, Recorded::UnknownCall);
    assert_eq!(
        store.conference_sid("room").await.unwrap(),
        Some(conference)
    );
    assert_eq!(store.conference_sid("hall").await.unwrap(), None);
    let event = |sequence_number, call_status| CallEvent {
        source: EventSource::Callback,
        sequence_number,
        call_status,
    };
    assert_eq!(
        store.call_events(&sid).await.unwrap(),
        [
            event(1, CallStatus::Ringing),
            event(0, CallStatus::Initiated),
            event(3, CallStatus::Completed)
        ]
    );
    let outcomes = store.call_outcomes().await.unwrap();
    assert_eq!(
        (
            outcomes.completed,
            outcomes.answered_by_human,
            outcomes.answered_by_machine
        ),
        (1, 1, 0)
    );
    assert_eq!(
        (
            outcomes.talk_secs_total,
            outcomes.talk_secs_average,
            outcomes.awaiting
        ),
        (42, Some(42.0), 0)
    );
    assert!(
        store
            .awaiting_outcome(store.now_ms() + 1_000, (0, 0), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let attempts = store.attempt_counts().await.unwrap();
    assert_eq!(attempts.by_outcome, [("created".to_owned(), 1)]);
    assert!(attempts.first_attempt_at.is_some() && attempts.last_created_at.is_some());
    assert_eq!(attempts.queue_times_ms, [120]);
    let export = store.export_rows().await.unwrap();
    assert_eq!(export.len(), 1);
    assert_eq!(export[0].state, LineState::Row(RowState::Created));
    assert_eq!(
        (export[0].call_sid.as_ref(), export[0].call_status),
        (Some(&sid), Some(CallStatus::Completed))
    );
    assert_eq!(
        (
            export[0].attempts,
            export[0].duration_secs,
            export[0].queue_time_ms
        ),
        (1, Some(42), Some(120))
    );
}

async fn what_one_poll_found_of_many_calls_is_recorded_together_as_one_by_one(db: Database) {
    // Arrange: three created calls awaiting their outcome.
    let store = with_people(&db, 3).await;
    for n in 1..=3 {
        let claimed = claim(&store).await;
        store.record(&claimed, &created(n)).await.unwrap();
    }
    let polled = |n: u32, status: CallStatus| CallObservation {
        source: EventSource::Poll,
        sequence_number: status.progress(),
        ..callback(&call_sid(n), 0, status)
    };
    let busy_again = Some(Redial {
        after: Duration::from_secs(3600),
        max_attempts: 3,
    });
    let (completed, busy, unknown) = (
        polled(1, CallStatus::Completed),
        polled(2, CallStatus::Busy),
        polled(9, CallStatus::Ringing),
    );
    let taken = store
        .take_awaiting_outcome(store.now_ms() + 1_000, (i64::MIN, i64::MIN), 10)
        .await
        .unwrap();

    // Act
    let recorded = store
        .record_call_events(&[
            (&completed, None),
            (&busy, busy_again),
            (&completed, None),
            (&unknown, None),
        ])
        .await
        .unwrap();

    // Assert
    assert_eq!(
        taken.iter().map(|call| &call.call_sid).collect::<Vec<_>>(),
        [&call_sid(1), &call_sid(2), &call_sid(3)],
        "oldest first"
    );
    assert!(
        matches!(
            recorded[..],
            [
                Recorded::Applied {
                    row_final: true,
                    redial_at: None
                },
                Recorded::Applied {
                    row_final: true,
                    redial_at: Some(_)
                },
                Recorded::Duplicate,
                Recorded::UnknownCall,
            ]
        ),
        "{recorded:?}"
    );
    let awaiting = store
        .awaiting_outcome(store.now_ms() + 1_000, (i64::MIN, i64::MIN), 10)
        .await
        .unwrap();
    assert_eq!(
        awaiting
            .iter()
            .map(|call| &call.call_sid)
            .collect::<Vec<_>>(),
        [&call_sid(3)],
        "the unanswered call still awaits its outcome"
    );
    assert_eq!(
        store.state_counts().await.unwrap().pending,
        1,
        "the busy row is recycled"
    );
}

async fn a_retry_and_a_recycled_call_wait_for_their_times(db: Database) {
    // Arrange
    let store = with_people(&db, 2).await;
    let now = store.now_ms();
    let (retried, recycled) = (claim(&store).await, claim(&store).await);

    // Act
    store
        .record(
            &retried,
            &Outcome::Retry {
                at: now + 1_200_000,
                counts: true,
                http_status: Some(429),
                code: Some(20429),
                message: "too many requests".into(),
            },
        )
        .await
        .unwrap();
    store.record(&recycled, &created(2)).await.unwrap();
    let redial = Redial {
        after: Duration::from_secs(600),
        max_attempts: 3,
    };
    let busy = store
        .record_call_event(&callback(&call_sid(2), 2, CallStatus::Busy), Some(redial))
        .await
        .unwrap();

    // Assert
    let Recorded::Applied {
        row_final: true,
        redial_at: Some(redial_at),
    } = busy
    else {
        panic!("not recycled: {busy:?}");
    };
    assert!((now + 600_000..now + 610_000).contains(&redial_at));
    assert_eq!(store.next_pending_at().await.unwrap(), Some(redial_at));
    assert_eq!(
        store.left().await.unwrap().next_retry_at,
        Some(now + 1_200_000),
        "a recycled row is not a retry"
    );
    assert!(
        store.claim_next().await.unwrap().is_none(),
        "nothing due yet"
    );
    let counts = store.state_counts().await.unwrap();
    assert_eq!((counts.pending, counts.retrying), (2, 2));
    assert_eq!(store.call_outcomes().await.unwrap().busy, 1);
    let export = store.export_rows().await.unwrap();
    let retried_line = export.iter().find(|r| r.line == retried.line).unwrap();
    assert_eq!(retried_line.reason.as_deref(), Some("too many requests"));
    assert_eq!(retried_line.last_error_code, Some(20429));
    assert!(store.failure_groups().await.unwrap().is_empty());
}

async fn a_claim_given_back_is_pending_again_and_a_suppressed_one_is_never_dialed(db: Database) {
    // Arrange
    let store = with_people(&db, 2).await;
    let first = claim(&store).await;

    // Act
    store
        .release(&first, 0, "no pacing slot before the stop")
        .await
        .unwrap();
    let again = claim(&store).await;
    store.suppress(&again, "on dnc.csv").await.unwrap();
    let second = claim(&store).await;
    store
        .record(
            &second,
            &Outcome::Failed {
                http_status: Some(400),
                code: Some(21211),
                message: "invalid To".into(),
            },
        )
        .await
        .unwrap();

    // Assert
    assert_eq!(
        (again.row_id, again.attempt),
        (first.row_id, 1),
        "the attempt given back is not counted"
    );
    assert!(store.claim_next().await.unwrap().is_none());
    let counts = store.state_counts().await.unwrap();
    assert_eq!(
        (counts.suppressed, counts.failed, counts.pending),
        (1, 1, 0)
    );
    assert_eq!(
        store.failure_groups().await.unwrap(),
        [FailureGroup {
            code: Some(21211),
            message: "invalid To".into(),
            rows: 1
        }]
    );
    assert_eq!(
        store.attempt_counts().await.unwrap().by_outcome,
        [("failed".to_owned(), 1)]
    );
}

async fn a_row_left_dialing_by_a_run_that_is_gone_is_checked_before_any_redial(db: Database) {
    // Arrange
    let store = with_people(&db, 2).await;
    let orphan = claim(&store).await;
    end_every_lease(&db).await;

    // Act
    let marked = store.mark_orphans_unknown(Duration::ZERO).await.unwrap();

    // Assert
    assert_eq!(marked, 1);
    assert_eq!(store.left().await.unwrap().unknown, 1);
    let due = store.due_unresolved(10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].row_id, due[0].attempt), (orphan.row_id, 1));
    assert_eq!(due[0].attempt_finished_at, None, "stopped mid-request");
    let claimed = claim(&store).await;
    assert_ne!(
        claimed.row_id, orphan.row_id,
        "the row in doubt is not dialed again"
    );
    assert_eq!(
        store.attempt_counts().await.unwrap().by_outcome,
        [("sending".to_owned(), 1), ("unknown".to_owned(), 1)]
    );
}

async fn rows_in_doubt_are_settled_once_by_a_check_or_by_a_callback(db: Database) {
    // Arrange
    let store = with_people(&db, 3).await;
    for _ in 0..3 {
        let claimed = claim(&store).await;
        store.record(&claimed, &in_doubt()).await.unwrap();
    }
    let due = store.due_unresolved(10).await.unwrap();

    // Act
    store
        .resolve_found(&due[0], &call_sid(1), None)
        .await
        .unwrap();
    store.resolve_not_created(&due[0], 0, None).await.unwrap();
    store.resolve_not_created(&due[1], 0, None).await.unwrap();
    store
        .postpone_unresolved(&due[2], store.now_ms() + 3_600_000, "Twilio unreachable")
        .await
        .unwrap();
    let redialed = claim(&store).await;
    let named = CallObservation {
        attempt: Some(AttemptToken {
            campaign: store.campaign_key(),
            row_id: due[2].row_id,
            number: due[2].attempt,
        }),
        ..callback(&call_sid(3), 1, CallStatus::Ringing)
    };
    let by_callback = store.record_call_event(&named, None).await.unwrap();

    // Assert
    assert_eq!(due.len(), 3);
    assert!(
        due.iter()
            .all(|row| row.attempt == 1 && row.attempt_finished_at.is_some())
    );
    assert_eq!((redialed.row_id, redialed.attempt), (due[1].row_id, 2));
    assert_eq!(
        by_callback,
        Recorded::Applied {
            row_final: false,
            redial_at: None
        }
    );
    assert_eq!(store.left().await.unwrap().unknown, 0);
    let counts = store.state_counts().await.unwrap();
    assert_eq!(
        (counts.created, counts.dialing),
        (2, 1),
        "the found row stays created"
    );
    assert_eq!(
        store.attempt_counts().await.unwrap().by_outcome,
        [
            ("found".to_owned(), 2),
            ("not_created".to_owned(), 1),
            ("sending".to_owned(), 1)
        ]
    );
}

async fn each_campaign_keeps_its_own_key_and_names_only_its_own_attempts_party(db: Database) {
    // Arrange: two campaigns of one database, each with one person on row and attempt alike.
    let spring = Store::open(&db, "spring").await.unwrap();
    let autumn = Store::open(&db, "autumn").await.unwrap();
    let own = RowOverrides::from_json(r#"{"from":"+15017122662"}"#).unwrap();
    let with_caller = NewRow {
        params: own.clone(),
        ..row(2, "+14155550100", "a")
    };
    spring
        .import_rows(&mut ImportPass::default(), &[with_caller])
        .await
        .unwrap();
    let claimed = claim(&spring).await;
    spring.record(&claimed, &in_doubt()).await.unwrap();

    // Act
    let party = spring
        .attempt_party(claimed.row_id, claimed.attempt)
        .await
        .unwrap();
    let elsewhere = autumn
        .attempt_party(claimed.row_id, claimed.attempt)
        .await
        .unwrap();
    let later = spring
        .attempt_party(claimed.row_id, claimed.attempt + 1)
        .await
        .unwrap();
    let reopened = Store::open(&db, "spring").await.unwrap();

    // Assert
    let party = party.expect("the attempt's party");
    assert_eq!(party.to.as_str(), "+14155550100");
    assert_eq!(party.params.unwrap().from, own.from);
    assert!(
        elsewhere.is_none(),
        "another campaign's attempt names nobody"
    );
    assert!(later.is_none(), "an attempt not made names nobody");
    assert_ne!(spring.campaign_key(), autumn.campaign_key());
    assert_eq!(reopened.campaign_key(), spring.campaign_key(), "kept");
}

async fn a_row_in_doubt_found_never_created_is_failed_with_its_reason_once_it_has_given_up(
    db: Database,
) {
    // Arrange
    let store = with_people(&db, 2).await;
    for _ in 0..2 {
        let claimed = claim(&store).await;
        store.record(&claimed, &in_doubt()).await.unwrap();
    }
    let due = store.due_unresolved(10).await.unwrap();

    // Act
    let reason = "gave up after 1 attempts: the request timed out";
    store
        .resolve_not_created(&due[0], 0, Some(reason))
        .await
        .unwrap();
    store.resolve_not_created(&due[1], 0, None).await.unwrap();

    // Assert
    assert_eq!(
        due.iter()
            .map(|row| (row.failures, row.attempt_message.as_deref()))
            .collect::<Vec<_>>(),
        [(0, Some("the request timed out")); 2]
    );
    let rows = store.export_rows().await.unwrap();
    let given_up = rows.iter().find(|r| r.label == due[0].label.as_str());
    assert_eq!(
        given_up.map(|r| (r.state.as_str(), r.reason.as_deref())),
        Some(("failed", Some(reason)))
    );
    let redialed = claim(&store).await;
    assert_eq!((redialed.row_id, redialed.failures), (due[1].row_id, 1));
    assert!(
        store.claim_next().await.unwrap().is_none(),
        "the failed row is not dialed"
    );
}

async fn an_import_keeps_its_rejects_and_what_it_read_until_the_next_one(db: Database) {
    // Arrange
    let store = with_people(&db, 2).await;
    let rejects = [
        Reject {
            line: 5,
            reason: "not a phone number".into(),
            raw: "nope".into(),
            to: String::new(),
        },
        Reject {
            line: 4,
            reason: "duplicate".into(),
            raw: "+14155550000".into(),
            to: String::new(),
        },
    ];
    let done = FinishedImport {
        list_size: 1_234,
        list_modified_ns: 1_700_000_000_123_456_789,
        fingerprint: "f00d".into(),
        records: 4,
        accepted: 2,
        duplicates: 1,
        ignored_columns: vec!["notes".into()],
    };

    // Act
    store.finish_import(&rejects, Some(&done)).await.unwrap();

    // Assert
    assert_eq!(store.last_import().await.unwrap(), Some(done));
    let lines: Vec<u64> = store
        .rejects()
        .await
        .unwrap()
        .iter()
        .map(|r| r.line)
        .collect();
    assert_eq!(lines, [4, 5]);
    assert_eq!(store.state_counts().await.unwrap().rejected, 2);
    let export = store.export_rows().await.unwrap();
    let shown: Vec<_> = export
        .iter()
        .map(|r| (r.line, r.state, r.to.as_str(), r.duplicate_of))
        .collect();
    assert_eq!(
        shown,
        [
            (2, LineState::Row(RowState::Pending), "+14155550000", None),
            (3, LineState::Row(RowState::Pending), "+14155550001", None),
            (4, LineState::Rejected, "+14155550000", Some(2)),
            (5, LineState::Rejected, "", None),
        ]
    );
    store.finish_import(&rejects[..1], None).await.unwrap();
    assert_eq!(
        store.last_import().await.unwrap(),
        None,
        "an import that stopped short"
    );
    assert_eq!(store.rejects().await.unwrap(), rejects[..1]);
}

async fn every_rejected_line_keeps_its_to_as_the_list_wrote_it(db: Database) {
    // Arrange: a duplicate, a bad number, a bad other column, and no `to` at all.
    let store = with_people(&db, 1).await;
    let reject = |line: u64, raw: &str, to: &str| Reject {
        line,
        reason: "refused".into(),
        raw: raw.into(),
        to: to.into(),
    };
    let rejects = [
        reject(3, "+14155550000", "(415) 555-0000"),
        reject(4, "(415) 555-000,", "(415) 555-000"),
        reject(5, "+1 415 555 0009,4", "+1 415 555 0009"),
        reject(6, ",20", ""),
    ];

    // Act
    store.finish_import(&rejects, None).await.unwrap();

    // Assert
    assert_eq!(store.rejects().await.unwrap(), rejects);
    let export = store.export_rows().await.unwrap();
    let shown: Vec<_> = export
        .iter()
        .filter(|r| r.state == LineState::Rejected)
        .map(|r| (r.line, r.to.as_str(), r.duplicate_of))
        .collect();
    assert_eq!(
        shown,
        [
            (3, "(415) 555-0000", Some(2)),
            (4, "(415) 555-000", None),
            (5, "+1 415 555 0009", None),
            (6, "", None),
        ]
    );
}

async fn pauses_zones_and_do_not_call_lists_act_on_pending_rows_only(db: Database) {
    // Arrange
    let store = with_people(&db, 4).await;
    let pending = store.pending_numbers_after(0, 10).await.unwrap();
    let id = |n: usize| pending[n].0;
    let to = |n: usize| pending[n].1.clone();
    let zones_of = |name| CalleeZones::parse(name).unwrap();
    let (new_york, paris) = (zones_of("America/New_York"), zones_of("Europe/Paris"));

    // Act
    let paused = store
        .set_campaign_status(CampaignStatus::Paused)
        .await
        .unwrap();
    let resumed = store
        .set_campaign_status(CampaignStatus::Running)
        .await
        .unwrap();
    let zone = |zones: &CalleeZones, source| CalleeZone {
        zones: zones.clone(),
        source,
    };
    store
        .assign_timezones(&[
            (to(0), zone(&new_york, ZoneSource::Prefix)),
            (to(1), zone(&new_york, ZoneSource::Prefix)),
            (to(2), zone(&paris, ZoneSource::List)),
        ])
        .await
        .unwrap();
    let sources = store.zone_sources().await.unwrap();
    let zones: Vec<_> = store
        .pending_groups()
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.zones)
        .collect();
    let until = store.now_ms() + 3_600_000;
    let deferred = [
        store
            .defer_group(&zone_group(Some(&new_york)), until)
            .await
            .unwrap(),
        store.defer_group(&zone_group(None), until).await.unwrap(),
    ];
    let open = claim(&store).await;
    let after_first = store.pending_numbers_after(id(0), 10).await.unwrap();
    let suppressed = store
        .suppress_pending(&[(id(0), "on dnc.csv".into()), (id(2), "on dnc.csv".into())])
        .await
        .unwrap();
    let canceled = store.cancel_campaign().await.unwrap();

    // Assert
    assert_eq!(
        (paused, resumed),
        (CampaignStatus::Paused, CampaignStatus::Running)
    );
    assert_eq!(zones, [None, Some(new_york.clone()), Some(paris)]);
    assert_eq!(
        sources,
        ZoneSources {
            list: 1,
            prefix: 2,
            campaign: 1,
            unrecorded: 0
        }
    );
    assert_eq!(store.row_timezone(id(1)).await.unwrap(), Some(new_york));
    assert_eq!(store.row_timezone(id(3)).await.unwrap(), None);
    assert_eq!(deferred, [2, 1]);
    assert_eq!(open.row_id, id(2), "only the open zone's row is due");
    assert_eq!(
        after_first.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [id(1), id(3)]
    );
    assert_eq!(suppressed, 1, "the row being dialed is not pending");
    assert_eq!(canceled, 2);
    assert_eq!(
        store.campaign_status().await.unwrap(),
        CampaignStatus::Canceled
    );
    assert_eq!(
        store
            .set_campaign_status(CampaignStatus::Running)
            .await
            .unwrap(),
        CampaignStatus::Canceled
    );
    let counts = store.state_counts().await.unwrap();
    assert_eq!(
        (counts.suppressed, counts.canceled, counts.dialing),
        (1, 2, 1)
    );
    assert_eq!(
        store.left().await.unwrap().dialing_elsewhere,
        0,
        "the row dialed is this store's"
    );
}

#[tokio::test]
async fn a_database_written_before_campaigns_shared_one_is_migrated_in_place_for_its_campaign() {
    // Arrange: the schema of the first two migrations, as an older dialer left it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    let old_migrations = dir.path().join("old-migrations");
    std::fs::create_dir(&old_migrations).unwrap();
    for entry in std::fs::read_dir("migrations/sqlite").unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if name.starts_with("2026112") {
            std::fs::copy(entry.path(), old_migrations.join(&name)).unwrap();
        }
    }
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let old = sqlx::migrate::Migrator::new(old_migrations.as_path())
        .await
        .unwrap();
    assert_eq!(old.iter().count(), 2, "the two migrations before campaigns");
    old.run(&pool).await.unwrap();
    for statement in [
        "INSERT INTO rows (id, line, to_endpoint, label, params, state, attempts, call_sid, updated_at)
         VALUES (1, 2, '+14155550100', 'old-2', '{}', 'created', 1, 'CA00000000000000000000000000000001', 0)",
        "INSERT INTO rows (id, line, to_endpoint, label, params, updated_at)
         VALUES (2, 3, '+14155550101', 'old-3', '{}', 0)",
        "INSERT INTO attempts (row_id, number, started_at, outcome, call_sid)
         VALUES (1, 1, 0, 'created', 'CA00000000000000000000000000000001')",
        "INSERT INTO rejects (line, reason, raw) VALUES (4, 'invalid to', 'nope')",
        "INSERT INTO control (key, value) VALUES ('status', 'paused')",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    pool.close().await;

    // Act
    let store = Store::open(&Database::Sqlite(path.to_path_buf()), "old")
        .await
        .unwrap();
    let newcomer = Store::open(&Database::Sqlite(path.to_path_buf()), "new")
        .await
        .unwrap();

    // Assert: everything kept, for the first campaign file that opened it.
    let counts = store.state_counts().await.unwrap();
    assert_eq!((counts.created, counts.pending, counts.rejected), (1, 1, 1));
    assert_eq!(
        store.campaign_status().await.unwrap(),
        CampaignStatus::Paused
    );
    assert_eq!(store.attempt_counts().await.unwrap().attempts, 1);
    let lines: Vec<u64> = store
        .export_rows()
        .await
        .unwrap()
        .iter()
        .map(|r| r.line)
        .collect();
    assert_eq!(lines, [2, 3, 4]);
    assert_eq!(newcomer.state_counts().await.unwrap().rows(), 0);
    store.close().await;
    let reopened = Store::open(&Database::Sqlite(path.to_path_buf()), "old")
        .await
        .unwrap();
    assert_eq!(reopened.state_counts().await.unwrap().created, 1);
}

async fn a_stored_zone_name_no_longer_known_is_skipped_and_its_rows_are_still_found_by_it(
    db: Database,
) {
    // Arrange: zones stored by a release whose time zone database knew "Mars/Olympus".
    let store = with_people(&db, 3).await;
    let pending = store.pending_numbers_after(0, 10).await.unwrap();
    let id = |n: usize| pending[n].0;
    let (partly, unknown) = (
        CalleeZones::from_stored("Europe/Paris Mars/Olympus"),
        CalleeZones::from_stored("Mars/Olympus"),
    );
    let stored = |n: usize, zones: &CalleeZones| {
        let zone = CalleeZone {
            zones: zones.clone(),
            source: ZoneSource::Prefix,
        };
        (pending[n].1.clone(), zone)
    };
    store
        .assign_timezones(&[stored(0, &partly), stored(1, &unknown)])
        .await
        .unwrap();

    // Act
    let zones: Vec<_> = store
        .pending_groups()
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.zones)
        .collect();
    let read = [
        store.row_timezone(id(0)).await.unwrap().unwrap(),
        store.row_timezone(id(1)).await.unwrap().unwrap(),
    ];
    let deferred = store
        .defer_group(&zone_group(Some(&unknown)), store.now_ms() + 3_600_000)
        .await
        .unwrap();

    // Assert
    assert_eq!(zones, [None, Some(partly.clone()), Some(unknown.clone())]);
    assert_eq!(read, [partly, unknown]);
    let known: Vec<_> = read
        .iter()
        .map(|zones| {
            zones
                .zones()
                .iter()
                .filter_map(|z| z.iana_name())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(known, [vec!["Europe/Paris"], vec![]]);
    assert_eq!(deferred, 1, "the row is found by its zones as stored");
}

async fn calls_placed_to_a_person_are_counted_over_every_campaign_of_the_database(db: Database) {
    // Arrange: the same person in two campaigns; spring calls them, autumn claims them.
    let spring = Store::open(&db, "spring").await.unwrap();
    let autumn = Store::open(&db, "autumn").await.unwrap();
    for store in [&spring, &autumn] {
        store
            .import_rows(&mut ImportPass::default(), &[person(0), person(1)])
            .await
            .unwrap();
    }
    let called = spring.claim_next().await.unwrap().unwrap();
    spring.record(&called, &created(1)).await.unwrap();
    let refused = spring.claim_next().await.unwrap().unwrap();
    spring
        .record(
            &refused,
            &Outcome::Failed {
                http_status: Some(400),
                code: Some(21211),
                message: "invalid".into(),
            },
        )
        .await
        .unwrap();

    // Act
    let claimed = autumn.claim_next().await.unwrap().unwrap();
    let except = (claimed.row_id, claimed.attempt);
    let placed = autumn
        .calls_placed_to(&claimed.to, None, called.started_at - 1, except)
        .await
        .unwrap();
    let later = autumn
        .calls_placed_to(&claimed.to, None, called.started_at + 1, except)
        .await
        .unwrap();
    let refused_to = autumn
        .calls_placed_to(&refused.to, None, 0, except)
        .await
        .unwrap();

    // Assert: spring's call counts for autumn; the claim itself and a refused request do not.
    assert_eq!(claimed.to, called.to);
    assert_eq!(placed, [called.started_at]);
    assert!(later.is_empty(), "only calls inside the span count");
    assert!(
        refused_to.is_empty(),
        "a request Twilio refused placed no call"
    );
}

/// The pause that ends a spell of dialing in the charts' test: 10 minutes.
const IDLE: i64 = 600_000;

async fn the_charts_read_requests_per_second_errors_by_code_and_calls_by_zone_and_quarter(
    db: Database,
) {
    // Arrange: five people; two calls (one answered by a person in New York, one busy in the
    // campaign's zone), a 429 then a refusal, an answer lost, one row never dialed.
    let store = with_people(&db, 5).await;
    let nothing_yet = store.dialing_spans(IDLE).await.unwrap();
    let new_york = CalleeZone {
        zones: CalleeZones::parse("America/New_York").unwrap(),
        source: ZoneSource::List,
    };
    store
        .assign_timezones(&[(Endpoint::parse("+14155550000").unwrap(), new_york)])
        .await
        .unwrap();
    for n in [1, 2] {
        let claimed = claim(&store).await;
        store.record(&claimed, &created(n)).await.unwrap();
    }
    let refused = |code, message: &str| (Some(429), Some(code), message.to_owned());
    let (http_status, code, message) = refused(20429, "Too Many Requests");
    let busy_account = Outcome::Retry {
        at: 0,
        counts: false,
        http_status,
        code,
        message,
    };
    store
        .record(&claim(&store).await, &busy_account)
        .await
        .unwrap();
    let invalid = Outcome::Failed {
        http_status: Some(400),
        code: Some(21211),
        message: "Invalid 'To' Phone Number".into(),
    };
    store.record(&claim(&store).await, &invalid).await.unwrap();
    store
        .record(&claim(&store).await, &in_doubt())
        .await
        .unwrap();
    let answered = CallObservation {
        answered_by: Some("human".into()),
        ..callback(&call_sid(1), 5, CallStatus::Completed)
    };
    store.record_call_event(&answered, None).await.unwrap();
    let busy = callback(&call_sid(2), 5, CallStatus::Busy);
    store.record_call_event(&busy, None).await.unwrap();
    // 2030-01-14T08:00:00Z: a whole second, a whole ten seconds and a whole quarter hour.
    let t0: i64 = 1_894_608_000_000;
    for (label, number, at) in [
        ("r0", 1, t0 + 100),
        ("r1", 1, t0 + 600),
        ("r2", 1, t0 + 1_200),
        ("r2", 2, t0 + 5_000),
        ("r3", 1, t0 + 960_000),
    ] {
        send_attempt_at(&db, label, number, at).await;
    }

    // Act
    let spans = store.dialing_spans(IDLE).await.unwrap();
    let whole = store.dialing_spans(i64::MAX).await.unwrap();
    let per_second = store.request_timeline(1).await.unwrap();
    let per_ten_seconds = store.request_timeline(10).await.unwrap();
    let errors = store.request_errors().await.unwrap();
    let calls = store.calls_by_zone_and_quarter().await.unwrap();

    // Assert
    assert_eq!(nothing_yet, []);
    let span = |first_ms, last_ms| AttemptSpan { first_ms, last_ms };
    assert_eq!(
        spans,
        [span(t0 + 100, t0 + 5_000), span(t0 + 960_000, t0 + 960_000)],
        "955 s without a request ends a spell"
    );
    assert_eq!(whole, [span(t0 + 100, t0 + 960_000)]);
    let s0 = t0 / 1000;
    let bucket = |start_sec, requests, busiest_second| RequestBucket {
        start_sec,
        requests,
        busiest_second,
        created: 0,
        busiest_second_created: 0,
        queued_calls: 0,
        queue_time_avg_ms: None,
        queue_time_max_ms: None,
    };
    let first_second = RequestBucket {
        created: 2,
        busiest_second_created: 2,
        queued_calls: 2,
        queue_time_avg_ms: Some(101.5),
        queue_time_max_ms: Some(102),
        ..bucket(s0, 2, 2)
    };
    assert_eq!(
        per_second,
        [
            first_second,
            bucket(s0 + 1, 1, 1),
            bucket(s0 + 5, 1, 1),
            bucket(s0 + 960, 1, 1)
        ]
    );
    assert_eq!(
        per_ten_seconds,
        [
            RequestBucket {
                requests: 4,
                ..first_second
            },
            bucket(s0 + 960, 1, 1)
        ]
    );
    let error = |code, message: &str, retried, failed, in_doubt| RequestErrors {
        code,
        message: message.into(),
        retried,
        failed,
        in_doubt,
    };
    assert_eq!(
        errors,
        [
            error(None, "the request timed out", 0, 0, 1),
            error(Some(20429), "Too Many Requests", 1, 0, 0),
            error(Some(21211), "Invalid 'To' Phone Number", 0, 1, 0),
        ]
    );
    let quarter = |zones: Option<&str>, answered| ZoneQuarterCalls {
        zones: zones.map(CalleeZones::from_stored),
        quarter_start_ms: t0,
        ended: 1,
        answered,
        answered_by_human: answered,
    };
    assert_eq!(
        calls,
        [quarter(None, 0), quarter(Some("America/New_York"), 1)],
        "the busy call in the campaign's zone, the answered one in New York"
    );
}
