//! `dialer status` as a person reads it in a terminal: a title line per campaign, then one line
//! per thing that is going on; text from a campaign file or a host is shown escaped.

use super::status::StatusView;
use crate::domain::Standing;
use crate::foreign_text::printable;
use crate::words::count;
use std::fmt::Write;

/// The status of each campaign, as a person reads it.
pub fn render_status(views: &[StatusView]) -> String {
    let mut out = String::new();
    for view in views {
        let file = printable(&view.file);
        let title = match &view.campaign {
            Some(name) => format!("{} ({file})", printable(name)),
            None => file.into_owned(),
        };
        let Some(states) = &view.states else {
            let why = match (&view.error, &view.not_started) {
                (Some(error), _) => format!("cannot be read: {error}"),
                (None, Some(why)) => why.clone(),
                (None, None) => "not read".to_owned(),
            };
            // A parser's message spans lines (the line quoted, a caret): each shown indented.
            let mut lines = why.lines().filter(|line| !line.trim().is_empty());
            _ = writeln!(
                out,
                "{title}: {}",
                printable(lines.next().unwrap_or_default())
            );
            for line in lines {
                _ = writeln!(out, "    {}", printable(line));
            }
            continue;
        };
        let status = view.status.map_or("?", Standing::as_str);
        _ = writeln!(out, "{title}: {status}");
        _ = writeln!(
            out,
            "  rows {} · created {} · failed {} · unknown {} · pending {} · dialing {} · suppressed {} · canceled {}",
            states.rows(),
            states.created,
            states.failed,
            states.unknown,
            states.pending,
            states.dialing,
            states.suppressed,
            states.canceled,
        );
        dialing_line(&mut out, view);
        if let Some(w) = &view.in_doubt {
            let at = w.from.as_deref().unwrap_or("?");
            _ = writeln!(
                out,
                "  in doubt: {}, checked again at {at}",
                count(w.rows as u64, "row")
            );
        }
        if let Some(w) = &view.window {
            let rows = count(w.rows as u64, "row");
            let opens = match (w.from.as_deref(), w.until.as_deref()) {
                (Some(first), Some(last)) if first != last => {
                    format!("first opens {first}, last {last}")
                }
                (first, _) => format!("opens {}", first.unwrap_or("?")),
            };
            _ = writeln!(out, "  waiting for the calling window: {rows}, {opens}");
        }
        if let Some(w) = &view.frequency_cap {
            let (from, until) = (
                w.from.as_deref().unwrap_or("?"),
                w.until.as_deref().unwrap_or("?"),
            );
            _ = writeln!(
                out,
                "  held back by the frequency cap: {}, from {from} until {until}",
                count(w.rows as u64, "row")
            );
        }
        if let Some(run) = &view.last_run {
            let mut ended = match (&run.finished_at, run.exit_code) {
                (Some(at), Some(code)) => format!("ended {at}, exit {code}"),
                _ => "not ended".to_owned(),
            };
            if let Some(ending) = run.ending {
                _ = write!(ended, " ({})", ending.as_str().replace('_', " "));
            }
            let host = run
                .host
                .as_deref()
                .map(|h| format!(" on {}", printable(h)))
                .unwrap_or_default();
            let started = run.started_at.as_deref().unwrap_or("?");
            _ = writeln!(out, "  last run: started {started}{host}, {ended}");
        }
        for problem in &view.problems {
            _ = writeln!(out, "  wrong: {}", printable(problem));
        }
    }
    out
}

fn dialing_line(out: &mut String, view: &StatusView) {
    let dialers: Vec<String> = view
        .dialing
        .iter()
        .map(|d| {
            let pid = d.pid.map(|p| format!(" pid {p}")).unwrap_or_default();
            let lease = d
                .lease_until
                .as_deref()
                .map(|at| format!(", lease until {at}"))
                .unwrap_or_default();
            format!(
                "{}{pid} ({}{lease})",
                printable(&d.host),
                count(d.rows as u64, "row")
            )
        })
        .collect();
    if !dialers.is_empty() {
        _ = writeln!(out, "  dialing now: {}", dialers.join("; "));
    } else if view.lock.is_none() {
        _ = writeln!(out, "  dialing now: nobody");
    }
    if let Some(lock) = &view.lock {
        _ = writeln!(out, "  lock: {lock}");
    }
}
