//! Logs go to stderr through `tracing`; `RUST_LOG` picks what is shown, `-q` keeps only errors.
//! stdout is for results, progress and the summary.
//!
//! Lines are handed to a writer thread through a bounded buffer and dropped when it is full,
//! so a stderr that nobody drains (a stalled log shipper, a full disk behind a pipe) never
//! blocks the dialing or the callback receiver. Dropped lines are counted: the next line that
//! gets through says how many, and so does the end of the command.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Lines waiting for stderr before new ones are dropped.
const BUFFERED_LINES: usize = 2_000;

/// Keeps the log's writer thread alive; dropping it flushes what is buffered.
pub struct Telemetry {
    writer: NonBlocking,
    _guard: WorkerGuard,
}

impl Telemetry {
    /// Log lines dropped so far because stderr did not keep up.
    pub fn dropped_lines(&self) -> usize {
        self.writer.error_counter().dropped_lines()
    }
}

pub fn init(quiet: bool) -> Telemetry {
    let default = if quiet {
        "error"
    } else {
        "warn,dialer=info,sqlx=error"
    };
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !quiet && !spec.is_empty() => EnvFilter::new(spec),
        _ => EnvFilter::new(default),
    };
    let (writer, guard) = NonBlockingBuilder::default()
        .buffered_lines_limit(BUFFERED_LINES)
        .lossy(true)
        .thread_name("dialer-log")
        .finish(std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Announcing {
            writer: writer.clone(),
            announced: Arc::default(),
        })
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
    Telemetry {
        writer,
        _guard: guard,
    }
}

/// The non-blocking writer, which first says how many lines were dropped since it last said.
#[derive(Clone)]
struct Announcing {
    writer: NonBlocking,
    announced: Arc<AtomicUsize>,
}

impl<'a> MakeWriter<'a> for Announcing {
    type Writer = NonBlocking;

    fn make_writer(&'a self) -> NonBlocking {
        let mut writer = self.writer.clone();
        let dropped = writer.error_counter().dropped_lines();
        let before = self.announced.swap(dropped, Ordering::Relaxed);
        if dropped > before {
            let _ = writeln!(
                writer,
                "dialer: {} log lines dropped: stderr was not keeping up",
                dropped - before
            );
        }
        writer
    }
}
