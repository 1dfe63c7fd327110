//! The handle stack: the root slots that handles name.
//!
//! A handle is the address of its slot (V8's design), so reading a handle's object is one
//! load, and rooting an object is a store and a bump of the top. For that the slots must never
//! move: they live in fixed blocks, chained in a list, rather than in a vector that grows by
//! reallocation.
//!
//! Invariants:
//! - Every block is [`BLOCK_BYTES`] bytes, aligned to [`BLOCK_BYTES`]. Its first word is its
//!   header: the heap's id in the low half and the block's position in `blocks` in the high
//!   half. Its other words are slots.
//! - `top`, the next free slot, lies in some block `b`, after its header and at most at its
//!   end: at the end exactly when `b` is full. So `top`'s offset in a block is 0 exactly when a
//!   push must move to the next block, and `top` less one word, rounded down to the block
//!   size, is `b`'s start.
//! - Every slot of the blocks before `b`, and of `b` below `top`, is *live*: it holds a non-null
//!   object reference. The blocks after `b` are spare (kept for reuse; their slots are stale).
//! - Blocks are freed only with the stack, so a slot's address never changes while its heap
//!   lives, and a handle, which cannot outlive its scope and so its heap, always names memory
//!   of a live stack.
//!
//! The verifier checks every block header and every live slot (`verify/`).

use std::alloc::Layout;
use std::cell::Cell;
use std::num::NonZeroU32;
use std::ptr::NonNull;

/// The size and alignment of a block: 1,023 slots behind the header.
#[cfg(not(miri))]
pub(crate) const BLOCK_BYTES: usize = 8192;
/// Under Miri, small blocks, so that the tests cross block boundaries in a few steps.
#[cfg(miri)]
pub(crate) const BLOCK_BYTES: usize = 512;
const WORD: usize = std::mem::size_of::<*mut u8>();
#[cfg(test)]
const SLOTS_PER_BLOCK: usize = BLOCK_BYTES / WORD - 1;

/// The address of a slot of a handle stack: what a handle holds.
pub(crate) type Slot = NonNull<*mut u8>;

/// A word that reads as no object: the slot an absent handle (`None`) reads, so a store of an
/// optional handle loads its value without a branch. Never written: no handle names it.
struct NoObject(*mut u8);
// SAFETY: the static is never written and holds a null pointer, which refers to nothing.
unsafe impl Sync for NoObject {}
static NO_OBJECT: NoObject = NoObject(std::ptr::null_mut());

/// The handle stack of one heap.
pub(crate) struct HandleStack {
    /// The next free slot (see the module's invariants).
    top: Slot,
    /// Every block's start, in order; the header of block `i` records `i`.
    blocks: Vec<Slot>,
    /// The heap's id, written into every block's header.
    heap_id: u32,
}

impl HandleStack {
    /// An empty stack with one block.
    pub(crate) fn new(heap_id: NonZeroU32) -> HandleStack {
        let mut stack = HandleStack {
            top: NonNull::dangling(),
            blocks: Vec::new(),
            heap_id: heap_id.get(),
        };
        stack.top = first_slot(stack.add_block());
        stack
    }

    fn layout() -> Layout {
        Layout::from_size_align(BLOCK_BYTES, BLOCK_BYTES).expect("a power-of-two block")
    }

    /// Allocates a block at the end of the list and writes its header.
    fn add_block(&mut self) -> Slot {
        let layout = Self::layout();
        // SAFETY: the layout's size is not zero.
        let raw = unsafe { std::alloc::alloc(layout) };
        let Some(start) = NonNull::new(raw.cast::<*mut u8>()) else {
            std::alloc::handle_alloc_error(layout)
        };
        let header = self.header(self.blocks.len());
        // SAFETY: `start` is a fresh allocation of a block, aligned for its first word.
        unsafe { start.write(std::ptr::without_provenance_mut(header as usize)) };
        self.blocks.push(start);
        start
    }

    /// The header of the block at `position` in `blocks`: the heap's id in the low half, the
    /// position in the high half (read back by [`HandleStack::heap_id_of`] and the slow push).
    fn header(&self, position: usize) -> u64 {
        u64::from(self.heap_id) | ((position as u64) << 32)
    }

    /// The next free slot: a scope's base, to which its end cuts the stack back.
    #[inline(always)]
    pub(crate) fn top(&self) -> Slot {
        self.top
    }

    /// Roots `reference` (a non-null object reference) in a new slot, and returns the slot.
    #[inline(always)]
    pub(crate) fn push(&mut self, reference: *mut u8) -> Slot {
        let slot = self.top;
        if slot.as_ptr().addr().is_multiple_of(BLOCK_BYTES) {
            return self.push_in_next_block(reference);
        }
        // SAFETY: `top` lies inside its block after the header and, its offset not being 0,
        // before the block's end: a free slot of memory the stack owns.
        unsafe {
            slot.write(reference);
            self.top = slot.add(1);
        }
        slot
    }

