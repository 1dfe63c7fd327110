//! The single store path: every store of a reference into the heap, and the write barrier.
//!
//! Whatever writes a reference into a heap object — `Scope::set`, array stores, the
//! initialisation of an object born old, inline elements, copies of element ranges — goes
//! through [`HeapInner::store_ref`] (one reference slot), [`HeapInner::store_value`] and
//! [`HeapInner::store_fresh`] (one inline element, replaced or written into free room;
//! [`HeapInner::replace_value`] is `store_value` with the element's trace inlined, for a map's
//! value replacement, which mostly stores numbers),
//! [`HeapInner::store_copy`] (the bulk entry: a range of elements), or, for a fresh object,
//! [`HeapInner::after_init`]. Each knows the object written, the slots,
//! the values they held and the values they get. Collector work that needs to see stores
//! (card marking for large arrays, an incremental marker's barrier, which needs the *old*
//! value of every overwritten slot) is added here and nowhere else.
//!
//! Four entries run no barrier, because the store gives the object no referent it did not
//! hold (the barrier below looks only at what a store adds): an element whose members are all
//! null (a value built in safe code) written into free room or over an element
//! ([`HeapInner::store_fresh_without_references`],
//! [`HeapInner::store_value_without_references`]), and an element of an object copied into
//! free room of the same object or over another of its elements
//! ([`HeapInner::store_copy_within`], [`HeapInner::replace_within`]). These are an
//! interpreter's most frequent stores: pushing a constant or a local onto its stack, assigning
//! a local, replacing two operands with a result. The two that overwrite are where an
//! incremental marker's deletion barrier will read the old element.
//!
//! **The generational barrier.** Its fast path tests one header bit, `TRACK_YOUNG`, which is
//! set on exactly the old objects that are not yet in the remembered set (PyPy's
//! `GCFLAG_TRACK_YOUNG_PTRS`). Young objects never have it, so initialising or writing a young
//! object costs one test. The slow path adds the object to the remembered set and clears the
//! bit when the stored value is young (in the nursery, or a young large object). Before the
//! call, one range test of the value's address (`BarrierFilter`: the nursery's region, or every
//! address while young large objects exist or the heap is frozen) filters out the stores into
//! a logged old object that cannot make it remember anything: most stores into old objects.
//!
//! **The store log.** Sticky major collections (`collect/major.rs`) need every old object
//! written since the last major collection, whatever the value written: a kept (marked) object
//! may now refer to an object promoted since, which nothing else would mark. A second header bit,
//! `LOG_STORES`, is set on exactly the old objects not yet in the log; the barrier's fast path
//! tests both bits at once, so the young objects and the old ones in both sets still cost one
//! test, and the first non-null store into an old object since the last major collection takes
//! the slow path once, which logs it. An object that enters the remembered set is logged too
//! (`HeapInner::log_stores`): a minor collection rewrites a remembered object's references to
//! the copies it promotes, which is a store as well. A kept object logged before a sticky
//! collection that still refers to an object that is not kept stays in the log after it
//! (`collect/sticky.rs`: that collection's survivors stay fresh).
//!
//! **Initialisation.** A young object needs no barrier when it is first written (nothing old
//! can be missing from the remembered set because of it); an object born old (allocated
//! non-moving, larger than the nursery, or while no nursery gap could hold it) carries
//! `TRACK_YOUNG` from birth, and `after_init` runs the barrier for each of its references, so it
//! is remembered exactly as after later stores. A young large object is young until the next
//! minor collection, which scans it if it is reachable.
//!
//! Invariants (with `heap/mod.rs`): after a store returns, an old object holding a young
//! reference is in the remembered set and lacks `TRACK_YOUNG`; an old object written since the
//! last major collection is in the store log and lacks `LOG_STORES`.

use std::cell::Cell;

use crate::heap::HeapInner;
use crate::object::{HeaderFlags, ObjPtr};
use crate::trace::{SlotVisitor, Tracer};
use crate::Trace;

