//! The Twilio sandbox, driven by the real `TwilioClient`.

mod callbacks;
mod faults;
mod refusals;
mod resources;
