//! `dialer demo`: the whole product in one command, on a fresh machine, with no account: the
//! built-in sandbox on loopback, the example campaign and list (compiled into the binary), a
//! real SQLite file, progress, the summary and the report.

use super::Exit;
use crate::config::Campaign;
use crate::domain::AccountSid;
use crate::sandbox::{DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, Sandbox, SandboxConfig};
use crate::stop::Stop;
use crate::twilio::{ClientConfig, Credentials, TwilioClient};
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long the demo waits for its calls to end (they ring and talk about a second).
const OUTCOMES_WAIT: Duration = Duration::from_secs(20);
const POLL_EVERY: Duration = Duration::from_millis(500);

const DEMO_CAMPAIGN: &str = include_str!("../../config/demo.toml");
const DEMO_LIST: &str = include_str!("../../config/demo-list.csv");

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write the campaign, its list and its database (default: a new folder under
    /// the system's temporary directory). Kept afterwards, so `dialer report` can read it.
    #[arg(long)]
    dir: Option<PathBuf>,
}

pub async fn run(args: DemoArgs, quiet: bool) -> anyhow::Result<Exit> {
    let dir = args.dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("dialer-demo-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).with_context(|| format!("Failed to create {}", dir.display()))?;
    let campaign_file = dir.join("demo.toml");
    std::fs::write(&campaign_file, DEMO_CAMPAIGN).context("Failed to write the demo campaign")?;
    std::fs::write(dir.join("demo-list.csv"), DEMO_LIST)
        .context("Failed to write the demo list")?;
    let campaign = Campaign::load(&campaign_file)?;

    let sandbox = Sandbox::start(sandbox_config(&campaign))
        .await
        .context("Failed to start the sandbox")?;
    println!(
        "demo: sandbox Twilio on {} (account CPS {}, a few injected faults)",
        sandbox.base_url(),
        campaign.cps
    );
    println!(
        "demo: campaign {} with its list and database in {}",
        campaign_file.display(),
        dir.display()
    );
    let client = TwilioClient::new(
        ClientConfig {
            api_base: url::Url::parse(&sandbox.base_url())?,
            request_timeout: Duration::from_secs(2),
            ..ClientConfig::default()
        },
        Credentials::with_auth_token(
            AccountSid::parse(DEMO_ACCOUNT_SID)?,
            DEMO_AUTH_TOKEN.to_owned().into(),
        ),
    )?;
    let exit = super::run::execute(
        &campaign,
        client.clone(),
        None,
        quiet,
        Duration::from_secs(1),
    )
    .await?;
    let store = crate::store::Store::open(&campaign.database, &campaign.name).await?;
    // How the calls ended, as `dialer sync` learns it: asking Twilio about each call.
    let stop = Stop::default();
    stop.watch_signals_and_deadline(Some((Instant::now() + OUTCOMES_WAIT).into()));
    let (polled, left) =
        super::sync::until_every_call_ended(&campaign, client, &store, &stop, POLL_EVERY).await?;
    println!(
        "demo: {} calls ended ({} status checks){}",
        polled.ended,
        polled.polled,
        if left { "; some still going on" } else { "" }
    );
    sandbox.shutdown().await;
    let report = crate::report::CampaignReport::build(
        &store,
        &campaign.name,
        campaign.cps,
        Some(&campaign.rules),
    )
    .await?;
    store.close().await;
    if !quiet {
        println!("\n{}", crate::report::render_text(&report, 20));
    }
    println!(
        "demo: the same report any time: dialer report {}",
        campaign_file.display()
    );
    // The list has bad lines and refused numbers on purpose: a cron run of this campaign would
    // exit with that code, but the demo itself did what it set out to do.
    if exit == Exit::DoneWithFailures {
        println!(
            "demo: done (a cron run of this campaign exits 3: some rows failed, as the list intends)"
        );
        return Ok(Exit::Done);
    }
    Ok(exit)
}

/// An account as fast as the campaign, with the faults a real one shows now and then:
/// 429s, answers lost after the call was created, numbers Twilio refuses, busy lines, calls
/// nobody answers and answering machines.
fn sandbox_config(campaign: &Campaign) -> SandboxConfig {
    SandboxConfig {
        cps: campaign.cps,
        latency_ms: 80,
        latency_jitter_ms: 40,
        share_429: 0.05,
        share_drop: 0.04,
        invalid_to_prefix: Some("+1415555004".into()),
        busy: 0.1,
        no_answer: 0.1,
        machine: 0.2,
        seed: Some(7),
        ring_ms: 300,
        talk_ms: 1000,
        ..SandboxConfig::ephemeral()
    }
}
