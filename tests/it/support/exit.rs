//! Exit codes as the binary returns them, taken from the crate, never repeated as numbers.

use dialer::cli::Exit;

pub const DONE: Option<i32> = Some(Exit::Done as i32);
pub const ERROR: Option<i32> = Some(Exit::Error as i32);
pub const CONFIG: Option<i32> = Some(Exit::Config as i32);
pub const DONE_WITH_FAILURES: Option<i32> = Some(Exit::DoneWithFailures as i32);
pub const STOPPED_EARLY: Option<i32> = Some(Exit::StoppedEarly as i32);
pub const LOCKED: Option<i32> = Some(Exit::Locked as i32);
