//! What an import reads, told apart from what the last complete import read: the list's size
//! and modification time (free to read) and a digest of its bytes and of what the import reads
//! of the campaign (its name, caller and defaults decide each row's label and validity). When all match, a new import would find
//! exactly what the last one found, so a cron run over a large unchanged list starts dialing at
//! once. The digest is taken while the import reads the list, so the list is read once; only an
//! unchanged stamp makes a run read it just to compare digests. Any change (a row appended, a
//! default edited, another dialer version) reads it all again.

use crate::config::Campaign;
use sha1::{Digest, Sha1};
use std::io::{self, Read};
use std::path::Path;
use std::time::UNIX_EPOCH;

/// The list file's size and modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListStamp {
    pub size: u64,
    pub modified_ns: i64,
}

impl ListStamp {
    pub fn of(list: &Path) -> io::Result<Self> {
        let meta = std::fs::metadata(list)?;
        // Where the filesystem keeps no time, the digest alone decides.
        let modified_ns = meta
            .modified()
            .ok()
            .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |since| since.as_nanos() as i64);
        Ok(Self {
            size: meta.len(),
            modified_ns,
        })
    }
}

/// A reader of the list that digests every byte it passes on.
pub struct Digesting<R> {
    inner: R,
    digest: Sha1,
}

impl<R: Read> Digesting<R> {
    pub fn new(inner: R, campaign: &Campaign) -> Self {
        let mut digest = Sha1::new();
        digest.update(env!("CARGO_PKG_VERSION").as_bytes());
        // What the import reads of the campaign, nothing incidental (a path written another
        // way, the CPS). Secrets print as `[redacted]`: only their presence counts.
        let read = (&campaign.name, &campaign.from, &campaign.defaults);
        digest.update(format!("{read:?}").as_bytes());
        // Only when set, so that campaigns without one keep the digest they had.
        if let Some(region) = campaign.default_region {
            digest.update(format!("default_region {region}").as_bytes());
        }
        Self { inner, digest }
    }

    /// The digest of the campaign and of every byte read.
    pub fn finish(self) -> String {
        self.digest
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

impl<R: Read> Read for Digesting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digest.update(&buf[..n]);
        Ok(n)
    }
}

/// The digest of the whole list as it is now, as an import that read it all would get.
pub fn of(campaign: &Campaign) -> io::Result<String> {
    let mut list = Digesting::new(std::fs::File::open(&campaign.list)?, campaign);
    io::copy(&mut list, &mut io::sink())?;
    Ok(list.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(campaign_extra: &str, participant: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("l.csv"), "to\n+14155550100\n").unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            format!(
                "[campaign]\nname = \"n\"\nlist = \"l.csv\"\nconference = \"Room\"\nfrom = \"+15017122661\"\n{campaign_extra}\n[participant]\n{participant}\n"
            ),
        )
        .unwrap();
        of(&Campaign::load(&file).unwrap()).unwrap()
    }

    #[test]
    fn only_what_the_import_reads_of_the_campaign_changes_the_digest() {
        let base = digest("cps = 30", "beep = \"onEnter\"");
        assert_eq!(
            base,
            digest("cps = 5\nmax_attempts = 9", "beep = \"onEnter\"")
        );
        assert_ne!(base, digest("cps = 30", "beep = \"onExit\""));
        assert_eq!(base.len(), 40, "hex SHA-1");
    }
}
