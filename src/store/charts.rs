//! What the HTML report's charts read, aggregated here so that a large run reads back small.
//! Each written once for both backends: sums are cast back to the column's type (a SUM of a
//! bigint is a numeric in PostgreSQL), and zones are sorted here, in byte order.

use super::dialect::on_backend;
use super::{
    AttemptSpan, QUARTER_HOUR_MS, RequestBucket, RequestErrors, Store, StoreError, ZoneQuarterCalls,
};

impl Store {
    /// The spells of time the campaign was dialing: from a create request to the last one
    /// before a pause of more than `idle_gap_ms` without any, oldest first; none before any
    /// request. Reads only each spell's first and last request, whatever the number sent.
    pub async fn dialing_spans(&self, idle_gap_ms: i64) -> Result<Vec<AttemptSpan>, StoreError> {
        self.spans(idle_gap_ms, false).await
    }

    /// The same spells, of the requests that created a call only: the time a campaign's rate
    /// is taken over (refusals and retries after its last call leave it out).
    pub async fn creating_spans(&self, idle_gap_ms: i64) -> Result<Vec<AttemptSpan>, StoreError> {
        self.spans(idle_gap_ms, true).await
    }

    async fn spans(
        &self,
        idle_gap_ms: i64,
        created_only: bool,
    ) -> Result<Vec<AttemptSpan>, StoreError> {
        let edges: Vec<(i64, bool, bool)> = on_backend!(self, db => sqlx::query_as(
            "SELECT started_at, (prev IS NULL OR started_at - prev > $2) AS opens,
                    (next IS NULL OR next - started_at > $2) AS closes
             FROM (SELECT started_at, LAG(started_at) OVER by_time AS prev,
                          LEAD(started_at) OVER by_time AS next
                   FROM attempts
                   WHERE campaign_id = $1 AND ($3 = 0 OR outcome IN ('created', 'found'))
                   WINDOW by_time AS (ORDER BY started_at)) sent
             WHERE prev IS NULL OR next IS NULL OR started_at - prev > $2 OR next - started_at > $2
             ORDER BY started_at",
        )
        .bind(db.campaign)
        .bind(idle_gap_ms)
        .bind(i64::from(created_only))
        .fetch_all(&db.pool)
        .await?);
        let mut spans = Vec::new();
        let mut first = None;
        for (at, opens, closes) in edges {
            if opens {
                first = Some(at);
            }
            if closes && let Some(first_ms) = first.take() {
                spans.push(AttemptSpan {
                    first_ms,
                    last_ms: at,
                });
            }
        }
        Ok(spans)
    }

    /// Create requests and created calls' queue_time per `bucket_secs` seconds (at least 1),
    /// buckets aligned on multiples of it since the Unix epoch; a bucket without a request is
    /// left out. Requests are counted per second first, then the seconds gathered into buckets.
    pub async fn request_timeline(
        &self,
        bucket_secs: i64,
    ) -> Result<Vec<RequestBucket>, StoreError> {
        on_backend!(self, db => Ok(sqlx::query_as(
            "SELECT sec / $1 * $1 AS start_sec, CAST(SUM(n) AS BIGINT) AS requests,
                    MAX(n) AS busiest_second,
                    CAST(SUM(created) AS BIGINT) AS created, MAX(created) AS busiest_second_created,
                    CAST(SUM(queued) AS BIGINT) AS queued_calls,
                    CAST(SUM(queue_sum) AS DOUBLE PRECISION)
                        / CAST(NULLIF(SUM(queued), 0) AS DOUBLE PRECISION) AS queue_time_avg_ms,
                    MAX(queue_max) AS queue_time_max_ms
             FROM (SELECT started_at / 1000 AS sec, COUNT(*) AS n,
                          COUNT(*) FILTER (WHERE outcome IN ('created', 'found')) AS created,
                          COUNT(queue_time_ms) AS queued,
                          SUM(queue_time_ms) AS queue_sum, MAX(queue_time_ms) AS queue_max
                   FROM attempts WHERE campaign_id = $2 GROUP BY sec) per_second
             GROUP BY start_sec ORDER BY start_sec",
        )
        .bind(bucket_secs.max(1))
        .bind(db.campaign)
        .fetch_all(&db.pool)
        .await?))
    }

    /// Requests answered with an error or not answered at all, by Twilio error code, the most
    /// frequent first. 'unknown', 'found' and 'not_created' are one story: an answer lost,
    /// then a check.
    pub async fn request_errors(&self) -> Result<Vec<RequestErrors>, StoreError> {
        on_backend!(self, db => Ok(sqlx::query_as(
            "SELECT twilio_code, COALESCE(MIN(message), '') AS message,
                    COUNT(*) FILTER (WHERE outcome = 'retry') AS retried,
                    COUNT(*) FILTER (WHERE outcome = 'failed') AS failed,
                    COUNT(*) FILTER (WHERE outcome IN ('unknown', 'found', 'not_created')) AS in_doubt
             FROM attempts
             WHERE campaign_id = $1 AND outcome IN ('retry', 'failed', 'unknown', 'found', 'not_created')
             GROUP BY twilio_code ORDER BY COUNT(*) DESC, twilio_code NULLS FIRST",
        )
        .bind(db.campaign)
        .fetch_all(&db.pool)
        .await?))
    }

    /// Ended calls (every call, recycled rows' earlier calls too) by their row's stored zone
    /// and the quarter hour they were placed in, by quarter, then zone (`None` first).
    pub async fn calls_by_zone_and_quarter(&self) -> Result<Vec<ZoneQuarterCalls>, StoreError> {
        let mut calls: Vec<ZoneQuarterCalls> = on_backend!(self, db => sqlx::query_as(
            "SELECT r.timezone AS zones, a.started_at / $1 * $1 AS quarter_start_ms,
                    COUNT(*) AS ended, COUNT(*) FILTER (WHERE a.call_status = 'completed') AS answered,
                    COUNT(*) FILTER (WHERE a.call_status = 'completed' AND a.answered_by = 'human')
                        AS answered_by_human
             FROM attempts a JOIN rows r ON r.id = a.row_id
             WHERE a.campaign_id = $2
               AND a.call_status IN ('completed', 'busy', 'no-answer', 'failed', 'canceled')
             GROUP BY r.timezone, quarter_start_ms",
        )
        .bind(QUARTER_HOUR_MS)
        .bind(db.campaign)
        .fetch_all(&db.pool)
        .await?);
        calls.sort_unstable_by(|a, b| {
            (a.quarter_start_ms, &a.zones).cmp(&(b.quarter_start_ms, &b.zones))
        });
        Ok(calls)
    }
}
