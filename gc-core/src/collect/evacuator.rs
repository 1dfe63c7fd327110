//! Evacuation, the minor collection's visitor: a reference to a nursery object is forwarded to
//! the object's copy in the old generation (made on the first visit), a pinned object stays
//! where it is and keeps its holder remembered, and a young large object is marked surviving.
//! The copy order is the module comment's (`collect`): last field first, through a stack.

use std::cell::Cell;
use std::collections::HashSet;

use crate::object::{copy_payload, HeaderFlags, ObjPtr, TypeInfo, HEADER_SIZE};
use crate::old_space::OldSpace;
use crate::trace::SlotVisitor;

/// Copies reachable nursery objects into the old generation; leaves pinned ones in place.
pub(crate) struct Evacuator<'a> {
    pub(super) nursery_start: usize,
    pub(super) nursery_len: usize,
    pub(super) old: &'a mut OldSpace,
    pub(super) gray: &'a mut Vec<ObjPtr>,
    pub(super) young_large_pending: bool,
    /// Set when the object being traced refers to a pinned nursery object (which stays
    /// young): that object, if old, must stay in the remembered set.
    pub(super) holder_keeps_young: bool,
    /// Pinned objects whose first parent was seen (only used by an injected fault).
    pub(super) parented: HashSet<usize>,
    /// The first object copied (only used by an injected fault).
    pub(super) first_copy: Option<ObjPtr>,
    pub(super) promoted_bytes: u64,
    pub(super) promoted_objects: u64,
}

impl SlotVisitor for Evacuator<'_> {
    // The last field's referent is copied and pushed first, so the first field's is scanned
    // first (see the copy order in the module comment).
    #[inline(always)]
    fn last_first() -> bool {
        true
    }

    // Only young objects are read: a nursery object's header (its forwarding address), or a
    // young large object's flags while there are any.
    #[inline(always)]
    fn reads_target(&self, target: *mut u8) -> bool {
        self.young_large_pending
            || target.addr().wrapping_sub(self.nursery_start) < self.nursery_len
    }

    // Inlined into every type's minor-collection scan entry (the `scan` module).
    #[inline(always)]
    fn visit(&mut self, slot: &Cell<*mut u8>) {
        let ptr = slot.get();
        let Some(obj) = ObjPtr::from_ref(ptr) else {
            return;
        };
        if obj.lies_in(self.nursery_start, self.nursery_len) {
            // SAFETY: a reference into the nursery refers to an object header there, either
            // live or already forwarded during this collection.
            if let Some(to) = unsafe { obj.forwardee() } {
                slot.set(to.to_ref());
                return;
            }
            // SAFETY: obj is a live, unforwarded nursery object.
            let flags = unsafe { obj.flags() };
            if flags.contains(HeaderFlags::PINNED) && !fault_on!(MovePinned) {
                // Pinned: it stays where it is. Scan it once; whoever points to it keeps a
                // reference into the young generation.
                if !fault_on!(ForgetPinnedParents) || self.parented.insert(obj.addr()) {
                    self.holder_keeps_young = true;
                }
                if !flags.contains(HeaderFlags::SURVIVED) {
                    // SAFETY: as above.
                    unsafe { obj.insert_flags(HeaderFlags::SURVIVED) };
                    self.gray.push(obj);
                }
                return;
            }
            let drops = flags.contains(HeaderFlags::NEEDS_DROP);
            // Everything the copy needs is read from the original, which is in cache, and the
            // copy is only written: a read of the copy (its header's flags updated in place,
            // its references tested) waited for its cache line to arrive from memory, and took
            // 40% of the scan loop's time on binary-trees. The copy's young referents are
            // fetched now, while the copy is made: it is scanned soon (it goes on the gray
            // stack, usually next), and each visit then reads a referent's header, which
            // otherwise waited for memory (a fifth of the scan loop's samples on
            // binary-trees 20; with the prefetch, minor collections took 12% less time).
            // All of it is read before the slot is allocated: the allocation's stores could
            // alias the original as far as the compiler knows, and reading the header, the type
            // and the references after them read each again (7 of the 120 instructions a
            // promotion took on binary-trees).
            let (start, len) = (self.nursery_start, self.nursery_len);
            // SAFETY: obj is a live, unforwarded nursery object (its header and payload intact
            // until it is forwarded below); a prefetch never faults.
            let (header, info, may_refer) = unsafe {
                let may_refer = obj.may_refer(|referent| {
                    if referent.addr().wrapping_sub(start) < len {
                        crate::scan::prefetch(referent.wrapping_sub(HEADER_SIZE));
                    }
                });
                (obj.header(), obj.type_info(), may_refer)
            };
            let (size, to) = match info.small {
                // Size and class read from the type (see `SmallShape`).
                Some(shape) => {
                    let size = shape.size as usize;
                    // SAFETY: as above.
                    debug_assert_eq!(size, unsafe { obj.size() });
                    let class = shape.class as usize;
                    (size, self.old.alloc_promoted_in(class, drops))
                }
                None => {
                    // SAFETY: as above.
                    let size = unsafe { obj.size() };
                    (size, self.old.alloc_promoted(size, drops))
                }
            };
            let Some(to) = to else {
                // Cannot leave a minor collection half done: memory is exhausted for good.
                std::process::abort();
            };
            let header = header
                .map_addr(|a| a | (HeaderFlags::TRACK_YOUNG | HeaderFlags::LOG_STORES).bits());
            // SAFETY: `to` is a fresh slot of at least `size` bytes that cannot overlap the
            // nursery; after the payload's copy and the header's store `to` is the object, with
            // the original's header and the flags of an old object that may refer to young
            // ones, and `obj` becomes a forwarding stub. (The header is not copied with the
            // payload, to be written once: see `copy_payload`.)
            unsafe {
                copy_payload(obj.start(), to.start(), size);
                to.set_header(header);
                obj.forward_to(to);
            }
            self.promoted_bytes += size as u64;
            self.promoted_objects += 1;
            if fault_on!(BarrierInHookRecording) && self.first_copy.is_none() {
                self.first_copy = Some(to);
            }
            slot.set(to.to_ref());
            // A copy whose references are all null (a tree's leaves) has nothing to scan: it
            // stays off the gray stack, which saves its scan call. It keeps `TRACK_YOUNG`, as a
            // scanned copy that refers to no pinned object does.
            // (`may_refer` was read from the original: the same references, the same answer.)
            if may_refer {
                self.gray.push(to);
            }
        } else if self.young_large_pending {
            // SAFETY: a reference outside the nursery refers to a live old or large object.
            let flags = unsafe { obj.flags() };
            if flags.contains(HeaderFlags::YOUNG_LARGE) && !flags.contains(HeaderFlags::SURVIVED) {
                // SAFETY: as above; the object is unforwarded.
                unsafe { obj.insert_flags(HeaderFlags::SURVIVED) };
                self.gray.push(obj);
            }
        }
    }
}