/// Runs the barrier for every reference a trace reports (the stores were just made).
struct RecordStores<'a> {
    heap: &'a HeapInner,
    obj: ObjPtr,
}

impl SlotVisitor for RecordStores<'_> {
    #[inline]
    fn visit(&mut self, slot: &Cell<*mut u8>) {
        // SAFETY: obj is a live object of this heap and the slot holds a live object of this
        // heap (written from a resolved handle or copied from another slot of this heap).
        unsafe { self.heap.write_barrier(self.obj, slot.get()) };
    }
}

/// The values whose store into an old, logged, unremembered object the barrier's fast path
/// sends to its slow path: the addresses of the nursery's region, or every address (null
/// included) while young large objects exist (young, yet outside the nursery) or the heap is
/// frozen (the slow path records every store into a frozen object). One range test thus
/// stands for three, and no young value is ever filtered out: the filter is refreshed
/// ([`HeapInner::refresh_barrier_filter`]) whenever `young_large` or `frozen` changes, and the
/// verifier checks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BarrierFilter {
    start: usize,
    len: usize,
}

impl BarrierFilter {
    /// The filter that admits the nursery's addresses alone.
    pub(crate) fn young(nursery: &crate::nursery::Nursery) -> Self {
        BarrierFilter {
            start: nursery.start_addr(),
            len: nursery.capacity(),
        }
    }

    /// The filter that admits every address.
    const EVERYTHING: BarrierFilter = BarrierFilter {
        start: 0,
        len: usize::MAX,
    };

    /// Whether a store of `value` is sent to the slow path.
    #[inline(always)]
    fn admits(self, value: *mut u8) -> bool {
        value.addr().wrapping_sub(self.start) < self.len
    }
}

impl HeapInner {
    /// The barrier filter the heap's state calls for (see [`BarrierFilter`]).
    pub(crate) fn wanted_barrier_filter(&self) -> BarrierFilter {
        if self.frozen || !self.young_large.is_empty() {
            BarrierFilter::EVERYTHING
        } else {
            BarrierFilter::young(&self.nursery)
        }
    }

    /// Sets the barrier filter after `frozen` or `young_large` changed.
    pub(crate) fn refresh_barrier_filter(&mut self) {
        self.barrier_filter = self.wanted_barrier_filter();
    }

    /// Stores `new` into `slot`, a reference slot inside `obj`, and runs the barrier.
    ///
    /// # Safety
    /// `obj` is a live object of this heap, `slot` lies inside its payload, and `new` is null
    /// or a live object of this heap.
    #[inline(always)]
    pub(crate) unsafe fn store_ref(&self, obj: ObjPtr, slot: &Cell<*mut u8>, new: *mut u8) {
        // The overwritten value is what an incremental marker's barrier will need.
        let _old = slot.replace(new);
        // SAFETY: forwarded from the caller.
        unsafe { self.write_barrier(obj, new) };
    }

    /// Replaces the initialised element at `dst` (inside `obj`) with `value` and runs the
    /// barrier for its references; returns the element it replaced, for the caller to drop
    /// once the heap is consistent.
    ///
    /// # Safety
    /// `obj` is a live object of this heap, `dst` an initialised element inside its payload,
    /// and `value`'s references are live objects of this heap.
    #[inline(always)]
    pub(crate) unsafe fn store_value<T: Trace>(&self, obj: ObjPtr, dst: *mut T, value: T) -> T {
        // SAFETY: forwarded from the caller.
        unsafe {
            let old = std::ptr::replace(dst, value);
            self.record_elements(obj, dst, 1);
            old
        }
    }

    /// [`HeapInner::store_value`] for a small value that often holds no reference: its barrier
    /// traces it inline ([`HeapInner::record_element`]). A map's value replacement (an
    /// interpreter's global or field assignment, mostly numbers) is the one caller: the other
    /// stores keep the call, so that their callers stay small.
    ///
    /// # Safety
    /// As for [`HeapInner::store_value`].
    #[inline(always)]
    pub(crate) unsafe fn replace_value<T: Trace>(&self, obj: ObjPtr, dst: *mut T, value: T) -> T {
        // SAFETY: forwarded from the caller.
        unsafe {
            let old = std::ptr::replace(dst, value);
            self.record_element(obj, dst);
            old
        }
    }

