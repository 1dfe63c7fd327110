//! Marking in the old space: the mark bits, in each page's side table.
//!
//! A major collection sets an object's bit through [`OldSpace::mark`], which finds the page's
//! side table from the address alone (arena base by masking, its index in the arena's first
//! word, the page by offset, the slot by the page's reciprocal): nothing is written to the
//! object's page. Neighbours are marked together more often than not (objects promoted
//! together are reached together), so the marker keeps a [`MarkCursor`] on the page it marked
//! last, and a mark on that page skips the lookup: one comparison instead of three dependent
//! loads.
//!
//! Invariant: a cursor lives for one marking, during which no arena is created, retired or
//! unmapped and no side table is reached except through [`OldSpace::mark`] (marking allocates
//! nothing in this space, and the sweep runs after it), so the side table it points to stays
//! where it is and no other borrow of it comes between.

use super::page::{PageMeta, BITMAP_WORDS, NO_CLASS};
use super::{OldSpace, ARENA_SIZE, PAGE_SIZE};
use crate::object::ObjPtr;

/// The page the marker set a bit in last, and that page's side table.
pub(crate) struct MarkCursor {
    /// The page's base address; 0 before the first mark (no page starts at address 0).
    page: usize,
    meta: *mut PageMeta,
}

impl Default for MarkCursor {
    fn default() -> Self {
        MarkCursor {
            page: 0,
            meta: std::ptr::null_mut(),
        }
    }
}

impl OldSpace {
    /// Sets the object's mark bit; returns whether it was clear. `cursor` is this marking's
    /// (see the module's invariant).
    ///
    /// # Safety
    /// `obj` is the start of an allocated slot of this space.
    #[inline(always)]
    pub(crate) unsafe fn mark(&mut self, obj: ObjPtr, cursor: &mut MarkCursor) -> bool {
        let page = obj.addr() & !(PAGE_SIZE - 1);
        if page != cursor.page {
            // SAFETY: forwarded from the caller.
            cursor.meta = unsafe { self.page_meta_of(obj) };
            cursor.page = page;
        }
        // SAFETY: the cursor points to the side table of obj's page, and nothing else borrows
        // it (the module's invariant).
        let meta = unsafe { &mut *cursor.meta };
        let slot = meta.slot_at(obj.addr() - page);
        debug_assert!(slot < meta.slots as usize);
        // SAFETY: an allocated slot's index is below the page's slot count, which fits the
        // bitmap (`slots <= 64 * BITMAP_WORDS`).
        let word = unsafe { meta.mark.get_unchecked_mut(slot / 64) };
        let bit = 1u64 << (slot % 64);
        let was_clear = *word & bit == 0;
        *word |= bit;
        was_clear
    }

    /// The side table of the page holding `obj`, found without bounds checks (the caller's
    /// contract makes them redundant).
    ///
    /// # Safety
    /// `obj` is the start of an allocated slot of this space.
    #[inline(never)]
    unsafe fn page_meta_of(&mut self, obj: ObjPtr) -> *mut PageMeta {
        let base = obj.addr() & !(ARENA_SIZE - 1);
        // SAFETY: obj lies in an arena, whose first word is the arena index (the invariant of
        // `old_space`); the pointer keeps the provenance of the arena's region.
        let arena = unsafe { obj.as_ptr().with_addr(base).cast::<u32>().read() } as usize;
        debug_assert!(arena < self.arenas.len());
        // SAFETY: the index word names a live arena of this space, and
        // `offset / PAGE_SIZE < PAGES_PER_ARENA` because the offset is below `ARENA_SIZE`.
        unsafe {
            self.arenas
                .get_unchecked_mut(arena)
                .pages
                .get_unchecked_mut((obj.addr() - base) / PAGE_SIZE)
        }
    }

    /// Clears every mark bit outside sealed arenas (a marking starts).
    pub(crate) fn clear_marks(&mut self) {
        for arena in self.arenas.iter_mut().filter(|a| !a.sealed) {
            for page in arena.pages.iter_mut().filter(|p| p.class != NO_CLASS) {
                page.mark = [0; BITMAP_WORDS];
            }
        }
    }
}
