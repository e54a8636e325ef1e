//! Logs go to stderr through `tracing`; `RUST_LOG` picks what is shown, `-q` keeps only errors.
//! stdout is for results, progress and the summary. Lines are text for people, or one JSON
//! object each for machines (`--log-format json`, `json`).
//!
//! Lines are handed to a writer thread through a bounded buffer and dropped when it is full,
//! so a stderr that nobody drains (a stalled log shipper, a full disk behind a pipe) never
//! blocks the dialing or the callback receiver. Dropped lines are counted: the next line that
//! gets through says how many, and so does the end of the command.
//!
//! While the progress bar is shown, lines reaching its terminal go above it (`live_bar`).

mod json;
pub mod live_bar;

use crate::foreign_text::escaped;
use serde_json::{Map, Value};
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

/// The format chosen at `init`, for diagnostics written outside the log.
static FORMAT: std::sync::OnceLock<LogFormat> = std::sync::OnceLock::new();

/// A diagnostic for whoever reads stderr (a rejected line, why a run stopped), written at once:
/// `dialer: …`, or a JSON line when logs are JSON, so that stderr stays one format. Control
/// characters in it (from a list, from Twilio) are shown escaped, but for the line breaks of
/// dialer's own messages (a TOML error points at its line below it).
pub fn diagnostic(level: tracing::Level, message: std::fmt::Arguments<'_>) {
    diagnostic_with(level, message, Value::Null)
}

/// A diagnostic with fields of its own for machines (a reject's `file`, `line` and `code`):
/// keys of its JSON line, not shown in text.
pub fn diagnostic_with(level: tracing::Level, message: std::fmt::Arguments<'_>, fields: Value) {
    live_bar::above_stderr(|| match FORMAT.get() {
        Some(LogFormat::Json) => {
            eprintln!(
                "{}",
                json::own_line(level.as_str(), &message.to_string(), object(fields))
            )
        }
        _ => {
            let message = message.to_string();
            let lines: Vec<_> = message.split('\n').map(escaped).collect();
            eprintln!("dialer: {}", lines.join("\n"))
        }
    })
}

/// Whether lines are JSON (`--log-format json`): then stdout's are too.
pub fn is_json() -> bool {
    FORMAT.get() == Some(&LogFormat::Json)
}

/// A line of results on stdout (the import's, the progress', the summary), above the bar if
/// one is shown: `text` for people, or with `--log-format json` a JSON line with the log's
/// keys, `event` naming the line and its numbers as fields (`{"event":"summary",…}`).
pub fn result_line(campaign: &str, event: &str, text: &str, fields: Value) {
    live_bar::above(|| {
        if is_json() {
            let mut own = object(fields);
            own.insert("event".into(), event.into());
            own.insert("campaign".into(), campaign.into());
            println!("{}", json::own_line("INFO", text, own));
        } else {
            println!("{text}");
        }
    })
}

/// A line's own fields: those of `fields` if it is an object (`json!({…})`), else none.
fn object(fields: Value) -> Map<String, Value> {
    match fields {
        Value::Object(fields) => fields,
        _ => Map::new(),
    }
}

/// `eprintln!` for diagnostics: `dialer: …` on stderr, or JSON with `--log-format json`.
#[macro_export]
macro_rules! diagnostic {
    ($($arg:tt)*) => {
        $crate::telemetry::diagnostic(tracing::Level::WARN, format_args!($($arg)*))
    };
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object per line, span fields as keys.
    Json,
}

pub fn init(quiet: bool, format: LogFormat) -> Telemetry {
    let _ = FORMAT.set(format);
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
        .finish(live_bar::Stderr);
    let announcing = Announcing {
        writer: writer.clone(),
        announced: Arc::default(),
        format,
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(announcing);
    let _ = match format {
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_target(false)
            .try_init(),
        LogFormat::Json => logs
            .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
            .event_format(json::FlatJson)
            .try_init(),
    };
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
    format: LogFormat,
}

impl<'a> MakeWriter<'a> for Announcing {
    type Writer = NonBlocking;

    fn make_writer(&'a self) -> NonBlocking {
        let mut writer = self.writer.clone();
        let dropped = writer.error_counter().dropped_lines();
        let before = self.announced.swap(dropped, Ordering::Relaxed);
        if dropped > before {
            let message = format!(
                "{} log lines dropped: stderr was not keeping up",
                dropped - before
            );
            let _ = match self.format {
                LogFormat::Text => writeln!(writer, "dialer: {message}"),
                LogFormat::Json => {
                    writeln!(writer, "{}", json::own_line("WARN", &message, Map::new()))
                }
            };
        }
        writer
    }
}
