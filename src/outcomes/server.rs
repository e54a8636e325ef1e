//! The receiver's listener. It faces the Internet (behind a proxy), so no client can hold it:
//! connections are bounded in number and in lifetime, a request's headers must arrive within
//! `HEADER_TIMEOUT` (its body is bounded in the handler). Twilio sends small requests at once
//! and waits up to 15 s for an answer, so none of its callbacks meets these bounds.

use crate::stop::Stop;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Connections open at once; beyond it a new one is closed at once.
pub const MAX_CONNECTIONS: usize = 512;
/// A request's headers must have arrived this long after the connection is ready for them.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// No connection lives longer (keep-alive included): Twilio opens another.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);
/// How long a stopping receiver lets requests under way finish.
const DRAIN: Duration = Duration::from_secs(5);

/// The peer of a request's connection (the proxy's address behind a proxy).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub IpAddr);

/// Serves `app` on `listener` until `stop` is set.
pub async fn serve(listener: TcpListener, app: Router, stop: Stop) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait() => break,
        };
        while connections.try_join_next().is_some() {}
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, or a connection reset before it was accepted.
                tracing::debug!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let service = TowerToHyperService::new(app.clone().layer(axum::Extension(Peer(peer.ip()))));
        connections.spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, connection).await;
            drop(slot);
        });
    }
    let _ = tokio::time::timeout(DRAIN, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}
