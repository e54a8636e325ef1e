//! Compliance in the database: the campaign's pause/resume/cancel switch (written by
//! `dialer campaign` without the run lock, read by a running run), each row's time zone and
//! jurisdictions, deferring every pending row of a closed group in one statement, and
//! do-not-call marking.
//! Each operation is written once for both backends; only the two batch writes differ (SQLite
//! has no arrays), and their texts stand side by side below.

use super::dialect::on_backend;
use super::{RowGroup, Store, StoreError};
use crate::domain::{CalleeZone, CalleeZones, CampaignStatus, Endpoint, Jurisdictions, PersonId};

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

    /// The groups of pending rows the same calling hours hold (a zone, `None` for the
    /// campaign's; and the jurisdictions), `None`s first, then by bytes. Sorted here:
    /// PostgreSQL's default collation is the locale's.
    pub async fn pending_groups(&self) -> Result<Vec<RowGroup>, StoreError> {
        let mut groups: Vec<RowGroup> = on_backend!(self, db => sqlx::query_as(
            "SELECT DISTINCT timezone, NULLIF(jurisdictions, '') AS jurisdictions FROM rows
             WHERE campaign_id = $1 AND state = 'pending'",
        )
        .bind(db.campaign)
        .fetch_all(&db.pool)
        .await?);
        groups.sort_unstable();
        Ok(groups)
    }

    /// Every pending row of `group` due before `until_ms` waits until then: one statement
    /// per closed group, however many rows it holds.
    pub async fn defer_group(&self, group: &RowGroup, until_ms: i64) -> Result<u64, StoreError> {
        let now = self.now_ms();
        let jurisdictions = group.jurisdictions.as_ref().map_or("", |j| j.as_str());
        on_backend!(self, db => Ok(sqlx::query(
            "UPDATE rows SET next_attempt_at = $1, updated_at = $2, held_by = 'window'
             WHERE campaign_id = $4 AND state = 'pending' AND next_attempt_at < $1
             AND timezone IS NOT DISTINCT FROM $3 AND COALESCE(jurisdictions, '') = $5",
        )
        .bind(until_ms)
        .bind(now)
        .bind(&group.zones)
        .bind(db.campaign)
        .bind(jurisdictions)
        .execute(&db.pool)
        .await?
        .rows_affected()))
    }

    /// Rows imported before their jurisdictions were kept, as `(id, to)`, a page at a time.
    pub async fn rows_without_jurisdictions(
        &self,
        limit: i64,
    ) -> Result<Vec<(i64, Endpoint)>, StoreError> {
        on_backend!(self, db => Ok(sqlx::query_as(
            "SELECT id, to_endpoint FROM rows WHERE campaign_id = $1 AND jurisdictions IS NULL
             ORDER BY id LIMIT $2",
        )
        .bind(db.campaign)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?))
    }

    /// Gives each row `(id, jurisdictions)` its jurisdictions (`None`: outside the US).
    pub async fn assign_jurisdictions(
        &self,
        rows: &[(i64, Option<Jurisdictions>)],
    ) -> Result<(), StoreError> {
        let ids: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
        let values: Vec<&str> = rows
            .iter()
            .map(|(_, j)| j.as_ref().map_or("", |j| j.as_str()))
            .collect();
        match self {
            Self::Sqlite(db) => {
                let pairs: Vec<(i64, &str)> = ids.into_iter().zip(values).collect();
                sqlx::query(
                    "UPDATE rows SET jurisdictions = given.value ->> '$[1]'
                     FROM json_each($1) AS given
                     WHERE rows.campaign_id = $2 AND rows.id = given.value ->> '$[0]'",
                )
                .bind(serde_json::to_string(&pairs).expect("strings and integers serialize"))
                .bind(db.campaign)
                .execute(&db.pool)
                .await?;
            }
            Self::Postgres(db) => {
                sqlx::query(
                    "UPDATE rows SET jurisdictions = given.value
                     FROM unnest($1::bigint[], $2::text[]) AS given(id, value)
                     WHERE rows.campaign_id = $3 AND rows.id = given.id",
                )
                .bind(ids)
                .bind(values)
                .bind(db.campaign)
                .execute(&db.pool)
                .await?;
            }
        }
        Ok(())
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

    /// When each call to `to`, or to any number of `person`, that may have been placed since
    /// `since_ms` started (unix ms,
    /// oldest first), by every campaign of the database, leaving out the attempt `except`
    /// (row id, attempt number): what a frequency cap counts. An attempt created, found, in
    /// doubt or still being sent counts; one refused or never created does not.
    pub async fn calls_placed_to(
        &self,
        to: &Endpoint,
        person: Option<&PersonId>,
        since_ms: i64,
        except: (i64, i64),
    ) -> Result<Vec<i64>, StoreError> {
        on_backend!(self, db => Ok(sqlx::query_scalar(
            "SELECT a.started_at FROM attempts a JOIN rows r ON r.id = a.row_id
             WHERE (r.to_endpoint = $1 OR r.person = $5) AND a.started_at >= $2
             AND a.outcome IN ('sending', 'created', 'found', 'unknown')
             AND NOT (a.row_id = $3 AND a.number = $4)
             ORDER BY a.started_at",
        )
        .bind(to)
        .bind(since_ms)
        .bind(except.0)
        .bind(except.1)
        .bind(person)
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
