//! What a sticky major collection keeps: the kept objects, and its own survivors only in a
//! growing heap.
//!
//! A sticky collection marks the fresh objects it reaches, sweeps the unmarked ones, and then
//! puts the mark bits back as they were before it marked ([`KeptMarks`]): the fresh objects
//! that survived stay *fresh*, so the next sticky collection looks at them again. A full
//! collection turns its survivors into kept objects, and so does a sticky one that found a
//! growing heap (the pacer's test, `Pacer::sticky_measures_growth`: most of the old generation
//! live at the last full collection, most fresh bytes live now): it stands for a full
//! collection there (it moves the threshold), what it promoted is expected to stay, and marking
//! it again at every sticky collection would be the cost sticky collections exist to avoid.
//!
//! Why: a structure that is being built when a sticky collection runs (binary-trees' deep
//! trees, a request's working set) is live then and dies soon after. Had the collection kept
//! it, no sticky collection could free it, and it would wait for the next full one, which marks
//! the whole heap. In binary-trees 21 these leftovers forced a full collection every four to
//! seven sticky ones (nine full ones, 415 ms, in its last two phases). Looked at again, they are
//! freed by the next sticky collection at the cost of marking what of them is still live.
//! The price is that a fresh object that lives on is marked by every sticky collection until
//! the next full one; the pacer's usefulness test counts that marking (a sticky collection's
//! `fresh` and live bytes include the fresh survivors of the ones before), so where it grows,
//! sticky collections back off (`pacer.rs`).
//!
//! The store log follows: a kept object in the log that still refers to a fresh survivor (or to
//! any object that is not kept) stays in the log, since the next sticky collection must mark
//! from it; the other logged survivors get `LOG_STORES` back, as after a full collection
//! ([`kept_refers_beyond_kept`]).
//!
//! Invariant (with `major.rs`): between major collections, while the heap keeps its marks, the
//! marked objects are exactly those the last collection that kept its survivors found live;
//! the sticky collections since neither added nor removed any (they never free a marked
//! object), and `HeapInner::kept_bytes` is their size.

use std::cell::Cell;

use crate::large::LargeSpace;
use crate::object::ObjPtr;
use crate::old_space::{OldSpace, SavedMarks};
use crate::trace::{SlotVisitor, Tracer};

/// The mark bits of the kept objects, saved before a sticky collection marks and put back
/// after it sweeps. Kept across collections, so the buffer is reused.
#[derive(Default)]
pub(crate) struct KeptMarks {
    old: SavedMarks,
    large: Vec<usize>,
}

impl KeptMarks {
    /// Saves the marks of both spaces (after the opening minor collection, before marking).
    pub(crate) fn save(&mut self, old: &OldSpace, large: &LargeSpace) {
        old.save_marks(&mut self.old);
        self.large = large.marked_addrs();
    }

    /// Puts the saved marks back (after the sweep, before anything allocates): the objects
    /// marked since are unmarked, fresh again.
    pub(crate) fn restore(&self, old: &mut OldSpace, large: &mut LargeSpace) {
        old.restore_marks(&self.old);
        large.restore_marks(&self.large);
    }
}

/// Whether `obj`, a live object, refers to an object that is not kept (fresh, young, or in
/// neither space), judged by the marks as they stand: after a sticky collection's marks are put
/// back, the logged kept objects for which this holds must stay in the store log.
///
/// # Safety
/// `obj` is a live, unforwarded object of this heap.
pub(crate) unsafe fn kept_refers_beyond_kept(
    obj: ObjPtr,
    old: &OldSpace,
    large: &LargeSpace,
) -> bool {
    let mut probe = BeyondKept {
        old,
        large,
        found: false,
    };
    // SAFETY: forwarded from the caller; the probe only reads the slots.
    unsafe { obj.trace(&mut Tracer::new(&mut probe)) };
    probe.found
}

/// Looks for a reference to an object that is not marked.
struct BeyondKept<'a> {
    old: &'a OldSpace,
    large: &'a LargeSpace,
    found: bool,
}

impl SlotVisitor for BeyondKept<'_> {
    fn visit(&mut self, slot: &Cell<*mut u8>) {
        let target = slot.get();
        if target.is_null() || self.found {
            return;
        }
        let addr = ObjPtr::start_addr_of(target);
        if !(self.old.survives_at(addr, false) || self.large.survives_at(addr)) {
            self.found = true;
        }
    }
}
