//! How serde reads the campaign file's values that are no domain type: a name, bounded counts,
//! the backoff multiplier, and their defaults. Each refusal is the rule alone; the file's
//! reader adds the key it was found at.

use serde::{Deserialize, Deserializer, de::Error as _};

/// `campaign.name`, as written: its trimmed form names the campaign, while its file stem
/// (the default database, the lock) is taken from it untrimmed, as existing campaigns have it.
pub(super) fn not_blank<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let name = String::deserialize(d)?;
    if name.trim().is_empty() {
        return Err(D::Error::custom("must not be empty"));
    }
    Ok(name)
}

pub(super) fn default_max_attempts() -> u32 {
    3
}

pub(super) fn max_attempts<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    from_one_to(d, 100, "")
}

pub(super) fn default_max_in_flight() -> usize {
    32
}

pub(super) fn max_in_flight<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let n = from_one_to(d, 100, " (Twilio's default concurrency limit)")?;
    Ok(n as usize)
}

/// `frequency.max_calls`: calls to one person within the cap's period.
pub(super) fn max_calls<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    from_one_to(d, 1000, "")
}

/// A whole number from 1 to `max`; `why` follows the rule where it needs a reason.
fn from_one_to<'de, D: Deserializer<'de>>(d: D, max: u32, why: &str) -> Result<u32, D::Error> {
    let n = i64::deserialize(d)?;
    u32::try_from(n)
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| D::Error::custom(format!("must be from 1 to {max}{why}")))
}

/// `retry.multiplier`: a backoff that grows, and not past all use.
pub(super) fn multiplier<'de, D: Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    let m = f32::deserialize(d)?;
    if !(1.0..=10.0).contains(&m) {
        return Err(D::Error::custom("must be from 1.0 to 10.0"));
    }
    Ok(m)
}
