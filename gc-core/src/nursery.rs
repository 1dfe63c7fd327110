//! The nursery: where almost every object is born.
//!
//! One contiguous region with a bump pointer. Allocation is "does `size` fit between `top` and
//! `limit`? then hand out `top` and advance it" — an inlined compare and add. When it does not
//! fit, the heap's out-of-line slow path first moves to the next free *gap* and otherwise runs
//! a minor collection, which copies the survivors out and empties the nursery.
//!
//! **Gaps.** Pinned objects survive a minor collection in place, so afterwards the free space
//! is the list of gaps between them (and the region's ends). Allocation fills one gap, then
//! jumps to the next that can hold the request; it never writes into a pinned object. Gaps
//! smaller than [`MIN_GAP`] are not worth visiting and count as fragmentation. Without pins
//! there is one gap: the whole (usable) nursery.
//!
//! **Usable size.** The region is reserved at the largest size the young generation's sizing
//! policy may choose (`young_sizing`); the policy's current size, clipped under a heap limit
//! to what can still be promoted (see the heap module), is the *usable* prefix, and gaps are
//! clipped to it. Pages past the usable prefix are touched only once the policy grows into
//! them; *committed* is the high-water mark of the usable prefix (in whole OS pages), which is
//! what the heap limit counts, until a shrinking policy gives the tail back with
//! [`Nursery::release_tail`].
//!
//! Invariants:
//! - `gaps` are disjoint, in address order, within the usable prefix, and contain no pinned
//!   object; `gaps[gap]` is the current gap and `top` lies in it (`limit` is its end);
//! - the used part of each visited gap (`[start, used_end)`, or `[start, top)` for the current
//!   one) is a sequence of objects laid end to end; with the pinned survivors, these are all
//!   the nursery's objects, which is how the verifier walks it;
//! - the unused parts hold no object; with poisoning on, every byte of a gap was `POISON`
//!   right after the last minor collection;
//! - nothing outside a minor collection is forwarded;
//! - `fast_limit` is `limit` while the fast path is on and zero while it is off, so that the
//!   inlined fast path ([`Nursery::try_alloc_fast`]) fails without testing a flag of its own.

use crate::object::ObjPtr;
use crate::page_source::Region;

/// The byte freed nursery memory is filled with when poisoning is on.
pub const POISON: u8 = 0xDB;

/// Gaps between pinned objects smaller than this are skipped.
pub const MIN_GAP: usize = 256;

/// How far ahead of the bump pointer allocation prefetches: a few cache lines, far enough for
/// the fetch to complete before allocation reaches it.
const ALLOCATE_PREFETCH_DISTANCE: usize = 256;

/// The OS page size the region is released in.
const PAGE: usize = 4096;

pub(crate) struct Nursery {
    region: Region,
    top: *mut u8,
    /// End of the current gap.
    limit: usize,
    /// `limit`, or zero while the allocation fast path is off (the heap turns it off when
    /// every allocation must take the slow path): one comparison then serves both tests, as a
    /// JIT's inline allocation finds its limit lowered when the runtime wants it to call out.
    /// It is the switch too (`limit` is never zero: the region lies at a non-null address).
    fast_limit: usize,
    usable: usize,
    /// High-water mark of `usable`, rounded up to OS pages (at most the region's length).
    committed: usize,
    /// Free ranges `(start, end)` as offsets from the region's start.
    gaps: Vec<(usize, usize)>,
    gap: usize,
    /// Used end (offset) of every gap before the current one.
    used_ends: Vec<usize>,
    /// Pinned objects that survived the last minor collection in place, by address.
    pinned: Vec<ObjPtr>,
    fragmentation: usize,
    /// Size of the largest gap.
    largest_gap: usize,
}

impl Nursery {
    /// A nursery reserving `reserve` bytes, of which the first `usable` may be allocated.
    pub(crate) fn new(reserve: usize, usable: usize) -> Option<Nursery> {
        let region = Region::new(reserve.max(usable), PAGE)?;
        let usable = usable.min(region.len());
        let mut n = Nursery {
            top: region.start(),
            limit: region.start().addr(),
            // The fast path starts on: the gap's end replaces this non-zero value below.
            fast_limit: region.start().addr(),
            committed: usable.next_multiple_of(PAGE).min(region.len()),
            region,
            usable,
            gaps: Vec::new(),
            gap: 0,
            used_ends: Vec::new(),
            pinned: Vec::new(),
            fragmentation: 0,
            largest_gap: 0,
        };
        n.rebuild_gaps();
        Some(n)
    }

