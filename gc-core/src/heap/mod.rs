//! The heap: its spaces, its roots, allocation and the write barrier.
//!
//! ```text
//!   Heap ── HeapInner
//!            ├─ nursery      bump-allocated young objects (moving), sized by `young`
//!            ├─ old          size-classed pages in arenas (non-moving)
//!            ├─ large        one mapping per large object (non-moving)
//!            ├─ mutator      handle stack (roots) + remembered set   [UnsafeCell]
//!            ├─ young_drop   nursery objects with drop glue
//!            ├─ young_large  large objects allocated since the last minor collection
//!            └─ providers    the embedder's root providers
//! ```
//!
//! **Allocation.** The inlined fast path bumps the nursery pointer and writes the header; only
//! types with drop glue also append to `young_drop` (decided at compile time). Everything else
//! — a full nursery, a large object, stress mode, hook events waiting for delivery (the
//! nursery's switch, `Nursery::set_fast_path`, turns the fast path off for the last two at no
//! cost to it: it lowers the limit the fast path compares with) — is the out-of-line slow
//! path (`alloc_slow`), and *any* allocation may collect. Objects larger than the whole nursery go
//! straight to the old generation.
//!
//! **Write barrier.** Every store of a reference into an object goes through the single store
//! path in `store.rs`, which runs the barrier.
//!
//! Invariants:
//! - **remembered set**: an old object that holds a reference to a young object (nursery or
//!   `YOUNG_LARGE`) is in `remembered` and lacks `TRACK_YOUNG`; every entry of `remembered` is an
//!   old object without `TRACK_YOUNG`; outside a minor collection, an old object lacking
//!   `TRACK_YOUNG` is in `remembered`;
//! - **store log**: every entry of `store_log` is a live old object without `LOG_STORES`, listed
//!   once; every old object without `LOG_STORES` is in it; every remembered object is in it;
//! - **kept marks** (while `marks_kept`): the old objects whose mark bit is set are the ones the
//!   last major collection that kept its survivors found live (a full one, or a sticky one in a
//!   growing heap; other sticky ones put the marks back: `collect/sticky.rs`),
//!   their bytes are `kept_bytes`, and such an object that refers to an unmarked or a young
//!   object is in the store log (`collect/major.rs` relies on it);
//! - `young_drop` lists every nursery object whose type has drop glue, and nothing else;
//! - `young_large` lists exactly the objects flagged `YOUNG_LARGE`;
//! - `barrier_filter` is the nursery's region while `young_large` is empty and the heap is not
//!   frozen, and every address otherwise (`store.rs`; the verifier checks it);
//! - the nursery's fast path is off exactly when a stress tick is due at every allocation or the
//!   recorder holds events for the hooks (the verifier checks it, and so does the fast path in
//!   debug builds);
//! - every handle slot refers to a live object of this heap (none is null: a push takes an
//!   `ObjPtr`; the verifier reports a null slot as a dangling root).

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::config::{Config, LARGE_OBJECT_THRESHOLD};
use crate::error::GcError;
use crate::large::LargeSpace;
use crate::nursery::Nursery;
use crate::object::{HeaderFlags, ObjPtr, TypeInfo};
use crate::old_space::OldSpace;
use crate::pacer::Pacer;
use crate::pin::PinTable;
use crate::roots::RootProvider;
use crate::stats::HeapStats;

mod alloc_slow;
mod freeze;
mod public;

pub use public::Heap;

/// Mutator-side state that shared (`&self`) scope operations update: handle pushes on `load`
/// and remembered-set entries from the barrier. Touched only by the heap's own thread, never
/// while a reference into it is held (no method calls user code while borrowing it).
pub(crate) struct MutatorState {
    pub(crate) handles: crate::handle_stack::HandleStack,
    pub(crate) remembered: Vec<ObjPtr>,
    /// Old objects written since the last major collection (or remembered, or kept and still
    /// referring to a fresh object after a sticky one), each once: the roots a sticky major
    /// collection adds to the usual ones (`store.rs`, `collect/major.rs`).
    pub(crate) store_log: Vec<ObjPtr>,
    /// Frozen objects the mutator stored into since `freeze` (each once): roots for every
    /// later collection, since collections do not trace frozen objects otherwise.
    pub(crate) frozen_dirty: Vec<ObjPtr>,
    pub(crate) frozen_dirty_set: std::collections::HashSet<usize>,
}

