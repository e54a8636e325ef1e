//! Where the shared PostgreSQL database is: a `postgres://` URL whose password is a secret.
//!
//! The address ends up in messages and logs ("could not connect to …"), so the password is
//! taken out of it when parsed and kept apart as a `SecretString`: `Display` and `Debug` show
//! the URL with `***` in its place, and nothing else in the program can print it by mistake.

use super::Invalid;
use percent_encoding::percent_decode_str;
use secrecy::SecretString;
use std::fmt;
use std::path::Path;

const MASK: &str = "***";

#[derive(Clone)]
pub struct DatabaseUrl {
    /// The URL as given, without its password.
    address: url::Url,
    password: Option<SecretString>,
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        // The input may hold a password: no message below repeats it.
        let mut address =
            url::Url::parse(raw.trim()).map_err(|e| Invalid(format!("is not a URL ({e})")))?;
        if !matches!(address.scheme(), "postgres" | "postgresql") {
            return Err(Invalid(format!(
                "must be a postgres:// or postgresql:// URL, not {}:",
                address.scheme()
            )));
        }
        if address.cannot_be_a_base() {
            return Err(Invalid::new(
                "must look like postgres://user@host:5432/database",
            ));
        }
        if address.query_pairs().any(|(key, _)| key == "password") {
            return Err(Invalid::new(
                "has a password in its query: put it after the user name \
                 (postgres://user:password@host/database), in PGPASSWORD or in a password file",
            ));
        }
        let password = match address.password().filter(|p| !p.is_empty()) {
            Some(encoded) => Some(decode_password(encoded)?),
            None => None,
        };
        // Cannot fail: a URL with a password has a host.
        let _ = address.set_password(None);
        Ok(Self { address, password })
    }

    /// The password libpq would fall back on when the URL has none: `pgpassword` (the value
    /// of `PGPASSWORD`; empty counts as unset), else the content of `password_file`, a file
    /// holding the password alone, as mounted secrets do (its final line break is not part of
    /// it). The values are passed in, not looked up here, so that the order can be tested; the
    /// file is read only when it is the password's source.
    pub fn or_password_from(
        mut self,
        pgpassword: Option<&str>,
        password_file: Option<&Path>,
    ) -> Result<Self, Invalid> {
        if self.password.is_some() {
            return Ok(self);
        }
        if let Some(password) = pgpassword.filter(|p| !p.is_empty()) {
            self.password = Some(password.into());
        } else if let Some(path) = password_file {
            self.password = Some(read_password_file(path)?);
        }
        Ok(self)
    }

    /// The URL without its password: safe to show, and what a driver parses.
    pub fn without_password(&self) -> &url::Url {
        &self.address
    }

    pub fn password(&self) -> Option<&SecretString> {
        self.password.as_ref()
    }
}

fn decode_password(encoded: &str) -> Result<SecretString, Invalid> {
    percent_decode_str(encoded)
        .decode_utf8()
        .map(|password| password.as_ref().into())
        .map_err(|_| Invalid::new("has a password that is not UTF-8 once percent-decoded"))
}

fn read_password_file(path: &Path) -> Result<SecretString, Invalid> {
    let text = super::read_secret_file(path)
        .map_err(|e| Invalid(format!("has no password, and the password file {e}")))?;
    let password = text
        .strip_suffix('\n')
        .map_or(text.as_str(), |t| t.strip_suffix('\r').unwrap_or(t));
    if password.is_empty() {
        return Err(Invalid(format!(
            "has no password, and the password file {} is empty",
            path.display()
        )));
    }
    Ok(password.into())
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.address.clone();
        if self.password.is_some() {
            // A URL with no host cannot show one; it then shows none.
            let _ = shown.set_password(Some(MASK));
        }
        f.write_str(shown.as_str())
    }
}

impl fmt::Debug for DatabaseUrl {
    /// Debug output ends up in logs: the password stays masked here too.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = Invalid;
    fn from_str(raw: &str) -> Result<Self, Invalid> {
        Self::parse(raw)
    }
}

