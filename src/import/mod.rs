//! The list: a CSV file streamed into the campaign database. Each record is read as raw bytes,
//! checked in full (a complete Create Participant request is built from it), and either
//! imported or rejected with its line number and reason; the good rows always go on.
//! Re-importing is idempotent: rows already imported are recognised by their `to`.

mod list_fingerprint;
mod list_text;
mod reading;
mod record;
mod rejects;

use crate::config::Campaign;
use crate::domain::Label;
use crate::store::{
    FinishedImport, ImportPass, ImportTx, Inserted, NewRow, Reject, Store, StoreError,
};
use list_fingerprint::{Digesting, ListStamp};
use list_text::LineEnds;
use reading::{Checked, Reading};
use record::header_columns;
use rejects::report_rejects;
use std::path::{Path, PathBuf};

/// Rows stored in one statement.
const BATCH: usize = 5_000;
/// Rows stored in one transaction (see `ImportTx`): a list's numbers come in no order, so
/// each commit writes again nearly every page of the indexes by number; committed a batch
/// at a time, a million-row list wrote 4.9 GB for a 0.2 GB database.
const COMMIT_ROWS: usize = 100_000;
/// Suffixes tried for a generated label already taken before the row is refused.
const MAX_RELABELS: u32 = 100;
const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("could not read the list {path}: {cause}")]
    Open { path: String, cause: std::io::Error },
    #[error("the list {path} {reason}")]
    Unusable { path: String, reason: String },
    #[error("could not read the list {path} at line {line}: {cause}")]
    Read {
        path: String,
        line: u64,
        cause: csv::Error,
    },
    #[error("could not write the rejects file {path}: {cause}")]
    Rejects { path: String, cause: csv::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ImportError {
    /// The list is missing or unusable as a whole (exit 2: fix the list, nothing was dialed),
    /// rather than a failure while reading or storing it.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Self::Open { .. } | Self::Unusable { .. })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub records: u64,
    pub new: u64,
    pub already_imported: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub rejects_file: Option<PathBuf>,
    pub ignored_columns: Vec<String>,
    /// The list and the campaign were as the last complete import read them: not read again.
    pub unchanged: bool,
}

pub async fn import(campaign: &Campaign, store: &Store) -> Result<ImportSummary, ImportError> {
    let path = &campaign.list;
    let shown = path.display().to_string();
    let open_err = |cause| ImportError::Open {
        path: shown.clone(),
        cause,
    };
    let stamp = ListStamp::of(path).map_err(open_err)?;
    if let Some(last) = store.last_import().await?
        && last.list_size == stamp.size
        && last.list_modified_ns == stamp.modified_ns
        && last.fingerprint == list_fingerprint::of(campaign).map_err(open_err)?
    {
        return unchanged(campaign, store, last).await;
    }
    let bytes_start = first_bytes(path).map_err(open_err)?;
    if is_utf16(&bytes_start) {
        let reason = "is UTF-16: save it as UTF-8 (CSV UTF-8 in spreadsheet programs)".to_string();
        return Err(ImportError::Unusable {
            path: shown.clone(),
            reason,
        });
    }
    if bytes_start.is_empty() {
        let reason = "is empty: it needs at least a header line naming a `to` column".to_string();
        return Err(ImportError::Unusable {
            path: shown.clone(),
            reason,
        });
    }
    let mut file = Digesting::new(std::fs::File::open(path).map_err(open_err)?, campaign);
    if bytes_start.starts_with(UTF8_BOM) {
        use std::io::Read;
        let mut bom = [0u8; 3];
        file.read_exact(&mut bom).map_err(open_err)?;
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(LineEnds::new(file));
    let header = reader
        .byte_headers()
        .map_err(|e| ImportError::Read {
            path: shown.clone(),
            line: 1,
            cause: e,
        })?
        .clone();
    reader.get_mut().next_record_start();
    let columns = header_columns(&header).map_err(|reason| ImportError::Unusable {
        path: shown.clone(),
        reason,
    })?;
    let summary = ImportSummary {
        ignored_columns: columns
            .iter()
            .filter(|c| c.ignored)
            .map(|c| crate::foreign_text::printable(&c.name).into_owned())
            .collect(),
        ..ImportSummary::default()
    };
    let reading = Reading {
        campaign: campaign.clone(),
        columns,
        width: header.len(),
        reader,
        shown,
    };
    let (mut checked, read) = reading.spawn(BATCH);
    let mut stored = Stored {
        pass: store.begin_import_pass().await?,
        summary,
        ..Stored::default()
    };
    while let Some(rows) = checked.recv().await {
        store_batch(store, &mut stored, rows).await?;
    }
    stored.commit().await?;
    let read = read
        .await
        .expect("the list's reading thread does not panic")?;
    let Stored {
        mut summary,
        mut rejects,
        ..
    } = stored;
    summary.records = read.records;
    rejects.extend(read.rejects);
    let read_to_the_end = read.read_to_the_end;
    rejects.sort_by_key(|r| r.line);
    summary.rejected = rejects.len() as u64 - summary.duplicates;
    let fingerprint = read.fingerprint;
    let finished = read_to_the_end.then(|| FinishedImport {
        list_size: stamp.size,
        list_modified_ns: stamp.modified_ns,
        fingerprint,
        records: summary.records,
        accepted: summary.new + summary.already_imported,
        duplicates: summary.duplicates,
        ignored_columns: summary.ignored_columns.clone(),
    });
    store.finish_import(&rejects, finished.as_ref()).await?;
    summary.rejects_file = report_rejects(path, &rejects)?;
    Ok(summary)
}

/// The list and the campaign are as the last complete import read them: every row it
/// accepted is in the store, so the list is not read again; its rejects are reported again.
async fn unchanged(
    campaign: &Campaign,
    store: &Store,
    last: FinishedImport,
) -> Result<ImportSummary, ImportError> {
    let rejects = store.rejects().await?;
    Ok(ImportSummary {
        records: last.records,
        new: 0,
        already_imported: last.accepted,
        duplicates: last.duplicates,
        rejected: rejects.len() as u64 - last.duplicates,
        rejects_file: report_rejects(&campaign.list, &rejects)?,
        ignored_columns: last.ignored_columns,
        unchanged: true,
    })
}

/// What storing has done so far: the import's pass over the store, its transaction (if open)
/// and the rows stored in it, the counts and the lines the store refused.
#[derive(Default)]
struct Stored {
    pass: ImportPass,
    tx: Option<ImportTx>,
    uncommitted: usize,
    summary: ImportSummary,
    rejects: Vec<Reject>,
}

impl Stored {
    async fn commit(&mut self) -> Result<(), StoreError> {
        if let Some(tx) = self.tx.take() {
            tx.commit().await?;
        }
        self.uncommitted = 0;
        Ok(())
    }
}

async fn store_batch(
    store: &Store,
    stored: &mut Stored,
    checked: Checked,
) -> Result<(), ImportError> {
    let tx = match stored.tx.take() {
        Some(tx) => tx,
        None => store.begin_import().await?,
    };
    let tx = stored.tx.insert(tx);
    let results = tx.import_rows(&mut stored.pass, &checked.rows).await?;
    stored.uncommitted += checked.rows.len();
    let (summary, rejects) = (&mut stored.summary, &mut stored.rejects);
    for ((row, result), extra) in checked.rows.into_iter().zip(results).zip(checked.extras) {
        let (row, result) = match result {
            Inserted::LabelTaken(first) if extra.label_generated => {
                match relabel(tx, &mut stored.pass, &row).await? {
                    Some(relabeled) => relabeled,
                    None => (row, Inserted::LabelTaken(first)),
                }
            }
            result => (row, result),
        };
        let reason = match result {
            Inserted::New => {
                summary.new += 1;
                continue;
            }
            Inserted::AlreadyImported => {
                summary.already_imported += 1;
                continue;
            }
            Inserted::DuplicateOf(first) => {
                summary.duplicates += 1;
                format!(
                    "duplicate of line {first}: {} is dialed once",
                    row.to.masked()
                )
            }
            Inserted::LabelTaken(first) => {
                format!("label {:?} is already used by line {first}", row.label)
            }
        };
        rejects.push(Reject {
            line: row.line,
            reason,
            raw: row.to.to_string(),
            to: extra.to_written,
        });
    }
    if stored.uncommitted >= COMMIT_ROWS {
        stored.commit().await?;
    }
    Ok(())
}

/// A generated label (`<campaign>-<line>`) is taken when the list changed since an earlier
/// import put someone else on this line (a line inserted above, a sort): the row gets the
/// first free `<campaign>-<line>-<n>` rather than being refused. A label once given is never
/// changed, since it is how an attempt is found at Twilio.
async fn relabel(
    tx: &mut ImportTx,
    pass: &mut ImportPass,
    row: &NewRow,
) -> Result<Option<(NewRow, Inserted)>, ImportError> {
    let mut relabeled = row.clone();
    for n in 2..=MAX_RELABELS {
        // A label too long to take a suffix is refused as taken.
        let Ok(label) = Label::parse(&format!("{}-{n}", row.label)) else {
            return Ok(None);
        };
        relabeled.label = label;
        let result = tx
            .import_rows(pass, std::slice::from_ref(&relabeled))
            .await?
            .remove(0);
        if !matches!(result, Inserted::LabelTaken(_)) {
            return Ok(Some((relabeled, result)));
        }
    }
    Ok(None)
}

fn first_bytes(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut start = [0u8; 64];
    let n = std::fs::File::open(path)?.read(&mut start)?;
    Ok(start[..n].to_vec())
}

/// UTF-16 with its byte order mark, or without one (as some exports write it): ASCII text in
/// UTF-16 has a zero byte beside every character, which a UTF-8 list never has.
fn is_utf16(start: &[u8]) -> bool {
    let with_mark = start.starts_with(&[0xFF, 0xFE]) || start.starts_with(&[0xFE, 0xFF]);
    let pairs = start.len() / 2;
    let zeros_at = |parity: usize| {
        start
            .chunks_exact(2)
            .filter(|pair| pair[parity] == 0 && pair[1 - parity] != 0)
            .count()
    };
    with_mark || (pairs >= 2 && (zeros_at(0) * 2 > pairs || zeros_at(1) * 2 > pairs))
}