    /// Writes `value` into the uninitialised element at `dst` (inside `obj`) and runs the
    /// barrier for its references.
    ///
    /// # Safety
    /// As for [`HeapInner::store_value`], except that `dst` holds no initialised element.
    #[inline(always)]
    pub(crate) unsafe fn store_fresh<T: Trace>(&self, obj: ObjPtr, dst: *mut T, value: T) {
        // SAFETY: forwarded from the caller.
        unsafe {
            dst.write(value);
            self.record_elements(obj, dst, 1);
        }
    }

    /// Writes `value`, whose members are all null, into the uninitialised element at `dst`:
    /// no barrier, since the store makes no reference and overwrites nothing. (A value built
    /// in safe code is such a value: safe code cannot make a non-null member.)
    ///
    /// # Safety
    /// `dst` is an uninitialised element inside a live object of this heap, and every member
    /// `value` holds is null.
    #[inline(always)]
    pub(crate) unsafe fn store_fresh_without_references<T: Trace>(&self, dst: *mut T, value: T) {
        // SAFETY: forwarded from the caller.
        unsafe { dst.write(value) };
    }

    /// Replaces the initialised element at `dst` with `value`, whose members are all null,
    /// and returns the element it replaced: no barrier, since the store makes no reference
    /// (the generational barrier and the store log look only at what a store makes). An
    /// incremental marker's deletion barrier will need the replaced element's references here.
    ///
    /// # Safety
    /// `dst` is an initialised element inside a live object of this heap, and every member
    /// `value` holds is null.
    #[inline(always)]
    pub(crate) unsafe fn store_value_without_references<T: Trace>(
        &self,
        dst: *mut T,
        value: T,
    ) -> T {
        // SAFETY: forwarded from the caller.
        unsafe { std::ptr::replace(dst, value) }
    }

    /// Copies the element at `src` over the initialised element at `dst`, both inside one
    /// object: no barrier, for the reason [`HeapInner::store_copy_within`] gives (the object
    /// gains no referent it did not hold). An incremental marker's deletion barrier will need
    /// the overwritten element's references here. (An interpreter assigns a local this way.)
    ///
    /// # Safety
    /// `src` and `dst` are initialised elements inside one live object of this heap, of a
    /// type without drop glue (the overwritten element is not dropped).
    #[inline(always)]
    pub(crate) unsafe fn replace_within<T: Trace>(&self, dst: *mut T, src: *const T) {
        // SAFETY: forwarded from the caller.
        unsafe { copy_elements(src, dst, 1) };
    }

    /// Copies the element at `src` into the uninitialised element at `dst`, both inside one
    /// object: no barrier, since the object gains no referent it did not hold already and
    /// nothing is overwritten. The barrier's invariants hold without it: an old object outside
    /// the remembered set held no young reference, so the copy is not one; one outside the
    /// store log has only referents a value of it held at the last major collection (every
    /// element got there by a logged store or by such a copy), so a sticky collection that
    /// keeps it misses nothing; and a frozen object's copy is of a referent it already had.
    /// (An interpreter pushes a local onto its stack this way, its most frequent store.)
    ///
    /// # Safety
    /// `src` is an initialised element and `dst` an uninitialised one, both inside the payload
    /// of one live object of this heap, of a type without drop glue.
    #[inline(always)]
    pub(crate) unsafe fn store_copy_within<T: Trace>(&self, dst: *mut T, src: *const T) {
        // SAFETY: forwarded from the caller.
        unsafe { copy_elements(src, dst, 1) };
    }

