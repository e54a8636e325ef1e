//! The list read and checked on a thread of its own, a batch at a time, while the store writes
//! the batch before: reading and checking a record costs about as much as storing it, so the
//! two overlap instead of taking turns. The thread ends with what it found besides rows: the
//! records read, the lines refused, and whether it read to the end.

use super::ImportError;
use super::list_fingerprint::Digesting;
use super::list_text::LineEnds;
use super::record::{Column, RowExtras, parse_record, raw_text, written_to};
use crate::config::Campaign;
use crate::store::{NewRow, Reject};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub type ListReader = csv::Reader<LineEnds<Digesting<std::fs::File>>>;

/// Rows read and checked, waiting to be stored together, with what import keeps beside each.
#[derive(Default)]
pub struct Checked {
    pub rows: Vec<NewRow>,
    pub extras: Vec<RowExtras>,
}

/// What reading found besides the rows it sent.
pub struct ReadEnd {
    pub records: u64,
    /// Lines refused while reading (not yet those found taken by the store).
    pub rejects: Vec<Reject>,
    pub read_to_the_end: bool,
    pub fingerprint: String,
}

/// The list's records after its header.
pub struct Reading {
    pub campaign: Campaign,
    pub columns: Vec<Column>,
    pub width: usize,
    pub reader: ListReader,
    /// Shown in errors.
    pub shown: String,
}

impl Reading {
    /// Reads on a blocking thread, sending batches of `batch` rows; one waits at most, so
    /// memory stays flat. Stops early when the receiver is dropped (the import failed).
    pub fn spawn(
        self,
        batch: usize,
    ) -> (
        mpsc::Receiver<Checked>,
        JoinHandle<Result<ReadEnd, ImportError>>,
    ) {
        let (sender, receiver) = mpsc::channel(1);
        let reading = tokio::task::spawn_blocking(move || self.run(batch, sender));
        (receiver, reading)
    }

    fn run(mut self, batch: usize, sender: mpsc::Sender<Checked>) -> Result<ReadEnd, ImportError> {
        let mut checked = Checked::default();
        let mut rejects = Vec::new();
        let mut records = 0;
        // Two buffers: the last record read stays in `record` after the end of the file.
        let (mut record, mut next) = (csv::ByteRecord::new(), csv::ByteRecord::new());
        let mut last_line = 0;
        let mut read_to_the_end = true;
        loop {
            // Sent before reading, so the last record is still at hand when the file ends.
            if checked.rows.len() >= batch
                && sender.blocking_send(std::mem::take(&mut checked)).is_err()
            {
                read_to_the_end = false;
                break;
            }
            let line_before = self.reader.position().line();
            match self.reader.read_byte_record(&mut next) {
                Ok(false) => break,
                Ok(true) => std::mem::swap(&mut record, &mut next),
                Err(e) => {
                    // Only I/O fails here (the reader is flexible and reads bytes): stop reading.
                    rejects.push(Reject {
                        line: line_before,
                        reason: format!("unreadable CSV: {e}"),
                        raw: String::new(),
                        to: String::new(),
                    });
                    read_to_the_end = false;
                    break;
                }
            }
            let line = self
                .reader
                .get_mut()
                .next_record_start()
                .unwrap_or(line_before);
            last_line = line;
            records += 1;
            match parse_record(&self.campaign, &self.columns, self.width, &record, line) {
                Ok((row, extra)) => {
                    checked.rows.push(row);
                    checked.extras.push(extra);
                }
                Err(reason) => rejects.push(Reject {
                    line,
                    reason,
                    raw: raw_text(&record),
                    to: written_to(&self.columns, &record),
                }),
            }
        }
        if let Some(opened) = self.reader.get_ref().unclosed_quote() {
            // The quote swallowed every line after it into the last record: refuse that
            // record, whatever it held, so the swallowed lines are seen in the rejects.
            let end = self.reader.get_ref().last_line();
            if records == 0 {
                let reason = format!(
                    "has a quote opened on line {opened} that is never closed: its header runs to line {end}"
                );
                return Err(ImportError::Unusable {
                    path: self.shown,
                    reason,
                });
            }
            let reason = format!(
                "a quote opened on line {opened} is never closed: lines {opened} to {end} were read as one field"
            );
            if checked.rows.last().is_some_and(|row| row.line == last_line) {
                checked.rows.pop();
                checked.extras.pop();
                rejects.push(Reject {
                    line: last_line,
                    reason,
                    raw: raw_text(&record),
                    to: written_to(&self.columns, &record),
                });
            } else if let Some(last) = rejects.iter_mut().rev().find(|r| r.line == last_line) {
                last.reason = reason;
            }
        }
        if !checked.rows.is_empty() && sender.blocking_send(checked).is_err() {
            read_to_the_end = false;
        }
        Ok(ReadEnd {
            records,
            rejects,
            read_to_the_end,
            fingerprint: self.reader.into_inner().into_inner().finish(),
        })
    }
}
