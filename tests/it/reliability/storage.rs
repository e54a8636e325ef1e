//! A database that cannot be written: the run stops with a clear error, and nobody is dialed
//! whose attempt is not on disk.
//!
//! How the disk is filled: a file-size limit (RLIMIT_FSIZE, `ulimit -f` in a POSIX `sh`, which
//! counts 512-byte blocks) on the dialer's process, with SIGXFSZ ignored so that a write past
//! the limit fails with EFBIG as a write to a full disk fails with ENOSPC. It works for any
//! user, root included, needs no mount and no hook in the dialer. SQLite reports EFBIG as a
//! disk I/O error rather than "database or disk is full"; both are the same failed write to
//! the dialer. A read-only database is checked too: by file mode, or for root (which ignores
//! modes) by the immutable attribute (`chattr +i`) where the filesystem has it.

#![cfg(unix)]

use super::{assert_recorded_before_dialed, check_database};
use crate::support::campaign::{
    RunOutput, TestCampaign, assert_nobody_called_twice, numbers, output, sandbox, sandbox_config,
};
use crate::support::exit::{DONE, ERROR, STOPPED_EARLY};
use dialer::domain::Cps;
use dialer::sandbox::{Sandbox, SandboxConfig};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

/// `command` run under a file-size limit of `bytes` (rounded down to 512-byte blocks).
fn with_file_size_limit(command: tokio::process::Command, bytes: u64) -> tokio::process::Command {
    let inner = command.as_std();
    let mut limited = tokio::process::Command::new("sh");
    limited
        .arg("-c")
        .arg(format!(
            "ulimit -f {} && trap '' XFSZ && exec \"$0\" \"$@\"",
            bytes / 512
        ))
        .arg(inner.get_program())
        .args(inner.get_args());
    for (key, value) in inner.get_envs() {
        match value {
            Some(value) => limited.env(key, value),
            None => limited.env_remove(key),
        };
    }
    limited
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    limited
}

/// A campaign of `rows` imported and closed cleanly (its WAL checkpointed away), not yet dialed.
async fn imported(sandbox: &Sandbox, rows: usize) -> TestCampaign {
    let campaign = TestCampaign::new(30, &numbers(rows), "");
    assert_eq!(campaign.manage(&["campaign", "pause"]).await.code, DONE);
    let first = campaign.run(sandbox, &["-q"]).await;
    assert_eq!(first.code, STOPPED_EARLY, "paused: {first:?}");
    assert_eq!(campaign.manage(&["campaign", "resume"]).await.code, DONE);
    assert_eq!(sandbox.stats().requests, 0);
    campaign
}

fn assert_clear_database_error(out: &RunOutput, campaign: &TestCampaign) {
    assert_eq!(out.code, ERROR, "{out:?}");
    assert!(
        out.stderr.contains("database") && out.stderr.contains(&*campaign.db.to_string_lossy()),
        "the error names the database file: {}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[tokio::test]
async fn a_disk_that_fills_mid_run_stops_it_with_every_call_recorded_and_the_next_run_finishes() {
    let rows = 60;
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(30).unwrap(),
        latency_ms: 20,
        ..sandbox_config()
    })
    .await;
    let campaign = imported(&sandbox, rows).await;

    // Room for the run's start and a few dozen commits in the WAL (each a few 4 KiB pages).
    let mut full = with_file_size_limit(campaign.command(&sandbox, &[]), 256 * 1024);
    let out = output(full.spawn().expect("sh starts")).await;

    assert_clear_database_error(&out, &campaign);
    let created = sandbox.stats().creates as usize;
    assert!(
        created > 0 && created < rows,
        "the disk filled mid-run ({created} of {rows} created): {out:?}"
    );
    let stored = check_database(&campaign.db).await;
    assert_recorded_before_dialed(&sandbox, &stored);

    let next = campaign.run(&sandbox, &[]).await;
    assert_eq!(next.code, DONE, "{next:?}");
    assert_eq!(campaign.rows_in("created").await, rows);
    assert_nobody_called_twice(&sandbox);
    assert_eq!(sandbox.stats().creates as usize, rows);
    eprintln!("storage: the disk filled after {created} of {rows} calls; the next run finished");
}

#[tokio::test]
async fn an_unwritable_database_stops_the_run_before_anyone_is_dialed() {
    let sandbox = sandbox(sandbox_config()).await;
    let campaign = imported(&sandbox, 5).await;

    let mut no_room = with_file_size_limit(campaign.command(&sandbox, &[]), 0);
    let out = output(no_room.spawn().expect("sh starts")).await;

    assert_clear_database_error(&out, &campaign);
    assert_eq!(sandbox.stats().requests, 0, "nothing was sent");
    let stored = check_database(&campaign.db).await;
    assert!(
        stored
            .values()
            .all(|r| r.state == "pending" && r.attempts == 0)
    );

    let read_only = std::fs::Permissions::from_mode(0o444);
    std::fs::set_permissions(&campaign.db, read_only).unwrap();
    // Root ignores file modes, not the immutable attribute.
    let _immutable = (!read_only_for_us(&campaign.db))
        .then(|| Immutable::set(&campaign.db))
        .flatten();
    if read_only_for_us(&campaign.db) {
        let out = campaign.run(&sandbox, &[]).await;
        assert_clear_database_error(&out, &campaign);
        assert_eq!(sandbox.stats().requests, 0, "nothing was sent");
    } else {
        eprintln!(
            "storage: neither file modes nor chattr +i hold for this user here; read-only not run"
        );
    }
}

fn read_only_for_us(path: &std::path::Path) -> bool {
    std::fs::OpenOptions::new().write(true).open(path).is_err()
}

/// `chattr +i` on a file for as long as this lives (where the filesystem has the attribute),
/// taken off again on drop so the temporary folder can be removed.
struct Immutable(std::path::PathBuf);

impl Immutable {
    fn set(path: &std::path::Path) -> Option<Self> {
        let set = std::process::Command::new("chattr")
            .arg("+i")
            .arg(path)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        set.then(|| Self(path.to_owned()))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(&self.0)
            .status();
    }
}

/// stderr a pipe that nobody reads (a stalled log shipper): once its buffer is full every
/// write to it would block, yet the run dials every row and ends.
#[tokio::test]
async fn a_log_nobody_reads_never_stalls_a_run() {
    let sandbox = crate::support::campaign::sandbox(dialer::sandbox::SandboxConfig {
        cps: dialer::domain::Cps::new(30).unwrap(),
        ..crate::support::campaign::sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(30, &numbers(400), "");

    // Every trace line of every crate: far more than the pipe and the log's buffer hold.
    let mut child = campaign
        .command(&sandbox, &[])
        .env("RUST_LOG", "trace")
        .spawn()
        .expect("dialer starts");
    let _unread = child.stderr.take();
    let status = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait())
        .await
        .expect("the run ends although its log is blocked")
        .unwrap();

    assert_eq!(status.code(), DONE);
    assert_eq!(campaign.rows_in("created").await, 400);
}
