//! `dialer move`: a campaign's whole history, from its SQLite file into a PostgreSQL database
//! that several hosts share, so that it goes on there with nothing lost and nobody dialed
//! twice. The campaign's lock is held throughout, so no run starts meanwhile; the history is
//! read in one snapshot and written in one transaction; then both databases must give the same
//! report. The SQLite file is only read.

use super::lock::{CampaignLock, LockError};
use crate::config::Campaign;
use crate::domain::{CampaignStatus, DatabaseUrl};
use crate::store::{Database, LoadError, StateCounts, Store, StoreError};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error(
        "campaign {name:?} is on the PostgreSQL database {database} already: only a campaign on \
         SQLite is moved (take database.url out of the campaign file, and unset \
         DIALER_DATABASE_URL, to name its SQLite file)"
    )]
    NotOnSqlite { name: String, database: String },
    #[error("{path} has no campaign {name:?}: there is nothing to move")]
    NothingToMove { path: PathBuf, name: String },
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(
        "{rows} rows of campaign {name:?} are being dialed (a run is under way, or one was killed \
         before it recorded their outcome): run the campaign once more on SQLite, which \
         reconciles them with Twilio, then move it; nothing was written"
    )]
    Dialing { name: String, rows: usize },
    #[error("{0}; nothing was written")]
    Occupied(LoadError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "campaign {name:?} was copied to {target}, but its report there differs from the SQLite \
         one ({differences}): do not run it there; the SQLite file is unchanged and the campaign \
         can go on from it"
    )]
    Mismatch {
        name: String,
        target: DatabaseUrl,
        differences: String,
    },
}

impl MoveError {
    /// Refused for what the user asked or the state the campaign is in: nothing was written.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Self::NotOnSqlite { .. }
                | Self::NothingToMove { .. }
                | Self::Dialing { .. }
                | Self::Occupied(_)
        )
    }
}

impl From<LoadError> for MoveError {
    fn from(error: LoadError) -> Self {
        match error {
            LoadError::Store(cause) => Self::Store(cause),
            occupied @ LoadError::Occupied { .. } => Self::Occupied(occupied),
        }
    }
}

/// What was moved.
#[derive(Debug, Clone)]
pub struct Moved {
    pub rows: usize,
    pub attempts: usize,
    pub call_events: usize,
    pub runs: usize,
    pub rejects: usize,
    pub status: CampaignStatus,
    /// The rows by state, the same on both sides.
    pub counts: StateCounts,
}

/// Copies `campaign` from its SQLite file into the database at `target`.
pub async fn move_to_postgres(
    campaign: &Campaign,
    target: &DatabaseUrl,
) -> Result<Moved, MoveError> {
    let name = &campaign.name;
    let Some(path) = campaign.database.sqlite_file() else {
        return Err(MoveError::NotOnSqlite {
            name: name.clone(),
            database: campaign.database.to_string(),
        });
    };
    let nothing = || MoveError::NothingToMove {
        path: path.to_path_buf(),
        name: name.clone(),
    };
    if !path.exists() {
        return Err(nothing());
    }
    let _lock = CampaignLock::acquire(path, name)?;
    let source = Store::open_existing_campaign(&campaign.database, name)
        .await?
        .ok_or_else(nothing)?;
    let history = source.history().await;
    let history = match history {
        Ok(history) => history,
        Err(e) => {
            source.close().await;
            return Err(e.into());
        }
    };
    let dialing = history.dialing();
    if dialing > 0 {
        source.close().await;
        return Err(MoveError::Dialing {
            name: name.clone(),
            rows: dialing,
        });
    }
    let loaded =
        Store::create_with_history(&Database::Postgres(target.clone()), name, &history).await;
    let target_store = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            source.close().await;
            return Err(e.into());
        }
    };
    let differences = differences(&source, &target_store).await;
    source.close().await;
    target_store.close().await;
    let (differences, counts) = differences?;
    if !differences.is_empty() {
        return Err(MoveError::Mismatch {
            name: name.clone(),
            target: target.clone(),
            differences: differences.join(", "),
        });
    }
    Ok(Moved {
        rows: history.rows.len(),
        attempts: history.attempts.len(),
        call_events: history.call_events.len(),
        runs: history.runs.len(),
        rejects: history.rejects.len(),
        status: history.status,
        counts,
    })
}

/// What the report and the export are made of, read from both sides: the names of the parts
/// that differ, and the rows by state.
async fn differences(
    source: &Store,
    target: &Store,
) -> Result<(Vec<&'static str>, StateCounts), StoreError> {
    let mut differ = Vec::new();
    macro_rules! compare {
        ($($part:ident),*) => {$(
            if source.$part().await? != target.$part().await? {
                differ.push(stringify!($part));
            }
        )*};
    }
    compare!(
        campaign_status,
        state_counts,
        attempt_counts,
        call_outcomes,
        failure_groups,
        export_rows,
        zone_sources,
        rejects,
        last_import,
        request_errors,
        calls_by_zone_and_quarter,
        run_totals
    );
    // No pause splits the requests: the first and the last one sent.
    if source.dialing_spans(i64::MAX).await? != target.dialing_spans(i64::MAX).await? {
        differ.push("dialing_spans");
    }
    Ok((differ, source.state_counts().await?))
}
