//! The value types of Twilio's form parameters. Each parses from the text a user, a CSV cell or
//! a form body gives, refusing what Twilio documents as invalid, and writes itself back as the
//! wire text. One trait, so a parameter table can treat every field alike.

use crate::domain::{ByocSid, CallSid, Caller, Invalid, quoted};
use std::fmt;

pub trait ParamValue: Sized {
    fn parse_param(raw: &str) -> Result<Self, Invalid>;
    /// Wire values: one for scalars, one per element for lists (sent as repeated keys).
    fn wire_values(&self) -> Vec<String>;
}

impl ParamValue for bool {
    fn parse_param(raw: &str) -> Result<Self, Invalid> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(Invalid(format!(
                "must be true or false, got {}",
                quoted(raw)
            ))),
        }
    }
    fn wire_values(&self) -> Vec<String> {
        vec![self.to_string()]
    }
}

/// An integer Twilio documents with an inclusive range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounded<const MIN: i64, const MAX: i64>(i64);

impl<const MIN: i64, const MAX: i64> Bounded<MIN, MAX> {
    pub fn get(self) -> i64 {
        self.0
    }
}

impl<const MIN: i64, const MAX: i64> ParamValue for Bounded<MIN, MAX> {
    fn parse_param(raw: &str) -> Result<Self, Invalid> {
        let n: i64 = raw.trim().parse().map_err(|_| {
            Invalid(format!(
                "must be a whole number from {MIN} to {MAX}, got {}",
                quoted(raw)
            ))
        })?;
        if (MIN..=MAX).contains(&n) {
            Ok(Self(n))
        } else {
            Err(Invalid(format!("must be from {MIN} to {MAX}, got {n}")))
        }
    }
    fn wire_values(&self) -> Vec<String> {
        vec![self.0.to_string()]
    }
}

/// An absolute http(s) URL Twilio will call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackUrl(String);

impl CallbackUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ParamValue for CallbackUrl {
    fn parse_param(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        let url = url::Url::parse(raw).map_err(|e| {
            Invalid(format!(
                "must be an absolute URL ({e}), got {}",
                quoted(raw)
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(Invalid(format!(
                "must be an http:// or https:// URL, got {}",
                quoted(raw)
            )));
        }
        Ok(Self(raw.to_owned()))
    }
    fn wire_values(&self) -> Vec<String> {
        vec![self.0.clone()]
    }
}

/// Free text with documented length bounds (in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<const MIN: usize, const MAX: usize>(String);

impl<const MIN: usize, const MAX: usize> ParamValue for Text<MIN, MAX> {
    fn parse_param(raw: &str) -> Result<Self, Invalid> {
        let n = raw.chars().count();
        if n < MIN.max(1) || n > MAX {
            return Err(Invalid(format!(
                "must be {} to {MAX} characters, has {n}",
                MIN.max(1)
            )));
        }
        if raw.chars().any(char::is_control) {
            return Err(Invalid::new("must not contain control characters"));
        }
        Ok(Self(raw.to_owned()))
    }
    fn wire_values(&self) -> Vec<String> {
        vec![self.0.clone()]
    }
}

/// Text that must never reach a log line (SIP passwords, call tokens).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl ParamValue for Secret {
    fn parse_param(raw: &str) -> Result<Self, Invalid> {
        if raw.is_empty() {
            return Err(Invalid::new("must not be empty"));
        }
        Ok(Self(raw.to_owned()))
    }
    fn wire_values(&self) -> Vec<String> {
        vec![self.0.clone()]
    }
}

macro_rules! sid_param {
    ($($ty:ty),*) => {$(
        impl ParamValue for $ty {
            fn parse_param(raw: &str) -> Result<Self, Invalid> {
                Self::parse(raw.trim())
            }
            fn wire_values(&self) -> Vec<String> {
                vec![self.to_string()]
            }
        }
    )*};
}
sid_param!(CallSid, ByocSid, Caller);

/// A closed set of wire words; `wire_enum!` declares one.
pub trait WireWord: Sized + Copy + 'static {
    const ALL: &'static [(Self, &'static str)];
    fn word(self) -> &'static str;
}

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl WireWord for $name {
            const ALL: &'static [(Self, &'static str)] = &[$((Self::$variant, $word)),+];
            fn word(self) -> &'static str {
                match self { $(Self::$variant => $word),+ }
            }
        }

        impl ParamValue for $name {
            fn parse_param(raw: &str) -> Result<Self, Invalid> {
                parse_word(raw.trim())
            }
            fn wire_values(&self) -> Vec<String> {
                vec![self.word().to_owned()]
            }
        }
    };
}

fn parse_word<W: WireWord>(raw: &str) -> Result<W, Invalid> {
    W::ALL
        .iter()
        .find(|(_, w)| *w == raw)
        .map(|(v, _)| *v)
        .ok_or_else(|| {
            let words: Vec<&str> = W::ALL.iter().map(|(_, w)| *w).collect();
            Invalid(format!(
                "must be one of {}, got {}",
                words.join(", "),
                quoted(raw)
            ))
        })
}

