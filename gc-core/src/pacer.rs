//! When to run an automatic major collection: a pure state machine.
//!
//! Like Go's pacer, it owns no heap: its inputs are figures (the old generation's size, the
//! bytes that survived a major collection) and its output is a decision, so tests simulate
//! long allocation patterns without allocating anything.
//!
//! Rules, applied after every major collection with `live` bytes surviving:
//!
//! ```text
//! threshold = live × MAJOR_COLLECT            (the target)
//! threshold = min(threshold, previous × GROWTH)   (growth cap: no sudden jumps)
//! threshold = min(threshold, live + MAX_DELTA)    (bounded headroom on big heaps)
//! threshold = max(threshold, MIN)                 (small heaps are not collected)
//! threshold = min(threshold, MAX)                 (collect before the hard limit)
//! ```
//!
//! **Sticky major collections** (`STICKY`, on by default; see `collect/major.rs`). After a full
//! major collection the next automatic one may be *sticky*: it marks only what reached the old
//! generation since the last major collection (*fresh* objects) and keeps everything that one
//! found live. After a sticky one, which found `live` bytes marked, `fresh_live` of the `fresh`
//! bytes live:
//!
//! ```text
//! if fresh_live > fresh / 2: threshold by the rules above, from live   (a growing heap)
//! else: threshold unchanged          (the fresh objects mostly died: memory stays as bounded)
//! next one full when live > full_live + (full_threshold - full_live) / 2
//! ```
//!
//! where `full_live` and `full_threshold` are the live bytes and the threshold of the last full
//! collection: what sticky collections keep has grown by more than half the headroom that one
//! gave (and some of it may have died since), so the next one looks at everything again.
//!
//! A major collection is due when the old generation exceeds the threshold, unless automatic
//! major collections are *disabled* (`Heap::disable`, undone by `Heap::enable`) or the factor
//! is *threshold-zero* (`MAJOR_COLLECT=0`, which `enable` does not undo: a library calling
//! `enable()` cannot silently turn collection back on). The heap limit is enforced elsewhere
//! (by the heap) and holds in every mode.
//!
//! Invariants: `MIN.min(MAX) <= threshold`; `threshold <= MAX` when a limit is set.

use crate::config::{Config, DEFAULT_MAJOR_COLLECT};

/// The major-collection trigger.
///
/// ```
/// use gc_core::Pacer;
/// let mut p = Pacer::new(1.82, 1.4, 1000, usize::MAX, None);
/// assert!(!p.major_due(1000));
/// assert!(p.major_due(1001));
/// p.after_major(10_000); // lots survived: the threshold may grow by 1.4x only
/// assert_eq!(p.threshold(), 1400);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Pacer {
    factor: f64,
    growth: f64,
    min: usize,
    max_delta: usize,
    max_heap: Option<usize>,
    threshold: usize,
    disabled: bool,
    /// Whether automatic major collections may be sticky at all.
    sticky: bool,
    /// The live bytes and the threshold the last full major collection left.
    full: Option<(usize, usize)>,
    /// Whether the next automatic major collection may be sticky.
    sticky_next: bool,
}

impl Pacer {
    /// A pacer with explicit parameters (see the module rules).
    pub fn new(
        factor: f64,
        growth: f64,
        min: usize,
        max_delta: usize,
        max_heap: Option<usize>,
    ) -> Pacer {
        let threshold = max_heap.map_or(min, |m| min.min(m));
        Pacer {
            factor,
            growth,
            min,
            max_delta,
            max_heap,
            threshold,
            disabled: false,
            sticky: true,
            full: None,
            sticky_next: false,
        }
    }

    /// The same pacer with sticky major collections allowed or not (allowed by default).
    ///
    /// ```
    /// use gc_core::Pacer;
    /// let mut p = Pacer::new(1.82, 1.4, 1000, usize::MAX, None).with_sticky(false);
    /// p.after_major(800);
    /// assert!(!p.next_major_sticky());
    /// ```
    pub fn with_sticky(mut self, on: bool) -> Pacer {
        self.sticky = on;
        self.sticky_next &= on;
        self
    }

    /// The pacer a heap with `config` starts with.
    pub fn from_config(config: &Config) -> Pacer {
        Pacer::new(
            config.major_collect(),
            config.growth(),
            config.min_major(),
            config.max_delta(),
            config.max_heap(),
        )
        .with_sticky(config.sticky())
    }

    /// Whether an old generation of `old_bytes` calls for an automatic major collection.
    #[inline]
    pub fn major_due(&self, old_bytes: usize) -> bool {
        self.automatic() && old_bytes > self.threshold
    }

    /// Whether automatic major collections can happen at all.
    pub fn automatic(&self) -> bool {
        !self.disabled && self.factor != 0.0
    }

