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
//! generation since the last full collection (*fresh* objects; a sticky collection's survivors
//! stay fresh: `collect/sticky.rs`) and keeps everything that one found live, so the bytes it
//! finds live (`live`) may include kept objects that died since,
//! garbage nobody measured. So a sticky collection does not move the threshold (only full ones
//! do, and peak memory stays bounded as without sticky collections), except in a *growing*
//! heap (below). After a sticky one that found `fresh_live` of the `fresh` bytes live (`fresh`
//! counts every byte that reached the old generation since the last full collection and is
//! still there, earlier sticky collections' survivors included, whose marking is counted again):
//!
//! ```text
//! marked = fresh_live + STICKY_RECORD_DECAY × marked       (the recent sticky collections'
//! freed  = fresh - fresh_live + STICKY_RECORD_DECAY × freed  record; the decay is 1/2)
//! useful = marked / freed <= full_live / (full_threshold - full_live)
//! next one full when not useful,
//!                 or live > full_live + (full_threshold - full_live) / 2,
//!                 or MAX_STICKY_RUN sticky ones ran since the last full one
//! ```
//!
//! `full_live` and `full_threshold` are the live bytes and the threshold of the last full
//! collection. When what a sticky one finds live has grown by more than half the headroom that
//! one gave, the next one looks at everything again; and kept objects that died are found at least
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
//! The test weighs the recent sticky collections, not the last one alone, and forgets them when
//! a backoff starts and when a full collection finds the heap halved or growing (a new phase,
//! which also ends a backoff), so the sticky collection after either is judged afresh. Where
//! structures larger than the nursery are built and dropped (binary-trees' deep trees), what a
//! sticky collection finds live depends on how far the one being built had come: one that found
//! most of it live, among useful ones, cost binary-trees 21 four full collections of 45 to 60 ms
//! each, where sticky ones took 5 to 15 ms.
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

/// The weight a sticky collection's figures keep in the usefulness test for each sticky
/// collection that ran after it (the module comment).
const STICKY_RECORD_DECAY: f64 = 0.5;

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
    /// The fresh bytes the sticky collections since the last backoff marked and freed, each
    /// collection's figures multiplied by `STICKY_RECORD_DECAY` for every sticky collection
    /// since (the usefulness test's record).
    sticky_marked: f64,
    sticky_freed: f64,
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
            sticky_marked: 0.0,
            sticky_freed: 0.0,
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
            // The sticky collections of the phase that ended say nothing of the next one.
            self.forget_sticky_record();
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
        if self.sticky_measures_growth(fresh, fresh_live) {
            // A growing heap: the kept objects were almost all live at the last full
            // collection and what was promoted since stayed live, so `live` is taken as the
            // live data, as a full collection would have measured it.
            self.apply_rules(live);
            self.growing_run += 1;
            self.sticky_next = self.sticky && self.growing_run < GROWING_STICKY_RUN;
            return;
        }
        let freed = fresh.saturating_sub(fresh_live);
        self.sticky_marked = self.sticky_marked * STICKY_RECORD_DECAY + fresh_live as f64;
        self.sticky_freed = self.sticky_freed * STICKY_RECORD_DECAY + freed as f64;
        // Marked per byte freed by the recent sticky collections, against the last full
        // collection's live bytes per byte of headroom (cross-multiplied: no division by zero).
        let (marked, freed) = (self.sticky_marked, self.sticky_freed);
        let useful = self.full.is_some_and(|(full_live, full_threshold)| {
            let headroom = full_threshold.saturating_sub(full_live);
            marked * headroom as f64 <= freed * full_live as f64
        });
        if useful {
            self.backoff = 0;
        } else {
            self.backoff = (self.backoff * 2).clamp(4, 64);
            self.skip_fulls = self.backoff;
            // Sticky collections are judged afresh when they come back.
            self.forget_sticky_record();
        }
        let within_headroom = self.full.is_some_and(|(full_live, full_threshold)| {
            live <= full_live + full_threshold.saturating_sub(full_live) / 2
        });
        self.sticky_next =
            self.sticky && useful && within_headroom && self.sticky_run < MAX_STICKY_RUN;
    }

    /// Whether a sticky collection that found `fresh_live` of the `fresh` bytes live saw a
    /// growing heap, and so moves the threshold (the module comment): the heap also keeps its
    /// survivors then, as a full collection's (`collect/sticky.rs`).
    ///
    /// ```
    /// use gc_core::Pacer;
    /// let mut p = Pacer::new(1.82, 1.4, 1000, usize::MAX, None);
    /// p.after_full(10_000, 9_000); // 9/10 of the old generation live: growing
    /// assert!(p.sticky_measures_growth(4_000, 3_600)); // 9/10 of the fresh bytes live
    /// assert!(!p.sticky_measures_growth(4_000, 1_000));
    /// ```
    pub fn sticky_measures_growth(&self, fresh: usize, fresh_live: usize) -> bool {
        self.growing && mostly_live(fresh_live, fresh) && self.growing_run < GROWING_STICKY_RUN
    }

    /// Drops the usefulness test's record of recent sticky collections.
    fn forget_sticky_record(&mut self) {
        self.sticky_marked = 0.0;
        self.sticky_freed = 0.0;
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
mod tests;
