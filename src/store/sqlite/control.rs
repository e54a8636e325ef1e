//! Compliance in the database: the campaign's pause/resume/cancel switch (written by
//! `dialer campaign` without the run lock, read by a running run), each row's time zone,
//! deferring every pending row of a closed zone in one statement, and do-not-call marking.

use super::SqliteStore;
use crate::domain::{CalleeZone, CampaignStatus, Endpoint};
use crate::store::StoreError;

/// What a canceled row says in the report.
const CANCELED: &str = "the campaign was canceled";

impl SqliteStore {
    /// `running` until paused or canceled.
    pub async fn campaign_status(&self) -> Result<CampaignStatus, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT status FROM campaigns WHERE id = ?")
                .bind(self.campaign)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Pauses or resumes, unless the campaign was canceled; returns the status now in force.
    pub async fn set_campaign_status(
        &self,
        status: CampaignStatus,
    ) -> Result<CampaignStatus, StoreError> {
        let now: Option<CampaignStatus> = sqlx::query_scalar(
            "UPDATE campaigns SET status = ?1 WHERE id = ?2 AND status != 'canceled' RETURNING status",
        )
        .bind(status)
        .bind(self.campaign)
        .fetch_optional(&self.pool)
        .await?;
        Ok(now.unwrap_or(CampaignStatus::Canceled))
    }

    /// Marks the campaign canceled and every pending row `canceled`, in one transaction.
    /// Rows already created (or in doubt) keep their state. Returns the rows canceled now.
    pub async fn cancel_campaign(&self) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE campaigns SET status = 'canceled' WHERE id = ?")
            .bind(self.campaign)
            .execute(&mut *tx)
            .await?;
        let canceled = sqlx::query(
            "UPDATE rows SET state = 'canceled', last_message = ?, updated_at = ?
             WHERE campaign_id = ? AND state = 'pending'",
        )
        .bind(CANCELED)
        .bind(self.now_ms())
        .bind(self.campaign)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(canceled)
    }

    /// Records the callee zone of freshly imported rows, and where it came from.
    pub async fn assign_timezones(&self, zones: &[(String, CalleeZone)]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for (to, zone) in zones {
            sqlx::query(
                "UPDATE rows SET timezone = ?, timezone_source = ?
                 WHERE campaign_id = ? AND to_endpoint = ?",
            )
            .bind(&zone.zones)
            .bind(zone.source.as_str())
            .bind(self.campaign)
            .bind(to)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A row's own zone; `None` means the campaign's.
    pub async fn row_timezone(&self, row_id: i64) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT timezone FROM rows WHERE campaign_id = ? AND id = ?")
                .bind(self.campaign)
                .bind(row_id)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// The zones that still have pending rows (`None`: rows in the campaign's zone).
    pub async fn pending_timezones(&self) -> Result<Vec<Option<String>>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT timezone FROM rows WHERE campaign_id = ? AND state = 'pending'
             ORDER BY timezone",
        )
        .bind(self.campaign)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every pending row of `zone` due before `until_ms` waits until then: one statement
    /// per closed zone, however many rows it holds.
    pub async fn defer_zone(&self, zone: Option<&str>, until_ms: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE rows SET next_attempt_at = ?1, updated_at = ?2
             WHERE campaign_id = ?4 AND state = 'pending' AND next_attempt_at < ?1 AND timezone IS ?3",
        )
        .bind(until_ms)
        .bind(self.now_ms())
        .bind(zone)
        .bind(self.campaign)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Pending rows as `(id, to)`, a page at a time in id order, for the do-not-call check.
    pub async fn pending_numbers_after(
        &self,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<(i64, Endpoint)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, to_endpoint FROM rows WHERE campaign_id = ? AND state = 'pending' AND id > ?
             ORDER BY id LIMIT ?",
        )
        .bind(self.campaign)
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Calls that may have been placed to `to` since `since_ms`, in every campaign: an attempt
    /// created, found, in doubt or still being sent counts; one refused or never created does not.
    pub async fn calls_placed_to(
        &self,
        to: &Endpoint,
        since_ms: i64,
        except: (i64, i64),
    ) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT a.started_at FROM attempts a JOIN rows r ON r.id = a.row_id
             WHERE r.to_endpoint = ? AND a.started_at >= ?
             AND a.outcome IN ('sending', 'created', 'found', 'unknown')
             AND NOT (a.row_id = ? AND a.number = ?)
             ORDER BY a.started_at",
        )
        .bind(to)
        .bind(since_ms)
        .bind(except.0)
        .bind(except.1)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Marks pending rows `suppressed`, each with its reason (e.g. "on dnc.csv").
    pub async fn suppress_pending(&self, rows: &[(i64, String)]) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut suppressed = 0;
        for (id, reason) in rows {
            suppressed += sqlx::query(
                "UPDATE rows SET state = 'suppressed', last_message = ?, updated_at = ?
                 WHERE campaign_id = ? AND id = ? AND state = 'pending'",
            )
            .bind(reason)
            .bind(self.now_ms())
            .bind(self.campaign)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(suppressed)
    }
}
