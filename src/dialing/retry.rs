//! When to try a row again after a transient failure: capped exponential backoff with
//! jitter (backon), and a server's `Retry-After` wins when it asks for longer.

use crate::config::RetryPolicy;
use backon::{BackoffBuilder, ExponentialBuilder};
use std::time::Duration;

/// The delay before retry number `failures` (1 for the first retry).
pub fn delay(policy: &RetryPolicy, failures: u32, retry_after: Option<Duration>) -> Duration {
    let mut builder = ExponentialBuilder::default()
        .with_min_delay(policy.initial)
        .with_max_delay(policy.max)
        .with_factor(policy.multiplier)
        .with_max_times(failures.max(1) as usize);
    if policy.jitter {
        builder = builder.with_jitter();
    }
    let computed = builder
        .build()
        .nth(failures.max(1) as usize - 1)
        .unwrap_or(policy.max);
    computed.max(retry_after.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(jitter: bool) -> RetryPolicy {
        RetryPolicy {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(10),
            multiplier: 2.0,
            jitter,
            reconcile_after: Duration::from_secs(5),
            call_log_grace: Duration::from_secs(120),
            outage_limit: None,
        }
    }

    #[test]
    fn delays_double_up_to_the_cap() {
        let got: Vec<u64> = (1..=6)
            .map(|n| delay(&policy(false), n, None).as_secs())
            .collect();
        assert_eq!(got, [1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn retry_after_wins_when_longer() {
        assert_eq!(
            delay(&policy(false), 1, Some(Duration::from_secs(30))),
            Duration::from_secs(30)
        );
        assert_eq!(
            delay(&policy(false), 3, Some(Duration::from_secs(1))),
            Duration::from_secs(4)
        );
    }

    #[test]
    fn jitter_stays_between_the_delay_and_twice_it() {
        for _ in 0..50 {
            let d = delay(&policy(true), 2, None);
            assert!(
                d >= Duration::from_secs(2) && d <= Duration::from_secs(4),
                "{d:?}"
            );
        }
    }
}
