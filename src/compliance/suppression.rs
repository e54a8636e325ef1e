//! Do-not-call lists: files of numbers that must never be dialed, read once per run so that a
//! list edited between runs is honoured by the next one. A file is told from its first line:
//! the National DNC Registry's flat file (`415,8675309`), a CSV whose header has a `to`,
//! `phone`, `number` or `phone_number` column, one column under any other header, or plain
//! numbers one per line. Numbers are read as the list's are: with the campaign's
//! `default_region`, national ones too (`(415) 867-5309`), without it only with a `+` and the
//! country code. In a CSV or a column, a line that is not a number is reported with
//! its line number and skipped; a registry line out of format, a header without a number
//! column, or a file that cannot be read stops the run, since dialing without the list could
//! call someone on it.
//!
//! The Registry's data must be fresh: files in its layout (the download and its change lists)
//! older than `suppression.max_age` (31 days, the FTC's safe harbour) stop the run before any
//! call, naming the files and their age. The Registry's change lists of deleted numbers
//! (`suppression.deletions`) take those numbers out of its files, never out of the owner's.

use crate::config::rules::Suppression;
use crate::domain::{Endpoint, PhoneNumber, Region};
use crate::store::{Store, StoreError};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::SystemTime;

/// Header names of the column holding the numbers, in order of preference.
const NUMBER_COLUMNS: [&str; 4] = ["to", "phone", "number", "phone_number"];

/// Pending rows read per page when marking listed numbers.
const PAGE: i64 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum SuppressionError {
    #[error("could not read the suppression list {path}: {cause}")]
    Read { path: String, cause: csv::Error },
    #[error(
        "{path}:{line}: this suppression list's header has none of the columns to, phone, number, phone_number, and its first line is not a number"
    )]
    NoNumberColumn { path: String, line: u64 },
    #[error("{path}:{line}: this suppression list's line {why}")]
    Malformed {
        path: String,
        line: u64,
        why: String,
    },
    #[error(
        "the Do Not Call Registry's data ({files}) is {age_days} days old, {dated}, over \
         suppression.max_age ({max_days} days; the FTC's safe harbour needs data at most 31 \
         days old): download the Registry again, or its change lists, then set \
         suppression.as_of if the files' dates do not say when"
    )]
    Stale {
        files: String,
        age_days: u64,
        dated: String,
        max_days: u64,
    },
    #[error(
        "the Do Not Call Registry's data ({files}) has no modification time to tell its age: \
         set suppression.as_of to the date it was downloaded"
    )]
    Undated { files: String },
}

/// Every listed number, file by file, each file with why its numbers are listed: "on dnc.csv".
#[derive(Debug, Clone, Default)]
pub struct SuppressionLists {
    files: Vec<Arc<ListedFile>>,
    /// Numbers the Registry's change lists say were deleted from it.
    deleted: Vec<Arc<ListedFile>>,
}

/// One file's numbers, as E.164 digits in a `u64` (at most 15 digits, never a leading 0):
/// a registry download of millions of numbers takes a few bytes per number, not a string each.
#[derive(Debug)]
struct ListedFile {
    name: String,
    reason: Arc<str>,
    numbers: HashSet<u64>,
    /// In the Registry's layout: its download, or one of its change lists.
    registry: bool,
    modified: Option<SystemTime>,
}

/// A file's identity between two reads: unchanged length and modification time mean the
/// same list, which a long-running worker then does not read again.
type Stamp = (u64, SystemTime);

/// Files read by this process, by path and region, with their stamp when read.
type ReadFiles = HashMap<(PathBuf, Option<Region>), (Stamp, Arc<ListedFile>)>;
static READ: LazyLock<Mutex<ReadFiles>> = LazyLock::new(Mutex::default);

impl SuppressionLists {
    /// Reads every list, numbers read in `region` when there is one; bad lines go to stderr
    /// as `dialer: PATH:LINE: why`. A file unchanged since this process last read it is not
    /// read again. `now_ms`, on the store's clock, is what the Registry's data is aged by.
    pub fn load(
        config: &Suppression,
        region: Option<Region>,
        now_ms: i64,
    ) -> Result<Self, SuppressionError> {
        let read = |paths: &[PathBuf]| {
            paths
                .iter()
                .map(|path| ListedFile::read_unless_known(path, region))
                .collect::<Result<Vec<_>, _>>()
        };
        let lists = Self {
            files: read(&config.lists)?,
            deleted: read(&config.deletions)?,
        };
        let now = SystemTime::UNIX_EPOCH
            + std::time::Duration::from_millis(u64::try_from(now_ms).unwrap_or(0));
        lists.check_fresh(config, now)?;
        Ok(lists)
    }

