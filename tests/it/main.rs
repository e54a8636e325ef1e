//! All integration tests build into this one binary.

mod bad_input;
mod campaign;
mod check;
mod clocks;
mod compliance;
mod helper_library;
mod hosts;
mod metrics;
mod moving;
mod numbers;
mod outcomes;
mod pacing;
mod participants_cli;
mod postgres;
mod prism;
mod reliability;
mod report_html;
mod requeue;
mod sandbox;
mod security;
mod shared_sqlite;
mod status;
mod store;
mod support;
mod terminal;
mod worker;
