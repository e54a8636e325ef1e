//! `--log-format json`: every line a run or a worker writes, on stdout and on stderr, is one
//! JSON object with the same keys, `campaign` always the campaign's name; results (the
//! import, the summary) carry their numbers as fields, rejected lines their file, line and code.

use crate::support::campaign::{
    RunOutput, TestCampaign, dialer_at, numbers, output, sandbox, sandbox_config, signal,
    until_creates,
};
use crate::support::exit::DONE;
use serde_json::Value;

/// A list of five people and one line that is no phone number (line 7).
fn list_with_a_reject() -> String {
    format!("{}not-a-number\n", numbers(5))
}

#[tokio::test]
async fn a_json_run_writes_only_json_lines_with_its_results_and_rejects_as_fields() {
    let sandbox = sandbox(sandbox_config()).await;
    let campaign = TestCampaign::new(30, &list_with_a_reject(), "");

    let run = campaign
        .command(&sandbox, &[])
        .env("DIALER_LOG_FORMAT", "json")
        .spawn()
        .unwrap();
    let run = output(run).await;

    let (stdout, stderr) = json_lines(&run);
    let import = event(&stdout, "import");
    assert_eq!(
        (import["new"].as_u64(), import["rejected"].as_u64()),
        (Some(5), Some(1))
    );
    let summary = event(&stdout, "summary");
    assert_eq!(summary["created"], 5, "{summary}");
    assert_eq!(
        summary["exit"].as_u64(),
        run.code.map(|c| c as u64),
        "{summary}"
    );
    let reject = stderr
        .iter()
        .find(|l| l["code"].is_string())
        .unwrap_or_else(|| panic!("no reject on stderr: {}", run.stderr));
    assert_eq!(reject["line"], 7, "{reject}");
    assert_eq!(reject["code"], "invalid_to", "{reject}");
    assert!(
        reject["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("list.csv")),
        "{reject}"
    );
    assert_eq!(reject["campaign"], "test", "{reject}");
}

#[tokio::test]
async fn a_json_worker_names_its_campaign_by_name_on_every_line() {
    let sandbox = sandbox(sandbox_config()).await;
    let campaign = TestCampaign::new(30, &list_with_a_reject(), "");

    let mut worker = dialer_at(&sandbox, &["worker"]);
    worker
        .arg(&campaign.file)
        .args(["--idle", "200ms"])
        .env("DIALER_LOG_FORMAT", "json");
    let worker = worker.spawn().unwrap();
    until_creates(&sandbox, 5).await;
    signal(&[worker.id().unwrap()], "-TERM");
    let out = output(worker).await;

    assert_eq!(out.code, DONE, "{out:?}");
    let (stdout, stderr) = json_lines(&out);
    assert!(
        stderr.iter().any(|l| l["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("working on the campaign"))),
        "{}",
        out.stderr
    );
    assert!(
        stderr.iter().any(|l| l["code"] == "invalid_to"),
        "{}",
        out.stderr
    );
    assert_eq!(event(&stdout, "summary")["campaign"], "test");
}

/// Every line of stdout and of stderr, each parsed as a JSON object with the keys every line
/// has, and `campaign` the campaign's name wherever it is not null.
fn json_lines(out: &RunOutput) -> (Vec<Value>, Vec<Value>) {
    let parse = |text: &str| -> Vec<Value> {
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    };
    let (stdout, stderr) = (parse(&out.stdout), parse(&out.stderr));
    for line in stdout.iter().chain(&stderr) {
        for key in ["timestamp", "level", "message", "campaign"] {
            assert!(line.get(key).is_some(), "no {key}: {line}");
        }
        assert!(
            line["campaign"].is_null() || line["campaign"] == "test",
            "campaign is not the name: {line}"
        );
    }
    (stdout, stderr)
}

/// The line of stdout that is the event `name`.
fn event<'a>(stdout: &'a [Value], name: &str) -> &'a Value {
    stdout
        .iter()
        .find(|l| l["event"] == name)
        .unwrap_or_else(|| panic!("no {name} line in {stdout:?}"))
}
