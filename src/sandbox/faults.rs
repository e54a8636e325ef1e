//! Faults a Twilio client must survive, injected on purpose and counted in the stats.
//!
//! Every API request passes [`gate`]: the in-flight cap (429 at once, never processed), added
//! latency, a share of throttled 429s (never processed), then authentication. Creates also
//! draw one [`CreateFault`]: a 500 that was NOT processed, or a participant that IS created
//! and whose answer is then dropped or held back.

use super::Shared;
use super::auth;
use super::config::SandboxConfig;
use super::failure::Failure;
use super::record::choose;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CreateFault {
    /// 500 code 20500; the participant is not created.
    ServerError,
    /// The participant is created; the connection closes without a status line.
    Drop,
    /// The participant is created; the answer waits `hang_ms` (or until shutdown).
    Hang,
}

impl CreateFault {
    pub fn choose(config: &SandboxConfig, draw: f64) -> Option<Self> {
        choose(
            draw,
            &[
                (config.share_5xx, Self::ServerError),
                (config.share_drop, Self::Drop),
                (config.share_hang, Self::Hang),
            ],
        )
    }
}

/// Marks a response whose connection is to be dropped, so the stats count a drop, not a status.
#[derive(Debug, Clone, Copy)]
struct Dropped;

pub(crate) async fn gate(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path().starts_with("/sandbox/") {
        return next.run(request).await;
    }
    let config = &shared.config;
    let kind = request_kind(request.method(), request.uri().path());
    let Some(_in_flight) = shared.stats.enter(kind, config.max_in_flight) else {
        return counted(&shared, Failure::too_many_requests().into_response());
    };
    let (latency, throttled) = {
        let mut state = shared.state();
        (
            latency(config, state.draw()),
            state.draw() < config.share_429,
        )
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let response = if throttled {
        Failure::too_many_requests().into_response()
    } else if let Err(failure) = auth::check(config, request.headers(), request.uri().path()) {
        failure.into_response()
    } else {
        next.run(request).await
    };
    counted(&shared, response)
}

/// What a request asks for, as the stats count it.
fn request_kind(method: &axum::http::Method, path: &str) -> &'static str {
    let get = method == axum::http::Method::GET;
    if path.ends_with("/Participants.json") && !get {
        "create"
    } else if path.contains("/Participants/") && get {
        "participant"
    } else if path.ends_with("/Calls.json") {
        "call log"
    } else if path.contains("/Calls/") {
        "call"
    } else {
        "other"
    }
}

fn counted(shared: &Shared, response: Response) -> Response {
    if response.extensions().get::<Dropped>().is_some() {
        shared.stats.drop_answer();
    } else {
        shared.stats.response(response.status().as_u16());
    }
    response
}

/// `latency_ms` ± a uniform share of `latency_jitter_ms`, never below zero.
fn latency(config: &SandboxConfig, draw: f64) -> Duration {
    let jitter = (draw * 2.0 - 1.0) * config.latency_jitter_ms as f64;
    Duration::from_millis((config.latency_ms as f64 + jitter).max(0.0).round() as u64)
}

/// Applies a drop or hang to the answer of a create that was processed.
pub(crate) async fn deliver(
    shared: &Shared,
    fault: Option<CreateFault>,
    response: Response,
) -> Response {
    match fault {
        Some(CreateFault::Drop) => dropped(),
        Some(CreateFault::Hang) => {
            shared.stats.hang();
            let mut shutdown = shared.shutdown.clone();
            tokio::select! {
                () = tokio::time::sleep(shared.config.hang()) => response,
                _ = shutdown.wait_for(|stopping| *stopping) => dropped(),
            }
        }
        Some(CreateFault::ServerError) | None => response,
    }
}

/// A response whose body fails before its first byte. hyper has only buffered the status line
/// and headers at that point; on the body error it closes the connection without flushing
/// them, so the client sees a closed connection and no status at all.
fn dropped() -> Response {
    let failing = futures::stream::once(async {
        Err::<Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "answer dropped by the sandbox",
        ))
    });
    let mut response = Response::new(Body::from_stream(failing));
    response.extensions_mut().insert(Dropped);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_spreads_evenly_around_the_base_and_stays_positive() {
        let config = SandboxConfig {
            latency_ms: 100,
            latency_jitter_ms: 50,
            ..SandboxConfig::default()
        };
        assert_eq!(latency(&config, 0.0), Duration::from_millis(50));
        assert_eq!(latency(&config, 0.5), Duration::from_millis(100));
        let wide = SandboxConfig {
            latency_ms: 10,
            latency_jitter_ms: 50,
            ..SandboxConfig::default()
        };
        assert_eq!(latency(&wide, 0.0), Duration::ZERO);
    }

    #[test]
    fn create_faults_split_the_draw_in_order() {
        let config = SandboxConfig {
            share_5xx: 0.1,
            share_drop: 0.1,
            share_hang: 0.1,
            ..SandboxConfig::default()
        };
        assert_eq!(
            CreateFault::choose(&config, 0.05),
            Some(CreateFault::ServerError)
        );
        assert_eq!(CreateFault::choose(&config, 0.15), Some(CreateFault::Drop));
        assert_eq!(CreateFault::choose(&config, 0.25), Some(CreateFault::Hang));
        assert_eq!(CreateFault::choose(&config, 0.35), None);
    }
}
