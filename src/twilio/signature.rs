//! `X-Twilio-Signature`: base64(HMAC-SHA1(auth token, URL + every POST parameter's name and
//! value, sorted by name)). The sandbox signs its callbacks with it; the callback receiver checks it.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key");
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Constant-time comparison of a received signature with the expected one.
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    let expected = sign(auth_token, url, params);
    expected.len() == signature.len()
        && expected
            .bytes()
            .zip(signature.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of Twilio's "Webhooks security" page.
    #[test]
    fn matches_twilios_documented_example() {
        let token = "12345";
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675310"),
            ("Digits", "1234"),
            ("From", "+14158675310"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(sign(token, url, &params), "GvWf1cFY/Q7PnoempGyD5oXAezc=");
        assert!(verify(token, url, &params, "GvWf1cFY/Q7PnoempGyD5oXAezc="));
        assert!(!verify(token, url, &params, "GvWf1cFY/Q7PnoempGyD5oXAezc"));
        assert!(!verify(
            "54321",
            url,
            &params,
            "GvWf1cFY/Q7PnoempGyD5oXAezc="
        ));
    }
}
