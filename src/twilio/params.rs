//! The Participants resource's request parameters, each declared once: its field, its value
//! type and its wire name. From that one table come the typed struct, the parser used by the
//! CLI, CSV columns, the campaign file and the sandbox (`set`), and the form encoder.

use super::values::*;
use crate::domain::{ByocSid, CallSid, Caller, Endpoint, Invalid, Label};

/// A parameter refused before any request: which one, the value, and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {param}: {rule}")]
pub struct ParamError {
    pub param: String,
    pub rule: Invalid,
}

impl ParamError {
    pub fn new(param: impl Into<String>, rule: Invalid) -> Self {
        Self {
            param: param.into(),
            rule,
        }
    }
}

/// Names a parameter is known by: the wire name (`StatusCallbackEvent`), snake case for CSV
/// columns and the campaign file (`status_callback_event`), kebab case for flags.
#[derive(Debug, Clone, Copy)]
pub struct ParamName {
    pub wire: &'static str,
    pub snake: &'static str,
    pub repeated: bool,
    /// A credential (SipAuthPassword, CallToken): never taken from a command line.
    pub secret: bool,
}

impl ParamName {
    pub fn kebab(&self) -> String {
        self.snake.replace('_', "-")
    }

    /// Where a credential parameter is read from (`DIALER_SIP_AUTH_PASSWORD`): the
    /// environment only, never a command line, a campaign file or a list.
    pub fn env_var(&self) -> Option<String> {
        self.secret
            .then(|| format!("DIALER_{}", self.snake.to_ascii_uppercase()))
    }

    pub fn matches(&self, name: &str) -> bool {
        name == self.wire || name == self.snake || name.replace('-', "_") == self.snake
    }
}

/// A table of form parameters settable by name (for flags, CSV columns, config keys).
pub trait FormParams: Default + Clone + Send + Sync + 'static {
    fn names() -> &'static [ParamName];
    fn set_param(&mut self, name: &str, raw: &str) -> Result<(), ParamError>;
}

/// How a value type sits in the parameter table.
trait Shape {
    const REPEATED: bool = false;
    const SECRET: bool = false;
}
impl<W> Shape for EventList<W> {
    const REPEATED: bool = true;
}
impl Shape for Secret {
    const SECRET: bool = true;
}
macro_rules! plain { ($($t:ty),*) => { $(impl Shape for $t {})* } }
plain!(
    bool,
    CallbackUrl,
    WaitUrl,
    CallSid,
    ByocSid,
    Caller,
    Label,
    HttpMethod,
    Beep,
    ConferenceRecord,
    TrimSilence,
    RecordingChannels,
    Region,
    JitterBufferSize,
    RecordingTrack,
    MachineDetection
);
impl<const A: i64, const B: i64> Shape for Bounded<A, B> {}
impl<const A: usize, const B: usize> Shape for Text<A, B> {}

impl ParamValue for Label {
    fn parse_param(raw: &str) -> Result<Self, Invalid> {
        Label::parse(raw)
    }
    fn wire_values(&self) -> Vec<String> {
        vec![self.as_str().to_owned()]
    }
}

macro_rules! form_params {
    ($(#[$doc:meta])* $name:ident { $($field:ident: $ty:ty = $wire:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name { $(pub $field: Option<$ty>,)+ }

        impl $name {
            pub const NAMES: &'static [ParamName] = &[$(ParamName {
                wire: $wire,
                snake: stringify!($field),
                repeated: <$ty as Shape>::REPEATED,
                secret: <$ty as Shape>::SECRET,
            },)+];

            /// Sets one parameter by any of its names, replacing an earlier value.
            pub fn set(&mut self, name: &str, raw: &str) -> Result<(), ParamError> {
                $(if (ParamName { wire: $wire, snake: stringify!($field), repeated: false, secret: false }).matches(name) {
                    self.$field = Some(<$ty>::parse_param(raw).map_err(|e| ParamError::new($wire, e))?);
                    return Ok(());
                })+
                Err(ParamError::new(name, Invalid::new("is not a parameter of this request")))
            }

            /// Appends `(WireName, value)` pairs for every parameter that is set.
            pub fn encode(&self, out: &mut Vec<(&'static str, String)>) {
                $(if let Some(v) = &self.$field {
                    out.extend(v.wire_values().into_iter().map(|s| ($wire, s)));
                })+
            }

            /// Fills every parameter still unset from `defaults`.
            pub fn or_defaults(mut self, defaults: &Self) -> Self {
                $(if self.$field.is_none() { self.$field = defaults.$field.clone(); })+
                self
            }

            pub fn lookup(name: &str) -> Option<&'static ParamName> {
                Self::NAMES.iter().find(|p| p.matches(name))
            }
        }

        impl FormParams for $name {
            fn names() -> &'static [ParamName] {
                Self::NAMES
            }
            fn set_param(&mut self, name: &str, raw: &str) -> Result<(), ParamError> {
                self.set(name, raw)
            }
        }
    };
}

