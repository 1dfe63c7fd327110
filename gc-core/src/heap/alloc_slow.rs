//! The slow paths of allocation: a full nursery (collect, or use a later gap, or allocate
//! around a nursery full of pinned objects), objects born old (larger than the nursery, large
//! objects, `alloc_nonmoving`), and room under the heap limit (`MAX`) for what grows the old
//! generation directly. Whatever path an allocation takes, an object born old gets the barrier
//! state of an old object, and a failure leaves everything already allocated in place.

use super::HeapInner;
use crate::config::LARGE_OBJECT_THRESHOLD;
use crate::error::GcError;
use crate::object::{HeaderFlags, ObjPtr, TypeInfo};

/// What kind of memory a direct old-generation allocation takes (for the heap limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Growth {
    /// A slot of the small-object space.
    Small,
    /// A mapping of its own.
    Large,
}

impl HeapInner {
    #[cold]
    #[inline(never)]
    pub(super) fn alloc_slow(
        &mut self,
        info: &'static TypeInfo,
        size: usize,
        needs_drop: bool,
    ) -> Result<ObjPtr, GcError> {
        let flags = if needs_drop {
            HeaderFlags::NEEDS_DROP
        } else {
            HeaderFlags::empty()
        };
        if size >= LARGE_OBJECT_THRESHOLD {
            if self.major_due(size) {
                self.collect_major_automatic();
            }
            self.reserve_old(size, Growth::Large)?;
            let Some(obj) = self.large.alloc(size) else {
                return Err(self.out_of_memory(size, "the OS refused a large-object mapping"));
            };
            // SAFETY: obj is a fresh mapping of at least `size` bytes.
            unsafe { obj.init_header(info, flags | HeaderFlags::LARGE | HeaderFlags::YOUNG_LARGE) };
            self.young_large.push(obj);
            self.refresh_barrier_filter();
            self.stats.bytes_allocated += size as u64;
            return Ok(obj);
        }
        // Room in a later gap between pinned objects.
        if let Some(obj) = self.nursery.alloc_in_later_gap(size) {
            return Ok(self.init_young(obj, info, needs_drop));
        }
        if self.collection_can_make_room(size) {
            self.collect_minor_then_maybe_major();
            let obj = if fault_on!(FirstGapOnly) {
                self.nursery.try_alloc(size) // the injected bug: the first gap only
            } else {
                self.nursery.alloc_in_any_gap(size)
            };
            if let Some(obj) = obj {
                return Ok(self.init_young(obj, info, needs_drop));
            }
            if fault_on!(FirstGapOnly) && self.config.max_heap().is_some() {
                return Err(self.out_of_memory(
                    size,
                    "the heap limit (MAX) leaves no room even after a full collection",
                ));
            }
        }
        // No nursery gap can hold it until a pin ends (the nursery is full of pinned objects or
        // the gaps between them are too small), or the heap limit shrank the nursery, or it is
        // larger than the whole nursery: born old, without collecting again.
        self.bypass_nursery(size);
        self.alloc_born_old(info, size, flags)
    }

    /// Whether a minor collection could give the nursery a gap of `size` bytes. The gaps a
    /// collection leaves are the spaces between the pinned survivors, clipped to the usable
    /// size: while no young pin has ended since the last collection, they are the gaps it left.
    #[inline]
    fn collection_can_make_room(&self, size: usize) -> bool {
        size <= self.nursery.largest_gap() || self.pins.young_releases() != self.gaps_pin_epoch
    }

    /// Counts an allocation that went around the nursery. After a nursery's worth of them, the
    /// heap looks at the pins again (dropped guards are drained), so that the nursery is used
    /// again soon after the pins that filled it end.
    fn bypass_nursery(&mut self, size: usize) {
        self.stats.bytes_bypassing_nursery += size as u64;
        self.bypass_since_drain += size;
        if self.bypass_since_drain >= self.young.size() {
            self.bypass_since_drain = 0;
            self.drain_released_pins();
        }
    }

