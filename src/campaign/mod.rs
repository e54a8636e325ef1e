//! One run of a campaign, start to end: the campaign's lock, its database, the list's import,
//! the compliance gate, the dial loop, and how it ended. The orchestration only: each step is
//! its own module (`import`, `compliance`, `dialing`).

pub mod lock;
mod lock_holder;
mod move_to;
mod run;

pub use lock_holder::{LockHolder, lock_holder};
pub use move_to::{MoveError, Moved, move_to_postgres};
pub use run::{RunError, RunResult, run};
