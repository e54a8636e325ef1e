//! A Twilio emulator on loopback, for the demo, the integration tests and the benchmarks.
//!
//! It answers Twilio's Participants, Conferences and Calls paths with Twilio's JSON, queues
//! creates at the account's CPS exactly as Twilio does (`queue_time`), plays each call's life
//! out in time (with signed status callbacks), and injects the faults a dialer must survive:
//! throttling, latency, server errors, and creates whose answer is lost or late. Parameters
//! are validated by the same code the client uses (`twilio::params`), never re-implemented.

mod auth;
mod callbacks;
mod calls;
mod clock;
mod config;
mod failure;
mod faults;
mod paging;
mod participants;
mod record;
mod routes;
mod state;
mod stats;
mod timeline;

pub use config::{ConfigError, DEFAULT_PORT, DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, SandboxConfig};
pub use stats::{QueueTimeSummary, SandboxStats};

use anyhow::Context;
use state::State;
use stats::StatsRecorder;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What every handler and task shares.
pub(crate) struct Shared {
    config: SandboxConfig,
    state: Mutex<State>,
    stats: StatsRecorder,
    /// Turns true (or closes) when the sandbox stops; hanging answers and callbacks end then.
    shutdown: watch::Receiver<bool>,
    /// For status callbacks.
    http: reqwest::Client,
    /// When the current outage ends: the server closes its port until then.
    outage: watch::Sender<Option<tokio::time::Instant>>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A handler that panicked mid-update leaves at worst one odd record: keep serving.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn refuse_connections_for(&self, duration: Duration) {
        let _ = self
            .outage
            .send(Some(tokio::time::Instant::now() + duration));
    }
}

/// A running sandbox. Dropping it stops the server too; [`Sandbox::shutdown`] waits for it.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
}

impl Sandbox {
    /// Binds `config.listen` and serves in a background task; returns once it accepts.
    pub async fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        config
            .check()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let (stop, stopping) = watch::channel(false);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(&config, clock::Clock::start())),
            config,
            stats: StatsRecorder::default(),
            shutdown: stopping.clone(),
            http: callback_client().map_err(std::io::Error::other)?,
            outage: watch::channel(None).0,
        });
        let app = routes::router(shared.clone());
        let outages = shared.outage.subscribe();
        let server = tokio::spawn(serve(listener, app, stopping, outages));
        Ok(Sandbox {
            addr,
            shared,
            stop,
            server,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the `TWILIO_API_BASE` for clients.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.shared.config
    }

    pub fn stats(&self) -> SandboxStats {
        self.shared.stats.snapshot()
    }

    /// From now on the account places `cps` calls per second (Twilio's real rate can fall
    /// below the account's limit, and come back): creates beyond it queue, as Twilio queues.
    pub fn set_cps(&self, cps: crate::domain::Cps) {
        self.shared.state().cps = cps;
    }

    /// An outage of `duration`: the port is closed at once (new connections are refused, idle
    /// ones closed, requests under way answered), then opened again on the same address, with
    /// every record intact.
    /// `POST /sandbox/outage?seconds=N` does the same for `dialer sandbox`.
    pub fn refuse_connections_for(&self, duration: Duration) {
        self.shared.refuse_connections_for(duration);
    }

    /// Stops accepting, ends hanging answers and pending callbacks, and waits (up to 5 s) for
    /// open connections to finish.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(Duration::from_secs(5), self.server)
            .await
            .is_err()
        {
            tracing::warn!("sandbox connections still open after 5 s; leaving them");
        }
    }
}

/// Serves until the sandbox stops, closing the port for each outage asked for meanwhile.
async fn serve(
    mut listener: tokio::net::TcpListener,
    app: axum::Router,
    mut stopping: watch::Receiver<bool>,
    mut outages: watch::Receiver<Option<tokio::time::Instant>>,
) {
    let addr = listener.local_addr().ok();
    loop {
        let mut stop_signal = stopping.clone();
        let mut outage_signal = outages.clone();
        let closed = async move {
            // Err means the sender is gone: the Sandbox was dropped, stop as well.
            tokio::select! {
                _ = stop_signal.wait_for(|stopping| *stopping) => {}
                _ = outage_signal.changed() => {}
            }
        };
        if let Err(error) = axum::serve(listener, app.clone())
            .with_graceful_shutdown(closed)
            .await
        {
            tracing::error!(%error, "sandbox server stopped");
            return;
        }
        let back_at = *outages.borrow_and_update();
        if *stopping.borrow() || stopping.has_changed().is_err() {
            return;
        }
        if let Some(back_at) = back_at {
            tokio::select! {
                _ = tokio::time::sleep_until(back_at) => {}
                _ = stopping.wait_for(|stopping| *stopping) => return,
            }
        }
        let Some(addr) = addr else { return };
        listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::error!(%error, "the sandbox could not listen again on {addr}");
                return;
            }
        };
    }
}

/// `dialer sandbox`: serves until Ctrl-C or SIGTERM. The first stdout line is
/// `sandbox listening on http://ADDR` (scripts wait for it), then an `export` hint.
pub async fn run(config: SandboxConfig) -> anyhow::Result<()> {
    let token_hint = if config.uses_demo_token() {
        format!("TWILIO_AUTH_TOKEN={DEMO_AUTH_TOKEN}")
    } else {
        "TWILIO_AUTH_TOKEN=<your SANDBOX_AUTH_TOKEN>".to_owned()
    };
    let account = config.account_sid.clone();
    let sandbox = Sandbox::start(config)
        .await
        .context("could not start the sandbox")?;
    println!("sandbox listening on {}", sandbox.base_url());
    println!(
        "export TWILIO_API_BASE={} TWILIO_ACCOUNT_SID={account} {token_hint}",
        sandbox.base_url()
    );
    std::io::Write::flush(&mut std::io::stdout()).context("stdout")?;
    crate::shutdown::requested().await;
    sandbox.shutdown().await;
    Ok(())
}

fn callback_client() -> reqwest::Result<reqwest::Client> {
    // reqwest is built without a default TLS provider; callbacks to https URLs need one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent("TwilioProxy/1.1")
        .timeout(Duration::from_secs(15))
        .build()
}
