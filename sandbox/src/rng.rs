//! A tiny deterministic PRNG (SplitMix64) and the date arithmetic the plan
//! uses.
//!
//! Hand-written rather than taken from `rand` because the seed data must be
//! bit-for-bit stable across dependency upgrades: `rand` does not promise
//! that its generators or distributions keep their output between versions.

use chrono::{Days, Months, NaiveDate};
use uuid::Uuid;

/// SplitMix64: tiny, fast, and good enough for fake-but-plausible data.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    state: u64,
}

const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A stream for one purpose (`label`) and one item (`index`) of a seed,
    /// so each location's data does not depend on how many came before it.
    pub(crate) fn derive(seed: u64, label: u64, index: u64) -> Self {
        let state = mix(seed ^ mix(label.wrapping_add(GAMMA)) ^ mix(index.wrapping_mul(GAMMA)));
        Self { state }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        mix(self.state)
    }

    /// Uniform in `0..n` (0 when `n` is 0), by multiply-high: no modulo bias
    /// worth mentioning at these sizes.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `per_mille / 1000`.
    pub(crate) fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    /// One element of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let len = u64::try_from(items.len()).unwrap_or(u64::MAX);
        let i = usize::try_from(self.below(len)).unwrap_or(0);
        &items[i]
    }

    /// An index into `weights`, chosen in proportion to them.
    pub(crate) fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut roll = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            if roll < *w {
                return i;
            }
            roll -= w;
        }
        0
    }

    /// `n` decimal digits.
    pub(crate) fn digits(&mut self, n: u32) -> String {
        (0..n)
            .map(|_| char::from(b'0' + u8::try_from(self.below(10)).unwrap_or(0)))
            .collect()
    }

    /// A version-4 UUID drawn from the stream, so ids are reproducible.
    pub(crate) fn uuid(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// A random permutation of `0..n` (Fisher–Yates).
    pub(crate) fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut items: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = usize::try_from(self.below(i as u64 + 1)).unwrap_or(i);
            items.swap(i, j);
        }
        items
    }
}

/// Folds a UUID into a seed salt.
pub(crate) fn salt_of(id: Uuid) -> u64 {
    let (hi, lo) = id.as_u64_pair();
    mix(hi) ^ lo
}

// Date arithmetic saturates instead of panicking: seed dates lie within a
// few years of `today`, so saturation only happens for absurd anchors, and
// then the database's date checks reject the rows with a clear error.

pub(crate) fn days_before(day: NaiveDate, n: u64) -> NaiveDate {
    day.checked_sub_days(Days::new(n)).unwrap_or(NaiveDate::MIN)
}

pub(crate) fn days_after(day: NaiveDate, n: u64) -> NaiveDate {
    day.checked_add_days(Days::new(n)).unwrap_or(NaiveDate::MAX)
}

pub(crate) fn months_before(day: NaiveDate, n: u32) -> NaiveDate {
    day.checked_sub_months(Months::new(n))
        .unwrap_or(NaiveDate::MIN)
}

pub(crate) fn months_after(day: NaiveDate, n: u32) -> NaiveDate {
    day.checked_add_months(Months::new(n))
        .unwrap_or(NaiveDate::MAX)
}

/// Whole days from `from` to `to` (0 if `to` is earlier).
pub(crate) fn days_between(from: NaiveDate, to: NaiveDate) -> u64 {
    u64::try_from((to - from).num_days()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = {
            let mut r = Rng::derive(42, 1, 7);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::derive(42, 1, 7);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut r = Rng::derive(42, 1, 8);
            (0..8).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn ranges_hold() {
        let mut r = Rng::derive(1, 2, 3);
        for _ in 0..10_000 {
            let v = r.between(5, 9);
            assert!((5..=9).contains(&v));
            assert!(r.below(3) < 3);
        }
        assert_eq!(r.between(4, 4), 4);
        assert_eq!(r.below(0), 0);
        let mut p = r.permutation(50);
        p.sort_unstable();
        assert_eq!(p, (0..50).collect::<Vec<_>>());
        assert_eq!(r.uuid().get_version_num(), 4);
    }
}
