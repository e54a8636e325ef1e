//! How the calls ended, as the report's text shows it: statuses, who answered, talk time.

use crate::store::CallOutcomes;
use std::fmt::Write;

/// Whether the calls say who answered, a person or a machine: only where answering machine
/// detection was asked for. Without it, "answered by a person 0" would be said of every call.
pub(super) fn who_answered_is_known(calls: &CallOutcomes) -> bool {
    calls.answered_by_human + calls.answered_by_machine > 0
}

/// One line, or nothing before any call has a final status or is awaited.
pub(super) fn calls_line(out: &mut String, calls: &CallOutcomes) {
    let ended = calls.completed + calls.busy + calls.no_answer + calls.failed + calls.canceled;
    if ended + calls.awaiting == 0 {
        return;
    }
    _ = write!(
        out,
        "calls ended {ended}: completed {} · busy {} · no-answer {} · failed {} · canceled {}",
        calls.completed, calls.busy, calls.no_answer, calls.failed, calls.canceled
    );
    if who_answered_is_known(calls) {
        _ = write!(
            out,
            " · answered by human {}, machine {}",
            calls.answered_by_human, calls.answered_by_machine
        );
    }
    if let Some(average) = calls.talk_secs_average {
        let total = jiff::SignedDuration::from_secs(calls.talk_secs_total as i64);
        _ = write!(out, " · talk time {total:#} ({average:.0}s on average)");
    }
    _ = writeln!(out, " · awaiting an outcome {}", calls.awaiting);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_counts_statuses_answerers_and_talk_time() {
        let calls = CallOutcomes {
            completed: 2,
            busy: 1,
            answered_by_human: 1,
            answered_by_machine: 1,
            talk_secs_total: 90,
            talk_secs_average: Some(45.0),
            awaiting: 3,
            ..CallOutcomes::default()
        };
        let mut out = String::new();

        calls_line(&mut out, &calls);

        assert_eq!(
            out,
            "calls ended 3: completed 2 · busy 1 · no-answer 0 · failed 0 · canceled 0 · answered by human 1, machine 1 · talk time 1m 30s (45s on average) · awaiting an outcome 3\n"
        );
    }

    #[test]
    fn nothing_is_said_before_any_call() {
        let mut out = String::new();

        calls_line(&mut out, &CallOutcomes::default());

        assert_eq!(out, "");
    }
}
