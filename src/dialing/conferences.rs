//! The conference SIDs this run has seen Twilio answer for friendly names. Every create into a
//! conference answers its SID, and it is the same for the whole conference: the store is
//! written only when a name's SID is new or has changed (a conference ended and began again),
//! not once per call, since each write is a transaction on a database the hosts share.

use crate::domain::ConferenceSid;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub(super) struct KnownConferences(Mutex<HashMap<String, ConferenceSid>>);

impl KnownConferences {
    /// Whether `sid` is what this run already stored for `name`.
    pub(super) fn is_known(&self, name: &str, sid: &ConferenceSid) -> bool {
        self.known().get(name) == Some(sid)
    }

    /// `sid` is stored for `name`: later answers with the same SID need no write.
    pub(super) fn stored(&self, name: &str, sid: &ConferenceSid) {
        self.known().insert(name.to_owned(), sid.clone());
    }

    fn known(&self) -> std::sync::MutexGuard<'_, HashMap<String, ConferenceSid>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid(n: u32) -> ConferenceSid {
        ConferenceSid::parse(&format!("CF{n:032x}")).unwrap()
    }

    #[test]
    fn a_sid_is_news_until_stored_and_again_once_its_conference_changes() {
        let known = KnownConferences::default();
        assert!(!known.is_known("Room", &sid(1)), "never stored");
        known.stored("Room", &sid(1));
        assert!(known.is_known("Room", &sid(1)));
        assert!(!known.is_known("Other", &sid(1)), "each name its own");
        assert!(
            !known.is_known("Room", &sid(2)),
            "the conference began again"
        );
        known.stored("Room", &sid(2));
        assert!(known.is_known("Room", &sid(2)));
    }
}
