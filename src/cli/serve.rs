//! `dialer serve CAMPAIGN.toml`: the status callback receiver, a long-running service beside
//! the cron runs. It takes no campaign lock: SQLite's WAL lets it record while a run dials.

use super::{Exit, TwilioArgs};
use crate::compliance::opt_out_route::{self, OptOutRoute};
use crate::config::Campaign;
use crate::metrics::{CampaignMetrics, exposition};
use crate::outcomes::receiver::{self, Receiver};
use crate::outcomes::refusals::{Refusals, SUMMARY_EVERY};
use crate::outcomes::server;
use crate::stop::Stop;
use crate::store::Store;
use crate::twilio::Credentials;
use anyhow::Context;
use clap::Args;
use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The campaign file; its [callbacks] section says where Twilio sends status callbacks.
    campaign: PathBuf,
    /// Address to listen on [default: the campaign's callbacks.listen].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Take opt-outs on `POST /optouts` from callers that send this file's token as
    /// `Authorization: Bearer …` (or set DIALER_OPTOUT_TOKEN); the file must not be readable
    /// by every user of the machine.
    #[arg(long)]
    optout_token_file: Option<PathBuf>,
}

pub async fn serve(args: ServeArgs, twilio: &TwilioArgs) -> anyhow::Result<Exit> {
    let campaign = Campaign::load(&args.campaign)?;
    let Some(callbacks) = campaign.rules.callbacks.clone() else {
        anyhow::bail!(
            "{} has no [callbacks] section, so calls send no status callbacks; use `dialer sync` to poll Twilio instead",
            campaign.file.display()
        );
    };
    let client = twilio.client_for(&campaign)?;
    let auth_token = auth_token(client.credentials())?;
    let store = Store::open(&campaign.database, &campaign.name)
        .await
        .context("Failed to open the campaign database")?;
    let listen = args.listen.unwrap_or(callbacks.listen);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("Failed to listen on {listen}"))?;
    let local = listener
        .local_addr()
        .context("Failed to read the local address")?;
    crate::diagnostic!(
        "receiving status callbacks for campaign {:?} on {local} (Twilio sends them to {}); metrics at http://{local}{}",
        campaign.name,
        callbacks.public_url,
        exposition::PATH
    );
    if callbacks.public_url.path() == exposition::PATH {
        anyhow::bail!(
            "callbacks.public_url's path {} is where metrics are served: choose another",
            exposition::PATH
        );
    }
    let refusals = Arc::new(Refusals::default());
    let metrics = CampaignMetrics::receiving(&campaign.name, client.credentials().account());
    let receiver = receiver::router(Receiver {
        recorder: campaign.recorder(store.clone(), metrics.clone()),
        caller: campaign.from.clone(),
        auth_token,
        public_url: callbacks.public_url,
        refusals: refusals.clone(),
    });
    let receiver = match optout_token(args.optout_token_file.as_deref())? {
        Some(token) => {
            crate::diagnostic!("taking opt-outs on http://{local}{}", opt_out_route::PATH);
            receiver.merge(opt_out_route::router(OptOutRoute {
                store: store.clone(),
                token,
                region: campaign.default_region,
            }))
        }
        None => receiver,
    };
    let counted = store.clone();
    let app = receiver.merge(exposition::router(move || {
        let (store, metrics) = (counted.clone(), metrics.clone());
        async move {
            match store.state_counts().await {
                Ok(counts) => metrics.rows(&counts),
                Err(e) => tracing::warn!("could not count the rows for the metrics: {e}"),
            }
        }
    }));
    let stop = Stop::default();
    stop.watch_signals_and_deadline(None);
    let summing_up = tokio::spawn(async move {
        let mut every = tokio::time::interval(SUMMARY_EVERY);
        loop {
            every.tick().await;
            if let Some(line) = refusals.summary() {
                tracing::warn!("{line}");
            }
        }
    });
    server::serve(listener, app, stop).await;
    summing_up.abort();
    store.close().await;
    Ok(Exit::Done)
}

/// The token opt-out callers must send: the file's, else DIALER_OPTOUT_TOKEN's; none: no
/// opt-outs are taken.
fn optout_token(file: Option<&std::path::Path>) -> anyhow::Result<Option<SecretString>> {
    let token = match file {
        Some(path) => Some(crate::domain::read_secret_file(path)?),
        None => std::env::var("DIALER_OPTOUT_TOKEN").ok(),
    };
    Ok(token
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .map(SecretString::from))
}

/// Twilio signs callbacks with the account's auth token, never with an API key's secret.
fn auth_token(credentials: &Credentials) -> anyhow::Result<SecretString> {
    if credentials.username() == credentials.account().as_str() {
        return Ok(credentials.secret().into());
    }
    std::env::var("TWILIO_AUTH_TOKEN")
        .ok()
        .filter(|token| !token.is_empty())
        .map(SecretString::from)
        .context("checking Twilio's signatures needs the account's auth token: set TWILIO_AUTH_TOKEN (an API key's secret does not sign callbacks)")
}
