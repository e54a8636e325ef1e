//! A cron campaign's report: three runs on three days, five new people each day. Its rate is
//! taken over the minutes spent dialing, not the days between them; each run is listed with
//! what it sent; and its charts cut the idle days out instead of drawing across them.

use crate::support::campaign::{TestCampaign, numbers, sandbox, sandbox_config};
use crate::support::exit::DONE;
use dialer::domain::Cps;
use dialer::sandbox::SandboxConfig;

const DAY_MS: i64 = 86_400_000;

#[tokio::test]
async fn a_three_day_cron_campaign_is_reported_run_by_run_over_its_time_spent_dialing() {
    // Arrange: three runs at CPS 5, each dialing the five people appended since the one
    // before; then the first two moved one and two days back, as a daily cron would have
    // made them.
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(5).unwrap(),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(5, &numbers(5), "");
    for day in 0..3 {
        if day > 0 {
            let more: String = (0..5)
                .map(|i| format!("+1415556{:04}\n", day * 5 + i))
                .collect();
            campaign.append(&more);
        }
        let run = campaign.run(&sandbox, &[]).await;
        assert_eq!(run.code, DONE, "{run:?}");
    }
    move_runs_back(&campaign).await;
    let page = campaign.dir.path().join("report.html");

    // Act
    let json = campaign.manage(&["report", "--json"]).await;
    let text = campaign.manage(&["report"]).await;
    let html = campaign
        .manage(&["report", "--html", page.to_str().unwrap()])
        .await;

    // Assert: each run with its own requests, calls and exit.
    assert_eq!(json.code, DONE, "{json:?}");
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let runs = report["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 3, "{runs:?}");
    for run in runs {
        assert_eq!(run["requests"], 5, "{run}");
        assert_eq!(run["created"], 5, "{run}");
        assert_eq!(run["exit_code"], 0, "{run}");
        assert_eq!(run["ending"], "finished", "{run}");
        assert!(
            run["host"].is_string() && run["finished_at"].is_string(),
            "{run}"
        );
        let rate = run["created_per_sec"].as_f64().unwrap();
        assert!(rate > 2.5 && rate <= 5.5, "{run}");
    }
    let started: Vec<&str> = runs
        .iter()
        .map(|r| r["started_at"].as_str().unwrap())
        .collect();
    assert!(
        started[0] < started[1] && started[1] < started[2],
        "{started:?}"
    );

    // The rate over the seconds spent dialing: three spells of about a second, not two days.
    assert_eq!(report["dialing_spells"], 3);
    let secs = report["duration_secs"].as_f64().unwrap();
    assert!(secs > 2.0 && secs < 60.0, "{secs} s of dialing");
    let rate = report["achieved_cps"].as_f64().unwrap();
    assert!(rate > 2.5 && rate <= 5.5, "{rate} calls/s at CPS 5");

    // The text: the runs' table, and the rate said to leave the idle time out.
    assert_eq!(text.code, DONE, "{text:?}");
    assert!(text.stdout.contains("\nruns: 3\n"), "{}", text.stdout);
    assert!(text.stdout.contains("started (UTC)"), "{}", text.stdout);
    assert_eq!(
        text.stdout.matches(" 0 finished\n").count(),
        3,
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("in 3 spells, the idle time between them left out"),
        "{}",
        text.stdout
    );

    // The page: the runs' table, and both time charts cut at the two idle days.
    assert_eq!(html.code, DONE, "{html:?}");
    let page = std::fs::read_to_string(&page).unwrap().replace('\n', "");
    let runs_table = section(&page, "runs");
    assert_eq!(runs_table.matches("<tr>").count(), 4, "{runs_table}");
    for chart in ["requests-per-second", "queue-time"] {
        let chart = section(&page, chart);
        assert_eq!(chart.matches(">idle<").count(), 2, "{chart}");
        assert!(chart.contains("idle gaps cut out"), "{chart}");
        assert!(
            chart.matches(">23 h 59 min<").count() + chart.matches(">1 d 0 h<").count() == 2,
            "{chart}"
        );
    }
    let pacing = section(&page, "requests-per-second");
    assert_eq!(
        pacing.matches(r##"stroke="#D62728""##).count(),
        1 + 3,
        "the legend's, then the CPS line over each spell, not across the days: {pacing}"
    );
}

/// Moves the first run (its record and its attempts) two days back, the second one day.
async fn move_runs_back(campaign: &TestCampaign) {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", campaign.db.display()))
        .await
        .unwrap();
    let holders: Vec<String> = sqlx::query_scalar("SELECT holder FROM runs ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(holders.len(), 3);
    for (holder, days) in holders.iter().zip([2, 1]) {
        let back = days * DAY_MS;
        sqlx::query(
            "UPDATE runs SET started_at = started_at - ?1, finished_at = finished_at - ?1
             WHERE holder = ?2",
        )
        .bind(back)
        .bind(holder)
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "UPDATE attempts SET started_at = started_at - ?1, finished_at = finished_at - ?1
             WHERE holder = ?2",
        )
        .bind(back)
        .bind(holder)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;
}

/// The page's `<section id="{id}">`, up to its end.
fn section<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id}"));
    let end = page[start..]
        .find("</section>")
        .map_or(page.len(), |e| start + e);
    &page[start..end]
}
