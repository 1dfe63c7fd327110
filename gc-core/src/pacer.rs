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
//! found live, so the bytes it finds live (`live`) may include kept objects that died since.
//! Those must not raise the threshold, or memory would grow with garbage nobody measured. After
//! a sticky one that found `fresh_live` of the `fresh` bytes live:
//!
//! ```text
//! survived = fresh_live > fresh / 2          (what reaches the old generation mostly stays)
//! if survived and reliable: threshold by the rules above, from live   (a growing heap)
//! else: threshold unchanged
//! next one full when live > full_live + (full_threshold - full_live) / 2,
//!                 or survived and not reliable
//! ```
//!
//! `full_live` and `full_threshold` are the live bytes and the threshold of the last full
//! collection: when what the sticky ones keep has grown by more than half the headroom that one
//! gave, the next one looks at everything again. *Reliable* is learned by each full collection
//! that follows a sticky one: it found at least 90% of what the sticky one kept, so the kept
//! objects were really live (a growing heap, such as a list being built) rather than replaced
//! by fresh ones (a tree whose nodes are replaced, or an array whose slots are): only then does
//! a sticky collection that saw its fresh objects survive raise the threshold.
//!
//! A sticky collection whose fresh objects survived while kept bytes were unreliable bought
//! nothing: dead kept objects that had been written hold fresh ones alive (they are the log's
//! roots), so it marked what a full collection would, and freed little. When the full one
//! after it finds the kept bytes unreliable too, the next `backoff` full collections run
//! without a sticky one between them; `backoff` starts at 8 and doubles with each such probe
//! in a row (at most 128), and a useful sticky collection resets it.
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
    /// What the last sticky collection found live, until the next full one compares.
    sticky_live: Option<usize>,
    /// Whether the last full collection found what the sticky one before it kept still live
    /// (the module's *reliable*).
    kept_reliable: bool,
    /// Whether the last sticky collection's fresh objects mostly survived.
    sticky_survived: bool,
    /// Full collections still to run before the next sticky one (the module's backoff).
    skip_fulls: u32,
    /// The backoff the next useless sticky collection sets (0: none yet).
    backoff: u32,
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
            sticky_live: None,
            kept_reliable: false,
            sticky_survived: false,
            skip_fulls: 0,
            backoff: 0,
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
        if let Some(kept) = self.sticky_live.take() {
            self.kept_reliable = live as f64 >= kept as f64 * 0.9;
            if self.sticky_survived && !self.kept_reliable {
                // The sticky one bought nothing: back off.
                self.backoff = (self.backoff * 2).clamp(8, 128);
                self.skip_fulls = self.backoff;
            }
        }
        self.apply_rules(live);
        self.full = Some((live, self.threshold));
        if self.skip_fulls > 0 {
            self.skip_fulls -= 1;
            self.sticky_next = false;
        } else {
            self.sticky_next = self.sticky;
        }
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
    /// p.after_sticky(13_500, 4_000, 3_000); // most survived, and nothing says they stay
    /// assert_eq!(p.threshold(), 20_000);
    /// assert!(!p.next_major_sticky()); // so a full one looks
    /// p.after_major(13_000); // it found 96% of what the sticky one kept: a growing heap
    /// p.after_sticky(17_000, 4_000, 4_000);
    /// assert_eq!(p.threshold(), 34_000); // the rules, from live
    /// ```
    pub fn after_sticky(&mut self, live: usize, fresh: usize, fresh_live: usize) {
        let survived = fresh_live.saturating_mul(2) > fresh;
        if survived && self.kept_reliable {
            self.apply_rules(live);
        }
        if !survived || self.kept_reliable {
            self.backoff = 0; // a useful one
        }
        self.sticky_survived = survived;
        self.sticky_live = Some(live);
        let within_headroom = self.full.is_some_and(|(full_live, full_threshold)| {
            live <= full_live + full_threshold.saturating_sub(full_live) / 2
        });
        self.sticky_next = self.sticky && within_headroom && (!survived || self.kept_reliable);
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
    fn sticky_collections_keep_the_threshold_while_what_they_keep_is_unmeasured() {
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
        assert!(p.next_major_sticky(), "10 MB kept is under half of 82 MB headroom");
        // 40 MB more kept of 100 MB promoted (50 MB above the full one's 100): the next one
        // is full.
        p.after_sticky(150 * MB, 100 * MB, 40 * MB);
        assert!(!p.next_major_sticky());
        assert_eq!(p.threshold(), 182 * MB);
        // The full one finds 100 MB of the 150 kept: kept bytes are not to be trusted.
        p.after_major(100 * MB);
        assert!(p.next_major_sticky(), "a full collection allows sticky ones again");
        // Churn (a tree whose nodes are replaced): fresh objects survive, kept ones die
        // unseen. The threshold must not follow.
        p.after_sticky(130 * MB, 40 * MB, 30 * MB);
        assert_eq!(p.threshold(), 182 * MB);
        assert!(!p.next_major_sticky(), "they survived, and kept bytes are unreliable");
        p.require_full();
        assert!(!p.next_major_sticky());
    }

    #[test]
    fn a_growing_heap_that_a_full_collection_confirms_raises_the_threshold_after_sticky_ones() {
        let mut p = Pacer::new(1.82, 1.4, MB, usize::MAX, None);
        for _ in 0..30 {
            p.after_major(100 * MB);
        }
        let t = p.threshold();
        p.after_sticky(t, t - 100 * MB, t - 100 * MB); // everything promoted survived
        assert_eq!(p.threshold(), t, "not yet confirmed");
        assert!(!p.next_major_sticky());
        p.after_major(t - MB); // the full one finds it all live: reliable
        let t2 = p.threshold();
        assert!(t2 > t);
        p.after_sticky(t2, t2 - t + MB, t2 - t + MB);
        assert!(p.threshold() > t2, "a confirmed growing heap: the rules from live");
    }

    #[test]
    fn useless_sticky_collections_back_off_exponentially() {
        let mut p = Pacer::new(1.82, 1.4, MB, usize::MAX, None);
        for _ in 0..30 {
            p.after_major(20 * MB);
        }
        // Splay-like: fresh nodes survive through dead kept ones; the full one frees them.
        let mut stickies = 0;
        for _ in 0..200 {
            if p.next_major_sticky() {
                stickies += 1;
                p.after_sticky(37 * MB, 17 * MB, 16 * MB);
            }
            p.after_major(20 * MB);
        }
        // Probes after 8, 16, 32, 64, 128, 128 full collections.
        assert!((4..=7).contains(&stickies), "{stickies} sticky collections");
        // A useful one (most fresh objects died) resets the backoff.
        while !p.next_major_sticky() {
            p.after_major(20 * MB);
        }
        p.after_sticky(22 * MB, 17 * MB, 2 * MB);
        assert!(p.next_major_sticky());
        p.after_sticky(37 * MB, 15 * MB, 14 * MB);
        p.after_major(20 * MB);
        let mut skipped = 0;
        while !p.next_major_sticky() {
            skipped += 1;
            p.after_major(20 * MB);
        }
        assert_eq!(skipped, 8, "the backoff starts again at 8");
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
