//! Marking, the major collection's visitor: old objects are marked in the side bitmaps
//! (`old_space::marking`) and pushed unread, pinned nursery objects in a side set, large
//! objects in the large space; and the order in which marked objects are scanned
//! ([`Marker::next_to_scan`]: the mark stack, and a small queue through which a far object's
//! prefetch completes before its scan).

use std::cell::Cell;

use crate::addr_map::AddrSet;
use crate::large::LargeSpace;
use crate::object::ObjPtr;
use crate::old_space::{MarkCursor, OldSpace};
use crate::trace::SlotVisitor;

/// Marks reachable objects: old ones in the side bitmaps, pinned nursery ones in a side set.
/// Frozen objects are neither marked nor traced (their outgoing references that matter are
/// traced from the frozen roots).
pub(crate) struct Marker<'a> {
    pub(super) old: &'a mut OldSpace,
    pub(super) large: &'a mut LargeSpace,
    pub(super) frozen: bool,
    pub(super) nursery: (usize, usize),
    pub(super) nursery_marked: &'a mut AddrSet,
    pub(super) stack: &'a mut Vec<ObjPtr>,
    /// The old-space page marked last (see `old_space::marking`).
    pub(super) cursor: MarkCursor,
    /// Marked objects far from the one scanned last, waiting for their prefetch to complete
    /// ([`Marker::next_to_scan`]).
    pub(super) ahead: MarkQueue,
    /// The block ([`LOCALITY`]) of the object scanned last.
    pub(super) last_block: usize,
}

impl Marker<'_> {
    /// The next marked object to scan, taken off the mark stack or the queue, or `None` when
    /// both are empty (marking is done). An object near the one scanned last is scanned at
    /// once, which keeps the depth-first walk over objects promoted together (binary trees) in
    /// address order (a queue for everything measured twice as slow there). A far one waits in
    /// the queue while its prefetch completes, and the queue's oldest, waiting the longest, is
    /// scanned if the queue is full (a tree reached in random order, as in splay, otherwise
    /// stalls on every object).
    #[inline(always)]
    pub(crate) fn next_to_scan(&mut self) -> Option<ObjPtr> {
        let obj = loop {
            match self.stack.pop() {
                Some(obj) if obj.addr() & !(LOCALITY - 1) == self.last_block => break obj,
                Some(obj) => {
                    if self.ahead.len() < MARK_LOOKAHEAD {
                        self.ahead.push(obj);
                        continue;
                    }
                    let oldest = self.ahead.pop().expect("the queue is full");
                    self.ahead.push(obj);
                    break oldest;
                }
                None => break self.ahead.pop()?,
            }
        };
        self.last_block = obj.addr() & !(LOCALITY - 1);
        Some(obj)
    }
}

impl SlotVisitor for Marker<'_> {
    // As in evacuation: the first field's referent is pushed last, so it is scanned first,
    // which walks a structure in the order its promotion laid it out.
    #[inline(always)]
    fn last_first() -> bool {
        true
    }

    // Inlined into every type's major-collection scan entry (the `scan` module).
    #[inline(always)]
    fn visit(&mut self, slot: &Cell<*mut u8>) {
        let Some(obj) = ObjPtr::from_ref(slot.get()) else {
            return;
        };
        let newly = if obj.lies_in(self.nursery.0, self.nursery.1) {
            // After the opening minor collection only pinned objects remain in the nursery.
            self.nursery_marked.insert(obj.addr())
        } else {
            // SAFETY: every other reference refers to a live old or large object.
            match unsafe { self.old.mark_if_here(obj, &mut self.cursor) } {
                // An old object: pushed without reading it (a leaf's scan does nothing), so
                // its one read is the scan's, which the marking loop prefetches.
                Some(newly) => {
                    if !newly {
                        return;
                    }
                    // Past a few thousand entries (a reference array of a million leaves is
                    // scanned in one go), the header is read now to keep leaves off the
                    // stack, which would otherwise grow by the array's length.
                    if self.stack.len() >= MARK_STACK_LEAF_LIMIT
                        // SAFETY: obj is a live, unforwarded old object.
                        && unsafe { obj.type_info() }.trace.is_none()
                    {
                        return;
                    }
                    crate::scan::prefetch(obj.start());
                    self.stack.push(obj);
                    return;
                }
                // A large object (few, so reading its header costs little).
                None => {
                    if self.frozen && self.large.is_sealed(obj) {
                        return;
                    }
                    self.large.mark(obj)
                }
            }
        };
        // SAFETY: obj is live and unforwarded.
        if newly && unsafe { obj.type_info() }.trace.is_some() {
            self.stack.push(obj);
        }
    }
}

/// Up to this many entries, the mark stack takes old objects without their headers being read
/// (leaves included: their scan does nothing); past it, leaves are kept off it.
pub(super) const MARK_STACK_LEAF_LIMIT: usize = 4096;

/// How many marked objects wait, prefetched, between the mark stack and their scan (a power of
/// two).
const MARK_LOOKAHEAD: usize = 8;

/// Objects within one such aligned block of memory count as near each other for marking: an
/// object near the one scanned last is scanned at once, the others wait in the queue.
const LOCALITY: usize = 4096;

/// The objects between the mark stack and their scan: a ring, oldest first. (Counters that only
/// grow, masked on use: the cheapest ring, since it runs once per marked object.)
pub(super) struct MarkQueue {
    objects: [*mut u8; MARK_LOOKAHEAD],
    /// Objects taken out so far.
    head: usize,
    /// Objects put in so far.
    tail: usize,
}

impl MarkQueue {
    pub(super) fn new() -> MarkQueue {
        MarkQueue {
            objects: [std::ptr::null_mut(); MARK_LOOKAHEAD],
            head: 0,
            tail: 0,
        }
    }

    #[inline(always)]
    fn len(&self) -> usize {
        self.tail.wrapping_sub(self.head)
    }

    #[inline(always)]
    fn push(&mut self, obj: ObjPtr) {
        debug_assert!(self.len() < MARK_LOOKAHEAD);
        self.objects[self.tail % MARK_LOOKAHEAD] = obj.to_ref();
        self.tail = self.tail.wrapping_add(1);
    }

    #[inline(always)]
    fn pop(&mut self) -> Option<ObjPtr> {
        if self.len() == 0 {
            return None;
        }
        let obj = self.objects[self.head % MARK_LOOKAHEAD];
        self.head = self.head.wrapping_add(1);
        ObjPtr::from_ref(obj)
    }
}
