//! `dialer worker`: campaigns dialed again and again until SIGTERM, with the rows appended to
//! a list and the campaign files added to a folder picked up as it goes.

use crate::support::campaign::{
    TestCampaign, assert_nobody_called_twice, dialer_at, numbers, output, sandbox, sandbox_config,
    until_creates,
};
use crate::support::exit::{CONFIG, DONE};
use dialer::domain::Cps;
use dialer::sandbox::SandboxConfig;

#[tokio::test]
async fn a_worker_dials_new_rows_and_new_campaigns_until_sigterm_then_exits_0() {
    // Arrange: a folder holding one campaign file.
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(30).unwrap(),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(30, &numbers(5), "");
    let folder = campaign.dir.path();
    let mut worker = dialer_at(&sandbox, &["worker"]);
    worker
        .arg(folder)
        .args(["--idle", "200ms", "--rescan", "300ms"]);
    let child = worker.spawn().expect("dialer starts");

    // Act: more people on the list, then a second campaign in the folder.
    until_creates(&sandbox, 5).await;
    campaign.append("+14155559000\n+14155559001\n");
    until_creates(&sandbox, 7).await;
    let second = std::fs::read_to_string(&campaign.file)
        .unwrap()
        .replace("name = \"test\"", "name = \"second\"")
        .replace("list = \"list.csv\"", "list = \"second.csv\"");
    std::fs::write(
        folder.join("second.csv"),
        "to\n+14156660001\n+14156660002\n",
    )
    .unwrap();
    std::fs::write(folder.join("second.toml"), second).unwrap();
    until_creates(&sandbox, 9).await;
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let out = output(child).await;

    // Assert
    assert_eq!(out.code, DONE, "{out:?}");
    assert_nobody_called_twice(&sandbox);
    assert_eq!(sandbox.stats().creates, 9);
    assert_eq!(campaign.rows_in("created").await, 7);
}

#[tokio::test]
async fn a_worker_with_a_bad_campaign_file_fails_before_any_call() {
    // Arrange
    let sandbox = sandbox(sandbox_config()).await;
    let good = TestCampaign::new(10, &numbers(3), "");
    let bad = TestCampaign::new(31, &numbers(3), "");

    // Act
    let mut worker = dialer_at(&sandbox, &["worker"]);
    worker.arg(&good.file).arg(&bad.file);
    let out = output(worker.spawn().expect("dialer starts")).await;

    // Assert
    assert_eq!(out.code, CONFIG, "{out:?}");
    assert_eq!(sandbox.stats().creates, 0);
}

/// Two campaigns of one account in one worker share the account's pacer, and with it the
/// account's schedule in the database: the first campaign's run ending must not close what the
/// other one still paces with.
#[tokio::test]
async fn two_campaigns_of_one_account_in_one_worker_on_postgres_both_finish_when_one_ends_first() {
    // Arrange: a short campaign and a long one, in one folder, on one shared database.
    let db = crate::support::postgres::fresh_database().await;
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(10).unwrap(),
        ..sandbox_config()
    })
    .await;
    let short = TestCampaign::new(
        10,
        &numbers(10),
        &format!("[database]\nurl = \"{}\"\n", db.url),
    );
    let folder = short.dir.path();
    let long = std::fs::read_to_string(&short.file)
        .unwrap()
        .replace("name = \"test\"", "name = \"long\"")
        .replace("list = \"list.csv\"", "list = \"long.csv\"");
    let long_list: String = std::iter::once("to\n".to_owned())
        .chain((0..30).map(|i| format!("+1415666{i:04}\n")))
        .collect();
    std::fs::write(folder.join("long.csv"), long_list).unwrap();

    // Act: the long campaign starts while the short one dials, and so shares its pacer.
    let mut worker = dialer_at(&sandbox, &["worker"]);
    worker
        .arg(folder)
        .args(["--idle", "200ms", "--rescan", "100ms"]);
    let child = worker.spawn().expect("dialer starts");
    until_creates(&sandbox, 1).await;
    std::fs::write(folder.join("long.toml"), long).unwrap();
    for _ in 0..300 {
        if sandbox.stats().creates >= 40 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let out = output(child).await;

    // Assert
    assert_nobody_called_twice(&sandbox);
    assert_eq!(sandbox.stats().creates, 40, "{out:?}");
    assert!(!out.stderr.contains("closed pool"), "{}", out.stderr);
    assert_eq!(out.code, DONE, "{out:?}");
}
