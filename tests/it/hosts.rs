//! Several hosts on one PostgreSQL database: each host a real `dialer` process with a TMPDIR
//! of its own (as separate machines have, so no slot file is shared), all on one sandbox
//! account. Each test judges by the sandbox's own record that nobody was called twice, and by
//! the database that every row ended once.

use crate::pacing::{
    FULL_CPS, SLOWED_ROWS, assert_the_account_got_its_cps, halve_the_accounts_rate_for_five_seconds,
};
use crate::support::campaign::{
    RunOutput, TestCampaign, assert_nobody_called_twice, assert_resumed_runs_kept_the_cps,
    freeze_between_two_creates, most_creates_in_one_second, numbers, output, sandbox,
    sandbox_config, until_creates,
};
use crate::support::exit::{DONE, DONE_WITH_FAILURES, STOPPED_EARLY};
use crate::support::faketime::skewed;
use crate::support::postgres::{PgServer, PgTestDb, fresh_database};
use dialer::domain::Cps;
use dialer::sandbox::{Sandbox, SandboxConfig};
use dialer::store::{Database, RowExport, Store};
use std::time::Duration;
use tempfile::TempDir;

/// A campaign on `db`, with a lease short enough for a test (the request timeout is 1 s).
pub(crate) fn campaign_on(db: &PgTestDb, cps: u32, rows: usize) -> TestCampaign {
    TestCampaign::new(
        cps,
        &numbers(rows),
        &format!("[database]\nurl = \"{}\"\nlease = \"3s\"\n", db.url),
    )
}

/// One host: `dialer run` on `campaign`, with a temporary directory of its own.
pub(crate) struct Host {
    child: tokio::process::Child,
    _tmp: TempDir,
}

impl Host {
    pub(crate) fn start(campaign: &TestCampaign, sandbox: &Sandbox) -> Self {
        Self::start_with_clock(campaign, sandbox, 0)
    }

    /// A host whose wall clock is `offset_secs` off the true time (ahead when positive).
    pub(crate) fn start_with_clock(
        campaign: &TestCampaign,
        sandbox: &Sandbox,
        offset_secs: i64,
    ) -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let mut command = campaign.command(sandbox, &[]);
        if offset_secs != 0 {
            command = skewed(command, offset_secs);
        }
        let child = command
            .env("TMPDIR", tmp.path())
            .spawn()
            .expect("dialer starts");
        Self { child, _tmp: tmp }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    pub(crate) fn signal(&self, signal: &str) {
        crate::support::campaign::signal(&[self.pid()], signal);
    }

    pub(crate) async fn finish(self) -> RunOutput {
        output(self.child).await
    }
}

pub(crate) async fn rows(db: &PgTestDb) -> Vec<RowExport> {
    let store = Store::open(&Database::Postgres(db.database_url()), "test")
        .await
        .expect("database opens");
    let rows = store.export_rows().await.expect("rows read");
    store.close().await;
    rows
}

pub(crate) async fn created(db: &PgTestDb) -> usize {
    rows(db)
        .await
        .iter()
        .filter(|r| r.state.as_str() == "created")
        .count()
}

/// Runs the campaign on one host until every row is settled (a row in doubt is checked
/// again by the next run), at most `runs` times.
async fn finish_on_one_host(campaign: &TestCampaign, sandbox: &Sandbox, db: &PgTestDb) {
    for _ in 0..5 {
        let out = Host::start(campaign, sandbox).finish().await;
        assert!(
            out.code == DONE || out.code == DONE_WITH_FAILURES,
            "{out:?}"
        );
        if rows(db).await.iter().all(|r| r.state.as_str() == "created") {
            return;
        }
    }
}

#[tokio::test]
async fn two_hosts_on_one_campaign_import_and_call_everyone_once_within_the_accounts_cps() {
    // Arrange
    let db = fresh_database().await;
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(10).unwrap(),
        ..sandbox_config()
    })
    .await;
    let campaign = campaign_on(&db, 10, 60);

    // Act: both import the same list and dial at once.
    let (a, b) = (
        Host::start(&campaign, &sandbox),
        Host::start(&campaign, &sandbox),
    );
    let (a, b) = (a.finish().await, b.finish().await);

    // Assert
    assert_eq!(a.code, DONE, "{a:?}");
    assert_eq!(b.code, DONE, "{b:?}");
    assert_nobody_called_twice(&sandbox);
    let stats = sandbox.stats();
    assert_eq!(stats.creates, 60);
    assert_eq!(rows(&db).await.len(), 60, "each person imported once");
    assert_eq!(created(&db).await, 60);
    let most = most_creates_in_one_second(&stats);
    assert!(most <= 11, "{most} creates in one second at CPS 10");
}

