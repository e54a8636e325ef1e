//! Text that came from outside (a list's cells, Twilio's messages), made safe for where dialer
//! writes it.
//!
//! A spreadsheet evaluates a CSV cell that starts like a formula when the owner opens the file
//! (CSV injection: `=cmd|" /C calc"!A0`, `@SUM(1)`), so every text cell dialer writes to a CSV
//! file goes through [`spreadsheet_cell`], which makes such a cell plain text with a leading `'`
//! (what OWASP recommends, and what spreadsheets show as the text itself). Numbers, E.164 ones
//! included, are left as they are.
//!
//! A terminal obeys the control characters it is sent (`ESC]0;…` retitles it, `ESC[31m`
//! colours it) and a log reader takes a line feed for a new line, so text from outside is
//! printed through [`printable`]: every control character shown escaped (`\x1b`, `\n`), and
//! cut with a mark past [`SHOWN_CHARS`], so a 20 KB message makes one short line.

use std::borrow::Cow;
use std::fmt::Write;

/// Characters of foreign text shown before it is cut.
pub const SHOWN_CHARS: usize = 300;

/// `text` with its control characters escaped and cut after [`SHOWN_CHARS`] characters, with
/// a mark saying how many more there were.
pub fn printable(text: &str) -> Cow<'_, str> {
    let cut = text.char_indices().nth(SHOWN_CHARS).map(|(at, _)| at);
    let kept = &text[..cut.unwrap_or(text.len())];
    let escaped = escaped(kept);
    match cut {
        None => escaped,
        Some(at) => {
            let more = text[at..].chars().count();
            Cow::Owned(format!("{escaped}… ({more} more characters)"))
        }
    }
}

/// `text` with every control character written as an escape (`\n`, `\r`, `\t`, `\x1b`,
/// `\u{9b}`), whatever its length.
pub fn escaped(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

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
    fn control_characters_are_shown_escaped() {
        assert_eq!(
            printable("a\x1b]0;owned\x07b\r\nc\td\u{9b}31m"),
            "a\\x1b]0;owned\\x07b\\r\\nc\\td\\u{9b}31m"
        );
        assert!(matches!(
            printable("plain text é"),
            Cow::Borrowed("plain text é")
        ));
    }

    #[test]
    fn long_text_is_cut_with_a_mark() {
        let long = "x".repeat(20_000);

        let shown = printable(&long);

        assert_eq!(
            shown,
            format!("{}… (19700 more characters)", "x".repeat(SHOWN_CHARS))
        );
        assert_eq!(printable(&long[..SHOWN_CHARS]), long[..SHOWN_CHARS]);
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
