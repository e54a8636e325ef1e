//! Credentials: the Account SID with its auth token, or an API key (`SK…`) with its secret.
//! Read from the environment under the names Twilio's own tools use; never from argv.

use crate::domain::{AccountSid, ApiKeySid, Invalid};
use secrecy::{ExposeSecret, SecretString};

#[derive(Clone)]
pub struct Credentials {
    account: AccountSid,
    username: String,
    secret: SecretString,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("account", &self.account)
            .field("username", &self.username)
            .field("secret", &"[redacted]")
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("TWILIO_ACCOUNT_SID is not set")]
    MissingAccount,
    #[error("invalid {var}: {rule}")]
    Invalid { var: &'static str, rule: Invalid },
    #[error("set TWILIO_AUTH_TOKEN, or TWILIO_API_KEY with TWILIO_API_SECRET")]
    MissingSecret,
}

impl Credentials {
    pub fn with_auth_token(account: AccountSid, auth_token: SecretString) -> Self {
        Self {
            username: account.to_string(),
            account,
            secret: auth_token,
        }
    }

    pub fn with_api_key(account: AccountSid, key: ApiKeySid, secret: SecretString) -> Self {
        Self {
            account,
            username: key.to_string(),
            secret,
        }
    }

    /// `TWILIO_ACCOUNT_SID` with `TWILIO_API_KEY` + `TWILIO_API_SECRET` if both are set,
    /// else with `TWILIO_AUTH_TOKEN`.
    pub fn from_env() -> Result<Self, CredentialsError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, CredentialsError> {
        let account = get("TWILIO_ACCOUNT_SID").ok_or(CredentialsError::MissingAccount)?;
        let account = AccountSid::parse(&account).map_err(|rule| CredentialsError::Invalid {
            var: "TWILIO_ACCOUNT_SID",
            rule,
        })?;
        if let (Some(key), Some(secret)) = (get("TWILIO_API_KEY"), get("TWILIO_API_SECRET")) {
            let key = ApiKeySid::parse(&key).map_err(|rule| CredentialsError::Invalid {
                var: "TWILIO_API_KEY",
                rule,
            })?;
            return Ok(Self::with_api_key(account, key, secret.into()));
        }
        let token = get("TWILIO_AUTH_TOKEN").ok_or(CredentialsError::MissingSecret)?;
        Ok(Self::with_auth_token(account, token.into()))
    }

    pub fn account(&self) -> &AccountSid {
        &self.account
    }

    pub fn username(&self) -> &str {
        &self.username
    }

    pub fn secret(&self) -> &str {
        self.secret.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AC: &str = "AC0123456789abcdef0123456789abcdef";
    const SK: &str = "SK0123456789abcdef0123456789abcdef";

    #[test]
    fn api_key_wins_over_auth_token_and_secrets_do_not_print() {
        let env = |name: &str| match name {
            "TWILIO_ACCOUNT_SID" => Some(AC.to_string()),
            "TWILIO_AUTH_TOKEN" => Some("token-value".to_string()),
            "TWILIO_API_KEY" => Some(SK.to_string()),
            "TWILIO_API_SECRET" => Some("secret-value".to_string()),
            _ => None,
        };
        let creds = Credentials::from_lookup(env).unwrap();
        assert_eq!(creds.username(), SK);
        assert_eq!(creds.secret(), "secret-value");
        let shown = format!("{creds:?}");
        assert!(!shown.contains("secret-value") && !shown.contains("token-value"));
    }

    #[test]
    fn missing_or_malformed_variables_are_named() {
        let none = |_: &str| None;
        assert!(matches!(
            Credentials::from_lookup(none),
            Err(CredentialsError::MissingAccount)
        ));
        let bad = |name: &str| (name == "TWILIO_ACCOUNT_SID").then(|| "ACnope".to_string());
        assert!(
            Credentials::from_lookup(bad)
                .unwrap_err()
                .to_string()
                .starts_with("invalid TWILIO_ACCOUNT_SID")
        );
        let no_secret = |name: &str| (name == "TWILIO_ACCOUNT_SID").then(|| AC.to_string());
        assert!(matches!(
            Credentials::from_lookup(no_secret),
            Err(CredentialsError::MissingSecret)
        ));
    }
}
