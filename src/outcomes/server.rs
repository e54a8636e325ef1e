//! The receiver's listener. It faces the Internet (behind a proxy), so no client can hold it:
//! connections are bounded in number, per peer address and in all, and in lifetime, and a
//! request's headers must arrive within `HEADER_TIMEOUT` (its body is bounded in the handler).
//! A slowloris from a few addresses fills only those addresses' share; Twilio's callbacks
//! come from many addresses, small and at once, so none of them meets these bounds. Behind a
//! proxy every connection has the proxy's address: it holds at most `MAX_PER_PEER` at once,
//! each answered in milliseconds, and the proxy must bound slow clients itself.

use crate::stop::Stop;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Connections open at once; beyond it a new one is closed at once.
pub const MAX_CONNECTIONS: usize = 512;
/// Connections open at once from one address; beyond it its new ones are closed at once.
pub const MAX_PER_PEER: usize = 32;
/// A request's headers must have arrived this long after the connection is ready for them.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
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
    let peers = Peers::default();
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
        let Some(own) = peers.admit(peer.ip()) else {
            drop(stream);
            continue;
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
            drop((slot, own));
        });
    }
    let _ = tokio::time::timeout(DRAIN, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

/// Connections open per peer address.
#[derive(Default, Clone)]
struct Peers(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// One connection of a peer, given back when dropped.
struct PeerSlot {
    peers: Peers,
    ip: IpAddr,
}

impl Peers {
    /// A slot for one more connection from `ip`, unless it has `MAX_PER_PEER` open.
    fn admit(&self, ip: IpAddr) -> Option<PeerSlot> {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(ip).or_default();
        if *count >= MAX_PER_PEER {
            return None;
        }
        *count += 1;
        Some(PeerSlot {
            peers: self.clone(),
            ip,
        })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut open = self.peers.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_holds_at_most_its_share_and_gets_it_back_as_connections_close() {
        let peers = Peers::default();
        let (busy, other): (IpAddr, IpAddr) =
            ("127.0.0.2".parse().unwrap(), "127.0.0.1".parse().unwrap());

        let held: Vec<_> = (0..MAX_PER_PEER)
            .filter_map(|_| peers.admit(busy))
            .collect();
        let refused = peers.admit(busy);
        let elsewhere = peers.admit(other);
        drop(held);

        assert!(refused.is_none());
        assert!(elsewhere.is_some());
        assert!(
            peers.admit(busy).is_some(),
            "closed connections give their slots back"
        );
    }
}
