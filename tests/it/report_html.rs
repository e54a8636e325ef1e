//! `dialer report --html` as a campaign owner sees it: a real campaign on the sandbox, with
//! calls that end every way, numbers Twilio refuses and requests it turns away (429), its
//! outcomes learned by `dialer sync`; then the page, opened in headless Chromium.

use crate::support::campaign::{TestCampaign, numbers, sandbox, sandbox_config};
use crate::support::chromium::{accessibility_violations, render};
use crate::support::exit::{DONE, DONE_WITH_FAILURES, ERROR};
use dialer::domain::Cps;
use dialer::sandbox::SandboxConfig;

/// The page's background and the cards' and charts' white, which the eye reads as empty.
const BACKGROUND: [[u8; 3]; 2] = [[0xF3, 0xF5, 0xF8], [0xFF, 0xFF, 0xFF]];
/// The configured CPS line, and the bars of requests refused for good.
const RED: [u8; 3] = [0xD6, 0x27, 0x28];
/// Requests that created a call.
const BLUE: [u8; 3] = [0x1F, 0x77, 0xB4];

#[tokio::test]
async fn the_html_report_of_a_real_run_renders_offline_with_every_chart_and_the_counts() {
    // Arrange: 40 people at 10 CPS; the last ten have numbers Twilio refuses (21211), one
    // request in ten is turned away (20429), and calls end completed, busy, no-answer or failed.
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(10).unwrap(),
        share_429: 0.1,
        invalid_to_prefix: Some("+1415555003".into()),
        busy: 0.2,
        no_answer: 0.2,
        failed: 0.1,
        machine: 0.3,
        ..sandbox_config()
    })
    .await;
    let amd = "[participant]\nmachine_detection = \"Enable\"\n";
    let campaign = TestCampaign::new(10, &numbers(40), amd);
    let run = campaign.run(&sandbox, &[]).await;
    assert_eq!(run.code, DONE_WITH_FAILURES, "{run:?}");
    let sync = campaign
        .subcommand(&sandbox, "sync", &["--every", "1", "--deadline", "60s"])
        .spawn()
        .expect("dialer sync starts");
    let synced = crate::support::campaign::output(sync).await;
    assert_eq!(synced.code, DONE, "{synced:?}");
    let page = campaign.dir.path().join("report.html");

    // Act
    let out = campaign
        .manage(&["report", "--html", page.to_str().unwrap()])
        .await;
    let rendered = render(&page, (1200, 3600), campaign.dir.path());
    let violations = accessibility_violations(&page, campaign.dir.path());

    // Assert: a file made to be read offline and mailed.
    assert_eq!(out.code, DONE, "{out:?}");
    assert!(out.stderr.contains("report written to"), "{out:?}");
    let html = std::fs::read_to_string(&page).unwrap();
    for loaded in [
        "<script", "http://", "https://", "src=", "href=", "url(", "@import", "<link",
    ] {
        assert!(!html.contains(loaded), "the page holds {loaded:?}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(campaign.dir.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // The browser's DOM: each chart's SVG with its title, the CPS line, the error codes' bars.
    // (The SVG backend puts each text on lines of its own.)
    let dom = &rendered.dom.replace('\n', "");
    let pacing = section(dom, "requests-per-second");
    assert!(pacing.contains("Create requests per second"), "{pacing}");
    assert!(pacing.contains("CPS 10 (configured)"), "{pacing}");
    assert!(
        pacing.contains(r##"<polyline fill="none" opacity="1" stroke="#D62728""##),
        "{pacing}"
    );
    assert!(
        pacing.matches(r##"fill="#1F77B4""##).count() >= 4,
        "a bar a second: {pacing}"
    );
    let queuing = section(dom, "queue-time");
    assert!(
        queuing.contains("queue_time of the created calls"),
        "{queuing}"
    );
    assert!(queuing.contains("<polyline"), "{queuing}");
    let outcomes = section(dom, "outcomes");
    for status in [
        "completed",
        "busy",
        "no-answer",
        "failed",
        "canceled",
        "answered by a person",
        "answered by a machine",
    ] {
        assert!(
            outcomes.contains(&format!(">{status}</text>")),
            "{status}: {outcomes}"
        );
    }
    let hours = section(dom, "answer-rate");
    assert!(hours.contains("Answer rate by hour of the day"), "{hours}");
    assert!(hours.contains("hour of the day at the callee"), "{hours}");
    let errors = section(dom, "errors");
    assert!(errors.contains(">21211 Invalid"), "{errors}");
    assert!(errors.contains(">20429 "), "{errors}");
    assert!(errors.contains(r##"fill="#D62728""##) && errors.contains(r##"fill="#FF7F0E""##));
    let rows = campaign.rows().await;
    let created = rows
        .iter()
        .filter(|r| r.state.as_str() == "created")
        .count();
    let failed = rows.iter().filter(|r| r.state.as_str() == "failed").count();
    assert_eq!((created, failed), (30, 10));
    let counts = section(dom, "counts");
    assert!(
        counts.contains(r#"<div class="value">40</div><div class="label">on the list</div>"#),
        "{counts}"
    );
    assert!(
        counts.contains(r#"<div class="value">30</div><div class="label">calls created</div>"#),
        "{counts}"
    );
    assert!(
        counts.contains(r#"<div class="value">10</div><div class="label">failed</div>"#),
        "{counts}"
    );
    let not_called = section(dom, "not-called");
    assert!(
        not_called.contains("10 list lines have no call."),
        "{not_called}"
    );
    assert!(not_called.contains("+14155550030"), "{not_called}");
    assert_eq!(dom.matches("<svg").count(), 5);

    // Accessible: axe-core finds nothing wrong, and each chart has a name saying what it shows.
    assert!(violations.is_empty(), "{}", violations.join("\n"));
    assert!(
        pacing.contains(r#"role="img" aria-label="Create requests per second""#),
        "{pacing}"
    );
    assert_eq!(dom.matches(r#"<svg aria-describedby="#).count(), 5);

    // The screenshot: drawn, in colour, with the charts' own colours on it.
    let shot = &rendered.screenshot;
    assert_eq!((shot.width, shot.height), (1200, 3600));
    let drawn = shot
        .pixels
        .iter()
        .filter(|p| !BACKGROUND.contains(p))
        .count();
    let share = drawn as f64 / shot.pixels.len() as f64;
    assert!(
        share > 0.03,
        "only {:.1}% of the page is drawn",
        share * 100.0
    );
    assert!(
        shot.distinct_colors() > 100,
        "{} colours",
        shot.distinct_colors()
    );
    assert!(
        shot.count(RED) > 500,
        "the CPS line and the refusals: {}",
        shot.count(RED)
    );
    assert!(
        shot.count(BLUE) > 2_000,
        "the created calls' bars: {}",
        shot.count(BLUE)
    );
}

#[tokio::test]
async fn the_html_report_is_never_written_over_the_campaigns_own_files() {
    // Arrange
    let sandbox = sandbox(sandbox_config()).await;
    let campaign = TestCampaign::new(10, &numbers(2), "");
    assert_eq!(campaign.run(&sandbox, &[]).await.code, DONE);
    let list_before = std::fs::read(&campaign.list).unwrap();

    // Act
    let over_list = campaign
        .manage(&["report", "--html", campaign.list.to_str().unwrap()])
        .await;
    let over_db = campaign
        .manage(&["report", "--html", campaign.db.to_str().unwrap()])
        .await;

    // Assert
    for out in [&over_list, &over_db] {
        assert_eq!(out.code, ERROR, "{out:?}");
        assert!(
            out.stderr
                .contains("refusing to write over the campaign's own file"),
            "{out:?}"
        );
    }
    assert_eq!(std::fs::read(&campaign.list).unwrap(), list_before);
    assert_eq!(campaign.rows().await.len(), 2, "the database is intact");
}

#[tokio::test]
async fn a_run_of_100000_calls_reads_as_a_few_hundred_bars_not_one_element_per_call() {
    // Arrange: 100,000 calls at 30 CPS (55 minutes), written straight into the database.
    let campaign = TestCampaign::new(30, &numbers(1), "");
    campaign.open_store().await.close().await;
    seed_a_big_run(&campaign.db, 100_000).await;
    let page = campaign.dir.path().join("big.html");

    // Act
    let started = std::time::Instant::now();
    let out = campaign
        .manage(&["report", "--html", page.to_str().unwrap()])
        .await;
    let took = started.elapsed();

    // Assert
    assert_eq!(out.code, DONE, "{out:?}");
    let html = std::fs::read_to_string(&page).unwrap().replace('\n', "");
    assert!(html.len() < 400_000, "{} bytes", html.len());
    let pacing = section(&html, "requests-per-second");
    let bars = pacing.matches("<rect").count();
    assert!((300..=2 * 600 + 10).contains(&bars), "{bars} bars");
    assert!(
        pacing.contains("busiest second of each 10 s"),
        "10 s buckets"
    );
    assert!(section(&html, "errors").contains(">21211 Invalid"));
    assert!(section(&html, "answer-rate").contains(">03h<"));
    assert!(took < std::time::Duration::from_secs(30), "{took:?}");
}

/// `calls` created calls, one every 1/30 s from 2030-01-14T08:00:00Z: every 50th refused
/// (21211), the others completed, busy or not answered in turn; half in New York.
async fn seed_a_big_run(db: &std::path::Path, calls: i64) {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO rows (campaign_id, line, to_endpoint, label, params, state, attempts,
                           last_code, last_message, created_at, timezone, call_status, outcome_final, updated_at)
         SELECT 1, i + 1, '+1212' || printf('%07d', i), 'big-' || i, '{}',
                CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'created' END, 1,
                CASE WHEN i % 50 = 0 THEN 21211 END,
                CASE WHEN i % 50 = 0 THEN 'error 21211: Invalid ''To'' Phone Number (HTTP 400)' END,
                1894608000000 + i * 1000 / 30,
                CASE WHEN i % 2 = 0 THEN 'America/New_York' END,
                CASE WHEN i % 50 = 0 THEN NULL WHEN i % 3 = 0 THEN 'completed'
                     WHEN i % 3 = 1 THEN 'busy' ELSE 'no-answer' END,
                i % 50 <> 0, 0
         FROM n",
    )
    .bind(calls)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO attempts (campaign_id, row_id, number, started_at, finished_at, outcome,
                               twilio_code, message, queue_time_ms, call_status)
         SELECT 1, id, 1, created_at, created_at + 200, CASE WHEN state = 'failed' THEN 'failed' ELSE 'created' END,
                last_code, last_message, CASE WHEN state = 'created' THEN id % 400 END, call_status
         FROM rows WHERE label LIKE 'big-%'",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
}

/// The `<section … id="ID">` of the page, to its end.
fn section<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id} in {dom}"));
    let end = dom[start..]
        .find("</section>")
        .map_or(dom.len(), |end| start + end);
    &dom[start..end]
}
