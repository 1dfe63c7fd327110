//! A fixed-size pause histogram: percentiles without storing every pause.
//!
//! Buckets are logarithmic with four sub-buckets per power of two, so a percentile is reported
//! as the upper edge of its bucket, at most 19% above the true value; the maximum is exact.
//! Pauses under 1 µs share bucket 0.

use std::time::Duration;

const BUCKETS: usize = 4 * 40 + 1;

/// Count, median, 99th percentile and maximum of the pauses seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PauseSummary {
    /// Pauses recorded.
    pub count: u64,
    /// Median (upper edge of its bucket).
    pub p50: Duration,
    /// 99th percentile (upper edge of its bucket).
    pub p99: Duration,
    /// Longest pause (exact).
    pub max: Duration,
}

/// Histogram of pause durations.
#[derive(Clone, Debug)]
pub struct PauseHistogram {
    counts: [u64; BUCKETS],
    total: u64,
    max: Duration,
}

impl Default for PauseHistogram {
    fn default() -> Self {
        PauseHistogram {
            counts: [0; BUCKETS],
            total: 0,
            max: Duration::ZERO,
        }
    }
}

fn bucket(ns: u64) -> usize {
    if ns < 1_000 {
        return 0;
    }
    let log = 63 - ns.leading_zeros() as usize; // >= 9
    let sub = ((ns >> (log - 2)) & 3) as usize;
    ((log - 9) * 4 + sub + 1).min(BUCKETS - 1)
}

fn upper_edge(bucket: usize) -> u64 {
    if bucket == 0 {
        return 1_000;
    }
    let log = (bucket - 1) / 4 + 9;
    let sub = ((bucket - 1) % 4) as u64;
    // Values in the bucket are [(4 + sub) << (log - 2), (5 + sub) << (log - 2)).
    (5 + sub) << (log - 2)
}

impl PauseHistogram {
    /// Records one pause (no allocation).
    #[inline]
    pub fn record(&mut self, pause: Duration) {
        let ns = u64::try_from(pause.as_nanos()).unwrap_or(u64::MAX);
        self.counts[bucket(ns)] += 1;
        self.total += 1;
        self.max = self.max.max(pause);
    }

    /// The upper edges of the buckets holding the given quantiles (ascending), in one walk
    /// over the buckets that stops at the last one needed: `stats()` builds a summary on
    /// every call, and callers poll it.
    fn percentiles<const N: usize>(&self, quantiles: [f64; N]) -> [Duration; N] {
        let mut out = [self.max; N];
        if self.total == 0 {
            return [Duration::ZERO; N];
        }
        let rank = |q: f64| ((self.total as f64 * q).ceil() as u64).max(1);
        let mut next = 0;
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            while next < N && seen >= rank(quantiles[next]) {
                out[next] = Duration::from_nanos(upper_edge(i)).min(self.max);
                next += 1;
            }
            if next == N {
                break;
            }
        }
        out
    }

    /// The summary.
    pub fn summary(&self) -> PauseSummary {
        let [p50, p99] = self.percentiles([0.5, 0.99]);
        PauseSummary {
            count: self.total,
            p50,
            p99,
            max: self.max,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_values_with_bounded_error() {
        for ns in [1_000u64, 1_234, 9_999, 1_000_000, 123_456_789] {
            let b = bucket(ns);
            assert!(upper_edge(b) > ns, "{ns}");
            assert!(
                upper_edge(b) as f64 <= ns as f64 * 1.26,
                "{ns} -> {}",
                upper_edge(b)
            );
        }
    }

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut h = PauseHistogram::default();
        for us in 1..=100u64 {
            h.record(Duration::from_micros(us));
        }
        let s = h.summary();
        assert_eq!(s.count, 100);
        assert!(
            s.p50 >= Duration::from_micros(50) && s.p50 <= Duration::from_micros(63),
            "{:?}",
            s.p50
        );
        assert!(
            s.p99 >= Duration::from_micros(99) && s.p99 <= Duration::from_micros(100),
            "{:?}",
            s.p99
        );
        assert_eq!(s.max, Duration::from_micros(100));
        assert_eq!(PauseHistogram::default().summary(), PauseSummary::default());
    }

    #[test]
    fn quantiles_in_one_bucket_or_in_the_last_one_are_both_found() {
        let mut same = PauseHistogram::default();
        for _ in 0..10 {
            same.record(Duration::from_micros(7));
        }
        let s = same.summary();
        assert_eq!(
            (s.p50, s.p99),
            (Duration::from_micros(7), Duration::from_micros(7))
        );
        // 98 short pauses and two long ones: the median is short, the 99th percentile long.
        let mut tail = PauseHistogram::default();
        for _ in 0..98 {
            tail.record(Duration::from_micros(2));
        }
        tail.record(Duration::from_secs(3));
        tail.record(Duration::from_secs(3));
        let s = tail.summary();
        assert!(s.p50 <= Duration::from_micros(3), "{:?}", s.p50);
        assert_eq!(s.p99, Duration::from_secs(3));
    }
}