    /// Records a completed full major collection after which `live` bytes remain.
    pub fn after_major(&mut self, live: usize) {
        self.apply_rules(live);
        self.full = Some((live, self.threshold));
        self.sticky_next = self.sticky;
    }

    /// Records a completed sticky major collection: `live` bytes marked in all, of which
    /// `fresh_live` among the `fresh` bytes that reached the old generation since the last
    /// major collection (the module's rules).
    ///
    /// ```
    /// use gc_core::Pacer;
    /// let mut p = Pacer::new(2.0, 100.0, 1000, usize::MAX, None);
    /// p.after_major(10_000); // full: threshold 20,000
    /// assert!(p.next_major_sticky());
    /// p.after_sticky(10_500, 4_000, 500); // most fresh objects died: the threshold stays
    /// assert_eq!(p.threshold(), 20_000);
    /// assert!(p.next_major_sticky());
    /// p.after_sticky(16_000, 6_000, 5_500); // most survived: the threshold follows live...
    /// assert_eq!(p.threshold(), 32_000);
    /// // ...and 6,000 kept above the full one's 10,000 is over half its headroom: full next
    /// assert!(!p.next_major_sticky());
    /// ```
    pub fn after_sticky(&mut self, live: usize, fresh: usize, fresh_live: usize) {
        if fresh_live.saturating_mul(2) > fresh {
            self.apply_rules(live);
        }
        self.sticky_next = self.sticky
            && self.full.is_some_and(|(full_live, full_threshold)| {
                live <= full_live + full_threshold.saturating_sub(full_live) / 2
            });
    }

    /// Whether the next automatic major collection may be sticky (never before the first full
    /// one, nor when sticky collections are off).
    pub fn next_major_sticky(&self) -> bool {
        self.sticky_next
    }

    /// Forgets the last full collection: the next automatic one is full (the objects it kept
    /// can no longer be trusted to be marked, as after `freeze`).
    pub fn require_full(&mut self) {
        self.sticky_next = false;
    }

    /// The threshold rules of the module comment, from `live` bytes.
    fn apply_rules(&mut self, live: usize) {
        // Under threshold-zero the threshold still follows the default rule, so statistics
        // stay meaningful and switching the factor back on starts from a sensible value.
        let factor = if self.factor == 0.0 {
            DEFAULT_MAJOR_COLLECT
        } else {
            self.factor
        };
        let target = (live as f64 * factor) as usize;
        let capped = target
            .min((self.threshold as f64 * self.growth) as usize)
            .min(live.saturating_add(self.max_delta))
            .max(self.min);
        self.threshold = self.max_heap.map_or(capped, |m| capped.min(m));
    }

    /// The old-generation size above which the next automatic major collection starts.
    pub fn threshold(&self) -> usize {
        self.threshold
    }

    /// Stops automatic major collections (minor ones continue).
    pub fn disable(&mut self) {
        self.disabled = true;
    }

    /// Undoes [`Pacer::disable`]; does not undo threshold-zero.
    pub fn enable(&mut self) {
        self.disabled = false;
    }

    /// Whether [`Pacer::disable`] is in force.
    pub fn is_disabled(&self) -> bool {
        self.disabled
    }

    /// The major-collection factor (`0` is threshold-zero).
    pub fn factor(&self) -> f64 {
        self.factor
    }

