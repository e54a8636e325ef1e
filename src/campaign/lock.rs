//! One run per campaign at a time. An OS file lock beside the database: the kernel releases it
//! when the process dies, so a killed run never leaves it stuck.

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
    pub fn acquire(database: &Path) -> Result<Self, LockError> {
        let mut name = database.as_os_str().to_owned();
        name.push(".lock");
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
        let first = CampaignLock::acquire(&db).unwrap();
        assert!(matches!(
            CampaignLock::acquire(&db),
            Err(LockError::Held(_))
        ));
        drop(first);
        assert!(CampaignLock::acquire(&db).is_ok());
    }
}
