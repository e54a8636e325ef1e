//! All integration tests build into this one binary.

mod campaign;
mod compliance;
mod helper_library;
mod outcomes;
mod participants_cli;
mod prism;
mod sandbox;
mod security;
mod store;
mod support;