    /// [`HandleStack::push`] when the top's block is full: moves on to the next block, made
    /// if there is no spare one.
    #[cold]
    #[inline(never)]
    fn push_in_next_block(&mut self, reference: *mut u8) -> Slot {
        let next = self.top_block() + 1;
        let start = match self.blocks.get(next) {
            Some(&start) => start,
            None => self.add_block(),
        };
        self.top = first_slot(start);
        self.push(reference)
    }

    /// Cuts the stack back to `mark`, ending every slot above it (a scope's end).
    ///
    /// # Safety
    /// `mark` is a top this stack returned that no cut has passed since, and no live handle
    /// names a slot at or above it.
    #[inline(always)]
    pub(crate) unsafe fn cut_to(&mut self, mark: Slot) {
        self.top = mark;
    }

    /// Cuts the stack back to `mark` and roots `reference` in the slot at it: a scope's end
    /// that keeps one object for the enclosing scope ([`crate::Scope::escape`]).
    ///
    /// # Safety
    /// As for [`HandleStack::cut_to`].
    #[inline(always)]
    pub(crate) unsafe fn cut_keeping(&mut self, mark: Slot, reference: *mut u8) -> Slot {
        self.top = mark;
        self.push(reference)
    }

    /// The object reference in a live slot.
    ///
    /// # Safety
    /// `slot` is a live slot of a live handle stack (a live handle's slot is one).
    #[inline(always)]
    pub(crate) unsafe fn read(slot: Slot) -> *mut u8 {
        // SAFETY: forwarded from the caller: the slot is memory of a live block.
        unsafe { slot.read() }
    }

    /// The reference a store of an optional handle writes: its slot's, or null for `None`.
    ///
    /// # Safety
    /// As for [`HandleStack::read`], when `slot` is `Some`.
    #[inline(always)]
    pub(crate) unsafe fn read_optional(slot: Option<Slot>) -> *mut u8 {
        let slot = slot.unwrap_or(NonNull::from(&NO_OBJECT.0));
        // SAFETY: a live slot (the caller's promise) or `NO_OBJECT`, a readable null word. The
        // selection is a conditional move, not a branch.
        unsafe { slot.read() }
    }

    /// Makes a live slot hold `reference`, a non-null object reference.
    ///
    /// # Safety
    /// `slot` is a live slot of this heap's stack, and no reference into its block is live.
    #[inline(always)]
    pub(crate) unsafe fn write(slot: Slot, reference: *mut u8) {
        // SAFETY: forwarded from the caller.
        unsafe { slot.write(reference) }
    }

    /// The id of the heap whose stack holds `slot`, read from its block's header.
    ///
    /// # Safety
    /// `slot` is a live slot of a live handle stack.
    #[inline(always)]
    pub(crate) unsafe fn heap_id_of(slot: Slot) -> u32 {
        let header = slot.as_ptr().map_addr(|a| a & !(BLOCK_BYTES - 1));
        // SAFETY: a live slot lies in a live block, whose first word is its header.
        unsafe { header.read() }.addr() as u32
    }

    /// The position of the top's block in `blocks`, from its header (the slow push).
    fn top_block(&self) -> usize {
        let start = self.top_block_start();
        // SAFETY: a block's first word is its header.
        (unsafe { start.read() }.addr() >> 32) & 0xffff_ffff
    }

    /// The start of the top's block: `top` less one word lies in it (the invariants).
    fn top_block_start(&self) -> *mut *mut u8 {
        self.top
            .as_ptr()
            .wrapping_sub(1)
            .map_addr(|a| a & !(BLOCK_BYTES - 1))
    }

    /// The position of the top's block in `blocks`, found by its address: what the root scan
    /// and the verifier use, so that a corrupt header cannot mislead them.
    fn top_block_by_address(&self) -> usize {
        let start = self.top_block_start().addr();
        self.blocks
            .iter()
            .rposition(|b| b.as_ptr().addr() == start)
            .expect("the top lies in one of the stack's blocks")
    }

