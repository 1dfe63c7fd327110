//! The major collection: mark-sweep of the old generation, full or sticky.
//!
//! It first runs a minor collection, so the young generation is empty and every object is old
//! (but for pinned nursery objects). Marking starts from the roots and uses an explicit stack
//! (a 10-million-node list is fine); mark bits are in side bitmaps (`old_space::marking`), so
//! marking reads the objects it traces and writes none. The sweep runs the drop glue of every
//! unmarked object, frees its slot (or unmaps it, for large objects), and the pacer sets the
//! next threshold.
//!
//! **Sticky major collections** (sticky mark bits, as in MMTk's StickyImmix and CRuby's
//! generational collector). A full collection clears every mark bit first; the sweep then
//! frees exactly the unmarked objects, so afterwards the bits are set on exactly the objects it
//! found live: the *kept* objects. Objects that reach the old generation later (promoted, born
//! old, young large objects that survive) start with clear bits: the *fresh* objects. A sticky
//! collection marks from the roots and from the kept objects in the store log, stopping at
//! kept objects, so its cost is that of the fresh objects that survive, not of the whole old
//! generation; its sweep frees the unmarked, which are fresh, and then it puts the bits back as
//! they were before it marked, so its survivors stay fresh (`sticky.rs` says why).
//! Kept objects that died since the last full collection wait for the next one (the pacer's
//! rules decide when: `pacer.rs`). Automatic collections may be sticky; explicit ones,
//! `freeze`, and those that make room under the heap limit are full, and while the heap is
//! frozen every one is.
//!
//! Why nothing live is freed: a fresh object is reachable from the roots through fresh objects
//! only, or through some kept object that refers to it directly. That kept object got the
//! reference after the last full collection (there were no fresh objects then), by a store
//! (which logs it: `store.rs`) or by a minor collection promoting the referent of a remembered
//! object (remembered objects are logged, and one still remembered after a major collection
//! stays logged), and a sticky collection leaves a logged kept object in the log while it
//! refers to an object that is not kept. So marking from the roots and from the kept objects in
//! the log reaches it.
//!
//! Invariants (with `heap/mod.rs`): outside a major collection, while `marks_kept` holds, an
//! old object's mark bit is set exactly when the last major collection that kept its survivors
//! (a full one, or a sticky one in a growing heap: `sticky.rs`) found it live (fresh
//! objects' bits are clear, and a free slot's bit is clear); a kept object that refers to a
//! fresh or young object is in the store log. The verifier checks both.

use std::cell::Cell;
use std::time::Instant;

use super::marker::MarkQueue;
use super::sticky::kept_refers_beyond_kept;
use super::{visit_roots, Marker};
use crate::abort::AbortOnUnwind;
use crate::addr_map::AddrSet;
use crate::heap::HeapInner;
use crate::object::{HeaderFlags, ObjPtr};
use crate::old_space::MarkCursor;
use crate::trace::SlotVisitor;

impl HeapInner {
    /// Runs an automatic major collection: sticky when the pacer allows it and the mark bits
    /// still hold what the last major collection found live (never while the heap is frozen,
    /// or before a major collection since `unfreeze`), full otherwise.
    pub(crate) fn collect_major_automatic(&mut self) {
        let sticky = self.pacer.next_major_sticky() && self.marks_kept;
        self.run_major(sticky);
    }

    /// Runs a full major collection (explicit ones, `freeze`, and room under the heap limit).
    pub(crate) fn collect_major(&mut self) {
        self.run_major(false);
    }

