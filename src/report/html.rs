//! `dialer report --html`: the report as one self-contained page, to open offline or attach
//! to an email. Inline SVG charts and an inline style sheet; no script, and nothing loaded
//! from anywhere. Everything that comes from the list or from Twilio is escaped.

use super::calls::who_answered_is_known;
use super::chart_data::ChartData;
use super::charts;
use super::html_tables::{failures, not_dialed, runs};
use super::markup::escape;
use super::plot::{ChartError, thousands};
use super::{CampaignReport, bar_charts, render_text};
use std::fmt::Write;

const STYLE: &str = include_str!("report.css");

pub fn render_html(
    report: &CampaignReport,
    data: &ChartData,
    limit: usize,
) -> Result<String, ChartError> {
    let name = escape(&report.campaign);
    let mut page = String::with_capacity(64 * 1024);
    _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Campaign report: {name}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n"
    );
    header(&mut page, report, data);
    cards(&mut page, report);
    let timeline = &data.timeline;
    let pacing = format!(
        "Dark: requests that created a call, which the account's CPS ({}) limits (counted by \
         the clock's seconds, a second may hold one more). Pale: requests that created none, \
         refused by Twilio (a 429 gives its slot back, an invalid number fails its row).",
        report.configured_cps
    );
    let queuing = "How long Twilio held each created call before dialing it. Near zero means \
                   the pace matched the account's CPS.";
    let errors = "Create requests that Twilio refused, or that got no answer, by Twilio's \
                  error code.";
    let sections = [
        (
            "requests-per-second",
            "Pacing",
            pacing,
            charts::requests_per_second(timeline, data.configured_cps)?,
        ),
        (
            "queue-time",
            "Queuing at Twilio",
            queuing.to_owned(),
            charts::queue_time(timeline)?,
        ),
        (
            "outcomes",
            "Outcomes",
            calls_said(report),
            bar_charts::outcome_mix(&report.calls)?,
        ),
        (
            "answer-rate",
            "Calling hours",
            hours_said(data),
            charts::answer_rate_by_hour(&data.hours)?,
        ),
        (
            "errors",
            "Twilio errors",
            errors.to_owned(),
            bar_charts::errors_by_code(&data.errors)?,
        ),
    ];
    for (id, heading, said, svg) in sections {
        // The chart is described by the paragraph over it (its name is its title).
        let svg = svg.replacen("<svg ", &format!("<svg aria-describedby=\"{id}-said\" "), 1);
        _ = write!(
            page,
            "<section class=\"chart\" id=\"{id}\">\n<h2>{heading}</h2>\n\
             <p id=\"{id}-said\">{}</p>\n{svg}\n</section>\n",
            escape(&said)
        );
    }
    runs(&mut page, report);
    failures(&mut page, report);
    not_dialed(&mut page, report, limit);
    _ = write!(
        page,
        "<section id=\"text\">\n<details>\n<summary>The same report as text \
         (<code>dialer report</code>)</summary>\n<pre>{}</pre>\n</details>\n</section>\n\
         </main>\n</body>\n</html>\n",
        escape(&render_text(report, limit))
    );
    Ok(page)
}

fn header(page: &mut String, report: &CampaignReport, data: &ChartData) {
    let when = match (&report.first_attempt_at, &report.last_created_at) {
        (Some(first), Some(last)) => {
            let spells = match report.dialing_spells {
                1 => String::new(),
                n => format!(" in {n} spells"),
            };
            let took = report
                .duration_secs
                .map(|secs| {
                    let took = jiff::SignedDuration::from_secs(secs.round() as i64);
                    format!(" ({took:#} of dialing{spells})")
                })
                .unwrap_or_default();
            format!("Dialed {} → {} UTC{took}", utc(first), utc(last))
        }
        (Some(first), None) => format!("First request {} UTC; no call created yet", utc(first)),
        _ => "Nothing dialed yet".to_owned(),
    };
    let generated = data.generated_at.strftime("%Y-%m-%d %H:%M UTC");
    _ = write!(
        page,
        "<header>\n<p class=\"kicker\">dialer · campaign report</p>\n<h1>{}</h1>\n\
         <p class=\"period\">{} · {} · report made {generated}</p>\n</header>\n",
        escape(&report.campaign),
        report.status.as_str(),
        escape(&when),
    );
}

/// `2026-12-02T11:42:03Z` as `2026-12-02 11:42:03`.
fn utc(rfc3339: &str) -> String {
    rfc3339.trim_end_matches('Z').replacen('T', " ", 1)
}

