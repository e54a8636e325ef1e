//! `dialer move CAMPAIGN.toml --to postgres://…`: a campaign begun on SQLite goes on in a
//! PostgreSQL database that several hosts share, its whole history with it. The work is
//! `campaign::move_to_postgres`; this reads the arguments and says what to do next.

use super::Exit;
use crate::campaign::{Moved, move_to_postgres};
use crate::config::{Campaign, DatabaseEnv, move_target};
use crate::domain::DatabaseUrl;
use anyhow::Context;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct MoveArgs {
    /// The campaign file; its database must be its SQLite file.
    campaign: PathBuf,
    /// The PostgreSQL database to move to, without its password
    /// (postgres://user@host:5432/db) [default: DIALER_DATABASE_URL].
    #[arg(long, value_name = "URL")]
    to: Option<String>,
    /// A file holding the database's password alone (or PGPASSWORD, or the password in
    /// DIALER_DATABASE_URL).
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
}

pub async fn run(args: MoveArgs) -> anyhow::Result<Exit> {
    let env = DatabaseEnv::from_process();
    let target = move_target(args.to.as_deref(), args.password_file.as_deref(), &env)?;
    // The campaign as it is now: its SQLite file, whatever DIALER_DATABASE_URL says.
    let on_sqlite = DatabaseEnv {
        url: None,
        ..env.clone()
    };
    let campaign = Campaign::load_with(&args.campaign, &on_sqlite)?;
    let moved = move_to_postgres(&campaign, &target)
        .await
        .with_context(|| format!("Failed to move campaign {:?} to {target}", campaign.name))?;
    print_summary(&args.campaign, &campaign, &target, &moved);
    Ok(Exit::Done)
}

fn print_summary(file: &Path, campaign: &Campaign, target: &DatabaseUrl, moved: &Moved) {
    let c = &moved.counts;
    println!(
        "campaign {:?} moved to {target}: {} rows ({} created, {} failed, {} pending, {} unknown, \
         {} suppressed, {} canceled), {} attempts, {} call events, {} runs, {} rejected lines; \
         status {}; the report reads the same on both",
        campaign.name,
        moved.rows,
        c.created,
        c.failed,
        c.pending,
        c.unknown,
        c.suppressed,
        c.canceled,
        moved.attempts,
        moved.call_events,
        moved.runs,
        moved.rejects,
        moved.status.as_str(),
    );
    println!(
        "next: in {}, set [database] url = \"{}\" in place of its path (the password in \
         PGPASSWORD or database.password_file), or set DIALER_DATABASE_URL for every command of \
         this campaign; then run it from any host",
        file.display(),
        target.without_password(),
    );
    if let Some(sqlite) = campaign.database.sqlite_file() {
        println!(
            "{} is unchanged: keep it as a record, or delete it once the campaign runs on \
             PostgreSQL (never run the campaign on both)",
            sqlite.display()
        );
    }
}
