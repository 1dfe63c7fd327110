//! Heap settings: every knob an operator or embedder can turn.
//!
//! A [`Config`] is built in code with the `with_*` setters (starting from [`Config::default`],
//! which ignores the environment, so tests stay hermetic) or read from `PINION_GC_*`
//! environment variables with [`Config::from_env`] (see the `env` module and
//! `docs/tuning.md`). [`Config::validate`] checks the values together; [`Heap::new`]
//! refuses an invalid configuration.
//!
//! [`Heap::new`]: crate::Heap::new

use std::path::PathBuf;

/// Objects whose total size (header included) is at least this many bytes skip the nursery and
/// are allocated in the large-object space, where they never move.
pub const LARGE_OBJECT_THRESHOLD: usize = 8 * 1024;

/// Default initial nursery size: 4 MiB. The young generation then adapts (see
/// `young_sizing`) between [`DEFAULT_NURSERY_MIN`] and [`DEFAULT_NURSERY_MAX`] unless the
/// size is fixed (`NURSERY`).
pub const DEFAULT_NURSERY_SIZE: usize = 4 * 1024 * 1024;

/// Default lower bound of the adaptive nursery: 512 KiB.
pub const DEFAULT_NURSERY_MIN: usize = 512 * 1024;

/// Default upper bound of the adaptive nursery: 64 MiB (reserved as address space; only what
/// the policy uses is touched).
pub const DEFAULT_NURSERY_MAX: usize = 64 * 1024 * 1024;

/// Default minor-pause goal of the adaptive nursery: 2 ms.
pub const DEFAULT_MINOR_PAUSE: std::time::Duration = std::time::Duration::from_millis(2);

/// Default time a free old-generation page beyond the headroom (or a nursery tail the sizing
/// policy no longer uses) stays committed before it goes back to the OS: 1 s.
pub const DEFAULT_RELEASE_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Default `MIN`: no automatic major collection while the old generation is below 32 MiB.
pub const DEFAULT_MIN_MAJOR: usize = 32 * 1024 * 1024;

/// The smallest nursery: 256 bytes (smaller sizes are refused by [`Config::validate`]).
pub const MIN_NURSERY_SIZE: usize = 256;

/// The largest nursery: 1 TiB (larger sizes are refused by [`Config::validate`]).
pub const MAX_NURSERY_SIZE: usize = 1 << 40;

/// Default major-collection factor (PyPy's `MAJOR_COLLECT`).
pub const DEFAULT_MAJOR_COLLECT: f64 = 1.82;

/// Default cap on the threshold's growth from one major collection to the next.
pub const DEFAULT_GROWTH: f64 = 1.4;

/// Settings of one heap.
///
/// ```
/// use gc_core::{Config, Heap};
/// let config = Config::default()
///     .with_nursery_size(64 * 1024)
///     .with_stress(Some(100))
///     .with_max_heap(Some(64 << 20))
///     .with_debug_level(2);
/// let heap = Heap::new(config).unwrap();
/// assert_eq!(heap.config().nursery_size(), 64 * 1024);
/// assert!(Config::default().with_major_collect(0.5).validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub(crate) nursery_size: usize,
    /// `NURSERY` given: the size never adapts.
    pub(crate) nursery_fixed: bool,
    pub(crate) nursery_min: Option<usize>,
    pub(crate) nursery_max: Option<usize>,
    pub(crate) minor_pause: std::time::Duration,
    pub(crate) release_after: std::time::Duration,
    pub(crate) nursery_debug: bool,
    pub(crate) major_collect: f64,
    pub(crate) growth: f64,
    pub(crate) min_major: Option<usize>,
    pub(crate) max_heap: Option<usize>,
    pub(crate) max_delta: Option<usize>,
    pub(crate) max_pinned: Option<usize>,
    pub(crate) debug_level: u8,
    pub(crate) stress: Option<u32>,
    pub(crate) trace: bool,
    pub(crate) log: Option<PathBuf>,
    pub(crate) sticky: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            nursery_size: DEFAULT_NURSERY_SIZE,
            nursery_fixed: false,
            nursery_min: None,
            nursery_max: None,
            minor_pause: DEFAULT_MINOR_PAUSE,
            release_after: DEFAULT_RELEASE_AFTER,
            nursery_debug: false,
            major_collect: DEFAULT_MAJOR_COLLECT,
            growth: DEFAULT_GROWTH,
            min_major: None,
            max_heap: None,
            max_delta: None,
            max_pinned: None,
            debug_level: 0,
            stress: None,
            trace: false,
            log: None,
            sticky: true,
        }
    }
}

