//! Collections: the copying minor collection and the mark-sweep major collection.
//!
//! **Minor collection** (Cheney-style, no recursion). Roots are the handle stack, the
//! embedder's root providers and the remembered set. Each reference to a nursery object is
//! *evacuated*: the object is copied into an old-generation slot, its nursery header is
//! overwritten with the forwarding address, and the reference is updated; a second reference
//! to the same object finds the forwarding address and is updated to it. Each copy is pushed on
//! a gray stack and scanned in turn, so the work is proportional to the survivors, never to the
//! nursery's size. Because the gray list is a stack (last copied, first scanned), copying runs
//! approximately depth-first (Moon's order) rather than Cheney's breadth-first: an object's
//! children are copied next to each other and their subtrees follow. A fixed layout's
//! references are visited last field first (`SlotVisitor::last_first`), so the first field's
//! referent is pushed last and its subtree is copied next: a structure ends up laid out in the
//! order a program walks it, first field first (a tree in pre-order, left subtree first), and
//! such a walk reads promoted memory forward. (Visited first field first, the copy ran the last
//! subtree first, and checking a promoted binary tree took twice as long.) Marking visits in
//! the same order, so it too walks the layout forward. Objects are scanned through their
//! type's scan entries (`scan`), with this collector's visitor inlined. Young large objects are not copied: reaching one sets `SURVIVED` and scans
//! it. Afterwards:
//! - remembered objects get `TRACK_YOUNG` back (they no longer point into the young
//!   generation: everything young they referenced was promoted);
//! - nursery objects with drop glue that were not forwarded are dead: their glue runs now
//!   (from the `young_drop` side list, so dead objects without glue cost nothing);
//! - young large objects that were not reached are dropped and unmapped; survivors become old;
//! - the nursery is reset (and poisoned when `nursery_debug` is on).
//!
//! **Major collection** (stop-the-world, full or sticky): see `major.rs`.
//!
//! Why drop glue cannot reach other GC objects: dereferencing a `Member` needs a `Scope`, which
//! borrows the heap mutably, and the heap is borrowed by the collection that runs the glue;
//! moving a `Member` out of the dying object would need `Drop` on a type that holds
//! references, which the `Trace` contract (and the derive) forbids.

use std::cell::Cell;
use std::collections::HashSet;
use std::time::Instant;

use crate::abort::AbortOnUnwind;
use crate::addr_map::AddrSet;
use crate::handle_stack::HandleStack;
use crate::heap::HeapInner;
use crate::object::{HeaderFlags, ObjPtr};
use crate::pin::PinTable;
use crate::roots::{RootProvider, RootTracer};
use crate::trace::{SlotVisitor, Tracer};

mod evacuator;
mod major;
mod marker;
mod sticky;

pub(crate) use evacuator::Evacuator;
pub(crate) use marker::Marker;
pub(crate) use sticky::KeptMarks;

/// Visits every root of the heap: the handle stack, the pins and the root providers.
fn visit_roots(
    handles: &HandleStack,
    pins: &mut PinTable,
    providers: &mut [Option<Box<dyn RootProvider>>],
    visitor: &mut dyn SlotVisitor,
) {
    for slot in handles.live_slots().chain(pins.roots().map(Cell::from_mut)) {
        if !slot.get().is_null() {
            visitor.visit(slot);
        }
    }
    let mut tracer = Tracer::new(visitor);
    for provider in providers.iter_mut().flatten() {
        let guard = AbortOnUnwind::new("RootProvider::trace_roots");
        provider.trace_roots(&mut RootTracer::new(&mut tracer));
        guard.disarm();
    }
}

