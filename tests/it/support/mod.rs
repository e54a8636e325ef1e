//! Helpers shared by the integration tests.

pub mod campaign;
pub mod chromium;
pub mod exit;
pub mod faketime;
pub mod postgres;
pub mod sandbox;
pub mod tmux;
pub mod tools;
