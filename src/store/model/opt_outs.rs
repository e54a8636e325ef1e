//! Opt-outs as stored: a number that asked not to be called again, for every campaign of the
//! database.

use crate::domain::{Endpoint, named_enum};

named_enum! {
    /// What recorded an opt-out.
    pub enum OptOutSource("an opt-out source") {
        /// `dialer optout add`.
        Cli = "cli",
        /// `POST /optouts` on `dialer serve`, from a CRM or an IVR.
        Serve = "serve",
    }
}

impl OptOutSource {
    /// "opted out (dialer optout)": the reason a row suppressed for it gives (the store writes
    /// the same words when it suppresses pending rows in bulk).
    pub fn reason(self) -> &'static str {
        match self {
            Self::Cli => "opted out (dialer optout)",
            Self::Serve => "opted out (dialer serve)",
        }
    }
}

impl serde::Serialize for OptOutSource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OptOut {
    pub number: Endpoint,
    /// Unix ms on the store's clock.
    pub added_at: i64,
    pub expires_at: Option<i64>,
    pub source: OptOutSource,
    pub note: Option<String>,
}
