//! What the old space counts against the heap limit (`MAX`), and the worst case of promotion.
//!
//! **Committed pages.** The limit bounds memory the heap has mapped for objects and touched:
//! per arena, its header page (from creation) and every object page from its first use until a
//! release gives it back to the OS (`madvise`). A page that a sweep emptied stays committed
//! until it is released, since the kernel still backs it; pages never handed out are not
//! counted (the kernel has not backed them either). Side tables (page metadata, bitmaps) are
//! ordinary Rust memory and not counted. Invariant: `committed_pages` equals the committed bits
//! of all arenas together (every change of a bit updates it; the verifier recounts).
//!
//! **The worst case of a promotion.** A minor collection cannot stop half-way when memory runs
//! short, so before it runs the heap must know that promoting every byte of the usable nursery
//! stays under the limit. [`OldSpace::worst_case_commit`] bounds the pages such a promotion can
//! newly commit: slot and page rounding at the worst expansion, one partly filled page per size
//! class, less the free pages already committed, plus a header page per new arena.

use super::{classes, OldSpace, PAGES_PER_ARENA, PAGE_SIZE};

impl OldSpace {
    /// Bytes of committed arena pages (see the module comment), from the running count.
    pub(crate) fn committed(&self) -> usize {
        self.committed_pages * PAGE_SIZE
    }

    /// Free pages of unsealed arenas: `(committed, not committed)`.
    fn free_pages(&self) -> (usize, usize) {
        let mut committed = 0;
        let mut fresh = 0;
        for arena in self.arenas.iter().filter(|a| !a.sealed) {
            committed += (arena.free & arena.committed).count_ones() as usize;
            fresh += (arena.free & !arena.committed).count_ones() as usize;
        }
        (committed, fresh)
    }

    /// The most bytes of pages that allocating one small object of `size` bytes can newly
    /// commit: none when its class has a page with a free slot, a page otherwise, two when a
    /// new arena (with its header page) may be needed. A free page that is already committed is
    /// counted as a page too, since the promotion bound may have counted on it.
    pub(crate) fn commit_needed_for(&self, size: usize) -> usize {
        let class = classes::class_of(size);
        if self.available[class]
            .iter()
            .any(|id| !self.arenas[id.arena as usize].pages[id.page as usize].is_full())
        {
            return 0;
        }
        let (committed, fresh) = self.free_pages();
        if committed + fresh > 0 {
            PAGE_SIZE
        } else {
            2 * PAGE_SIZE
        }
    }

    /// The most bytes of pages that promoting `bytes` of nursery objects can newly commit (see
    /// the module comment).
    pub(crate) fn worst_case_commit(&self, bytes: usize) -> usize {
        Self::worst_case_commit_given(bytes, self.free_pages())
    }

    /// [`OldSpace::worst_case_commit`] with the free pages counted already.
    fn worst_case_commit_given(bytes: usize, (committed, fresh): (usize, usize)) -> usize {
        let pages = classes::worst_case_pages(bytes);
        if pages == 0 {
            return 0;
        }
        let new_pages = pages.saturating_sub(committed);
        let beyond = new_pages.saturating_sub(fresh);
        let new_arenas = beyond.div_ceil(PAGES_PER_ARENA - 1);
        (new_pages + new_arenas) * PAGE_SIZE
    }

    /// The most nursery bytes whose promotion fits in `room` more committed bytes, up to
    /// `capacity`.
    pub(crate) fn promotable_within(&self, room: usize, capacity: usize) -> usize {
        // The free pages are counted once (a walk over every arena), not at every step.
        let free = self.free_pages();
        if Self::worst_case_commit_given(capacity, free) <= room {
            return capacity;
        }
        // worst_case_commit is monotonic: binary search, in whole words.
        let (mut lo, mut hi) = (0usize, capacity / 8);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if Self::worst_case_commit_given(mid * 8, free) <= room {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo * 8
    }
}
