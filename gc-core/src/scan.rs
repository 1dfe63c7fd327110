//! Scanning: how the collectors visit an object's references without an indirect call per
//! reference.
//!
//! `Trace::trace` reports references to a [`Tracer`], which holds a `&mut dyn SlotVisitor`:
//! one indirect call per reference, and the visitor's first test (is the target in the
//! nursery? is it marked?) can never be inlined. The collectors' hot loops instead go through
//! [`ScanEntries`]: for every heap type, one function per collector (the minor collection's
//! evacuation, the major collection's marking, and the verifier's slot listing), each
//! monomorphised for its visitor, so the visit is inlined into a loop the compiler also
//! unrolls for fixed layouts. A collection pays one indirect call per *object*, through the
//! type descriptor, and none per reference.
//!
//! Where the references of a value lie ([`ScanShape`]):
//! - a type with [`Trace::REF_WORDS`] (every derived struct, `Member`, arrays of them) at the
//!   words it names: a compile-time constant, so the loop disappears;
//! - a `GcArray`: a length word, then references;
//! - inline-value slices and vector storage: their live elements, each as above;
//! - a map: its table member, then its inline table's live slots ([`Then`] the two);
//! - anything else (enums, hand-written `Trace`): through `trace`, with the visitor still
//!   statically known inside the call.
//!
//! Invariant (the verifier checks it on every reachable object, see `verify`): the slots a
//! type's scan entries visit are exactly the slots its `trace` reports.

use std::cell::Cell;
use std::marker::PhantomData;

use crate::builtin::LEN_SIZE;
use crate::collect::{Evacuator, Marker};
use crate::inline::STORAGE_HEADER;
use crate::object::{HeaderFlags, ObjPtr};
use crate::trace::{SlotVisitor, Tracer};
use crate::Trace;

