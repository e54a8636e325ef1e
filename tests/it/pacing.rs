//! Pacing end to end, judged where Twilio sees it: the sandbox queues what arrives faster than
//! the account's CPS and says so in `queue_time`. Two campaigns on one account share its CPS;
//! when the account is slower than configured, adaptive pacing slows down, and once it is fast
//! again climbs back to the CPS within seconds; checks of rows in doubt do not hold the dialing
//! up.

use crate::support::campaign::{
    TestCampaign, assert_nobody_called_twice, assert_resumed_runs_kept_the_cps,
    freeze_between_two_creates, most_creates_in_one_second, numbers, output, sandbox,
    until_creates,
};
use crate::support::exit::{DONE, STOPPED_EARLY};
use dialer::domain::Cps;
use dialer::sandbox::{Sandbox, SandboxConfig, SandboxStats};
use std::time::Duration;

const ACCOUNT_CPS: u32 = 3;
const CAMPAIGN_CPS: u32 = 15;
const ROWS: usize = 36;

/// One run of the whole list against a 3-CPS account with the campaign set to 15.
async fn dial_over_the_account_rate(adaptive: bool) -> (SandboxStats, String) {
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(ACCOUNT_CPS).unwrap(),
        seed: Some(1),
        ..SandboxConfig::ephemeral()
    })
    .await;
    let campaign = TestCampaign::new(
        CAMPAIGN_CPS,
        &numbers(ROWS),
        &format!("[pacing]\nadaptive = {adaptive}\n"),
    );

    let out = campaign.run(&sandbox, &["--progress-every", "1"]).await;

    assert_eq!(out.code, DONE, "{out:?}");
    assert_eq!(campaign.rows_in("created").await, ROWS);
    assert_nobody_called_twice(&sandbox);
    (sandbox.stats(), out.stdout)
}

#[tokio::test]
async fn adaptive_pacing_keeps_twilios_queue_short_when_the_account_is_slower_than_configured() {
    let (fixed, _) = dial_over_the_account_rate(false).await;
    let (adaptive, stdout) = dial_over_the_account_rate(true).await;

    // At a fixed 15 CPS the whole list is sent in ~2.4 s and the account, placing 3 a
    // second, has the last call waiting ~9.6 s. Adapting must at least halve that.
    let (fixed_max, adaptive_max) = (fixed.queue_time_ms.max, adaptive.queue_time_ms.max);
    eprintln!("queue_time max: fixed {fixed_max} ms, adaptive {adaptive_max} ms");
    assert!(
        fixed_max > 5_000,
        "without adaptation the queue grows: {fixed_max} ms"
    );
    assert!(
        adaptive_max * 2 < fixed_max,
        "adaptive pacing left a queue of {adaptive_max} ms (fixed rate: {fixed_max} ms)"
    );
    assert!(
        stdout.contains("(pacing at "),
        "the progress line shows the effective rate: {stdout}"
    );
}

#[tokio::test]
async fn two_campaigns_run_at_once_on_one_account_share_its_cps() {
    const CPS: u32 = 5;
    const ROWS: usize = 15;
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(CPS).unwrap(),
        seed: Some(1),
        ..SandboxConfig::ephemeral()
    })
    .await;
    // Each campaign says the account's full CPS; without sharing, together they would send
    // 10 a second and the last calls would wait ~3 s in Twilio's queue.
    let fixed = "[pacing]\nadaptive = false\n";
    let first = TestCampaign::new(CPS, &numbers(ROWS), fixed);
    // Other people, in another conference (both campaigns label their rows alike).
    let others: String = (0..ROWS)
        .map(|i| format!("+1415666{i:04},OtherRoom\n"))
        .collect();
    let second = TestCampaign::new(CPS, &format!("to,conference\n{others}"), fixed);

    let (a, b) = tokio::join!(
        output(first.command(&sandbox, &[]).spawn().unwrap()),
        output(second.command(&sandbox, &[]).spawn().unwrap()),
    );

    assert_eq!((a.code, b.code), (DONE, DONE), "{a:?} {b:?}");
    let stats = sandbox.stats();
    assert_eq!(stats.creates, (2 * ROWS) as u64);
    assert_nobody_called_twice(&sandbox);
    assert!(
        stats.queue_time_ms.max < 1_000,
        "calls queued at Twilio for up to {} ms: the two runs exceeded the account's CPS together",
        stats.queue_time_ms.max
    );
}

/// The account's CPS in the tests that slow it down, and the campaign's.
pub(crate) const FULL_CPS: u32 = 20;
/// Enough people for about 25 seconds of dialing at the full CPS.
pub(crate) const SLOWED_ROWS: usize = 500;
const SLOW_FOR: Duration = Duration::from_secs(5);

