//! Property tests of the list import, in process (the real `import` into a fresh store):
//! whatever the bytes, it never panics and counts every record once; for generated lists
//! whose good and bad lines are known, each line is imported or rejected, by its number.
//! `PROPTEST_CASES=20000 cargo test --locked --test it bad_input::list_properties` runs long.

use super::proptest_config;
use dialer::config::Campaign;
use dialer::domain::Endpoint;
use dialer::import::{self, ImportError, ImportSummary};
use dialer::store::{RowExport, Store};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Imports `list` as a fresh campaign's list: the summary and every line the store records.
fn import(list: &[u8]) -> Result<(ImportSummary, Vec<RowExport>), ImportError> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("c.toml");
    std::fs::write(
        &file,
        "[campaign]\nname = \"p\"\nlist = \"l.csv\"\nconference = \"Room\"\nfrom = \"+15017122661\"\ncps = 30\n",
    )
    .expect("write campaign");
    std::fs::write(dir.path().join("l.csv"), list).expect("write list");
    let campaign = Campaign::load(&file).expect("campaign loads");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = Store::open(&campaign.database, &campaign.name)
            .await
            .expect("store opens");
        let summary = import::import(&campaign, &store).await;
        let rows = store.export_rows().await.expect("rows read");
        store.close().await;
        summary.map(|s| (s, rows))
    })
}

/// Line ends of any kind (CRLF, LF, lone CR), each counted once.
fn lines_in(bytes: &[u8]) -> u64 {
    let ends = bytes
        .iter()
        .enumerate()
        .filter(|(i, b)| **b == b'\n' && (*i == 0 || bytes[i - 1] != b'\r') || **b == b'\r')
        .count() as u64;
    ends + 1
}

/// Bytes that look like a list often enough to reach past the header.
fn list_bytes() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        3 => proptest::sample::select(b"+0123456789 ,\"\r\n-()x".to_vec()),
        1 => any::<u8>(),
    ];
    (
        proptest::sample::select(vec![
            "",
            "to\n",
            "to,timeout,label\r\n",
            "\u{feff}note,to\n",
        ]),
        proptest::collection::vec(byte, 0..300),
    )
        .prop_map(|(header, body)| [header.as_bytes(), &body].concat())
}

proptest! {
    #![proptest_config(proptest_config(64))]

    #[test]
    fn any_bytes_are_imported_or_rejected_record_by_record_without_panicking(list in list_bytes()) {
        let Ok((summary, rows)) = import(&list) else {
            return Ok(()); // refused whole (no header, not UTF-8, ...): nothing imported
        };
        let s = &summary;
        prop_assert_eq!(s.records, s.new + s.already_imported + s.rejected + s.duplicates);
        prop_assert_eq!(rows.len() as u64, s.records, "one stored line per record");
        let last = lines_in(&list);
        let mut seen = std::collections::BTreeSet::new();
        for row in &rows {
            prop_assert!((2..=last).contains(&row.line), "line {} of {}", row.line, last);
            prop_assert!(seen.insert(row.line), "line {} twice", row.line);
            if row.state.as_str() != "rejected" {
                let to = Endpoint::parse(&row.to).expect("an imported number is valid");
                prop_assert_eq!(to.to_string(), row.to.clone());
            }
        }
    }
}

/// One generated list line and what the import must do with it.
#[derive(Debug, Clone)]
enum Line {
    /// A valid number (`n` picks it), formatted in one of the documented ways.
    Good {
        n: u8,
        format: u8,
    },
    Bad(&'static str),
    Blank,
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        4 => (0u8..12, 0u8..4).prop_map(|(n, format)| Line::Good { n, format }),
        2 => proptest::sample::select(vec![
            "4155550100,,", "+1415555010x,,", "+1,,", "+14155550100,4,", "+14155550100,20,x,y",
            "+14155550100", ",20,", "\"+1 415\" 555x,,", "+1 415 555 0100 ext 2,,",
        ]).prop_map(Line::Bad),
        1 => Just(Line::Blank),
    ]
}

fn number(n: u8) -> String {
    format!("+1415555{:04}", 200 + u32::from(n))
}

fn formatted(n: u8, format: u8) -> String {
    let d = number(n);
    match format {
        0 => d,
        1 => format!("{} ({}) {}-{}", &d[..2], &d[2..5], &d[5..8], &d[8..]),
        2 => format!("\"{}.{}.{}\"", &d[..5], &d[5..8], &d[8..]),
        _ => format!(" {}-{} ", &d[..5], &d[5..]),
    }
}

proptest! {
    #![proptest_config(proptest_config(48))]

    #[test]
    fn every_generated_line_is_imported_or_rejected_by_its_own_number(
        lines in proptest::collection::vec(line(), 0..40),
        end in proptest::sample::select(vec!["\n", "\r\n", "\r"]),
        bom in any::<bool>(),
        note_over_two_lines in any::<bool>(),
    ) {
        // Arrange: the list, and the fate of each line by its number.
        let mut list = String::from(if bom { "\u{feff}to,timeout,note" } else { "to,timeout,note" });
        let mut line_no = 1;
        let (mut imported, mut rejected) = (BTreeMap::new(), Vec::new());
        for l in &lines {
            list.push_str(end);
            line_no += 1;
            match l {
                Line::Blank => {}
                Line::Good { n, format } => {
                    list.push_str(&format!("{},20,", formatted(*n, *format)));
                    if imported.values().any(|to| *to == number(*n)) {
                        rejected.push(line_no); // a duplicate of an earlier line
                    } else {
                        imported.insert(line_no, number(*n));
                    }
                    if note_over_two_lines && n % 3 == 0 {
                        list.push_str(&format!("\"a note,{end}on two lines\""));
                        line_no += 1;
                    }
                }
                Line::Bad(text) => {
                    list.push_str(text);
                    rejected.push(line_no);
                }
            }
        }

        let (summary, rows) = import(list.as_bytes()).expect("a list with a header imports");

        let got_imported: BTreeMap<u64, String> = rows
            .iter()
            .filter(|r| r.state.as_str() != "rejected")
            .map(|r| (r.line, r.to.clone()))
            .collect();
        let got_rejected: Vec<u64> = rows.iter().filter(|r| r.state.as_str() == "rejected").map(|r| r.line).collect();
        prop_assert_eq!(got_imported, imported);
        prop_assert_eq!(got_rejected, rejected);
        prop_assert_eq!(summary.records, summary.new + summary.rejected + summary.duplicates);
    }
}
