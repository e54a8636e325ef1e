//! A campaign's history written into a database inside one transaction: all of it or nothing.
//! The database gives rows new ids; attempts and requeues follow their row by its label,
//! unique in a campaign. Rows come without a holder or a lease: none is being dialed. Each
//! table goes in batches of multi-row inserts, each under SQLite's 32,766 bound parameters
//! (PostgreSQL allows 65,535).

use crate::domain::CampaignKey;
use crate::store::dialect::{Tx, on_tx};
use crate::store::{CampaignHistory, LoadError, StoreError};
use sqlx::QueryBuilder;
use std::collections::HashMap;

/// Rows a statement inserts at once: 25 values each.
const ROW_BATCH: usize = 1_000;
/// Records of any other table a statement inserts at once (14 values each at most).
const BATCH: usize = 2_000;

/// Inserts `$records` in multi-row statements of `BATCH` records each: `$insert` names the
/// table and its columns, and each record's values follow in their order.
macro_rules! insert_batches {
    ($tx:expr, $insert:literal, $records:expr, |$record:pat_param| ($($value:expr),+ $(,)?)) => {
        for batch in $records.chunks(BATCH) {
            on_tx!(&mut *$tx, tx => {
                let mut insert = QueryBuilder::new($insert);
                insert.push_values(batch, |mut values, $record| {
                    $(values.push_bind($value);)+
                });
                insert.build().execute(&mut ***tx).await?;
            });
        }
    };
}

/// Creates the campaign `name` with `history`; returns its id and its key.
pub(super) async fn create(
    mut tx: Tx<'_, '_>,
    name: &str,
    history: &CampaignHistory,
) -> Result<(i64, String), LoadError> {
    let (campaign, key) = claim_campaign(&mut tx, name, history).await?;
    let row_ids = insert_rows(&mut tx, campaign, history).await?;
    insert_the_rest(&mut tx, campaign, history, &row_ids).await?;
    Ok((campaign, key))
}

/// The campaign's id and key, held until the commit, so two moves of one campaign cannot both
/// find it empty: PostgreSQL locks its row; on SQLite the insert before took the database's
/// write lock. The campaign gets a key of its own in this database: calls still under way when
/// it moved report to the old one's key, and are strays here.
async fn claim_campaign(
    tx: &mut Tx<'_, '_>,
    name: &str,
    history: &CampaignHistory,
) -> Result<(i64, String), LoadError> {
    on_tx!(&mut *tx, tx => {
        sqlx::query(
            "INSERT INTO campaigns (name, status, created_at, callback_key) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(history.status)
        .bind(history.created_at)
        .bind(CampaignKey::random().to_string())
        .execute(&mut ***tx)
        .await?;
    });
    let (campaign, key): (i64, String) = match &mut *tx {
        Tx::Sqlite(tx) => {
            sqlx::query_as("SELECT id, callback_key FROM campaigns WHERE name = $1")
                .bind(name)
                .fetch_one(&mut ***tx)
                .await?
        }
        Tx::Postgres(tx) => {
            sqlx::query_as("SELECT id, callback_key FROM campaigns WHERE name = $1 FOR UPDATE")
                .bind(name)
                .fetch_one(&mut ***tx)
                .await?
        }
    };
    on_tx!(tx, tx => {
        let (rows, runs, other): (i64, i64, bool) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM rows WHERE campaign_id = $1),
                    (SELECT COUNT(*) FROM runs WHERE campaign_id = $1),
                    EXISTS (SELECT 1 FROM rejects WHERE campaign_id = $1)
                    OR EXISTS (SELECT 1 FROM call_events WHERE campaign_id = $1)
                    OR EXISTS (SELECT 1 FROM list_import WHERE campaign_id = $1)
                    OR EXISTS (SELECT 1 FROM conferences WHERE campaign_id = $1)",
        )
        .bind(campaign)
        .fetch_one(&mut ***tx)
        .await?;
        if rows > 0 || runs > 0 || other {
            return Err(LoadError::Occupied {
                name: name.to_owned(),
                rows,
                runs,
            });
        }
        sqlx::query("UPDATE campaigns SET status = $1, created_at = $2 WHERE id = $3")
            .bind(history.status)
            .bind(history.created_at)
            .bind(campaign)
            .execute(&mut ***tx)
            .await?;
    });
    Ok((campaign, key))
}