pub(crate) struct HeapInner {
    /// Never 0, so that an `Option<Handle>` is as small as a handle.
    pub(crate) id: std::num::NonZeroU32,
    pub(crate) config: Config,
    pub(crate) nursery: Nursery,
    pub(crate) old: OldSpace,
    pub(crate) large: LargeSpace,
    pub(crate) mutator: UnsafeCell<MutatorState>,
    pub(crate) young_drop: Vec<ObjPtr>,
    pub(crate) young_large: Vec<ObjPtr>,
    pub(crate) providers: Vec<Option<Box<dyn RootProvider>>>,
    pub(crate) pins: PinTable,
    pub(crate) persistent: crate::persistent::PersistentTable,
    pub(crate) identity: crate::identity::IdentityTable,
    pub(crate) weak: crate::weak::WeakTable,
    /// Records collection events for the sinks and the hooks (see `hooks.rs`).
    pub(crate) recorder: gc_hooks::Recorder,
    pub(crate) hooks: Option<Box<dyn crate::hooks::GcHooks>>,
    pub(crate) hooks_generation: u64,
    pub(crate) delivering: bool,
    /// A major collection is running (its opening minor collection must not flush the sinks).
    pub(crate) in_major: bool,
    pub(crate) stats: HeapStats,
    pub(crate) pacer: Pacer,
    /// The young generation's sizing policy (fixed or adaptive).
    pub(crate) young: crate::YoungSizing,
    /// When free old-generation pages go back to the OS.
    pub(crate) retention: crate::Retention,
    /// Since when the nursery's committed tail has gone unused, and the largest size wanted
    /// since: the tail goes back to the OS once unused for `RELEASE_AFTER`.
    pub(crate) young_tail: Option<(std::time::Instant, usize)>,
    /// When the last minor collection ended (not counting a major collection's opening one), and
    /// the major collections' summed pauses then: the sizing policy's share of the time spent
    /// collecting is measured from there.
    pub(crate) last_minor_end: Option<(std::time::Instant, std::time::Duration)>,
    /// Minor pauses alone (the recorder's histogram mixes minor and major ones).
    pub(crate) minor_histogram: gc_hooks::PauseHistogram,
    /// `freeze` sealed the old generation and large objects that existed then.
    pub(crate) frozen: bool,
    /// The values for which the write barrier's fast path calls its slow path when the object
    /// written is old, logged and not remembered (`store.rs`); kept by
    /// [`HeapInner::refresh_barrier_filter`] whenever `frozen` or `young_large` changes.
    pub(crate) barrier_filter: crate::store::BarrierFilter,
    /// The mark bits hold the kept objects (`collect/major.rs`, `collect/sticky.rs`):
    /// set by every major collection outside `freeze`, cleared by `freeze` and `unfreeze`.
    pub(crate) marks_kept: bool,
    /// The bytes of the kept objects: the old generation's live bytes after the last major
    /// collection that kept its survivors (`collect/sticky.rs`).
    pub(crate) kept_bytes: usize,
    /// The kept objects' marks, saved while a sticky collection marks (a buffer reused).
    pub(crate) kept_marks: crate::collect::KeptMarks,
    /// Memory the embedder holds outside the heap, counted towards the next major collection.
    pub(crate) pressure: usize,
    pub(crate) stress_countdown: u32,
    /// Gray objects of the running collection (kept to reuse its capacity).
    pub(crate) gray: Vec<ObjPtr>,
    /// `pins.young_releases()` when the nursery's gaps were last rebuilt: while it is unchanged,
    /// a minor collection would leave the same gaps.
    pub(crate) gaps_pin_epoch: u64,
    /// Bytes allocated around the nursery since released pins were last drained.
    bypass_since_drain: usize,
}

/// How many heaps are alive in the process (counted up when one is built, down when it is
/// dropped). While there is only one, every member a thread can reach is that heap's: see
/// [`HeapInner::owns_referent`].
static LIVE_HEAPS: AtomicUsize = AtomicUsize::new(0);

