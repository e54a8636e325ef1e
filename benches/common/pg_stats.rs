//! What PostgreSQL's statistics views say a run cost: transactions (`pg_stat_database`),
//! statements (`pg_stat_statements`, which a server loads only at its start), and the pid of
//! the server's postmaster, whose processes' CPU `cpu` reads.

/// Loads `pg_stat_statements` into the server at `admin_url` (the `postgres` database):
/// `restart` restarts the server, which loads the library only at its start.
pub async fn preload_statements(admin_url: &str, restart: impl FnOnce()) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    restart();
    Ok(())
}

/// A connection to the database at `url` that reads its statistics, with
/// `pg_stat_statements` created in it.
pub async fn watch_database(url: &str) -> anyhow::Result<sqlx::PgConnection> {
    use sqlx::Connection;
    let mut watch = sqlx::PgConnection::connect(url).await?;
    sqlx::query("CREATE EXTENSION pg_stat_statements")
        .execute(&mut watch)
        .await?;
    Ok(watch)
}

/// The pid of the server's postmaster: the parent of the backend serving `watch`.
pub async fn postmaster_pid(watch: &mut sqlx::PgConnection) -> anyhow::Result<u32> {
    let (backend,): (i32,) = sqlx::query_as("SELECT pg_backend_pid()")
        .fetch_one(watch)
        .await?;
    let parent = super::cpu::parent_of(u32::try_from(backend)?)
        .ok_or_else(|| anyhow::anyhow!("no /proc entry for the backend {backend}"))?;
    Ok(parent)
}

/// Transactions committed and rolled back in `watch`'s database so far
/// (`pg_stat_database`).
pub async fn transactions(watch: &mut sqlx::PgConnection) -> anyhow::Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(watch)
    .await?)
}

/// Forgets the statements counted so far, in every database.
pub async fn reset_statements(watch: &mut sqlx::PgConnection) -> anyhow::Result<()> {
    sqlx::query("SELECT pg_stat_statements_reset()")
        .execute(watch)
        .await?;
    Ok(())
}

/// The `limit` statements run most in `watch`'s database since the last reset, with how
/// many times each ran.
pub async fn top_statements(
    watch: &mut sqlx::PgConnection,
    limit: i64,
) -> anyhow::Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT CAST(calls AS BIGINT), query FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
         ORDER BY calls DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(watch)
    .await?)
}

/// One line per statement: its count divided by `per` (creates, seconds), then its text on
/// one line, cut at 90 characters.
pub fn print_statements(statements: &[(i64, String)], per: f64) {
    for (calls, query) in statements {
        let query: String = query.split_whitespace().collect::<Vec<_>>().join(" ");
        let shown: String = query.chars().take(90).collect();
        println!("  {:>7.2}  {shown}", *calls as f64 / per);
    }
}
