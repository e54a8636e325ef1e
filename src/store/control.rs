//! Compliance in the database: the campaign's pause/resume/cancel switch (written by
//! `dialer campaign` without the run lock, read by a running run), each row's time zone,
//! deferring every pending row of a closed zone in one statement, and do-not-call marking.
//! Each operation is written once for both backends; only the two batch writes differ (SQLite
//! has no arrays), and their texts stand side by side below.

use super::dialect::on_backend;
use super::{Store, StoreError};
use crate::domain::{CalleeZone, CalleeZones, CampaignStatus, Endpoint};

/// What a canceled row says in the report.
const CANCELED: &str = "the campaign was canceled";

impl Store {
    /// `running` until paused or canceled (also when nothing was ever written).
    pub async fn campaign_status(&self) -> Result<CampaignStatus, StoreError> {
        on_backend!(self, db => Ok(
            sqlx::query_scalar("SELECT status FROM campaigns WHERE id = $1")
                .bind(db.campaign)
                .fetch_one(&db.pool)
                .await?,
        ))
    }

    /// Pauses or resumes, unless the campaign was canceled; returns the status now in force.
    pub async fn set_campaign_status(
        &self,
        status: CampaignStatus,
    ) -> Result<CampaignStatus, StoreError> {
        let now: Option<CampaignStatus> = on_backend!(self, db => sqlx::query_scalar(
            "UPDATE campaigns SET status = $1 WHERE id = $2 AND status <> 'canceled' RETURNING status",
        )
        .bind(status)
        .bind(db.campaign)
        .fetch_optional(&db.pool)
        .await?);
        Ok(now.unwrap_or(CampaignStatus::Canceled))
    }

    /// Marks the campaign canceled and every pending row `canceled`, in one transaction.
    /// Rows already created (or in doubt) keep their state. Returns the rows canceled now.
    pub async fn cancel_campaign(&self) -> Result<u64, StoreError> {
        let now = self.now_ms();
        on_backend!(self, db => {
            let mut tx = db.pool.begin().await?;
            sqlx::query("UPDATE campaigns SET status = 'canceled' WHERE id = $1")
                .bind(db.campaign)
                .execute(&mut *tx)
                .await?;
            let canceled = sqlx::query(
                "UPDATE rows SET state = 'canceled', last_message = $1, updated_at = $2
                 WHERE campaign_id = $3 AND state = 'pending'",
            )
            .bind(CANCELED)
            .bind(now)
            .bind(db.campaign)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(canceled)
        })
    }

