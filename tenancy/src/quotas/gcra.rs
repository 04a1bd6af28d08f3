//! The arithmetic of both limiters, in microseconds: GCRA for request
//! rates and a leaky bucket for query cost. The Redis script (`script.lua`)
//! computes exactly this; the in-process fallback calls it directly.

/// A request rate: one request per `interval_us`, with `burst` at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Microseconds between requests at the sustained rate.
    pub interval_us: u64,
    /// Requests allowed at once.
    pub burst: u64,
}

impl Rate {
    /// `per_second` requests a second with `burst` at once.
    pub fn new(per_second: f64, burst: u64) -> Self {
        let interval_us = (1_000_000.0 / per_second.max(0.000_001)).round().max(1.0) as u64;
        Rate {
            interval_us,
            burst: burst.max(1),
        }
    }

    fn tolerance(self) -> u64 {
        self.interval_us.saturating_mul(self.burst - 1)
    }
}

/// The outcome of one GCRA step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateStep {
    /// Whether the request is admitted.
    pub allowed: bool,
    /// The theoretical arrival time to store when admitted.
    pub new_tat: u64,
    /// Wait before the request would be admitted (0 when it is).
    pub retry_after_us: u64,
    /// Requests still admissible at once after this one.
    pub remaining: u64,
    /// Time until the limit is back to its full burst.
    pub reset_us: u64,
}

/// One GCRA step at `now` for a key whose stored arrival time is `tat`.
pub fn gcra(rate: Rate, tat: Option<u64>, now: u64) -> RateStep {
    let tat = tat.unwrap_or(now).max(now);
    let allow_at = tat.saturating_sub(rate.tolerance());
    if now < allow_at {
        return RateStep {
            allowed: false,
            new_tat: tat,
            retry_after_us: allow_at - now,
            remaining: 0,
            reset_us: tat - now,
        };
    }
    let new_tat = tat + rate.interval_us;
    let used = new_tat - now;
    let capacity = rate.tolerance() + rate.interval_us;
    RateStep {
        allowed: true,
        new_tat,
        retry_after_us: 0,
        remaining: capacity.saturating_sub(used) / rate.interval_us,
        reset_us: used,
    }
}

/// A cost bucket: up to `maximum` points, regaining `per_second`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    /// Size.
    pub maximum: f64,
    /// Points regained per second.
    pub per_second: f64,
}

/// The outcome of one bucket step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BucketStep {
    /// Whether the cost fits.
    pub allowed: bool,
    /// Points left (after this cost, when allowed).
    pub available: f64,
    /// Wait until the cost would fit.
    pub retry_after_us: u64,
}

/// One bucket step: `stored` points at `stored_at`, plus `refund`, minus
/// `cost` if it fits.
pub fn bucket(
    b: Bucket,
    stored: Option<(f64, u64)>,
    now: u64,
    cost: f64,
    refund: f64,
) -> BucketStep {
    let (points, at) = stored.unwrap_or((b.maximum, now));
    let elapsed = now.saturating_sub(at) as f64 / 1_000_000.0;
    let available = (points + elapsed * b.per_second + refund).min(b.maximum);
    if cost <= available {
        BucketStep {
            allowed: true,
            available: available - cost,
            retry_after_us: 0,
        }
    } else {
        let missing = cost - available;
        BucketStep {
            allowed: false,
            available,
            retry_after_us: (missing / b.per_second.max(0.000_001) * 1_000_000.0).ceil() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcra_admits_the_burst_then_the_rate() {
        let rate = Rate::new(10.0, 3); // 100 ms apart, 3 at once
        let mut tat = None;
        let now = 1_000_000_000;
        for expected_remaining in [2, 1, 0] {
            let s = gcra(rate, tat, now);
            assert!(s.allowed);
            assert_eq!(s.remaining, expected_remaining);
            tat = Some(s.new_tat);
        }
        let s = gcra(rate, tat, now);
        assert!(!s.allowed);
        assert_eq!(s.retry_after_us, 100_000);
        let s = gcra(rate, tat, now + 100_000);
        assert!(s.allowed, "one more after one interval");
        // idle long enough, the full burst is back
        let s = gcra(rate, tat, now + 10_000_000);
        assert_eq!(s.remaining, 2);
    }

    #[test]
    fn a_bucket_spends_refills_and_refunds() {
        let b = Bucket {
            maximum: 1000.0,
            per_second: 50.0,
        };
        let now = 5_000_000;
        let s = bucket(b, None, now, 800.0, 0.0);
        assert!(s.allowed);
        assert_eq!(s.available, 200.0);
        let s2 = bucket(b, Some((s.available, now)), now, 300.0, 0.0);
        assert!(!s2.allowed);
        assert_eq!(s2.retry_after_us, 2_000_000, "100 points missing at 50/s");
        let s3 = bucket(b, Some((s.available, now)), now + 2_000_000, 300.0, 0.0);
        assert!(s3.allowed);
        let s4 = bucket(b, Some((s.available, now)), now, 300.0, 150.0);
        assert!(s4.allowed, "a refund of unused points counts");
        assert_eq!(
            bucket(b, Some((990.0, 0)), 60_000_000, 0.0, 500.0).available,
            1000.0
        );
    }
}
