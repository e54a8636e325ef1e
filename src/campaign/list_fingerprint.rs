//! A digest of what an import reads: the list's bytes and the campaign as parsed (its
//! defaults decide which rows are valid). Equal digests mean a new import would find exactly
//! what the last one found, so a cron run over a large unchanged list starts dialing at once.
//! Any change (a row appended, a default edited, another dialer version) reads it all again.

use super::config::Campaign;
use sha1::{Digest, Sha1};
use std::io::Read;

pub fn of(campaign: &Campaign) -> std::io::Result<String> {
    let mut digest = Sha1::new();
    digest.update(env!("CARGO_PKG_VERSION").as_bytes());
    // Debug shows every parsed value; secrets print as `[redacted]`, so only their presence counts.
    digest.update(format!("{campaign:?}").as_bytes());
    let mut list = std::fs::File::open(&campaign.list)?;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = list.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        digest.update(&chunk[..n]);
    }
    Ok(digest
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}
