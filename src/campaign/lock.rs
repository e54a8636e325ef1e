//! One run per campaign at a time. An OS file lock beside the database, one per campaign (a
//! database may hold several): the kernel releases it when the process dies, so a killed run
//! never leaves it stuck. The lock is named after the database's real path, so two names of
//! one file (a symlink, a relative path) take one lock.

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
        let path = lock_path(database, campaign).map_err(|cause| LockError::Io {
            path: database.to_path_buf(),
            cause,
        })?;
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

/// The lock file of the campaign named `campaign` in the database at `database`.
pub(super) fn lock_path(database: &Path, campaign: &str) -> std::io::Result<PathBuf> {
    let mut name = real_path(database)?.into_os_string();
    name.push(format!(".{}.lock", file_stem(campaign)));
    Ok(PathBuf::from(name))
}

/// The one name of the file at `path`, symlinks resolved. A file not created yet (the first
/// run's) is named by its folder's real path, or, behind a dangling symlink, by the file the
/// link will create.
fn real_path(path: &Path) -> std::io::Result<PathBuf> {
    match path.canonicalize() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        named => return named,
    }
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    if let Ok(target) = std::fs::read_link(path) {
        // A relative target is relative to the link's folder; a loop fails in canonicalize.
        return real_path(&folder.join(target));
    }
    let name = path.file_name().ok_or(std::io::ErrorKind::NotFound)?;
    Ok(folder.canonicalize()?.join(name))
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

    #[test]
    fn two_names_of_one_file_take_one_lock_even_before_the_file_exists() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("c.sqlite");
        let link = dir.path().join("alias.sqlite");
        std::os::unix::fs::symlink("c.sqlite", &link).unwrap();
        let dotted = dir.path().join(".").join("c.sqlite");

        let first = CampaignLock::acquire(&link, "spring").unwrap();

        assert!(matches!(
            CampaignLock::acquire(&db, "spring"),
            Err(LockError::Held(_))
        ));
        assert!(matches!(
            CampaignLock::acquire(&dotted, "spring"),
            Err(LockError::Held(_))
        ));
        std::fs::write(&db, "").unwrap();
        assert!(matches!(
            CampaignLock::acquire(&db, "spring"),
            Err(LockError::Held(_))
        ));
        drop(first);
    }
}
