//! Traced arrays of values stored inline: [`GcSlice<T>`] (fixed length) and [`GcVec<T>`]
//! (growable), for any `T: Trace`.
//!
//! Every dynamic language keeps tagged values inline (`Nil | Bool | Number(f64) | Obj(..)`) in
//! its lists, tuples, dictionaries' storage and its own stack. With these, a list of a million
//! numbers is one or two heap objects, not a million and one.
//!
//! ```text
//!   GcSlice<T>:      [ len ][ T ][ T ] … [ T ]                  one object
//!   GcVec<T>:        [ storage ]───►  VecStorage<T>:
//!                                    [ capacity ][ len ][ T ] … [ T ][ unused … ]
//! ```
//!
//! A vector's elements live in a separate storage object so that the vector's handle and the
//! members that refer to it stay valid when it grows: growth allocates a larger storage **in
//! the heap** (never through the system allocator, so the collector accounts for it and the
//! heap limit covers it; a storage over the large-object threshold is a large object), copies
//! the elements through the store path's bulk entry, sets the old storage's length to zero
//! (so its death runs no drop glue for the elements moved out) and points the vector at the new
//! one. Pinning a vector pins its current storage; growth while it is pinned is refused.
//!
//! Invariants:
//! - a storage's `len <= capacity`, and exactly its first `len` elements are initialised: the
//!   storage traces and drops those and only those;
//! - a vector's storage member is never null;
//! - an element holding references is written only from a mirror (resolved after the
//!   allocation that makes room for it) or copied from another element of the heap, through
//!   the store path (`store.rs`).

use std::marker::PhantomData;

use crate::builtin::LEN_SIZE;
use crate::member::Member;
use crate::object::{TypeInfo, TYPE_MAGIC};
use crate::scan::ScanEntries;
use crate::trace::Tracer;
use crate::Trace;

/// A fixed-length array of `T` stored inline in one heap object (a tuple, a Python `tuple`, a
/// Lua array part). Read it with `s.get(h)` as a `&[T]`.
///
/// ```
/// use gc_core::{Config, Heap, Member, Trace};
///
/// #[derive(Trace)]
/// enum Value { Nil, Num(f64), Str(Member<gc_core::GcBytes>) }
///
/// let mut heap = Heap::new(Config::default()).unwrap();
/// heap.scope(|s| {
///     let hi = s.alloc_bytes(b"hi").unwrap();
///     let tuple = s
///         .alloc_slice([ValueInit::Num(1.5), ValueInit::Str(Some(hi)), ValueInit::Nil])
///         .unwrap();
///     s.collect_minor();
///     let items = s.get(tuple);
///     assert_eq!(items.len(), 3);
///     assert!(matches!(items[0], Value::Num(n) if n == 1.5));
///     let Value::Str(m) = &items[1] else { unreachable!() };
///     assert_eq!(s.deref(m), Some(&b"hi"[..]));
/// });
/// ```
pub struct GcSlice<T> {
    _private: PhantomData<fn() -> T>,
}

/// A growable array of `T` stored inline (a Python `list`, a VM's value stack). Read its live
/// elements with `s.get(h)` as a `&[T]`; change it with `vec_push`, `vec_insert`, `vec_set`,
/// `vec_pop`, `vec_remove`, `vec_truncate` and the other `vec_*` methods of `Scope`.
///
/// ```
/// use gc_core::{Config, Heap};
///
/// let mut heap = Heap::new(Config::default()).unwrap();
/// heap.scope(|s| {
///     let numbers = s.alloc_vec::<f64>(0).unwrap();
///     for i in 0..1_000_000 {
///         s.vec_push(numbers, i as f64);
///     }
///     assert_eq!(s.get(numbers).len(), 1_000_000);
///     assert_eq!(s.vec_pop_value(numbers), Some(999_999.0));
/// });
/// ```
pub struct GcVec<T> {
    _private: PhantomData<fn() -> T>,
}

/// The element storage of a [`GcVec<T>`] (never seen by users).
pub(crate) struct VecStorage<T> {
    _private: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for GcSlice<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GcSlice")
    }
}

impl<T> std::fmt::Debug for GcVec<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GcVec")
    }
}

/// Bytes of a storage's header: capacity, then length.
pub(crate) const STORAGE_HEADER: usize = 2 * LEN_SIZE;

/// # Safety
/// `payload` points to a live payload whose first word is a count.
unsafe fn word(payload: *const u8, index: usize) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { payload.cast::<usize>().add(index).read() }
}

// ----- GcSlice<T>: [len][T; len] -------------------------------------------------------

