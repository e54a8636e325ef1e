//! dialer: outbound call campaigns on Twilio conferences.
//!
//! The modules follow the data: `config` (the campaign file) → `import` (CSV → rows) → `store`
//! (the database, the only SQL) → `compliance` (may this row be called now?) → `dialing` (pace,
//! send, reconcile) → `twilio` (the API) → `outcomes` (how calls ended) → `report`; `campaign`
//! runs them in order for one run. `law` is the law's calling rules as data, read by `config`,
//! `import` and `compliance`. `sandbox` is a Twilio emulator sharing `twilio`'s types.

pub mod atomic_file;
pub mod campaign;
pub mod cli;
pub mod compliance;
pub mod config;
pub mod dialing;
pub mod domain;
pub mod foreign_text;
pub mod import;
pub mod law;
pub mod metrics;
pub mod outcomes;
pub mod report;
pub mod sandbox;
pub mod shutdown;
pub mod stop;
pub mod store;
pub mod telemetry;
pub mod twilio;
pub mod words;
