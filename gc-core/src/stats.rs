//! Heap statistics: one struct that later features extend rather than reinvent.

use std::time::Duration;

/// Pause times of one kind of collection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PauseStats {
    /// Collections measured.
    pub count: u64,
    /// Sum of their pauses.
    pub total: Duration,
    /// Longest pause.
    pub max: Duration,
    /// Most recent pause.
    pub last: Duration,
}

impl PauseStats {
    pub(crate) fn record(&mut self, pause: Duration) {
        self.count += 1;
        self.total += pause;
        self.max = self.max.max(pause);
        self.last = pause;
    }

    /// Mean pause, zero when nothing was measured.
    pub fn mean(&self) -> Duration {
        if self.count == 0 {
            Duration::ZERO
        } else {
            self.total / self.count as u32
        }
    }
}

/// A snapshot of one heap's counters, from [`Heap::stats`](crate::Heap::stats).
///
/// ```
/// # use gc_core::{Config, Heap};
/// let mut heap = Heap::new(Config::default()).unwrap();
/// heap.scope(|s| { s.alloc(42u64).unwrap(); });
/// heap.collect_minor();
/// let stats = heap.stats();
/// assert_eq!(stats.minor_collections, 1);
/// assert!(stats.bytes_allocated >= 16);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeapStats {
    /// Minor collections run (including the one that opens every major collection).
    pub minor_collections: u64,
    /// Major collections run (full and sticky).
    pub major_collections: u64,
    /// Sticky major collections among them (`collect/major.rs`: they mark only what reached
    /// the old generation since the previous major collection).
    pub sticky_major_collections: u64,
    /// Bytes allocated since the heap was created (headers included, rounded to 8).
    pub bytes_allocated: u64,
    /// Objects allocated since the heap was created (in the nursery, born old, large, and the
    /// storage of growable collections, each growth included).
    pub objects_allocated: u64,
    /// Bytes copied from the nursery into the old generation.
    pub bytes_promoted: u64,
    /// Objects copied from the nursery into the old generation.
    pub objects_promoted: u64,
    /// Old-generation bytes (small-object slots plus large objects) live after the last major
    /// collection (after a sticky one, what it kept from the last full one included, some of
    /// which may have died since).
    pub live_bytes_after_major: usize,
    /// Bytes of small-object slots in use in the old generation now.
    pub old_bytes: usize,
    /// Bytes of large objects now (young and old).
    pub large_object_bytes: usize,
    /// Old-generation arenas mapped now.
    pub arenas: usize,
    /// Large objects now (young and old).
    pub large_objects: usize,
    /// Bytes of heap mappings counted against the heap limit: the nursery, the committed
    /// pages of the old generation's arenas, the large objects (side tables and the mutator's
    /// vectors are not counted). `MAX` bounds it.
    pub committed_bytes: usize,
    /// Bytes of the nursery in use now.
    pub nursery_used: usize,
    /// The nursery's current size: what the young generation's sizing policy chose, clipped
    /// under a heap limit.
    pub nursery_size: usize,
    /// The old-generation size at which the next automatic major collection starts.
    pub major_threshold: usize,
    /// Bytes of small objects allocated straight into the old generation because no nursery
    /// gap could hold them (the nursery full of pinned objects, gaps too small, a nursery shrunk
    /// by the heap limit, or an object larger than the nursery).
    pub bytes_bypassing_nursery: u64,
    /// Objects whose drop glue ran.
    pub objects_dropped: u64,
    /// Destructors that panicked (the panic was caught and discarded).
    pub drop_panics: u64,
    /// Pinning: current pins, cumulative pins and refusals, fragmentation.
    pub pinning: crate::pin::PinStats,
    /// Bytes of old-generation pages given back to the OS so far.
    pub bytes_returned: u64,
    /// Bytes of frozen (sealed) objects.
    pub frozen_bytes: usize,
    /// Memory the embedder declared outside the heap (`add_memory_pressure`).
    pub memory_pressure: usize,
    /// Weak references that exist now.
    pub weak_refs: usize,
    /// Persistent roots that exist now (dropped ones count until the next collection or
    /// persistent-root operation).
    pub persistent_roots: usize,
    /// Objects with an identity hash now.
    pub hashed_objects: usize,
    /// Count, median, 99th percentile and maximum of all pauses (minor and major), from a
    /// fixed-size histogram.
    pub pauses: gc_hooks::PauseSummary,
    /// Minor-collection pauses.
    pub minor_pause: PauseStats,
    /// Count, median, 99th percentile and maximum of minor pauses alone, from a fixed-size
    /// histogram (the figure the young generation's pause goal is about).
    pub minor_pauses: gc_hooks::PauseSummary,
    /// Major-collection pauses (including the minor collection each starts with).
    pub major_pause: PauseStats,
}
