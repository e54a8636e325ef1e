//! `[database]`: where the campaign's rows live. An SQLite file by default (`path`, or
//! `<name>.sqlite` beside the campaign file); a PostgreSQL database that several hosts share
//! when `url` is set, or when `DIALER_DATABASE_URL` is, which wins. A password never needs to
//! be written in the campaign file: it may come from the URL in the environment, `PGPASSWORD`,
//! or `password_file`.

use crate::domain::{DatabaseUrl, Invalid};
use crate::store::Database;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DatabaseSection {
    path: Option<PathBuf>,
    url: Option<String>,
    /// A file holding the PostgreSQL password alone (a mounted secret).
    password_file: Option<PathBuf>,
    /// How long a host's claim holds its row on PostgreSQL (default 60s).
    #[serde(default, deserialize_with = "crate::domain::deserialize_some_duration")]
    lease: Option<std::time::Duration>,
}

/// A claim's hold on its row unless the campaign says otherwise: long enough for a request's
/// timeout and the wait for its pacing slot, short enough that a dead host's rows are taken
/// over within a minute or two.
pub const DEFAULT_LEASE: std::time::Duration = std::time::Duration::from_secs(60);

/// What the environment says about the database, read once at the edge.
#[derive(Debug, Default, Clone)]
pub struct DatabaseEnv {
    /// `DIALER_DATABASE_URL`.
    pub url: Option<String>,
    /// `PGPASSWORD`.
    pub pgpassword: Option<String>,
}

impl DatabaseEnv {
    pub fn from_process() -> Self {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        Self {
            url: var("DIALER_DATABASE_URL"),
            pgpassword: var("PGPASSWORD"),
        }
    }
}

impl DatabaseSection {
    /// The lease: at least three request timeouts, so that a claimed row can wait for its
    /// pacing slot and still have a whole request's time left when it is sent.
    pub(super) fn lease(
        &self,
        request_timeout: std::time::Duration,
    ) -> Result<std::time::Duration, Invalid> {
        let Some(lease) = self.lease else {
            return Ok(DEFAULT_LEASE.max(request_timeout * 3));
        };
        if lease < request_timeout * 3 {
            return Err(Invalid(format!(
                "must be at least three request timeouts ({:?})",
                request_timeout * 3
            )));
        }
        Ok(lease)
    }

    /// The database, relative paths resolved against `dir`; an error names its key.
    pub(super) fn resolve(
        self,
        dir: &Path,
        default_stem: &str,
        env: &DatabaseEnv,
    ) -> Result<Database, (&'static str, Invalid)> {
        let (raw, key) = match (&env.url, &self.url) {
            (Some(url), _) => (url.as_str(), "DIALER_DATABASE_URL"),
            (None, Some(url)) => (url.as_str(), "database.url"),
            (None, None) => {
                if self.password_file.is_some() {
                    return Err((
                        "database.password_file",
                        Invalid::new("is for PostgreSQL: set database.url too"),
                    ));
                }
                let path = self
                    .path
                    .unwrap_or_else(|| PathBuf::from(format!("{default_stem}.sqlite")));
                return Ok(Database::Sqlite(dir.join(path)));
            }
        };
        if self.path.is_some() && env.url.is_none() {
            return Err((
                "database.path",
                Invalid::new("names an SQLite file: set either database.path or database.url"),
            ));
        }
        let password_file = self.password_file.map(|p| dir.join(p));
        let url = DatabaseUrl::parse(raw)
            .and_then(|url| {
                url.or_password_from(env.pgpassword.as_deref(), password_file.as_deref())
            })
            .map_err(|rule| (key, rule))?;
        Ok(Database::Postgres(url))
    }
}

