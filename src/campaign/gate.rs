//! The last check before a claimed row is dialed: may this person be called now?
//! (Calling windows, suppression lists and pause/cancel plug in here.)

use super::config::Campaign;
use crate::store::{Claimed, Store, StoreError};

/// What to do with a claimed row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Dial,
    /// Not now: pending again from `until_ms` (unix ms).
    Defer {
        until_ms: i64,
        reason: String,
    },
    /// Never: the number is on a do-not-call list.
    Suppress {
        reason: String,
    },
}

#[derive(Debug, Clone)]
pub struct Gate {}

impl Gate {
    pub fn new(_campaign: &Campaign) -> Self {
        Self {}
    }

    pub async fn admit(&self, _store: &Store, _claimed: &Claimed) -> Result<Admission, StoreError> {
        Ok(Admission::Dial)
    }
}
