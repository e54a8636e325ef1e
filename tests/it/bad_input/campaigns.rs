//! Every campaign file in `tests/corpus/campaigns/` run by the real binary beside a good list:
//! a bad one exits 2, names its key, and not one request reaches the sandbox.

use super::corpus;
use crate::support::campaign::{TestCampaign, numbers, sandbox, sandbox_config};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[allow(dead_code)]
    about: String,
    exit: i32,
    /// Text the error output must contain: the key, and the rule.
    stderr: Vec<String>,
}

#[tokio::test]
async fn every_corpus_campaign_file_is_refused_before_any_call_naming_its_key() {
    let cases = corpus::<Expect>("campaigns", "toml");
    assert!(cases.len() >= 10, "the corpus is there");
    let mut failures = Vec::new();

    for (name, bytes, expect) in &cases {
        let sandbox = sandbox(sandbox_config()).await;
        let campaign = TestCampaign::new(30, &numbers(3), "");
        std::fs::write(&campaign.file, bytes).expect("write campaign");

        let out = campaign.run(&sandbox, &[]).await;

        if out.code != Some(expect.exit) {
            failures.push(format!(
                "{name}: exit {:?}, expected {}: {out:?}",
                out.code, expect.exit
            ));
        }
        for text in &expect.stderr {
            if !out.stderr.contains(text.as_str()) {
                failures.push(format!("{name}: stderr lacks {text:?}: {}", out.stderr));
            }
        }
        let stats = sandbox.stats();
        if expect.exit == 2 && stats.requests != 0 {
            failures.push(format!(
                "{name}: {} requests reached Twilio",
                stats.requests
            ));
        }
        if expect.exit == 0 && stats.creates != 3 {
            failures.push(format!("{name}: {} creates, expected 3", stats.creates));
        }
    }

    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
