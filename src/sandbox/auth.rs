//! Basic authentication as Twilio checks it: the Account SID with its auth token, or an API
//! key with its secret; and the account named in the path must be the authenticated one.

use super::config::SandboxConfig;
use super::failure::Failure;
use axum::http::{HeaderMap, header};
use base64::Engine;
use secrecy::ExposeSecret;

pub(crate) fn check(
    config: &SandboxConfig,
    headers: &HeaderMap,
    path: &str,
) -> Result<(), Failure> {
    let (user, password) = basic_credentials(headers).ok_or_else(Failure::unauthenticated)?;
    let by_token =
        user == config.account_sid.as_str() && same(&password, config.auth_token.expose_secret());
    let by_key = match (&config.api_key, &config.api_secret) {
        (Some(key), Some(secret)) => {
            user == key.as_str() && same(&password, secret.expose_secret())
        }
        _ => false,
    };
    if !(by_token || by_key) {
        return Err(Failure::unauthenticated());
    }
    match path_account(path) {
        Some(account) if account != config.account_sid.as_str() => Err(Failure::other_account()),
        _ => Ok(()),
    }
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let (user, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// `AC…` of `/2010-04-01/Accounts/AC…/…`.
fn path_account(path: &str) -> Option<&str> {
    path.strip_prefix("/2010-04-01/Accounts/")?
        .split('/')
        .next()
}

/// Compares secrets without stopping at the first difference.
fn same(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn basic(user: &str, password: &str) -> HeaderMap {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap(),
        );
        headers
    }

    #[test]
    fn the_token_or_the_api_key_opens_only_the_own_account() {
        let key = "SK0123456789abcdef0123456789abcdef";
        let config = SandboxConfig {
            api_key: Some(key.parse().unwrap()),
            api_secret: Some("key-secret".into()),
            ..SandboxConfig::default()
        };
        let own = format!("/2010-04-01/Accounts/{}/Calls.json", config.account_sid);
        let token = config.auth_token.expose_secret().to_owned();
        assert!(check(&config, &basic(config.account_sid.as_str(), &token), &own).is_ok());
        assert!(check(&config, &basic(key, "key-secret"), &own).is_ok());
        let wrong = check(&config, &basic(key, "nope"), &own).unwrap_err();
        assert_eq!(wrong.status, 401);
        let other = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Calls.json";
        assert_eq!(
            check(&config, &basic(key, "key-secret"), other)
                .unwrap_err()
                .status,
            403
        );
        assert_eq!(
            check(&config, &HeaderMap::new(), &own).unwrap_err().code,
            20003
        );
    }
}
