//! What a person sees on a terminal: `dialer run` in a real one (a tmux pane), its screen read
//! again and again while it dials.

use crate::support::campaign::{TestCampaign, numbers, sandbox, sandbox_config};
use crate::support::exit::DONE;
use crate::support::tmux::Tmux;
use dialer::domain::Cps;
use dialer::sandbox::SandboxConfig;
use std::time::{Duration, Instant};

/// A line of the progress bar: its filled or empty cells.
fn is_bar(line: &str) -> bool {
    line.contains('█') || line.contains('░')
}

#[tokio::test]
async fn warnings_logged_during_a_run_print_above_one_live_bar_and_the_summary_below_none() {
    // A fifth of the answers are lost after the call was created: each is a warning mid-run.
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(20).unwrap(),
        share_drop: 0.2,
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(20, &numbers(40), "");
    let run = campaign.command(&sandbox, &[]);

    let tmux = Tmux::start(run.as_std(), 160, 40);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut screens = Vec::new();
    loop {
        let ended = tmux.exit_code().is_some();
        let screen = tmux.screen().await;
        let summary = screen.iter().any(|l| l.starts_with("summary: "));
        screens.push(screen);
        if ended && summary {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no summary within a minute:\n{}",
            screens.last().unwrap().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let last = screens.last().unwrap().join("\n");
    assert_eq!(tmux.exit_code(), DONE, "{last}");
    if let Some(screen) = screens
        .iter()
        .find(|s| s.iter().filter(|l| is_bar(l)).count() > 1)
    {
        panic!("more than one bar on screen:\n{}", screen.join("\n"));
    }
    let warning_above_the_bar = screens.iter().any(|s| {
        s.iter()
            .position(|l| is_bar(l))
            .is_some_and(|bar| s[..bar].iter().any(|l| l.contains(" WARN ")))
    });
    assert!(
        warning_above_the_bar,
        "no screen of {} showed a warning above the bar; the last:\n{last}",
        screens.len()
    );
    assert!(
        !last.lines().any(is_bar),
        "the bar is left under the summary:\n{last}"
    );
    let bars: Vec<&String> = screens.iter().flatten().filter(|l| is_bar(l)).collect();
    assert!(
        bars.iter()
            .any(|l| l.contains(" elapsed ") && l.contains(", eta ")),
        "no bar showed the time elapsed and an ETA: {bars:?}"
    );
    if let Some(bar) = bars.iter().find(|l| l.trim_end().ends_with(',')) {
        panic!("the bar ends in a comma: {bar}");
    }
}

#[tokio::test]
async fn ctrl_c_stops_the_run_and_leaves_no_bar_on_the_screen() {
    // Slow enough that the bar is on screen when Ctrl-C comes.
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(2).unwrap(),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(2, &numbers(40), "");
    let tmux = Tmux::start(campaign.command(&sandbox, &[]).as_std(), 160, 40);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !tmux.screen().await.iter().any(|l| is_bar(l)) {
        assert!(Instant::now() < deadline, "no bar within a minute");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    tmux.send_keys("C-c");
    while tmux.exit_code().is_none() {
        assert!(
            Instant::now() < deadline,
            "still running a minute after Ctrl-C"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let screen = tmux.screen().await;
    let shown = screen.join("\n");
    assert!(
        screen.iter().any(|l| l.contains("stopped by a signal")),
        "{shown}"
    );
    assert!(
        !screen.iter().any(|l| is_bar(l)),
        "a bar is left on the screen:\n{shown}"
    );
}
