//! Opt-outs, for every campaign of the database: recorded, lapsed, listed, and honoured by
//! suppressing the pending rows of their numbers. Written once for both backends.

use super::dialect::on_backend;
use super::{OptOut, OptOutSource, Store, StoreError};
use crate::domain::Endpoint;

impl Store {
    /// Records that `number` asked not to be called again, until `expires_at` (unix ms; `None`:
    /// for good). Recording a number again replaces its record.
    pub async fn add_opt_out(
        &self,
        number: &Endpoint,
        expires_at: Option<i64>,
        source: OptOutSource,
        note: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = self.now_ms();
        on_backend!(self, db => {
            sqlx::query(
                "INSERT INTO opt_outs (number, added_at, expires_at, source, note)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (number) DO UPDATE SET added_at = excluded.added_at,
                     expires_at = excluded.expires_at, source = excluded.source, note = excluded.note",
            )
            .bind(number)
            .bind(now)
            .bind(expires_at)
            .bind(source)
            .bind(note)
            .execute(&db.pool)
            .await?;
        });
        Ok(())
    }

    /// Forgets `number`'s opt-out; whether there was one. Rows already suppressed for it stay
    /// suppressed (`dialer campaign requeue` does not take them back either).
    pub async fn remove_opt_out(&self, number: &Endpoint) -> Result<bool, StoreError> {
        on_backend!(self, db => Ok(sqlx::query("DELETE FROM opt_outs WHERE number = $1")
            .bind(number)
            .execute(&db.pool)
            .await?
            .rows_affected() > 0))
    }

    /// Every opt-out in force now (not lapsed), by number.
    pub async fn opt_outs(&self) -> Result<Vec<OptOut>, StoreError> {
        let now = self.now_ms();
        on_backend!(self, db => Ok(sqlx::query_as(
            "SELECT number, added_at, expires_at, source, note FROM opt_outs
             WHERE expires_at IS NULL OR expires_at > $1 ORDER BY number",
        )
        .bind(now)
        .fetch_all(&db.pool)
        .await?))
    }

    /// This campaign's rows suppressed because their number opted out, and the longest time
    /// from an opt-out's record to its row's suppression (ms; none when no row was).
    pub async fn opted_out_rows(&self) -> Result<(i64, Option<i64>), StoreError> {
        on_backend!(self, db => Ok(sqlx::query_as(
            "SELECT COUNT(*), MAX(r.updated_at - o.added_at) FROM rows r
             LEFT JOIN opt_outs o ON o.number = r.to_endpoint
             WHERE r.campaign_id = $1 AND r.state = 'suppressed' AND r.last_message LIKE 'opted out%'",
        )
        .bind(db.campaign)
        .fetch_one(&db.pool)
        .await?))
    }

    /// Marks `suppressed` this campaign's pending rows of a person another of whose rows is
    /// (a do-not-call list or an opt-out names one of their numbers); returns how many.
    pub async fn suppress_persons_of_suppressed(&self) -> Result<u64, StoreError> {
        let now = self.now_ms();
        on_backend!(self, db => Ok(sqlx::query(
            "UPDATE rows SET state = 'suppressed', updated_at = $1,
                 last_message = 'another number of this person is suppressed'
             WHERE campaign_id = $2 AND state = 'pending' AND person IS NOT NULL
               AND person IN (SELECT s.person FROM rows s WHERE s.campaign_id = $2
                              AND s.state = 'suppressed' AND s.person IS NOT NULL)",
        )
        .bind(now)
        .bind(db.campaign)
        .execute(&db.pool)
        .await?
        .rows_affected()))
    }

    /// Marks this campaign's pending rows of opted-out numbers `suppressed`, saying by what
    /// they opted out; returns how many. A row claimed later is checked by its claim.
    pub async fn suppress_opted_out(&self) -> Result<u64, StoreError> {
        let now = self.now_ms();
        on_backend!(self, db => Ok(sqlx::query(
            "UPDATE rows SET state = 'suppressed', updated_at = $1,
                 last_message = CASE o.source WHEN 'cli' THEN 'opted out (dialer optout)'
                                              ELSE 'opted out (dialer serve)' END
             FROM opt_outs o
             WHERE rows.campaign_id = $2 AND rows.state = 'pending'
               AND (rows.to_endpoint = o.number
                    OR o.number IN (SELECT p.to_endpoint FROM rows p WHERE p.person = rows.person))
               AND (o.expires_at IS NULL OR o.expires_at > $1)",
        )
        .bind(now)
        .bind(db.campaign)
        .execute(&db.pool)
        .await?
        .rows_affected()))
    }
}
