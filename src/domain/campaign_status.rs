//! Whether runs may dial a campaign: the switch `dialer campaign pause|resume|cancel` sets and
//! a running run reads. Cancel is final.

use super::Invalid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignStatus {
    Running,
    Paused,
    Canceled,
}

impl CampaignStatus {
    pub const ALL: [Self; 3] = [Self::Running, Self::Paused, Self::Canceled];

    /// The name the database stores.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Canceled => "canceled",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == raw)
            .ok_or_else(|| Invalid(format!("not a campaign status: {raw:?}")))
    }
}
