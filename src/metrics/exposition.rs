//! Where the metrics go: `GET /metrics` for a long-running command that Prometheus scrapes,
//! or a file for a cron run, which node_exporter's textfile collector reads (replaced whole,
//! so that the collector never reads half of one). Only the route has the process's series: a
//! file outlives its process.

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The path Prometheus scrapes by default.
pub const PATH: &str = "/metrics";

/// How often a run rewrites its metrics file.
pub const FILE_EVERY: Duration = Duration::from_secs(5);

/// `GET /metrics`, after `refresh` brought what is read from a database up to date.
pub fn router<F, Fut>(refresh: F) -> Router
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    super::mark_exported();
    super::process::register();
    Router::new().route(
        PATH,
        get(move || {
            let refresh = refresh.clone();
            async move {
                refresh().await;
                ([(CONTENT_TYPE, super::CONTENT_TYPE)], super::render())
            }
        }),
    )
}

#[derive(Debug, thiserror::Error)]
#[error("could not write the metrics file {path}: {source}")]
pub struct FileError {
    path: PathBuf,
    source: std::io::Error,
}

/// Writes every series to `path`, atomically.
pub fn write_file(path: &Path) -> Result<(), FileError> {
    crate::atomic_file::write(path, super::render().as_bytes()).map_err(|source| FileError {
        path: path.to_owned(),
        source,
    })
}

/// Rewrites `path` every [`FILE_EVERY`] until aborted; a failure is logged once per kind.
pub fn spawn_file_writer(path: PathBuf) -> tokio::task::JoinHandle<()> {
    super::mark_exported();
    tokio::spawn(async move {
        let start = tokio::time::Instant::now() + FILE_EVERY;
        let mut every = tokio::time::interval_at(start, FILE_EVERY);
        let mut failing = false;
        loop {
            every.tick().await;
            match write_file(&path) {
                Ok(()) => failing = false,
                Err(e) if !failing => {
                    tracing::warn!("{e}");
                    failing = true;
                }
                Err(_) => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_holds_every_series_of_the_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dialer.prom");
        let account = crate::domain::AccountSid::parse(&format!("AC{}", "0".repeat(32))).unwrap();
        super::super::CampaignMetrics::new(
            "file-test",
            &account,
            crate::domain::Cps::new(3).unwrap(),
        );

        write_file(&path).unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(r#"dialer_cps_configured{account_sid="AC00000000000000000000000000000000",campaign="file-test"} 3"#),
            "{text}"
        );
    }
}
