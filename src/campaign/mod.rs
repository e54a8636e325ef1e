//! A campaign: the campaign file, the list's import, pacing, retries, and the dial loop.

pub mod account_slots;
pub mod adaptive;
pub mod config;
pub mod engine;
pub mod gate;
pub mod import;
pub mod in_flight;
pub mod lock;
pub mod pacer;
pub mod progress;
pub mod reconcile;
pub mod request;
pub mod retry;
pub mod rules;
pub mod run;
pub mod suppression;
pub mod window;

pub use config::Campaign;
