//! The calling rules a row must pass before it is dialed: the campaign's pause/resume/cancel
//! switch, the hours that bind it (the campaign's window and the law's, in the callee's own
//! zone), the caps on calls to a person, the do-not-call lists and the opt-outs. The gate asks
//! them all for each claimed row, and `plan` asks the same parts of every pending row at an
//! instant; `opt_out_route` takes opt-outs on `dialer serve`. Nothing here speaks to Twilio.

pub mod calling_hours;
pub mod frequency;
pub mod gate;
pub mod opt_out_route;
pub mod plan;
pub mod schedule;
pub mod suppression;
pub mod window;
