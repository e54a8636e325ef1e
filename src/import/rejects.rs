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
        let fields = serde_json::json!({
            "file": list.display().to_string(),
            "line": reject.line,
            "code": code(&reject.reason),
        });
        crate::telemetry::diagnostic_with(
            tracing::Level::WARN,
            format_args!("{}:{}: {}", shown, reject.line, reject.reason),
            fields,
        );
    }
    write_rejects(list, rejects)
}

/// A reject's reason as a short code, for machines (`--log-format json`). Reasons are written
/// for people where a line is refused; each kind opens with the same words, read here.
fn code(reason: &str) -> &'static str {
    const OPENINGS: &[(&str, &str)] = &[
        ("duplicate of line ", "duplicate"),
        ("label ", "label_taken"),
        ("unreadable CSV", "unreadable"),
        ("a quote opened ", "unclosed_quote"),
        ("has ", "field_count"),
        ("invalid to:", "invalid_to"),
        ("invalid from:", "invalid_from"),
        ("invalid conference:", "invalid_conference"),
        ("invalid label:", "invalid_label"),
        ("invalid timezone:", "invalid_timezone"),
        ("invalid number_region:", "invalid_number_region"),
    ];
    OPENINGS
        .iter()
        .find(|(opening, _)| reason.starts_with(opening))
        .map_or("invalid_value", |(_, code)| code)
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

#[cfg(test)]
mod tests {
    use super::code;

    #[test]
    fn each_kind_of_reject_has_its_code() {
        let cases = [
            ("duplicate of line 2: +1415…01 is dialed once", "duplicate"),
            ("has 3 fields, the header has 2", "field_count"),
            ("invalid to: not a phone number", "invalid_to"),
            ("label \"a\" is already used by line 4", "label_taken"),
            ("Timeout: must be a whole number", "invalid_value"),
        ];
        for (reason, expected) in cases {
            assert_eq!(code(reason), expected, "{reason}");
        }
    }
}
