//! The shared database against a real PostgreSQL server, with several hosts at once.
//!
//! An account's call schedule holds under concurrent hosts, belongs to one account, takes back
//! unused slots without ever scheduling before now, and follows a change of pace at once.
//! Every assertion is on the times the database handed out, never on sleeping.
//!
//! Hosts sharing a campaign (each host a `Store` of its own, so a holder of its own) claim each
//! row once, import each person once, check each row in doubt once, and never settle a row
//! another host took over. What every backend does alike is in the `store` suite.

use crate::store::{in_doubt, person, with_people};
use crate::support::postgres::{PgServer, PgTestDb, fresh_database};
use dialer::domain::{AccountSid, CallSid, CampaignStatus};
use dialer::store::{
    AccountSchedule, IDLE_IN_TRANSACTION, LEASE, Slot, connect_postgres as connect,
};
use dialer::store::{
    Claimed, Database, FinishedImport, ImportPass, Inserted, NewRow, Outcome, Reject, Store,
    StoreError,
};
use jiff::SignedDuration;
use std::collections::HashSet;
use std::time::{Duration, Instant};

const ACCOUNT: &str = "AC00000000000000000000000000000001";
const OTHER_ACCOUNT: &str = "AC00000000000000000000000000000002";

/// A host dialing on `account`: its own pool on the test's database.
async fn host(db: &PgTestDb, account: &str) -> AccountSchedule {
    let pool = connect(&db.database_url()).await.unwrap();
    AccountSchedule::new(pool, AccountSid::parse(account).unwrap())
}

async fn take(schedule: &AccountSchedule, interval_ms: u64) -> Slot {
    schedule
        .take_slot(Duration::from_millis(interval_ms))
        .await
        .unwrap()
}

/// The spacing of consecutive slots, in milliseconds (exact: the schedule is in whole ms).
fn gaps_ms(slots: &[Slot]) -> Vec<i64> {
    slots
        .windows(2)
        .map(|pair| {
            pair[0]
                .send_at
                .duration_until(pair[1].send_at)
                .as_millis()
                .try_into()
                .unwrap()
        })
        .collect()
}

#[tokio::test]
async fn eight_hosts_at_10_cps_get_200_distinct_slots_100_ms_apart_spanning_20_seconds() {
    let db = fresh_database().await;
    let mut hosts = Vec::new();
    for _ in 0..8 {
        hosts.push(host(&db, ACCOUNT).await);
    }

    let taken = futures::future::join_all(hosts.iter().map(|schedule| async move {
        let mut slots = Vec::new();
        for _ in 0..25 {
            slots.push(take(schedule, 100).await);
        }
        slots
    }))
    .await;

    let mut slots: Vec<Slot> = taken.into_iter().flatten().collect();
    slots.sort_by_key(|slot| slot.send_at);
    assert_eq!(slots.len(), 200);
    for (n, pair) in slots.windows(2).enumerate() {
        let gap = pair[0].send_at.duration_until(pair[1].send_at);
        assert!(
            gap >= SignedDuration::from_millis(99),
            "slots {n} and {} are {gap:?} apart",
            n + 1
        );
    }
    let span = slots[0].send_at.duration_until(slots[199].send_at);
    assert!(
        (SignedDuration::from_millis(19_899)..=SignedDuration::from_millis(20_000)).contains(&span),
        "200 slots at 10 CPS span {span:?}"
    );
    let first_asked = slots.iter().map(|slot| slot.db_now).min().unwrap();
    let lead = first_asked.duration_until(slots[0].send_at);
    assert!(
        lead.abs() < SignedDuration::from_secs(1),
        "the first slot is {lead:?} after the first request: the schedule did not start at now"
    );
}

#[tokio::test]
async fn two_accounts_do_not_share_a_schedule() {
    let db = fresh_database().await;
    let (one, other) = (host(&db, ACCOUNT).await, host(&db, OTHER_ACCOUNT).await);
    let mut ones = Vec::new();
    for _ in 0..5 {
        ones.push(take(&one, 200).await);
    }

    let others_first = other.take(Duration::from_millis(200)).await.unwrap();
    ones.push(take(&one, 200).await);

    assert_eq!(others_first, Duration::ZERO, "the other account waited");
    assert_eq!(gaps_ms(&ones), [200; 5], "the other account took a slot");
}

