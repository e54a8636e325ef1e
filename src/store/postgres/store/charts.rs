//! What the HTML report's charts read, aggregated here so that a large run reads back small.

use super::PgStore;
use crate::store::{
    AttemptSpan, QUARTER_HOUR_MS, RequestBucket, RequestErrors, StoreError, ZoneQuarterCalls,
};

impl PgStore {
    pub async fn attempt_span(&self) -> Result<Option<AttemptSpan>, StoreError> {
        let (first, last): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT MIN(started_at), MAX(started_at) FROM attempts WHERE campaign_id = $1",
        )
        .bind(self.campaign)
        .fetch_one(&self.pool)
        .await?;
        Ok(first
            .zip(last)
            .map(|(first_ms, last_ms)| AttemptSpan { first_ms, last_ms }))
    }

    /// Requests counted per second first, then the seconds gathered into buckets.
    pub async fn request_timeline(
        &self,
        bucket_secs: i64,
    ) -> Result<Vec<RequestBucket>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT sec / $1 * $1 AS start_sec, SUM(n)::bigint AS requests, MAX(n) AS busiest_second,
                    SUM(created)::bigint AS created, MAX(created) AS busiest_second_created,
                    SUM(queued)::bigint AS queued_calls,
                    SUM(queue_sum)::float8 / NULLIF(SUM(queued), 0)::float8 AS queue_time_avg_ms,
                    MAX(queue_max) AS queue_time_max_ms
             FROM (SELECT started_at / 1000 AS sec, COUNT(*) AS n,
                          COUNT(*) FILTER (WHERE outcome IN ('created', 'found')) AS created,
                          COUNT(queue_time_ms) AS queued,
                          SUM(queue_time_ms) AS queue_sum, MAX(queue_time_ms) AS queue_max
                   FROM attempts WHERE campaign_id = $2 GROUP BY sec) per_second
             GROUP BY start_sec ORDER BY start_sec",
        )
        .bind(bucket_secs.max(1))
        .bind(self.campaign)
        .fetch_all(&self.pool)
        .await?)
    }

    /// 'unknown', 'found' and 'not_created' are one story: an answer lost, then a check.
    pub async fn request_errors(&self) -> Result<Vec<RequestErrors>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT twilio_code, COALESCE(MIN(message), '') AS message,
                    COUNT(*) FILTER (WHERE outcome = 'retry') AS retried,
                    COUNT(*) FILTER (WHERE outcome = 'failed') AS failed,
                    COUNT(*) FILTER (WHERE outcome IN ('unknown', 'found', 'not_created')) AS in_doubt
             FROM attempts
             WHERE campaign_id = $1 AND outcome IN ('retry', 'failed', 'unknown', 'found', 'not_created')
             GROUP BY twilio_code ORDER BY COUNT(*) DESC, twilio_code NULLS FIRST",
        )
        .bind(self.campaign)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn calls_by_zone_and_quarter(&self) -> Result<Vec<ZoneQuarterCalls>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT r.timezone AS zones, a.started_at / $1 * $1 AS quarter_start_ms,
                    COUNT(*) AS ended, COUNT(*) FILTER (WHERE a.call_status = 'completed') AS answered,
                    COUNT(*) FILTER (WHERE a.call_status = 'completed' AND a.answered_by = 'human')
                        AS answered_by_human
             FROM attempts a JOIN rows r ON r.id = a.row_id
             WHERE a.campaign_id = $2
               AND a.call_status IN ('completed', 'busy', 'no-answer', 'failed', 'canceled')
             GROUP BY zones, quarter_start_ms
             ORDER BY quarter_start_ms, r.timezone COLLATE \"C\" NULLS FIRST",
        )
        .bind(QUARTER_HOUR_MS)
        .bind(self.campaign)
        .fetch_all(&self.pool)
        .await?)
    }
}