/// Three hosts frozen together (SIGSTOP, as a suspended VM or a saturated machine) while they
/// wait for their call slots, then resumed: each wakes far past its slot, and sending on it
/// would add one create per host to the second the schedule restarts in.
#[tokio::test]
async fn hosts_frozen_together_and_resumed_keep_the_accounts_cps() {
    // Arrange: a lease longer than the freeze, so the frozen hosts' rows are still theirs; a
    // fixed rate, so the hosts do not slow down when Twilio queues.
    let db = fresh_database().await;
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(10).unwrap(),
        ..sandbox_config()
    })
    .await;
    let extra = format!(
        "[pacing]\nadaptive = false\n[database]\nurl = \"{}\"\nlease = \"30s\"\n",
        db.url
    );
    let campaign = TestCampaign::new(10, &numbers(60), &extra);
    let hosts: Vec<Host> = (0..3).map(|_| Host::start(&campaign, &sandbox)).collect();
    until_creates(&sandbox, 10).await;

    // Act
    freeze_between_two_creates(&hosts.iter().map(Host::pid).collect::<Vec<_>>()).await;
    let mut outs = Vec::new();
    for host in hosts {
        outs.push(host.finish().await);
    }

    // Assert
    assert_resumed_runs_kept_the_cps(&outs, &sandbox, 60, 10);
}

/// Four hosts act on one estimate of the account's rate: none backs the account off to its
/// own share of the traffic, and all climb back together once Twilio's queue clears.
#[tokio::test]
async fn four_hosts_on_an_account_slowed_to_half_for_five_seconds_get_its_cps_back_together() {
    // Arrange
    let db = fresh_database().await;
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(FULL_CPS).unwrap(),
        ..sandbox_config()
    })
    .await;
    let campaign = campaign_on(&db, FULL_CPS, SLOWED_ROWS);
    let hosts: Vec<Host> = (0..4).map(|_| Host::start(&campaign, &sandbox)).collect();

    // Act
    halve_the_accounts_rate_for_five_seconds(&sandbox).await;
    let mut outs = Vec::new();
    for host in hosts {
        outs.push(host.finish().await);
    }

    // Assert
    for out in &outs {
        assert_eq!(out.code, DONE, "{out:?}");
    }
    assert_eq!(created(&db).await, SLOWED_ROWS);
    assert_the_account_got_its_cps(&sandbox);
}

#[tokio::test]
async fn hosts_killed_at_random_and_restarted_call_nobody_twice_and_lose_no_row() {
    // Arrange
    let db = fresh_database().await;
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(20).unwrap(),
        latency_ms: 150,
        latency_jitter_ms: 100,
        ..sandbox_config()
    })
    .await;
    let campaign = campaign_on(&db, 20, 150);
    let mut hosts: Vec<Host> = (0..3).map(|_| Host::start(&campaign, &sandbox)).collect();

    // Act: kill -9 one host at a random instant, start it again, twelve times.
    for round in 0..12u64 {
        tokio::time::sleep(Duration::from_millis(200 + (round * 137) % 500)).await;
        let victim = (round as usize * 7) % hosts.len();
        hosts[victim].signal("-KILL");
        let killed = std::mem::replace(&mut hosts[victim], Host::start(&campaign, &sandbox));
        let _ = killed.finish().await;
    }
    for host in hosts {
        host.signal("-KILL");
        let _ = host.finish().await;
    }
    // Rows the dead hosts held are taken over once their leases run out.
    finish_on_one_host(&campaign, &sandbox, &db).await;

    // Assert
    assert_nobody_called_twice(&sandbox);
    assert_eq!(created(&db).await, 150, "every row ended created, once");
    assert_eq!(sandbox.stats().creates, 150);
}