impl HeapInner {
    /// Runs a minor collection.
    pub(crate) fn collect_minor(&mut self) {
        let start = Instant::now();
        let at = self.recorder.since_start();
        let memory_before = self.memory_in_use();
        let allocated = self.nursery.used();
        self.stats.bytes_allocated += allocated as u64;
        self.drain_released_pins();
        self.persistent.drain();
        // From here until the nursery is reset the heap is half-collected (see `abort.rs`).
        let guard = AbortOnUnwind::new("Trace::trace (or the collector itself)");
        let HeapInner {
            nursery,
            old,
            mutator,
            providers,
            pins,
            persistent,
            gray,
            young_large,
            ..
        } = self;
        let mutator = mutator.get_mut();
        let mut ev = Evacuator {
            nursery_start: nursery.start_addr(),
            nursery_len: nursery.capacity(),
            old,
            gray,
            young_large_pending: !young_large.is_empty(),
            holder_keeps_young: false,
            parented: HashSet::new(),
            first_copy: None,
            promoted_bytes: 0,
            promoted_objects: 0,
        };
        visit_roots(&mutator.handles, pins, providers, &mut ev);
        // Persistent roots: only those that may refer to young objects.
        let young_persistent = persistent.take_young();
        for &index in &young_persistent {
            if let Some(slot) = persistent.slot_mut(index) {
                ev.visit(Cell::from_mut(slot));
            }
        }
        let mut remembered = Vec::new();
        for obj in std::mem::take(&mut mutator.remembered) {
            // SAFETY: remembered objects are live old objects (heap invariant). After their
            // fields are evacuated they point to no young object unless to a pinned one.
            unsafe {
                if ev.trace_holder(obj) {
                    remembered.push(obj);
                } else {
                    obj.insert_flags(HeaderFlags::TRACK_YOUNG);
                }
            }
        }
        // Frozen objects the mutator stored into are roots (nothing else traces frozen objects).
        for &obj in &mutator.frozen_dirty {
            // SAFETY: frozen objects are live, unforwarded old objects; only the ones the
            // mutator wrote are touched here.
            unsafe {
                if ev.trace_holder(obj) && obj.flags().contains(HeaderFlags::TRACK_YOUNG) {
                    obj.remove_flags(HeaderFlags::TRACK_YOUNG);
                    remembered.push(obj);
                    HeapInner::log_stores(obj, &mut mutator.store_log);
                }
            }
        }
        while let Some(obj) = ev.gray.pop() {
            // SAFETY: gray objects are live: copies just made, young large objects reached,
            // or pinned nursery objects reached; none is forwarded.
            unsafe {
                let flags = obj.flags();
                let in_nursery = obj.lies_in(ev.nursery_start, ev.nursery_len);
                if in_nursery {
                    // A pinned object: it stays young, so it needs no remembering.
                    (obj.type_info().scan.minor)(obj.payload(), &mut ev);
                    continue;
                }
                if flags.contains(HeaderFlags::YOUNG_LARGE) {
                    // A young large object reached: it becomes old in place.
                    obj.set_flags(
                        (flags - HeaderFlags::YOUNG_LARGE - HeaderFlags::SURVIVED)
                            | HeaderFlags::TRACK_YOUNG
                            | HeaderFlags::LOG_STORES,
                    );
                }
                // A copy (or a young large object): scanned with the run of copies of its
                // type above it on the stack, in one call.
                if let Some(holder) = (obj.type_info().scan.minor_run)(obj, &mut ev) {
                    // It keeps a pinned young referent: remembered, and so logged.
                    holder.remove_flags(HeaderFlags::TRACK_YOUNG);
                    remembered.push(holder);
                    HeapInner::log_stores(holder, &mut mutator.store_log);
                }
            }
        }
        // Promotion is over: the runs' unused slots go back (the bitmaps are exact again).
        ev.old.end_runs();
        let (promoted_bytes, promoted_objects) = (ev.promoted_bytes, ev.promoted_objects);
        let first_copy = ev.first_copy;
        mutator.remembered = remembered;

        // Every survivor is found: follow moved objects and forget dead ones in the side
        // tables, before anything is freed. (Reached young large objects have lost
        // YOUNG_LARGE by now; pinned ones still carry PINNED.)
        // SAFETY: young hashed objects are forwarded, pinned, or dead with intact headers.
        unsafe { self.identity.after_minor() };
        self.weak.drain();
        let (n_start, n_len) = (nursery.start_addr(), nursery.capacity());
        let young_large_set: AddrSet = young_large.iter().map(|o| o.addr()).collect();
        let young_large = young_large_set;
        let skip_weak = fault_on!(SkipWeakClearing);
        self.weak.sweep(
            |addr| {
                !skip_weak && (addr.wrapping_sub(n_start) < n_len || young_large.contains(&addr))
            },
            // SAFETY: (in the closure) weak targets are objects of this heap whose headers
            // are intact until the nursery is reset and dead large objects are freed below.
            |obj| unsafe {
                if let Some(to) = obj.forwardee() {
                    return Some(to); // copied
                }
                let flags = obj.flags();
                // Kept in place: pinned, or a young large object that was reached (it lost
                // YOUNG_LARGE when it was scanned). Anything else here died.
                let stayed = flags.contains(HeaderFlags::PINNED)
                    || young_large.contains(&obj.addr())
                        && !flags.contains(HeaderFlags::YOUNG_LARGE);
                stayed.then_some(obj)
            },
        );

        // Pinned nursery objects survive in place.
        let pinned: Vec<ObjPtr> = pins
            .objects()
            .into_iter()
            .filter(|o| nursery.contains(o.addr()))
            .collect();
        for obj in &pinned {
            // SAFETY: pinned objects are live and unforwarded.
            unsafe { obj.remove_flags(HeaderFlags::SURVIVED) };
        }
        let mut kept_drops = Vec::new();
        for obj in std::mem::take(&mut self.young_drop) {
            // SAFETY: young_drop holds nursery objects; an unforwarded one either survived in
            // place (pinned) or was not reached and is dead, with header and payload intact.
            unsafe {
                if obj.forwardee().is_some() {
                    continue;
                }
                if obj.flags().contains(HeaderFlags::PINNED) {
                    kept_drops.push(obj);
                } else {
                    HeapInner::drop_dead(&mut self.stats, obj);
                }
            }
        }
        self.young_drop = kept_drops;
        let young_large = std::mem::take(&mut self.young_large);
        // Before any drop glue runs (it may panic), so that the filter never lags the list.
        self.refresh_barrier_filter();
        for obj in young_large {
            // SAFETY: young_large holds young large objects, never forwarded; the reached ones
            // lost YOUNG_LARGE when they were scanned, the others are dead.
            unsafe {
                if obj.flags().contains(HeaderFlags::YOUNG_LARGE) {
                    if obj.flags().contains(HeaderFlags::HASHED) {
                        self.identity.forget(obj);
                    }
                    HeapInner::drop_dead(&mut self.stats, obj);
                    self.large.free(obj);
                }
            }
        }
        let (n_start, n_len) = (self.nursery.start_addr(), self.nursery.capacity());
        self.persistent
            .keep_young(young_persistent, |a| a.wrapping_sub(n_start) < n_len);
        // SAFETY: pinned objects are live and unforwarded.
        let pinned_bytes: usize = pinned.iter().map(|p| unsafe { p.size() }).sum();
        self.nursery.reset(pinned, self.config.nursery_debug());
        self.gaps_pin_epoch = self.pins.young_releases();
        guard.disarm();
        // The heap's size for the young generation's memory bound: what the last major
        // collection found live (garbage waiting in the old generation is not the heap's size);
        // unknown before the first one.
        // (After a sticky one, what the last full one found: the sticky one's live bytes include
        // kept objects that may have died.)
        let old_size = self.pacer.last_full_live();
        let pause = start.elapsed();
        // The share of the time since the previous minor collection that collections took
        // (this one and any major ones between), for the policy's throughput rule.
        let major_total = self.stats.major_pause.total;
        let collector_share = self.last_minor_end.map(|(end, majors_then)| {
            let collecting = pause + major_total.saturating_sub(majors_then);
            let elapsed = start.saturating_duration_since(end) + pause;
            collecting.as_secs_f64() / elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
        });
        self.young.after_minor(
            allocated,
            promoted_bytes as usize + pinned_bytes,
            pause.as_secs_f64(),
            collector_share,
            old_size,
        );
        self.refresh_nursery_limit();
        self.pins.stats.fragmentation_bytes = self.nursery.fragmentation();

        self.stats.minor_collections += 1;
        self.stats.bytes_promoted += promoted_bytes;
        self.stats.objects_promoted += promoted_objects;
        let duration = start.elapsed();
        if !self.in_major {
            // A major collection's opening minor one does not start a window: the major's
            // recorded pause includes it, and belongs in the next window whole.
            self.last_minor_end = Some((Instant::now(), major_total));
        }
        self.stats.minor_pause.record(duration);
        self.minor_histogram.record(duration);
        if fault_on!(BarrierInHookRecording) && self.hooks.is_some() {
            // The faulty hook recording: a write barrier inside the collection clears the
            // barrier bit of an old object, but its remembered-set entry is lost.
            if let Some(obj) = first_copy {
                // SAFETY: `obj` is a live copy made by this collection.
                unsafe { obj.remove_flags(HeaderFlags::TRACK_YOUNG) };
            }
        }
        self.record_event(gc_hooks::Event::Minor(gc_hooks::MinorEvent {
            number: self.stats.minor_collections,
            at,
            duration,
            memory_before: memory_before as u64,
            memory_after: self.memory_in_use() as u64,
            surviving_bytes: promoted_bytes + pinned_bytes as u64,
            promoted_bytes,
            pinned_objects: self.pins.young_pinned() as u64,
            nursery_size: self.nursery.usable() as u64,
        }));
        match self.config.debug_level() {
            3.. => self.assert_verified("minor collection"),
            2 => {
                let report = self.verify_young();
                assert!(
                    report.is_ok(),
                    "young-generation verification failed after a minor collection:\n{report}"
                );
            }
            _ => {}
        }
        if !self.in_major {
            self.collection_finished();
        }
    }

