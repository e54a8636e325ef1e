//! Why a pending row waits before its first call, as the gate decided and the row stores it
//! beside the time it waits for (`next_attempt_at`): the report and `dialer status` say what a
//! row is waiting for, and until when, from these two alone.

use super::named_enum;

named_enum! {
    pub enum Hold("a hold") {
        /// Outside its callee's calling window: waits for the window's next opening.
        Window = "window",
        /// Called as often as the frequency cap allows: waits for the oldest call to age out.
        FrequencyCap = "frequency_cap",
    }
}

impl serde::Serialize for Hold {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
