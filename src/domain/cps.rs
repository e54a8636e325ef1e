//! The account's calls-per-second limit: Twilio sells 1 to 30 CPS per account.

use super::Invalid;
use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

/// A campaign file's `cps` is a TOML integer, read through `TryFrom<i64>`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Deserialize)]
#[serde(try_from = "i64")]
pub struct Cps(NonZeroU32);

impl Cps {
    pub const MAX: u32 = 30;

    pub fn new(n: u32) -> Result<Self, Invalid> {
        match NonZeroU32::new(n) {
            Some(n) if n.get() <= Self::MAX => Ok(Self(n)),
            _ => Err(Invalid(format!(
                "must be a whole number from 1 to {}, got {n}",
                Self::MAX
            ))),
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let n: u32 = raw.trim().parse().map_err(|_| {
            Invalid(format!(
                "must be a whole number from 1 to {}, got {raw:?}",
                Self::MAX
            ))
        })?;
        Self::new(n)
    }

    pub fn get(self) -> NonZeroU32 {
        self.0
    }

    /// The spacing between two calls at this rate, rounded up to the nanosecond so that
    /// CPS intervals never add up to less than one second.
    pub fn interval(self) -> Duration {
        Duration::from_nanos(1_000_000_000u64.div_ceil(u64::from(self.0.get())))
    }
}

impl fmt::Display for Cps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for Cps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} cps", self.0)
    }
}

impl TryFrom<i64> for Cps {
    type Error = Invalid;
    fn try_from(n: i64) -> Result<Self, Invalid> {
        let n = u32::try_from(n)
            .map_err(|_| Invalid(format!("must be from 1 to {}, got {n}", Self::MAX)))?;
        Self::new(n)
    }
}

impl std::str::FromStr for Cps {
    type Err = Invalid;
    fn from_str(raw: &str) -> Result<Self, Invalid> {
        Self::parse(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cps_is_one_to_thirty() {
        assert!(Cps::new(0).is_err());
        assert!(Cps::new(31).is_err());
        assert!(Cps::parse("-1").is_err());
        assert!(Cps::parse("2.5").is_err());
        assert_eq!(Cps::parse(" 30 ").unwrap().get().get(), 30);
        assert_eq!(Cps::new(4).unwrap().interval(), Duration::from_millis(250));
        assert!(Cps::try_from(-1).is_err());
        assert!(Cps::try_from(i64::from(u32::MAX) + 1).is_err());
        assert_eq!(Cps::try_from(30).unwrap().get().get(), 30);
    }
}
