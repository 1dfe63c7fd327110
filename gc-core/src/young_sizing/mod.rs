//! How large the young generation should be: a pure policy, like the pacer.
//!
//! A bigger nursery makes minor collections rarer and gives objects longer to die before they
//! are copied, so it cuts the collector's work on programs whose young objects die young. It
//! also makes each minor collection copy more where they do not (a pause grows with what
//! survives, not with the nursery), and it costs memory. The policy weighs the three, as
//! HotSpot's adaptive size policy does, from figures the heap measures at every minor
//! collection: the bytes allocated since the last one, the bytes that survived it, and how
//! long it took.
//!
//! **Model.** A minor pause is a fixed part (roots, remembered set, bookkeeping) plus a part
//! proportional to the bytes that survive: `pause ≈ fixed + cost × survived`. The policy fits
//! that line to the collections seen, by least squares with slowly decaying weights
//! ([`fit::PauseFit`], [`fit::FIT_WEIGHT`]): the line is identified once the survivors' sizes vary by a
//! good share of their mean ([`fit::IDENTIFYING_SPREAD`]; they do as the nursery changes size, and a
//! slope read from sizes that barely differ is mostly the pauses' noise); until then, a collection that copied enough is assumed to be all copying (so
//! a pause over the goal shrinks the nursery, and the next, smaller collection tells the two
//! parts apart), and one that copied little all fixed part. It also keeps a decaying average
//! of the survival rate (`survived / allocated`). A nursery of `n` bytes is then predicted to
//! pause `fixed + cost × survival × n`, where `survival` is the average or, when higher, the
//! last collection's rate (so a rise in survival shrinks the nursery at once, while a fall
//! grows it only as the average follows).
//!
//! **Rules**, applied after every minor collection:
//!
//! ```text
//! by_pause = the largest n whose predicted pause is at most GOAL × 0.8   (a safety margin;
//!            when the fixed part alone is above that, the largest n whose copying takes at
//!            most 2 × the fixed part: no size meets the goal then, a smaller nursery would
//!            only pay the fixed part more often, and so it is kept to a third of each pause)
//! by_heap  = max(MIN, live old generation × 1/2)  (memory: young at most a third of the
//!                                                 heap; live is what the last major collection
//!                                                 found, and until one has run, the nursery stays
//!                                                 within its initial size)
//! target   = clamp(min(by_pause, by_heap), MIN, MAX)
//! next     = min(target, size × 2)   when growing (one doubling per collection at most)
//!            target                  when shrinking (at once: the goal is being missed)
//! share    < SHARE_GOAL (1%):        next is at most size (no growth)
//! share    < SHARE_GOAL / 2:         next is at most max(size / 2, initial) (memory and
//!                                    locality given back, one halving per collection)
//! ```
//!
//! **Growth must pay.** A larger nursery saves collector work (fewer collections, fewer
//! premature promotions) but costs memory and locality: allocation walks more memory before it
//! comes back to lines still in cache, and a nursery past the cache makes every allocation a
//! miss. So, like HotSpot's throughput goal (`GCTimeRatio`), growth stops while collections
//! (minor and major, measured between two minor collections: `share`, a decaying average) take
//! under 1% of the time, since growing could save at most that; and below half of that, a
//! nursery grown earlier (in a phase that needed it) halves back towards its initial size, as
//! HotSpot's policy shrinks for footprint once its goals are met. binary-trees' short-lived
//! trees, where nothing survives, took 14-22% less time in a 4 MB nursery than in the 46 MB
//! one the pause goal alone allowed.
//!
//! A fixed nursery (`PINION_GC_NURSERY`, `Config::with_nursery_size`) turns the policy off.
//! The policy knows nothing about any workload: its only inputs are these figures, and its pure
//! tests below simulate programs by feeding it figures.
//!
//! Invariants: `MIN <= size <= MAX`; `size` is a multiple of [`GRAIN`]; a fixed policy's size
//! never changes.

mod fit;

use fit::PauseFit;

/// Sizes are multiples of this (the OS page size, so a shrunken tail can be given back).
pub const GRAIN: usize = 4096;