    /// Bump-allocates `size` bytes (a multiple of 8) in the current gap.
    #[inline(always)]
    pub(crate) fn try_alloc(&mut self, size: usize) -> Option<ObjPtr> {
        if size <= self.limit - self.top.addr() {
            // SAFETY: the request fits between top and the current gap's end.
            Some(unsafe { self.bump(size) })
        } else {
            None
        }
    }

    /// [`Nursery::try_alloc`] for the inlined allocation fast path: fails as well while the fast
    /// path is off ([`Nursery::set_fast_path`]), with the same one comparison.
    #[inline(always)]
    pub(crate) fn try_alloc_fast(&mut self, size: usize) -> Option<ObjPtr> {
        debug_assert!(size < crate::config::LARGE_OBJECT_THRESHOLD);
        // No overflow: `top` lies in the address space's lower half and `size` is below the
        // large-object threshold. A zero `fast_limit` fails every request. (The sum, not the
        // room left, is compared, so that the room cannot wrap around a zero limit.)
        if self.top.addr() + size <= self.fast_limit {
            // SAFETY: top + size <= fast_limit, which is the current gap's end (it is not zero).
            Some(unsafe { self.bump(size) })
        } else {
            None
        }
    }

    /// Hands out `top` and advances it by `size`.
    ///
    /// # Safety
    /// `size` bytes fit between `top` and the current gap's end.
    #[inline(always)]
    unsafe fn bump(&mut self, size: usize) -> ObjPtr {
        let top = self.top;
        // SAFETY: the request fits in the current gap (the caller's promise), which lies inside
        // the region, so top + size stays within (or one past) the region.
        self.top = unsafe { top.add(size) };
        // The line a few allocations ahead is fetched now, so that initialising the objects
        // that land there does not wait on memory (HotSpot's `AllocatePrefetch`).
        crate::scan::prefetch_for_write(top.wrapping_add(ALLOCATE_PREFETCH_DISTANCE));
        // SAFETY: top is the start of `size` fresh bytes of the region (at least
        // `MIN_OBJECT_SIZE`, as every object size is); no test of it for null (one had cost
        // two instructions of every allocation).
        unsafe { ObjPtr::from_start(top) }
    }

    /// Turns the allocation fast path on or off ([`Nursery::try_alloc_fast`]).
    pub(crate) fn set_fast_path(&mut self, on: bool) {
        self.fast_limit = if on { self.limit } else { 0 };
    }

    /// Whether the allocation fast path is on.
    pub(crate) fn fast_path_on(&self) -> bool {
        self.fast_limit != 0
    }

    /// Allocates `size` bytes in a gap after the current one (skipping those too small, which
    /// stay unused until the next collection).
    pub(crate) fn alloc_in_later_gap(&mut self, size: usize) -> Option<ObjPtr> {
        if self.next_gap(size) {
            self.try_alloc(size)
        } else {
            None
        }
    }

    /// Allocates `size` bytes in the current gap or a later one.
    pub(crate) fn alloc_in_any_gap(&mut self, size: usize) -> Option<ObjPtr> {
        self.try_alloc(size)
            .or_else(|| self.alloc_in_later_gap(size))
    }

    /// The largest gap the last rebuild left (zero when the nursery is full of pinned objects
    /// or unusable under the heap limit).
    pub(crate) fn largest_gap(&self) -> usize {
        self.largest_gap
    }

    /// Moves to the next gap that can hold `size` bytes; `false` when none is left.
    fn next_gap(&mut self, size: usize) -> bool {
        while self.gap + 1 < self.gaps.len() {
            self.used_ends
                .push(self.top.addr() - self.region.start().addr());
            self.gap += 1;
            self.enter_gap();
            if size <= self.limit - self.top.addr() {
                return true;
            }
        }
        false
    }

    fn enter_gap(&mut self) {
        let (start, end) = self.gaps.get(self.gap).copied().unwrap_or((0, 0));
        // SAFETY: gap offsets lie within the region.
        self.top = unsafe { self.region.start().add(start) };
        self.limit = self.region.start().addr() + end;
        // The fast limit follows the gap's end while the fast path is on.
        self.set_fast_path(self.fast_path_on());
    }

