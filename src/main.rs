use clap::FromArgMatches;
use dialer::cli::{self, Cli, Exit};
use std::process::ExitCode;

/// `dialer --version`: the package's version and the commit it was built from (`build.rs`).
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("DIALER_COMMIT"), ")");

fn main() -> ExitCode {
    let command = cli::command(VERSION);
    let cli = Cli::from_arg_matches(&command.clone().get_matches()).unwrap_or_else(|e| e.exit());
    let telemetry = dialer::telemetry::init(cli.quiet, cli.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            dialer::telemetry::diagnostic(
                tracing::Level::ERROR,
                format_args!("could not start the async runtime: {e}"),
            );
            return ExitCode::from(Exit::Error as u8);
        }
    };
    let exit = match runtime.block_on(cli::run(cli, command)) {
        Ok(exit) => exit,
        Err(error) => {
            dialer::telemetry::diagnostic(tracing::Level::ERROR, format_args!("{error:#}"));
            Exit::from(&error)
        }
    };
    let dropped = telemetry.dropped_lines();
    if dropped > 0 {
        tracing::warn!(
            dropped,
            "log lines were dropped in all: stderr was not keeping up"
        );
    }
    ExitCode::from(exit as u8)
}
