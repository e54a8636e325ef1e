//! The report as a person reads it in a terminal: headline counts first, then the failures
//! by Twilio error, then the lines without a call, cut at a limit (the export has them all).

use super::runs::{RUN_COLUMNS, RunLine, last_runs};
use super::{CampaignReport, NotDialed, OptedOut, reason::describe_error};
use crate::foreign_text::printable;
use crate::words::count;
use std::fmt::Write;

pub fn render_text(report: &CampaignReport, limit: usize) -> String {
    let mut out = String::new();
    headline(&mut out, report);
    if !report.runs.is_empty() {
        runs(&mut out, &report.runs);
    }
    if !report.failures.is_empty() {
        let mut rows = vec![["rows".to_owned(), "error".to_owned()]];
        rows.extend(report.failures.iter().map(|group| {
            let code = group.code.map(i64::from);
            [
                group.rows.to_string(),
                describe_error(code, Some(&group.message)),
            ]
        }));
        out.push_str("\nfailed or unknown, by Twilio error:\n");
        out.push_str(&table(&rows));
    }
    if !report.not_dialed.is_empty() {
        not_dialed(&mut out, &report.not_dialed, limit);
    }
    out
}

fn headline(out: &mut String, report: &CampaignReport) {
    let states = &report.states;
    let lines = format!(
        "{} imported, {} rejected",
        count(report.rows, "row"),
        count(states.rejected, "line")
    );
    _ = writeln!(out, "campaign {}: {lines}", report.campaign);
    _ = writeln!(out, "  status: {}", report.status.as_str());
    _ = writeln!(
        out,
        "  created {} · failed {} · unknown {} · waiting for retry {} · not dialed yet {} · dialing {}",
        states.created,
        states.failed,
        states.unknown,
        states.retrying,
        states.pending.saturating_sub(states.retrying),
        states.dialing,
    );
    if states.suppressed + states.canceled > 0 {
        let (suppressed, canceled) = (states.suppressed, states.canceled);
        let opted_out = match report.opted_out {
            OptedOut { rows: 0, .. } => String::new(),
            OptedOut {
                rows,
                longest_to_honour_secs,
            } => {
                let took = longest_to_honour_secs
                    .map(|s| {
                        format!(
                            ", honoured within {:#}",
                            jiff::SignedDuration::from_secs(s.ceil() as i64)
                        )
                    })
                    .unwrap_or_default();
                format!(" (opted out {rows}{took})")
            }
        };
        _ = writeln!(
            out,
            "  never dialed: suppressed {suppressed}{opted_out} · canceled {canceled}"
        );
    }
    if let Some(law) = &report.law {
        _ = writeln!(out, "  {}", law.line());
    }
    let zones = &report.zone_sources;
    let earlier = match zones.unrecorded {
        0 => String::new(),
        n => format!(" · imported before sources were kept {n}"),
    };
    _ = writeln!(
        out,
        "  time zone from the list {} · from the number {} · the campaign's {}{earlier}",
        zones.list, zones.prefix, zones.campaign
    );
    let outcomes: Vec<String> = report
        .attempts
        .by_outcome
        .iter()
        .map(|(outcome, n)| format!("{outcome} {n}"))
        .collect();
    _ = writeln!(
        out,
        "attempts {}: {}",
        report.attempts.total,
        outcomes.join(", ")
    );
    super::calls::calls_line(out, &report.calls);
    match &report.queue_time_ms {
        Some(q) => {
            _ = writeln!(
                out,
                "queue_time p50 {} ms · p95 {} ms · p99 {} ms · max {} ms",
                q.p50, q.p95, q.p99, q.max
            )
        }
        None => out.push_str("queue_time: no call created yet\n"),
    }
    if let (Some(first), Some(last), Some(secs)) = (
        &report.first_attempt_at,
        &report.last_created_at,
        report.duration_secs,
    ) {
        let took = jiff::SignedDuration::from_secs(secs.round() as i64);
        let spells = match report.dialing_spells {
            1 => String::new(),
            n => format!(" in {n} spells, the idle time between them left out"),
        };
        let rate = match report.achieved_cps {
            Some(cps) => format!("{cps:.1} calls/s"),
            None => "no rate under 2 calls".to_owned(),
        };
        _ = writeln!(
            out,
            "dialed {first} → {last}: {took:#} of dialing{spells}; {rate} of {} configured",
            report.configured_cps
        );
    } else {
        _ = writeln!(out, "configured {} calls/s", report.configured_cps);
    }
}

