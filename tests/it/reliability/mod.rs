//! Reliability suites: kill -9 at random instants, a mix of every fault Twilio can throw, a
//! Twilio outage, a call log that lags behind, overlapping cron runs, and a database that cannot be written.
//! Each drives the real binary against the in-process sandbox and judges it by the sandbox's
//! own record and by the database as the next run would find it.
//!
//! Short by default, so `cargo test` stays quick; `DIALER_LONG_SUITES=1` selects the long
//! form (more kills, rows and overlaps). `DIALER_SEED=n` replays a run's random instants.

mod crash;
mod faults;
mod lagging_log;
mod outage;
mod overlap;
mod storage;

use rand::SeedableRng;
use rand::rngs::StdRng;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::collections::BTreeMap;
use std::path::Path;

/// Whether the long form was asked for.
pub fn long() -> bool {
    std::env::var("DIALER_LONG_SUITES").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// `short` in the default form, `long` in the long one.
pub fn scale(short: usize, long_form: usize) -> usize {
    if long() { long_form } else { short }
}

/// A seeded generator for `suite`, its seed printed so a failure can be replayed.
pub fn rng(suite: &str) -> StdRng {
    let seed = std::env::var("DIALER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    eprintln!("{suite}: DIALER_SEED={seed}");
    StdRng::seed_from_u64(seed)
}

/// One row as the database holds it.
#[derive(Debug, Clone)]
pub struct StoredRow {
    pub state: String,
    pub attempts: i64,
    pub last_message: Option<String>,
}

/// Opens the database as the next run would (recovering its WAL after a kill), checks that it
/// is intact and that rows agree with their attempts, and returns the rows by number.
///
/// The invariants hold at every instant no run is active: a row's attempt count is its number
/// of attempts; only the last attempt of a `dialing` row is `sending`; a `created` row has
/// exactly one successful attempt, with its call SID, and no other row does.
pub async fn check_database(db: &Path) -> BTreeMap<String, StoredRow> {
    let mut rows = BTreeMap::new();
    if !db.exists() {
        // Killed before the database was created.
        return rows;
    }
    // Read-only: the WAL is left as the kill left it, for the next run to recover.
    let options = SqliteConnectOptions::new().filename(db).read_only(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap_or_else(|e| panic!("the database {} does not open: {e}", db.display()));
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&pool)
        .await
        .expect("integrity_check runs");
    assert_eq!(integrity, ["ok"], "integrity_check");
    let dangling = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&pool)
        .await
        .expect("foreign_key_check runs");
    assert!(
        dangling.is_empty(),
        "{} attempts without a row",
        dangling.len()
    );
    let migrated: Option<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE name = 'rows'")
            .fetch_optional(&pool)
            .await
            .expect("schema readable");
    if migrated.is_none() {
        // Killed before the first migration committed: an empty database is consistent.
        pool.close().await;
        return rows;
    }
    let broken: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT r.id, r.state, 'counts ' || r.attempts || ' attempts, has ' || COUNT(a.id)
                || ' numbered up to ' || COALESCE(MAX(a.number), 0)
                || ', sending ' || COALESCE(SUM(a.outcome = 'sending'), 0)
                || ', successes ' || COALESCE(SUM(a.outcome IN ('created', 'found')), 0)
                || ', last ' || COALESCE((SELECT outcome FROM attempts WHERE row_id = r.id
                                          ORDER BY number DESC LIMIT 1), '-')
         FROM rows r LEFT JOIN attempts a ON a.row_id = r.id
         GROUP BY r.id
         HAVING r.attempts != COUNT(a.id)
             OR COALESCE(MAX(a.number), 0) != COUNT(a.id)
             OR COALESCE(SUM(a.outcome = 'sending'), 0) != (r.state = 'dialing')
             OR COALESCE(SUM(a.outcome IN ('created', 'found')), 0) != (r.state = 'created')
             OR (r.state = 'dialing' AND (SELECT outcome FROM attempts WHERE row_id = r.id
                                          ORDER BY number DESC LIMIT 1) != 'sending')
             OR (r.state = 'created' AND (r.call_sid IS NULL OR NOT EXISTS (
                    SELECT 1 FROM attempts s WHERE s.row_id = r.id AND s.call_sid = r.call_sid
                    AND s.outcome IN ('created', 'found'))))
             OR (r.state = 'unknown' AND (SELECT outcome FROM attempts WHERE row_id = r.id
                                          ORDER BY number DESC LIMIT 1) != 'unknown')",
    )
    .fetch_all(&pool)
    .await
    .expect("consistency query runs");
    assert!(
        broken.is_empty(),
        "rows disagree with their attempts: {broken:?}"
    );
    let shared_sids: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) - COUNT(DISTINCT call_sid) FROM rows WHERE state = 'created'",
    )
    .fetch_one(&pool)
    .await
    .expect("call SIDs readable");
    assert_eq!(shared_sids, 0, "two rows share a call SID");
    for row in sqlx::query("SELECT to_endpoint, state, attempts, last_message FROM rows")
        .fetch_all(&pool)
        .await
        .expect("rows readable")
    {
        rows.insert(
            row.get("to_endpoint"),
            StoredRow {
                state: row.get("state"),
                attempts: row.get("attempts"),
                last_message: row.get("last_message"),
            },
        );
    }
    pool.close().await;
    rows
}

/// Every number the sandbox created a call for had its attempt on disk first.
pub fn assert_recorded_before_dialed(
    sandbox: &dialer::sandbox::Sandbox,
    rows: &BTreeMap<String, StoredRow>,
) {
    let unrecorded: Vec<_> = sandbox
        .stats()
        .creates_by_to
        .into_keys()
        .filter(|to| rows.get(to).is_none_or(|r| r.attempts == 0))
        .collect();
    assert!(
        unrecorded.is_empty(),
        "called without an attempt on disk: {unrecorded:?}"
    );
}