/// The per-collector scan functions of one heap type (stored in its `TypeInfo`).
#[derive(Clone, Copy)]
pub(crate) struct ScanEntries {
    /// Evacuates the references of a payload (minor collection).
    pub(crate) minor: unsafe fn(*mut u8, &mut Evacuator<'_>),
    /// Evacuates the references of a copy taken off the gray stack, and of the copies of the
    /// same type found on top of it after that one ([`minor_run_entry`]).
    pub(crate) minor_run: unsafe fn(ObjPtr, &mut Evacuator<'_>) -> Option<ObjPtr>,
    /// Marks the targets of a payload's references (major collection).
    pub(crate) major: unsafe fn(*mut u8, &mut Marker<'_>),
    /// Marks the targets of an object's references, then those of the objects the marker
    /// hands out next while their types have this same run entry ([`major_run_entry`]).
    pub(crate) major_run: unsafe fn(ObjPtr, &mut Marker<'_>) -> Option<ObjPtr>,
    /// Lists the addresses of a payload's reference slots (the verifier).
    pub(crate) slots: unsafe fn(*mut u8, &mut SlotList),
}

impl std::fmt::Debug for ScanEntries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScanEntries")
    }
}

impl ScanEntries {
    /// The entries of a type whose references lie as `S` describes.
    pub(crate) const fn of<S: ScanShape>() -> ScanEntries {
        ScanEntries {
            minor: minor_entry::<S>,
            minor_run: minor_run_entry::<S>,
            major: major_entry::<S>,
            major_run: major_run_entry::<S>,
            slots: slots_entry::<S>,
        }
    }
}

/// # Safety
/// `payload` is the payload of a live, unforwarded object of a type with shape `S`.
unsafe fn minor_entry<S: ScanShape>(payload: *mut u8, ev: &mut Evacuator<'_>) {
    // SAFETY: forwarded from the caller.
    unsafe { S::scan(payload, ev) }
}

/// Scans `first`, a promoted copy just taken off the gray stack, then, while the object on top
/// of the stack is another copy of the same type, takes that one and scans it too: a run of
/// copies of one type (a tree's nodes, a list's cells) costs one indirect call and one entry
/// into this function, whose register saves and loads of the evacuator's fields took a fifth
/// of a promoted node's instructions when each copy had its own call. Returns the copy
/// whose scan found a pinned young referent (the run stops there: the caller remembers it),
/// or `None`.
///
/// Only copies continue a run (outside the nursery and not young large objects, which the
/// caller's loop handles first); their headers say so and name the type, in the one word
/// the check reads.
///
/// # Safety
/// `first` is a live, unforwarded object of a type with shape `S` outside the nursery (a
/// promoted copy, or a young large object the caller has made old), taken off the gray stack;
/// every object on the gray stack is live and unforwarded.
unsafe fn minor_run_entry<S: ScanShape>(first: ObjPtr, ev: &mut Evacuator<'_>) -> Option<ObjPtr> {
    // SAFETY: forwarded from the caller.
    let same_type = unsafe { first.type_info() };
    let mut obj = first;
    loop {
        ev.start_holder();
        // SAFETY: obj is a live, unforwarded copy of a type with shape `S` (the caller's
        // `first`, or a later copy whose header names the same type).
        unsafe { S::scan(obj.payload(), ev) };
        if ev.holder_keeps_young() {
            return Some(obj);
        }
        // SAFETY: forwarded from the caller (the gray stack's objects).
        obj = unsafe { ev.next_in_run(same_type) }?;
    }
}

/// # Safety
/// As for [`minor_entry`].
unsafe fn major_entry<S: ScanShape>(payload: *mut u8, marker: &mut Marker<'_>) {
    // SAFETY: forwarded from the caller.
    unsafe { S::scan(payload, marker) }
}

/// Scans `first`, a marked object the marker handed out, then, while the next object the
/// marker hands out ([`Marker::next_to_scan`]) has the same shape, that one too: a run of
/// objects of one shape (a tree's nodes) costs one indirect call and one entry into this
/// function, as in [`minor_run_entry`]. With a call for each object, the entry's saves and
/// loads of the marker's fields and the exit's restores were about a third of a tree node's
/// marking instructions; the run loop still reloads the fields for each object, and the runs
/// saved 6% of marking's instructions on binary-trees. Returns the object handed out that has
/// another shape (not scanned yet), or `None` when marking is done.
///
/// A run goes on through objects whose type's run entry is this function, not only through
/// objects of the very same `TypeInfo`: a type's `TYPE_INFO` is a constant, and the compiler
/// may lay out more than one copy of it (a binary-trees build had two for its node, one for the
/// leaves and one for the inner nodes, which cut every run after two objects). The comparison
/// of the two functions' addresses can only err towards ending a run (a function with two
/// addresses), or, where the linker folds functions of identical code into one, towards going
/// on with a scan of identical code: either is correct.
///
/// # Safety
/// `first` is a live, unforwarded object of a type with shape `S`; every object the marker
/// holds is live and unforwarded.
unsafe fn major_run_entry<S: ScanShape>(first: ObjPtr, marker: &mut Marker<'_>) -> Option<ObjPtr> {
    // SAFETY: forwarded from the caller.
    let same_type = unsafe { first.type_info() };
    let mut obj = first;
    loop {
        // SAFETY: obj is a live, unforwarded object of a type with shape `S` (the caller's
        // `first`, or a later one whose type's run entry is this function).
        unsafe { S::scan(obj.payload(), marker) };
        let next = marker.next_to_scan()?;
        // SAFETY: forwarded from the caller (the marker's objects).
        let same_shape = unsafe {
            next.is_of_type(same_type, HeaderFlags::empty())
                || std::ptr::fn_addr_eq(next.type_info().scan.major_run, same_type.scan.major_run)
        };
        if !same_shape {
            return Some(next);
        }
        obj = next;
    }
}

/// # Safety
/// As for [`minor_entry`].
unsafe fn slots_entry<S: ScanShape>(payload: *mut u8, list: &mut SlotList) {
    // SAFETY: forwarded from the caller.
    unsafe { S::scan(payload, list) }
}

/// The addresses of the reference slots a scan visited (for the verifier).
#[derive(Default)]
pub(crate) struct SlotList(pub(crate) Vec<usize>);

impl SlotVisitor for SlotList {
    fn visit(&mut self, slot: &Cell<*mut u8>) {
        self.0.push((slot as *const Cell<*mut u8>).addr());
    }
}

/// Where the references of a payload lie.
pub(crate) trait ScanShape {
    /// Visits every non-null reference slot of the payload.
    ///
    /// # Safety
    /// `payload` is the payload of a live, unforwarded object of this shape; the visitor may
    /// rewrite the slots.
    unsafe fn scan<V: SlotVisitor>(payload: *mut u8, visitor: &mut V);
}

/// Asks the processor to start loading the header at `target` (any address, null included:
/// a prefetch never faults), so that a visit a few instructions later does not stall on it.
#[inline(always)]
pub(crate) fn prefetch(target: *mut u8) {
    prefetch_as::<{ PrefetchFor::READ }>(target);
}

/// Asks the processor to bring the line at `target` into its cache for writing (any address:
/// a prefetch never faults), so that stores there a little later do not wait for it: the
/// old generation's allocation runs ahead of its promotions this way. (The write hint becomes
/// `prefetchw` only where the target has `prfchw`; the default x86-64 target gets
/// `prefetcht0`, which brings a line no other core holds in exclusive state, ready to write.)
#[inline(always)]
pub(crate) fn prefetch_for_write(target: *mut u8) {
    prefetch_as::<{ PrefetchFor::WRITE }>(target);
}

/// The prefetch hints (the x86-64 instruction's strategies; ignored elsewhere).
struct PrefetchFor;

#[cfg(target_arch = "x86_64")]
impl PrefetchFor {
    const READ: i32 = std::arch::x86_64::_MM_HINT_T0;
    const WRITE: i32 = std::arch::x86_64::_MM_HINT_ET0;
}

#[cfg(not(target_arch = "x86_64"))]
impl PrefetchFor {
    const READ: i32 = 0;
    const WRITE: i32 = 1;
}

/// A prefetch of `target` with hint `HINT`: an instruction on x86-64 (outside Miri), nothing
/// elsewhere.
#[inline(always)]
fn prefetch_as<const HINT: i32>(target: *mut u8) {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    // SAFETY: a prefetch is a hint with no architectural effect; it never faults, whatever
    // the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<HINT>(target.cast_const().cast::<i8>());
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    let _ = target;
}

/// How far ahead of the visit a reference array's targets are prefetched. A slot whose target
/// the visitor does not read takes one or two nanoseconds, so the prefetch must run a few dozen
/// slots ahead to cover a miss to the last-level cache: on `compare array` (random young
/// stores into a million-slot old array, all of it rescanned at each minor collection) the
/// minor collections summed 977 ms with 8 slots, 707 ms with 16, 682 ms with 32 and 679 ms with
/// 64 (medians of seven traced runs each, `docs/performance.md`).
const PREFETCH_DISTANCE: usize = 32;

/// Prefetches what a visit of `slot` will read: its target's header when the visitor reads the
/// target, or else the slot's own line, already loaded (a select, not a branch the processor
/// would mispredict on a random mix of young and old targets).
#[inline(always)]
fn prefetch_target<V: SlotVisitor>(slot: &Cell<*mut u8>, visitor: &V) {
    let target = slot.get();
    // (A visit reads the target's header, one word before the reference.)
    let fetch = if visitor.reads_target(target) {
        target.wrapping_sub(crate::HEADER_SIZE)
    } else {
        slot.as_ptr().cast::<u8>()
    };
    prefetch(fetch);
}

/// Visits one reference slot when it is non-null.
#[inline(always)]
fn visit_slot<V: SlotVisitor>(slot: &Cell<*mut u8>, visitor: &mut V) {
    if !slot.get().is_null() {
        visitor.visit(slot);
    }
}

/// Visits the references of one value of type `T` at `at`.
///
/// # Safety
/// `at` points to a live `T` inside a heap object.
#[inline(always)]
unsafe fn scan_value<T: Trace, V: SlotVisitor>(at: *mut u8, visitor: &mut V) {
    match T::REF_WORDS {
        // A constant: the loop is unrolled into one test per reference word. (Prefetching
        // the targets first bought nothing here: siblings tend to share cache lines.)
        Some(mut words) => {
            while words != 0 {
                let i = if V::last_first() {
                    let i = 63 - words.leading_zeros() as usize;
                    words &= !(1 << i);
                    i
                } else {
                    let i = words.trailing_zeros() as usize;
                    words &= words - 1;
                    i
                };
                // SAFETY: word i of the value is a Member (the REF_WORDS contract of `Trace`),
                // `repr(transparent)` over a `Cell<*mut u8>`.
                visit_slot(unsafe { &*at.add(i * 8).cast::<Cell<*mut u8>>() }, visitor);
            }
        }
        // SAFETY: forwarded from the caller.
        None => unsafe { &*at.cast::<T>() }.trace(&mut Tracer::new(visitor)),
    }
}

/// A payload holding no references.
pub(crate) struct Leaf;

impl ScanShape for Leaf {
    #[inline(always)]
    unsafe fn scan<V: SlotVisitor>(_: *mut u8, _: &mut V) {}
}

/// A fixed-size payload: one `T`.
pub(crate) struct Fixed<T>(PhantomData<T>);

impl<T: Trace> ScanShape for Fixed<T> {
    #[inline(always)]
    unsafe fn scan<V: SlotVisitor>(payload: *mut u8, visitor: &mut V) {
        if T::NEEDS_TRACE {
            // SAFETY: forwarded from the caller: the payload is a T.
            unsafe { scan_value::<T, V>(payload, visitor) }
        }
    }
}

/// A payload with the references of shape `A`, then those of shape `B` (both read from the
/// same payload: a map's table member, then its inline slots).
pub(crate) struct Then<A, B>(PhantomData<(A, B)>);

impl<A: ScanShape, B: ScanShape> ScanShape for Then<A, B> {
    #[inline(always)]
    unsafe fn scan<V: SlotVisitor>(payload: *mut u8, visitor: &mut V) {
        // SAFETY: forwarded from the caller: the payload has both shapes' references.
        unsafe {
            A::scan(payload, visitor);
            B::scan(payload, visitor);
        }
    }
}

/// A `GcArray`: a length word, then that many references.
pub(crate) struct Members;

impl ScanShape for Members {
    #[inline(always)]
    unsafe fn scan<V: SlotVisitor>(payload: *mut u8, visitor: &mut V) {
        // SAFETY: forwarded from the caller: an array payload starts with its length.
        let len = unsafe { payload.cast::<usize>().read() };
        let first = payload.wrapping_add(LEN_SIZE).cast::<Cell<*mut u8>>();
        // The first slots' targets are fetched before the loop (the pipeline's prologue), so
        // an array shorter than the distance has its targets' misses overlapped as well.
        for i in 0..len.min(PREFETCH_DISTANCE) {
            // SAFETY: element i < len lies inside the array.
            prefetch_target(unsafe { &*first.add(i) }, visitor);
        }
        for i in 0..len {
            if i + PREFETCH_DISTANCE < len {
                // SAFETY: element i + PREFETCH_DISTANCE < len lies inside the array.
                prefetch_target(unsafe { &*first.add(i + PREFETCH_DISTANCE) }, visitor);
            }
            // SAFETY: element i < len lies inside the array and is a Member.
            visit_slot(unsafe { &*first.add(i) }, visitor);
        }
    }
}

/// A run of `T`s: `count` of them at byte `elements` of the payload, the count in word
/// `count_word` (a `GcSlice`: word 0, elements after it; a vector's storage: word 1, elements
/// after two words).
pub(crate) struct Elements<T, const COUNT_WORD: usize, const ELEMENTS: usize>(PhantomData<T>);

/// A `GcSlice<T>` payload.
pub(crate) type SliceElements<T> = Elements<T, 0, LEN_SIZE>;
/// A vector storage payload (capacity, length, then the elements).
pub(crate) type StorageElements<T> = Elements<T, 1, STORAGE_HEADER>;

impl<T: Trace, const COUNT_WORD: usize, const ELEMENTS: usize> ScanShape
    for Elements<T, COUNT_WORD, ELEMENTS>
{
    #[inline(always)]
    unsafe fn scan<V: SlotVisitor>(payload: *mut u8, visitor: &mut V) {
        if !T::NEEDS_TRACE {
            return;
        }
        // SAFETY: forwarded from the caller: the count word is initialised.
        let count = unsafe { payload.cast::<usize>().add(COUNT_WORD).read() };
        let first = payload.wrapping_add(ELEMENTS).cast::<T>();
        for i in 0..count {
            // SAFETY: the first `count` elements are live `T`s inside the object.
            unsafe { scan_value::<T, V>(first.add(i).cast::<u8>(), visitor) }
        }
    }
}