    /// Records the callee zone of freshly imported rows, as `(to, zone)` pairs, and where it
    /// came from. SQLite has no arrays: one statement per row, in one transaction. PostgreSQL
    /// writes them in one statement (each row is new to one host only, so no two hosts write
    /// the same rows).
    pub async fn assign_timezones(
        &self,
        zones: &[(Endpoint, CalleeZone)],
    ) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(db) => {
                let mut tx = db.pool.begin().await?;
                for (to, zone) in zones {
                    sqlx::query(
                        "UPDATE rows SET timezone = $1, timezone_source = $2
                         WHERE campaign_id = $3 AND to_endpoint = $4",
                    )
                    .bind(&zone.zones)
                    .bind(zone.source)
                    .bind(db.campaign)
                    .bind(to)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
            }
            Self::Postgres(db) => {
                let to: Vec<&str> = zones.iter().map(|(to, _)| to.as_str()).collect();
                let zone: Vec<&str> = zones.iter().map(|(_, z)| z.zones.as_str()).collect();
                let source: Vec<&str> = zones.iter().map(|(_, z)| z.source.as_str()).collect();
                sqlx::query(
                    "UPDATE rows SET timezone = z.zone, timezone_source = z.source
                     FROM unnest($1::text[], $2::text[], $3::text[]) AS z(to_endpoint, zone, source)
                     WHERE rows.campaign_id = $4 AND rows.to_endpoint = z.to_endpoint",
                )
                .bind(to)
                .bind(zone)
                .bind(source)
                .bind(db.campaign)
                .execute(&db.pool)
                .await?;
            }
        }
        Ok(())
    }

    /// A row's own zone; `None` means the campaign's.
    pub async fn row_timezone(&self, row_id: i64) -> Result<Option<CalleeZones>, StoreError> {
        on_backend!(self, db => Ok(
            sqlx::query_scalar("SELECT timezone FROM rows WHERE campaign_id = $1 AND id = $2")
                .bind(db.campaign)
                .bind(row_id)
                .fetch_one(&db.pool)
                .await?,
        ))
    }

    /// The zones that still have pending rows (`None`: rows in the campaign's zone), `None`
    /// first, then by bytes. Sorted here: PostgreSQL's default collation is the locale's.
    pub async fn pending_timezones(&self) -> Result<Vec<Option<CalleeZones>>, StoreError> {
        let mut zones: Vec<Option<CalleeZones>> = on_backend!(self, db => sqlx::query_scalar(
            "SELECT DISTINCT timezone FROM rows WHERE campaign_id = $1 AND state = 'pending'",
        )
        .bind(db.campaign)
        .fetch_all(&db.pool)
        .await?);
        zones.sort_unstable();
        Ok(zones)
    }

    /// Every pending row of `zone` due before `until_ms` waits until then: one statement
    /// per closed zone, however many rows it holds.
    pub async fn defer_zone(
        &self,
        zone: Option<&CalleeZones>,
        until_ms: i64,
    ) -> Result<u64, StoreError> {
        let now = self.now_ms();
        on_backend!(self, db => Ok(sqlx::query(
            "UPDATE rows SET next_attempt_at = $1, updated_at = $2, held_by = 'window'
             WHERE campaign_id = $4 AND state = 'pending' AND next_attempt_at < $1
             AND timezone IS NOT DISTINCT FROM $3",
        )
        .bind(until_ms)
        .bind(now)
        .bind(zone)
        .bind(db.campaign)
        .execute(&db.pool)
        .await?
        .rows_affected()))
    }

    /// Pending rows as `(id, to)`, a page at a time in id order, for the do-not-call check.
    pub async fn pending_numbers_after(
        &self,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<(i64, Endpoint)>, StoreError> {
        on_backend!(self, db => Ok(sqlx::query_as(
            "SELECT id, to_endpoint FROM rows WHERE campaign_id = $1 AND state = 'pending' AND id > $2
             ORDER BY id LIMIT $3",
        )
        .bind(db.campaign)
        .bind(after_id)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?))
    }

    /// When each call to `to` that may have been placed since `since_ms` started (unix ms,
    /// oldest first), by every campaign of the database, leaving out the attempt `except`
    /// (row id, attempt number): what a frequency cap counts. An attempt created, found, in
    /// doubt or still being sent counts; one refused or never created does not.
    pub async fn calls_placed_to(
        &self,
        to: &Endpoint,
        since_ms: i64,
        except: (i64, i64),
    ) -> Result<Vec<i64>, StoreError> {
        on_backend!(self, db => Ok(sqlx::query_scalar(
            "SELECT a.started_at FROM attempts a JOIN rows r ON r.id = a.row_id
             WHERE r.to_endpoint = $1 AND a.started_at >= $2
             AND a.outcome IN ('sending', 'created', 'found', 'unknown')
             AND NOT (a.row_id = $3 AND a.number = $4)
             ORDER BY a.started_at",
        )
        .bind(to)
        .bind(since_ms)
        .bind(except.0)
        .bind(except.1)
        .fetch_all(&db.pool)
        .await?))
    }

    /// Marks pending rows `suppressed`, each with its reason (e.g. "on dnc.csv"). SQLite: one
    /// statement per row, in one transaction. PostgreSQL: one statement, the rows locked in id
    /// order first, so that two hosts checking the same rows wait on each other in one order,
    /// never in a circle.
    pub async fn suppress_pending(&self, rows: &[(i64, String)]) -> Result<u64, StoreError> {
        let now = self.now_ms();
        match self {
            Self::Sqlite(db) => {
                let mut tx = db.pool.begin().await?;
                let mut suppressed = 0;
                for (id, reason) in rows {
                    suppressed += sqlx::query(
                        "UPDATE rows SET state = 'suppressed', last_message = $1, updated_at = $2
                         WHERE campaign_id = $3 AND id = $4 AND state = 'pending'",
                    )
                    .bind(reason)
                    .bind(now)
                    .bind(db.campaign)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                }
                tx.commit().await?;
                Ok(suppressed)
            }
            Self::Postgres(db) => {
                let (ids, reasons): (Vec<i64>, Vec<&str>) =
                    rows.iter().map(|(id, why)| (*id, why.as_str())).unzip();
                Ok(sqlx::query(
                    "WITH listed AS (
                         SELECT rows.id, l.reason FROM rows
                         JOIN unnest($1::bigint[], $2::text[]) AS l(id, reason) ON rows.id = l.id
                         WHERE rows.campaign_id = $3 AND rows.state = 'pending'
                         ORDER BY rows.id FOR UPDATE OF rows
                     )
                     UPDATE rows SET state = 'suppressed', last_message = listed.reason, updated_at = $4
                     FROM listed WHERE rows.id = listed.id AND rows.state = 'pending'",
                )
                .bind(ids)
                .bind(reasons)
                .bind(db.campaign)
                .bind(now)
                .execute(&db.pool)
                .await?
                .rows_affected())
            }
        }
    }
}
