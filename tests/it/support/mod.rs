//! Helpers shared by the integration tests.

pub mod campaign;
pub mod sandbox;
pub mod tools;
