//! `dialer sync` learning outcomes from Twilio, and busy rows recycled by later runs.

use super::{created_calls, report_json, sync};
use crate::support::campaign::{TestCampaign, numbers, sandbox, sandbox_config};
use crate::support::exit::DONE;
use crate::support::sandbox::eventually;
use dialer::domain::Cps;
use dialer::sandbox::SandboxConfig;

#[tokio::test]
async fn sync_polls_twilio_for_outcomes_when_no_receiver_is_configured() {
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(30).unwrap(),
        busy: 0.5,
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(30, &numbers(6), "");
    assert_eq!(campaign.run(&sandbox, &[]).await.code, DONE);

    let out = sync(&campaign, &sandbox).await;

    assert_eq!(out.code, DONE, "{out:?}");
    assert!(
        out.stdout.contains("every call has ended"),
        "{}",
        out.stdout
    );
    let rows = campaign.rows().await;
    assert!(
        rows.iter().all(|r| matches!(
            r.call_status.map(|s| s.as_str()),
            Some("completed" | "busy")
        )),
        "{rows:?}"
    );
    let report = report_json(&campaign, &sandbox).await;
    let calls = &report["calls"];
    assert_eq!(
        calls["completed"].as_u64().unwrap() + calls["busy"].as_u64().unwrap(),
        6,
        "{calls}"
    );
    assert_eq!(calls["awaiting"], 0);
}

#[tokio::test]
async fn busy_rows_are_called_again_after_their_delay_and_never_beyond_max_attempts() {
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(30).unwrap(),
        busy: 1.0,
        ..sandbox_config()
    })
    .await;
    let extra = "max_attempts = 2\n[recycle]\nbusy = \"2s\"\n";
    let campaign = TestCampaign::new(30, &numbers(3), extra);
    campaign.run(&sandbox, &[]).await;
    assert_eq!(sync(&campaign, &sandbox).await.code, DONE);
    assert_eq!(
        campaign.rows_in("pending").await,
        3,
        "recycled after the busy outcome"
    );

    campaign.run(&sandbox, &[]).await;
    let right_away = created_calls(&sandbox);
    let dialed_again = eventually(|| async {
        campaign.run(&sandbox, &[]).await;
        created_calls(&sandbox) == 6
    });
    assert!(dialed_again.await, "the recycled rows are dialed again");
    assert_eq!(sync(&campaign, &sandbox).await.code, DONE);
    campaign.run(&sandbox, &[]).await;

    assert_eq!(right_away, 3, "not before the delay");
    assert_eq!(created_calls(&sandbox), 6, "max_attempts = 2");
    for row in campaign.rows().await {
        assert_eq!(
            (row.state.as_str(), row.attempts),
            ("created", 2),
            "{row:?}"
        );
        assert_eq!(row.call_status.map(|s| s.as_str()), Some("busy"));
    }
    let report = report_json(&campaign, &sandbox).await;
    assert_eq!(
        report["calls"]["busy"], 6,
        "both calls of every row stay in the history"
    );
}

#[tokio::test]
async fn a_run_asks_how_older_calls_ended_beside_the_dialing_and_ends_with_its_dialing() {
    // At 2 CPS, 26 rows take 12.5 s: the first calls are 10 s old while the run still dials.
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(2).unwrap(),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(2, &numbers(26), "");

    let out = campaign.run(&sandbox, &[]).await;

    assert_eq!(out.code, DONE, "{out:?}");
    let rows = campaign.rows().await;
    let (first, last) = (&rows[0], &rows[rows.len() - 1]);
    assert_eq!(
        first.call_status.map(|s| s.as_str()),
        Some("completed"),
        "asked about during the run: {first:?}"
    );
    assert_eq!(
        last.call_status, None,
        "too young to ask about, and the run did not wait for it: {last:?}"
    );
}
