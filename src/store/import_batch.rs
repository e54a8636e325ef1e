//! One batch of a list into `rows`, inside an import's transaction: the new rows inserted
//! with one statement, the rows already there found by their number, and moved rows given their
//! line now. Only passing the batch differs by backend: a JSON array read with `jsonb_each` on
//! SQLite, which has no arrays; on PostgreSQL a staging table filled by COPY.

use super::copy_text::CopyText;
use super::dialect::{Tx, on_tx};
use super::{ImportPass, Inserted, NewRow, StoreError};
use crate::domain::PersonId;
use std::collections::HashMap;

/// One batch of a campaign's list, imported inside its caller's transaction.
pub(super) struct Batch<'a> {
    pub(super) campaign: i64,
    pub(super) rows: &'a [NewRow],
}

impl Batch<'_> {
    /// Inserts the new rows, finds the ones already there, and gives moved rows their line now.
    pub(super) async fn import(
        &self,
        mut tx: Tx<'_, '_>,
        pass: &mut ImportPass,
        now: i64,
    ) -> Result<Vec<Inserted>, StoreError> {
        let inserted = self.insert(&mut tx, now, pass.fresh).await?;
        for (_, id) in &inserted {
            pass.meet(*id);
        }
        let is_new = |row: &NewRow| {
            inserted
                .binary_search_by_key(&(row.line as i64), |(line, _)| *line)
                .is_ok()
        };
        let taken: Vec<&str> = self
            .rows
            .iter()
            .filter(|r| !is_new(r))
            .map(|r| r.to.as_str())
            .collect();
        let mut known = self.known(&mut tx, &taken).await?;
        let mut moved = Vec::new();
        let mut results = Vec::with_capacity(self.rows.len());
        for row in self.rows {
            let result = match pass.verdict(row, is_new(row), &mut known, &mut moved) {
                Some(result) => result,
                None => {
                    let line: i64 = on_tx!(&mut tx, tx => sqlx::query_scalar(
                        "SELECT line FROM rows WHERE campaign_id = $1 AND label = $2",
                    )
                    .bind(self.campaign)
                    .bind(&row.label)
                    .fetch_one(&mut ***tx)
                    .await?);
                    Inserted::LabelTaken(line as u64)
                }
            };
            results.push(result);
        }
        if !moved.is_empty() {
            move_lines(&mut tx, moved).await?;
        }
        Ok(results)
    }

    /// Inserts the batch's new rows in list order, so a number listed twice in one batch keeps
    /// its first line; (line, row id) of each row inserted, by line (searched, not hashed: a
    /// batch's rows are mostly new, and hashing them cost as much as reading them).
    async fn insert(
        &self,
        tx: &mut Tx<'_, '_>,
        now: i64,
        fresh: bool,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let mut inserted: Vec<(i64, i64)> = match tx {
            Tx::Sqlite(tx) => {
                let batch: Vec<_> = self
                    .rows
                    .iter()
                    .map(|r| {
                        let (zone, source) = zone_columns(r);
                        (
                            r.line,
                            r.to.as_str(),
                            r.label.as_str(),
                            r.params.to_json(),
                            zone,
                            source,
                            jurisdictions_column(r),
                            r.person.as_ref().map(PersonId::as_str),
                        )
                    })
                    .collect();
                let batch = serde_json::to_string(&batch).expect("strings and integers serialize");
                // The rows inserted are told in one value, not by RETURNING: the driver hands
                // over each row returned on its own, and that cost more than the insert. They
                // are those above the highest id before it (the transaction holds SQLite's one
                // write lock, and a new row's id is the highest so far plus one).
                let before: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM rows")
                    .fetch_one(&mut ***tx)
                    .await?;
                // `jsonb_each`, not `json_each`: each row comes out as binary JSON, its fields
                // read in place, instead of as text parsed again for each field.
                sqlx::query(
                    "INSERT INTO rows (campaign_id, line, to_endpoint, label, params, timezone,
                                       timezone_source, jurisdictions, person, updated_at)
                     SELECT $3, value ->> '$[0]', value ->> '$[1]', value ->> '$[2]', value ->> '$[3]',
                            value ->> '$[4]', value ->> '$[5]', value ->> '$[6]', value ->> '$[7]', $2
                     FROM jsonb_each($1) WHERE true
                     ON CONFLICT DO NOTHING",
                )
                .bind(batch)
                .bind(now)
                .bind(self.campaign)
                .execute(&mut ***tx)
                .await?;
                let inserted: String = sqlx::query_scalar(
                    "SELECT json_group_array(json_array(line, id)) FROM rows WHERE id > $1",
                )
                .bind(before)
                .fetch_one(&mut ***tx)
                .await?;
                serde_json::from_str(&inserted)
                    .map_err(|e| StoreError::Corrupt(format!("rows inserted: {e}")))?
            }
            Tx::Postgres(tx) => {
                // The batch goes in by COPY, the fastest way in, to the transaction's staging
                // table (see `begin_import`), and from there into `rows` by one statement.
                let mut staged = CopyText::with_capacity(self.rows.len() * 96);
                for (n, r) in self.rows.iter().enumerate() {
                    let (zone, source) = zone_columns(r);
                    staged
                        .field(Some(&n.to_string()))
                        .field(Some(&r.line.to_string()))
                        .field(Some(r.to.as_str()))
                        .field(Some(r.label.as_str()))
                        .field(Some(&r.params.to_json()))
                        .field(zone)
                        .field(source)
                        .field(Some(jurisdictions_column(r)))
                        .field(r.person.as_ref().map(PersonId::as_str))
                        .end_row();
                }
                let mut copy = tx
                    .copy_in_raw(
                        "COPY import_batch (n, line, to_endpoint, label, params, timezone, timezone_source,
                                            jurisdictions, person)
                         FROM STDIN",
                    )
                    .await?;
                copy.send(staged.into_bytes()).await?;
                copy.finish().await?;
                // Rows already there are left out before the insert, not only by ON CONFLICT,
                // which would still draw an id for each: re-importing a list would then burn a
                // list's worth of ids every run (and widen every ImportPass with them). Into a
                // campaign that had no rows, there is nothing to leave out (a conflict is a
                // number listed twice, or another host's row), and the lookups would cost more
                // than the insert.
                let inserted = if fresh {
                    sqlx::query_as(
                        "INSERT INTO rows (campaign_id, line, to_endpoint, label, params, timezone,
                                           timezone_source, jurisdictions, person, updated_at)
                         SELECT $1, b.line, b.to_endpoint, b.label, b.params, b.timezone, b.timezone_source,
                                b.jurisdictions, b.person, $2
                         FROM import_batch b
                         ORDER BY b.n
                         ON CONFLICT DO NOTHING
                         RETURNING line, id",
                    )
                    .bind(self.campaign)
                    .bind(now)
                    .fetch_all(&mut ***tx)
                    .await?
                } else {
                    sqlx::query_as(
                        "INSERT INTO rows (campaign_id, line, to_endpoint, label, params, timezone,
                                           timezone_source, jurisdictions, person, updated_at)
                         SELECT $1, b.line, b.to_endpoint, b.label, b.params, b.timezone, b.timezone_source,
                                b.jurisdictions, b.person, $2
                         FROM import_batch b
                         WHERE NOT EXISTS (SELECT 1 FROM rows r WHERE r.campaign_id = $1 AND r.to_endpoint = b.to_endpoint)
                           AND NOT EXISTS (SELECT 1 FROM rows r WHERE r.campaign_id = $1 AND r.label = b.label)
                         ORDER BY b.n
                         ON CONFLICT DO NOTHING
                         RETURNING line, id",
                    )
                    .bind(self.campaign)
                    .bind(now)
                    .fetch_all(&mut ***tx)
                    .await?
                };
                sqlx::query("TRUNCATE import_batch")
                    .execute(&mut ***tx)
                    .await?;
                inserted
            }
        };
        inserted.sort_unstable();
        Ok(inserted)
    }

    /// The rows already there for the numbers `taken`: `to` → (row id, the line it stands on in
    /// this import, or stood on before). A new statement: on PostgreSQL it sees the rows another
    /// host committed while this one's insert waited.
    async fn known(
        &self,
        tx: &mut Tx<'_, '_>,
        taken: &[&str],
    ) -> Result<HashMap<String, (i64, i64)>, StoreError> {
        if taken.is_empty() {
            return Ok(HashMap::new());
        }
        let found: Vec<(String, i64, i64)> = match tx {
            Tx::Sqlite(tx) => {
                sqlx::query_as(
                    "SELECT to_endpoint, id, line FROM rows
                     WHERE campaign_id = $1 AND to_endpoint IN (SELECT value FROM json_each($2))",
                )
                .bind(self.campaign)
                .bind(serde_json::to_string(taken).expect("strings serialize"))
                .fetch_all(&mut ***tx)
                .await?
            }
            Tx::Postgres(tx) => {
                sqlx::query_as(
                    "SELECT to_endpoint, id, line FROM rows
                     WHERE campaign_id = $1 AND to_endpoint = ANY($2::text[])",
                )
                .bind(self.campaign)
                .bind(taken)
                .fetch_all(&mut ***tx)
                .await?
            }
        };
        Ok(found
            .into_iter()
            .map(|(to, id, line)| (to, (id, line)))
            .collect())
    }
}

