//! One body, two dialects: how a `Store` operation is written once. The body names the
//! backend's handle (`db.pool`, `db.campaign`) and is compiled once per backend by `on_backend!`,
//! so one text of Rust and SQL serves SQLite and PostgreSQL; `on_tx!` does the same for a step
//! inside a transaction another operation opened. (A function generic over
//! `sqlx::Database` would need a bound for every type it binds or reads, and a trait of ours for
//! `rows_affected`, which each driver defines on its own result type.) Statements use `$1`
//! placeholders, which both drivers read. Where the SQL truly differs, the method matches on the
//! backend instead, its two literal statements side by side.

/// Runs `$body` with `$db` bound to the store's backend handle (`&SqliteStore` or `&PgStore`):
/// the body is written once and type-checked against each backend's own types.
macro_rules! on_backend {
    ($store:expr, $db:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite($db) => $body,
            $crate::store::Store::Postgres($db) => $body,
        }
    };
}
pub(super) use on_backend;

/// An open transaction on either backend, for a step shared by several operations' own
/// transactions (an import's batch, a call found for a row in doubt, a history written): the step's body is written once and
/// compiled against each arm.
pub(super) enum Tx<'t, 'c> {
    Sqlite(&'t mut sqlx::Transaction<'c, sqlx::Sqlite>),
    Postgres(&'t mut sqlx::Transaction<'c, sqlx::Postgres>),
}

impl<'t, 'c> From<&'t mut sqlx::Transaction<'c, sqlx::Sqlite>> for Tx<'t, 'c> {
    fn from(tx: &'t mut sqlx::Transaction<'c, sqlx::Sqlite>) -> Self {
        Self::Sqlite(tx)
    }
}

impl<'t, 'c> From<&'t mut sqlx::Transaction<'c, sqlx::Postgres>> for Tx<'t, 'c> {
    fn from(tx: &'t mut sqlx::Transaction<'c, sqlx::Postgres>) -> Self {
        Self::Postgres(tx)
    }
}

/// Runs `$body` with `$tx` bound to the transaction of whichever backend `Tx` holds.
macro_rules! on_tx {
    ($held:expr, $tx:ident => $body:expr) => {
        match $held {
            $crate::store::dialect::Tx::Sqlite($tx) => $body,
            $crate::store::dialect::Tx::Postgres($tx) => $body,
        }
    };
}
pub(super) use on_tx;

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    /// The shared statement texts rely on it: SQLite binds `$n` by its number, and a number
    /// used twice is one parameter, as on PostgreSQL.
    #[tokio::test]
    async fn sqlite_binds_numbered_dollar_placeholders_as_postgresql_does() {
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        let (difference, twice): (i64, i64) = sqlx::query_as("SELECT $2 - $1, $1 + $1")
            .bind(3_i64)
            .bind(10_i64)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!((difference, twice), (7, 6));
        let null_matches: bool = sqlx::query_scalar("SELECT NULL IS NOT DISTINCT FROM $1")
            .bind(None::<String>)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert!(
            null_matches,
            "IS NOT DISTINCT FROM compares NULLs as PostgreSQL does"
        );
    }
}