#[tokio::test]
async fn a_slot_given_back_is_the_next_one_taken() {
    let db = fresh_database().await;
    let schedule = host(&db, ACCOUNT).await;
    let taken = [
        take(&schedule, 1_000).await,
        take(&schedule, 1_000).await,
        take(&schedule, 1_000).await,
    ];

    schedule.give_back(Duration::from_secs(1)).await.unwrap();
    let again = take(&schedule, 1_000).await;
    let after = take(&schedule, 1_000).await;

    assert_eq!(again.send_at, taken[2].send_at);
    assert_eq!(gaps_ms(&[again, after]), [1_000]);
}

#[tokio::test]
async fn giving_back_never_moves_the_schedule_before_now() {
    let db = fresh_database().await;
    let schedule = host(&db, ACCOUNT).await;
    take(&schedule, 1_000).await;

    // More than was taken: the pace slowed between the take and the give-back. Without the
    // floor at now, the next slot would lie half an interval in the past, and the one after
    // it only half an interval after now.
    schedule
        .give_back(Duration::from_millis(1_500))
        .await
        .unwrap();
    let now = take(&schedule, 1_000).await;
    let next = take(&schedule, 1_000).await;

    assert_eq!(now.send_at, now.db_now, "a slot given back is due at once");
    // Measured between the two slots on the database's clock: a whole interval after the
    // give-back (less the moments between it and the take), where without the floor it would be
    // half of one. Not from when the second was asked for: a busy machine may ask late.
    let gap = gaps_ms(&[now, next])[0];
    assert!(gap > 750, "the slot after it is only {gap} ms later");
}

#[tokio::test]
async fn a_change_of_interval_spaces_the_very_next_slot() {
    let db = fresh_database().await;
    let schedule = host(&db, ACCOUNT).await;
    let mut slots = Vec::new();

    for interval_ms in [100, 100, 100, 500, 500, 50, 50] {
        slots.push(take(&schedule, interval_ms).await);
    }

    assert_eq!(gaps_ms(&slots), [100, 100, 500, 500, 50, 50]);
}