/// A row's zone as its two columns (both NULL: the campaign's zone).
fn zone_columns(row: &NewRow) -> (Option<&str>, Option<&'static str>) {
    match &row.zone {
        Some(zone) => (Some(zone.zones.as_str()), Some(zone.source.as_str())),
        None => (None, None),
    }
}

/// Whose rules bind the row, as stored: '' for none (a number outside the US).
fn jurisdictions_column(row: &NewRow) -> &str {
    row.jurisdictions.as_ref().map_or("", |j| j.as_str())
}

/// The list changed (a line inserted above, a sort): each row of `moved` (row id, line) gives
/// its line now.
async fn move_lines(tx: &mut Tx<'_, '_>, moved: Vec<(i64, i64)>) -> Result<(), StoreError> {
    match tx {
        Tx::Sqlite(tx) => {
            sqlx::query(
                "UPDATE rows SET line = moved.value ->> '$[1]'
                 FROM json_each($1) AS moved WHERE rows.id = moved.value ->> '$[0]'",
            )
            .bind(serde_json::to_string(&moved).expect("integers serialize"))
            .execute(&mut ***tx)
            .await?;
        }
        Tx::Postgres(tx) => {
            // Locked in id order first, so that two hosts moving the same rows never wait on
            // each other in a circle.
            let (ids, lines): (Vec<i64>, Vec<i64>) = moved.into_iter().unzip();
            sqlx::query(
                "WITH moved AS (
                     SELECT rows.id, m.line FROM rows
                     JOIN unnest($1::bigint[], $2::bigint[]) AS m(id, line) ON rows.id = m.id
                     ORDER BY rows.id FOR UPDATE OF rows
                 )
                 UPDATE rows SET line = moved.line FROM moved WHERE rows.id = moved.id",
            )
            .bind(ids)
            .bind(lines)
            .execute(&mut ***tx)
            .await?;
        }
    }
    Ok(())
}
