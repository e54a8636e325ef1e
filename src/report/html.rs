//! `dialer report --html`: the report as one self-contained page, to open offline or attach
//! to an email. Inline SVG charts and an inline style sheet; no script, and nothing loaded
//! from anywhere. Everything that comes from the list or from Twilio is escaped.

use super::chart_data::ChartData;
use super::charts::{self, ChartError};
use super::reason::describe_error;
use super::{CampaignReport, bar_charts, render_text};
use std::collections::BTreeMap;
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
        "Dark: requests that created a call, which the account's CPS ({}) limits; counted by \
         the clock's seconds, a second may hold one more. Pale: requests Twilio refused without \
         processing them (429), which give their slot back.",
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
            bar_charts::answer_rate_by_hour(&data.hours)?,
        ),
        (
            "errors",
            "Twilio errors",
            errors.to_owned(),
            bar_charts::errors_by_code(&data.errors)?,
        ),
    ];
    for (id, heading, said, svg) in sections {
        _ = write!(
            page,
            "<section class=\"chart\" id=\"{id}\">\n<h2>{heading}</h2>\n<p>{}</p>\n{svg}\n</section>\n",
            escape(&said)
        );
    }
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
            let took = report
                .duration_secs
                .map(|secs| {
                    format!(
                        " ({:#})",
                        jiff::SignedDuration::from_secs(secs.round() as i64)
                    )
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
         <p class=\"period\">{} · report made {generated}</p>\n</header>\n",
        escape(&report.campaign),
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
            report.rows.to_string(),
            format!("{} lines rejected", states.rejected),
        ),
        (
            "calls created",
            states.created.to_string(),
            format!("{} create requests", report.attempts.total),
        ),
        (
            "failed",
            states.failed.to_string(),
            format!("{} in doubt", states.unknown),
        ),
        (
            "still to call",
            states.pending.to_string(),
            format!("{} waiting for a retry", states.retrying),
        ),
        (
            "calls a second",
            rate,
            format!("CPS {} configured", report.configured_cps),
        ),
        ("queue_time p95", queue, "of the created calls".to_owned()),
        ("answered", answered, format!("of {ended} ended calls")),
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
    if calls.answered_by_human + calls.answered_by_machine > 0 {
        said.push_str("; who answered, where answering machine detection was asked for");
    }
    if let Some(average) = calls.talk_secs_average {
        _ = write!(said, "; {average:.0} s of talk on average");
    }
    match calls.awaiting {
        0 => said.push('.'),
        n => _ = write!(said, ". {n} created calls have no final status yet."),
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

fn failures(page: &mut String, report: &CampaignReport) {
    page.push_str(
        "<section class=\"table\" id=\"failures\">\n<h2>Failed or in doubt, by Twilio error</h2>\n",
    );
    if report.failures.is_empty() {
        page.push_str("<p>No row failed or is in doubt.</p>\n</section>\n");
        return;
    }
    page.push_str(
        "<table>\n<thead><tr><th class=\"n\">rows</th><th>error</th></tr></thead>\n<tbody>\n",
    );
    for group in &report.failures {
        let error = describe_error(group.code.map(i64::from), Some(&group.message));
        _ = writeln!(
            page,
            "<tr><td class=\"n\">{}</td><td>{}</td></tr>",
            group.rows,
            escape(&error)
        );
    }
    page.push_str("</tbody>\n</table>\n</section>\n");
}

fn not_dialed(page: &mut String, report: &CampaignReport, limit: usize) {
    let lines = &report.not_dialed;
    _ = write!(
        page,
        "<section class=\"table\" id=\"not-called\">\n<h2>Not called, and why</h2>\n\
         <p>{} list lines have no call.</p>\n",
        lines.len()
    );
    if !lines.is_empty() {
        not_dialed_tables(page, lines, limit);
    }
    page.push_str("</section>\n");
}

fn not_dialed_tables(page: &mut String, lines: &[super::NotDialed], limit: usize) {
    let mut by_state: BTreeMap<&str, (u64, &str)> = BTreeMap::new();
    for line in lines {
        by_state
            .entry(line.state.as_str())
            .or_insert((0, &line.reason))
            .0 += 1;
    }
    page.push_str("<table>\n<thead><tr><th>state</th><th class=\"n\">lines</th><th>for example</th></tr></thead>\n<tbody>\n");
    for (state, (n, example)) in by_state {
        _ = writeln!(
            page,
            "<tr><td>{state}</td><td class=\"n\">{n}</td><td>{}</td></tr>",
            escape(example)
        );
    }
    page.push_str("</tbody>\n</table>\n");
    if limit == 0 {
        return;
    }
    page.push_str("<table class=\"lines\">\n<thead><tr><th class=\"n\">line</th><th>to</th><th>label</th><th>state</th><th>reason</th></tr></thead>\n<tbody>\n");
    for line in lines.iter().take(limit) {
        _ = writeln!(
            page,
            "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            line.line,
            escape(&line.to),
            escape(&line.label),
            line.state,
            escape(&line.reason)
        );
    }
    page.push_str("</tbody>\n</table>\n");
    if lines.len() > limit {
        _ = writeln!(
            page,
            "<p class=\"more\">… and {} more: <code>dialer export</code> has every line.</p>",
            lines.len() - limit
        );
    }
}

/// Text as HTML shows it, in an element or an attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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
        let report = CampaignReport::build(&campaign.store, "spring <b>", cps)
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