form_params!(
    /// Every optional parameter of Create Participant (From and To are in [`CreateParticipant`]).
    ParticipantOptions {
        status_callback: CallbackUrl = "StatusCallback",
        status_callback_method: HttpMethod = "StatusCallbackMethod",
        status_callback_event: EventList<CallEvent> = "StatusCallbackEvent",
        label: Label = "Label",
        timeout: Bounded<5, 600> = "Timeout",
        record: bool = "Record",
        muted: bool = "Muted",
        beep: Beep = "Beep",
        start_conference_on_enter: bool = "StartConferenceOnEnter",
        end_conference_on_exit: bool = "EndConferenceOnExit",
        wait_url: WaitUrl = "WaitUrl",
        wait_method: HttpMethod = "WaitMethod",
        early_media: bool = "EarlyMedia",
        max_participants: Bounded<2, 250> = "MaxParticipants",
        conference_record: ConferenceRecord = "ConferenceRecord",
        conference_trim: TrimSilence = "ConferenceTrim",
        conference_status_callback: CallbackUrl = "ConferenceStatusCallback",
        conference_status_callback_method: HttpMethod = "ConferenceStatusCallbackMethod",
        conference_status_callback_event: EventList<ConferenceEvent> = "ConferenceStatusCallbackEvent",
        recording_channels: RecordingChannels = "RecordingChannels",
        recording_status_callback: CallbackUrl = "RecordingStatusCallback",
        recording_status_callback_method: HttpMethod = "RecordingStatusCallbackMethod",
        sip_auth_username: Text<1, 255> = "SipAuthUsername",
        sip_auth_password: Secret = "SipAuthPassword",
        region: Region = "Region",
        conference_recording_status_callback: CallbackUrl = "ConferenceRecordingStatusCallback",
        conference_recording_status_callback_method: HttpMethod = "ConferenceRecordingStatusCallbackMethod",
        recording_status_callback_event: EventList<RecordingEvent> = "RecordingStatusCallbackEvent",
        conference_recording_status_callback_event: EventList<ConferenceRecordingEvent> = "ConferenceRecordingStatusCallbackEvent",
        coaching: bool = "Coaching",
        call_sid_to_coach: CallSid = "CallSidToCoach",
        jitter_buffer_size: JitterBufferSize = "JitterBufferSize",
        byoc: ByocSid = "Byoc",
        caller_id: Caller = "CallerId",
        call_reason: Text<1, 255> = "CallReason",
        recording_track: RecordingTrack = "RecordingTrack",
        time_limit: Bounded<1, 86400> = "TimeLimit",
        machine_detection: MachineDetection = "MachineDetection",
        machine_detection_timeout: Bounded<3, 59> = "MachineDetectionTimeout",
        machine_detection_speech_threshold: Bounded<1000, 6000> = "MachineDetectionSpeechThreshold",
        machine_detection_speech_end_threshold: Bounded<500, 5000> = "MachineDetectionSpeechEndThreshold",
        machine_detection_silence_timeout: Bounded<2000, 10000> = "MachineDetectionSilenceTimeout",
        amd_status_callback: CallbackUrl = "AmdStatusCallback",
        amd_status_callback_method: HttpMethod = "AmdStatusCallbackMethod",
        trim: TrimSilence = "Trim",
        call_token: Secret = "CallToken",
        client_notification_url: CallbackUrl = "ClientNotificationUrl",
        caller_display_name: Text<2, 255> = "CallerDisplayName",
    }
);

form_params!(
    /// Every parameter of Update Participant.
    ParticipantUpdate {
        muted: bool = "Muted",
        hold: bool = "Hold",
        hold_url: CallbackUrl = "HoldUrl",
        hold_method: HttpMethod = "HoldMethod",
        announce_url: CallbackUrl = "AnnounceUrl",
        announce_method: HttpMethod = "AnnounceMethod",
        wait_url: WaitUrl = "WaitUrl",
        wait_method: HttpMethod = "WaitMethod",
        beep_on_exit: bool = "BeepOnExit",
        end_conference_on_exit: bool = "EndConferenceOnExit",
        coaching: bool = "Coaching",
        call_sid_to_coach: CallSid = "CallSidToCoach",
    }
);