    /// Runs the barrier for the references of `count` elements just stored at `dst`, inside
    /// `obj`: nothing unless `obj` is old and not yet remembered.
    ///
    /// # Safety
    /// `obj` is a live object of this heap and `dst` holds `count` initialised elements inside
    /// its payload, whose references are live objects of this heap.
    #[inline(always)]
    unsafe fn record_elements<T: Trace>(&self, obj: ObjPtr, dst: *const T, count: usize) {
        // SAFETY: obj is a live, unforwarded object of this heap.
        if T::NEEDS_TRACE && unsafe { obj.flags() }.intersects(BARRIER_BITS) {
            // SAFETY: forwarded from the caller.
            unsafe { self.record_elements_slow(obj, dst, count) };
        }
    }

    /// [`HeapInner::record_elements`] for one element. A small element (a value of a few
    /// words) is traced here rather than in the out-of-line slow path: while an old object is
    /// to be logged or remembered, every store into it takes that path, and a store that makes
    /// no reference (a number into an old table not yet in the store log, an interpreter's
    /// most frequent global assignment) then costs a test of the value, not a call.
    ///
    /// # Safety
    /// As for [`HeapInner::record_elements`], with one element.
    #[inline(always)]
    unsafe fn record_element<T: Trace>(&self, obj: ObjPtr, dst: *const T) {
        // SAFETY: obj is a live, unforwarded object of this heap.
        if !T::NEEDS_TRACE || !unsafe { obj.flags() }.intersects(BARRIER_BITS) {
            return;
        }
        if std::mem::size_of::<T>() <= 4 * std::mem::size_of::<usize>() {
            let mut record = RecordStores { heap: self, obj };
            // SAFETY: dst holds an initialised element whose references are live objects of
            // this heap.
            unsafe { (*dst).trace(&mut Tracer::new(&mut record)) };
        } else {
            // SAFETY: forwarded from the caller.
            unsafe { self.record_elements_slow(obj, dst, 1) };
        }
    }

    /// The barrier's slow path for [`HeapInner::record_elements`]: `obj` is old and not yet
    /// remembered.
    ///
    /// # Safety
    /// As for [`HeapInner::record_elements`].
    #[inline(never)]
    unsafe fn record_elements_slow<T: Trace>(&self, obj: ObjPtr, dst: *const T, count: usize) {
        let mut record = RecordStores { heap: self, obj };
        for i in 0..count {
            // SAFETY: dst holds `count` initialised elements.
            unsafe { (*dst.add(i)).trace(&mut Tracer::new(&mut record)) };
            // SAFETY: obj is live and unforwarded.
            if !unsafe { obj.flags() }.intersects(BARRIER_BITS) {
                break; // remembered and logged: the rest needs nothing more
            }
        }
    }

    /// Copies `count` elements from `src` to `dst` (the ranges may overlap, as in `memmove`),
    /// both inside heap objects of this heap, `dst` inside `obj`, and runs the barrier for
    /// every reference copied. The bulk entry point of the store path: growth copies and the
    /// shifts of insertion and removal use it.
    ///
    /// # Safety
    /// Both ranges hold `count` initialised elements; `dst` lies inside `obj`'s payload; after
    /// the copy the caller treats the source elements that `dst` does not cover as moved out
    /// (no drop glue runs for them).
    #[inline(always)]
    pub(crate) unsafe fn store_copy<T: Trace>(
        &self,
        obj: ObjPtr,
        dst: *mut T,
        src: *const T,
        count: usize,
    ) {
        // SAFETY: forwarded from the caller; dst holds `count` initialised elements after the
        // copy.
        unsafe {
            copy_elements(src, dst, count);
            self.record_elements(obj, dst, count);
        }
    }

    /// Runs the barrier for every reference of an object whose payload was just written in
    /// one step (`Scope::alloc_init`): nothing for a young object, the remembered-set entry a
    /// later store would make for an object born old.
    ///
    /// # Safety
    /// `obj` is a live, initialised object of this heap whose references are live objects of
    /// this heap.
    #[inline(always)]
    pub(crate) unsafe fn after_init(&self, obj: ObjPtr) {
        // SAFETY: forwarded from the caller.
        if unsafe { obj.flags() }.intersects(BARRIER_BITS) {
            // SAFETY: forwarded from the caller.
            unsafe { obj.trace(&mut Tracer::new(&mut RecordStores { heap: self, obj })) };
        }
    }

