//! One run per campaign at a time. An OS file lock beside the database, one per campaign (a
//! database may hold several): the kernel releases it when the process dies, so a killed run
//! never leaves it stuck.

use crate::config::file_stem;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another run of this campaign is in progress (lock {0})")]
    Held(PathBuf),
    #[error("could not open the lock file {path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
}

/// Held for as long as it lives.
#[derive(Debug)]
pub struct CampaignLock {
    _file: File,
}

impl CampaignLock {
    /// The lock of the campaign named `campaign` in the database at `database`.
    pub fn acquire(database: &Path, campaign: &str) -> Result<Self, LockError> {
        let mut name = database.as_os_str().to_owned();
        name.push(format!(".{}.lock", file_stem(campaign)));
        let path = PathBuf::from(name);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|cause| LockError::Io {
                path: path.clone(),
                cause,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(LockError::Held(path)),
            Err(std::fs::TryLockError::Error(cause)) => Err(LockError::Io { path, cause }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("c.sqlite");
        let first = CampaignLock::acquire(&db, "spring").unwrap();
        assert!(matches!(
            CampaignLock::acquire(&db, "spring"),
            Err(LockError::Held(_))
        ));
        let other = CampaignLock::acquire(&db, "autumn");
        assert!(
            other.is_ok(),
            "another campaign of the same database is free"
        );
        drop(first);
        assert!(CampaignLock::acquire(&db, "spring").is_ok());
    }
}