impl HeapInner {
    pub(crate) fn new(config: Config) -> Result<HeapInner, GcError> {
        config
            .validate()
            .map_err(|e| GcError::InvalidConfig(e.to_string()))?;
        let young = config.young_sizing();
        let nursery = Nursery::new(young.max(), young.size()).ok_or(GcError::OutOfMemory {
            requested: young.max(),
            in_use: 0,
            limit: config.max_heap(),
            reason: "the OS refused the nursery",
        })?;
        let pacer = Pacer::from_config(&config);
        let retention = crate::Retention::new(config.release_after());
        let id = crate::heap_id::take()?;
        let recorder =
            gc_hooks::Recorder::new(id.get(), config.trace(), config.log()).map_err(|e| {
                GcError::InvalidConfig(format!(
                    "LOG: cannot open the event log {}: {e}",
                    config
                        .log()
                        .map_or_else(String::new, |p| p.display().to_string())
                ))
            })?;
        // Counted before the value exists, so that its drop (even on a failure below) always
        // has an increment to undo.
        LIVE_HEAPS.fetch_add(1, Ordering::Relaxed);
        let barrier_filter = crate::store::BarrierFilter::young(&nursery);
        let mut heap = HeapInner {
            id,
            pins: PinTable::new(id.get()),
            persistent: crate::persistent::PersistentTable::new(id.get()),
            identity: crate::identity::IdentityTable::new(),
            weak: crate::weak::WeakTable::new(id.get()),
            recorder,
            hooks: None,
            hooks_generation: 0,
            delivering: false,
            in_major: false,
            stress_countdown: config.stress().unwrap_or(0),
            config,
            nursery,
            old: OldSpace::new(),
            large: LargeSpace::new(),
            mutator: UnsafeCell::new(MutatorState {
                handles: crate::handle_stack::HandleStack::new(id),
                remembered: Vec::new(),
                store_log: Vec::new(),
                frozen_dirty: Vec::new(),
                frozen_dirty_set: std::collections::HashSet::new(),
            }),
            young_drop: Vec::new(),
            young_large: Vec::new(),
            providers: Vec::new(),
            stats: HeapStats::default(),
            pacer,
            young,
            retention,
            minor_histogram: gc_hooks::PauseHistogram::default(),
            young_tail: None,
            last_minor_end: None,
            frozen: false,
            barrier_filter,
            marks_kept: false,
            kept_bytes: 0,
            kept_marks: crate::collect::KeptMarks::default(),
            pressure: 0,
            gray: Vec::new(),
            gaps_pin_epoch: 0,
            bypass_since_drain: 0,
        };
        heap.refresh_nursery_limit();
        heap.sync_alloc_fast();
        Ok(heap)
    }

    /// Shared view of the mutator state.
    #[inline(always)]
    pub(crate) fn mutator(&self) -> &MutatorState {
        // SAFETY: only this thread touches the state (HeapInner is !Sync) and no `&mut` to it
        // is live: mutable access is confined to `mutator_mut` calls that end before returning.
        unsafe { &*self.mutator.get() }
    }

