//! Text that came from outside (a list's cells, Twilio's messages), made safe for where dialer
//! writes it.
//!
//! A spreadsheet evaluates a CSV cell that starts like a formula when the owner opens the file
//! (CSV injection: `=cmd|" /C calc"!A0`, `@SUM(1)`), so every text cell dialer writes to a CSV
//! file goes through [`spreadsheet_cell`], which makes such a cell plain text with a leading `'`
//! (what OWASP recommends, and what spreadsheets show as the text itself). Numbers, E.164 ones
//! included, are left as they are.

use std::borrow::Cow;

/// `cell`, or `'cell` when a spreadsheet would evaluate it: it starts with `=`, `@`, a tab or a
/// carriage return, or with `+` or `-` not followed by a plain number (`+15550000002` and
/// `-2.5` stay as they are).
pub fn spreadsheet_cell(cell: &str) -> Cow<'_, str> {
    let evaluated = match cell.chars().next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => !is_plain_number(&cell[1..]),
        _ => false,
    };
    if evaluated {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Digits with at most one decimal point, and at least one digit.
fn is_plain_number(text: &str) -> bool {
    text.bytes().any(|b| b.is_ascii_digit())
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && text.bytes().filter(|b| *b == b'.').count() <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_evaluate_are_written_as_text() {
        for (cell, written) in [
            ("=cmd|\" /C calc\"!A0", "'=cmd|\" /C calc\"!A0"),
            ("@SUM(1)", "'@SUM(1)"),
            ("+SUM(1)", "'+SUM(1)"),
            ("-1+2", "'-1+2"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("+", "'+"),
            ("+1 (415) 867-5309", "'+1 (415) 867-5309"),
        ] {
            assert_eq!(spreadsheet_cell(cell), written, "{cell:?}");
        }
    }

    #[test]
    fn numbers_and_ordinary_text_stay_as_they_are() {
        for cell in [
            "+15550000002",
            "-2.5",
            "42",
            "",
            "spring-2",
            "failed: error 21211: Invalid 'To' Phone Number",
            "a=b",
        ] {
            assert!(
                matches!(spreadsheet_cell(cell), Cow::Borrowed(c) if c == cell),
                "{cell:?}"
            );
        }
    }
}