fn runs(out: &mut String, runs: &[RunLine]) {
    let (shown, earlier) = last_runs(runs);
    let more = match earlier {
        0 => String::new(),
        n => format!(
            ", the last {} shown ({n} earlier in `dialer report --json`)",
            shown.len()
        ),
    };
    _ = writeln!(
        out,
        "
runs: {}{more}",
        runs.len()
    );
    let mut rows = vec![RUN_COLUMNS.map(str::to_owned)];
    rows.extend(shown.iter().map(RunLine::cells));
    out.push_str(&table_aligned(
        &rows,
        [false, false, false, true, true, true, false],
    ));
}

fn not_dialed(out: &mut String, rows: &[NotDialed], limit: usize) {
    _ = writeln!(out, "\nnot dialed: {}", count(rows.len() as u64, "line"));
    if limit > 0 {
        let mut table_rows = vec![["line", "to", "label", "state", "reason"].map(str::to_owned)];
        table_rows.extend(rows.iter().take(limit).map(|row| {
            [
                row.line.to_string(),
                row.to.clone(),
                row.label.clone(),
                row.state.to_string(),
                row.reason_and_history(),
            ]
        }));
        out.push_str(&table(&table_rows));
    }
    if rows.len() > limit {
        _ = writeln!(
            out,
            "  … and {} more: see `dialer export`",
            rows.len() - limit
        );
    }
}

/// Columns padded to their widest cell; the first (a number) to the right, the last not at all.
fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut right = [false; N];
    right[0] = true;
    table_aligned(rows, right)
}

/// Columns padded to their widest cell, to the right where `right` says, the last not at all.
/// Cells hold text from the list and from Twilio: shown printable (`foreign_text`).
fn table_aligned<const N: usize>(rows: &[[String; N]], right: [bool; N]) -> String {
    let rows: Vec<[String; N]> = rows
        .iter()
        .map(|row| row.clone().map(|cell| printable(&cell).into_owned()))
        .collect();
    let mut widths = [0; N];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::from(" ");
        for (i, cell) in row.iter().enumerate() {
            let pad = " ".repeat(widths[i] - cell.chars().count());
            let gap = if i == 0 { " " } else { "  " };
            match (right[i], i == N - 1) {
                (true, _) => _ = write!(line, "{gap}{pad}{cell}"),
                (false, true) => _ = write!(line, "{gap}{cell}"),
                (false, false) => _ = write!(line, "{gap}{cell}{pad}"),
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::campaign_in_every_state;
    use super::*;
    use crate::domain::Cps;

    #[tokio::test]
    async fn the_text_shows_the_counts_the_failures_and_the_first_lines_without_a_call() {
        let campaign = campaign_in_every_state().await;
        let report = CampaignReport::build(&campaign.store, "spring", Cps::new(10).unwrap(), None)
            .await
            .unwrap();

        let text = render_text(&report, 3);

        assert!(
            text.starts_with("campaign spring: 9 rows imported, 2 lines rejected\n"),
            "{text}"
        );
        assert!(text.contains(
            "created 4 · failed 1 · unknown 1 · waiting for retry 1 · not dialed yet 1 · dialing 1"
        ));
        assert!(text.contains("queue_time p50 200 ms · p95 400 ms · p99 400 ms · max 400 ms\n"));
        assert!(
            text.contains("     1  error 21211: Invalid 'To' Phone Number\n"),
            "{text}"
        );
        assert!(text.contains("     6  +15550000006  spring-6  failed   failed: error 21211: Invalid 'To' Phone Number\n"));
        assert!(!text.contains("spring-9"), "only the first 3 lines: {text}");
        assert!(
            text.ends_with("  … and 4 more: see `dialer export`\n"),
            "{text}"
        );
    }

    #[test]
    fn table_columns_line_up() {
        let rows = [
            ["1".to_owned(), "ab".to_owned(), "x".to_owned()],
            ["10".to_owned(), "a".to_owned(), "y".to_owned()],
        ];

        assert_eq!(table(&rows), "   1  ab  x\n  10  a   y\n");
    }
}