/// A configuration value outside its allowed range, or two that contradict each other.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct InvalidSetting {
    /// The setting (its environment-variable suffix, such as `MAJOR_COLLECT`).
    pub setting: &'static str,
    /// What is wrong.
    pub problem: String,
}

impl Config {
    /// A fixed nursery of this many bytes (`NURSERY`; by default the nursery starts at 4 MiB
    /// and adapts), from [`MIN_NURSERY_SIZE`] (256 bytes) to [`MAX_NURSERY_SIZE`] (1 TiB):
    /// [`Config::validate`] refuses anything else. Sizes below a few kilobytes mean "collect
    /// almost every allocation"; objects larger than the nursery go straight to the old
    /// generation. A fixed size turns the adaptive policy off, so it cannot be combined with
    /// [`Config::with_nursery_bounds`].
    pub fn with_nursery_size(mut self, bytes: usize) -> Self {
        self.nursery_size = bytes;
        self.nursery_fixed = true;
        self
    }

    /// Bounds of the adaptive nursery (`NURSERY_MIN`, default 512 KiB, and `NURSERY_MAX`,
    /// default 64 MiB); `None` keeps a bound's default. The nursery starts at 4 MiB (clamped
    /// into the bounds) and reserves `NURSERY_MAX` of address space.
    ///
    /// ```
    /// use gc_core::Config;
    /// let c = Config::default().with_nursery_bounds(Some(1 << 20), Some(16 << 20));
    /// assert_eq!((c.nursery_min(), c.nursery_max()), (1 << 20, 16 << 20));
    /// assert!(c.nursery_adaptive());
    /// assert!(c.with_nursery_size(1 << 20).validate().is_err()); // fixed and bounded
    /// ```
    pub fn with_nursery_bounds(mut self, min: Option<usize>, max: Option<usize>) -> Self {
        self.nursery_min = min.or(self.nursery_min);
        self.nursery_max = max.or(self.nursery_max);
        self
    }

    /// The minor-pause goal of the adaptive nursery (`MINOR_PAUSE`, default 2 ms): the nursery
    /// shrinks when copying its survivors takes longer, and grows only while the predicted
    /// pause stays under it. Zero removes the goal (the nursery then grows to its memory bound).
    pub fn with_minor_pause(mut self, goal: std::time::Duration) -> Self {
        self.minor_pause = goal;
        self
    }

    /// How long a free old-generation page beyond the headroom, or a nursery tail the sizing
    /// policy no longer uses, stays committed before it goes back to the OS (`RELEASE_AFTER`,
    /// default 1 s; zero releases at once). Pages the old generation will refill before its
    /// next major collection are always kept (see `docs/tuning.md`).
    pub fn with_release_after(mut self, after: std::time::Duration) -> Self {
        self.release_after = after;
        self
    }

    /// Fill the nursery with a poison pattern after every minor collection (`NURSERY_DEBUG`,
    /// default off), so a stale reference into it reads garbage the verifier recognises.
    pub fn with_nursery_debug(mut self, on: bool) -> Self {
        self.nursery_debug = on;
        self
    }

    /// Start a major collection when the old generation reaches this factor times the bytes
    /// that survived the last one (`MAJOR_COLLECT`, default 1.82). `0` is *threshold-zero*:
    /// no automatic major collection, which [`Heap::enable`](crate::Heap::enable) does not
    /// undo. Values in (0, 1] are invalid.
    pub fn with_major_collect(mut self, factor: f64) -> Self {
        self.major_collect = factor;
        self
    }

    /// The threshold grows by at most this factor from one major collection to the next
    /// (`GROWTH`, default 1.4; must be above 1).
    pub fn with_growth(mut self, factor: f64) -> Self {
        self.growth = factor;
        self
    }

    /// No automatic major collection while the old generation is below this many bytes
    /// (`MIN`, default 32 MiB, whatever the nursery's size).
    pub fn with_min_major(mut self, bytes: usize) -> Self {
        self.min_major = Some(bytes);
        self
    }

    /// Hard limit on the heap: nursery + old generation + large objects (`MAX`, default
    /// none). It holds even with automatic major collections disabled.
    pub fn with_max_heap(mut self, bytes: Option<usize>) -> Self {
        self.max_heap = bytes;
        self
    }