    /// Exclusive view of the mutator state from a shared heap reference.
    ///
    /// # Safety
    /// The caller holds no other reference into the mutator state while the result lives and
    /// calls no code (user closures included) that could take one.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn mutator_mut(&self) -> &mut MutatorState {
        // SAFETY: forwarded from the caller; single-threaded by !Sync.
        unsafe { &mut *self.mutator.get() }
    }

    /// Allocates an object of type `info` and total size `size` (header included, aligned).
    /// Returns uninitialised payload memory behind an initialised header. May collect.
    #[inline(always)]
    pub(crate) fn alloc_object(
        &mut self,
        info: &'static TypeInfo,
        size: usize,
        needs_drop: bool,
    ) -> Result<ObjPtr, GcError> {
        match self.alloc_young_fast(info, size, needs_drop) {
            Some(obj) => Ok(obj),
            None => self.alloc_object_slow(info, size, needs_drop),
        }
    }

    /// The allocation fast path alone: a nursery object of `size` bytes, header written, when
    /// no stress tick is due and the nursery has room now. `None` sends the caller to the rest
    /// of [`HeapInner::alloc_object`]. The object is young, so a caller that initialises it
    /// knows without reading its header that it needs no barrier.
    #[inline(always)]
    pub(crate) fn alloc_young_fast(
        &mut self,
        info: &'static TypeInfo,
        size: usize,
        needs_drop: bool,
    ) -> Option<ObjPtr> {
        debug_assert_eq!(
            self.nursery.fast_path_on(),
            self.stress_countdown == 0 && !self.recorder.has_pending()
        );
        if size >= LARGE_OBJECT_THRESHOLD {
            return None;
        }
        let obj = self.nursery.try_alloc_fast(size)?;
        self.stats.objects_allocated += 1;
        Some(self.init_young(obj, info, needs_drop))
    }

    /// [`HeapInner::alloc_object`] once its fast path ([`HeapInner::alloc_young_fast`]) failed:
    /// the stress tick, waiting hook events, a full nursery, a large object. Callers that tried
    /// the fast path themselves come here directly rather than trying it again.
    #[inline(never)]
    pub(crate) fn alloc_object_slow(
        &mut self,
        info: &'static TypeInfo,
        size: usize,
        needs_drop: bool,
    ) -> Result<ObjPtr, GcError> {
        if self.stress_countdown != 0 {
            self.stress_tick();
        }
        self.stats.objects_allocated += 1;
        if size < LARGE_OBJECT_THRESHOLD {
            if let Some(obj) = self.nursery.try_alloc(size) {
                return Ok(self.init_young(obj, info, needs_drop));
            }
        }
        self.alloc_slow(info, size, needs_drop)
    }

    /// A nursery object of `size` bytes (header written) when the nursery has room now, for a
    /// type without drop glue; never collects (so the caller's unrooted objects stay put).
    #[inline]
    pub(crate) fn try_alloc_young(
        &mut self,
        info: &'static TypeInfo,
        size: usize,
    ) -> Option<ObjPtr> {
        debug_assert!(info.drop.is_none());
        if size >= LARGE_OBJECT_THRESHOLD {
            return None;
        }
        let obj = self.nursery.try_alloc(size)?;
        self.stats.objects_allocated += 1;
        Some(self.init_young(obj, info, false))
    }

    /// Writes the header of a new nursery object and lists it when it has drop glue.
    #[inline(always)]
    fn init_young(&mut self, obj: ObjPtr, info: &'static TypeInfo, needs_drop: bool) -> ObjPtr {
        let flags = if needs_drop {
            HeaderFlags::NEEDS_DROP
        } else {
            HeaderFlags::empty()
        };
        // SAFETY: obj is fresh nursery memory of the object's size, which is at least a header.
        unsafe { obj.init_header(info, flags) };
        if needs_drop {
            self.young_drop.push(obj);
        }
        obj
    }

    /// Records a collector event for the sinks and the hooks; the allocation fast path stays off
    /// until it is delivered.
    pub(crate) fn record_event(&mut self, event: gc_hooks::Event) {
        self.recorder.record(event);
        self.nursery.set_fast_path(false);
    }

    /// Turns the allocation fast path on or off after a stress tick or after pending events
    /// were taken or discarded: off exactly while `stress_countdown != 0 ||
    /// recorder.has_pending()`, so that the fast path never tests the recorder.
    pub(crate) fn sync_alloc_fast(&mut self) {
        let on = self.stress_countdown == 0 && !self.recorder.has_pending();
        self.nursery.set_fast_path(on);
    }

    #[cold]
    #[inline(never)]
    fn stress_tick(&mut self) {
        self.stress_countdown -= 1;
        if self.stress_countdown == 0 {
            self.stress_countdown = self.config.stress().unwrap_or(0);
            self.collect_minor_then_maybe_major();
        }
    }

    /// Whether the object a member refers to is this heap's. A member refers to an object of
    /// *some* live heap; while this heap is the only one alive in the process, that is this
    /// heap, and the answer costs one load (the common case: one interpreter, one heap).
    ///
    /// Why the count cannot mislead: for this thread to reach a member of another heap, that
    /// heap must be alive and either made on this thread or sent to it, so its increment of
    /// `LIVE_HEAPS` happens before this load, which (by coherence) reads it or a later value;
    /// and it cannot be dropped, undoing its increment, while a reference into it is borrowed.
    #[inline]
    pub(crate) fn owns_referent(&self, obj: ObjPtr) -> bool {
        Self::alone() || self.owns(obj)
    }

    /// Whether this is the only heap alive, so that every member this thread can reach is
    /// this heap's (see [`HeapInner::owns_referent`]), and so is every handle: a handle borrows
    /// the scope, and so the heap, it was made in, and is neither `Send` nor `Sync`, so the
    /// same argument holds for it (`Scope::check_init` relies on it).
    #[inline(always)]
    pub(crate) fn alone() -> bool {
        LIVE_HEAPS.load(Ordering::Relaxed) == 1
    }

    /// Whether `obj`, a live object of *some* heap, belongs to this one.
    pub(crate) fn owns(&self, obj: ObjPtr) -> bool {
        self.nursery.contains(obj.addr())
            || self.old.owns_arena_of(obj.addr())
            || self.large.contains(obj.addr())
    }

    /// Ends the pins whose guards were dropped since the last call.
    pub(crate) fn drain_released_pins(&mut self) {
        let nursery = &self.nursery;
        self.pins.drain(|addr| nursery.contains(addr));
    }

    /// Heap memory in use: nursery allocations, old generation and large objects.
    pub(crate) fn memory_in_use(&self) -> usize {
        self.nursery.used() + self.old_generation_bytes()
    }

    /// Publishes the counters for readers on other threads.
    pub(crate) fn publish_stats(&self) {
        let s = &self.stats;
        self.recorder.publish(gc_hooks::StatsSnapshot {
            minor_collections: s.minor_collections,
            major_collections: s.major_collections,
            bytes_allocated: s.bytes_allocated,
            bytes_promoted: s.bytes_promoted,
            live_bytes_after_major: s.live_bytes_after_major as u64,
            old_bytes: self.old.bytes_in_use() as u64,
            large_object_bytes: self.large.bytes() as u64,
            committed_bytes: self.footprint() as u64,
            pinned_objects: self.pins.pinned_objects() as u64,
            total_pause_ns: (s.minor_pause.total + s.major_pause.total).as_nanos() as u64,
            max_pause_ns: s.minor_pause.max.max(s.major_pause.max).as_nanos() as u64,
        });
    }

    /// Runs a major collection and gives every free old-generation page back to the OS;
    /// returns the bytes given back.
    pub(crate) fn release_memory(&mut self) -> u64 {
        let before = self.old.bytes_returned();
        self.collect_major(); // gives back the arenas it empties...
        self.old.release_free_pages(); // ...and then every other free page
        self.old.bytes_returned() - before
    }

    /// Old generation in bytes: small-object slots plus large objects.
    pub(crate) fn old_generation_bytes(&self) -> usize {
        self.old.bytes_in_use() + self.large.bytes()
    }

    /// Whether growing the old generation by `extra` bytes should start an automatic major
    /// collection.
    pub(crate) fn major_due(&self, extra: usize) -> bool {
        self.pacer
            .major_due(self.old_generation_bytes() + self.pressure + extra)
    }

    /// The heap's footprint under the limit's accounting: the nursery's mapping, the committed
    /// pages of the old generation's arenas and the large objects' mappings (see
    /// `old_space/accounting.rs`). `MAX` bounds it at all times.
    pub(crate) fn footprint(&self) -> usize {
        self.nursery.committed() + self.old.committed() + self.large.bytes()
    }

    /// Gives the nursery the size its policy wants, and under a heap limit lets it use only as
    /// much as can still be promoted: the worst case of promoting the usable nursery (slot and
    /// page rounding included) fits in what the limit leaves, so a minor collection always
    /// completes under it. Called whenever the nursery is empty but for its pinned survivors
    /// (after every collection). A tail the policy no longer uses goes back to the OS once it
    /// has stayed unused for `RELEASE_AFTER` (at once under a heap limit), so a size that
    /// swings between collections does not fault the same pages in again and again.
    pub(crate) fn refresh_nursery_limit(&mut self) {
        let wanted = self.young.size().min(self.nursery.capacity());
        let limited = self.config.max_heap().is_some();
        let release_to = if wanted < self.nursery.committed() {
            let now = std::time::Instant::now();
            let (since, peak) = self.young_tail.get_or_insert((now, wanted));
            *peak = (*peak).max(wanted);
            let keep = if limited { wanted } else { *peak };
            let due = limited || now.duration_since(*since) >= self.config.release_after();
            due.then_some(keep)
        } else {
            None
        };
        if let Some(keep) = release_to {
            // The usable prefix first, so that the tail lies outside it.
            self.nursery.set_usable(self.nursery.usable().min(keep));
            self.nursery.release_tail(keep);
            self.young_tail = None;
        } else if wanted >= self.nursery.committed() {
            self.young_tail = None;
        }
        let usable = match self.config.max_heap() {
            None => wanted,
            Some(max) => {
                // The nursery counts as at least what it wants: growing into it commits it.
                let others = self.old.committed() + self.large.bytes();
                let counted = self.nursery.committed().max(wanted);
                let room = max.saturating_sub(others + counted);
                self.old.promotable_within(room, wanted)
            }
        };
        self.nursery.set_usable(usable);
    }

    pub(crate) fn collect_minor_then_maybe_major(&mut self) {
        self.collect_minor();
        if self.major_due(0) {
            self.collect_major_automatic();
        }
    }

    /// Runs the drop glue of a dead object and counts it.
    ///
    /// # Safety
    /// `obj` is a dead, unforwarded object whose payload is never read again.
    pub(crate) unsafe fn drop_dead(stats: &mut HeapStats, obj: ObjPtr) {
        // SAFETY: forwarded from the caller.
        if unsafe { obj.flags() }.contains(HeaderFlags::NEEDS_DROP) {
            stats.objects_dropped += 1;
            // SAFETY: forwarded from the caller.
            if unsafe { obj.run_drop() } {
                stats.drop_panics += 1;
            }
        }
    }

    pub(crate) fn snapshot_stats(&self) -> HeapStats {
        let mut s = self.stats.clone();
        s.bytes_allocated += self.nursery.used() as u64;
        s.nursery_used = self.nursery.used();
        s.old_bytes = self.old.bytes_in_use();
        s.major_threshold = self.pacer.threshold();
        s.pinning = self.pins.stats;
        s.pinning.pinned_young = self.pins.young_pinned();
        s.pinning.pinned_objects = self.pins.pinned_objects();
        s.pauses = self.recorder.pause_summary();
        s.minor_pauses = self.minor_histogram.summary();
        s.weak_refs = self.weak.len();
        s.persistent_roots = self.persistent.len();
        s.hashed_objects = self.identity.len();
        s.large_object_bytes = self.large.bytes();
        s.arenas = self.old.arena_count();
        s.large_objects = self.large.len();
        s.committed_bytes = self.footprint();
        s.nursery_size = self.nursery.usable();
        s.bytes_returned = self.old.bytes_returned();
        s.frozen_bytes = self.old.sealed_bytes() + self.large.sealed_bytes();
        s.memory_pressure = self.pressure;
        s
    }
}

impl Drop for HeapInner {
    fn drop(&mut self) {
        // Nothing can refer to this heap's objects any more (its scopes borrowed it).
        LIVE_HEAPS.fetch_sub(1, Ordering::Relaxed);
        // Events recorded since the last collection (a refused pin, an out-of-memory error)
        // reach the trace and the log now.
        self.recorder.flush_sinks();
        // Every object dies with the heap: run the drop glue that is still owed.
        let stats = &mut self.stats;
        for obj in self.young_drop.drain(..) {
            // SAFETY: outside a collection no nursery object is forwarded; nothing can read
            // the heap any more.
            unsafe { HeapInner::drop_dead(stats, obj) };
        }
        self.old.clear_marks();
        // SAFETY: (in the closure) every old object is dead and intact when the sweep hands
        // it over.
        self.old
            .sweep(|obj| unsafe { HeapInner::drop_dead(stats, obj) });
        self.large.clear_marks();
        for obj in self.large.unmarked() {
            // SAFETY: every large object is dead and intact.
            unsafe { HeapInner::drop_dead(stats, obj) };
            self.large.free(obj);
        }
    }
}

#[cfg(test)]
mod tests;
