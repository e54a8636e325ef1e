//! Runs and conferences: when each run of the campaign started and how it ended, and the
//! conference SIDs Twilio gave for friendly names. Written once for both backends.

use super::dialect::on_backend;
use super::{Store, StoreError};
use crate::domain::{ConferenceSid, RunEnding};

impl Store {
    /// Records a run's start, and the host it runs on; returns its id.
    pub async fn start_run(&self) -> Result<i64, StoreError> {
        let now = self.now_ms();
        on_backend!(self, db => Ok(sqlx::query_scalar(
            "INSERT INTO runs (campaign_id, started_at, host) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(db.campaign)
        .bind(now)
        .bind(db.host())
        .fetch_one(&db.pool)
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
