//! `dialer optout add|remove|list CAMPAIGN.toml …`: people who asked not to be called again,
//! recorded once in the campaign's database and honoured by every campaign that shares it,
//! from the next claim on (a running run included).

use super::Exit;
use crate::config::Campaign;
use crate::domain::{Endpoint, Invalid, duration};
use crate::store::{OptOutSource, Store};
use anyhow::Context;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum OptOutCommand {
    /// Record numbers that asked not to be called again.
    Add(AddArgs),
    /// Forget numbers' opt-outs (rows already suppressed for them stay suppressed).
    Remove(NumbersArgs),
    /// The opt-outs in force.
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct NumbersArgs {
    /// The campaign file (its database holds the opt-outs of every campaign that shares it).
    campaign: PathBuf,
    /// Numbers, E.164 or national in the campaign's default_region.
    numbers: Vec<String>,
    /// A file of numbers, one per line (`-` for standard input).
    #[arg(long)]
    file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    #[command(flatten)]
    numbers: NumbersArgs,
    /// How long the opt-out holds ("365d"); for good when not given.
    #[arg(long)]
    expires: Option<String>,
    /// Why, or where the request came from (kept with the opt-out).
    #[arg(long)]
    note: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    campaign: PathBuf,
    #[arg(long)]
    json: bool,
}

pub async fn run(command: OptOutCommand) -> anyhow::Result<Exit> {
    match command {
        OptOutCommand::Add(args) => {
            let lapse = args.expires.as_deref().map(duration).transpose()?;
            let (campaign, numbers) = read_numbers(&args.numbers)?;
            let store = Store::open(&campaign.database, &campaign.name).await?;
            let expires_at = lapse
                .map(|d| store.now_ms() + i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2));
            let added = async {
                for number in &numbers {
                    store
                        .add_opt_out(number, expires_at, OptOutSource::Cli, args.note.as_deref())
                        .await?;
                }
                Ok::<_, crate::store::StoreError>(())
            }
            .await;
            store.close().await;
            added?;
            crate::diagnostic!(
                "{} recorded",
                crate::words::count(numbers.len() as u64, "opt-out")
            );
            Ok(Exit::Done)
        }
        OptOutCommand::Remove(args) => {
            let (campaign, numbers) = read_numbers(&args)?;
            let store = Store::open(&campaign.database, &campaign.name).await?;
            let mut removed = 0u64;
            let done = async {
                for number in &numbers {
                    removed += u64::from(store.remove_opt_out(number).await?);
                }
                Ok::<_, crate::store::StoreError>(())
            }
            .await;
            store.close().await;
            done?;
            crate::diagnostic!("{} removed", crate::words::count(removed, "opt-out"));
            Ok(Exit::Done)
        }
        OptOutCommand::List(args) => {
            let campaign = Campaign::load(&args.campaign)?;
            let store = Store::open(&campaign.database, &campaign.name).await?;
            let listed = store.opt_outs().await;
            store.close().await;
            let listed = listed?;
            let utc = |ms: i64| {
                jiff::Timestamp::from_millisecond(ms)
                    .map(|t| t.round(jiff::Unit::Second).unwrap_or(t).to_string())
                    .unwrap_or_default()
            };
            let text = if args.json {
                let rows: Vec<_> = listed
                    .iter()
                    .map(|o| {
                        serde_json::json!({
                            "number": o.number.as_str(),
                            "added_at": utc(o.added_at),
                            "expires_at": o.expires_at.map(utc),
                            "source": o.source,
                            "note": o.note,
                        })
                    })
                    .collect();
                let mut json = serde_json::to_string_pretty(&rows).context("could not print")?;
                json.push('\n');
                json
            } else {
                listed
                    .iter()
                    .map(|o| {
                        let until = o.expires_at.map_or_else(
                            || "for good".to_owned(),
                            |at| format!("until {}", utc(at)),
                        );
                        let note = o
                            .note
                            .as_deref()
                            .map(crate::foreign_text::printable)
                            .unwrap_or_default();
                        format!(
                            "{}  {}  {until}  {}  {note}\n",
                            o.number.as_str(),
                            utc(o.added_at),
                            o.source.as_str()
                        )
                    })
                    .collect()
            };
            super::report::print_to_stdout(text.as_bytes())?;
            Ok(Exit::Done)
        }
    }
}

/// The campaign, and every number named, read as its list reads them; one that is no number
/// refuses the whole command (exit 2) before anything is recorded.
fn read_numbers(args: &NumbersArgs) -> anyhow::Result<(Campaign, Vec<Endpoint>)> {
    let campaign = Campaign::load(&args.campaign)?;
    let mut raw: Vec<String> = args.numbers.clone();
    if let Some(file) = &args.file {
        let text = match file.to_str() {
            Some("-") => std::io::read_to_string(std::io::stdin())
                .context("could not read standard input")?,
            _ => std::fs::read_to_string(file)
                .with_context(|| format!("could not read {}", file.display()))?,
        };
        raw.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
        );
    }
    if raw.is_empty() {
        return Err(Invalid::new("name at least one number, or --file").into());
    }
    let numbers = raw
        .iter()
        .map(|n| {
            Endpoint::parse_in(n, campaign.default_region)
                .map_err(|e| Invalid(format!("{}: {e}", crate::foreign_text::printable(n))))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((campaign, numbers))
}
