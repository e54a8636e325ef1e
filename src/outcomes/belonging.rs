//! Whether a signed callback is this campaign's call. Twilio signs every callback of an
//! account with the same auth token, so a genuine signature says only that the call is the
//! account's: campaigns whose files share `[callbacks]` receive each other's callbacks. A
//! callback that names an attempt settles it only when its token carries this campaign's key
//! and its `To` (and `From`, for a phone caller) are that attempt's. Anything else is a stray:
//! counted and logged, never applied.

use crate::domain::{AttemptToken, Caller};
use crate::store::{AttemptParty, Store, StoreError};

/// Why a callback is not this campaign's call; `None` when it is.
pub async fn stray(
    store: &Store,
    campaign_caller: &Caller,
    token: AttemptToken,
    to: Option<&str>,
    from: Option<&str>,
) -> Result<Option<String>, StoreError> {
    if token.campaign != store.campaign_key() {
        return Ok(Some(format!(
            "its token names another campaign's attempt (key {:?})",
            token.campaign
        )));
    }
    let Some(party) = store.attempt_party(token.row_id, token.number).await? else {
        return Ok(Some(format!("no attempt {token} in this campaign")));
    };
    Ok(mismatch(&party, campaign_caller, to, from))
}

/// How the callback's `To` and `From` differ from the attempt's call, if they do. The caller
/// is the row's own or the campaign's; only a phone caller is compared (Twilio writes other
/// callers its own way).
fn mismatch(
    party: &AttemptParty,
    campaign_caller: &Caller,
    to: Option<&str>,
    from: Option<&str>,
) -> Option<String> {
    if !to.is_some_and(|to| party.to.is_called_as(to)) {
        return Some(format!("its To {to:?} is not the attempt's"));
    }
    let caller = match &party.params {
        Ok(own) => own.from.as_ref().unwrap_or(campaign_caller),
        // The row's values no longer read: its caller is unknown, its callee is checked.
        Err(_) => return None,
    };
    match caller {
        Caller::Phone(number) if from != Some(number.as_str()) => {
            Some(format!("its From {from:?} is not the attempt's caller"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Endpoint;
    use crate::twilio::RowOverrides;

    fn party(to: &str, own: &str) -> AttemptParty {
        AttemptParty {
            to: Endpoint::parse(to).unwrap(),
            params: RowOverrides::from_json(own),
        }
    }

    #[test]
    fn a_callback_is_the_attempts_call_only_with_its_callee_and_phone_caller() {
        let campaign = Caller::parse("+15017122661").unwrap();
        let own_caller = r#"{"from": "+15017122662"}"#;
        for (to, own, callback_to, callback_from, ours) in [
            (
                "+14155550100",
                "{}",
                Some("+14155550100"),
                Some("+15017122661"),
                true,
            ),
            (
                "+14155550100",
                "{}",
                Some("+14155550101"),
                Some("+15017122661"),
                false,
            ),
            ("+14155550100", "{}", None, Some("+15017122661"), false),
            (
                "+14155550100",
                "{}",
                Some("+14155550100"),
                Some("+15017122669"),
                false,
            ),
            (
                "+14155550100",
                own_caller,
                Some("+14155550100"),
                Some("+15017122662"),
                true,
            ),
            (
                "+14155550100",
                own_caller,
                Some("+14155550100"),
                Some("+15017122661"),
                false,
            ),
            (
                "client:alice",
                r#"{"from": "client:desk"}"#,
                Some("client:alice"),
                Some("client:desk"),
                true,
            ),
            (
                "client:alice",
                r#"{"from": "client:desk"}"#,
                Some("client:alice"),
                None,
                true,
            ),
        ] {
            let verdict = mismatch(&party(to, own), &campaign, callback_to, callback_from);
            assert_eq!(
                verdict.is_none(),
                ours,
                "{to} {own} {callback_to:?} {callback_from:?}: {verdict:?}"
            );
        }
    }
}
