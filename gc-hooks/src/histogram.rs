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

    fn percentile(&self, p: f64) -> Duration {
        if self.total == 0 {
            return Duration::ZERO;
        }
        let rank = ((self.total as f64 * p).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Duration::from_nanos(upper_edge(i)).min(self.max);
            }
        }
        self.max
    }

    /// The summary.
    pub fn summary(&self) -> PauseSummary {
        PauseSummary {
            count: self.total,
            p50: self.percentile(0.5),
            p99: self.percentile(0.99),
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
}