    /// Refuses Registry data older than `max_age`: dated by `as_of`, else by the newest of
    /// its files (a change list applied on a full download freshens it).
    fn check_fresh(&self, config: &Suppression, now: SystemTime) -> Result<(), SuppressionError> {
        let registry: Vec<&ListedFile> = self
            .files
            .iter()
            .filter(|file| file.registry)
            .chain(&self.deleted)
            .map(|file| &**file)
            .collect();
        if registry.is_empty() {
            return Ok(());
        }
        let files = registry
            .iter()
            .map(|file| file.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let (dated, how) = match config.as_of {
            Some(date) => {
                let midnight = date.to_zoned(jiff::tz::TimeZone::UTC).ok();
                let at = midnight.map(|z| SystemTime::from(z.timestamp()));
                (at, format!("as of {date} (suppression.as_of)"))
            }
            None => {
                let newest = registry
                    .iter()
                    .map(|file| file.modified)
                    .collect::<Option<Vec<_>>>()
                    .and_then(|times| times.into_iter().max());
                let Some(newest) = newest else {
                    return Err(SuppressionError::Undated { files });
                };
                let day = jiff::Timestamp::try_from(newest)
                    .map(|t| t.strftime("%Y-%m-%d").to_string())
                    .unwrap_or_default();
                (Some(newest), format!("its newest file last changed {day}"))
            }
        };
        let age = dated
            .and_then(|at| now.duration_since(at).ok())
            .unwrap_or_default();
        if age <= config.max_age {
            return Ok(());
        }
        Err(SuppressionError::Stale {
            files,
            age_days: (age.as_secs_f64() / 86_400.0).round() as u64,
            dated: how,
            max_days: config.max_age.as_secs() / 86_400,
        })
    }

    /// Numbers listed, counted once per file that lists them.
    pub fn len(&self) -> usize {
        self.files.iter().map(|file| file.numbers.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.files.iter().all(|file| file.numbers.is_empty())
    }

    /// Why `to` must not be dialed, if it is listed.
    pub fn reason_for(&self, to: &Endpoint) -> Option<&str> {
        let key = key_of(to.as_str())?;
        let deleted = self.deleted.iter().any(|file| file.numbers.contains(&key));
        self.files
            .iter()
            .find(|file| file.numbers.contains(&key) && !(file.registry && deleted))
            .map(|file| &*file.reason)
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
}

impl ListedFile {
    /// The file's numbers, read again only when its stamp changed since this process read it.
    fn read_unless_known(
        path: &Path,
        region: Option<Region>,
    ) -> Result<Arc<Self>, SuppressionError> {
        // No modification time (some file systems): read every time.
        let stamp = std::fs::metadata(path)
            .ok()
            .and_then(|meta| Some((meta.len(), meta.modified().ok()?)));
        let key = (path.to_owned(), region);
        let mut read = READ.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(stamp) = stamp
            && let Some((known, file)) = read.get(&key)
            && *known == stamp
        {
            return Ok(file.clone());
        }
        let modified = stamp.map(|(_, modified)| modified);
        let file = Arc::new(Self::read(path, region, modified)?);
        if let Some(stamp) = stamp {
            read.insert(key, (stamp, file.clone()));
        }
        Ok(file)
    }

    fn read(
        path: &Path,
        region: Option<Region>,
        modified: Option<SystemTime>,
    ) -> Result<Self, SuppressionError> {
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
        let mut numbers = HashSet::new();
        let mut layout = None;
        let mut record = csv::StringRecord::new();
        while reader.read_record(&mut record).map_err(read_error)? {
            let line = record.position().map_or(0, csv::Position::line);
            if record.iter().all(str::is_empty) {
                continue;
            }
            let layout = match layout {
                Some(layout) => layout,
                None => {
                    let found = Layout::of_first_line(&record, region).ok_or_else(|| {
                        SuppressionError::NoNumberColumn {
                            path: shown.clone(),
                            line,
                        }
                    })?;
                    layout = Some(found);
                    if matches!(found, Layout::Column { header: true, .. }) {
                        continue;
                    }
                    found
                }
            };
            match layout.number(&record, region) {
                Ok(number) => {
                    numbers.extend(key_of(number.as_str()));
                }
                Err(why) if layout == Layout::Registry => {
                    return Err(SuppressionError::Malformed {
                        path: shown,
                        line,
                        why,
                    });
                }
                Err(why) => crate::diagnostic!("{shown}:{line}: {why}; skipped"),
            }
        }
        Ok(Self {
            name,
            reason,
            numbers,
            registry: layout == Some(Layout::Registry),
            modified,
        })
    }
}

/// How a suppression file holds its numbers, told from its first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// The National Do Not Call Registry's download: `AAA,NNNNNNN` (area code, then the
    /// seven-digit number), US numbers only. Every line must be so.
    Registry,
    /// The numbers are in one column, under a header line or not.
    Column { index: usize, header: bool },
}

impl Layout {
    fn of_first_line(record: &csv::StringRecord, region: Option<Region>) -> Option<Self> {
        if registry_number(record).is_some() {
            return Some(Self::Registry);
        }
        if PhoneNumber::parse_in(record.get(0).unwrap_or_default(), region).is_ok() {
            return Some(Self::Column {
                index: 0,
                header: false,
            });
        }
        if record.len() == 1 {
            return Some(Self::Column {
                index: 0,
                header: true,
            });
        }
        NUMBER_COLUMNS.iter().find_map(|name| {
            let index = record.iter().position(|f| f.eq_ignore_ascii_case(name))?;
            Some(Self::Column {
                index,
                header: true,
            })
        })
    }

    fn number(
        self,
        record: &csv::StringRecord,
        region: Option<Region>,
    ) -> Result<PhoneNumber, String> {
        match self {
            Self::Registry => registry_number(record).ok_or_else(|| {
                format!(
                    "is not an area code and a seven-digit number like 415,8675309: {:?}",
                    record.iter().collect::<Vec<_>>().join(",")
                )
            }),
            Self::Column { index, .. } => {
                PhoneNumber::parse_in(record.get(index).unwrap_or_default(), region)
                    .map_err(|e| format!("not a number ({e})"))
            }
        }
    }
}

/// `+14158675309` → 14158675309: an E.164 number's digits (`None` for anything else).
fn key_of(e164: &str) -> Option<u64> {
    let digits = e164.strip_prefix('+')?;
    (digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// `415,8675309` → +14158675309.
fn registry_number(record: &csv::StringRecord) -> Option<PhoneNumber> {
    let [area, number] = [record.get(0)?, record.get(1)?];
    let digits = |s: &str, n| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if record.len() != 2 || !digits(area, 3) || !digits(number, 7) {
        return None;
    }
    PhoneNumber::parse(&format!("+1{area}{number}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> i64 {
        jiff::Timestamp::now().as_millisecond()
    }

    /// `[suppression] lists = paths`, the rest as the file's defaults.
    fn config(paths: &[PathBuf]) -> Suppression {
        Suppression {
            lists: paths.to_vec(),
            deletions: Vec::new(),
            max_age: crate::config::rules::REGISTRY_MAX_AGE,
            as_of: None,
        }
    }

    fn lists_from(name: &str, text: &str) -> Result<SuppressionLists, SuppressionError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        SuppressionLists::load(&config(&[path]), None, now())
    }

    #[test]
    fn registry_data_older_than_its_max_age_stops_the_run_and_a_change_list_freshens_it() {
        let dir = tempfile::tempdir().unwrap();
        let full = dir.path().join("dnc-full.txt");
        let deleted = dir.path().join("dnc-deleted.txt");
        let own = dir.path().join("our-own.csv");
        std::fs::write(
            &full,
            "415,8675309
212,5550100
",
        )
        .unwrap();
        std::fs::write(
            &deleted,
            "212,5550100
",
        )
        .unwrap();
        std::fs::write(&own, "to\n+12125550100\n").unwrap();
        let forty_days_ago = SystemTime::now() - std::time::Duration::from_secs(40 * 86_400);
        std::fs::File::options()
            .write(true)
            .open(&full)
            .unwrap()
            .set_modified(forty_days_ago)
            .unwrap();
        let stale = config(std::slice::from_ref(&full));
        let with_changes = Suppression {
            deletions: vec![deleted],
            ..config(&[full.clone(), own])
        };
        let dated = Suppression {
            as_of: Some(jiff::civil::date(2000, 1, 1)),
            ..config(&[full])
        };

        let refused = SuppressionLists::load(&stale, None, now())
            .unwrap_err()
            .to_string();
        let fresh = SuppressionLists::load(&with_changes, None, now()).unwrap();
        let old = SuppressionLists::load(&dated, None, now())
            .unwrap_err()
            .to_string();

        assert!(
            refused.starts_with("the Do Not Call Registry's data (dnc-full.txt) is 40 days old"),
            "{refused}"
        );
        assert!(
            refused.contains("over suppression.max_age (31 days"),
            "{refused}"
        );
        assert!(listed(&fresh, "+14158675309"));
        assert_eq!(
            fresh.reason_for(&Endpoint::parse("+12125550100").unwrap()),
            Some("on our-own.csv"),
            "deleted from the Registry, still on the owner's own list"
        );
        assert!(
            old.contains("as of 2000-01-01 (suppression.as_of)"),
            "{old}"
        );
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

    fn listed(lists: &SuppressionLists, number: &str) -> bool {
        lists
            .reason_for(&Endpoint::parse(number).unwrap())
            .is_some()
    }

    #[test]
    fn the_national_registrys_flat_file_lists_us_numbers_by_area_code() {
        let lists = lists_from(
            "2026-12-01.txt",
            "415,8675309\n212,5550100\n\n907,5550199\n",
        )
        .unwrap();

        assert_eq!(lists.len(), 3);
        assert!(listed(&lists, "+14158675309"));
        assert!(listed(&lists, "+12125550100"));
        assert!(listed(&lists, "+19075550199"));
        assert!(!listed(&lists, "+14158675300"));
    }

    #[test]
    fn a_registry_line_out_of_format_stops_the_run_naming_the_file_and_line() {
        let refused = lists_from("registry.txt", "415,8675309\n212,5550100\n212,555010\n");

        let err = refused.unwrap_err();
        assert!(
            matches!(err, SuppressionError::Malformed { line: 3, .. }),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(message.contains("registry.txt:3:"), "{message}");
        assert!(message.contains("212,555010"), "{message}");
    }

    #[test]
    fn a_csv_is_read_by_its_to_phone_number_or_phone_number_column() {
        for header in ["to", "Phone", "NUMBER", "phone_number"] {
            let text = format!("name,{header},notes\nAda,+14155550100,x\nBob,+442071838750,y\n");

            let lists = lists_from("dnc.csv", &text).unwrap();

            assert_eq!(lists.len(), 2, "{header}");
            assert!(listed(&lists, "+14155550100"), "{header}");
            assert!(listed(&lists, "+442071838750"), "{header}");
        }
    }

    #[test]
    fn one_column_under_any_header_is_read_as_numbers() {
        let lists = lists_from(
            "dnc.csv",
            "Do not call (exported)\n+14155550100\n+33142685300\n",
        )
        .unwrap();

        assert_eq!(lists.len(), 2);
        assert!(listed(&lists, "+14155550100"));
        assert!(listed(&lists, "+33142685300"));
    }

    #[test]
    fn a_header_without_a_number_column_is_refused_naming_its_line() {
        let refused = lists_from("dnc.csv", "name,email\nAda,ada@example.com\n");

        let err = refused.unwrap_err();
        assert!(
            matches!(err, SuppressionError::NoNumberColumn { line: 1, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("dnc.csv:1:"), "{err}");
    }

    #[test]
    fn with_the_campaigns_region_national_numbers_are_read_as_the_list_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dnc.csv");
        let text = "phone\n(415) 867-5309\n020 7183 8750\n+33 1 42 68 53 00\n";
        std::fs::write(&path, text).unwrap();
        let us = Region::parse("US").unwrap();

        let in_us =
            SuppressionLists::load(&config(std::slice::from_ref(&path)), Some(us), now()).unwrap();
        let without = SuppressionLists::load(&config(&[path]), None, now()).unwrap();

        assert!(listed(&in_us, "+14158675309"));
        assert!(listed(&in_us, "+33142685300"));
        assert_eq!(
            in_us.len(),
            2,
            "020… is no US number: skipped, said on stderr"
        );
        assert_eq!(without.len(), 1, "without a region only +33… is a number");
    }

    #[test]
    fn an_unchanged_file_is_read_once_and_a_changed_one_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dnc.txt");
        std::fs::write(&path, "+14155550100\n").unwrap();
        let paths = config(std::slice::from_ref(&path));

        let first = SuppressionLists::load(&paths, None, now()).unwrap();
        let again = SuppressionLists::load(&paths, None, now()).unwrap();
        std::fs::write(&path, "+14155550100\n+14155550101\n").unwrap();
        let changed = SuppressionLists::load(&paths, None, now()).unwrap();

        assert!(
            Arc::ptr_eq(&first.files[0], &again.files[0]),
            "not read again"
        );
        assert!(listed(&changed, "+14155550101"), "the new line is read");
        assert_eq!(changed.len(), 2);
    }

    #[test]
    fn a_missing_list_is_an_error_rather_than_an_empty_list() {
        let missing = SuppressionLists::load(
            &config(&[PathBuf::from("/nonexistent/dnc.csv")]),
            None,
            now(),
        );

        assert!(matches!(missing, Err(SuppressionError::Read { .. })));
    }
}
