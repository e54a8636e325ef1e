//! The reads behind `dialer status`, written once for both backends. Each is a grouped count
//! or a MIN()/MAX() over one state's rows, which the rows' `(campaign_id, state)` and partial
//! `rows_pending`/`rows_unknown` indexes answer without reading the campaign's every row.

use super::dialect::on_backend;
use super::model::status::{CampaignNow, Dialer, Held};
use super::{Store, StoreError};

impl Store {
    /// What the campaign is doing now, as the database shows it.
    pub async fn campaign_now(&self) -> Result<CampaignNow, StoreError> {
        let now = self.now_ms();
        let status = self.campaign_status().await?;
        let states = self.state_counts().await?;
        let next_due = self.next_pending_at().await?.filter(|at| *at > now);
        let dialing: Vec<Dialer>;
        let (in_doubt, in_doubt_next_check): (i64, Option<i64>);
        let mut held: Vec<Held>;
        let last_run: Option<super::RunRecord>;
        on_backend!(self, db => {
            dialing = sqlx::query_as(
                "SELECT holder, COUNT(*) AS rows, MAX(lease_expires_at) AS lease_expires_at FROM rows
                 WHERE campaign_id = $1 AND state = 'dialing' AND holder IS NOT NULL
                 GROUP BY holder",
            )
            .bind(db.campaign)
            .fetch_all(&db.pool)
            .await?;
            (in_doubt, in_doubt_next_check) = sqlx::query_as(
                "SELECT COUNT(*), MIN(next_attempt_at) FROM rows WHERE campaign_id = $1 AND state = 'unknown'",
            )
            .bind(db.campaign)
            .fetch_one(&db.pool)
            .await?;
            // Only rows never tried: a retry's wait is its backoff, not a hold.
            held = sqlx::query_as(
                "SELECT held_by, COUNT(*) AS rows, MIN(next_attempt_at) AS first, MAX(next_attempt_at) AS last
                 FROM rows WHERE campaign_id = $1 AND state = 'pending' AND next_attempt_at > $2
                 AND attempts = 0 GROUP BY held_by",
            )
            .bind(db.campaign)
            .bind(now)
            .fetch_all(&db.pool)
            .await?;
            last_run = sqlx::query_as(
                "SELECT started_at, finished_at, exit_code, host, ending, holder FROM runs
                 WHERE campaign_id = $1 ORDER BY id DESC LIMIT 1",
            )
            .bind(db.campaign)
            .fetch_optional(&db.pool)
            .await?;
        });
        held.sort_by_key(|h| h.hold.map(|hold| hold.as_str()));
        Ok(CampaignNow {
            status,
            states,
            dialing,
            in_doubt: in_doubt as u64,
            in_doubt_next_check,
            held,
            next_due,
            last_run,
        })
    }
}