/// The PostgreSQL database a campaign moves to (`dialer move`): `to` (its `--to`), else
/// `DIALER_DATABASE_URL`; the password from the address, `PGPASSWORD` or `password_file`, as
/// `[database]` finds it. An error names the argument or variable.
pub fn move_target(
    to: Option<&str>,
    password_file: Option<&Path>,
    env: &DatabaseEnv,
) -> Result<DatabaseUrl, super::ConfigError> {
    let invalid = |key, rule| super::ConfigError::Argument { key, rule };
    let (raw, key) = match (to, &env.url) {
        (Some(url), _) => (url, "--to"),
        (None, Some(url)) => (url.as_str(), "DIALER_DATABASE_URL"),
        (None, None) => {
            return Err(invalid(
                "--to",
                Invalid::new(
                    "is needed (or DIALER_DATABASE_URL): the PostgreSQL database to move to",
                ),
            ));
        }
    };
    let url = DatabaseUrl::parse(raw).map_err(|rule| invalid(key, rule))?;
    if to.is_some() && url.password().is_some() {
        return Err(invalid(
            "--to",
            Invalid::new(
                "holds a password, which any user of this machine can read on a command line: \
                 give it in PGPASSWORD, --password-file or DIALER_DATABASE_URL",
            ),
        ));
    }
    url.or_password_from(env.pgpassword.as_deref(), password_file)
        .map_err(|rule| invalid(key, rule))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(text: &str) -> DatabaseSection {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn a_move_target_on_the_command_line_never_carries_a_password() {
        let env = DatabaseEnv::default();

        let refused = move_target(
            Some("postgres://dialer:s3cret@db.example/dialer"),
            None,
            &env,
        );
        let accepted = move_target(Some("postgres://dialer@db.example/dialer"), None, &env);

        let message = refused.unwrap_err().to_string();
        assert!(
            message.contains("--to") && message.contains("PGPASSWORD"),
            "{message}"
        );
        assert!(!message.contains("s3cret"), "{message}");
        assert!(accepted.is_ok());
    }

    #[test]
    fn sqlite_is_the_default_beside_the_campaign_file() {
        let db = section("").resolve(Path::new("/srv"), "spring", &DatabaseEnv::default());
        assert!(matches!(db, Ok(Database::Sqlite(p)) if p == Path::new("/srv/spring.sqlite")));
    }

    #[test]
    fn the_environment_url_wins_over_the_file_and_its_password_stays_masked() {
        let env = DatabaseEnv {
            url: Some("postgres://dialer:s3cret@db.example.com/dialer".into()),
            pgpassword: None,
        };
        let db = section("url = \"postgres://other@elsewhere/x\"\npath = \"a.sqlite\"")
            .resolve(Path::new("/srv"), "spring", &env)
            .unwrap();
        let shown = db.to_string();
        assert!(shown.contains("db.example.com"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn a_move_goes_to_the_argument_then_the_environment_and_names_which_was_wrong() {
        let env = DatabaseEnv {
            url: Some("postgres://dialer:s3cret@env.example/dialer".into()),
            pgpassword: None,
        };
        let url = move_target(Some("postgres://dialer@arg.example/dialer"), None, &env).unwrap();
        assert!(url.to_string().contains("arg.example"), "{url}");
        let url = move_target(None, None, &env).unwrap();
        assert!(url.to_string().contains("env.example"), "{url}");
        assert!(!url.to_string().contains("s3cret"), "{url}");
        let none = DatabaseEnv::default();
        let key = |error| match error {
            crate::config::ConfigError::Argument { key, .. } => key,
            other => panic!("{other}"),
        };
        assert_eq!(key(move_target(None, None, &none).unwrap_err()), "--to");
        assert_eq!(
            key(move_target(Some("mysql://u@h/d"), None, &none).unwrap_err()),
            "--to"
        );
    }

    #[test]
    fn a_move_takes_its_password_from_pgpassword_or_a_file_as_the_campaign_file_does() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "from-file\n").unwrap();
        #[cfg(unix)]
        std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        let env = DatabaseEnv {
            url: None,
            pgpassword: Some("from-env".into()),
        };
        let shown = |url: DatabaseUrl| {
            use secrecy::ExposeSecret;
            url.password().map(|p| p.expose_secret().to_owned())
        };
        let url = move_target(Some("postgres://u@h/d"), None, &env).unwrap();
        assert_eq!(shown(url).as_deref(), Some("from-env"));
        let url = move_target(
            Some("postgres://u@h/d"),
            Some(&file),
            &DatabaseEnv::default(),
        );
        assert_eq!(shown(url.unwrap()).as_deref(), Some("from-file"));
    }

    #[test]
    fn a_url_beside_a_path_or_a_password_file_without_a_url_is_refused_by_key() {
        let env = DatabaseEnv::default();
        let both = section("url = \"postgres://u@h/d\"\npath = \"a.sqlite\"");
        assert_eq!(
            both.resolve(Path::new("."), "c", &env).unwrap_err().0,
            "database.path"
        );
        let orphan = section("password_file = \"pw\"");
        assert_eq!(
            orphan.resolve(Path::new("."), "c", &env).unwrap_err().0,
            "database.password_file"
        );
        let bad = section("url = \"mysql://u@h/d\"");
        assert_eq!(
            bad.resolve(Path::new("."), "c", &env).unwrap_err().0,
            "database.url"
        );
    }
}
