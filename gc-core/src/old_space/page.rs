//! One page's side-table entry: its size class and its allocation and mark bitmaps.
//!
//! The bitmaps live in ordinary Rust memory, not in the page, so marking only reads the pages
//! of the objects it marks (see the module comment of `old_space`).

use super::{PAGE_SIZE, SIZE_CLASSES};

/// Words of each bitmap: enough for the smallest class.
pub(super) const BITMAP_WORDS: usize = PAGE_SIZE / SIZE_CLASSES[0] as usize / 64;
/// The class of a page that holds no slot.
pub(super) const NO_CLASS: u8 = u8::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct PageId {
    pub(super) arena: u32,
    pub(super) page: u32,
}

pub(super) struct PageMeta {
    pub(super) class: u8,
    pub(super) slot_size: u32,
    pub(super) slots: u32,
    pub(super) live: u32,
    /// First bitmap word that may have a clear bit.
    pub(super) hint: u32,
    pub(super) alloc: [u64; BITMAP_WORDS],
    pub(super) mark: [u64; BITMAP_WORDS],
}

impl PageMeta {
    pub(super) const EMPTY: PageMeta = PageMeta {
        class: NO_CLASS,
        slot_size: 0,
        slots: 0,
        live: 0,
        hint: 0,
        alloc: [0; BITMAP_WORDS],
        mark: [0; BITMAP_WORDS],
    };

    pub(super) fn words(&self) -> usize {
        (self.slots as usize).div_ceil(64)
    }

    /// Bits of word `w` that stand for real slots.
    pub(super) fn valid(&self, w: usize) -> u64 {
        let lo = w * 64;
        let slots = self.slots as usize;
        if lo + 64 <= slots {
            !0
        } else if lo >= slots {
            0
        } else {
            (1u64 << (slots - lo)) - 1
        }
    }

    pub(super) fn take_slot(&mut self) -> Option<usize> {
        for w in self.hint as usize..self.words() {
            let free = !self.alloc[w] & self.valid(w);
            if free != 0 {
                let bit = free.trailing_zeros() as usize;
                self.alloc[w] |= 1 << bit;
                self.live += 1;
                self.hint = w as u32;
                return Some(w * 64 + bit);
            }
        }
        self.hint = self.words() as u32;
        None
    }

    pub(super) fn is_full(&self) -> bool {
        self.live == self.slots
    }
}
