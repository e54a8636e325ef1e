//! The account's call slots, shared by every process on this machine that dials on it.
//!
//! Twilio's CPS limit is the account's, not a campaign's: two cron runs of two campaigns on one
//! account must share it. The next free slot lives in a small file named after the account and
//! the API base, read and advanced under an OS file lock (a few microseconds; the kernel drops
//! the lock if the process dies). Slots are wall-clock times, so every process agrees on them.
//!
//! A step of the system clock back (an NTP step at boot, a VM restored from a snapshot) would
//! leave the file's next slot far in the future and every run waiting for the clock to catch
//! up. No schedule puts the next slot further ahead than one interval for each request that
//! can wait on it, so a slot beyond `MAX_WAITERS` intervals plus a margin is stale: the schedule
//! restarts from now, and says so once.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// More requests than ever wait on one account's slots at once (every run's `max_in_flight`).
const MAX_WAITERS: u32 = 256;
/// Allowed on top, for scheduling jitter.
const STALE_MARGIN: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub struct AccountSlots {
    file: File,
    path: PathBuf,
}

impl AccountSlots {
    /// The file for `account` at `api_base`, in `dir` (created owner-only if missing).
    pub fn open(dir: &Path, account: &str, api_base: &url::Url) -> std::io::Result<Self> {
        let host = api_base.host_str().unwrap_or("local");
        let port = api_base.port_or_known_default().unwrap_or(0);
        let path = dir.join(format!("dialer-{account}-{host}-{port}.slots"));
        let mut options = OpenOptions::new();
        options.create(true).truncate(false).read(true).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path)?;
        Ok(Self { file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Takes the next slot for a caller pacing at `interval`, as a wall-clock time: the shared
    /// next slot if it is still current, else now (after a pause, no burst builds up).
    pub fn take(&self, interval: Duration) -> std::io::Result<SystemTime> {
        self.locked(|| self.take_locked(SystemTime::now(), interval))
    }

    /// Returns one slot of `interval` that placed no call: the next free slot moves one
    /// interval earlier, never before now.
    pub fn give_back(&self, interval: Duration) -> std::io::Result<()> {
        self.locked(|| self.give_back_locked(SystemTime::now(), interval))
    }

    /// Runs `f` under the file's lock, unlocking whatever `f` returned.
    fn locked<T>(&self, f: impl FnOnce() -> std::io::Result<T>) -> std::io::Result<T> {
        self.file.lock()?;
        let done = f();
        let unlocked = self.file.unlock();
        let value = done?;
        unlocked?;
        Ok(value)
    }

    /// The next free slot the file holds: unix nanoseconds, 8 bytes little endian.
    fn read_next(&self) -> std::io::Result<Option<u64>> {
        let mut file = &self.file;
        let mut bytes = [0u8; 8];
        file.seek(SeekFrom::Start(0))?;
        Ok((read_up_to(&mut file, &mut bytes)? == 8).then(|| u64::from_le_bytes(bytes)))
    }

    fn write_next(&self, next_ns: u64) -> std::io::Result<()> {
        let mut file = &self.file;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&next_ns.to_le_bytes())
    }

    fn give_back_locked(&self, now: SystemTime, interval: Duration) -> std::io::Result<()> {
        let Some(next) = self.read_next()? else {
            return Ok(());
        };
        let earlier = next
            .saturating_sub(nanos(UNIX_EPOCH + interval))
            .max(nanos(now));
        if earlier < next {
            self.write_next(earlier)?;
        }
        Ok(())
    }

    fn take_locked(&self, now: SystemTime, interval: Duration) -> std::io::Result<SystemTime> {
        let next = self.read_next()?;
        let (now_ns, interval_ns) = (nanos(now), nanos(UNIX_EPOCH + interval));
        let stale_after =
            now_ns.saturating_add(nanos(UNIX_EPOCH + interval * MAX_WAITERS + STALE_MARGIN));
        let slot = match next {
            Some(next) if next > stale_after => {
                tracing::warn!(
                    ahead_s = (next - now_ns) / 1_000_000_000,
                    "the account's next call slot lay further ahead than any schedule explains (the clock was stepped back?); pacing restarts from now"
                );
                now_ns
            }
            Some(next) if next.saturating_add(interval_ns) >= now_ns => next,
            _ => now_ns,
        };
        self.write_next(slot.saturating_add(interval_ns))?;
        Ok(UNIX_EPOCH + Duration::from_nanos(slot))
    }
}

fn read_up_to(file: &mut &File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn nanos(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> url::Url {
        "http://127.0.0.1:8099".parse().unwrap()
    }

    #[test]
    fn two_holders_of_the_same_account_share_one_schedule() {
        let dir = tempfile::tempdir().unwrap();
        let a = AccountSlots::open(dir.path(), "AC1", &base()).unwrap();
        let b = AccountSlots::open(dir.path(), "AC1", &base()).unwrap();
        let interval = Duration::from_millis(100);
        let now = SystemTime::now();
        let first = a.take_locked(now, interval).unwrap();
        let second = b.take_locked(now, interval).unwrap();
        let third = a.take_locked(now, interval).unwrap();
        assert_eq!(second.duration_since(first).unwrap(), interval);
        assert_eq!(third.duration_since(second).unwrap(), interval);
    }

    #[test]
    fn other_accounts_and_api_bases_have_their_own() {
        let dir = tempfile::tempdir().unwrap();
        let other_base: url::Url = "http://127.0.0.1:9000".parse().unwrap();
        let paths = [
            AccountSlots::open(dir.path(), "AC1", &base()).unwrap(),
            AccountSlots::open(dir.path(), "AC2", &base()).unwrap(),
            AccountSlots::open(dir.path(), "AC1", &other_base).unwrap(),
        ]
        .map(|s| s.path().to_owned());
        assert!(paths[0] != paths[1] && paths[0] != paths[2] && paths[1] != paths[2]);
    }

    #[test]
    fn after_a_pause_the_next_slot_is_now() {
        let dir = tempfile::tempdir().unwrap();
        let slots = AccountSlots::open(dir.path(), "AC1", &base()).unwrap();
        let interval = Duration::from_millis(100);
        let start = SystemTime::now();
        slots.take_locked(start, interval).unwrap();
        let later = start + Duration::from_secs(5);
        assert_eq!(slots.take_locked(later, interval).unwrap(), later);
    }

    #[test]
    fn a_next_slot_far_ahead_after_the_clock_stepped_back_restarts_from_now() {
        let dir = tempfile::tempdir().unwrap();
        let slots = AccountSlots::open(dir.path(), "AC1", &base()).unwrap();
        let interval = Duration::from_millis(100);
        let before_step = SystemTime::now() + Duration::from_secs(3600);
        slots.take_locked(before_step, interval).unwrap();

        // The clock is an hour behind what wrote the file.
        let now = before_step - Duration::from_secs(3600);
        assert_eq!(slots.take_locked(now, interval).unwrap(), now);
        assert_eq!(slots.take_locked(now, interval).unwrap(), now + interval);
    }

    #[test]
    fn a_long_queue_of_waiters_is_not_mistaken_for_a_step() {
        let dir = tempfile::tempdir().unwrap();
        let slots = AccountSlots::open(dir.path(), "AC1", &base()).unwrap();
        let interval = Duration::from_secs(1);
        let now = SystemTime::now();
        let taken: Vec<_> = (0..100)
            .map(|_| slots.take_locked(now, interval).unwrap())
            .collect();
        assert_eq!(taken[99].duration_since(now).unwrap(), interval * 99);
    }

    #[test]
    fn a_slot_given_back_is_taken_again_but_never_before_now() {
        let dir = tempfile::tempdir().unwrap();
        let slots = AccountSlots::open(dir.path(), "AC1", &base()).unwrap();
        let interval = Duration::from_secs(1);
        let now = SystemTime::now();
        for _ in 0..3 {
            slots.take_locked(now, interval).unwrap();
        }
        slots.give_back_locked(now, interval).unwrap();
        assert_eq!(
            slots.take_locked(now, interval).unwrap(),
            now + interval * 2
        );
        for _ in 0..5 {
            slots.give_back_locked(now, interval).unwrap();
        }
        assert!(slots.take_locked(now, interval).unwrap() >= now);
    }
}