impl ParticipantOptions {
    /// Rules between parameters, from the resource's documentation.
    pub fn check(&self, to: &Endpoint) -> Result<(), ParamError> {
        if let Some(caller_id) = &self.caller_id {
            caller_id
                .check_pairing(to)
                .map_err(|e| ParamError::new("CallerId", e))?;
        }
        self.check_alone()
    }

    /// The rules between parameters that do not depend on `To`: a campaign's defaults must
    /// keep them on their own, as every row inherits them.
    pub fn check_alone(&self) -> Result<(), ParamError> {
        check_coaching(self.coaching, self.call_sid_to_coach.as_ref())?;
        let has_amd_tuning = self.machine_detection_timeout.is_some()
            || self.machine_detection_speech_threshold.is_some()
            || self.machine_detection_speech_end_threshold.is_some()
            || self.machine_detection_silence_timeout.is_some()
            || self.amd_status_callback.is_some();
        if has_amd_tuning && self.machine_detection.is_none() {
            return Err(ParamError::new(
                "MachineDetection",
                Invalid::new(
                    "must be set (Enable or DetectMessageEnd) when any MachineDetection* or AmdStatusCallback parameter is",
                ),
            ));
        }
        Ok(())
    }
}

impl ParticipantUpdate {
    pub fn check(&self) -> Result<(), ParamError> {
        check_coaching(self.coaching, self.call_sid_to_coach.as_ref())?;
        if self == &Self::default() {
            return Err(ParamError::new(
                "update",
                Invalid::new("names no parameter to change"),
            ));
        }
        Ok(())
    }
}

/// "If `true`, `call_sid_to_coach` must be defined."
fn check_coaching(
    coaching: Option<bool>,
    call_sid_to_coach: Option<&CallSid>,
) -> Result<(), ParamError> {
    if coaching == Some(true) && call_sid_to_coach.is_none() {
        return Err(ParamError::new(
            "CallSidToCoach",
            Invalid::new("is required when Coaching is true"),
        ));
    }
    Ok(())
}

/// A complete Create Participant request, valid by construction: build it with [`Self::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct CreateParticipant {
    from: Caller,
    to: Endpoint,
    options: ParticipantOptions,
}

impl CreateParticipant {
    pub fn new(
        from: Caller,
        to: Endpoint,
        options: ParticipantOptions,
    ) -> Result<Self, ParamError> {
        from.check_pairing(&to)
            .map_err(|e| ParamError::new("From", e))?;
        options.check(&to)?;
        Ok(Self { from, to, options })
    }

    /// Parses a form body (pairs in order, list keys repeated) as Twilio would.
    pub fn from_form(pairs: &[(String, String)]) -> Result<Self, ParamError> {
        let mut from = None;
        let mut to = None;
        let mut options = ParticipantOptions::default();
        let mut lists: Vec<(&str, Vec<&str>)> = Vec::new();
        for (key, value) in pairs {
            match key.as_str() {
                "From" => {
                    from = Some(Caller::parse(value).map_err(|e| ParamError::new("From", e))?)
                }
                "To" => to = Some(Endpoint::parse(value).map_err(|e| ParamError::new("To", e))?),
                key => match ParticipantOptions::NAMES.iter().find(|n| n.wire == key) {
                    Some(name) if name.repeated => {
                        match lists.iter_mut().find(|(k, _)| *k == name.wire) {
                            Some((_, values)) => values.push(value),
                            None => lists.push((name.wire, vec![value])),
                        }
                    }
                    Some(name) => options.set(name.wire, value)?,
                    None => {
                        return Err(ParamError::new(
                            key,
                            Invalid::new("is not a parameter of Create Participant"),
                        ));
                    }
                },
            }
        }
        for (wire, values) in lists {
            options.set(wire, &values.join(" "))?;
        }
        let missing = |p: &str| ParamError::new(p, Invalid::new("is required"));
        Self::new(
            from.ok_or_else(|| missing("From"))?,
            to.ok_or_else(|| missing("To"))?,
            options,
        )
    }

    pub fn from(&self) -> &Caller {
        &self.from
    }

    pub fn to(&self) -> &Endpoint {
        &self.to
    }

    pub fn options(&self) -> &ParticipantOptions {
        &self.options
    }

    pub fn label(&self) -> Option<&Label> {
        self.options.label.as_ref()
    }

    pub fn to_form(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("From", self.from.to_string()), ("To", self.to.to_string())];
        self.options.encode(&mut out);
        out
    }
}

