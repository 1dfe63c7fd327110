//! Marking in the old space: the mark bits, in each page's side table.
//!
//! A major collection sets an object's bit through [`OldSpace::mark_if_here`], which finds
//! the page's side table from the address alone (the arena by its base in `arena_bases`, the
//! page by offset, the slot by the page's reciprocal): nothing is read from the object and
//! nothing is written to its page, so the marker touches an object once, when it scans it, and
//! can prefetch it before (see `collect/mod.rs`). Neighbours are marked together more often than
//! not (objects promoted together are reached together), so the marker keeps a [`MarkCursor`]
//! on the page it marked last, and a mark on that page skips the lookup: one comparison.
//!
//! Invariant: a cursor lives for one marking, during which no arena is created, retired or
//! unmapped and no side table is reached except through [`OldSpace::mark_if_here`] (marking allocates
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
    /// The base of that page's arena (0 before the first mark) and its index, so that a mark
    /// on another page of the same arena skips the table lookup too (a tree's two children
    /// often lie on two pages of one arena, and marking alternates between them).
    arena_base: usize,
    arena: u32,
}

impl Default for MarkCursor {
    fn default() -> Self {
        MarkCursor {
            page: 0,
            meta: std::ptr::null_mut(),
            arena_base: 0,
            arena: 0,
        }
    }
}

impl OldSpace {
    /// Marks the object at `obj` when it lies in this space, reading nothing from the object
    /// (so a marker that pushes what it marks reads each object once, when it scans it):
    /// `None` when `obj` is in none of this space's arenas (a large object), else whether its
    /// bit was clear (`false` as well in a sealed arena, whose objects are neither marked nor
    /// traced). `cursor` is this marking's (see the module's invariant).
    ///
    /// # Safety
    /// `obj` is a live object of this heap outside the nursery.
    #[inline(always)]
    pub(crate) unsafe fn mark_if_here(
        &mut self,
        obj: ObjPtr,
        cursor: &mut MarkCursor,
    ) -> Option<bool> {
        let page = obj.addr() & !(PAGE_SIZE - 1);
        if page != cursor.page {
            let base = obj.addr() & !(ARENA_SIZE - 1);
            if base != cursor.arena_base {
                // A lookup in a small, hot table instead of a read of the object's header.
                cursor.arena = *self.arena_bases.get(&base)?;
                cursor.arena_base = base;
            }
            let arena = &mut self.arenas[cursor.arena as usize];
            if arena.sealed {
                return Some(false);
            }
            cursor.meta = &mut arena.pages[(obj.addr() - base) / PAGE_SIZE];
            cursor.page = page;
        }
        // SAFETY: the cursor points to the side table of obj's page, and nothing else borrows
        // it (the module's invariant); obj is in this space, so it starts an allocated slot.
        let meta = unsafe { &mut *cursor.meta };
        let slot = meta.slot_at(obj.addr() - page);
        debug_assert!(slot < meta.slots as usize);
        // SAFETY: an allocated slot's index is below the page's slot count, which fits the
        // bitmap (`slots <= 64 * BITMAP_WORDS`).
        let word = unsafe { meta.mark.get_unchecked_mut(slot / 64) };
        let bit = 1u64 << (slot % 64);
        let was_clear = *word & bit == 0;
        *word |= bit;
        Some(was_clear)
    }

    /// The bytes of the marked slots outside sealed arenas (the verifier's check of
    /// `HeapInner::kept_bytes`).
    pub(crate) fn marked_bytes(&self) -> usize {
        self.arenas
            .iter()
            .filter(|a| !a.sealed)
            .flat_map(|a| a.pages.iter())
            .filter(|p| p.class != NO_CLASS)
            .map(|p| {
                let marked: u32 = p.mark.iter().map(|w| w.count_ones()).sum();
                marked as usize * p.slot_size as usize
            })
            .sum()
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

/// The mark bits of the pages that held marked objects when [`OldSpace::save_marks`] ran: the
/// kept objects a sticky collection starts from, put back by [`OldSpace::restore_marks`] once
/// it has swept (see `collect/sticky.rs`).
#[derive(Default)]
pub(crate) struct SavedMarks {
    pages: Vec<(PageRef, [u64; BITMAP_WORDS])>,
}

/// A page of an unsealed arena, by index (arenas are neither created nor retired between the
/// save and the restore: see [`OldSpace::save_marks`]).
#[derive(Clone, Copy)]
struct PageRef {
    arena: u32,
    page: u32,
}

impl OldSpace {
    /// Saves the mark bits of every page of an unsealed arena that has one set. Between this
    /// and [`OldSpace::restore_marks`] no arena may be created or retired (a major collection's
    /// marking and sweep; the surplus is released after the restore).
    pub(crate) fn save_marks(&self, saved: &mut SavedMarks) {
        saved.pages.clear();
        for (a, arena) in self.arenas.iter().enumerate().filter(|(_, a)| !a.sealed) {
            for (p, meta) in arena.pages.iter().enumerate() {
                if meta.class != NO_CLASS && meta.mark.iter().any(|&w| w != 0) {
                    let at = PageRef {
                        arena: a as u32,
                        page: p as u32,
                    };
                    saved.pages.push((at, meta.mark));
                }
            }
        }
    }

    /// Sets the mark bits of every unsealed arena back to what [`OldSpace::save_marks`] saved:
    /// the objects marked since are unmarked again. Every object marked at the save must still
    /// be allocated (a sweep frees only unmarked objects), so a mark bit stays on an allocated
    /// slot.
    pub(crate) fn restore_marks(&mut self, saved: &SavedMarks) {
        self.clear_marks();
        for (at, mark) in &saved.pages {
            let meta = &mut self.arenas[at.arena as usize].pages[at.page as usize];
            debug_assert!(
                meta.class != NO_CLASS && (0..BITMAP_WORDS).all(|w| mark[w] & !meta.alloc[w] == 0),
                "a saved mark on a slot the sweep freed"
            );
            meta.mark = *mark;
        }
    }
}
