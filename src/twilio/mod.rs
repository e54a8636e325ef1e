//! Twilio's Participants resource: typed parameters checked before sending, the HTTP client,
//! responses, errors with their retry disposition, and request signatures.

pub mod client;
pub mod clock;
pub mod credentials;
pub mod error;
pub mod overrides;
pub mod params;
pub mod resource;
pub mod signature;
pub mod values;

pub use client::{ClientConfig, ListFilter, TwilioClient};
pub use clock::TwilioClock;
pub use credentials::Credentials;
pub use error::{ApiError, Disposition};
pub use overrides::RowOverrides;
pub use params::{
    CreateParticipant, FormParams, ParamError, ParamName, ParticipantOptions, ParticipantUpdate,
};
pub use resource::{Call, ErrorBody, Participant};
