//! Malformed lists and campaign files: the corpus in `tests/corpus/` (one expectation per file,
//! in each folder's `expect.toml`), the table of bad `[participant]` values, and property tests
//! of the list parser and of parameter validation.

mod campaigns;
mod list_properties;
mod lists;
mod param_properties;
mod params;

use proptest::test_runner::Config;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `tests/corpus/<folder>`.
fn corpus_dir(folder: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(folder)
}

/// Each file of a corpus folder (with the extension `ext`) and its expectation, by file stem.
/// Panics when a file has no expectation or an expectation no file, so a new file is a new
/// case and a forgotten one is noticed.
fn corpus<E: DeserializeOwned>(folder: &str, ext: &str) -> Vec<(String, Vec<u8>, E)> {
    let dir = corpus_dir(folder);
    let manifest = std::fs::read_to_string(dir.join("expect.toml")).expect("expect.toml");
    let mut expected: BTreeMap<String, E> = toml::from_str(&manifest).expect("expect.toml parses");
    let mut cases = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("corpus folder") {
        let path = entry.expect("entry").path();
        let is_case = path.extension().and_then(|e| e.to_str()) == Some(ext)
            && path.file_stem().is_some_and(|stem| stem != "expect");
        if !is_case {
            continue;
        }
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let expect = expected
            .remove(&stem)
            .unwrap_or_else(|| panic!("{folder}/{stem}.{ext} has no entry in expect.toml"));
        cases.push((stem, std::fs::read(&path).expect("corpus file"), expect));
    }
    let orphans: Vec<_> = expected.keys().collect();
    assert!(
        orphans.is_empty(),
        "expect.toml names missing files: {orphans:?}"
    );
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    cases
}

/// `cases` for CI unless `PROPTEST_CASES` asks for more (or fewer); failures are not written
/// to files: a failing input goes into the corpus or a table by hand.
fn proptest_config(cases: u32) -> Config {
    let mut config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config
}