impl<'de> serde::Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use secrecy::ExposeSecret;

    const SECRET: &str = "s3cr3t-pa55";

    fn password_of(url: &DatabaseUrl) -> Option<&str> {
        url.password().map(|p| p.expose_secret())
    }

    #[test]
    fn display_and_debug_show_the_password_as_stars() {
        let url = DatabaseUrl::parse(&format!(
            "postgres://app:{SECRET}@db.example:5432/dialer?sslmode=require"
        ))
        .unwrap();

        let (shown, debugged) = (url.to_string(), format!("{url:?}"));

        assert_eq!(
            shown,
            "postgres://app:***@db.example:5432/dialer?sslmode=require"
        );
        assert_eq!(debugged, format!("DatabaseUrl({shown})"));
        assert_eq!(password_of(&url), Some(SECRET));
        assert!(!url.without_password().as_str().contains(SECRET));
    }

    #[test]
    fn a_password_from_elsewhere_is_masked_too() {
        let url = DatabaseUrl::parse("postgresql://app@db.example/dialer")
            .unwrap()
            .or_password_from(Some(SECRET), None)
            .unwrap();

        assert_eq!(url.to_string(), "postgresql://app:***@db.example/dialer");
        assert!(!format!("{url:?}").contains(SECRET));
    }

    #[test]
    fn a_url_without_a_password_is_shown_as_given() {
        let url = DatabaseUrl::parse(" postgres://postgres@127.0.0.1:5433/t_1 ").unwrap();

        assert_eq!(url.to_string(), "postgres://postgres@127.0.0.1:5433/t_1");
        assert!(url.password().is_none());
    }

    #[test]
    fn a_percent_encoded_password_is_decoded() {
        let url = DatabaseUrl::parse("postgres://app:p%40ss%2Fw%3Ard@h/db").unwrap();

        assert_eq!(password_of(&url), Some("p@ss/w:rd"));
    }

    #[test]
    fn other_schemes_and_shapes_are_refused_without_repeating_the_input() {
        let refused = [
            ("", "is not a URL"),
            ("db.example:5432/dialer", "not db.example:"),
            ("mysql://app:s3cr3t-pa55@h/db", "not mysql:"),
            ("sqlite://campaign.db", "not sqlite:"),
            ("https://app:s3cr3t-pa55@h/db", "not https:"),
            ("postgres:s3cr3t-pa55", "must look like"),
            (
                "postgres://app@h/db?password=s3cr3t-pa55",
                "password in its query",
            ),
            ("postgres://app:%FF@h/db", "not UTF-8"),
        ];
        for (raw, reason) in refused {
            let err = DatabaseUrl::parse(raw).unwrap_err().to_string();
            assert!(err.contains(reason), "{raw:?}: {err}");
            assert!(!err.contains(SECRET), "{raw:?}: {err}");
        }
    }

    #[test]
    fn the_urls_password_wins_over_pgpassword_which_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("password");
        write_secret(&file, "from-file\n");
        let missing = dir.path().join("missing");
        let with = |raw: &str, env: Option<&str>, file: Option<&Path>| {
            let url = DatabaseUrl::parse(raw).unwrap().or_password_from(env, file);
            url.map(|u| password_of(&u).map(str::to_owned))
        };

        assert_eq!(
            with(
                "postgres://u:from-url@h/db",
                Some("from-env"),
                Some(&missing)
            ),
            Ok(Some("from-url".into()))
        );
        assert_eq!(
            with("postgres://u@h/db", Some("from-env"), Some(&missing)),
            Ok(Some("from-env".into()))
        );
        assert_eq!(
            with("postgres://u@h/db", Some(""), Some(&file)),
            Ok(Some("from-file".into()))
        );
        assert_eq!(with("postgres://u@h/db", None, None), Ok(None));
    }

    /// A password file as it should be kept: readable by its owner only.
    fn write_secret(path: &std::path::Path, content: &str) {
        std::fs::write(path, content).unwrap();
        #[cfg(unix)]
        std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
    }

    #[test]
    fn a_password_file_loses_its_last_line_break_only_and_must_hold_something() {
        let dir = tempfile::tempdir().unwrap();
        let read = |content: &str| {
            let file = dir.path().join("password");
            write_secret(&file, content);
            DatabaseUrl::parse("postgres://u@h/db")
                .unwrap()
                .or_password_from(None, Some(&file))
                .map(|u| password_of(&u).map(str::to_owned))
        };

        assert_eq!(read(" pw \r\n"), Ok(Some(" pw ".into())));
        assert_eq!(read("pw\n\n"), Ok(Some("pw\n".into())));
        assert!(read("\n").unwrap_err().to_string().contains("is empty"));
        let missing = DatabaseUrl::parse("postgres://u@h/db")
            .unwrap()
            .or_password_from(None, Some(&dir.path().join("nope")))
            .unwrap_err();
        assert!(missing.to_string().contains("cannot be read"), "{missing}");
    }

    proptest! {
        #[test]
        fn any_password_comes_back_whole_and_is_never_shown(password in "[ -~]{1,40}") {
            let encoded = percent_encoding::utf8_percent_encode(
                &password,
                percent_encoding::NON_ALPHANUMERIC,
            );
            let url = DatabaseUrl::parse(&format!("postgres://app:{encoded}@db.example/dialer")).unwrap();

            prop_assert_eq!(password_of(&url), Some(password.as_str()));
            let shown = url.to_string();
            prop_assert_eq!(&shown, "postgres://app:***@db.example/dialer");
            prop_assert_eq!(format!("{url:?}"), format!("DatabaseUrl({shown})"));
        }
    }
}
