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
    /// `ceil(2^32 / slot_size)`: turns the division of an offset by the slot size, on every
    /// mark, into a multiplication (see [`PageMeta::slot_at`]).
    pub(super) slot_reciprocal: u32,
    pub(super) slots: u32,
    pub(super) live: u32,
    /// First bitmap word that may have a clear bit.
    pub(super) hint: u32,
    /// Some object allocated on this page since it was last empty has drop glue, so the sweep
    /// must hand this page's dead objects over; otherwise it frees them from the bitmaps alone,
    /// never reading a dead object.
    pub(super) drops: bool,
    pub(super) alloc: [u64; BITMAP_WORDS],
    pub(super) mark: [u64; BITMAP_WORDS],
}

impl PageMeta {
    pub(super) const EMPTY: PageMeta = PageMeta {
        class: NO_CLASS,
        slot_size: 0,
        slot_reciprocal: 0,
        slots: 0,
        live: 0,
        hint: 0,
        drops: false,
        alloc: [0; BITMAP_WORDS],
        mark: [0; BITMAP_WORDS],
    };

    /// The empty page of a size class.
    pub(super) fn for_class(class: usize) -> PageMeta {
        let slot_size = SIZE_CLASSES[class];
        PageMeta {
            class: class as u8,
            slot_size,
            slot_reciprocal: ((1u64 << 32).div_ceil(u64::from(slot_size))) as u32,
            slots: PAGE_SIZE as u32 / slot_size,
            ..PageMeta::EMPTY
        }
    }

    /// The slot that byte `within` of the page falls in: `within / slot_size`, by the
    /// reciprocal. Exact because `within * slot_size < 2^32` (`within < PAGE_SIZE = 2^15`,
    /// `slot_size <= 2^13`): the reciprocal's rounding error, under `slot_size / 2^32` per unit,
    /// adds less than `1 / slot_size` to the quotient, which never crosses the next integer
    /// (a test checks every offset of every class).
    #[inline(always)]
    pub(super) fn slot_at(&self, within: usize) -> usize {
        debug_assert!(within < PAGE_SIZE);
        ((within as u64 * u64::from(self.slot_reciprocal)) >> 32) as usize
    }

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

impl PageMeta {
    /// Claims the first run of consecutive free slots at or after the hint: their allocation
    /// bits are set at once and counted live. Returns the first slot and how many.
    pub(super) fn take_run(&mut self) -> Option<(usize, usize)> {
        let words = self.words();
        let mut w = self.hint as usize;
        while w < words && !self.alloc[w] & self.valid(w) == 0 {
            w += 1;
        }
        if w == words {
            self.hint = words as u32;
            return None;
        }
        let first = w * 64 + (!self.alloc[w] & self.valid(w)).trailing_zeros() as usize;
        // The run ends at the next allocated slot or at the page's last slot (bits past it are
        // never set).
        let slots = self.slots as usize;
        let mut end = first;
        while end < slots {
            let above = self.alloc[end / 64] >> (end % 64);
            if above == 0 {
                end = (end - end % 64 + 64).min(slots);
            } else {
                end += above.trailing_zeros() as usize;
                break;
            }
        }
        self.set_bits(first, end, true);
        self.live += (end - first) as u32;
        self.hint = (end / 64) as u32;
        Some((first, end - first))
    }

    /// Sets (or clears) the allocation bits of slots `[from, to)`, a word at a time.
    pub(super) fn set_bits(&mut self, from: usize, to: usize, allocated: bool) {
        let mut slot = from;
        while slot < to {
            let (w, bit) = (slot / 64, slot % 64);
            let n = (64 - bit).min(to - slot);
            let mask = if n == 64 {
                !0
            } else {
                ((1u64 << n) - 1) << bit
            };
            if allocated {
                self.alloc[w] |= mask;
            } else {
                self.alloc[w] &= !mask;
            }
            slot += n;
        }
    }
}
