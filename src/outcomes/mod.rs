//! Call outcomes: creating a participant only starts a call; this module learns how it
//! ended (answered, busy, no answer) from Twilio's status callbacks (`receiver`) or, with no
//! public ingress, by asking Twilio (`poll`), and calls busy or unanswered people again later
//! (`recycle`). Every observation goes through one `Recorder`, whichever way it came.

pub mod belonging;
pub mod poll;
pub mod receiver;
pub mod recycle;
pub mod refusals;
pub mod server;

pub use crate::domain::CallStatus;
pub use recycle::{Recorder, Recycle};