    /// Allocates a small object straight into the old generation, as an old object: it carries
    /// `TRACK_YOUNG`, so storing a young reference into it takes the barrier's slow path, and
    /// `LOG_STORES`, so its first store logs it.
    fn alloc_born_old(
        &mut self,
        info: &'static TypeInfo,
        size: usize,
        flags: HeaderFlags,
    ) -> Result<ObjPtr, GcError> {
        if self.major_due(size) {
            self.collect_major_automatic();
        }
        self.reserve_old(size, Growth::Small)?;
        let drops = flags.contains(HeaderFlags::NEEDS_DROP);
        let Some(obj) = self.old.alloc(size, drops) else {
            return Err(self.out_of_memory(size, "the OS refused a new arena"));
        };
        // SAFETY: obj is a fresh slot of at least `size` bytes.
        unsafe {
            obj.init_header(
                info,
                flags | HeaderFlags::TRACK_YOUNG | HeaderFlags::LOG_STORES,
            )
        };
        self.stats.bytes_allocated += size as u64;
        Ok(obj)
    }

    /// Allocates an object straight into non-moving space (old generation or large space),
    /// as an old object.
    pub(crate) fn alloc_nonmoving(
        &mut self,
        info: &'static TypeInfo,
        size: usize,
        needs_drop: bool,
    ) -> Result<ObjPtr, GcError> {
        let mut flags = HeaderFlags::TRACK_YOUNG | HeaderFlags::LOG_STORES;
        if needs_drop {
            flags |= HeaderFlags::NEEDS_DROP;
        }
        self.stats.objects_allocated += 1;
        if self.major_due(size) {
            self.collect_major_automatic();
        }
        let growth = if size >= LARGE_OBJECT_THRESHOLD {
            Growth::Large
        } else {
            Growth::Small
        };
        self.reserve_old(size, growth)?;
        let obj = if size >= LARGE_OBJECT_THRESHOLD {
            flags |= HeaderFlags::LARGE;
            self.large.alloc(size)
        } else {
            self.old
                .alloc(size, flags.contains(HeaderFlags::NEEDS_DROP))
        };
        let Some(obj) = obj else {
            return Err(self.out_of_memory(size, "the OS refused non-moving memory"));
        };
        // SAFETY: obj is a fresh slot or mapping of at least `size` bytes.
        unsafe { obj.init_header(info, flags) };
        self.stats.bytes_allocated += size as u64;
        Ok(obj)
    }

    fn out_of_memory(&mut self, requested: usize, reason: &'static str) -> GcError {
        self.record_event(gc_hooks::Event::OutOfMemory(gc_hooks::OutOfMemoryEvent {
            requested: requested as u64,
            in_use: self.footprint() as u64,
            limit: self.config.max_heap().unwrap_or(0) as u64,
        }));
        GcError::OutOfMemory {
            requested,
            in_use: self.footprint(),
            limit: self.config.max_heap(),
            reason,
        }
    }

    /// Makes room for direct old-generation growth (a large object, an object born old) under
    /// the heap limit: a full collection if needed, then free pages given back to the OS, then a
    /// smaller nursery if that is what it takes; otherwise `OutOfMemory`.
    fn reserve_old(&mut self, size: usize, growth: Growth) -> Result<(), GcError> {
        let Some(max) = self.config.max_heap() else {
            return Ok(());
        };
        let needed = |h: &HeapInner| match growth {
            Growth::Large => size.next_multiple_of(crate::large::LARGE_ALIGN),
            Growth::Small => h.old.commit_needed_for(size),
        };
        let fits = |h: &HeapInner| {
            h.footprint() + needed(h) + h.old.worst_case_commit(h.nursery.usable()) <= max
        };
        if fits(self) {
            return Ok(());
        }
        self.collect_major();
        if fits(self) {
            return Ok(());
        }
        self.old.release_free_pages();
        if fits(self) {
            return Ok(());
        }
        // The nursery is empty after the collection: shrink it in favour of this allocation.
        let base = self.footprint() + needed(self);
        if base <= max {
            let usable = self
                .old
                .promotable_within(max - base, self.young.size().min(self.nursery.capacity()));
            self.nursery.set_usable(usable);
            return Ok(());
        }
        Err(self.out_of_memory(
            size,
            "the heap limit (MAX) would be exceeded even after a full collection",
        ))
    }
}