    /// Whether `ptr` refers to a young object (in the nursery, or a young large object).
    ///
    /// # Safety
    /// `ptr` is null or refers to a live object of this heap.
    #[inline]
    pub(crate) unsafe fn is_young(&self, ptr: *mut u8) -> bool {
        match ObjPtr::from_ref(ptr) {
            None => false,
            Some(obj) => {
                self.nursery.contains(obj.addr())
                    // SAFETY: forwarded from the caller: obj is a live object.
                    || unsafe { obj.flags() }.contains(HeaderFlags::YOUNG_LARGE)
            }
        }
    }

    /// The write barrier, after `value` was stored into a reference field of `obj`. Private:
    /// stores go through `store_ref`, `store_copy` or `after_init`.
    ///
    /// # Safety
    /// `obj` is a live object of this heap and `value` is null or a live object of this heap.
    #[inline(always)]
    unsafe fn write_barrier(&self, obj: ObjPtr, value: *mut u8) {
        // SAFETY: forwarded from the caller.
        let flags = unsafe { obj.flags() };
        if flags.intersects(BARRIER_BITS) {
            // An old object not yet remembered or not yet logged. The slow path has work only
            // when the object is to be logged, the value may be young, or the heap is frozen;
            // the common old-to-old store into a logged object is filtered here by one range
            // test of the value's address (`BarrierFilter`), without a call or a read of the
            // value's header. A null store into an object still to be logged takes the slow
            // path, which logs nothing for it: rare, and one test fewer here.
            if flags.contains(HeaderFlags::LOG_STORES) || self.barrier_filter.admits(value) {
                // SAFETY: forwarded from the caller.
                unsafe { self.write_barrier_slow(obj, value) }
            }
        } else if fault_on!(DropRememberedOnRewrite) {
            // SAFETY: forwarded from the caller.
            unsafe { self.faulty_rewrite_barrier(obj, value) }
        }
    }

    /// The injected bug: a second young store into a remembered old object "toggles" it out
    /// of the remembered set.
    #[cfg(feature = "fault-injection")]
    #[cold]
    unsafe fn faulty_rewrite_barrier(&self, obj: ObjPtr, value: *mut u8) {
        // SAFETY: forwarded from the caller.
        let flags = unsafe { obj.flags() };
        let old = !self.nursery.contains(obj.addr()) && !flags.contains(HeaderFlags::YOUNG_LARGE);
        // SAFETY: forwarded from the caller.
        if old && unsafe { self.is_young(value) } {
            // SAFETY: no other reference into the mutator state is live here.
            let state = unsafe { self.mutator_mut() };
            if let Some(i) = state.remembered.iter().position(|&o| o == obj) {
                state.remembered.swap_remove(i);
                // SAFETY: obj is a live, unforwarded old object.
                unsafe { obj.insert_flags(HeaderFlags::TRACK_YOUNG) };
            }
        }
    }

    /// Without fault injection the faulty barrier is never called.
    #[cfg(not(feature = "fault-injection"))]
    #[inline(always)]
    unsafe fn faulty_rewrite_barrier(&self, _: ObjPtr, _: *mut u8) {}