#[tokio::test]
async fn a_host_paused_past_its_lease_calls_nobody_a_second_time() {
    // Arrange: slow answers, so that the paused host has requests in flight.
    let db = fresh_database().await;
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(10).unwrap(),
        latency_ms: 400,
        ..sandbox_config()
    })
    .await;
    let campaign = campaign_on(&db, 10, 40);
    let paused = Host::start(&campaign, &sandbox);
    until_creates(&sandbox, 5).await;

    // Act: pause it (SIGSTOP) past its lease while another host does the campaign, then
    // let it go on.
    paused.signal("-STOP");
    let other = Host::start(&campaign, &sandbox).finish().await;
    paused.signal("-CONT");
    let resumed = paused.finish().await;

    // Assert
    assert!(
        other.code == DONE || other.code == DONE_WITH_FAILURES,
        "{other:?}"
    );
    assert!(resumed.code.is_some(), "{resumed:?}");
    finish_on_one_host(&campaign, &sandbox, &db).await;
    assert_nobody_called_twice(&sandbox);
    assert_eq!(created(&db).await, 40);
}

#[tokio::test]
async fn a_database_restarted_mid_run_is_waited_for_and_nobody_is_called_twice() {
    // Arrange: a server of this test's own, to restart.
    let server = PgServer::start();
    let db = server.fresh_database().await;
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(10).unwrap(),
        ..sandbox_config()
    })
    .await;
    let campaign = campaign_on(&db, 10, 50);
    let host = Host::start(&campaign, &sandbox);
    until_creates(&sandbox, 10).await;

    // Act: the database goes away for longer than a connection is waited for.
    server.stop();
    tokio::time::sleep(Duration::from_secs(5)).await;
    server.start_again();
    let out = host.finish().await;

    // Assert: the run waited for the database and went on.
    assert!(
        out.code == DONE || out.code == DONE_WITH_FAILURES,
        "{out:?}"
    );
    assert!(
        out.stderr.contains("waiting for the database"),
        "{}",
        out.stderr
    );
    finish_on_one_host(&campaign, &sandbox, &db).await;
    assert_nobody_called_twice(&sandbox);
    assert_eq!(created(&db).await, 50);
}

#[tokio::test]
async fn two_hosts_wait_out_a_twilio_outage_and_no_row_fails_or_is_called_twice() {
    // Arrange
    let db = fresh_database().await;
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(10).unwrap(),
        ..sandbox_config()
    })
    .await;
    let campaign = campaign_on(&db, 10, 40);
    let (a, b) = (
        Host::start(&campaign, &sandbox),
        Host::start(&campaign, &sandbox),
    );
    until_creates(&sandbox, 5).await;

    // Act: each host finds the outage out for itself.
    sandbox.refuse_connections_for(Duration::from_secs(20));
    let (a, b) = (a.finish().await, b.finish().await);

    // Assert
    for out in [&a, &b] {
        assert_eq!(out.code, DONE, "{out:?}");
    }
    assert!(
        [&a, &b]
            .iter()
            .any(|out| out.stderr.contains("Twilio unreachable since")),
        "{a:?} {b:?}"
    );
    assert_nobody_called_twice(&sandbox);
    assert_eq!(created(&db).await, 40);
    assert_eq!(sandbox.stats().creates, 40);
}

#[tokio::test]
async fn a_pause_from_any_host_stops_the_dialing_hosts_and_the_report_reads_the_shared_database() {
    // Arrange
    let db = fresh_database().await;
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(5).unwrap(),
        ..sandbox_config()
    })
    .await;
    let campaign = campaign_on(&db, 5, 60);
    let (a, b) = (
        Host::start(&campaign, &sandbox),
        Host::start(&campaign, &sandbox),
    );
    until_creates(&sandbox, 5).await;

    // Act: `dialer campaign pause` run without the hosts, then a report.
    let pause = campaign.manage(&["campaign", "pause"]).await;
    let (a, b) = (a.finish().await, b.finish().await);
    let report = campaign.manage(&["report", "--json"]).await;

    // Assert
    assert_eq!(pause.code, DONE, "{pause:?}");
    assert_eq!(a.code, STOPPED_EARLY, "{a:?}");
    assert_eq!(b.code, STOPPED_EARLY, "{b:?}");
    let created_now = created(&db).await;
    assert!(created_now < 60, "paused before the end");
    assert_eq!(created_now as u64, sandbox.stats().creates);
    assert_eq!(report.code, DONE, "{report:?}");
    let report: serde_json::Value = serde_json::from_str(&report.stdout).expect("JSON report");
    assert_eq!(report["states"]["created"], created_now);
    assert_eq!(report["states"]["rows"].as_u64().unwrap_or(60), 60);
}