impl Evacuator<'_> {
    /// Starts the scan of one object whose [`Evacuator::holder_keeps_young`] is asked after.
    #[inline(always)]
    pub(crate) fn start_holder(&mut self) {
        self.holder_keeps_young = false;
    }

    /// Whether the object scanned since [`Evacuator::start_holder`] refers to a pinned nursery
    /// object (which stays young: that object, if old, stays remembered).
    #[inline(always)]
    pub(crate) fn holder_keeps_young(&self) -> bool {
        self.holder_keeps_young
    }

    /// Takes the gray stack's top object when it continues a run of copies of type `info`
    /// (`scan::minor_run_entry`): a promoted copy (outside the nursery, not a young large
    /// object, which the gray loop handles itself) whose type info is `info`. One header load
    /// answers all three.
    ///
    /// # Safety
    /// The gray stack holds live, unforwarded objects.
    #[inline(always)]
    pub(crate) unsafe fn next_in_run(&mut self, info: &'static TypeInfo) -> Option<ObjPtr> {
        let &next = self.gray.last()?;
        let copy = !next.lies_in(self.nursery_start, self.nursery_len);
        // SAFETY: forwarded from the caller: `next` is live and unforwarded, so its header is
        // its type info and flags.
        let same = copy && unsafe { next.is_of_type(info, HeaderFlags::YOUNG_LARGE) };
        if !same {
            return None;
        }
        self.gray.pop();
        Some(next)
    }

    /// Traces `obj` and reports whether it still refers to a pinned nursery object.
    ///
    /// # Safety
    /// `obj` is a live, unforwarded object.
    pub(super) unsafe fn trace_holder(&mut self, obj: ObjPtr) -> bool {
        self.start_holder();
        // SAFETY: forwarded from the caller.
        unsafe { (obj.type_info().scan.minor)(obj.payload(), self) };
        self.holder_keeps_young()
    }
}
