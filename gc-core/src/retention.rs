//! When free old-generation memory goes back to the OS: a pure policy, like the pacer.
//!
//! Giving a free page back (`madvise(MADV_DONTNEED)`) is cheap; using it again is not: the
//! kernel faults it in and zeroes it. A steady program frees and refills the same amount every
//! major-collection cycle, so returning what a sweep freed only to fault it in again at the next
//! promotion costs time for nothing. A long-running server whose live set spiked must still see
//! its memory come back. The two models are HotSpot's `MaxHeapFreeRatio` (shrink the committed
//! heap when it is mostly free after a full collection) and Go's scavenger (return memory the
//! heap has not needed for a while, keeping what the next cycle will use).
//!
//! Rules, after every major collection with `live` bytes surviving, the pacer's new
//! `threshold`, and the old generation's `factor` (`MAJOR_COLLECT`):
//!
//! ```text
//! shrunk   = live < ½ × the largest live size of the last 4 major collections
//! keep     = threshold − live                    (the old generation refills it before the
//!                                                 next major collection)
//!            live × (factor − 1)   when shrunk   (the headroom the live set itself calls for,
//!                                                 without the MIN floor)
//! min_age  = RELEASE_AFTER (a duration, default 1 s), 0 when shrunk
//! ```
//!
//! The old space then keeps `keep` bytes of committed free pages (in its fullest arenas, which
//! allocation uses first) and releases the others that have stayed free for at least `min_age`.
//! Age is measured in time, not in collections, because collections come at the program's
//! pace: a steady program refills its free pages within moments, whatever its collection rate.
//! A collapse of the live set (a spike over, a phase ended) releases its surplus at once: the
//! heap's memory follows its live data down rather than holding a peak it may not see again.
//! `RELEASE_AFTER = 0` releases every surplus at once. The nursery's tail follows the same age
//! rule (see the heap module).
//!
//! Invariants: `keep <= threshold − live`; the window holds at most [`WINDOW`] sizes.

use std::collections::VecDeque;
use std::time::Duration;

/// Major collections whose live sizes tell whether the heap shrank well below its recent peak.
pub const WINDOW: usize = 4;

/// What the old space should give back after a major collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReleasePlan {
    /// Bytes of committed free pages to keep.
    pub keep: usize,
    /// Release only pages free for at least this long.
    pub min_age: Duration,
}

/// The retention policy of one heap.
///
/// ```
/// use gc_core::Retention;
/// use std::time::Duration;
/// let mut r = Retention::new(Duration::from_secs(1));
/// // Steady: the headroom below the threshold is kept, the rest goes once free for a second.
/// let plan = r.after_major(100 << 20, 182 << 20, 1.82);
/// assert_eq!((plan.keep, plan.min_age), (82 << 20, Duration::from_secs(1)));
/// // The live set collapses: only what the live set itself calls for is kept, and the rest
/// // goes back at once.
/// let plan = r.after_major(10 << 20, 32 << 20, 1.82);
/// assert!(plan.keep < 9 << 20);
/// assert_eq!(plan.min_age, Duration::ZERO);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Retention {
    release_after: Duration,
    recent_live: VecDeque<usize>,
}

impl Retention {
    /// A policy releasing pages free for `release_after`.
    pub fn new(release_after: Duration) -> Retention {
        Retention {
            release_after,
            recent_live: VecDeque::new(),
        }
    }

    /// Records a major collection leaving `live` bytes, the pacer's new `threshold` and its
    /// `factor` (`MAJOR_COLLECT`; `0`, threshold-zero, counts as the default factor).
    pub fn after_major(&mut self, live: usize, threshold: usize, factor: f64) -> ReleasePlan {
        let factor = if factor > 1.0 {
            factor
        } else {
            crate::config::DEFAULT_MAJOR_COLLECT
        };
        self.recent_live.push_back(live);
        while self.recent_live.len() > WINDOW {
            self.recent_live.pop_front();
        }
        let peak = self.recent_live.iter().copied().max().unwrap_or(0);
        let headroom = threshold.saturating_sub(live);
        if live < peak / 2 {
            ReleasePlan {
                keep: ((live as f64 * (factor - 1.0)) as usize).min(headroom),
                min_age: Duration::ZERO,
            }
        } else {
            ReleasePlan {
                keep: headroom,
                min_age: self.release_after,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: usize = 1 << 20;
    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn a_steady_heap_keeps_its_headroom() {
        let mut r = Retention::new(SECOND);
        for _ in 0..10 {
            let plan = r.after_major(50 * MB, 91 * MB, 1.82);
            assert_eq!(
                plan,
                ReleasePlan {
                    keep: 41 * MB,
                    min_age: SECOND
                }
            );
        }
        // A small heap under the MIN floor keeps the floor's headroom too.
        let plan = r.after_major(40 * MB, 64 * MB, 1.82);
        assert_eq!(
            plan,
            ReleasePlan {
                keep: 24 * MB,
                min_age: SECOND
            }
        );
    }

    #[test]
    fn a_collapse_keeps_only_what_the_live_set_calls_for_until_the_window_forgets_the_spike() {
        let mut r = Retention::new(SECOND);
        r.after_major(200 * MB, 400 * MB, 2.0);
        for _ in 1..WINDOW {
            let plan = r.after_major(4 * MB, 32 * MB, 2.0);
            assert_eq!(
                plan,
                ReleasePlan {
                    keep: 4 * MB,
                    min_age: Duration::ZERO
                }
            );
        }
        // WINDOW collections later the spike has left the window: steady again.
        let plan = r.after_major(4 * MB, 32 * MB, 2.0);
        assert_eq!(
            plan,
            ReleasePlan {
                keep: 28 * MB,
                min_age: SECOND
            }
        );
    }

    #[test]
    fn release_at_once_and_threshold_zero() {
        let mut r = Retention::new(Duration::ZERO);
        let plan = r.after_major(10 * MB, 18 * MB, 0.0);
        assert_eq!(
            plan,
            ReleasePlan {
                keep: 8 * MB,
                min_age: Duration::ZERO
            }
        );
        // Threshold-zero counts as the default factor for the collapse rule.
        let plan = r.after_major(MB, 32 * MB, 0.0);
        assert_eq!(plan.keep, (MB as f64 * 0.82) as usize);
    }
}
