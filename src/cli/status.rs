//! `dialer status CAMPAIGN.toml… | DIR [--json]`: what is going on now, for each campaign
//! named or found in a folder. Each file is loaded on its own: one that no longer loads is
//! shown with its error, and the others are still read. Read-only, without the run lock.

use super::Exit;
use super::worker::campaign_files;
use crate::campaign::{LockHolder, lock_holder};
use crate::config::Campaign;
use crate::report::{StatusView, render_status};
use crate::store::Store;
use anyhow::Context;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Campaign files, or folders whose `*.toml` files are campaign files.
    #[arg(required = true)]
    campaigns: Vec<PathBuf>,
    /// Print one JSON array, an object per campaign.
    #[arg(long)]
    json: bool,
}

/// Exit 0 when every campaign could be read, 1 otherwise (each is shown either way).
pub async fn status(args: StatusArgs) -> anyhow::Result<Exit> {
    let mut views = Vec::new();
    for file in campaign_files(&args.campaigns)? {
        views.push(read(&file).await);
    }
    let text = if args.json {
        let mut json =
            serde_json::to_string_pretty(&views).context("could not print the status as JSON")?;
        json.push('\n');
        json
    } else {
        render_status(&views)
    };
    super::report::print_to_stdout(text.as_bytes())?;
    Ok(match views.iter().any(|view| view.error.is_some()) {
        true => Exit::Error,
        false => Exit::Done,
    })
}

async fn read(file: &Path) -> StatusView {
    let shown = file.display().to_string();
    let campaign = match Campaign::load(file) {
        Ok(campaign) => campaign,
        Err(e) => {
            let error = format!(
                "the campaign file does not load: {:#}",
                anyhow::Error::from(e)
            );
            return StatusView::unreadable(shown, None, error);
        }
    };
    let name = campaign.name.clone();
    let unreadable =
        |error: String| StatusView::unreadable(shown.clone(), Some(name.clone()), error);
    let store = match Store::open_existing_campaign(&campaign.database, &campaign.name).await {
        Ok(Some(store)) => store,
        Ok(None) => {
            let database = campaign.database.to_string();
            return StatusView::not_started(shown.clone(), name.clone(), database);
        }
        Err(e) => return unreadable(e.to_string()),
    };
    let now = store.campaign_now().await;
    store.close().await;
    let now = match now {
        Ok(now) => now,
        Err(e) => return unreadable(e.to_string()),
    };
    let lock = campaign.database.sqlite_file().map(|database| {
        match lock_holder(database, &campaign.name) {
            LockHolder::Free => "free".to_owned(),
            LockHolder::Held { pid: Some(pid) } => format!("held by pid {pid}"),
            LockHolder::Held { pid: None } => "held".to_owned(),
            LockHolder::Unknown => "unknown".to_owned(),
        }
    });
    let zone = campaign.rules.window.as_ref().map(|w| &w.timezone);
    StatusView::read(shown.clone(), name.clone(), now, lock, zone)
}
