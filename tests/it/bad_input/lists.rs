//! Every list in `tests/corpus/lists/` run by the real binary: the exit code, the numbers
//! dialed (each once), and the rejects, by exact line and reason, on stderr and in
//! `list.rejects.csv`.

use super::corpus;
use crate::support::campaign::{RunOutput, TestCampaign, sandbox, sandbox_config};
use dialer::domain::Cps;
use dialer::sandbox::{Sandbox, SandboxConfig};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[allow(dead_code)]
    about: String,
    exit: i32,
    #[serde(default)]
    dialed: Vec<String>,
    #[serde(default)]
    rejects: Vec<(u64, String)>,
    /// Text the error output must contain.
    #[serde(default)]
    stderr: Vec<String>,
    /// Lines added to the campaign file's `[campaign]` section (`default_region = "US"`).
    #[serde(default)]
    campaign: String,
}

#[tokio::test]
async fn every_corpus_list_is_imported_or_rejected_line_by_line_as_its_expectation_says() {
    let cases = corpus::<Expect>("lists", "csv");
    assert!(cases.len() >= 10, "the corpus is there");

    let outcomes = futures::future::join_all(
        cases
            .iter()
            .map(|(name, bytes, expect)| check(name, bytes, expect)),
    )
    .await;

    let failures: Vec<String> = outcomes.into_iter().flatten().collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Runs one list; returns what differs from its expectation.
async fn check(name: &str, bytes: &[u8], expect: &Expect) -> Vec<String> {
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(30).unwrap(),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(30, "", &expect.campaign);
    std::fs::write(&campaign.list, bytes).expect("write list");

    let out = campaign.run(&sandbox, &[]).await;

    let mut wrong = Vec::new();
    let mut expect_that = |holds: bool, what: String| {
        if !holds {
            wrong.push(format!("{name}: {what}"));
        }
    };
    expect_that(
        out.code == Some(expect.exit),
        format!("exit {:?}, expected {}: {out:?}", out.code, expect.exit),
    );
    let dialed = dialed(&sandbox);
    let mut want: Vec<&str> = expect.dialed.iter().map(String::as_str).collect();
    want.sort();
    expect_that(
        dialed == want.iter().map(|to| (to.to_string(), 1)).collect(),
        format!("dialed {dialed:?}, expected each of {want:?} once"),
    );
    for text in &expect.stderr {
        expect_that(
            out.stderr.contains(text.as_str()),
            format!("stderr lacks {text:?}: {}", out.stderr),
        );
    }
    let rejects = rejects_file(&campaign);
    expect_that(
        rejects == expect.rejects,
        format!("rejects {rejects:#?}, expected {:#?}", expect.rejects),
    );
    for (line, reason) in &expect.rejects {
        let shown = format!("list.csv:{line}: {reason}");
        expect_that(
            out.stderr.contains(&shown),
            format!("stderr lacks {shown:?}: {}", out.stderr),
        );
    }
    if expect.exit != 2 {
        expect_that(
            counts_add_up(&out, expect),
            format!("import counts do not add up: {}", out.stdout),
        );
    }
    wrong
}

fn dialed(sandbox: &Sandbox) -> BTreeMap<String, u64> {
    sandbox.stats().creates_by_to
}

/// `(line, reason)` of each line in `list.rejects.csv` (none when there is no file).
fn rejects_file(campaign: &TestCampaign) -> Vec<(u64, String)> {
    let path = campaign.dir.path().join("list.rejects.csv");
    let Ok(mut reader) = csv::Reader::from_path(&path) else {
        return Vec::new();
    };
    reader
        .records()
        .map(|r| {
            let r = r.expect("a rejects line");
            (r[0].parse().expect("a line number"), r[1].to_owned())
        })
        .collect()
}

/// Every record is counted once: imported (and dialed) or rejected, as a duplicate or not.
fn counts_add_up(out: &RunOutput, expect: &Expect) -> bool {
    let Some(line) = out.stdout.lines().find(|l| l.starts_with("import: ")) else {
        return false;
    };
    let n: Vec<usize> = line
        .split([' ', ','])
        .filter_map(|word| word.parse().ok())
        .collect();
    let (dialed, rejected) = (expect.dialed.len(), expect.rejects.len());
    matches!(n[..], [records, new, 0, bad, duplicates]
        if records == dialed + rejected && new == dialed && bad + duplicates == rejected)
}
