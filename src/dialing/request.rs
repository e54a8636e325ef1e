//! A row's Create Participant request: its own values over the campaign's defaults. Built in
//! one place, so that the dial and the check of a dial in doubt agree on its conference and
//! its caller.

use crate::config::Campaign;
use crate::domain::{AttemptToken, ConferenceTarget, Endpoint, Label};
use crate::twilio::{CreateParticipant, ParamError, RowOverrides};

/// The request for a row as stored (`to`, `label`, its own values). With `attempt`, calls
/// whose status callbacks go to the campaign's receiver carry that attempt's token.
pub fn row_request(
    campaign: &Campaign,
    to: &Endpoint,
    label: &Label,
    own: &RowOverrides,
    attempt: Option<AttemptToken>,
) -> Result<(ConferenceTarget, CreateParticipant), ParamError> {
    let from = own.from.clone().unwrap_or_else(|| campaign.from.clone());
    let conference = own
        .conference
        .clone()
        .unwrap_or_else(|| campaign.conference.clone());
    let mut options = own.options.clone();
    options.label = Some(label.clone());
    let mut options = options.or_defaults(&campaign.defaults);
    if let (Some(token), Some(callbacks)) = (attempt, &campaign.rules.callbacks)
        && options
            .status_callback
            .as_ref()
            .is_some_and(|url| url.as_str() == callbacks.public_url.as_str())
    {
        options.set("StatusCallback", token.tag(&callbacks.public_url).as_str())?;
    }
    let request = CreateParticipant::new(from, to.clone(), options)?;
    Ok((conference, request))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CampaignKey;

    fn campaign(extra: &str) -> Campaign {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        let text = format!(
            "[campaign]\nname = \"c\"\nlist = \"l.csv\"\nconference = \"Room\"\nfrom = \"+15017122661\"\ncps = 5\n{extra}"
        );
        std::fs::write(&path, text).unwrap();
        Campaign::load(&path).unwrap()
    }

    fn to() -> Endpoint {
        Endpoint::parse("+15558675310").unwrap()
    }

    fn label() -> Label {
        Label::parse("a").unwrap()
    }

    fn status_callback(request: &CreateParticipant) -> Option<String> {
        let mut wire = Vec::new();
        request.options().encode(&mut wire);
        wire.into_iter()
            .find(|(key, _)| *key == "StatusCallback")
            .map(|(_, value)| value)
    }

    fn own(json: &str) -> RowOverrides {
        RowOverrides::from_json(json).unwrap()
    }

    const RECEIVER: &str = "[callbacks]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"https://dialer.example.com/status\"\n";
    fn token() -> AttemptToken {
        AttemptToken {
            campaign: CampaignKey::parse("0123456789abcdef0123456789abcdef").unwrap(),
            row_id: 7,
            number: 2,
        }
    }

    #[test]
    fn callbacks_to_the_receiver_name_the_attempt_and_others_are_left_alone() {
        let receiving = campaign(RECEIVER);
        let (_, tagged) =
            row_request(&receiving, &to(), &label(), &own("{}"), Some(token())).unwrap();
        let (_, checking) = row_request(&receiving, &to(), &label(), &own("{}"), None).unwrap();
        let elsewhere_json = r#"{"status_callback": "https://elsewhere.example.com/cb"}"#;
        let (_, elsewhere) = row_request(
            &receiving,
            &to(),
            &label(),
            &own(elsewhere_json),
            Some(token()),
        )
        .unwrap();
        let (_, no_receiver) =
            row_request(&campaign(""), &to(), &label(), &own("{}"), Some(token())).unwrap();

        assert_eq!(
            status_callback(&tagged).as_deref(),
            Some(
                "https://dialer.example.com/status?dialer_attempt=0123456789abcdef0123456789abcdef-7-2#rc=3&rp=ct,rt,5xx"
            )
        );
        assert_eq!(
            status_callback(&checking).as_deref(),
            Some("https://dialer.example.com/status#rc=3&rp=ct,rt,5xx")
        );
        assert_eq!(
            status_callback(&elsewhere).as_deref(),
            Some("https://elsewhere.example.com/cb")
        );
        assert_eq!(status_callback(&no_receiver), None);
    }

    #[test]
    fn a_rows_own_caller_and_conference_win_over_the_campaigns() {
        let mine = own(r#"{"from": "+15017122662", "conference": "Other"}"#);
        let (conference, request) =
            row_request(&campaign(""), &to(), &label(), &mine, None).unwrap();

        assert_eq!(request.from().as_str(), "+15017122662");
        assert_eq!(conference, ConferenceTarget::parse("Other").unwrap());
    }
}
