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
//! shrunk   = live < ½ × the largest live size of the last RELEASE_AFTER + 1 collections
//! keep     = threshold − live                    (the old generation refills it before the
//!                                                 next major collection)
//!            live × (factor − 1)   when shrunk   (the headroom the live set itself calls for,
//!                                                 without the MIN floor)
//! min_age  = RELEASE_AFTER major collections, 0 when shrunk
//! ```
//!
//! The old space then keeps `keep` bytes of committed free pages (in its fullest arenas, which
//! allocation uses first) and releases the others that have been free for at least `min_age`
//! major collections. `RELEASE_AFTER = 0` releases the surplus at once.
//!
//! Invariants: `keep <= threshold − live`; the window holds at most `RELEASE_AFTER + 1` sizes.

use std::collections::VecDeque;

/// What the old space should give back after a major collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReleasePlan {
    /// Bytes of committed free pages to keep.
    pub keep: usize,
    /// Release only pages free for at least this many major collections.
    pub min_age: u32,
}

/// The retention policy of one heap.
///
/// ```
/// use gc_core::Retention;
/// let mut r = Retention::new(3, 1.82);
/// // Steady: the headroom below the threshold is kept, the rest goes after 3 collections.
/// let plan = r.after_major(100 << 20, 182 << 20);
/// assert_eq!((plan.keep, plan.min_age), (82 << 20, 3));
/// // The live set collapses: the surplus goes back at once.
/// let plan = r.after_major(10 << 20, 32 << 20);
/// assert_eq!(plan.min_age, 0);
/// assert!(plan.keep < 9 << 20);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Retention {
    release_after: u32,
    factor: f64,
    recent_live: VecDeque<usize>,
}

impl Retention {
    /// A policy releasing after `release_after` major collections, for an old generation
    /// paced by `factor` (`0`, threshold-zero, counts as the default factor).
    pub fn new(release_after: u32, factor: f64) -> Retention {
        let factor = if factor > 1.0 {
            factor
        } else {
            crate::config::DEFAULT_MAJOR_COLLECT
        };
        Retention {
            release_after,
            factor,
            recent_live: VecDeque::new(),
        }
    }

    /// Records a major collection leaving `live` bytes and the pacer's new `threshold`.
    pub fn after_major(&mut self, live: usize, threshold: usize) -> ReleasePlan {
        self.recent_live.push_back(live);
        while self.recent_live.len() > self.release_after as usize + 1 {
            self.recent_live.pop_front();
        }
        let peak = self.recent_live.iter().copied().max().unwrap_or(0);
        let headroom = threshold.saturating_sub(live);
        if live < peak / 2 {
            let own = (live as f64 * (self.factor - 1.0)) as usize;
            ReleasePlan {
                keep: own.min(headroom),
                min_age: 0,
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

    #[test]
    fn a_steady_heap_keeps_its_headroom_and_ages_the_rest() {
        let mut r = Retention::new(3, 1.82);
        for _ in 0..10 {
            let plan = r.after_major(50 * MB, 91 * MB);
            assert_eq!(
                plan,
                ReleasePlan {
                    keep: 41 * MB,
                    min_age: 3
                }
            );
        }
        // A small heap under the MIN floor keeps the floor's headroom too.
        let plan = r.after_major(40 * MB, 64 * MB);
        assert_eq!(
            plan,
            ReleasePlan {
                keep: 24 * MB,
                min_age: 3
            }
        );
    }

    #[test]
    fn a_collapse_releases_at_once_and_the_window_forgets_the_spike() {
        let mut r = Retention::new(2, 2.0);
        r.after_major(200 * MB, 400 * MB);
        let plan = r.after_major(4 * MB, 32 * MB);
        assert_eq!(
            plan,
            ReleasePlan {
                keep: 4 * MB,
                min_age: 0
            }
        );
        r.after_major(4 * MB, 32 * MB);
        // Three collections later the spike has left the window: steady again.
        let plan = r.after_major(4 * MB, 32 * MB);
        assert_eq!(
            plan,
            ReleasePlan {
                keep: 28 * MB,
                min_age: 2
            }
        );
    }

    #[test]
    fn release_after_zero_and_threshold_zero() {
        let mut r = Retention::new(0, 0.0);
        let plan = r.after_major(10 * MB, 18 * MB);
        assert_eq!(plan.min_age, 0);
        assert_eq!(plan.keep, 8 * MB);
        // With no window, a collapse is never seen as one: the headroom rule holds.
        let plan = r.after_major(MB, 32 * MB);
        assert_eq!(
            plan,
            ReleasePlan {
                keep: 31 * MB,
                min_age: 0
            }
        );
    }
}
