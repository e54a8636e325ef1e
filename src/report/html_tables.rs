//! The HTML report's tables, the text report's in HTML: the runs, failed rows by Twilio
//! error, and the list lines without a call, counted by state, then the first of them with their reason; and
//! the escaping that all of the page's text goes through.

use super::markup::escape;
use super::plot::thousands;
use super::reason::describe_error;
use super::runs::{RUN_COLUMNS, last_runs};
use super::{CampaignReport, NotDialed};
use crate::words::count;
use std::collections::BTreeMap;
use std::fmt::Write;

pub(super) fn runs(page: &mut String, report: &CampaignReport) {
    page.push_str("<section class=\"table\" id=\"runs\">\n<h2>Runs</h2>\n");
    let (shown, earlier) = last_runs(&report.runs);
    let more = match earlier {
        0 => String::new(),
        n => format!(
            ", the last {} below ({n} earlier in <code>dialer report --json</code>)",
            shown.len()
        ),
    };
    _ = writeln!(
        page,
        "<p>{}{more}. Calls a second: created calls over the run's own first to last call.</p>",
        count(report.runs.len() as u64, "run")
    );
    if shown.is_empty() {
        page.push_str("</section>\n");
        return;
    }
    page.push_str("<table>\n<thead><tr>");
    for (i, name) in RUN_COLUMNS.iter().enumerate() {
        _ = write!(page, "<th{}>{name}</th>", numeric(i));
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    for run in shown {
        page.push_str("<tr>");
        for (i, cell) in run.cells().iter().enumerate() {
            _ = write!(page, "<td{}>{}</td>", numeric(i), escape(cell));
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table>\n</section>\n");
}

/// The runs table's numeric columns (requests, created, calls a second) align right.
fn numeric(column: usize) -> &'static str {
    match column {
        3..=5 => " class=\"n\"",
        _ => "",
    }
}

pub(super) fn failures(page: &mut String, report: &CampaignReport) {
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

pub(super) fn not_dialed(page: &mut String, report: &CampaignReport, limit: usize) {
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

fn not_dialed_tables(page: &mut String, lines: &[NotDialed], limit: usize) {
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
            "<tr><td>{state}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            thousands(n),
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
            escape(&line.reason_and_history())
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
