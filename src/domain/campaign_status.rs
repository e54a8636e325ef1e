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