    /// Changes the factor; `0` sets threshold-zero. Values in (0, 1] are refused.
    pub fn set_factor(&mut self, factor: f64) -> Result<(), crate::config::InvalidSetting> {
        Config::default().with_major_collect(factor).validate()?;
        self.factor = factor;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: usize = 1 << 20;

    /// Simulates a program whose old generation grows by `promoted` bytes per minor
    /// collection, of which a `survival` fraction stays live at each major collection.
    /// Returns the thresholds after each major collection.
    fn simulate(p: &mut Pacer, minors: usize, promoted: usize, survival: f64) -> Vec<usize> {
        let mut old = 0usize;
        let mut live = 0usize;
        let mut thresholds = Vec::new();
        for _ in 0..minors {
            old += promoted;
            if p.major_due(old) {
                live = live + ((old - live) as f64 * survival) as usize;
                old = live;
                p.after_major(live);
                thresholds.push(p.threshold());
            }
        }
        thresholds
    }

    #[test]
    fn nothing_happens_below_min() {
        let mut p = Pacer::new(1.82, 1.4, 32 * MB, usize::MAX, None);
        assert!(
            simulate(&mut p, 7, 4 * MB, 1.0).is_empty(),
            "28 MB stays under MIN"
        );
        assert!(p.major_due(33 * MB));
    }

    #[test]
    fn thresholds_grow_by_at_most_the_growth_factor() {
        let mut p = Pacer::new(1.82, 1.4, 8 * MB, usize::MAX, None);
        let t = simulate(&mut p, 2_000, 4 * MB, 1.0); // everything survives: a growing heap
        assert!(t.len() > 5);
        let mut prev = 8 * MB;
        for &next in &t {
            assert!(next as f64 <= prev as f64 * 1.4 + 1.0, "{prev} -> {next}");
            assert!(next >= 8 * MB);
            prev = next;
        }
    }

    #[test]
    fn threshold_follows_the_factor_when_the_heap_is_steady() {
        let mut p = Pacer::new(2.0, 1.4, MB, usize::MAX, None);
        // 10 MB live, steady: the threshold converges on 2 x live.
        for _ in 0..20 {
            p.after_major(10 * MB);
        }
        assert_eq!(p.threshold(), 20 * MB);
    }

    #[test]
    fn max_delta_bounds_the_headroom_on_big_heaps() {
        let mut p = Pacer::new(1.82, 100.0, MB, 64 * MB, None);
        for _ in 0..10 {
            p.after_major(4096 * MB);
        }
        assert_eq!(p.threshold(), 4096 * MB + 64 * MB);
    }

    #[test]
    fn the_heap_limit_caps_the_threshold() {
        let mut p = Pacer::new(1.82, 10.0, 100 * MB, usize::MAX, Some(50 * MB));
        assert_eq!(p.threshold(), 50 * MB);
        p.after_major(40 * MB);
        assert_eq!(p.threshold(), 50 * MB);
    }

    #[test]
    fn threshold_zero_survives_enable_and_disable_does_not_stick() {
        let mut p = Pacer::new(0.0, 1.4, MB, usize::MAX, None);
        assert!(!p.major_due(usize::MAX));
        p.enable();
        assert!(
            !p.major_due(usize::MAX),
            "enable() does not undo threshold-zero"
        );
        p.set_factor(1.82).unwrap();
        assert!(p.major_due(2 * MB));
        p.disable();
        assert!(!p.major_due(usize::MAX));
        p.enable();
        assert!(p.major_due(2 * MB));
        assert!(p.set_factor(0.5).is_err());
        assert_eq!(p.factor(), 1.82);
    }

    #[test]
    fn sticky_collections_follow_a_growing_heap_and_keep_a_steady_ones_threshold() {
        let mut p = Pacer::new(1.82, 1.4, MB, usize::MAX, None);
        assert!(!p.next_major_sticky(), "never before the first full one");
        for _ in 0..30 {
            p.after_major(100 * MB);
        }
        assert_eq!(p.threshold(), 182 * MB);
        assert!(p.next_major_sticky());
        // Steady: 80 MB promoted, 10 MB of it live. The threshold stays.
        p.after_sticky(110 * MB, 80 * MB, 10 * MB);
        assert_eq!(p.threshold(), 182 * MB);
        assert!(
            p.next_major_sticky(),
            "10 MB kept is under half of 82 MB headroom"
        );
        // 40 MB more kept (50 MB above the full one's 100): the next one is full.
        p.after_sticky(150 * MB, 70 * MB, 40 * MB);
        assert!(!p.next_major_sticky());
        p.after_major(100 * MB);
        assert!(
            p.next_major_sticky(),
            "a full collection allows sticky ones again"
        );
        // Growing: everything promoted survives, the threshold follows the rules.
        p.after_sticky(140 * MB, 40 * MB, 40 * MB);
        assert!(p.threshold() > 182 * MB);
        assert!(p.threshold() as f64 <= 182.0 * 1.4 * MB as f64 + 1.0);
        assert!(
            p.next_major_sticky(),
            "40 MB kept is under half of 82 MB headroom"
        );
        p.require_full();
        assert!(!p.next_major_sticky());
    }

    #[test]
    fn sticky_collections_off_means_every_automatic_one_is_full() {
        let mut p = Pacer::new(1.82, 1.4, MB, usize::MAX, None).with_sticky(false);
        p.after_major(10 * MB);
        assert!(!p.next_major_sticky());
        p.after_sticky(11 * MB, 5 * MB, MB);
        assert!(!p.next_major_sticky());
    }

    #[test]
    fn a_shrinking_heap_lowers_the_threshold_but_not_below_min() {
        let mut p = Pacer::new(1.82, 1.4, 8 * MB, usize::MAX, None);
        for _ in 0..30 {
            p.after_major(100 * MB);
        }
        assert_eq!(p.threshold(), 182 * MB);
        p.after_major(MB);
        assert_eq!(p.threshold(), 8 * MB);
    }
}
