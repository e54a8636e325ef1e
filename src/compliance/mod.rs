//! The calling rules a row must pass before it is dialed: the campaign's pause/resume/cancel
//! switch, the calling window in the callee's own zone, and the do-not-call lists. The gate
//! asks them all for each claimed row; nothing here speaks to Twilio.

pub mod calling_hours;
pub mod frequency;
pub mod gate;
pub mod opt_out_route;
pub mod plan;
pub mod schedule;
pub mod suppression;
pub mod window;
