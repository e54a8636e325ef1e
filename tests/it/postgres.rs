//! The shared database against a real PostgreSQL server: an account's call schedule holds
//! under concurrent hosts, belongs to one account, takes back unused slots without ever
//! scheduling before now, and follows a change of pace at once.
//!
//! Every assertion is on the times the database handed out, never on sleeping.

use crate::support::postgres::{PgServer, PgTestDb, fresh_database};
use dialer::domain::AccountSid;
use dialer::store::postgres::{AccountSchedule, Slot, connect};
use jiff::SignedDuration;
use std::time::Duration;

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
    let wait = next.wait();
    assert!(
        wait >= Duration::from_millis(950),
        "the slot after it is only {wait:?} away"
    );
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
