//! What crosses the store's boundary, the same for every backend: typed rows, outcomes, counts.

pub mod charts;
pub mod history;
pub mod idle;
pub mod list_import;
pub mod opt_outs;
pub mod outcomes;
pub mod queries;
pub mod report;
pub mod requeue;
pub mod rows;
pub mod runs;
pub mod status;
pub mod unresolved;