/// # Safety
/// `payload` points to a live `GcSlice<T>` payload.
unsafe fn slice_size<T>(payload: *const u8) -> usize {
    // SAFETY: forwarded from the caller.
    LEN_SIZE + unsafe { word(payload, 0) } * std::mem::size_of::<T>()
}

/// The elements of a live `GcSlice<T>` payload.
///
/// # Safety
/// `payload` points to a live `GcSlice<T>` payload; the slice is not used after the object
/// moves or dies.
pub(crate) unsafe fn slice_elements<'a, T>(payload: *const u8) -> &'a [T] {
    // SAFETY: forwarded from the caller: `len` initialised elements follow the length word.
    unsafe { std::slice::from_raw_parts(payload.add(LEN_SIZE).cast::<T>(), word(payload, 0)) }
}

/// # Safety
/// `payload` points to a live `GcSlice<T>` payload.
unsafe fn slice_trace<T: Trace>(payload: *const u8, tracer: &mut Tracer<'_>) {
    // SAFETY: forwarded from the caller.
    for element in unsafe { slice_elements::<T>(payload) } {
        element.trace(tracer);
    }
}

/// # Safety
/// `payload` points to a dead `GcSlice<T>` payload, dropped exactly once.
unsafe fn slice_drop<T>(payload: *mut u8) {
    // SAFETY: forwarded from the caller: the elements are initialised and never used again.
    unsafe {
        let elements = payload.add(LEN_SIZE).cast::<T>();
        std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(
            elements,
            word(payload, 0),
        ));
    }
}

/// # Safety
/// `payload` points to a live `GcSlice<T>` payload.
unsafe fn slice_data<T>(payload: *mut u8) -> (*mut u8, usize) {
    // SAFETY: forwarded from the caller.
    unsafe { crate::builtin::data_after_len(payload, slice_size::<T>) }
}

impl TypeInfo {
    const fn slice<T: Trace>() -> TypeInfo {
        assert!(
            std::mem::align_of::<T>() <= crate::object::OBJECT_ALIGN,
            "Pinion heap types must have an alignment of at most 8 bytes"
        );
        TypeInfo {
            magic: TYPE_MAGIC,
            name: std::any::type_name::<GcSlice<T>>,
            fixed_size: 0,
            small: None,
            var_size: Some(slice_size::<T>),
            trace: if T::NEEDS_TRACE {
                Some(slice_trace::<T>)
            } else {
                None
            },
            ref_words: None,
            scan: ScanEntries::of::<crate::scan::SliceElements<T>>(),
            drop: if std::mem::needs_drop::<T>() {
                Some(slice_drop::<T>)
            } else {
                None
            },
            data: slice_data::<T>,
            pin_target: None,
            check: None,
        }
    }
}

impl<T: Trace> crate::GcObject for GcSlice<T> {
    const TYPE_INFO: &'static TypeInfo = &TypeInfo::slice::<T>();
    type Ref<'a> = &'a [T];
    #[inline(always)]
    unsafe fn read<'a>(payload: *const u8) -> &'a [T] {
        // SAFETY: forwarded from the caller.
        unsafe { slice_elements::<T>(payload) }
    }
}

// ----- VecStorage<T>: [capacity][len][T; capacity] -------------------------------------

/// # Safety
/// `payload` points to a live storage payload.
unsafe fn storage_size<T>(payload: *const u8) -> usize {
    // SAFETY: forwarded from the caller.
    STORAGE_HEADER + unsafe { word(payload, 0) } * std::mem::size_of::<T>()
}

/// The live elements of a storage payload.
///
/// # Safety
/// `payload` points to a live storage payload; the slice is not used after the object moves
/// or dies, or after the length changes.
pub(crate) unsafe fn storage_elements<'a, T>(payload: *const u8) -> &'a [T] {
    // SAFETY: forwarded from the caller: the first `len` elements are initialised.
    unsafe { std::slice::from_raw_parts(payload.add(STORAGE_HEADER).cast::<T>(), word(payload, 1)) }
}

/// # Safety
/// `payload` points to a live storage payload.
unsafe fn storage_trace<T: Trace>(payload: *const u8, tracer: &mut Tracer<'_>) {
    // SAFETY: forwarded from the caller.
    for element in unsafe { storage_elements::<T>(payload) } {
        element.trace(tracer);
    }
}

/// # Safety
/// `payload` points to a dead storage payload, dropped exactly once.
unsafe fn storage_drop<T>(payload: *mut u8) {
    // SAFETY: forwarded from the caller: the first `len` elements are initialised and never
    // used again (a storage a vector grew out of has length zero).
    unsafe {
        let elements = payload.add(STORAGE_HEADER).cast::<T>();
        std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(
            elements,
            word(payload, 1),
        ));
    }
}