    #[cold]
    #[inline(never)]
    unsafe fn write_barrier_slow(&self, obj: ObjPtr, value: *mut u8) {
        // SAFETY: forwarded from the caller.
        let flags = unsafe { obj.flags() };
        if flags.contains(HeaderFlags::LOG_STORES) && !value.is_null() {
            if fault_on!(LoseStoreLogEntry) {
                // The injected bug: the bit goes, the entry is never made.
                // SAFETY: obj is a live, unforwarded old object.
                unsafe { obj.remove_flags(HeaderFlags::LOG_STORES) };
            } else {
                // SAFETY: obj is a live, unforwarded old object; no other reference into the
                // mutator state is live here.
                unsafe { HeapInner::log_stores(obj, &mut self.mutator_mut().store_log) };
            }
        }
        // SAFETY: forwarded from the caller.
        if self.frozen && unsafe { self.is_frozen(obj) } {
            // SAFETY: no other reference into the mutator state is live here.
            let state = unsafe { self.mutator_mut() };
            if state.frozen_dirty_set.insert(obj.addr()) {
                state.frozen_dirty.push(obj);
            }
        }
        // SAFETY: forwarded from the caller.
        if flags.contains(HeaderFlags::TRACK_YOUNG) && unsafe { self.is_young(value) } {
            // SAFETY: obj is a live, unforwarded old object (it has TRACK_YOUNG).
            unsafe { obj.remove_flags(HeaderFlags::TRACK_YOUNG) };
            // SAFETY: no other reference into the mutator state is live here.
            unsafe { self.mutator_mut() }.remembered.push(obj);
        }
    }

    /// Adds an old object to the store log unless it is in it already (the one way into the
    /// log: it keeps `LOG_STORES` set on exactly the old objects outside it).
    ///
    /// # Safety
    /// `obj` is a live, unforwarded old object of this heap.
    #[inline]
    pub(crate) unsafe fn log_stores(obj: ObjPtr, log: &mut Vec<ObjPtr>) {
        // SAFETY: forwarded from the caller.
        unsafe {
            if obj.flags().contains(HeaderFlags::LOG_STORES) {
                obj.remove_flags(HeaderFlags::LOG_STORES);
                log.push(obj);
            }
        }
    }
}

/// The header bits the barrier tests first: either calls for its slow path on some stores.
const BARRIER_BITS: HeaderFlags = HeaderFlags::TRACK_YOUNG.union(HeaderFlags::LOG_STORES);

/// Copies `count` elements from `src` to `dst` (overlapping ranges allowed), one element a
/// word at a time when it is a whole number of words.
///
/// Why: an element was usually written a moment ago field by field (an enum's tag, then its
/// payload word), and the one 16-byte vector load a plain copy compiles to spans both stores,
/// which the processor cannot forward from its store buffer: the load waits for the stores to
/// reach the cache (a dozen cycles or more; on this machine's AMD EPYC the Lox VM's counting
/// loop, an add then a store to a local, ran 18% faster with word loads). A word load that lies
/// inside one earlier store is forwarded, so an element type whose tag is written as a whole
/// word (a `#[repr(u64)]` enum, as the Lox VM's `Value`) is copied at store-buffer speed. The
/// loads are volatile so that the compiler does not merge them back into one vector load.
///
/// # Safety
/// As for `std::ptr::copy`.
#[inline(always)]
unsafe fn copy_elements<T>(src: *const T, dst: *mut T, count: usize) {
    use std::mem::{align_of, size_of, MaybeUninit};
    const WORD: usize = size_of::<u64>();
    if count == 1 && size_of::<T>().is_multiple_of(WORD) && align_of::<T>() >= align_of::<u64>() {
        let (src, dst) = (
            src.cast::<MaybeUninit<u64>>(),
            dst.cast::<MaybeUninit<u64>>(),
        );
        // Read every word before writing any (the element may overlap itself only when
        // src == dst, where this is a no-op).
        let mut words = [MaybeUninit::<u64>::uninit(); 4];
        let n = size_of::<T>() / WORD;
        if n <= words.len() {
            for (i, word) in words.iter_mut().enumerate().take(n) {
                // SAFETY: the element holds n words, aligned (T's alignment is a word's);
                // MaybeUninit copies padding without reading it as a value.
                *word = unsafe { std::ptr::read_volatile(src.add(i)) };
            }
            for (i, word) in words.iter().enumerate().take(n) {
                // SAFETY: as above, for the destination.
                unsafe { dst.add(i).write(*word) };
            }
            return;
        }
    }
    // SAFETY: forwarded from the caller.
    unsafe { std::ptr::copy(src, dst, count) };
}
