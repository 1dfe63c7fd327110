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
//! found live, so the bytes it finds live (`live`) may include kept objects that died since,
//! garbage nobody measured. So a sticky collection does not move the threshold (only full ones
//! do, and peak memory stays bounded as without sticky collections), except in a *growing*
//! heap (below). After a sticky one that found `fresh_live` of the `fresh` bytes live:
//!
//! ```text
//! useful = fresh_live / (fresh - fresh_live) <= full_live / (full_threshold - full_live)
//! next one full when not useful,
//!                 or live > full_live + (full_threshold - full_live) / 2,
//!                 or MAX_STICKY_RUN sticky ones ran since the last full one
//! ```
//!
//! `full_live` and `full_threshold` are the live bytes and the threshold of the last full
//! collection. When what the sticky ones keep has grown by more than half the headroom that one
//! gave, the next one looks at everything again; and kept objects that died are found at least
//! every `MAX_STICKY_RUN` (16) major collections, so a structure dropped as a whole (a server's
//! spike) is given back even while everything else dies young.
//!
//! A sticky collection is *useful* when it marked no more per byte it freed than the last full
//! one did (its live bytes per byte of headroom): each collection's marking pays for the
//! promotion until the next one, so marking more per byte freed costs more per byte promoted.
//! One that is not bought little: a growing heap (a structure being built) keeps what it
//! promotes, and in a structure whose nodes are replaced (a splay tree, an array whose slots are
//! overwritten) dead kept nodes that were written are the log's roots and hold the fresh ones
//! alive, so it marked most of what a full collection would and freed little. Sticky
//! collections then back off: the next `backoff` full collections run without one between them;
//! `backoff` starts at 4 and doubles with each useless sticky collection in a row (at most 64),
//! and a useful one resets it. So does a full collection that finds at most half the live bytes
//! of the full one before (the heap stopped keeping what it promotes), or that finds the heap
//! growing (below), which explains the useless sticky collections: binary-trees builds its
//! long-lived tree, whose sticky collections are useless, then lets short-lived trees die for
//! seconds, which sticky collections handle at a tenth of a full one's pause.
//!
//! **A growing heap** (a structure being built: a list, a tree kept for the whole run). A full
//! collection that finds at least 7/8 of the old generation it looked at live saw one
//! (`Pacer::after_full`). Then a sticky collection whose fresh objects are at least 7/8 live
//! moves the threshold by the usual rules from its `live`, as a full one would have: the
//! kept objects were almost all live at the last full collection and what was promoted since
//! stayed live, so `live` is the measure a full collection would have taken, and the
//! collection marked only the fresh objects instead of the whole heap. At most
//! `GROWING_STICKY_RUN` (2) such collections run in a row; then a full one measures the heap
//! again (and decides whether it still grows), so kept objects that died while the heap grew
//! hold the threshold up for two collections at most. Without this rule a growing heap paid a
//! full collection for every threshold step (its sticky ones freed nothing, so they backed
//! off): the 10-million-node list marked 539 MB in six full collections, 157 ms of its
//! 467 ms.
//!
//! A major collection is due when the old generation exceeds the threshold, unless automatic
//! major collections are *disabled* (`Heap::disable`, undone by `Heap::enable`) or the factor
//! is *threshold-zero* (`MAJOR_COLLECT=0`, which `enable` does not undo: a library calling
//! `enable()` cannot silently turn collection back on). The heap limit is enforced elsewhere
//! (by the heap) and holds in every mode.
//!
//! Invariants: `MIN.min(MAX) <= threshold`; `threshold <= MAX` when a limit is set.

use crate::config::{Config, DEFAULT_MAJOR_COLLECT};

/// Sticky major collections in a row at most (the module comment).
pub(crate) const MAX_STICKY_RUN: u32 = 16;

/// A full collection that finds at least this many eighths of the old generation live saw a
/// growing heap, and so does a sticky one for its fresh objects (the module comment).
const GROWING_LIVE_EIGHTHS: u32 = 7;

/// Sticky collections that move the threshold in a row at most, before a full one measures the
/// heap again (the module comment).
const GROWING_STICKY_RUN: u32 = 2;