/// # Safety
/// `payload` points to a live storage payload.
unsafe fn storage_data<T>(payload: *mut u8) -> (*mut u8, usize) {
    // SAFETY: forwarded from the caller.
    unsafe {
        (
            payload.add(STORAGE_HEADER),
            word(payload, 1) * std::mem::size_of::<T>(),
        )
    }
}

impl TypeInfo {
    const fn vec_storage<T: Trace>() -> TypeInfo {
        assert!(
            std::mem::align_of::<T>() <= crate::object::OBJECT_ALIGN,
            "Pinion heap types must have an alignment of at most 8 bytes"
        );
        TypeInfo {
            magic: TYPE_MAGIC,
            name: std::any::type_name::<VecStorage<T>>,
            fixed_size: 0,
            small: None,
            var_size: Some(storage_size::<T>),
            trace: if T::NEEDS_TRACE {
                Some(storage_trace::<T>)
            } else {
                None
            },
            ref_words: None,
            scan: ScanEntries::of::<crate::scan::StorageElements<T>>(),
            drop: if std::mem::needs_drop::<T>() {
                Some(storage_drop::<T>)
            } else {
                None
            },
            data: storage_data::<T>,
            pin_target: None,
            check: None,
        }
    }
}

impl<T: Trace> crate::GcObject for VecStorage<T> {
    const TYPE_INFO: &'static TypeInfo = &TypeInfo::vec_storage::<T>();
    type Ref<'a> = &'a [T];
    #[inline(always)]
    unsafe fn read<'a>(payload: *const u8) -> &'a [T] {
        // SAFETY: forwarded from the caller.
        unsafe { storage_elements::<T>(payload) }
    }
}

// ----- GcVec<T>: [storage] -------------------------------------------------------------

/// The storage member of a vector payload.
///
/// # Safety
/// `payload` points to a live `GcVec<T>` payload.
pub(crate) unsafe fn vec_storage_member<'a, T>(payload: *const u8) -> &'a Member<VecStorage<T>> {
    // SAFETY: forwarded from the caller: the payload is one member.
    unsafe { &*payload.cast::<Member<VecStorage<T>>>() }
}

/// # Safety
/// `payload` points to a live `GcVec<T>` payload.
unsafe fn vec_trace<T>(payload: *const u8, tracer: &mut Tracer<'_>) {
    // SAFETY: forwarded from the caller.
    tracer.member(unsafe { vec_storage_member::<T>(payload) });
}

/// # Safety
/// `payload` points to a live `GcVec<T>` payload.
/// Returns the reference to its storage object, which is that object's payload.
unsafe fn vec_storage_object<T>(payload: *mut u8) -> *mut u8 {
    // SAFETY: forwarded from the caller; the storage member is never null.
    unsafe { vec_storage_member::<T>(payload) }.slot().get()
}

/// # Safety
/// `payload` points to a live `GcVec<T>` payload.
unsafe fn vec_data<T>(payload: *mut u8) -> (*mut u8, usize) {
    // SAFETY: forwarded from the caller; the storage is a live object.
    unsafe { storage_data::<T>(vec_storage_object::<T>(payload)) }
}

impl TypeInfo {
    const fn vec<T: Trace>() -> TypeInfo {
        TypeInfo {
            magic: TYPE_MAGIC,
            name: std::any::type_name::<GcVec<T>>,
            fixed_size: std::mem::size_of::<Member<VecStorage<T>>>(),
            small: crate::object::SmallShape::of(std::mem::size_of::<Member<VecStorage<T>>>()),
            var_size: None,
            trace: Some(vec_trace::<T>),
            ref_words: None,
            // The one field: the storage's member.
            scan: ScanEntries::of::<crate::scan::Fixed<Member<VecStorage<T>>>>(),
            drop: None,
            data: vec_data::<T>,
            pin_target: Some(vec_storage_object::<T>),
            check: None,
        }
    }
}

impl<T: Trace> crate::GcObject for GcVec<T> {
    const TYPE_INFO: &'static TypeInfo = &TypeInfo::vec::<T>();
    type Ref<'a> = &'a [T];
    #[inline(always)]
    unsafe fn read<'a>(payload: *const u8) -> &'a [T] {
        // SAFETY: forwarded from the caller: the storage member refers to the live storage.
        unsafe {
            // A reference is its object's payload address.
            let storage = vec_storage_member::<T>(payload).slot().get();
            storage_elements::<T>(storage)
        }
    }
}