    /// The threshold is at most the live bytes plus this (`MAX_DELTA`, default 1/8 of
    /// physical memory).
    pub fn with_max_delta(mut self, bytes: usize) -> Self {
        self.max_delta = Some(bytes);
        self
    }

    /// Most nursery objects pinned at once (`MAX_PINNED`, default
    /// `max(1, nursery / (2 × LARGE_OBJECT_THRESHOLD))`); `0` disables pinning.
    pub fn with_max_pinned(mut self, count: usize) -> Self {
        self.max_pinned = Some(count);
        self
    }

    /// Force a minor collection every `n` allocations (`STRESS`, default off).
    pub fn with_stress(mut self, every: Option<u32>) -> Self {
        self.stress = every.filter(|&n| n > 0);
        self
    }

    /// The heap verifier after collections (`DEBUG`): `0` off (default); `1` the full verifier
    /// after each major collection; `2` also the young verifier after each minor one (its cost
    /// is proportional to the young generation, the remembered set and the roots); `3` the full
    /// verifier after every collection (proportional to the whole heap each time: quadratic
    /// under `STRESS=1`). A violation panics with the verifier's report.
    pub fn with_debug_level(mut self, level: u8) -> Self {
        self.debug_level = level.min(3);
        self
    }

    /// Whether automatic major collections may be *sticky* (`STICKY`, default on): mark only
    /// what reached the old generation since the last full major collection, keeping the
    /// objects that one found live, and reclaim those only at the next full one (see
    /// `docs/tuning.md`, "Sticky major collections"). Off, every major collection marks the
    /// whole heap. Explicit ones ([`crate::Heap::collect_major`]) are always full.
    ///
    /// ```
    /// use gc_core::Config;
    /// assert!(Config::default().sticky());
    /// assert!(!Config::default().with_sticky(false).sticky());
    /// ```
    pub fn with_sticky(mut self, on: bool) -> Self {
        self.sticky = on;
        self
    }

    /// Whether automatic major collections may be sticky ([`Config::with_sticky`]).
    pub fn sticky(&self) -> bool {
        self.sticky
    }

    /// One line per collection on stderr (`TRACE`; used by the hooks layer).
    pub fn with_trace(mut self, on: bool) -> Self {
        self.trace = on;
        self
    }

    /// Append one JSON object per collection event to this file (`LOG`; used by the hooks
    /// layer).
    pub fn with_log(mut self, path: Option<PathBuf>) -> Self {
        self.log = path;
        self
    }

    /// The nursery size in bytes: fixed, or the adaptive nursery's initial size (clamped into
    /// its bounds).
    pub fn nursery_size(&self) -> usize {
        if self.nursery_fixed {
            self.nursery_size
        } else {
            self.nursery_size.clamp(
                self.nursery_min(),
                self.nursery_max().max(self.nursery_min()),
            )
        }
    }

    /// Whether the nursery adapts (no fixed `NURSERY`).
    pub fn nursery_adaptive(&self) -> bool {
        !self.nursery_fixed
    }

    /// The adaptive nursery's lower bound.
    pub fn nursery_min(&self) -> usize {
        self.nursery_min.unwrap_or(DEFAULT_NURSERY_MIN)
    }

    /// The adaptive nursery's upper bound: `NURSERY_MAX`, or by default 64 MiB (under Miri,
    /// where every reserved byte is real memory, the initial 4 MiB), raised to `NURSERY_MIN`
    /// when only that is given above it.
    pub fn nursery_max(&self) -> usize {
        let default = if cfg!(miri) {
            DEFAULT_NURSERY_SIZE
        } else {
            DEFAULT_NURSERY_MAX
        };
        self.nursery_max
            .unwrap_or_else(|| default.max(self.nursery_min()))
    }

    /// The minor-pause goal.
    pub fn minor_pause(&self) -> std::time::Duration {
        self.minor_pause
    }

    /// How long a free page stays committed.
    pub fn release_after(&self) -> std::time::Duration {
        self.release_after
    }

    /// The young generation's sizing policy for this configuration.
    pub fn young_sizing(&self) -> crate::YoungSizing {
        if self.nursery_fixed {
            crate::YoungSizing::fixed(self.nursery_size)
        } else {
            crate::YoungSizing::adaptive(
                self.nursery_size(),
                self.nursery_min(),
                self.nursery_max(),
                self.minor_pause.as_secs_f64(),
            )
        }
    }