/// Whether a collection that found `live` of the `of` bytes it looked at live saw them mostly
/// live (at least `GROWING_LIVE_EIGHTHS` eighths): the growing-heap test.
fn mostly_live(live: usize, of: usize) -> bool {
    live as f64 * 8.0 >= of as f64 * f64::from(GROWING_LIVE_EIGHTHS)
}

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
    /// Sticky collections since the last full one.
    sticky_run: u32,
    /// Full collections still to run before the next sticky one (the module's backoff).
    skip_fulls: u32,
    /// The backoff the next useless sticky collection sets (0: none yet).
    backoff: u32,
    /// Whether the last full collection found the heap *growing*: at least
    /// `GROWING_LIVE_EIGHTHS` eighths of what it looked at live.
    growing: bool,
    /// Sticky collections since the last full one that moved the threshold (growing heap).
    growing_run: u32,
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
            sticky_run: 0,
            skip_fulls: 0,
            backoff: 0,
            growing: false,
            growing_run: 0,
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

    /// Records a completed full major collection after which `live` bytes remain (of an old
    /// generation whose size before it is not known: see [`Pacer::after_full`]).
    pub fn after_major(&mut self, live: usize) {
        self.growing = false;
        self.record_full(live);
    }

    /// Records a completed full major collection that found `live` of the `before` bytes the
    /// old generation held when it started. One that found almost all of them live saw a
    /// growing heap, whose sticky collections may move the threshold (the module's rules).
    ///
    /// ```
    /// use gc_core::Pacer;
    /// let mut p = Pacer::new(2.0, 1.5, 1000, usize::MAX, None);
    /// p.after_full(40_000, 40_000); // a structure being built: everything it held is live
    /// assert_eq!(p.threshold(), 1500); // the growth cap, from the initial threshold
    /// assert!(p.next_major_sticky());
    /// p.after_sticky(60_000, 20_000, 20_000); // and what it promoted since, too
    /// assert_eq!(p.threshold(), 2250); // moved as a full collection would have moved it
    /// assert!(p.next_major_sticky());
    /// ```
    pub fn after_full(&mut self, before: usize, live: usize) {
        self.growing = mostly_live(live, before);
        self.record_full(live);
    }

    fn record_full(&mut self, live: usize) {
        self.growing_run = 0;
        // The backoff's premise is a heap that keeps what it promotes. A full collection that
        // finds at most half the live bytes of the one before has seen that premise end (the
        // structure being built was dropped, the phase that replaced nodes is over), and one
        // that finds the heap growing explains it (sticky collections then move the
        // threshold, the growing-heap rule): sticky collections may come again at once.
        let halved = self
            .full
            .is_some_and(|(previous_live, _)| live <= previous_live / 2);
        if halved || self.growing {
            self.backoff = 0;
            self.skip_fulls = 0;
        }
        self.apply_rules(live);
        self.full = Some((live, self.threshold));
        self.sticky_run = 0;
        if self.skip_fulls > 0 {
            self.skip_fulls -= 1;
            self.sticky_next = false;
        } else {
            self.sticky_next = self.sticky;
        }
    }

    /// Records a completed sticky major collection: `live` bytes marked in all, of which
    /// `fresh_live` among the `fresh` bytes that reached the old generation since the last
    /// major collection (the module's rules). The threshold stays.
    ///
    /// ```
    /// use gc_core::Pacer;
    /// let mut p = Pacer::new(2.0, 100.0, 1000, usize::MAX, None);
    /// p.after_major(10_000); // full: threshold 20,000
    /// assert!(p.next_major_sticky());
    /// p.after_sticky(10_500, 4_000, 500); // marked 500 to free 3,500: the full one, 1 per 1
    /// assert_eq!(p.threshold(), 20_000);
    /// assert!(p.next_major_sticky());
    /// p.after_sticky(13_500, 4_000, 3_000); // marked 3,000 to free 1,000: it bought little
    /// assert_eq!(p.threshold(), 20_000);
    /// assert!(!p.next_major_sticky());
    /// for _ in 0..4 {
    ///     p.after_major(13_000); // four full ones (the backoff)...
    ///     assert!(!p.next_major_sticky());
    /// }
    /// p.after_major(13_000); // ...then sticky ones may come again
    /// assert!(p.next_major_sticky());
    /// ```
    pub fn after_sticky(&mut self, live: usize, fresh: usize, fresh_live: usize) {
        self.sticky_run += 1;
        if self.growing && mostly_live(fresh_live, fresh) && self.growing_run < GROWING_STICKY_RUN {
            // A growing heap: the kept objects were almost all live at the last full
            // collection and what was promoted since stayed live, so `live` is taken as the
            // live data, as a full collection would have measured it.
            self.apply_rules(live);
            self.growing_run += 1;
            self.sticky_next = self.sticky && self.growing_run < GROWING_STICKY_RUN;
            return;
        }
        let freed = fresh.saturating_sub(fresh_live);
        // Marked per byte freed, against the last full collection's live bytes per byte of
        // headroom (cross-multiplied, in floating point: the products overflow no integer).
        let useful = self.full.is_some_and(|(full_live, full_threshold)| {
            let headroom = full_threshold.saturating_sub(full_live);
            fresh_live as f64 * headroom as f64 <= freed as f64 * full_live as f64
        });
        if useful {
            self.backoff = 0;
        } else {
            self.backoff = (self.backoff * 2).clamp(4, 64);
            self.skip_fulls = self.backoff;
        }
        let within_headroom = self.full.is_some_and(|(full_live, full_threshold)| {
            live <= full_live + full_threshold.saturating_sub(full_live) / 2
        });
        self.sticky_next =
            self.sticky && useful && within_headroom && self.sticky_run < MAX_STICKY_RUN;
    }

    /// The bytes the last full major collection found live (`None` before the first one): the
    /// heap's size as last measured, since a sticky one's live bytes include kept objects that
    /// may have died.
    pub fn last_full_live(&self) -> Option<usize> {
        self.full.map(|(live, _)| live)
    }

    /// Whether the next automatic major collection may be sticky (never before the first full
    /// one, nor when sticky collections are off).
    pub fn next_major_sticky(&self) -> bool {
        self.sticky_next
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

    /// A default pacer after enough full collections of `live` bytes for its threshold to
    /// settle at `live × 1.82`.
    fn steady_at(live: usize) -> Pacer {
        let mut p = Pacer::new(1.82, 1.4, MB, usize::MAX, None);
        for _ in 0..30 {
            p.after_major(live);
        }
        p
    }

    #[test]
    fn sticky_collections_never_move_the_threshold_and_give_way_to_full_ones() {
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
        // 40 MB more kept of 100 MB promoted (50 MB above the full one's 100): full next.
        p.after_sticky(150 * MB, 100 * MB, 40 * MB);
        assert!(!p.next_major_sticky());
        assert_eq!(p.threshold(), 182 * MB);
        p.after_major(100 * MB);
        assert!(
            p.next_major_sticky(),
            "a full collection allows sticky ones again"
        );
        // A growing heap: what was promoted stays. The threshold still does not follow.
        p.after_sticky(160 * MB, 70 * MB, 60 * MB);
        assert_eq!(p.threshold(), 182 * MB);
        assert!(!p.next_major_sticky());
    }

    #[test]
    fn at_most_max_sticky_run_sticky_collections_come_in_a_row() {
        let mut p = steady_at(100 * MB);
        // Everything promoted dies young: only the run's cap brings a full collection, which
        // finds the kept objects that died (a dropped structure).
        let mut run = 0;
        while p.next_major_sticky() {
            run += 1;
            p.after_sticky(100 * MB, 80 * MB, 0);
        }
        assert_eq!(run, MAX_STICKY_RUN);
        p.after_major(40 * MB);
        assert!(p.next_major_sticky());
    }

    #[test]
    fn sticky_collections_whose_fresh_objects_survive_back_off_exponentially() {
        let mut p = steady_at(20 * MB);
        // Splay-like: fresh nodes survive through dead kept ones; the full one frees them.
        let mut stickies = 0;
        for _ in 0..200 {
            if p.next_major_sticky() {
                stickies += 1;
                p.after_sticky(37 * MB, 17 * MB, 16 * MB);
            }
            p.after_major(20 * MB);
        }
        // Probes after 4, 8, 16, 32, 64 and 64 full collections.
        assert!((5..=7).contains(&stickies), "{stickies} sticky collections");
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
        assert_eq!(skipped, 4, "the backoff starts again at 4");
    }

    #[test]
    fn a_full_collection_that_finds_the_heap_halved_ends_the_backoff() {
        let mut p = Pacer::new(2.0, 100.0, MB, usize::MAX, None);
        // A structure being built: two useless sticky collections in a row (backoff 4, then 8).
        p.after_major(40 * MB);
        p.after_sticky(60 * MB, 20 * MB, 20 * MB);
        for _ in 0..4 {
            p.after_major(56 * MB);
            assert!(!p.next_major_sticky());
        }
        p.after_major(56 * MB);
        assert!(p.next_major_sticky());
        p.after_sticky(80 * MB, 24 * MB, 24 * MB);
        assert!(!p.next_major_sticky());
        // Growth continues: the backoff holds...
        p.after_major(80 * MB);
        assert!(!p.next_major_sticky());
        // ...until a full collection finds the live bytes halved (the builder's data dropped).
        p.after_major(40 * MB);
        assert!(p.next_major_sticky(), "sticky collections may come again");
        // A later useless one starts the backoff again from 4, not from where it was (8).
        p.after_sticky(60 * MB, 20 * MB, 20 * MB);
        let mut fulls = 0;
        while !p.next_major_sticky() {
            fulls += 1;
            p.after_major(40 * MB);
        }
        assert_eq!(
            fulls, 5,
            "four full ones run back to back, then a sticky one may follow"
        );
        // A heap whose live bytes shrink by less than half keeps its backoff.
        p.after_sticky(60 * MB, 20 * MB, 20 * MB);
        p.after_major(30 * MB);
        assert!(!p.next_major_sticky());
    }

    #[test]
    fn a_growing_heap_moves_the_threshold_with_at_most_two_sticky_collections_in_a_row() {
        let mut p = Pacer::new(1.82, 1.4, 32 * MB, usize::MAX, None);
        // A list being built: every collection finds everything live.
        let mut old = 0;
        let mut kinds = String::new();
        let mut thresholds = Vec::new();
        for _ in 0..400 {
            old += 2 * MB;
            if p.major_due(old) {
                if p.next_major_sticky() {
                    kinds.push('s');
                    p.after_sticky(old, 2 * MB, 2 * MB);
                } else {
                    kinds.push('F');
                    p.after_full(old, old);
                }
                thresholds.push(p.threshold());
            }
        }
        assert!(kinds.starts_with("FssFssFss"), "{kinds}");
        // Every collection moves the threshold, by the growth cap at most.
        for pair in thresholds.windows(2) {
            assert!(pair[1] > pair[0], "{thresholds:?}");
            assert!(
                pair[1] as f64 <= pair[0] as f64 * 1.4 + 1.0,
                "{thresholds:?}"
            );
        }
    }

    #[test]
    fn a_full_collection_that_finds_the_heap_growing_ends_the_backoff() {
        let mut p = Pacer::new(2.0, 100.0, MB, usize::MAX, None);
        // A steady heap, then a structure built: its sticky collection is useless...
        p.after_full(100 * MB, 50 * MB);
        p.after_sticky(90 * MB, 40 * MB, 40 * MB);
        assert!(!p.next_major_sticky());
        // ...and the next full collection finds it growing: the backoff ends at once, and
        // the sticky collections that follow move the threshold.
        p.after_full(100 * MB, 95 * MB);
        assert!(p.next_major_sticky());
        let before = p.threshold();
        p.after_sticky(120 * MB, 25 * MB, 25 * MB);
        assert!(p.threshold() > before);
        // Without the size before (`after_major`), the backoff stays.
        let mut p = Pacer::new(2.0, 100.0, MB, usize::MAX, None);
        p.after_full(100 * MB, 50 * MB);
        p.after_sticky(90 * MB, 40 * MB, 40 * MB);
        p.after_major(95 * MB);
        assert!(!p.next_major_sticky());
    }

    #[test]
    fn only_a_full_collection_that_found_the_heap_growing_lets_sticky_ones_move_the_threshold() {
        // A steady heap (splay-like: the full collection frees half of what it looked at): a
        // sticky collection whose fresh objects survive does not move the threshold.
        let mut p = Pacer::new(2.0, 100.0, MB, usize::MAX, None);
        p.after_full(40 * MB, 20 * MB);
        assert_eq!(p.threshold(), 40 * MB);
        p.after_sticky(37 * MB, 17 * MB, 16 * MB);
        assert_eq!(p.threshold(), 40 * MB);
        assert!(!p.next_major_sticky(), "useless: the backoff");
        // A growing heap whose sticky collection finds most fresh objects dead is not growing
        // any more: the usual rules apply (the threshold stays, a useful one may repeat).
        let mut p = Pacer::new(2.0, 100.0, MB, usize::MAX, None);
        p.after_full(20 * MB, 19 * MB);
        assert_eq!(p.threshold(), 38 * MB);
        p.after_sticky(22 * MB, 19 * MB, 3 * MB);
        assert_eq!(p.threshold(), 38 * MB);
        assert!(p.next_major_sticky());
        // `after_major` (the size before unknown) never counts as growing.
        let mut p = Pacer::new(2.0, 100.0, MB, usize::MAX, None);
        p.after_major(20 * MB);
        p.after_sticky(30 * MB, 10 * MB, 10 * MB);
        assert_eq!(p.threshold(), 40 * MB);
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