impl ParticipantUpdate {
    pub fn from_form(pairs: &[(String, String)]) -> Result<Self, ParamError> {
        let mut update = Self::default();
        for (key, value) in pairs {
            if Self::NAMES.iter().all(|n| n.wire != key) {
                return Err(ParamError::new(
                    key,
                    Invalid::new("is not a parameter of Update Participant"),
                ));
            }
            update.set(key, value)?;
        }
        update.check()?;
        Ok(update)
    }

    pub fn to_form(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(pairs: &[(&str, &str)]) -> Result<CreateParticipant, ParamError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        CreateParticipant::from_form(&pairs)
    }

    const BASE: [(&str, &str); 2] = [("From", "+15017122661"), ("To", "+15558675310")];

    #[test]
    fn every_name_form_reaches_the_same_field() {
        let mut a = ParticipantOptions::default();
        a.set("StatusCallbackEvent", "initiated completed").unwrap();
        let mut b = ParticipantOptions::default();
        b.set("status_callback_event", "initiated,completed")
            .unwrap();
        let mut c = ParticipantOptions::default();
        c.set("status-callback-event", "initiated completed")
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert!(a.set("NoSuchThing", "1").is_err());
    }

    #[test]
    fn the_table_covers_every_create_parameter_of_twilios_spec() {
        let names: Vec<&str> = ParticipantOptions::NAMES.iter().map(|n| n.wire).collect();
        assert_eq!(
            names.len() + 2,
            50,
            "From + To + every optional create parameter"
        );
        let snake: std::collections::HashSet<_> =
            ParticipantOptions::NAMES.iter().map(|n| n.snake).collect();
        assert_eq!(snake.len(), names.len(), "snake names are unique");
    }

    #[test]
    fn repeated_event_keys_are_collected_and_sent_back_repeated() {
        let mut pairs = BASE.to_vec();
        pairs.extend([
            ("StatusCallbackEvent", "initiated"),
            ("StatusCallbackEvent", "answered"),
        ]);
        let req = create(&pairs).unwrap();
        let events: Vec<_> = req
            .to_form()
            .into_iter()
            .filter(|(k, _)| *k == "StatusCallbackEvent")
            .collect();
        assert_eq!(events.len(), 2);
    }

    #[test]
    fn errors_name_the_parameter_and_the_rule() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("Timeout", "4")],
                "invalid Timeout: must be from 5 to 600, got 4",
            ),
            (
                &[("MaxParticipants", "251")],
                "invalid MaxParticipants: must be from 2 to 250, got 251",
            ),
            (
                &[("Coaching", "true")],
                "invalid CallSidToCoach: is required when Coaching is true",
            ),
            (
                &[("Byoc", "BYxyz")],
                "invalid Byoc: must match ^BY[0-9a-fA-F]{32}$",
            ),
            (
                &[("Beep", "loud")],
                "invalid Beep: must be one of true, false, onEnter, onExit",
            ),
            (&[("Region", "eu1")], "invalid Region"),
            (
                &[("MachineDetectionSpeechThreshold", "999")],
                "invalid MachineDetectionSpeechThreshold",
            ),
            (
                &[("MachineDetectionTimeout", "10")],
                "invalid MachineDetection: must be set",
            ),
            (
                &[("CallerId", "client:bob")],
                "invalid CallerId: must be a phone number",
            ),
            (&[("CallerDisplayName", "x")], "invalid CallerDisplayName"),
            (&[("Bogus", "1")], "invalid Bogus: is not a parameter"),
        ];
        for (extra, want) in cases {
            let mut pairs = BASE.to_vec();
            pairs.extend_from_slice(extra);
            let err = create(&pairs).unwrap_err().to_string();
            assert!(err.starts_with(want), "{extra:?}: {err}");
        }
        let err = create(&[("From", "client:alice"), ("To", "+15558675310")]).unwrap_err();
        assert_eq!(err.param, "From");
        assert_eq!(
            create(&[("To", "+15558675310")]).unwrap_err().to_string(),
            "invalid From: is required"
        );
    }

    #[test]
    fn coaching_with_a_call_sid_is_accepted() {
        let mut pairs = BASE.to_vec();
        pairs.extend([
            ("Coaching", "true"),
            ("CallSidToCoach", "CA0123456789abcdef0123456789abcdef"),
        ]);
        assert!(create(&pairs).is_ok());
    }

    #[test]
    fn update_refuses_nothing_to_change_and_coaching_without_sid() {
        assert!(ParticipantUpdate::from_form(&[]).is_err());
        assert!(ParticipantUpdate::from_form(&[("Coaching".into(), "true".into())]).is_err());
        let ok = ParticipantUpdate::from_form(&[("Hold".into(), "true".into())]).unwrap();
        assert_eq!(ok.to_form(), [("Hold", "true".to_string())]);
    }
}
