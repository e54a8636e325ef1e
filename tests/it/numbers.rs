//! Numbers as owners' lists hold them: national formats read in the campaign's
//! `default_region` or a row's `number_region` by libphonenumber's rules (the real crate and its
//! metadata), numbers it refuses, and the export and the report giving every refused line's
//! `to` as written.

use crate::support::campaign::{TestCampaign, sandbox, sandbox_config};
use crate::support::exit::DONE_WITH_FAILURES;
use dialer::domain::Cps;
use dialer::sandbox::SandboxConfig;
use std::collections::BTreeMap;

async fn thirty_cps() -> dialer::sandbox::Sandbox {
    sandbox(SandboxConfig {
        cps: Cps::new(30).unwrap(),
        ..sandbox_config()
    })
    .await
}

/// `(line, to, state, reason)` of each line of `dialer export`.
fn export_lines(csv_text: &str) -> Vec<(u64, String, String, String)> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().expect("a header").clone();
    let at = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (line, to, state, reason) = (at("line"), at("to"), at("state"), at("reason"));
    reader
        .records()
        .map(|r| {
            let r = r.expect("an export line");
            (
                r[line].parse().expect("a line number"),
                r[to].to_owned(),
                r[state].to_owned(),
                r[reason].to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn national_numbers_of_the_default_region_and_of_each_rows_region_are_dialed_as_e164() {
    // Arrange
    let sandbox = thirty_cps().await;
    let list = "to,number_region\n\
                (415) 867-5309,\n\
                4158675310,\n\
                +1 415 867 5311,\n\
                020 7183 8750,GB\n\
                01 42 68 53 00,FR\n\
                030 1234567,DE\n\
                +44 20 7183 8751,\n";
    let campaign = TestCampaign::new(30, list, "default_region = \"US\"");

    // Act
    let out = campaign.run(&sandbox, &[]).await;

    // Assert
    assert_eq!(out.code, Some(0), "{out:?}");
    let dialed: Vec<String> = sandbox.stats().creates_by_to.into_keys().collect();
    assert_eq!(
        dialed,
        [
            "+14158675309",
            "+14158675310",
            "+14158675311",
            "+33142685300",
            "+442071838750",
            "+442071838751",
            "+49301234567",
        ]
    );
}

#[tokio::test]
async fn numbers_libphonenumber_refuses_are_rejected_with_its_reason() {
    // Arrange
    let sandbox = thirty_cps().await;
    let list = "to,number_region\n\
                (415) 867-530,\n\
                (555) 010-0001,\n\
                +1 555 010 0001,\n\
                020 7183 87,GB\n\
                4158675312,UK\n\
                (415) 867-5312,\n";
    let campaign = TestCampaign::new(30, list, "default_region = \"us\"");

    // Act
    let out = campaign.run(&sandbox, &[]).await;

    // Assert
    assert_eq!(out.code, DONE_WITH_FAILURES, "{out:?}");
    for expected in [
        "list.csv:2: invalid to: is not a valid number: wrong length for a national number in US (9 digits, expected 10)",
        "list.csv:3: invalid to: is not a valid number: no such prefix for a national number in US",
        "list.csv:4: invalid to: is not a valid number: no such prefix for a +1 number",
        "list.csv:5: invalid to: is not a valid number: wrong length for a national number in GB",
        "list.csv:6: invalid number_region: \"UK\" is not a country with a numbering plan",
    ] {
        assert!(
            out.stderr.contains(expected),
            "missing {expected:?} in {}",
            out.stderr
        );
    }
    let dialed: Vec<String> = sandbox.stats().creates_by_to.into_keys().collect();
    assert_eq!(dialed, ["+14158675312"]);
}

#[tokio::test]
async fn without_a_region_a_national_number_is_refused_as_before_and_international_ones_keep_their_shape_check()
 {
    // Arrange
    let sandbox = thirty_cps().await;
    let list = "to\n(415) 867-5309\n+1 555 010 0001\n";
    let campaign = TestCampaign::new(30, list, "");

    // Act
    let out = campaign.run(&sandbox, &[]).await;

    // Assert
    assert_eq!(out.code, DONE_WITH_FAILURES, "{out:?}");
    assert!(
        out.stderr.contains(
            "list.csv:2: invalid to: must be an E.164 number starting with + and the country code"
        ),
        "{}",
        out.stderr
    );
    let dialed: Vec<String> = sandbox.stats().creates_by_to.into_keys().collect();
    assert_eq!(
        dialed,
        ["+15550100001"],
        "a fictional 555 number, as before"
    );
}

#[tokio::test]
async fn the_export_gives_every_rejected_lines_to_as_written_whatever_refused_it() {
    // Arrange: one line refused for each reason a line can be refused for.
    let sandbox = thirty_cps().await;
    let list = "to,timeout,from,number_region\n\
                (415) 867-5309,,,\n\
                (415) 867-530,,,\n\
                +1 (415) 867-5309,,,\n\
                (415) 867-5310,4,,\n\
                (415) 867-5311,,sip:nope,\n\
                (415) 867-5312,,,UK\n\
                ,,,\n\
                (415) 867-5313,20\n\
                1.4158675314E+10,,,\n\
                client:al ice,,,\n";
    let campaign = TestCampaign::new(30, list, "default_region = \"US\"");
    let run = campaign.run(&sandbox, &[]).await;
    assert_eq!(run.code, DONE_WITH_FAILURES, "{run:?}");

    // Act
    let export = campaign.manage(&["export"]).await;

    // Assert
    assert_eq!(export.code, Some(0), "{export:?}");
    let rejected: BTreeMap<u64, (String, String)> = export_lines(&export.stdout)
        .into_iter()
        .filter(|(_, _, state, _)| state == "rejected")
        .map(|(line, to, _, reason)| (line, (to, reason)))
        .collect();
    let shown: Vec<(u64, &str)> = rejected
        .iter()
        .map(|(line, (to, _))| (*line, to.as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            (3, "(415) 867-530"),
            // A spreadsheet would read it as a formula: written as text.
            (4, "'+1 (415) 867-5309"),
            (5, "(415) 867-5310"),
            (6, "(415) 867-5311"),
            (7, "(415) 867-5312"),
            (8, ""),
            (9, "(415) 867-5313"),
            (10, "1.4158675314E+10"),
            (11, "client:al ice"),
        ]
    );
    assert!(
        rejected[&4].1.contains("duplicate of line 2"),
        "{rejected:?}"
    );
    assert!(rejected[&5].1.contains("Timeout"), "{rejected:?}");
    assert!(rejected[&9].1.contains("fields"), "{rejected:?}");
    let report = campaign.manage(&["report", "--json"]).await;
    let report: serde_json::Value = serde_json::from_str(&report.stdout).expect("a JSON report");
    let not_dialed: Vec<(u64, &str)> = report["not_dialed"]
        .as_array()
        .expect("not_dialed")
        .iter()
        .filter(|line| line["state"] == "rejected")
        .map(|line| (line["line"].as_u64().unwrap(), line["to"].as_str().unwrap()))
        .collect();
    // The same text, but for the export's mark on a cell a spreadsheet would evaluate.
    let unmarked: Vec<(u64, &str)> = shown
        .iter()
        .map(|(line, to)| (*line, to.strip_prefix('\'').unwrap_or(to)))
        .collect();
    assert_eq!(
        not_dialed, unmarked,
        "the report's not_dialed agrees with the export"
    );
}