    /// Whether the nursery is poisoned after minor collections.
    pub fn nursery_debug(&self) -> bool {
        self.nursery_debug
    }

    /// The major-collection factor (`0` is threshold-zero).
    pub fn major_collect(&self) -> f64 {
        self.major_collect
    }

    /// The threshold's growth cap.
    pub fn growth(&self) -> f64 {
        self.growth
    }

    /// Old-generation size below which no automatic major collection runs.
    pub fn min_major(&self) -> usize {
        self.min_major.unwrap_or(DEFAULT_MIN_MAJOR)
    }

    /// The hard heap limit, if any.
    pub fn max_heap(&self) -> Option<usize> {
        self.max_heap
    }

    /// The cap on the threshold above the live bytes.
    pub fn max_delta(&self) -> usize {
        self.max_delta
            .unwrap_or_else(|| crate::env::physical_memory() / 8)
    }

    /// Most nursery objects pinned at once.
    pub fn max_pinned(&self) -> usize {
        self.max_pinned
            .unwrap_or_else(|| (self.nursery_size / (2 * LARGE_OBJECT_THRESHOLD)).max(1))
    }

    /// Stress mode: a minor collection every this many allocations.
    pub fn stress(&self) -> Option<u32> {
        self.stress
    }

    /// Verifier level.
    pub fn debug_level(&self) -> u8 {
        self.debug_level
    }

    /// Whether one trace line per collection goes to stderr.
    pub fn trace(&self) -> bool {
        self.trace
    }

    /// The JSON-lines event log, if any.
    pub fn log(&self) -> Option<&std::path::Path> {
        self.log.as_deref()
    }

    /// Checks every value and their combinations.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        if !(MIN_NURSERY_SIZE..=MAX_NURSERY_SIZE).contains(&self.nursery_size) {
            return Err(InvalidSetting {
                setting: "NURSERY",
                problem: format!(
                    "a nursery of {} bytes is outside the accepted range, {MIN_NURSERY_SIZE} \
                     bytes to 1 TiB ({MAX_NURSERY_SIZE} bytes)",
                    self.nursery_size
                ),
            });
        }
        if self.nursery_fixed && (self.nursery_min.is_some() || self.nursery_max.is_some()) {
            return Err(InvalidSetting {
                setting: "NURSERY",
                problem: "NURSERY fixes the nursery's size, while NURSERY_MIN and NURSERY_MAX \
                          bound an adaptive one: set one or the other"
                    .into(),
            });
        }
        if !self.nursery_fixed {
            let (min, max) = (self.nursery_min(), self.nursery_max());
            for (setting, bytes) in [("NURSERY_MIN", min), ("NURSERY_MAX", max)] {
                if !(MIN_NURSERY_SIZE..=MAX_NURSERY_SIZE).contains(&bytes) {
                    return Err(InvalidSetting {
                        setting,
                        problem: format!(
                            "{bytes} bytes is outside the accepted range, {MIN_NURSERY_SIZE} \
                             bytes to 1 TiB"
                        ),
                    });
                }
            }
            if min > max {
                return Err(InvalidSetting {
                    setting: "NURSERY_MIN",
                    problem: format!(
                        "the lower bound ({min} bytes) is above NURSERY_MAX ({max} bytes)"
                    ),
                });
            }
        }
        let f = self.major_collect;
        if !(f == 0.0 || f > 1.0 && f.is_finite()) {
            return Err(InvalidSetting {
                setting: "MAJOR_COLLECT",
                problem: format!("{f} is neither 0 (threshold-zero) nor a factor above 1"),
            });
        }
        if !(self.growth > 1.0 && self.growth.is_finite()) {
            return Err(InvalidSetting {
                setting: "GROWTH",
                problem: format!("{} is not a factor above 1", self.growth),
            });
        }
        if let Some(max) = self.max_heap {
            // An adaptive nursery shrinks to fit under the limit, down to its lower bound.
            let (nursery, name) = if self.nursery_fixed {
                (self.nursery_size, "NURSERY")
            } else {
                (self.nursery_min(), "NURSERY_MIN")
            };
            if max <= nursery {
                return Err(InvalidSetting {
                    setting: "MAX",
                    problem: format!(
                        "the heap limit ({max} bytes) must be larger than the nursery \
                         ({name}, {nursery} bytes), which counts against it; raise MAX or \
                         lower {name} (see docs/tuning.md for how much room promotion needs)"
                    ),
                });
            }
        }
        Ok(())
    }
}
