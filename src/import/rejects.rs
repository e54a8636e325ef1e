//! Refused lines: on stderr with their line numbers, and in `<list>.rejects.csv` beside the list
//! (its text cells written so that a spreadsheet does not evaluate them).

use super::ImportError;
use crate::foreign_text::spreadsheet_cell;
use crate::store::Reject;
use std::path::{Path, PathBuf};

/// Each reject on stderr with its line, and all of them in the rejects file.
pub fn report_rejects(list: &Path, rejects: &[Reject]) -> Result<Option<PathBuf>, ImportError> {
    let shown = list.display();
    for reject in rejects {
        crate::diagnostic!("{}:{}: {}", shown, reject.line, reject.reason);
    }
    write_rejects(list, rejects)
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
            .write_record([
                r.line.to_string().as_str(),
                &spreadsheet_cell(&r.reason),
                &spreadsheet_cell(&r.raw),
            ])
            .map_err(err)?;
    }
    writer.flush().map_err(|e| err(e.into()))?;
    Ok(Some(path))
}