    /// Recomputes the gaps from the pinned survivors and the usable size; the nursery must
    /// hold nothing but its pinned survivors.
    fn rebuild_gaps(&mut self) {
        let base = self.region.start().addr();
        let usable = self.usable.min(self.region.len());
        self.gaps.clear();
        self.used_ends.clear();
        self.fragmentation = 0;
        let mut cursor = 0;
        // A nursery smaller than MIN_GAP still has its one gap.
        let min_gap = MIN_GAP.min(usable).max(1);
        let push = |gaps: &mut Vec<(usize, usize)>, frag: &mut usize, from: usize, to: usize| {
            let to = to.min(usable);
            if to > from {
                if to - from >= min_gap {
                    gaps.push((from, to));
                } else {
                    *frag += to - from;
                }
            }
        };
        for obj in &self.pinned {
            let offset = obj.addr() - base;
            // The faulty jump takes the gap to end one word into the pinned object.
            let gap_end = if fault_on!(GapOffByOne) {
                offset + 8
            } else {
                offset
            };
            push(&mut self.gaps, &mut self.fragmentation, cursor, gap_end);
            // SAFETY: pinned survivors are live, unforwarded objects.
            let size = unsafe { obj.size() };
            self.fragmentation += size;
            cursor = offset + size;
        }
        push(
            &mut self.gaps,
            &mut self.fragmentation,
            cursor,
            self.region.len(),
        );
        self.largest_gap = self.gaps.iter().map(|(s, e)| e - s).max().unwrap_or(0);
        if self.gaps.is_empty() {
            // No room at all: an empty gap keeps `top`/`limit` meaningful.
            self.gaps.push((usable.min(cursor), usable.min(cursor)));
        }
        self.gap = 0;
        self.enter_gap();
    }

    /// Whether `addr` points into the nursery region (used or not).
    #[inline(always)]
    pub(crate) fn contains(&self, addr: usize) -> bool {
        self.region.contains(addr)
    }

    pub(crate) fn start_addr(&self) -> usize {
        self.region.start().addr()
    }

    pub(crate) fn capacity(&self) -> usize {
        self.region.len()
    }

    /// Bytes the nursery may use for allocation (at most the capacity).
    pub(crate) fn usable(&self) -> usize {
        self.usable
    }

    /// Sets the usable size. Only right after a collection (nothing but pinned survivors).
    pub(crate) fn set_usable(&mut self, bytes: usize) {
        self.usable = bytes.min(self.region.len());
        self.committed = self
            .committed
            .max(self.usable.next_multiple_of(PAGE))
            .min(self.region.len());
        self.rebuild_gaps();
    }

    /// Bytes of the region that may be backed by memory: the high-water mark of the usable
    /// size since the last [`Nursery::release_tail`].
    pub(crate) fn committed(&self) -> usize {
        self.committed
    }

    /// Gives the pages past the first `keep` bytes (and past every pinned survivor) back to the
    /// OS. Only right after a collection, with `keep` at least the usable size.
    pub(crate) fn release_tail(&mut self, keep: usize) {
        let base = self.region.start().addr();
        // SAFETY: pinned survivors are live, unforwarded objects.
        let pinned_end = self
            .pinned
            .last()
            .map_or(0, |p| p.addr() - base + unsafe { p.size() });
        let from = keep.max(self.usable).max(pinned_end).next_multiple_of(PAGE);
        if from < self.committed {
            self.region.release(from, self.committed - from);
            self.committed = from;
        }
    }

    /// Bytes allocated since the last minor collection.
    pub(crate) fn used(&self) -> usize {
        let base = self.region.start().addr();
        let finished: usize = self
            .used_ends
            .iter()
            .zip(&self.gaps)
            .map(|(end, (start, _))| end - start)
            .sum();
        let current = self
            .gaps
            .get(self.gap)
            .map_or(0, |&(start, _)| self.top.addr() - base - start);
        finished + current
    }

    /// Bytes lost around pinned objects at the last minor collection.
    pub(crate) fn fragmentation(&self) -> usize {
        self.fragmentation
    }

    /// Whether `addr` lies in a part of the nursery that holds objects (a used gap prefix or
    /// a pinned survivor), as opposed to free memory.
    pub(crate) fn in_used_part(&self, addr: usize) -> bool {
        self.segments().any(|(s, e)| addr >= s && addr < e)
            || self.pinned.iter().any(|p| {
                // SAFETY: pinned survivors' headers are readable.
                let valid = unsafe { p.has_valid_type() };
                // SAFETY: the size is only read from a validated descriptor.
                let size = if valid { unsafe { p.size() } } else { 8 };
                addr >= p.addr() && addr < p.addr() + size
            })
    }

    /// The used parts of the visited gaps, as absolute address ranges.
    fn segments(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let base = self.region.start().addr();
        let finished = self
            .used_ends
            .iter()
            .zip(&self.gaps)
            .map(move |(end, (start, _))| (base + start, base + end));
        let current = self
            .gaps
            .get(self.gap)
            .map(|&(start, _)| (base + start, self.top.addr()));
        finished.chain(current)
    }

