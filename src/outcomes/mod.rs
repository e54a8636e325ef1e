//! Call outcomes: creating a participant only starts a call; this module learns how it
//! ended (answered, busy, no answer) from Twilio's status callbacks (`receiver`) or, with no
//! public ingress, by asking Twilio (`poll`), and calls busy or unanswered people again later
//! (`recycle`). Every observation goes through one `Recorder`, whichever way it came.

pub mod poll;
pub mod receiver;
pub mod recycle;
pub mod refusals;
pub mod server;
pub mod status;

pub use recycle::Recorder;
pub use status::CallStatus;

use crate::campaign::rules::Callbacks;
use crate::twilio::{ParamError, ParticipantOptions};

/// The call-progress events asked for when the campaign names none.
pub const DEFAULT_EVENTS: &str = "initiated ringing answered completed";

/// Points every call's status callbacks at the receiver, unless the campaign file already
/// sends them elsewhere; a row's own `status_callback` column still wins over both.
pub fn route_status_callbacks(
    defaults: &mut ParticipantOptions,
    callbacks: &Callbacks,
) -> Result<(), ParamError> {
    if defaults.status_callback.is_some() {
        return Ok(());
    }
    defaults.set("StatusCallback", callbacks.public_url.as_str())?;
    if defaults.status_callback_event.is_none() {
        defaults.set("StatusCallbackEvent", DEFAULT_EVENTS)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn callbacks() -> Callbacks {
        Callbacks {
            listen: "127.0.0.1:8080".parse().unwrap(),
            public_url: "https://dialer.example.com/twilio/status".parse().unwrap(),
        }
    }

    #[test]
    fn calls_report_to_the_receiver_with_every_progress_event() {
        let mut defaults = ParticipantOptions::default();

        route_status_callbacks(&mut defaults, &callbacks()).unwrap();

        let mut wire = Vec::new();
        defaults.encode(&mut wire);
        assert!(wire.contains(&(
            "StatusCallback",
            "https://dialer.example.com/twilio/status".to_owned()
        )));
        let events: Vec<&str> = wire
            .iter()
            .filter(|(k, _)| *k == "StatusCallbackEvent")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(events, ["initiated", "ringing", "answered", "completed"]);
    }

    #[test]
    fn a_campaigns_own_status_callback_and_events_are_kept() {
        let mut own = ParticipantOptions::default();
        own.set("StatusCallback", "https://elsewhere.example.com/cb")
            .unwrap();
        let mut events_only = ParticipantOptions::default();
        events_only.set("StatusCallbackEvent", "completed").unwrap();
        let expected_events = events_only.status_callback_event.clone();

        route_status_callbacks(&mut own, &callbacks()).unwrap();
        route_status_callbacks(&mut events_only, &callbacks()).unwrap();

        assert_eq!(
            own.status_callback.map(|u| u.as_str().to_owned()),
            Some("https://elsewhere.example.com/cb".to_owned())
        );
        assert_eq!(own.status_callback_event, None);
        assert_eq!(events_only.status_callback_event, expected_events);
    }
}