/// Once dialing is well under way, the account places half its CPS for five seconds (Twilio
/// queues what arrives faster), then all of it again.
pub(crate) async fn halve_the_accounts_rate_for_five_seconds(sandbox: &Sandbox) {
    until_creates(sandbox, u64::from(FULL_CPS) * 5).await;
    sandbox.set_cps(Cps::new(FULL_CPS / 2).unwrap());
    tokio::time::sleep(SLOW_FOR).await;
    sandbox.set_cps(Cps::new(FULL_CPS).unwrap());
}

/// Every person called once; the account placed calls (a create's arrival plus its
/// `queue_time`) at 90% of what it could from the first call to the last (the slow seconds
/// counted at half); and never more than the CPS + 1 creates arrived in a second.
pub(crate) fn assert_the_account_got_its_cps(sandbox: &Sandbox) {
    assert_nobody_called_twice(sandbox);
    let stats = sandbox.stats();
    assert_eq!(stats.creates, SLOWED_ROWS as u64);
    let mut placed: Vec<u64> = (stats.create_times_ms.iter())
        .zip(&stats.queue_times_ms)
        .map(|(arrived, queued)| arrived + queued)
        .collect();
    placed.sort_unstable();
    let span = (placed[placed.len() - 1] - placed[0]) as f64 / 1000.0;
    let could_place = f64::from(FULL_CPS) * (span - SLOW_FOR.as_secs_f64() / 2.0);
    let share = (placed.len() - 1) as f64 / could_place;
    let most = most_creates_in_one_second(&stats);
    let by_second: Vec<u64> = stats.creates_per_second.iter().map(|(_, n)| *n).collect();
    eprintln!(
        "{share:.2} of the account's CPS over {span:.1} s; most in one second: {most}; \
         creates by second: {by_second:?}"
    );
    assert!(share >= 0.9, "the account got {share:.2} of its CPS");
    assert!(
        most <= FULL_CPS as usize + 1,
        "{most} creates in one second at CPS {FULL_CPS}"
    );
}

#[tokio::test]
async fn an_account_slowed_to_half_its_cps_for_five_seconds_gets_its_cps_back_within_seconds() {
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(FULL_CPS).unwrap(),
        seed: Some(1),
        ..SandboxConfig::ephemeral()
    })
    .await;
    let campaign = TestCampaign::new(FULL_CPS, &numbers(SLOWED_ROWS), "");
    let run = campaign.command(&sandbox, &[]).spawn().unwrap();

    halve_the_accounts_rate_for_five_seconds(&sandbox).await;
    let out = output(run).await;

    assert_eq!(out.code, DONE, "{out:?}");
    assert_the_account_got_its_cps(&sandbox);
}

/// Three runs of three campaigns on one account, sharing its CPS through this machine's slot
/// file, frozen together (SIGSTOP) while they wait for their slots, then resumed: none sends
/// on the slot it missed, so the second they resume in holds no more than the account's CPS.
#[tokio::test]
async fn runs_frozen_together_and_resumed_keep_the_accounts_cps() {
    const CPS: u32 = 10;
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(CPS).unwrap(),
        seed: Some(1),
        ..SandboxConfig::ephemeral()
    })
    .await;
    // Other people in each campaign, each in a conference of its own.
    let campaigns: Vec<TestCampaign> = (0..3)
        .map(|k| {
            let list: String = (0..20)
                .map(|i| format!("+141566{k}{i:04},Room{k}\n"))
                .collect();
            let list = format!("to,conference\n{list}");
            TestCampaign::new(CPS, &list, "[pacing]\nadaptive = false\n")
        })
        .collect();
    let runs: Vec<_> = campaigns
        .iter()
        .map(|c| c.command(&sandbox, &[]).spawn().unwrap())
        .collect();
    until_creates(&sandbox, 10).await;

    // Act
    let pids: Vec<u32> = runs.iter().filter_map(|run| run.id()).collect();
    freeze_between_two_creates(&pids).await;
    let mut outs = Vec::new();
    for run in runs {
        outs.push(output(run).await);
    }

    // Assert
    assert_resumed_runs_kept_the_cps(&outs, &sandbox, 60, CPS as usize);
}