/// Several words of one set. Given as repeated keys, or space/comma separated in one value;
/// always sent as repeated keys, never as one space-joined value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventList<W>(Vec<W>);

impl<W: WireWord> EventList<W> {
    pub fn words(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().map(|w| w.word())
    }
}

impl<W: WireWord + PartialEq> ParamValue for EventList<W> {
    fn parse_param(raw: &str) -> Result<Self, Invalid> {
        let mut words = Vec::new();
        for part in raw.split([' ', ',']).filter(|p| !p.is_empty()) {
            let w = parse_word::<W>(part)?;
            if !words.contains(&w) {
                words.push(w);
            }
        }
        if words.is_empty() {
            return Err(Invalid::new("must name at least one event"));
        }
        Ok(Self(words))
    }
    fn wire_values(&self) -> Vec<String> {
        self.words().map(str::to_owned).collect()
    }
}

wire_enum!(HttpMethod { Get = "GET", Post = "POST" });
wire_enum!(Beep { True = "true", False = "false", OnEnter = "onEnter", OnExit = "onExit" });
wire_enum!(ConferenceRecord {
    True = "true",
    False = "false",
    RecordFromStart = "record-from-start",
    DoNotRecord = "do-not-record",
});
wire_enum!(TrimSilence { TrimSilence = "trim-silence", DoNotTrim = "do-not-trim" });
wire_enum!(RecordingChannels { Mono = "mono", Dual = "dual" });
wire_enum!(Region {
    Us1 = "us1",
    Us2 = "us2",
    Ie1 = "ie1",
    De1 = "de1",
    Sg1 = "sg1",
    Br1 = "br1",
    Au1 = "au1",
    Jp1 = "jp1",
});
wire_enum!(JitterBufferSize { Off = "off", Small = "small", Medium = "medium", Large = "large" });
wire_enum!(RecordingTrack { Inbound = "inbound", Outbound = "outbound", Both = "both" });
wire_enum!(MachineDetection { Enable = "Enable", DetectMessageEnd = "DetectMessageEnd" });
wire_enum!(CallEvent {
    Initiated = "initiated",
    Ringing = "ringing",
    Answered = "answered",
    Completed = "completed",
});
wire_enum!(ConferenceEvent {
    Start = "start",
    End = "end",
    Join = "join",
    Leave = "leave",
    Mute = "mute",
    Hold = "hold",
    Modify = "modify",
    Speaker = "speaker",
    Announcement = "announcement",
});
wire_enum!(RecordingEvent {
    Started = "started",
    InProgress = "in-progress",
    Paused = "paused",
    Resumed = "resumed",
    Stopped = "stopped",
    Completed = "completed",
    Failed = "failed",
    Absent = "absent",
});
wire_enum!(ConferenceRecordingEvent {
    InProgress = "in-progress",
    Completed = "completed",
    Failed = "failed",
    Absent = "absent",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_inclusive_and_refuse_non_integers() {
        type Timeout = Bounded<5, 600>;
        assert!(Timeout::parse_param("5").is_ok());
        assert!(Timeout::parse_param("600").is_ok());
        for bad in ["4", "601", "ten", "5.5", ""] {
            assert!(Timeout::parse_param(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn event_lists_accept_spaces_commas_and_go_out_as_separate_values() {
        let list = EventList::<CallEvent>::parse_param("initiated ringing,answered").unwrap();
        assert_eq!(list.wire_values(), ["initiated", "ringing", "answered"]);
        assert!(EventList::<CallEvent>::parse_param("initiated busy").is_err());
        assert!(EventList::<CallEvent>::parse_param(" ").is_err());
    }

    #[test]
    fn enums_are_case_exact_like_twilio() {
        assert_eq!(Beep::parse_param("onEnter").unwrap(), Beep::OnEnter);
        assert!(Beep::parse_param("onenter").is_err());
        assert!(Region::parse_param("eu1").is_err());
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(CallbackUrl::parse_param("https://example.com/cb?x=1").is_ok());
        for bad in ["/relative", "ftp://example.com", "example.com", "https://"] {
            assert!(CallbackUrl::parse_param(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::parse_param("hunter2").unwrap();
        assert_eq!(format!("{s:?}"), "[redacted]");
    }
}

/// `WaitUrl`: a URL, or the empty string for silence while the conference has not started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitUrl(Option<CallbackUrl>);

impl ParamValue for WaitUrl {
    fn parse_param(raw: &str) -> Result<Self, Invalid> {
        match raw.trim() {
            "" | "''" => Ok(Self(None)),
            url => CallbackUrl::parse_param(url).map(|u| Self(Some(u))),
        }
    }
    fn wire_values(&self) -> Vec<String> {
        vec![
            self.0
                .as_ref()
                .map(|u| u.as_str().to_owned())
                .unwrap_or_default(),
        ]
    }
}
