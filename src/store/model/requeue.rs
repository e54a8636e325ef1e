//! Failed rows put back to pending (`dialer campaign requeue`): which rows, what became of
//! them, and the event each row's history keeps.
//!
//! failed --requeue--> pending (due now, a fresh attempt budget, attempt numbers going on)
//!
//! Only `failed` rows move: a row created, in doubt or being dialed is never touched, so a
//! requeue is safe while a run is dialing (the run claims the rows as any due pending row).

use crate::domain::RowState;
use std::collections::BTreeMap;

/// Which failed rows to put back. Every failed row matches an empty selection; each part
/// given narrows it (they combine as AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequeueSelection {
    /// Rows whose last Twilio error code is this one.
    pub code: Option<u32>,
    /// Rows at these list lines.
    pub lines: Option<Vec<u64>>,
}

impl RequeueSelection {
    /// The code as both databases store it.
    pub(in crate::store) fn stored_code(&self) -> Option<i64> {
        self.code.map(i64::from)
    }

    /// The lines as both databases store them.
    pub(in crate::store) fn stored_lines(&self) -> Option<Vec<i64>> {
        self.lines
            .as_ref()
            .map(|lines| lines.iter().map(|&l| l as i64).collect())
    }
}

/// A row put back, with what it had failed with.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RequeuedRow {
    #[sqlx(try_from = "i64")]
    pub line: u64,
    /// Attempts made so far; the next one is numbered after them.
    pub attempts: i64,
    #[sqlx(rename = "last_code")]
    pub was_code: Option<i64>,
    #[sqlx(rename = "last_message")]
    pub was_message: Option<String>,
}

/// What a requeue did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requeued {
    /// The rows put back, in line order.
    pub rows: Vec<RequeuedRow>,
    /// Lines the selection named that were not put back, with their row's state (`None`: no
    /// row has that line, it was rejected or is not in the list), in line order.
    pub untouched: Vec<(u64, Option<RowState>)>,
}

impl Requeued {
    /// `rows` put back; `states` are the named lines' rows as they are now.
    pub(in crate::store) fn new(
        mut rows: Vec<RequeuedRow>,
        selection: &RequeueSelection,
        states: Vec<(i64, RowState)>,
    ) -> Self {
        rows.sort_by_key(|row| row.line);
        let states: BTreeMap<u64, RowState> = states
            .into_iter()
            .map(|(line, state)| (line as u64, state))
            .collect();
        let mut named: Vec<u64> = selection.lines.clone().unwrap_or_default();
        named.sort_unstable();
        named.dedup();
        let untouched = named
            .into_iter()
            .filter(|line| rows.binary_search_by_key(line, |row| row.line).is_err())
            .map(|line| (line, states.get(&line).copied()))
            .collect();
        Self { rows, untouched }
    }
}

/// One requeue of one row, as its history keeps it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RequeueRecord {
    /// The source's id of its row.
    pub row_id: i64,
    pub requeued_at: i64,
    pub attempts: i64,
    pub was_code: Option<i64>,
    pub was_message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put_back(line: u64) -> RequeuedRow {
        RequeuedRow {
            line,
            attempts: 3,
            was_code: None,
            was_message: None,
        }
    }

    #[test]
    fn named_lines_not_put_back_are_listed_once_with_their_state_in_line_order() {
        let selection = RequeueSelection {
            code: None,
            lines: Some(vec![41, 12, 40, 12, 7]),
        };
        let states = vec![(12, RowState::Pending), (40, RowState::Created)];

        let requeued = Requeued::new(vec![put_back(12)], &selection, states);

        assert_eq!(
            requeued.untouched,
            vec![(7, None), (40, Some(RowState::Created)), (41, None)]
        );
    }
}