fn cards(page: &mut String, report: &CampaignReport) {
    let states = &report.states;
    let calls = &report.calls;
    let ended = calls.completed + calls.busy + calls.no_answer + calls.failed + calls.canceled;
    let rate = match report.achieved_cps {
        Some(cps) => format!("{cps:.1}/s"),
        None => "–".to_owned(),
    };
    let queue = match &report.queue_time_ms {
        Some(q) => format!("{} ms", q.p95),
        None => "–".to_owned(),
    };
    let answered = match ended {
        0 => "–".to_owned(),
        _ => format!("{:.0}%", calls.completed as f64 * 100.0 / ended as f64),
    };
    let cards = [
        (
            "on the list",
            thousands(report.rows),
            match states.rejected {
                1 => "1 line rejected".to_owned(),
                n => format!("{} lines rejected", thousands(n)),
            },
        ),
        (
            "calls created",
            thousands(states.created),
            format!("{} create requests", thousands(report.attempts.total)),
        ),
        (
            "failed",
            thousands(states.failed),
            format!("{} in doubt", thousands(states.unknown)),
        ),
        (
            "still to call",
            thousands(states.pending),
            format!("{} waiting for a retry", thousands(states.retrying)),
        ),
        (
            "calls a second",
            rate,
            format!("CPS {} configured", report.configured_cps),
        ),
        ("queue_time p95", queue, "of the created calls".to_owned()),
        (
            "answered",
            answered,
            format!("of {} ended calls", thousands(ended)),
        ),
    ];
    page.push_str("<section class=\"cards\" id=\"counts\">\n");
    for (label, value, detail) in cards {
        _ = writeln!(
            page,
            "<div class=\"card\"><div class=\"value\">{}</div><div class=\"label\">{label}</div>\
             <div class=\"detail\">{}</div></div>",
            escape(&value),
            escape(&detail)
        );
    }
    page.push_str("</section>\n");
}

fn calls_said(report: &CampaignReport) -> String {
    let calls = &report.calls;
    let mut said = "Every call's final status, earlier calls of recycled rows included".to_owned();
    if who_answered_is_known(calls) {
        said.push_str("; who answered, where answering machine detection was asked for");
    }
    if let Some(average) = calls.talk_secs_average {
        _ = write!(said, "; {average:.0} s of talk on average");
    }
    match calls.awaiting {
        0 => said.push('.'),
        n => {
            _ = write!(
                said,
                ". {} created calls have no final status yet.",
                thousands(n)
            )
        }
    }
    said
}

fn hours_said(data: &ChartData) -> String {
    let hours = &data.hours;
    let mut said = "The share of ended calls that were answered, by the hour it was where the \
                    person was called; the number over each bar is how many calls ended in it."
        .to_owned();
    if hours.several_zones > 0 {
        _ = write!(
            said,
            " Not shown: {} calls to numbers whose prefix spans time zones with different hours.",
            hours.several_zones
        );
    }
    if hours.unknown_zone > 0 {
        _ = write!(
            said,
            " Not shown: {} calls to people of unknown zone (set window.timezone).",
            hours.unknown_zone
        );
    }
    said
}

#[cfg(test)]
mod tests {
    use super::super::fixture::campaign_in_every_state;
    use super::*;
    use crate::domain::Cps;

    #[test]
    fn markup_in_text_is_shown_not_obeyed() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[tokio::test]
    async fn the_page_holds_every_chart_the_counts_and_the_lines_without_a_call() {
        let campaign = campaign_in_every_state().await;
        let cps = Cps::new(10).unwrap();
        let report = CampaignReport::build(&campaign.store, "spring <b>", cps, None)
            .await
            .unwrap();
        let data = ChartData::build(&campaign.store, cps, None).await.unwrap();

        let page = render_html(&report, &data, 3).unwrap();

        assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
        assert!(page.contains("<h1>spring &lt;b&gt;</h1>"));
        assert_eq!(page.matches("<svg").count(), 5);
        for id in [
            "requests-per-second",
            "queue-time",
            "outcomes",
            "answer-rate",
            "errors",
            "failures",
            "not-called",
        ] {
            assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
        }
        assert!(page.contains("CPS 10 (configured)"));
        assert!(page.contains("… and 4 more"));
        assert!(
            !page.contains("<script") && !page.contains("http://") && !page.contains("https://")
        );
        assert_eq!(
            page.matches("<section").count(),
            page.matches("</section>").count()
        );
    }
}