/// Inserts the rows in their source order; returns each source id's new id.
async fn insert_rows(
    tx: &mut Tx<'_, '_>,
    campaign: i64,
    history: &CampaignHistory,
) -> Result<HashMap<i64, i64>, LoadError> {
    let mut by_label: HashMap<String, i64> = HashMap::with_capacity(history.rows.len());
    for batch in history.rows.chunks(ROW_BATCH) {
        let inserted: Vec<(String, i64)> = on_tx!(&mut *tx, tx => {
            let mut insert = QueryBuilder::new(
                "INSERT INTO rows (campaign_id, line, to_endpoint, label, params, state, attempts,
                    failures, attempts_before_requeue, next_attempt_at, call_sid, conference_sid, queue_time_ms, last_status,
                    last_code, last_message, created_at, timezone, timezone_source, call_status,
                    answered_by, duration_secs, outcome_at, outcome_final, updated_at, held_by,
                    jurisdictions, person) ",
            );
            insert.push_values(batch, |mut values, row| {
                values
                    .push_bind(campaign)
                    .push_bind(row.line)
                    .push_bind(&row.to)
                    .push_bind(&row.label)
                    .push_bind(&row.params)
                    .push_bind(row.state)
                    .push_bind(row.attempts)
                    .push_bind(row.failures)
                    .push_bind(row.attempts_before_requeue)
                    .push_bind(row.next_attempt_at)
                    .push_bind(&row.call_sid)
                    .push_bind(&row.conference_sid)
                    .push_bind(row.queue_time_ms)
                    .push_bind(row.last_status)
                    .push_bind(row.last_code)
                    .push_bind(&row.last_message)
                    .push_bind(row.created_at)
                    .push_bind(&row.timezone)
                    .push_bind(row.timezone_source)
                    .push_bind(row.call_status)
                    .push_bind(&row.answered_by)
                    .push_bind(row.duration_secs)
                    .push_bind(row.outcome_at)
                    .push_bind(row.outcome_final)
                    .push_bind(row.updated_at)
                    .push_bind(row.held_by)
                    .push_bind(&row.jurisdictions)
                    .push_bind(&row.person);
            });
            insert.push(" RETURNING label, id");
            insert.build_query_as().fetch_all(&mut ***tx).await?
        });
        by_label.extend(inserted);
    }
    history
        .rows
        .iter()
        .map(|row| match by_label.get(row.label.as_str()) {
            Some(id) => Ok((row.id, *id)),
            None => Err(corrupt(format!("row {} was not inserted", row.id))),
        })
        .collect()
}

/// Every other table's records, attempts and requeues on their row's new id.
async fn insert_the_rest(
    tx: &mut Tx<'_, '_>,
    campaign: i64,
    history: &CampaignHistory,
    row_ids: &HashMap<i64, i64>,
) -> Result<(), LoadError> {
    let new_row = |row: i64, what: String| {
        row_ids.get(&row).copied().ok_or_else(|| {
            corrupt(format!(
                "{what} names row {row}, which the campaign does not have"
            ))
        })
    };
    let attempts: Vec<_> = history
        .attempts
        .iter()
        .map(|a| Ok((new_row(a.row_id, format!("attempt {}", a.number))?, a)))
        .collect::<Result<_, LoadError>>()?;
    insert_batches!(
        tx,
        "INSERT INTO attempts (campaign_id, row_id, number, started_at, finished_at, outcome,
            http_status, twilio_code, message, call_sid, queue_time_ms, call_status,
            answered_by, duration_secs, holder) ",
        attempts,
        |(row, a)| (
            campaign,
            row,
            a.number,
            a.started_at,
            a.finished_at,
            a.outcome,
            a.http_status,
            a.twilio_code,
            &a.message,
            &a.call_sid,
            a.queue_time_ms,
            a.call_status,
            &a.answered_by,
            a.duration_secs,
            &a.holder,
        )
    );
    let requeues: Vec<_> = history
        .requeues
        .iter()
        .map(|r| Ok((new_row(r.row_id, "a requeue".to_owned())?, r)))
        .collect::<Result<_, LoadError>>()?;
    insert_batches!(
        tx,
        "INSERT INTO requeues (campaign_id, row_id, requeued_at, attempts, was_code, was_message) ",
        requeues,
        |(row, r)| (
            campaign,
            row,
            r.requeued_at,
            r.attempts,
            r.was_code,
            &r.was_message
        )
    );
    insert_batches!(
        tx,
        "INSERT INTO call_events (campaign_id, call_sid, source, sequence_number, call_status,
            answered_by, duration_secs, params, received_at) ",
        history.call_events,
        |e| (
            campaign,
            &e.call_sid,
            e.source,
            e.sequence_number,
            e.call_status,
            &e.answered_by,
            e.duration_secs,
            &e.params,
            e.received_at,
        )
    );
    insert_batches!(
        tx,
        "INSERT INTO rejects (campaign_id, line, reason, raw, to_written) ",
        history.rejects,
        |r| (campaign, r.line, &r.reason, &r.raw, &r.to_written)
    );
    insert_batches!(
        tx,
        "INSERT INTO conferences (campaign_id, target, sid) ",
        history.conferences,
        |c| (campaign, &c.target, &c.sid)
    );
    insert_batches!(
        tx,
        "INSERT INTO runs (campaign_id, started_at, finished_at, exit_code, host, ending, holder) ",
        history.runs,
        |run| (
            campaign,
            run.started_at,
            run.finished_at,
            run.exit_code,
            &run.host,
            run.ending,
            &run.holder
        )
    );
    insert_batches!(
        tx,
        "INSERT INTO list_import (campaign_id, list_size, list_modified_ns, fingerprint,
            records, accepted, duplicates, ignored_columns, finished_at) ",
        history.list_import.as_slice(),
        |i| (
            campaign,
            i.list_size,
            i.list_modified_ns,
            &i.fingerprint,
            i.records,
            i.accepted,
            i.duplicates,
            &i.ignored_columns,
            i.finished_at,
        )
    );
    // An opt-out the target already holds keeps its own record.
    for o in &history.opt_outs {
        on_tx!(&mut *tx, tx => {
            sqlx::query(
                "INSERT INTO opt_outs (number, added_at, expires_at, source, note)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (number) DO NOTHING",
            )
            .bind(&o.number)
            .bind(o.added_at)
            .bind(o.expires_at)
            .bind(o.source)
            .bind(&o.note)
            .execute(&mut ***tx)
            .await?;
        });
    }
    Ok(())
}

fn corrupt(why: String) -> LoadError {
    LoadError::Store(StoreError::Corrupt(why))
}
