//! Who holds a campaign's lock on SQLite, as `dialer status` asks it: without taking the lock,
//! which would refuse a run starting in that instant. The kernel lists every `flock` held, with
//! its process and file, in /proc/locks (Linux); elsewhere the holder is not known.

use super::lock::lock_path;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockHolder {
    /// No run holds it.
    Free,
    /// A run holds it: the process, when the kernel names it.
    Held { pid: Option<u32> },
    /// This system does not say.
    Unknown,
}

/// The holder of the lock of the campaign named `campaign` in the database at `database`.
pub fn lock_holder(database: &Path, campaign: &str) -> LockHolder {
    let Ok(meta) = lock_path(database, campaign).and_then(std::fs::metadata) else {
        // No lock file: no run ever took the lock.
        return LockHolder::Free;
    };
    let Ok(locks) = std::fs::read_to_string("/proc/locks") else {
        return LockHolder::Unknown;
    };
    let file = format!(
        "{:02x}:{:02x}:{}",
        major(meta.dev()),
        minor(meta.dev()),
        meta.ino()
    );
    holder_in(&locks, &file)
}

/// `file` as /proc/locks names it (`major:minor:inode`, the device in hex) among its lines, e.g.
/// `1: FLOCK  ADVISORY  WRITE 4242 00:2d:1234567 0 EOF`; a waiter's line (`->`) holds nothing.
fn holder_in(locks: &str, file: &str) -> LockHolder {
    let pid = locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [_, "FLOCK", _, _, pid, named, ..] if *named == file => Some(pid.parse().ok()),
            _ => None,
        }
    });
    match pid {
        Some(pid) => LockHolder::Held { pid },
        None => LockHolder::Free,
    }
}

// Linux's encoding of a device number (glibc's `major`/`minor`).
fn major(dev: u64) -> u64 {
    ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff)
}

fn minor(dev: u64) -> u64 {
    (dev & 0xff) | ((dev >> 12) & !0xff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::lock::CampaignLock;

    #[test]
    fn a_waiter_is_not_the_holder() {
        let locks = "1: FLOCK  ADVISORY  WRITE 4242 00:2d:77 0 EOF\n\
                     1: -> FLOCK  ADVISORY  WRITE 5151 00:2d:88 0 EOF\n";
        assert_eq!(
            holder_in(locks, "00:2d:77"),
            LockHolder::Held { pid: Some(4242) }
        );
        assert_eq!(holder_in(locks, "00:2d:88"), LockHolder::Free);
    }

    #[test]
    fn the_lock_of_this_process_is_seen_with_its_pid_and_free_once_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("c.sqlite");
        assert_eq!(lock_holder(&db, "spring"), LockHolder::Free);
        let lock = CampaignLock::acquire(&db, "spring").unwrap();

        let held = lock_holder(&db, "spring");
        drop(lock);
        let after = lock_holder(&db, "spring");

        if Path::new("/proc/locks").exists() {
            let pid = Some(std::process::id());
            assert_eq!(held, LockHolder::Held { pid });
            assert_eq!(after, LockHolder::Free);
        }
    }
}
