//! The list into the store: rows brought in batch by batch, and what the last complete import
//! found (its rejects, its counts, and the fingerprint of what it read, so that a run over an
//! unchanged list need not read it again).

use crate::domain::{CalleeZone, Endpoint, Jurisdictions, Label, PersonId};
use crate::store::codec::Stored;
use crate::twilio::RowOverrides;
use std::collections::HashMap;

/// A valid list row on its way in.
#[derive(Debug, Clone)]
pub struct NewRow {
    pub line: u64,
    pub to: Endpoint,
    pub label: Label,
    /// This row's own values over the campaign's.
    pub params: RowOverrides,
    /// The callee's zone (`None`: the campaign's), stored with the row in the same statement.
    pub zone: Option<CalleeZone>,
    /// Whose calling rules bind the call (`None`: a number outside the US).
    pub jurisdictions: Option<Jurisdictions>,
    /// The person the number belongs to (the list's `person` column), if the list says.
    pub person: Option<PersonId>,
}

/// What import did with a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// The same `to` was imported by an earlier run (from this line or, before the list
    /// changed, another: its row now gives this line).
    AlreadyImported,
    /// The same `to` is on an earlier line of this import: it is dialed once.
    DuplicateOf(u64),
    /// Another line already uses this label.
    LabelTaken(u64),
}

/// The rows one import of the list has met so far, by id (a bit each): a `to` met again in
/// the same import is a duplicate; one met for the first time is already imported, wherever
/// it stands in the list now.
#[derive(Debug, Default)]
pub struct ImportPass {
    met: Vec<u64>,
    /// The campaign had no rows when the pass began (false when not asked).
    pub(in crate::store) fresh: bool,
}

impl ImportPass {
    pub(in crate::store) fn fresh(fresh: bool) -> Self {
        Self {
            met: Vec::new(),
            fresh,
        }
    }

    /// What became of `row` in a batch, the same on every backend: `new` when its insert
    /// took; otherwise by the row already holding its `to` (`known`: `to` → (id, line), kept
    /// up to date here), whose move to this line is noted in `moved` as (id, line). `None`:
    /// no row holds its `to`, so its label is taken, by a line only the database knows.
    pub(in crate::store) fn verdict(
        &mut self,
        row: &NewRow,
        new: bool,
        known: &mut HashMap<String, (i64, i64)>,
        moved: &mut Vec<(i64, i64)>,
    ) -> Option<Inserted> {
        if new {
            return Some(Inserted::New);
        }
        let (id, known_line) = known.get_mut(row.to.as_str())?;
        if !self.meet(*id) {
            return Some(Inserted::DuplicateOf(*known_line as u64));
        }
        let line = row.line as i64;
        if *known_line != line {
            moved.push((*id, line));
            *known_line = line;
        }
        Some(Inserted::AlreadyImported)
    }

    /// Marks the row met; true the first time.
    pub(in crate::store) fn meet(&mut self, id: i64) -> bool {
        let (word, bit) = (id as usize / 64, id as usize % 64);
        if word >= self.met.len() {
            self.met.resize(word + 1, 0);
        }
        let first = self.met[word] & (1 << bit) == 0;
        self.met[word] |= 1 << bit;
        first
    }
}

/// A line of the list refused at import.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Reject {
    #[sqlx(try_from = "i64")]
    pub line: u64,
    pub reason: String,
    /// The whole line (a duplicate's: its number, as E.164, to find the line it repeats).
    pub raw: String,
    /// The `to` cell as the list wrote it, whichever column the line was refused for.
    pub to: String,
}

/// The counts of an import that read the list to its end.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FinishedImport {
    #[sqlx(try_from = "i64")]
    pub list_size: u64,
    pub list_modified_ns: i64,
    pub fingerprint: String,
    #[sqlx(try_from = "i64")]
    pub records: u64,
    /// Rows imported by it or by an earlier import.
    #[sqlx(try_from = "i64")]
    pub accepted: u64,
    #[sqlx(try_from = "i64")]
    pub duplicates: u64,
    #[sqlx(try_from = "Stored<String>")]
    pub ignored_columns: Vec<String>,
}