    /// Runs a major collection (which starts with a minor one); `sticky` keeps the marks of
    /// the last one (the module comment).
    fn run_major(&mut self, sticky: bool) {
        let start = Instant::now();
        let at = self.recorder.since_start();
        let memory_before = self.memory_in_use();
        let arenas_before = self.old.arena_count();
        let arena_bytes_before = self.old.bytes_in_use();
        let large_bytes_before = self.large.bytes();
        self.in_major = true;
        self.collect_minor();
        // Every byte the old generation gained since the last collection that kept its
        // survivors is fresh (nothing old is freed between major collections, and the sticky
        // ones between kept nothing: `sticky.rs`).
        let kept_before = self.kept_bytes;
        let old_before = self.old_generation_bytes();
        let fresh = old_before.saturating_sub(kept_before);
        let guard = AbortOnUnwind::new("Trace::trace (or the collector itself)");
        if sticky {
            self.kept_marks.save(&self.old, &self.large);
        } else {
            self.old.clear_marks();
            self.large.clear_marks();
        }
        let HeapInner {
            nursery,
            old,
            large,
            mutator,
            providers,
            pins,
            persistent,
            gray,
            stats,
            identity,
            weak,
            kept_marks,
            pacer,
            ..
        } = self;
        let mut nursery_marked = AddrSet::default();
        let frozen = self.frozen;
        let mutator = mutator.get_mut();
        // Roots among the frozen: objects the mutator stored into, and remembered ones (old
        // parents of pinned young objects at freeze time). Found before marking starts: the
        // mark cursor must be the only reader of the side tables while it is in use
        // (`old_space::marking`).
        let frozen_roots: Vec<ObjPtr> = if frozen {
            mutator
                .frozen_dirty
                .iter()
                .copied()
                .chain(mutator.remembered.iter().copied().filter(|&o| {
                    // SAFETY: remembered objects are live old or large objects.
                    unsafe {
                        if o.flags().contains(HeaderFlags::LARGE) {
                            large.is_sealed(o)
                        } else {
                            old.is_sealed(o)
                        }
                    }
                }))
                .collect()
        } else {
            Vec::new()
        };
        // A sticky collection's extra roots: the kept (marked) objects written since the last
        // major collection, which may refer to fresh objects. Logged objects that are fresh
        // themselves are marked only if reached. Found before marking, like the frozen roots.
        let kept_written: Vec<ObjPtr> = if sticky {
            mutator
                .store_log
                .iter()
                .copied()
                .filter(|o| {
                    let addr = o.addr();
                    large.survives_at(addr) || old.survives_at(addr, false)
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut marker = Marker {
            old: &mut *old,
            large: &mut *large,
            frozen,
            nursery: (nursery.start_addr(), nursery.capacity()),
            nursery_marked: &mut nursery_marked,
            stack: gray,
            cursor: MarkCursor::default(),
            ahead: MarkQueue::new(),
            last_block: 0,
        };
        visit_roots(&mutator.handles, pins, providers, &mut marker);
        for slot in persistent.all_roots() {
            marker.visit(Cell::from_mut(slot));
        }
        for obj in frozen_roots.into_iter().chain(kept_written) {
            // SAFETY: frozen and kept objects are live and unforwarded; tracing only reads them.
            unsafe { (obj.type_info().scan.major)(obj.payload(), &mut marker) };
        }
        // The marker does not read an old object when it marks it (`old_space::marking`): it
        // prefetches the object as it pushes it, and the object's one read is its scan here,
        // in the order `Marker::next_to_scan` hands the objects out. Objects of one shape in a
        // row are scanned in one call of their type's run entry (`scan::major_run_entry`).
        let mut next = marker.next_to_scan();
        while let Some(obj) = next {
            // SAFETY: marked objects are live and unforwarded.
            next = unsafe { (obj.type_info().scan.major_run)(obj, &mut marker) };
        }
        // Whether an object survived, by its address alone (nothing is read from the objects):
        // after the opening minor collection every object is old, large or a pinned nursery
        // object, and frozen ones are alive by definition.
        let survives = |addr: usize| {
            if nursery.contains(addr) {
                nursery_marked.contains(&addr)
            } else if large.contains(addr) {
                large.survives_at(addr)
            } else {
                old.survives_at(addr, frozen)
            }
        };
        // Remembered objects (old parents of pinned nursery objects) that died leave the set.
        mutator.remembered.retain(|obj| survives(obj.addr()));
        // The store log starts again from its survivors (sorted out after the sweep).
        let mut logged = std::mem::take(&mut mutator.store_log);
        logged.retain(|obj| survives(obj.addr()));
        // Weak references to unmarked objects are cleared before those objects are freed.
        weak.drain();
        weak.sweep(|_| true, |obj| survives(obj.addr()).then_some(obj));
        // Identity hashes of the dead are forgotten from the table's side, so the sweep reads
        // no dead object's header for them.
        identity.forget_dead(survives);
        // SAFETY: (in the closure) the sweep hands over unmarked objects of pages holding
        // objects with drop glue, which are unreachable, intact, and never read again.
        let swept = old.sweep(|obj| unsafe { HeapInner::drop_dead(stats, obj) });
        let mut bytes_freed = swept.bytes_freed;
        for obj in large.unmarked() {
            // SAFETY: unmarked large objects are unreachable and intact.
            unsafe { HeapInner::drop_dead(stats, obj) };
            bytes_freed += large.free(obj);
        }
        // A sticky collection's survivors stay fresh: only the kept objects stay marked
        // (`sticky.rs`). Except in a growing heap, where its live bytes stand for a full
        // collection's (it moves the threshold: `pacer.rs`) and it keeps them as one would.
        // (`old_generation_bytes`, with `self` borrowed field by field.)
        let live = old.bytes_in_use() + large.bytes();
        let keeps_survivors =
            !sticky || pacer.sticky_measures_growth(fresh, live.saturating_sub(kept_before));
        if !keeps_survivors {
            kept_marks.restore(old, large);
        }
        // Now every survivor is kept, or (survivors left fresh) the kept objects are those of
        // the last full collection. A logged survivor gets `LOG_STORES` back, except a
        // remembered one (it lacks `TRACK_YOUNG`), which stays logged: the minor collection that
        // promotes its pinned referent writes it; and except a kept one that still refers to an
        // object that is not kept (a fresh survivor), which the next sticky collection must mark
        // from.
        for obj in logged {
            // SAFETY: a surviving logged object is a live, unforwarded old object.
            unsafe {
                let stays = !obj.flags().contains(HeaderFlags::TRACK_YOUNG)
                    || (!keeps_survivors
                        && !fault_on!(ClearLogAfterSticky)
                        && (old.survives_at(obj.addr(), false) || large.survives_at(obj.addr()))
                        && kept_refers_beyond_kept(obj, old, large));
                if stays {
                    mutator.store_log.push(obj);
                } else {
                    obj.insert_flags(HeaderFlags::LOG_STORES);
                }
            }
        }

        guard.disarm();
        self.stats.live_bytes_after_major = live;
        if keeps_survivors {
            self.kept_bytes = live;
        }
        if sticky {
            let fresh_live = live.saturating_sub(kept_before);
            self.pacer.after_sticky(live, fresh, fresh_live);
            self.stats.sticky_major_collections += 1;
        } else {
            self.pacer.after_full(old_before, live);
        }
        self.marks_kept = !self.frozen;
        self.stats.major_threshold = self.pacer.threshold();
        let plan = self
            .retention
            .after_major(live, self.pacer.threshold(), self.pacer.factor());
        self.old.release_surplus(plan.keep, plan.min_age);
        // The young generation's memory bound follows the last full collection's live bytes (a
        // sticky one's include kept objects that may have died).
        if let Some(full_live) = self.pacer.last_full_live() {
            self.young.after_major(full_live);
        }
        self.refresh_nursery_limit();
        self.stats.major_collections += 1;
        let duration = start.elapsed();
        self.stats.major_pause.record(duration);
        self.record_event(gc_hooks::Event::MajorStep(gc_hooks::MajorStepEvent {
            old_state: gc_hooks::MajorState::Idle,
            new_state: gc_hooks::MajorState::Done,
            done: true,
            duration,
        }));
        self.record_event(gc_hooks::Event::Major(gc_hooks::MajorEvent {
            number: self.stats.major_collections,
            at,
            duration,
            arenas_before: arenas_before as u64,
            arenas_after: self.old.arena_count() as u64,
            arena_bytes_before: arena_bytes_before as u64,
            arena_bytes_after: self.old.bytes_in_use() as u64,
            large_bytes_before: large_bytes_before as u64,
            large_bytes_after: self.large.bytes() as u64,
            bytes_freed: bytes_freed as u64,
            pinned_objects: self.pins.pinned_objects() as u64,
            memory_before: memory_before as u64,
            memory_after: self.memory_in_use() as u64,
            sticky,
        }));
        self.in_major = false;
        if self.config.debug_level() >= 1 {
            self.assert_verified("major collection");
        }
        self.collection_finished();
    }
}