/// The share of the goal the predicted pause may use: the rest absorbs noise.
const SAFETY: f64 = 0.8;

/// When the fixed part alone misses the goal, copying may take this many times as long as it
/// (the fixed part is then a third of each pause, and of the collector's time).
const UNREACHABLE_COPYING: f64 = 2.0;

/// Below this share of the time spent collecting, the nursery does not grow (HotSpot's default
/// throughput goal, `GCTimeRatio=99`).
const SHARE_GOAL: f64 = 0.01;

/// Weight of the newest figure in the decaying averages of survival and of the time share.
const WEIGHT: f64 = 0.3;

/// The young generation's sizing policy.
///
/// ```
/// use gc_core::YoungSizing;
/// // Between 1 MB and 64 MB, starting at 4 MB, with a 2 ms pause goal.
/// let mut policy = YoungSizing::adaptive(4 << 20, 1 << 20, 64 << 20, 0.002);
/// // Little survives, the pause is short and the heap is large: the nursery doubles.
/// // (collections took 5% of the time since the last one: growing may pay)
/// policy.after_minor(4 << 20, 40 << 10, 0.000_2, Some(0.05), Some(256 << 20));
/// assert_eq!(policy.size(), 8 << 20);
/// // Where collections take 0.1% of the time, growing could save no more: the size holds.
/// let mut quiet = YoungSizing::adaptive(4 << 20, 1 << 20, 64 << 20, 0.002);
/// quiet.after_minor(4 << 20, 40 << 10, 0.000_2, Some(0.001), Some(256 << 20));
/// assert_eq!(quiet.size(), 4 << 20);
/// // A fixed nursery never changes.
/// let mut fixed = YoungSizing::fixed(4 << 20);
/// fixed.after_minor(4 << 20, 4 << 20, 0.5, None, None);
/// assert_eq!(fixed.size(), 4 << 20);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct YoungSizing {
    size: usize,
    /// The size the policy started at: the memory bound until the live size is known.
    initial: usize,
    min: usize,
    max: usize,
    /// Seconds; zero (or a fixed policy) means no pause goal.
    goal: f64,
    adaptive: bool,
    /// Decaying average of `survived / allocated`.
    survival: Option<f64>,
    /// The last collection's `survived / allocated`.
    last_survival: f64,
    /// Decaying average of the share of the time spent collecting (`None`: not measured).
    share: Option<f64>,
    /// The pause model fitted so far.
    fit: PauseFit,
}

impl YoungSizing {
    /// A nursery of `bytes` that never changes size.
    pub fn fixed(bytes: usize) -> YoungSizing {
        YoungSizing {
            size: bytes,
            initial: bytes,
            min: bytes,
            max: bytes,
            goal: 0.0,
            adaptive: false,
            survival: None,
            last_survival: 0.0,
            share: None,
            fit: PauseFit::default(),
        }
    }

    /// A nursery starting at `initial` bytes that adapts between `min` and `max` to keep minor
    /// pauses under `goal_seconds` (zero: no pause goal, only the memory bound). The bounds
    /// are rounded to pages (`GRAIN`, 4 KiB); `initial` is clamped into them.
    pub fn adaptive(initial: usize, min: usize, max: usize, goal_seconds: f64) -> YoungSizing {
        let min = round_up(min.max(GRAIN));
        let max = round_up(max).max(min);
        let initial = round_up(initial).clamp(min, max);
        YoungSizing {
            size: initial,
            initial,
            min,
            max,
            goal: goal_seconds.max(0.0),
            adaptive: true,
            survival: None,
            last_survival: 0.0,
            share: None,
            fit: PauseFit::default(),
        }
    }

    /// The nursery size the policy wants now.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The largest size the policy may choose (what the nursery reserves).
    pub fn max(&self) -> usize {
        self.max
    }

    /// Whether the size adapts.
    pub fn is_adaptive(&self) -> bool {
        self.adaptive
    }

