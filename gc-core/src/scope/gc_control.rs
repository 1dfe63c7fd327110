//! Collections, statistics, freezing and verification, asked for through a scope (hooks are
//! delivered after a collection, outside it).

use super::*;

impl<'s> Scope<'s> {
    /// Runs a minor collection now (then delivers the hooks).
    pub fn collect_minor(&mut self) {
        self.heap.collect_minor();
        if self.heap.recorder.has_pending() {
            self.deliver_hooks();
        }
    }

    /// Runs a complete major collection now (then delivers the hooks).
    pub fn collect_major(&mut self) {
        self.heap.collect_major();
        if self.heap.recorder.has_pending() {
            self.deliver_hooks();
        }
    }

    /// Collections run so far (minor plus major): a cheap way to notice that an allocation
    /// collected.
    #[inline]
    pub fn collection_count(&self) -> u64 {
        self.heap.stats.minor_collections + self.heap.stats.major_collections
    }

    /// Freezes the heap while this scope's handles are live (see
    /// [`Heap::freeze`](crate::Heap::freeze)).
    pub fn freeze(&mut self) {
        self.heap.freeze();
    }

    /// Whether the object is frozen (sealed by [`Scope::freeze`]: never moved or freed until
    /// [`Scope::unfreeze`]).
    pub fn is_frozen<T: ?Sized>(&self, h: Handle<'_, T>) -> bool {
        // SAFETY: a resolved handle refers to a live, unforwarded object of this heap.
        self.resolve(h)
            .is_ok_and(|obj| unsafe { self.heap.is_frozen(obj) })
    }

    /// A checksum of every page of the sealed arenas, by page address (for tests).
    #[doc(hidden)]
    pub fn sealed_page_checksums(&self) -> Vec<(usize, u64)> {
        self.heap.old.sealed_page_checksums()
    }

    /// Returns the frozen memory to normal collection.
    pub fn unfreeze(&mut self) {
        self.heap.unfreeze();
    }

    /// The heap's statistics.
    pub fn stats(&self) -> HeapStats {
        self.heap.snapshot_stats()
    }

    /// Runs the heap verifier.
    pub fn verify(&mut self) -> VerifyReport {
        self.heap.verify()
    }

    /// The id of this scope's heap.
    pub fn heap_id(&self) -> u32 {
        self.heap.id.get()
    }
}
