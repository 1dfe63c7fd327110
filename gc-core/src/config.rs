//! Heap settings.
//!
//! A [`Config`] is built in code with the `with_*` setters; every setting has the default
//! documented on its setter. (Reading `PINION_GC_*` environment variables comes with the
//! configuration layer; the names below already match those variables.)

/// Objects whose total size (header included) is at least this many bytes skip the nursery and
/// are allocated in the large-object space, where they never move.
pub const LARGE_OBJECT_THRESHOLD: usize = 8 * 1024;

/// Default nursery size: 4 MiB, fixed so that results are comparable across machines.
pub const DEFAULT_NURSERY_SIZE: usize = 4 * 1024 * 1024;

/// Default major-collection factor (PyPy's `MAJOR_COLLECT`).
pub const DEFAULT_MAJOR_COLLECT: f64 = 1.82;

/// Settings of one heap.
///
/// ```
/// use gc_core::{Config, Heap};
/// let config = Config::default()
///     .with_nursery_size(64 * 1024)
///     .with_stress(Some(100))
///     .with_debug_level(2);
/// let heap = Heap::new(config).unwrap();
/// assert_eq!(heap.config().nursery_size(), 64 * 1024);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    nursery_size: usize,
    nursery_debug: bool,
    major_collect: f64,
    min_major: Option<usize>,
    stress: Option<u32>,
    debug_level: u8,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            nursery_size: DEFAULT_NURSERY_SIZE,
            nursery_debug: false,
            major_collect: DEFAULT_MAJOR_COLLECT,
            min_major: None,
            stress: None,
            debug_level: 0,
        }
    }
}

impl Config {
    /// Nursery size in bytes (default 4 MiB). Values below a few kilobytes are allowed and mean
    /// "collect almost every allocation"; objects larger than the nursery go straight to the
    /// old generation.
    pub fn with_nursery_size(mut self, bytes: usize) -> Self {
        self.nursery_size = bytes.max(crate::object::OBJECT_ALIGN * 4);
        self
    }

    /// Fill the nursery with a poison pattern after every minor collection (default off), so a
    /// stale reference into it reads garbage that the verifier recognises.
    pub fn with_nursery_debug(mut self, on: bool) -> Self {
        self.nursery_debug = on;
        self
    }

    /// Start a major collection when the old generation reaches this factor times the bytes
    /// that survived the last one (default 1.82).
    pub fn with_major_collect(mut self, factor: f64) -> Self {
        self.major_collect = factor;
        self
    }

    /// No automatic major collection while the old generation is below this many bytes
    /// (default: 8 × the nursery size).
    pub fn with_min_major(mut self, bytes: usize) -> Self {
        self.min_major = Some(bytes);
        self
    }

    /// Force a minor collection every `n` allocations (`None`, the default, is off).
    pub fn with_stress(mut self, every: Option<u32>) -> Self {
        self.stress = every.filter(|&n| n > 0);
        self
    }

    /// `0` off (default); `1` run the heap verifier after each major collection; `2` also after
    /// each minor one. A violation panics with the verifier's report.
    pub fn with_debug_level(mut self, level: u8) -> Self {
        self.debug_level = level.min(2);
        self
    }

    /// The nursery size in bytes.
    pub fn nursery_size(&self) -> usize {
        self.nursery_size
    }

    /// Whether the nursery is poisoned after minor collections.
    pub fn nursery_debug(&self) -> bool {
        self.nursery_debug
    }

    /// The major-collection factor.
    pub fn major_collect(&self) -> f64 {
        self.major_collect
    }

    /// Old-generation size below which no automatic major collection runs.
    pub fn min_major(&self) -> usize {
        self.min_major.unwrap_or(8 * self.nursery_size)
    }

    /// Stress mode: a minor collection every this many allocations.
    pub fn stress(&self) -> Option<u32> {
        self.stress
    }

    /// Verifier level.
    pub fn debug_level(&self) -> u8 {
        self.debug_level
    }
}
