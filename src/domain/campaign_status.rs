//! Whether runs may dial a campaign: the switch `dialer campaign pause|resume|cancel` sets and
//! a running run reads. Cancel is final.

use super::named_enum;

named_enum! {
    pub enum CampaignStatus("a campaign status") {
        Running = "running",
        Paused = "paused",
        Canceled = "canceled",
    }
}

named_enum! {
    /// Where a campaign stands, as `dialer status` and the report say it: its switch, and for
    /// a running campaign whether rows are left to dial or to check.
    pub enum Standing("a campaign standing") {
        Active = "active",
        Paused = "paused",
        Canceled = "canceled",
        Done = "done",
    }
}

impl Standing {
    /// `left`: the rows still pending, being dialed, or in doubt.
    pub fn of(status: CampaignStatus, left: u64) -> Self {
        match status {
            CampaignStatus::Paused => Self::Paused,
            CampaignStatus::Canceled => Self::Canceled,
            CampaignStatus::Running if left > 0 => Self::Active,
            CampaignStatus::Running => Self::Done,
        }
    }
}

impl serde::Serialize for Standing {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
