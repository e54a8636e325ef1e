//! A host whose wall clock is off: the binary run under libfaketime (Debian's `faketime`
//! package), its wall clock shifted and its monotonic clock left true, as on a VM whose NTP is
//! broken. The sandbox stays in the test's process, on the true clock, as Twilio is.

use std::path::PathBuf;

/// Where Debian puts the library, or `DIALER_FAKETIME_LIB`.
fn library() -> PathBuf {
    if let Some(path) = std::env::var_os("DIALER_FAKETIME_LIB") {
        return PathBuf::from(path);
    }
    let found = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|arch| arch.path().join("faketime/libfaketimeMT.so.1"))
        .find(|path| path.exists());
    found.unwrap_or_else(|| {
        panic!(
            "libfaketime is needed to give a host a wrong clock: install Debian's `faketime` \
             package (apt-get install faketime), or set DIALER_FAKETIME_LIB to libfaketimeMT.so.1"
        )
    })
}

/// `command` with its wall clock `offset_secs` off the true time (ahead when positive).
pub fn skewed(mut command: tokio::process::Command, offset_secs: i64) -> tokio::process::Command {
    command
        .env("LD_PRELOAD", library())
        .env("FAKETIME", format!("{offset_secs:+}s"))
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .env("FAKETIME_NO_CACHE", "1");
    command
}
