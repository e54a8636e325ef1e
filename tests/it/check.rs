//! `dialer check`: a campaign and its whole list judged as a run would judge them, with no
//! credentials, no Twilio, and the campaign's database left alone.

use crate::support::campaign::TestCampaign;
use crate::support::exit::{CONFIG, DONE, DONE_WITH_FAILURES};

#[tokio::test]
async fn a_list_with_bad_lines_is_reported_line_by_line_and_nothing_is_written_to_the_campaign() {
    let campaign = TestCampaign::new(
        30,
        "to,timeout\n+14155550001,20\n+14155550002,4\n12345,\n+14155550001,\n",
        "",
    );

    let out = campaign.manage(&["check"]).await;

    assert_eq!(out.code, DONE_WITH_FAILURES, "{out:?}");
    assert!(
        out.stdout.contains(
            "campaign \"test\" is valid; its list has 4 lines: 1 to dial, 2 rejected, 1 duplicates"
        ),
        "{}",
        out.stdout
    );
    for expected in [
        "list.csv:3: invalid Timeout: must be from 5 to 600, got 4",
        "list.csv:4: invalid to",
        "list.csv:5: duplicate of line 2",
    ] {
        assert!(
            out.stderr.contains(expected),
            "{expected:?} in {}",
            out.stderr
        );
    }
    assert!(campaign.dir.path().join("list.rejects.csv").exists());
    assert!(
        !campaign.db.exists(),
        "the campaign's database is not created"
    );
}

#[tokio::test]
async fn a_good_campaign_exits_zero_and_a_bad_one_two() {
    let good = TestCampaign::new(30, "to\n+14155550001\n+14155550002\n", "");
    let out = good.manage(&["check"]).await;
    assert_eq!(out.code, DONE, "{out:?}");
    assert!(
        out.stdout.contains("2 to dial, 0 rejected"),
        "{}",
        out.stdout
    );

    let bad = TestCampaign::new(31, "to\n+14155550001\n", "");
    let out = bad.manage(&["check"]).await;
    assert_eq!(out.code, CONFIG, "{out:?}");
    assert!(out.stderr.contains("campaign.cps"), "{}", out.stderr);
}

#[tokio::test]
async fn a_database_path_a_run_could_not_write_fails_the_check() {
    for path in ["no-such-folder/c.sqlite", "."] {
        let campaign = TestCampaign::new(
            30,
            "to\n+14155550001\n",
            &format!("[database]\npath = \"{path}\""),
        );

        let out = campaign.manage(&["check"]).await;

        assert_eq!(out.code, CONFIG, "{path}: {out:?}");
        assert!(
            out.stderr.contains("database.path") && out.stderr.contains("cannot be written"),
            "{path}: {}",
            out.stderr
        );
    }
}