/// Rows left in doubt by a run that died mid-request are checked with Twilio before any
/// re-dial. The checks are API requests like any other, beside the dialing; after each row's
/// own first look, one read of the call log answers for all of them, so a batch of them costs
/// a request or two, not one after another per row, and does not hold the pace up.
#[tokio::test]
async fn rows_in_doubt_are_checked_together_by_one_read_of_the_call_log_beside_the_dialing() {
    const IN_DOUBT: usize = 16;
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(1).unwrap(),
        latency_ms: 200,
        ..SandboxConfig::ephemeral()
    })
    .await;
    let campaign = TestCampaign::new(1, &numbers(IN_DOUBT), "");
    // Imported, then claimed as a run does just before sending: as if killed mid-request.
    assert_eq!(campaign.manage(&["campaign", "pause"]).await.code, DONE);
    assert_eq!(campaign.run(&sandbox, &["-q"]).await.code, STOPPED_EARLY);
    let store = campaign.open_store().await;
    for _ in 0..IN_DOUBT {
        store.claim_next().await.unwrap().expect("a pending row");
    }
    drop(store);
    assert_eq!(campaign.manage(&["campaign", "resume"]).await.code, DONE);

    // Long enough for every row's first look and a shared read or two, too short to dial all.
    let out = campaign.run(&sandbox, &["--deadline", "8s"]).await;

    assert_eq!(out.code, STOPPED_EARLY, "stopped by the deadline: {out:?}");
    let stats = sandbox.stats();
    assert_eq!(
        campaign.rows_in("unknown").await,
        0,
        "every row was checked"
    );
    let reads = stats.requests_by_kind.get("call log").copied().unwrap_or(0);
    assert!(
        (1..=4).contains(&reads),
        "{reads} reads of the call log for {IN_DOUBT} rows in doubt: {stats:?}"
    );
    assert!(stats.creates >= 1, "dialing went on: {stats:?}");
    assert_nobody_called_twice(&sandbox);
}

/// 10% of creates refused at random with 20429 while Twilio queues nothing: the refusals are
/// not caused by our rate or our concurrency, so neither is lowered.
#[tokio::test]
async fn a_steady_share_of_random_429s_with_a_clear_queue_lowers_neither_rate_nor_concurrency() {
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(30).unwrap(),
        share_429: 0.10,
        latency_ms: 100,
        seed: Some(3),
        ..SandboxConfig::ephemeral()
    })
    .await;
    let campaign = TestCampaign::new(30, &numbers(240), "");

    let out = campaign.run(&sandbox, &["--progress-every", "1"]).await;

    assert_eq!(out.code, DONE, "{out:?}");
    assert!(sandbox.stats().too_many_requests > 10, "429s were injected");
    assert_nobody_called_twice(&sandbox);
    for held in ["pacing at", "in flight capped"] {
        assert!(!out.stdout.contains(held), "{held}: {}", out.stdout);
    }
}

/// An account that takes 3 requests at once, answering each in 200 ms: at 30 CPS about 6
/// would be in flight, and those beyond 3 are refused. Adapting lowers requests in flight.
#[tokio::test]
async fn a_real_concurrency_limit_lowers_requests_in_flight_and_the_429s_fall() {
    async fn refusals(adaptive: bool) -> (u64, String) {
        let sandbox = sandbox(SandboxConfig {
            cps: Cps::new(30).unwrap(),
            max_in_flight: 3,
            latency_ms: 200,
            seed: Some(3),
            ..SandboxConfig::ephemeral()
        })
        .await;
        let extra = format!("max_attempts = 10\n[pacing]\nadaptive = {adaptive}\n");
        let campaign = TestCampaign::new(30, &numbers(150), &extra);
        let out = campaign.run(&sandbox, &["--progress-every", "1"]).await;
        assert_eq!(out.code, DONE, "{out:?}");
        assert_nobody_called_twice(&sandbox);
        (sandbox.stats().too_many_requests, out.stdout)
    }

    let (fixed, _) = refusals(false).await;
    let (adapted, stdout) = refusals(true).await;

    eprintln!("429s: fixed {fixed}, adaptive {adapted}");
    assert!(
        adapted * 3 < fixed * 2,
        "adapting cuts the 429s by a third at least: {adapted} against {fixed}"
    );
    let capped = stdout
        .split("in flight capped at ")
        .filter_map(|rest| rest.split(':').next()?.parse::<u32>().ok())
        .min();
    assert!(
        capped.is_some_and(|c| c <= 4),
        "requests in flight came down to the account's 3: {stdout}"
    );
}

/// The account's slot file says the next slot is an hour away, as it does after the system
/// clock was stepped back an hour: the run sees that no schedule explains it and dials now.
#[tokio::test]
async fn a_slot_file_an_hour_ahead_after_a_clock_step_does_not_hold_the_run() {
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(10).unwrap(),
        ..SandboxConfig::ephemeral()
    })
    .await;
    let campaign = TestCampaign::new(10, &numbers(10), "");
    let tmp = tempfile::tempdir().unwrap();
    let base: url::Url = sandbox.base_url().parse().unwrap();
    let file = tmp.path().join(format!(
        "dialer-{}-{}-{}.slots",
        dialer::sandbox::DEMO_ACCOUNT_SID,
        base.host_str().unwrap(),
        base.port().unwrap()
    ));
    let hour_ahead = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    let nanos = hour_ahead
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    std::fs::write(&file, nanos.to_le_bytes()).unwrap();

    let child = campaign
        .command(&sandbox, &["--deadline", "30s"])
        .env("TMPDIR", tmp.path())
        .spawn()
        .unwrap();
    let out = output(child).await;

    assert_eq!(out.code, DONE, "{out:?}");
    assert_eq!(sandbox.stats().creates, 10);
    assert!(
        out.stderr.contains("pacing restarts from now"),
        "the step is said once: {}",
        out.stderr
    );
}
