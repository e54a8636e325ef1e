//! Runs and conferences: when each run of the campaign started, how it ended and what it
//! sent, and the conference SIDs Twilio gave for friendly names. Written once for both backends.

use super::dialect::on_backend;
use super::{Store, StoreError};
use crate::domain::{ConferenceSid, RunEnding};
use crate::store::RunTotals;

impl Store {
    /// Records a run's start, the host it runs on and the holder its attempts will name;
    /// returns its id.
    pub async fn start_run(&self) -> Result<i64, StoreError> {
        let now = self.now_ms();
        on_backend!(self, db => Ok(sqlx::query_scalar(
            "INSERT INTO runs (campaign_id, started_at, host, holder) VALUES ($1, $2, $3, $4)
             RETURNING id",
        )
        .bind(db.campaign)
        .bind(now)
        .bind(db.host())
        .bind(&db.holder)
        .fetch_one(&db.pool)
        .await?))
    }

    /// Every run, the oldest first, with the requests each sent and the calls they created.
    /// One pass over the campaign's attempts, grouped by the holder that sent them.
    pub async fn run_totals(&self) -> Result<Vec<RunTotals>, StoreError> {
        on_backend!(self, db => Ok(sqlx::query_as(
            "SELECT r.started_at, r.finished_at, r.exit_code, r.host, r.ending, r.holder,
                    CASE WHEN r.holder IS NOT NULL THEN COALESCE(a.requests, 0) END AS requests,
                    CASE WHEN r.holder IS NOT NULL THEN COALESCE(a.created, 0) END AS created,
                    a.first_request_at, a.last_request_at, a.first_created_at, a.last_created_at
             FROM runs r
             LEFT JOIN (SELECT holder, COUNT(*) AS requests,
                               COUNT(*) FILTER (WHERE outcome IN ('created', 'found')) AS created,
                               MIN(started_at) AS first_request_at, MAX(started_at) AS last_request_at,
                               MIN(started_at) FILTER (WHERE outcome IN ('created', 'found')) AS first_created_at,
                               MAX(started_at) FILTER (WHERE outcome IN ('created', 'found')) AS last_created_at
                        FROM attempts WHERE campaign_id = $1 AND holder IS NOT NULL
                        GROUP BY holder) a ON a.holder = r.holder
             WHERE r.campaign_id = $1 ORDER BY r.id",
        )
        .bind(db.campaign)
        .fetch_all(&db.pool)
        .await?))
    }

    /// Records how a run ended: the exit code the command gave.
    pub async fn finish_run(&self, run: i64, exit_code: i32) -> Result<(), StoreError> {
        let now = self.now_ms();
        on_backend!(self, db => {
            sqlx::query(
                "UPDATE runs SET finished_at = $1, exit_code = $2 WHERE id = $3 AND campaign_id = $4",
            )
            .bind(now)
            .bind(i64::from(exit_code))
            .bind(run)
            .bind(db.campaign)
            .execute(&db.pool)
            .await?;
        });
        Ok(())
    }

    /// Records why a run's dialing ended, before its exit code is known.
    pub async fn record_run_ending(&self, run: i64, ending: RunEnding) -> Result<(), StoreError> {
        on_backend!(self, db => {
            sqlx::query("UPDATE runs SET ending = $1 WHERE id = $2 AND campaign_id = $3")
                .bind(ending)
                .bind(run)
                .bind(db.campaign)
                .execute(&db.pool)
                .await?;
        });
        Ok(())
    }

    /// The conference SID Twilio gave for a friendly name, once a create has answered.
    pub async fn conference_sid(&self, target: &str) -> Result<Option<ConferenceSid>, StoreError> {
        on_backend!(self, db => Ok(sqlx::query_scalar(
            "SELECT sid FROM conferences WHERE campaign_id = $1 AND target = $2",
        )
        .bind(db.campaign)
        .bind(target)
        .fetch_optional(&db.pool)
        .await?))
    }

    /// Keeps the conference SID a create answered for a friendly name (the newest stands).
    pub async fn remember_conference(
        &self,
        target: &str,
        sid: &ConferenceSid,
    ) -> Result<(), StoreError> {
        on_backend!(self, db => {
            sqlx::query(
                "INSERT INTO conferences (campaign_id, target, sid) VALUES ($1, $2, $3)
                 ON CONFLICT (campaign_id, target) DO UPDATE SET sid = excluded.sid",
            )
            .bind(db.campaign)
            .bind(target)
            .bind(sid)
            .execute(&db.pool)
            .await?;
        });
        Ok(())
    }
}
