//! Freezing: after a complete major collection, every old-generation arena and large object is
//! sealed, so that later collections neither mark, sweep, nor write into them, and a forked
//! child shares their pages with its parent (`Heap::freeze`). A frozen object the program
//! stores into, or an old parent of a pinned young object, becomes a root of every later
//! collection (`frozen_dirty`), since nothing marks through the sealed objects.
//!
//! Invariants (with `heap/mod.rs`): `frozen` is set exactly between `freeze` and `unfreeze`;
//! while it is, `frozen_dirty` lists, once each, every frozen object written since the freeze
//! or remembered at it, so that every frozen object that refers to an object not frozen is
//! listed (the verifier checks this consequence); and the barrier filter admits every address,
//! so that a store into a frozen object not yet listed (it has `TRACK_YOUNG`: only the slow
//! path, which lists it, clears that bit) reaches the barrier's slow path (`store.rs`).

use super::HeapInner;
use crate::object::{HeaderFlags, ObjPtr};

impl HeapInner {
    /// Whether `obj` was sealed by `freeze` (it is never marked, swept or moved).
    ///
    /// # Safety
    /// `obj` is a live, unforwarded object of this heap.
    #[inline]
    pub(crate) unsafe fn is_frozen(&self, obj: ObjPtr) -> bool {
        if !self.frozen || self.nursery.contains(obj.addr()) {
            return false;
        }
        // SAFETY: forwarded from the caller.
        if unsafe { obj.flags() }.contains(HeaderFlags::LARGE) {
            self.large.is_sealed(obj)
        } else {
            // SAFETY: a non-nursery, non-large object is an allocated old slot.
            unsafe { self.old.is_sealed(obj) }
        }
    }

    /// Runs a complete major collection, then seals every old-generation arena and large
    /// object: later collections neither mark, sweep, nor write into them (see `Heap::freeze`).
    pub(crate) fn freeze(&mut self) {
        self.collect_major();
        self.set_frozen(true);
        // The only frozen objects that point outside the frozen set are the old parents of
        // pinned young objects (they are remembered now). Once such an object is unpinned and
        // promoted, its parent leaves the remembered set, so it must stay a root for good, like
        // a frozen object the program stores into.
        let state = self.mutator.get_mut();
        for &obj in &state.remembered {
            if state.frozen_dirty_set.insert(obj.addr()) {
                state.frozen_dirty.push(obj);
            }
        }
    }

    /// Returns the sealed memory to normal collection.
    pub(crate) fn unfreeze(&mut self) {
        self.set_frozen(false);
        let state = self.mutator.get_mut();
        state.frozen_dirty.clear();
        state.frozen_dirty_set.clear();
    }

    /// Seals (or unseals) every old-generation arena and large object, with the state that
    /// follows: the flag, the barrier filter, and no kept marks. Sealed objects are neither
    /// marked nor swept, and after `unfreeze` their bits are as `freeze` left them, so every
    /// major collection is full until one runs after `unfreeze` (each sets `marks_kept` to
    /// `!frozen`).
    fn set_frozen(&mut self, frozen: bool) {
        if frozen {
            self.old.seal_all();
        } else {
            self.old.unseal_all();
        }
        self.large.set_sealed(frozen);
        self.frozen = frozen;
        self.refresh_barrier_filter();
        self.marks_kept = false;
    }
}
