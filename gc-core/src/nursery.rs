//! The nursery: where almost every object is born.
//!
//! One contiguous region with a bump pointer. Allocation is "does `size` fit between `top` and
//! the end? then hand out `top` and advance it" — an inlined compare and add. When it does not
//! fit, the heap's out-of-line slow path runs a minor collection, which copies the survivors out
//! and resets `top` to the start.
//!
//! Invariants:
//! - `[start, top)` is a sequence of objects laid end to end, each `align_up(header + payload)`
//!   bytes long, so the nursery can be walked from `start` (the verifier does);
//! - `[top, end)` holds no object; after a minor collection with poisoning on, every byte of
//!   the previously used part is [`POISON`];
//! - nothing outside a minor collection holds a forwarded nursery object.

use crate::object::ObjPtr;
use crate::page_source::Region;

/// The byte freed nursery memory is filled with when poisoning is on.
pub const POISON: u8 = 0xDB;

pub(crate) struct Nursery {
    region: Region,
    top: *mut u8,
    /// Allocation stops here: the region's end, or earlier when the heap limit leaves less
    /// room for promoting the nursery's contents.
    limit: usize,
}

impl Nursery {
    pub(crate) fn new(size: usize) -> Option<Nursery> {
        let region = Region::new(size, 4096)?;
        let top = region.start();
        let limit = top.addr() + region.len();
        Some(Nursery { region, top, limit })
    }

    /// Bump-allocates `size` bytes (a multiple of 8).
    #[inline(always)]
    pub(crate) fn try_alloc(&mut self, size: usize) -> Option<ObjPtr> {
        let top = self.top;
        if size <= self.limit - top.addr() {
            // SAFETY: size <= limit - top and limit <= the region's end, so top + size stays
            // within (or one past) the region.
            self.top = unsafe { top.add(size) };
            ObjPtr::new(top)
        } else {
            None
        }
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

    /// Bytes allocation may use (at most the capacity).
    pub(crate) fn usable(&self) -> usize {
        self.limit - self.region.start().addr()
    }

    /// Sets how many bytes allocation may use. Only while the nursery is empty.
    pub(crate) fn set_usable(&mut self, bytes: usize) {
        debug_assert_eq!(self.used(), 0);
        self.limit = self.region.start().addr() + bytes.min(self.region.len());
    }

    pub(crate) fn used(&self) -> usize {
        self.top.addr() - self.region.start().addr()
    }

    pub(crate) fn top_addr(&self) -> usize {
        self.top.addr()
    }

    /// Empties the nursery; with `poison`, overwrites what was used.
    pub(crate) fn reset(&mut self, poison: bool) {
        let start = self.region.start();
        if poison {
            // SAFETY: [start, start + used) lies inside the region, and the minor collection
            // that calls this has moved or dropped every object in it.
            unsafe { std::ptr::write_bytes(start, POISON, self.used()) };
        }
        self.top = start;
    }

    /// The objects in `[start, top)`, in address order.
    ///
    /// # Safety
    /// No object in the nursery is forwarded (true outside a minor collection).
    pub(crate) unsafe fn objects(&self) -> Vec<ObjPtr> {
        let mut out = Vec::new();
        let mut p = self.region.start();
        while p.addr() < self.top.addr() {
            let obj = ObjPtr::new(p).expect("nursery pointers are non-null");
            out.push(obj);
            // SAFETY: p is the start of an unforwarded object (module invariant), and its
            // size keeps p within [start, top].
            p = unsafe { p.add(obj.size()) };
        }
        out
    }
}
