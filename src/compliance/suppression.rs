//! Do-not-call lists: files of numbers that must never be dialed, read once per run so that a
//! list edited between runs is honoured by the next one. A file is either a CSV whose header
//! has a `to` column or plain text with one number per line (detected from the first line).
//! A line that is not a number is reported with its line number and skipped; a file that
//! cannot be read stops the run, since dialing without it could call someone on it.

use crate::domain::{Endpoint, PhoneNumber};
use crate::store::{Store, StoreError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Pending rows read per page when marking listed numbers.
const PAGE: i64 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum SuppressionError {
    #[error("could not read the suppression list {path}: {cause}")]
    Read { path: String, cause: csv::Error },
    #[error(
        "the suppression list {path} has no `to` column in its header and no number on its first line"
    )]
    NoToColumn { path: String },
}

/// Every listed number (E.164), with why it is listed: "on dnc.csv".
#[derive(Debug, Clone, Default)]
pub struct SuppressionLists {
    numbers: HashMap<String, Arc<str>>,
}

impl SuppressionLists {
    /// Reads every list; bad lines go to stderr as `dialer: PATH:LINE: why`.
    pub fn load(paths: &[PathBuf]) -> Result<Self, SuppressionError> {
        let mut lists = Self::default();
        for path in paths {
            lists.read_file(path)?;
        }
        Ok(lists)
    }

    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    /// Why `to` must not be dialed, if it is listed.
    pub fn reason_for(&self, to: &Endpoint) -> Option<&str> {
        self.numbers.get(to.as_str()).map(|reason| &**reason)
    }

    /// Marks every pending row whose number is listed as `suppressed`; returns how many.
    pub async fn mark_pending(&self, store: &Store) -> Result<u64, StoreError> {
        if self.is_empty() {
            return Ok(0);
        }
        let (mut after, mut marked) = (0, 0);
        loop {
            let page = store.pending_numbers_after(after, PAGE).await?;
            let Some((last, _)) = page.last() else {
                return Ok(marked);
            };
            after = *last;
            let listed: Vec<(i64, String)> = page
                .iter()
                .filter_map(|(id, to)| Some((*id, self.reason_for(to)?.to_owned())))
                .collect();
            if !listed.is_empty() {
                marked += store.suppress_pending(&listed).await?;
            }
        }
    }

    fn read_file(&mut self, path: &Path) -> Result<(), SuppressionError> {
        let shown = path.display().to_string();
        let name = path
            .file_name()
            .map_or_else(|| shown.clone(), |name| name.to_string_lossy().into_owned());
        let reason: Arc<str> = format!("on {name}").into();
        let read_error = |cause| SuppressionError::Read {
            path: shown.clone(),
            cause,
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_path(path)
            .map_err(read_error)?;
        let mut column = None;
        let mut record = csv::StringRecord::new();
        while reader.read_record(&mut record).map_err(read_error)? {
            let line = record.position().map_or(0, csv::Position::line);
            if record.iter().all(str::is_empty) {
                continue;
            }
            let index = match column {
                Some(index) => index,
                None => {
                    let first = record.get(0).unwrap_or_default();
                    if PhoneNumber::parse(first).is_ok() {
                        column = Some(0);
                        0
                    } else {
                        let to = record.iter().position(|f| f.eq_ignore_ascii_case("to"));
                        column = Some(to.ok_or_else(|| SuppressionError::NoToColumn {
                            path: shown.clone(),
                        })?);
                        continue;
                    }
                }
            };
            match PhoneNumber::parse(record.get(index).unwrap_or_default()) {
                Ok(number) => {
                    self.numbers
                        .insert(number.as_str().to_owned(), reason.clone());
                }
                Err(e) => eprintln!("dialer: {shown}:{line}: not a number ({e}); skipped"),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists_from(name: &str, text: &str) -> Result<SuppressionLists, SuppressionError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        SuppressionLists::load(&[path])
    }

    #[test]
    fn a_csv_with_a_to_column_is_read_by_that_column() {
        let lists = lists_from(
            "dnc.csv",
            "name,To\nAda,+1 (415) 555-0100\nBob,+442071838750\n",
        )
        .unwrap();

        assert_eq!(lists.len(), 2);
        assert_eq!(
            lists.reason_for(&Endpoint::parse("+14155550100").unwrap()),
            Some("on dnc.csv")
        );
        assert_eq!(
            lists.reason_for(&Endpoint::parse("+442071838750").unwrap()),
            Some("on dnc.csv")
        );
    }

    #[test]
    fn a_plain_file_has_one_number_per_line_and_bad_lines_are_skipped() {
        let lists = lists_from("dnc.txt", "+14155550100\n\nnot a number\n+33142685300\n").unwrap();

        assert_eq!(lists.len(), 2);
        assert_eq!(
            lists.reason_for(&Endpoint::parse("+33142685300").unwrap()),
            Some("on dnc.txt")
        );
        assert_eq!(
            lists.reason_for(&Endpoint::parse("+14155550199").unwrap()),
            None
        );
    }

    #[test]
    fn a_header_without_a_to_column_is_refused() {
        let refused = lists_from("dnc.csv", "name,phone\nAda,+14155550100\n");

        assert!(matches!(refused, Err(SuppressionError::NoToColumn { .. })));
    }

    #[test]
    fn a_missing_list_is_an_error_rather_than_an_empty_list() {
        let missing = SuppressionLists::load(&[PathBuf::from("/nonexistent/dnc.csv")]);

        assert!(matches!(missing, Err(SuppressionError::Read { .. })));
    }
}
