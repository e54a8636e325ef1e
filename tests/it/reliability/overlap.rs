//! Two cron runs of one campaign started at the same instant, again and again: one dials, the
//! other exits with the lock code (5) before dialing anyone.

use super::{assert_recorded_before_dialed, check_database, scale};
use crate::support::campaign::{
    TestCampaign, assert_nobody_called_twice, numbers, output, sandbox, sandbox_config,
};
use crate::support::exit::{DONE, LOCKED};
use dialer::domain::Cps;
use dialer::sandbox::SandboxConfig;
use std::time::Instant;

/// Rows added before each pair of runs: at this CPS the winner holds the lock for over a
/// second, far longer than two processes started together take to reach it.
const ROWS_PER_ROUND: usize = 8;
const CPS: u32 = 8;

#[tokio::test]
async fn runs_started_together_one_dials_the_other_exits_locked_every_time() {
    let rounds = scale(3, 20);
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(CPS).unwrap(),
        latency_ms: 20,
        ..sandbox_config()
    })
    .await;
    let all = numbers(ROWS_PER_ROUND * rounds);
    let mut lines = all.lines().skip(1);
    let campaign = TestCampaign::new(CPS, "to\n", "");
    let started = Instant::now();

    for round in 1..=rounds {
        for to in lines.by_ref().take(ROWS_PER_ROUND) {
            campaign.append(&format!("{to}\n"));
        }
        let first = campaign.command(&sandbox, &["-q"]).spawn().unwrap();
        let second = campaign.command(&sandbox, &["-q"]).spawn().unwrap();
        let (a, b) = tokio::join!(output(first), output(second));

        let mut codes = [a.code, b.code];
        codes.sort();
        assert_eq!(codes, [DONE, LOCKED], "round {round}: {a:?} {b:?}");
        let loser = if a.code == LOCKED { &a } else { &b };
        assert!(
            loser.stderr.contains("holds the lock"),
            "round {round}: {}",
            loser.stderr
        );
        assert_eq!(
            sandbox.stats().creates as usize,
            ROWS_PER_ROUND * round,
            "round {round}: every new row dialed, once"
        );
        assert_nobody_called_twice(&sandbox);
    }

    let stored = check_database(&campaign.db).await;
    assert_recorded_before_dialed(&sandbox, &stored);
    assert!(
        stored
            .values()
            .all(|r| r.state == "created" && r.attempts == 1)
    );
    eprintln!(
        "overlap: {rounds} rounds of two runs started together, {} rows, {} creates, {:.1}s",
        stored.len(),
        sandbox.stats().creates,
        started.elapsed().as_secs_f64()
    );
}
