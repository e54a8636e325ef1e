//! Several campaign files on one SQLite file: first runs started together all bring it up to
//! date, and two names of one file (a symlink) are one campaign database with one lock.

use crate::support::campaign::{assert_nobody_called_twice, dialer_at, output, sandbox};
use crate::support::exit::{DONE, LOCKED};
use dialer::domain::Cps;
use dialer::sandbox::{Sandbox, SandboxConfig};
use dialer::store::{Database, Store};
use std::path::{Path, PathBuf};

/// A campaign file `<name>.toml` in `dir` whose rows live in `database`, over `count`
/// numbers of its own (`first` is the first one's index).
fn campaign_file(dir: &Path, name: &str, database: &str, first: usize, count: usize) -> PathBuf {
    let list = format!("{name}.csv");
    let numbers: String = (first..first + count)
        .map(|i| format!("+1415555{i:04}\n"))
        .collect();
    std::fs::write(dir.join(&list), format!("to\n{numbers}")).expect("write list");
    let file = dir.join(format!("{name}.toml"));
    let text = format!(
        "[campaign]\nname = \"{name}\"\nlist = \"{list}\"\nconference = \"Room\"\nfrom = \"+15017122661\"\ncps = 5\n\
         [database]\npath = \"{database}\"\n\
         [retry]\ninitial = \"50ms\"\nmax = \"200ms\"\nmultiplier = 2.0\njitter = false\nreconcile_after = \"100ms\"\ncall_log_grace = \"300ms\"\n\
         [twilio]\nrequest_timeout = \"1s\"\n[law]\ntelemarketing = false\n"
    );
    std::fs::write(&file, text).expect("write campaign");
    file
}

async fn sandbox_at_30_cps() -> Sandbox {
    sandbox(SandboxConfig {
        cps: Cps::new(30).unwrap(),
        seed: Some(1),
        ..SandboxConfig::ephemeral()
    })
    .await
}

#[tokio::test]
async fn first_runs_of_six_campaigns_on_one_new_file_all_bring_it_up_to_date_and_dial_once() {
    let sandbox = sandbox_at_30_cps().await;
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<_> = (0..6)
        .map(|i| campaign_file(dir.path(), &format!("c{i}"), "shared.sqlite", i * 10, 4))
        .collect();

    let runs = files.iter().map(|file| {
        let child = dialer_at(&sandbox, &["run"]).arg(file).spawn().unwrap();
        output(child)
    });
    let outs = futures::future::join_all(runs).await;

    for out in &outs {
        assert_eq!(out.code, DONE, "{out:?}");
    }
    assert_eq!(sandbox.stats().creates, 24);
    assert_nobody_called_twice(&sandbox);
}

#[tokio::test]
async fn a_run_through_a_symlink_to_the_database_takes_the_same_lock() {
    let sandbox = sandbox_at_30_cps().await;
    let dir = tempfile::tempdir().unwrap();
    let real = campaign_file(dir.path(), "spring", "spring.sqlite", 0, 10);
    let alias_dir = dir.path().join("alias");
    std::fs::create_dir(&alias_dir).unwrap();
    std::os::unix::fs::symlink(dir.path().join("spring.sqlite"), alias_dir.join("s.sqlite"))
        .unwrap();
    let alias = campaign_file(&alias_dir, "spring", "s.sqlite", 0, 10);
    // The file exists before the runs, so both open it rather than race to create it.
    let database = Database::Sqlite(dir.path().join("spring.sqlite"));
    Store::open(&database, "spring")
        .await
        .unwrap()
        .close()
        .await;

    let first = dialer_at(&sandbox, &["run"]).arg(&real).spawn().unwrap();
    let second = dialer_at(&sandbox, &["run"]).arg(&alias).spawn().unwrap();
    let (a, b) = tokio::join!(output(first), output(second));

    let mut codes = [a.code, b.code];
    codes.sort();
    assert_eq!(codes, [DONE, LOCKED], "{a:?} {b:?}");
    let refused = if a.code == LOCKED { &a } else { &b };
    assert!(
        refused
            .stderr
            .contains("another run of \"spring\" holds the lock"),
        "{refused:?}"
    );
    assert_eq!(sandbox.stats().creates, 10);
    assert_nobody_called_twice(&sandbox);
}
