//! dialer: outbound call campaigns on Twilio conferences.
//!
//! The modules follow the data: `campaign` (CSV → import → schedule/pace) → `store` (SQLite) →
//! `twilio` (the API) → `report`. `sandbox` is a Twilio emulator sharing `twilio`'s types.

pub mod campaign;
pub mod cli;
pub mod domain;
pub mod outcomes;
pub mod report;
pub mod sandbox;
pub mod shutdown;
pub mod stop;
pub mod store;
pub mod telemetry;
pub mod twilio;
