//! A file holding a secret (the Twilio credentials file, the database's password file): read
//! only if every user of the machine cannot read it too, as ssh treats a private key.

use std::path::Path;

/// The file's text, unless it cannot be read or is readable by every user.
pub fn read_secret_file(path: &Path) -> Result<String, SecretFileError> {
    let shown = path.display().to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|cause| SecretFileError::Read {
                path: shown.clone(),
                cause,
            })?
            .permissions()
            .mode();
        if mode & 0o004 != 0 {
            return Err(SecretFileError::Exposed {
                path: shown,
                mode: mode & 0o777,
            });
        }
    }
    std::fs::read_to_string(path).map_err(|cause| SecretFileError::Read { path: shown, cause })
}

#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    #[error("{path} cannot be read: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error(
        "{path} holds a secret but every user of this machine can read it (mode {mode:04o}): \
         make it readable by its owner only (chmod 600 {path})"
    )]
    Exposed { path: String, mode: u32 },
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_secret_file_every_user_can_read_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.env");
        std::fs::write(&path, "TWILIO_AUTH_TOKEN=x\n").unwrap();

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let exposed = read_secret_file(&path).unwrap_err().to_string();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let kept = read_secret_file(&path).unwrap();

        assert!(exposed.contains("mode 0644"), "{exposed}");
        assert!(exposed.contains("chmod 600"), "{exposed}");
        assert_eq!(kept, "TWILIO_AUTH_TOKEN=x\n");
    }
}