    /// Empties the nursery except for `pinned` (the pinned survivors); with `poison`,
    /// overwrites the freed memory, never a pinned object.
    pub(crate) fn reset(&mut self, mut pinned: Vec<ObjPtr>, poison: bool) {
        if fault_on!(NurseryResetOverwritesPinned) {
            pinned.clear(); // the faulty reset forgets the pinned survivors
        }
        pinned.sort_by_key(|p| p.addr());
        self.pinned = pinned;
        if poison {
            let base = self.region.start();
            let mut cursor = 0;
            let fill = |from: usize, to: usize| {
                if to > from {
                    // SAFETY: [from, to) lies inside the region and holds no live object: every
                    // unpinned nursery object was moved or dropped by the minor collection.
                    unsafe { std::ptr::write_bytes(base.add(from), POISON, to - from) };
                }
            };
            for obj in &self.pinned {
                let offset = obj.addr() - base.addr();
                fill(cursor, offset);
                // SAFETY: pinned survivors are live, unforwarded objects.
                cursor = offset + unsafe { obj.size() };
            }
            // Past the committed prefix the memory was never written or was given back.
            fill(cursor, self.committed);
        }
        self.rebuild_gaps();
    }

    /// The objects in the nursery: the used part of every visited gap, then the pinned
    /// survivors.
    ///
    /// # Safety
    /// No object in the nursery is forwarded (true outside a minor collection).
    ///
    /// A header that is not a valid object header (a corrupted heap) ends the walk of its
    /// segment; its address is returned beside the objects, so the verifier can report it
    /// instead of crashing.
    pub(crate) unsafe fn objects(&self) -> (Vec<ObjPtr>, Vec<usize>) {
        let mut out = Vec::new();
        let mut corrupt = Vec::new();
        for (start, end) in self.segments() {
            let mut p = self.region.start().with_addr(start);
            while p.addr() < end {
                // SAFETY: p lies in a used segment (8-aligned, below its end), at an object's
                // header word, or in a corrupted heap at a word the test below rejects; the
                // word is readable.
                let obj = unsafe { ObjPtr::from_start(p) };
                // SAFETY: as above.
                let valid = unsafe { obj.has_valid_type() };
                // SAFETY: the size is only read from a validated descriptor.
                let size = valid.then(|| unsafe { obj.size() });
                match size {
                    Some(size) if size > 0 && p.addr() + size <= end => {
                        out.push(obj);
                        // SAFETY: the object ends within the segment.
                        p = unsafe { p.add(size) };
                    }
                    _ => {
                        corrupt.push(p.addr());
                        break;
                    }
                }
            }
        }
        for &obj in &self.pinned {
            // SAFETY: pinned survivors lie in the nursery; their header words are readable.
            if unsafe { obj.has_valid_type() } {
                out.push(obj);
            } else {
                corrupt.push(obj.addr());
            }
        }
        (out, corrupt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZE: usize = 16;

    fn bumps(n: &mut Nursery, fast: bool) -> usize {
        let mut count = 0;
        while if fast {
            n.try_alloc_fast(SIZE)
        } else {
            n.try_alloc(SIZE)
        }
        .is_some()
        {
            count += 1;
        }
        count
    }

    #[test]
    fn the_fast_path_fills_the_gap_exactly() {
        let mut n = Nursery::new(64 << 10, 8 << 10).unwrap();
        assert!(n.fast_path_on());
        assert_eq!(bumps(&mut n, true), (8 << 10) / SIZE);
        assert!(
            n.try_alloc(SIZE).is_none(),
            "the slow path finds the gap full too"
        );
    }

    #[test]
    fn a_switched_off_fast_path_fails_where_the_slow_path_allocates() {
        let mut n = Nursery::new(64 << 10, 8 << 10).unwrap();
        n.set_fast_path(false);
        assert!(n.try_alloc_fast(SIZE).is_none());
        let first = n.try_alloc(SIZE).unwrap();
        n.set_fast_path(true);
        let second = n.try_alloc_fast(SIZE).unwrap();
        assert_eq!(
            second.addr(),
            first.addr() + SIZE,
            "the fast path bumps on from the slow one"
        );
        assert_eq!(bumps(&mut n, true), (8 << 10) / SIZE - 2);
    }

    #[test]
    fn the_switch_survives_a_rebuild_of_the_gaps_and_the_limit_follows_it() {
        let mut n = Nursery::new(64 << 10, 8 << 10).unwrap();
        n.set_fast_path(false);
        n.set_usable(16 << 10);
        assert!(
            n.try_alloc_fast(SIZE).is_none(),
            "still off after the gaps were rebuilt"
        );
        n.set_fast_path(true);
        assert_eq!(
            bumps(&mut n, true),
            (16 << 10) / SIZE,
            "the fast limit is the new end"
        );
        n.set_usable(4 << 10);
        assert_eq!(
            bumps(&mut n, true),
            (4 << 10) / SIZE,
            "and follows a shrink"
        );
    }
}