    /// After an outermost collection: the sinks write out its events and readers on other
    /// threads get fresh counters. (User hooks run later, once the triggering allocation is
    /// rooted; see `hooks.rs`.)
    pub(super) fn collection_finished(&mut self) {
        self.recorder.flush_sinks();
        self.publish_stats();
    }

    pub(super) fn assert_verified(&mut self, after: &str) {
        let report = self.verify();
        assert!(
            report.is_ok(),
            "heap verification failed after a {after}:\n{report}"
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::{Config, Heap};

    #[test]
    fn the_sizing_policys_window_starts_after_a_minor_collection_but_not_a_majors_opening_one() {
        let mut heap = Heap::new(Config::default()).unwrap();
        // A major collection runs a minor one first; its pause is in the major's, which the
        // next window counts whole, so that opening collection must not start the window.
        heap.collect_major();
        assert!(heap.inner.last_minor_end.is_none());
        heap.inner.collect_minor();
        let (_, majors_then) = heap.inner.last_minor_end.expect("a window starts");
        assert_eq!(majors_then, heap.inner.stats.major_pause.total);
        heap.collect_major();
        let (_, still) = heap.inner.last_minor_end.unwrap();
        assert_eq!(
            still, majors_then,
            "the major's opening minor collection moved the window"
        );
    }
}
