//! Domain values that parse once at the edge: after `parse`, an invalid SID, number, rate or
//! label cannot exist, so the rest of the program never re-checks them.

mod attempt;
mod call_status;
mod callee_zones;
mod campaign_status;
mod conference;
mod cps;
mod database_url;
mod duration;
mod endpoint;
mod hold;
mod jurisdictions;
mod label;
mod named;
mod numbering;
mod person;
mod region;
mod row_state;
mod run_ending;
mod secret_file;
mod sid;
mod timezone;

pub use attempt::{AttemptToken, CampaignKey};
pub use call_status::CallStatus;
pub use callee_zones::CalleeZones;
pub use campaign_status::{CampaignStatus, Standing};
pub use conference::{ConferenceTarget, ParticipantId};
pub use cps::Cps;
pub use database_url::DatabaseUrl;
pub use duration::{deserialize_duration, deserialize_some_duration, duration};
pub use endpoint::{Caller, Endpoint, PhoneNumber};
pub use hold::Hold;
pub use jurisdictions::Jurisdictions;
pub use label::Label;
pub(crate) use named::named_enum;
pub use person::PersonId;
pub use region::Region;
pub use row_state::{LineState, RowState};
pub use run_ending::RunEnding;
pub use secret_file::{SecretFileError, read_secret_file};
pub use sid::{AccountSid, ApiKeySid, ApplicationSid, ByocSid, CallSid, ConferenceSid};
pub use timezone::{CalleeZone, ZoneSource, callee_zone, prefix_zones};

/// Why a raw value was refused; the caller adds which field it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(rule: impl Into<String>) -> Self {
        Self(rule.into())
    }
}

/// A refused value as a message shows it: quoted, and cut after 40 characters, so that a
/// huge CSV cell does not become a huge error line.
pub fn quoted(raw: &str) -> String {
    match raw.char_indices().nth(40) {
        Some((end, _)) => format!("{:?}…", &raw[..end]),
        None => format!("{raw:?}"),
    }
}

/// `TryFrom<String>` through the type's `parse`, for `#[serde(try_from = "String")]`: a value
/// in a file is read by the same rules as on the command line or in a list.
macro_rules! parsed_from_string {
    ($($ty:ty),*) => {$(
        impl TryFrom<String> for $ty {
            type Error = Invalid;
            fn try_from(raw: String) -> Result<Self, Invalid> {
                Self::parse(&raw)
            }
        }
    )*};
}
parsed_from_string!(Caller, ConferenceTarget, Region);
