//! Logs go to stderr through `tracing`; `RUST_LOG` picks what is shown, `-q` keeps only errors.
//! stdout is for results, progress and the summary.

use tracing_subscriber::EnvFilter;

pub fn init(quiet: bool) {
    let default = if quiet { "error" } else { "warn,dialer=info" };
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !quiet && !spec.is_empty() => EnvFilter::new(spec),
        _ => EnvFilter::new(default),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}