#[tokio::test]
async fn a_connection_error_shows_the_address_with_its_password_masked() {
    let url = PgServer::shared()
        .url("no_such_database")
        .replace("postgres@", "postgres:hunter2@");

    let err = connect(&url.parse().unwrap())
        .await
        .unwrap_err()
        .to_string();

    assert!(err.contains("postgres:***@127.0.0.1"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[tokio::test]
async fn a_schedule_and_its_pool_survive_a_database_restart() {
    let server = PgServer::start();
    let db = server.fresh_database().await;
    let schedule = host(&db, ACCOUNT).await;
    let before = take(&schedule, 10_000).await;

    server.restart();
    let after = take(&schedule, 10_000).await;

    assert_eq!(gaps_ms(&[before, after]), [10_000]);
}

/// A host on the test's campaign `c`: a store of its own (its own pool and holder).
#[tokio::test]
async fn a_host_frozen_inside_a_transaction_does_not_hold_its_locks_until_it_wakes() {
    // Arrange: a host's connection (the store's own settings) stops mid-transaction, holding
    // the lock on an account's schedule row, as a host paused (SIGSTOP, a frozen VM) between
    // two statements would.
    let db = fresh_database().await;
    let frozen = connect(&db.database_url()).await.unwrap();
    take(&host(&db, ACCOUNT).await, 100).await;
    let mut transaction = frozen.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM account_schedules WHERE account_sid = $1 FOR UPDATE")
        .bind(ACCOUNT)
        .execute(&mut *transaction)
        .await
        .unwrap();
    let other = host(&db, ACCOUNT).await;
    let started = Instant::now();

    // Act: another host takes a slot on the same account.
    let taken = tokio::time::timeout(IDLE_IN_TRANSACTION * 4, take(&other, 100)).await;

    // Assert: the server ended the frozen transaction, and the other host went on.
    assert!(
        taken.is_ok(),
        "the other host still waits after {:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() >= IDLE_IN_TRANSACTION / 2,
        "the lock was held at first"
    );
    assert!(
        transaction.commit().await.is_err(),
        "the frozen transaction was ended by the server"
    );
}

async fn host_on(db: &PgTestDb) -> Store {
    Store::open(&Database::Postgres(db.database_url()), "c")
        .await
        .unwrap()
}

async fn claim(store: &Store) -> Claimed {
    store.claim_next().await.unwrap().expect("a due row")
}

fn created() -> Outcome {
    Outcome::Created {
        call_sid: CallSid::parse("CA00000000000000000000000000000001").unwrap(),
        conference_sid: None,
        queue_time_ms: None,
        status: 201,
    }
}

/// Sets a row's lease to end `from_now_ms` after now on the database's clock (before now when
/// negative), as time or a silent holder would.
async fn lease_ends_in(db: &PgTestDb, row_id: i64, from_now_ms: i64) {
    sqlx::query("UPDATE rows SET lease_expires_at = unix_ms() + $1 WHERE id = $2")
        .bind(from_now_ms)
        .bind(row_id)
        .execute(&db.pool().await)
        .await
        .unwrap();
}

/// How long a row's lease has left, in ms on the database's clock (negative once ended).
async fn lease_left_ms(db: &PgTestDb, row_id: i64) -> i64 {
    sqlx::query_scalar("SELECT lease_expires_at - unix_ms() FROM rows WHERE id = $1")
        .bind(row_id)
        .fetch_one(&db.pool().await)
        .await
        .unwrap()
}

/// Every id, once each: panics on the first handed out twice.
fn each_once(ids: impl IntoIterator<Item = i64>) -> HashSet<i64> {
    let mut seen = HashSet::new();
    for id in ids {
        assert!(seen.insert(id), "row {id} was handed out twice");
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hosts_with_8_claimers_each_over_200_rows_claim_every_row_exactly_once_in_batches() {
    // Arrange
    let db = fresh_database().await;
    let first = with_people(&Database::Postgres(db.database_url()), 200).await;
    let second = host_on(&db).await;

    // Act
    let mut claimers = tokio::task::JoinSet::new();
    for store in [&first, &second] {
        for claimer in 0..8 {
            let store = store.clone();
            // Batches of 1 to 4 rows, as runs of different CPS claim them.
            let batch = 1 + claimer % 4;
            claimers.spawn(async move {
                let mut ids = Vec::new();
                loop {
                    let claimed = store.claim_due(batch).await.unwrap();
                    if claimed.is_empty() {
                        break ids;
                    }
                    ids.extend(claimed.iter().map(|row| row.row_id));
                }
            });
        }
    }
    let claims: Vec<i64> = claimers.join_all().await.into_iter().flatten().collect();

    // Assert
    assert_eq!(each_once(claims).len(), 200);
    let counts = first.state_counts().await.unwrap();
    assert_eq!((counts.dialing, counts.pending), (200, 0));
    assert_eq!(first.attempt_counts().await.unwrap().attempts, 200);
    let held_by_the_other = [
        first.left().await.unwrap().dialing_elsewhere,
        second.left().await.unwrap().dialing_elsewhere,
    ];
    assert_eq!(
        held_by_the_other.iter().sum::<u64>(),
        200,
        "each row held by the host that claimed it: {held_by_the_other:?}"
    );
}

#[tokio::test]
async fn a_late_record_of_a_row_another_host_took_over_is_lease_lost_and_the_row_stays_in_doubt() {
    // Arrange: the first host claims, then goes silent past its lease.
    let db = fresh_database().await;
    let first = with_people(&Database::Postgres(db.database_url()), 1).await;
    let second = host_on(&db).await;
    let claimed = claim(&first).await;
    lease_ends_in(&db, claimed.row_id, -1_000).await;

    // Act
    let taken_over = second.mark_orphans_unknown(Duration::ZERO).await.unwrap();
    let late = first.record(&claimed, &created()).await;
    first
        .release(&claimed, 0, "stopped before sending")
        .await
        .unwrap();

    // Assert
    assert_eq!(taken_over, 1);
    match late {
        Err(StoreError::LeaseLost { row_id, attempt }) => {
            assert_eq!((row_id, attempt), (claimed.row_id, claimed.attempt))
        }
        other => panic!("the late record gave {other:?}"),
    }
    let counts = second.state_counts().await.unwrap();
    assert_eq!(
        (
            counts.unknown,
            counts.pending,
            counts.created,
            counts.dialing
        ),
        (1, 0, 0, 0),
        "in doubt, to be reconciled: never pending again unchecked"
    );
    assert_eq!(
        second.attempt_counts().await.unwrap().by_outcome,
        [("unknown".to_owned(), 1)],
        "the attempt is left in doubt, not created by the late record"
    );
    let due = second.due_unresolved(10).await.unwrap();
    assert_eq!((due.len(), due[0].row_id), (1, claimed.row_id));

    // Act again: the new owner finds no call and dials the row itself.
    second.resolve_not_created(&due[0], 0, None).await.unwrap();
    let redial = claim(&second).await;
    let later = first.record(&claimed, &created()).await;
    second.record(&redial, &created()).await.unwrap();

    // Assert
    assert!(
        matches!(later, Err(StoreError::LeaseLost { .. })),
        "{later:?}"
    );
    assert_eq!((redial.row_id, redial.attempt), (claimed.row_id, 2));
    assert_eq!(second.state_counts().await.unwrap().created, 1);
}

#[tokio::test]
async fn a_live_lease_is_left_alone_counted_by_other_hosts_and_extended_only_by_its_holder() {
    // Arrange
    let db = fresh_database().await;
    let first = with_people(&Database::Postgres(db.database_url()), 2).await;
    let second = host_on(&db).await;
    let before = Instant::now();
    let live = claim(&first).await;
    let after = Instant::now();
    let ending = claim(&first).await;

    // Act
    let swept_while_alive = second.mark_orphans_unknown(Duration::ZERO).await.unwrap();
    let elsewhere = [
        first.left().await.unwrap().dialing_elsewhere,
        second.left().await.unwrap().dialing_elsewhere,
    ];
    lease_ends_in(&db, live.row_id, 1_000).await;
    lease_ends_in(&db, ending.row_id, -1).await;
    let elsewhere_once_ended = second.left().await.unwrap().dialing_elsewhere;
    let extended = [
        second.extend_leases().await.unwrap(),
        first.extend_leases().await.unwrap(),
    ];
    let (live_left, ending_left) = (
        lease_left_ms(&db, live.row_id).await,
        lease_left_ms(&db, ending.row_id).await,
    );
    let swept_within_a_request = second
        .mark_orphans_unknown(Duration::from_secs(3_600))
        .await
        .unwrap();
    let swept_after = second.mark_orphans_unknown(Duration::ZERO).await.unwrap();

    // Assert
    assert_eq!(swept_while_alive, 0, "a live lease is never taken over");
    assert_eq!(
        elsewhere,
        [0, 2],
        "counted by the other host, not by its holder"
    );
    assert_eq!(
        elsewhere_once_ended, 1,
        "a row whose lease ended is dialed by nobody"
    );
    assert_eq!(
        extended,
        [0, 1],
        "only the holder extends, and only a live lease"
    );
    let full = i64::try_from(LEASE.as_millis()).unwrap();
    assert!(
        (full - 5_000..=full).contains(&live_left),
        "the live lease has {live_left} ms left"
    );
    assert!(
        ending_left < 0,
        "an ended lease was revived: {ending_left} ms left"
    );
    assert_eq!(
        swept_within_a_request, 0,
        "its request may still be in flight"
    );
    assert_eq!(swept_after, 1);
    let counts = second.state_counts().await.unwrap();
    assert_eq!((counts.dialing, counts.unknown), (1, 1));
    let deadline = live.lease_deadline.expect("a lease deadline");
    assert!(
        before + LEASE <= deadline && deadline <= after + LEASE,
        "the deadline is not the lease from the claim"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hosts_importing_the_same_1000_row_list_at_once_insert_each_person_once() {
    // Arrange
    let db = fresh_database().await;
    let (first, second) = (host_on(&db).await, host_on(&db).await);
    let list: Vec<NewRow> = (0..1_000).map(person).collect();
    let rejects = vec![Reject {
        line: 1_002,
        reason: "not a phone number".into(),
        raw: "nope".into(),
        to: "nope".into(),
    }];
    let done = FinishedImport {
        list_size: 40_000,
        list_modified_ns: 1,
        fingerprint: "f00d".into(),
        records: 1_001,
        accepted: 1_000,
        duplicates: 0,
        ignored_columns: Vec::new(),
    };
    let import = |store: Store| {
        let (list, rejects, done) = (list.clone(), rejects.clone(), done.clone());
        tokio::spawn(async move {
            let mut pass = ImportPass::default();
            let mut verdicts = Vec::new();
            for batch in list.chunks(100) {
                verdicts.extend(store.import_rows(&mut pass, batch).await.unwrap());
            }
            store.finish_import(&rejects, Some(&done)).await.unwrap();
            verdicts
        })
    };

    // Act
    let (one, other) = tokio::join!(import(first.clone()), import(second.clone()));
    let (one, other) = (one.unwrap(), other.unwrap());

    // Assert
    for (n, pair) in one.iter().zip(&other).enumerate() {
        assert!(
            matches!(
                pair,
                (Inserted::New, Inserted::AlreadyImported)
                    | (Inserted::AlreadyImported, Inserted::New)
            ),
            "person {n}: {pair:?}"
        );
    }
    let counts = first.state_counts().await.unwrap();
    assert_eq!((counts.pending, counts.rejected), (1_000, 1));
    let export = second.export_rows().await.unwrap();
    let people: HashSet<&str> = export.iter().map(|row| row.to.as_str()).collect();
    assert_eq!((export.len(), people.len()), (1_001, 1_001));
    assert_eq!(first.last_import().await.unwrap(), Some(done));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hosts_asking_for_rows_in_doubt_at_once_never_get_the_same_row() {
    // Arrange: 200 rows in doubt, due now.
    let db = fresh_database().await;
    let first = with_people(&Database::Postgres(db.database_url()), 200).await;
    let second = host_on(&db).await;
    while let Some(claimed) = first.claim_next().await.unwrap() {
        first.record(&claimed, &in_doubt()).await.unwrap();
    }

    // Act
    let mut checkers = tokio::task::JoinSet::new();
    for store in [&first, &second] {
        for _ in 0..4 {
            let store = store.clone();
            checkers.spawn(async move {
                let mut ids = Vec::new();
                // Bounded: a store that handed the same rows out again would never run dry.
                for _ in 0..100 {
                    let due = store.due_unresolved(7).await.unwrap();
                    if due.is_empty() {
                        break;
                    }
                    ids.extend(due.iter().map(|row| row.row_id));
                }
                ids
            });
        }
    }
    let handed_out: Vec<i64> = checkers.join_all().await.into_iter().flatten().collect();

    // Assert
    assert_eq!(each_once(handed_out).len(), 200);
    assert_eq!(
        first.left().await.unwrap().unknown,
        200,
        "handing a row out settles nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hosts_taking_calls_to_poll_at_once_never_get_the_same_call() {
    // Arrange: 200 created calls awaiting their outcome.
    let db = fresh_database().await;
    let first = with_people(&Database::Postgres(db.database_url()), 200).await;
    let second = host_on(&db).await;
    while let Some(claimed) = first.claim_next().await.unwrap() {
        let created = Outcome::Created {
            call_sid: CallSid::parse(&format!("CA{:032x}", claimed.row_id)).unwrap(),
            conference_sid: None,
            queue_time_ms: None,
            status: 201,
        };
        first.record(&claimed, &created).await.unwrap();
    }
    let created_before = first.now_ms() + 1_000;

    // Act: each poller goes through the calls once, a page at a time, as a run does.
    let mut pollers = tokio::task::JoinSet::new();
    for store in [&first, &second] {
        for _ in 0..4 {
            let store = store.clone();
            pollers.spawn(async move {
                let mut ids = Vec::new();
                let mut after = (i64::MIN, i64::MIN);
                loop {
                    let page = store
                        .take_awaiting_outcome(created_before, after, 7)
                        .await
                        .unwrap();
                    let Some(last) = page.last() else { break };
                    after = (last.created_at, last.row_id);
                    ids.extend(page.iter().map(|call| call.row_id));
                }
                ids
            });
        }
    }
    let taken: Vec<i64> = pollers.join_all().await.into_iter().flatten().collect();

    // Assert
    assert_eq!(
        each_once(taken).len(),
        200,
        "every call, each by one poller"
    );
    assert_eq!(
        first
            .awaiting_outcome(created_before, (i64::MIN, i64::MIN), 1_000)
            .await
            .unwrap()
            .len(),
        200,
        "taking a call to poll records nothing"
    );
}

#[tokio::test]
async fn a_process_reads_the_statuses_of_its_campaigns_on_a_database_at_once_and_no_older_than_asked()
 {
    // Arrange: two campaigns of one database in this process, both running.
    let db = fresh_database().await;
    let url = Database::Postgres(db.database_url());
    let spring = Store::open(&url, "spring").await.unwrap();
    let autumn = Store::open(&url, "autumn").await.unwrap();
    let hour = Duration::from_secs(3600);
    assert_eq!(
        spring.recent_campaign_status(hour).await.unwrap(),
        CampaignStatus::Running
    );

    // Act: autumn is paused (from another host, say) after spring's read.
    autumn
        .set_campaign_status(CampaignStatus::Paused)
        .await
        .unwrap();
    let from_spring_s_read = autumn.recent_campaign_status(hour).await.unwrap();
    let read_again = autumn.recent_campaign_status(Duration::ZERO).await.unwrap();

    // Assert: spring's read served autumn too, and a fresh one sees the pause.
    assert_eq!(from_spring_s_read, CampaignStatus::Running);
    assert_eq!(read_again, CampaignStatus::Paused);
    assert_eq!(
        spring.recent_campaign_status(hour).await.unwrap(),
        CampaignStatus::Running
    );
}
