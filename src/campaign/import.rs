//! The list: a CSV file streamed into the campaign database. Each record is read as raw bytes,
//! checked in full (a complete Create Participant request is built from it), and either
//! imported or rejected with its line number and reason; the good rows always go on.
//! Re-importing is idempotent: rows already imported are recognised by their `to`.

use super::config::Campaign;
use super::list_fingerprint::{self, Digesting, ListStamp};
use super::list_text::LineEnds;
use crate::domain::{Caller, ConferenceTarget, Endpoint, Invalid, Label, callee_zone};
use crate::store::{FinishedImport, ImportPass, Inserted, NewRow, Reject, Store, StoreError};
use crate::twilio::{CreateParticipant, ParticipantOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const BATCH: usize = 1000;
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

/// Columns dialer itself reads besides Twilio's parameters.
/// `timezone` is the callee's IANA zone, for the calling window.
const OWN_COLUMNS: [&str; 5] = ["to", "from", "conference", "label", "timezone"];

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
    if bytes_start.starts_with(&[0xFF, 0xFE]) || bytes_start.starts_with(&[0xFE, 0xFF]) {
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
    let mut summary = ImportSummary {
        ignored_columns: columns
            .iter()
            .filter(|c| c.ignored)
            .map(|c| c.name.clone())
            .collect(),
        ..ImportSummary::default()
    };
    let mut rejects = Vec::new();
    let mut batch = Vec::with_capacity(BATCH);
    let mut extras = Vec::with_capacity(BATCH);
    let mut pass = ImportPass::default();
    // Two buffers: the last record read stays in `record` after the end of the file.
    let (mut record, mut next) = (csv::ByteRecord::new(), csv::ByteRecord::new());
    let mut last_line = 0;
    let mut read_to_the_end = true;
    loop {
        // Flushed before reading, so the last record is still at hand when the file ends.
        if batch.len() >= BATCH {
            store_batch(
                store,
                &mut pass,
                &mut batch,
                &mut extras,
                &mut summary,
                &mut rejects,
            )
            .await?;
        }
        let line_before = reader.position().line();
        match reader.read_byte_record(&mut next) {
            Ok(false) => break,
            Ok(true) => std::mem::swap(&mut record, &mut next),
            Err(e) => {
                // Only I/O fails here (the reader is flexible and reads bytes): stop reading.
                rejects.push(Reject {
                    line: line_before,
                    reason: format!("unreadable CSV: {e}"),
                    raw: String::new(),
                });
                read_to_the_end = false;
                break;
            }
        }
        let line = reader.get_mut().next_record_start().unwrap_or(line_before);
        last_line = line;
        summary.records += 1;
        match parse_record(campaign, &columns, header.len(), &record, line) {
            Ok((row, extra)) => {
                batch.push(row);
                extras.push(extra);
            }
            Err(reason) => rejects.push(Reject {
                line,
                reason,
                raw: raw_text(&record),
            }),
        }
    }
    if let Some(opened) = reader.get_ref().unclosed_quote() {
        // The quote swallowed every line after it into the last record: refuse that record,
        // whatever it held, so the swallowed lines are seen in the rejects.
        let end = reader.get_ref().last_line();
        if summary.records == 0 {
            let reason = format!(
                "has a quote opened on line {opened} that is never closed: its header runs to line {end}"
            );
            return Err(ImportError::Unusable {
                path: shown,
                reason,
            });
        }
        let reason = format!(
            "a quote opened on line {opened} is never closed: lines {opened} to {end} were read as one field"
        );
        if batch.last().is_some_and(|row| row.line == last_line) {
            batch.pop();
            extras.pop();
            rejects.push(Reject {
                line: last_line,
                reason,
                raw: raw_text(&record),
            });
        } else if let Some(last) = rejects.iter_mut().rev().find(|r| r.line == last_line) {
            last.reason = reason;
        }
    }
    store_batch(
        store,
        &mut pass,
        &mut batch,
        &mut extras,
        &mut summary,
        &mut rejects,
    )
    .await?;
    rejects.sort_by_key(|r| r.line);
    summary.rejected = rejects.len() as u64 - summary.duplicates;
    let fingerprint = reader.into_inner().into_inner().finish();
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

/// Each reject on stderr with its line, and all of them in the rejects file.
fn report_rejects(list: &Path, rejects: &[Reject]) -> Result<Option<PathBuf>, ImportError> {
    let shown = list.display();
    for reject in rejects {
        eprintln!("dialer: {}:{}: {}", shown, reject.line, reject.reason);
    }
    write_rejects(list, rejects)
}

async fn store_batch(
    store: &Store,
    pass: &mut ImportPass,
    batch: &mut Vec<NewRow>,
    extras: &mut Vec<RowExtras>,
    summary: &mut ImportSummary,
    rejects: &mut Vec<Reject>,
) -> Result<(), ImportError> {
    if batch.is_empty() {
        return Ok(());
    }
    let results = store.import_rows(pass, batch).await?;
    let mut known_zones = Vec::new();
    for ((row, result), extra) in batch.drain(..).zip(results).zip(extras.drain(..)) {
        let (row, result) = match result {
            Inserted::LabelTaken(first) if extra.label_generated => {
                match relabel(store, pass, &row).await? {
                    Some(relabeled) => relabeled,
                    None => (row, Inserted::LabelTaken(first)),
                }
            }
            result => (row, result),
        };
        let reason = match result {
            Inserted::New => {
                summary.new += 1;
                known_zones.extend(extra.zone.map(|zone| (row.to, zone)));
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
                    mask(&row.to)
                )
            }
            Inserted::LabelTaken(first) => {
                format!("label {:?} is already used by line {first}", row.label)
            }
        };
        rejects.push(Reject {
            line: row.line,
            reason,
            raw: row.to,
        });
    }
    if !known_zones.is_empty() {
        store.assign_timezones(&known_zones).await?;
    }
    Ok(())
}

struct Column {
    name: String,
    ignored: bool,
}

fn header_columns(header: &csv::ByteRecord) -> Result<Vec<Column>, String> {
    let mut columns = Vec::with_capacity(header.len());
    for field in header {
        let name =
            std::str::from_utf8(field).map_err(|_| "has a header that is not UTF-8".to_string())?;
        let name = name.trim().to_ascii_lowercase();
        let param = ParticipantOptions::lookup(&name);
        if let Some(var) = param.and_then(|p| p.env_var()) {
            return Err(format!(
                "has a {name:?} column: a credential is read from {var} in the environment, never from the list"
            ));
        }
        let known = OWN_COLUMNS.contains(&name.as_str()) || param.is_some();
        if columns.iter().any(|c: &Column| c.name == name) {
            return Err(format!("has the column {name:?} twice"));
        }
        columns.push(Column {
            name,
            ignored: !known,
        });
    }
    if !columns.iter().any(|c| c.name == "to") {
        return Err("has no `to` column in its header line".to_string());
    }
    Ok(columns)
}

/// What import knows of a row besides what it stores with it.
struct RowExtras {
    /// The callee's zone (`None`: the campaign's).
    zone: Option<String>,
    /// The list gave no label: dialer made one from the line.
    label_generated: bool,
}

/// Checks one record as the request it will become, and keeps only its own values.
fn parse_record(
    campaign: &Campaign,
    columns: &[Column],
    width: usize,
    record: &csv::ByteRecord,
    line: u64,
) -> Result<(NewRow, RowExtras), String> {
    if record.len() != width {
        let fields = match record.len() {
            1 => "1 field".to_string(),
            n => format!("{n} fields"),
        };
        return Err(format!("has {fields}, the header has {width}"));
    }
    let mut own = BTreeMap::new();
    let mut options = ParticipantOptions::default();
    for (column, field) in columns.iter().zip(record) {
        if column.ignored {
            continue;
        }
        let value = std::str::from_utf8(field)
            .map_err(|_| format!("{}: is not valid UTF-8", column.name))?;
        if value.is_empty() {
            continue;
        }
        if !OWN_COLUMNS.contains(&column.name.as_str()) {
            options
                .set(&column.name, value)
                .map_err(|e| e.to_string())?;
        }
        own.insert(column.name.clone(), value.to_owned());
    }
    let to = own.get("to").ok_or("missing `to`")?;
    let to = Endpoint::parse(to).map_err(|e| format!("invalid to: {e}"))?;
    let from = match own.get("from") {
        Some(raw) => Caller::parse(raw).map_err(|e| format!("invalid from: {e}"))?,
        None => campaign.from.clone(),
    };
    if let Some(raw) = own.get("conference") {
        ConferenceTarget::parse(raw).map_err(|e| format!("invalid conference: {e}"))?;
    }
    let label_generated = !own.contains_key("label");
    let label = match own.remove("label") {
        Some(raw) => Label::parse(&raw).map_err(|e| format!("invalid label: {e}"))?,
        None => generated_label(&campaign.name, line).map_err(|e| format!("invalid label: {e}"))?,
    };
    options.label = Some(label.clone());
    CreateParticipant::new(from, to.clone(), options.or_defaults(&campaign.defaults))
        .map_err(|e| e.to_string())?;
    let zone = callee_zone(own.remove("timezone").as_deref(), &to)
        .map_err(|e| format!("invalid timezone: {e}"))?;
    own.remove("to");
    let params = serde_json::to_string(&own).map_err(|e| e.to_string())?;
    let row = NewRow {
        line,
        to: to.to_string(),
        label: label.to_string(),
        params,
    };
    Ok((
        row,
        RowExtras {
            zone,
            label_generated,
        },
    ))
}

/// A generated label (`<campaign>-<line>`) is taken when the list changed since an earlier
/// import put someone else on this line (a line inserted above, a sort): the row gets the
/// first free `<campaign>-<line>-<n>` rather than being refused. A label once given is never
/// changed, since it is how an attempt is found at Twilio.
async fn relabel(
    store: &Store,
    pass: &mut ImportPass,
    row: &NewRow,
) -> Result<Option<(NewRow, Inserted)>, ImportError> {
    let mut relabeled = row.clone();
    for n in 2..=MAX_RELABELS {
        relabeled.label = format!("{}-{n}", row.label);
        let result = store
            .import_rows(pass, std::slice::from_ref(&relabeled))
            .await?
            .remove(0);
        if !matches!(result, Inserted::LabelTaken(_)) {
            return Ok(Some((relabeled, result)));
        }
    }
    Ok(None)
}

/// Unique within the campaign, and recognisable in a shared conference.
fn generated_label(campaign: &str, line: u64) -> Result<Label, Invalid> {
    let slug: String = campaign
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(40)
        .collect();
    Label::parse(&format!("{slug}-{line}"))
}

fn raw_text(record: &csv::ByteRecord) -> String {
    record
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect::<Vec<_>>()
        .join(",")
}

fn mask(to: &str) -> String {
    Endpoint::parse(to).map(|e| e.masked()).unwrap_or_default()
}

fn first_bytes(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut start = [0u8; 4];
    let n = std::fs::File::open(path)?.read(&mut start)?;
    Ok(start[..n].to_vec())
}

/// `list.csv` → `list.rejects.csv` beside it (removed when nothing is rejected).
fn write_rejects(list: &Path, rejects: &[Reject]) -> Result<Option<PathBuf>, ImportError> {
    let stem = list
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "list".into());
    let path = list.with_file_name(format!("{stem}.rejects.csv"));
    if rejects.is_empty() {
        let _ = std::fs::remove_file(&path);
        return Ok(None);
    }
    let shown = path.display().to_string();
    let err = |cause| ImportError::Rejects {
        path: shown.clone(),
        cause,
    };
    let mut writer = csv::Writer::from_path(&path).map_err(err)?;
    writer
        .write_record(["line", "reason", "raw"])
        .map_err(err)?;
    for r in rejects {
        writer
            .write_record([r.line.to_string().as_str(), &r.reason, &r.raw])
            .map_err(err)?;
    }
    writer.flush().map_err(|e| err(e.into()))?;
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::header_columns;

    fn header(line: &str) -> Result<Vec<(String, bool)>, String> {
        let record = csv::ByteRecord::from(line.split(',').collect::<Vec<_>>());
        header_columns(&record).map(|cols| cols.into_iter().map(|c| (c.name, c.ignored)).collect())
    }

    #[test]
    fn columns_are_known_parameters_own_columns_or_ignored() {
        let cols = header(" To ,Timeout,conference,notes").unwrap();
        assert_eq!(
            cols,
            [
                ("to".into(), false),
                ("timeout".into(), false),
                ("conference".into(), false),
                ("notes".into(), true)
            ]
        );
    }

    #[test]
    fn an_unusable_header_says_why() {
        for (line, want) in [
            ("from,timeout", "no `to` column"),
            ("to,timeout,Timeout", "\"timeout\" twice"),
            (
                "to,sip_auth_password",
                "DIALER_SIP_AUTH_PASSWORD in the environment",
            ),
            ("to,call_token", "DIALER_CALL_TOKEN"),
        ] {
            let err = header(line).unwrap_err();
            assert!(err.contains(want), "{line}: {err}");
        }
    }
}