    /// The predicted pause of a minor collection of a nursery of `bytes`, in seconds, from the
    /// figures seen so far (`None` before the first collection).
    pub fn predicted_pause(&self, bytes: usize) -> Option<f64> {
        let survival = self.survival_estimate()?;
        let (fixed, cost) = self.fit.line()?;
        Some(fixed + cost * survival * bytes as f64)
    }

    /// Records a minor collection after `allocated` bytes, of which `survived` were copied or
    /// kept, that took `pause_seconds`; `collector_share` is the share of the time since the
    /// previous minor collection that collections took, this one included (`None` when not
    /// measured, as for the first); `old_live` is what the last major collection found live in
    /// the old generation (`None` before the first). Returns the next size.
    pub fn after_minor(
        &mut self,
        allocated: usize,
        survived: usize,
        pause_seconds: f64,
        collector_share: Option<f64>,
        old_live: Option<usize>,
    ) -> usize {
        if !self.adaptive || allocated == 0 {
            return self.size;
        }
        let survived = survived.min(allocated);
        let pause = pause_seconds.max(0.0);
        let rate = survived as f64 / allocated as f64;
        self.survival = Some(decay(self.survival, rate));
        self.last_survival = rate;
        if let Some(share) = collector_share.filter(|s| s.is_finite()) {
            self.share = Some(decay(self.share, share.clamp(0.0, 1.0)));
        }
        self.fit.add(survived as f64, pause);
        let target = self.target(old_live);
        let next = if target > self.size {
            target.min(self.size.saturating_mul(2))
        } else {
            target
        };
        // Growth must pay (see the module comment): while collecting takes under the goal's
        // share of the time, the nursery does not grow, and well under it, a nursery above its
        // initial size gives memory and locality back, one halving per collection.
        self.size = match self.share {
            Some(share) if share < SHARE_GOAL / 2.0 && self.size > self.initial => {
                next.min(round_down(self.size / 2).max(self.initial))
            }
            Some(share) if share < SHARE_GOAL => next.min(self.size),
            _ => next,
        };
        self.size
    }

    /// The survival rate predictions use: the average, or the last collection's when higher
    /// (survival rising means pauses about to miss the goal, so shrinking reacts at once, while
    /// growing waits for the average to come down).
    fn survival_estimate(&self) -> Option<f64> {
        Some(self.survival?.max(self.last_survival))
    }

    /// Records a major collection after which the old generation holds `old_bytes`: a
    /// nursery above the memory bound shrinks to it at once; returns the next size.
    pub fn after_major(&mut self, old_bytes: usize) -> usize {
        if self.adaptive {
            let bound = round_down((old_bytes / 2).max(self.min)).clamp(self.min, self.max);
            self.size = self.size.min(bound);
        }
        self.size
    }

    /// The size the figures call for, before the growth limit.
    fn target(&self, old_live: Option<usize>) -> usize {
        let by_heap = old_live.map_or(self.initial, |live| (live / 2).max(self.min));
        let by_pause = match self.fit.line() {
            Some((fixed, cost)) if self.goal > 0.0 => {
                // When the fixed part alone misses the goal (a large remembered set rescanned
                // at every collection), no nursery size meets it, and a smaller one would only
                // pay that part more often: the nursery is then sized for the fixed part to be
                // a third of each pause.
                let budget = (self.goal * SAFETY - fixed).max(fixed * UNREACHABLE_COPYING);
                let per_byte = cost * self.survival_estimate().unwrap_or(0.0);
                if budget <= 0.0 {
                    self.min
                } else if per_byte <= 0.0 {
                    self.max
                } else {
                    (budget / per_byte).min(self.max as f64) as usize
                }
            }
            _ => self.max,
        };
        round_down(by_pause.min(by_heap)).clamp(self.min, self.max)
    }
}

fn decay(average: Option<f64>, sample: f64) -> f64 {
    match average {
        Some(a) => a + WEIGHT * (sample - a),
        None => sample,
    }
}

fn round_up(bytes: usize) -> usize {
    bytes.div_ceil(GRAIN).saturating_mul(GRAIN)
}

fn round_down(bytes: usize) -> usize {
    bytes / GRAIN * GRAIN
}

#[cfg(test)]
mod tests;