    /// The live slots, block by block, in the order they were pushed.
    pub(crate) fn live_slots(&self) -> impl Iterator<Item = &Cell<*mut u8>> + '_ {
        let top_block = self.top_block_by_address();
        self.blocks[..=top_block]
            .iter()
            .enumerate()
            .flat_map(move |(i, &start)| {
                let end = if i == top_block {
                    self.top.as_ptr().addr()
                } else {
                    start.as_ptr().addr() + BLOCK_BYTES
                };
                let len = (end - first_slot(start).as_ptr().addr()) / WORD;
                // SAFETY: the block's slots from the first to `end` are live (the invariants):
                // initialised words in memory the stack owns, which nothing else references
                // while `self` is borrowed but through shared cells.
                unsafe {
                    std::slice::from_raw_parts(
                        first_slot(start).as_ptr().cast::<Cell<*mut u8>>(),
                        len,
                    )
                }
            })
    }

    /// How many slots are live.
    #[cfg(test)]
    fn live_count(&self) -> usize {
        let top_block = self.top_block_by_address();
        let in_top =
            (self.top.as_ptr().addr() - first_slot(self.blocks[top_block]).as_ptr().addr()) / WORD;
        top_block * SLOTS_PER_BLOCK + in_top
    }

    /// Every block up to the top's whose header is not this heap's id and the block's position,
    /// with the header found (checked by the verifier).
    pub(crate) fn bad_headers(&self) -> Vec<(usize, u64)> {
        self.blocks[..=self.top_block_by_address()]
            .iter()
            .enumerate()
            .filter_map(|(i, start)| {
                // SAFETY: a block's first word is its header, initialised when it was made.
                let header = unsafe { start.read() }.addr() as u64;
                (header != self.header(i)).then_some((i, header))
            })
            .collect()
    }

    /// Overwrites block `i`'s header (tests of the verifier).
    #[cfg(test)]
    pub(crate) fn corrupt_header(&mut self, i: usize, header: u64) {
        // SAFETY: block `i` is allocated and its first word is its header.
        unsafe { self.blocks[i].write(std::ptr::without_provenance_mut(header as usize)) };
    }
}

impl Drop for HandleStack {
    fn drop(&mut self) {
        for &start in &self.blocks {
            // SAFETY: every block was allocated by `add_block` with this layout, and is freed
            // once, here; no handle outlives its heap, so none names it any more.
            unsafe { std::alloc::dealloc(start.as_ptr().cast(), Self::layout()) };
        }
    }
}

/// A block's first slot, one word past its header.
fn first_slot(start: Slot) -> Slot {
    // SAFETY: a block is more than one word long, so the slot after the header is inside it.
    unsafe { start.add(1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> NonZeroU32 {
        NonZeroU32::new(7).unwrap()
    }

    fn object(i: usize) -> *mut u8 {
        std::ptr::without_provenance_mut(8 * (i + 1))
    }

    fn live(stack: &HandleStack) -> Vec<*mut u8> {
        stack.live_slots().map(Cell::get).collect()
    }

    #[test]
    fn pushes_cross_blocks_and_every_slot_keeps_its_address() {
        let mut stack = HandleStack::new(id());
        let per_block = SLOTS_PER_BLOCK;
        let slots: Vec<Slot> = (0..3 * per_block + 5)
            .map(|i| stack.push(object(i)))
            .collect();
        assert_eq!(stack.blocks.len(), 4);
        assert_eq!(stack.live_count(), slots.len());
        for (i, &slot) in slots.iter().enumerate() {
            // SAFETY: a live slot of a live stack.
            assert_eq!(unsafe { HandleStack::read(slot) }, object(i));
            // SAFETY: as above.
            assert_eq!(unsafe { HandleStack::heap_id_of(slot) }, 7);
        }
        assert_eq!(
            live(&stack),
            (0..slots.len()).map(object).collect::<Vec<_>>()
        );
        assert!(stack.bad_headers().is_empty());
    }

    #[test]
    fn a_cut_at_a_block_end_reuses_the_spare_block_and_counts_exactly() {
        let mut stack = HandleStack::new(id());
        let per_block = SLOTS_PER_BLOCK;
        for i in 0..per_block {
            stack.push(object(i));
        }
        let full = stack.top();
        assert_eq!(
            full.as_ptr().addr() % BLOCK_BYTES,
            0,
            "the first block is full"
        );
        assert_eq!(stack.live_count(), per_block);
        let next = stack.push(object(per_block));
        assert_eq!(stack.live_count(), per_block + 1);
        // SAFETY: `full` was the top, and no slot above it is used again.
        unsafe { stack.cut_to(full) };
        assert_eq!(stack.live_count(), per_block);
        assert_eq!(live(&stack).len(), per_block);
        // The block is full again: the kept object goes to the spare block, the same slot.
        // SAFETY: as above.
        let kept = unsafe { stack.cut_keeping(full, object(0)) };
        assert_eq!(kept, next);
        assert_eq!(stack.blocks.len(), 2);
        // A cut inside a block keeps the object at the mark itself.
        let mark = stack.top();
        stack.push(object(1));
        stack.push(object(2));
        // SAFETY: as above.
        let kept = unsafe { stack.cut_keeping(mark, object(3)) };
        assert_eq!(kept, mark);
        assert_eq!(*live(&stack).last().unwrap(), object(3));
        assert_eq!(stack.live_count(), per_block + 2);
    }

    #[test]
    fn none_reads_null_and_a_corrupt_header_is_reported() {
        // SAFETY: `None` reads the null word.
        assert!(unsafe { HandleStack::read_optional(None) }.is_null());
        let mut stack = HandleStack::new(id());
        let slot = stack.push(object(0));
        // SAFETY: a live slot.
        assert_eq!(unsafe { HandleStack::read_optional(Some(slot)) }, object(0));
        stack.corrupt_header(0, 8);
        assert_eq!(stack.bad_headers(), vec![(0, 8)]);
    }
}
