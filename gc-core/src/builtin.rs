//! Built-in variable-length heap types: byte strings and arrays of references.
//!
//! User-defined dynamically sized types are awkward on stable Rust, so the two that every
//! interpreter needs ship with the crate. Both have the payload layout
//!
//! ```text
//! [ len: usize ][ len elements ]      bytes: u8 each; arrays: one Member (8 bytes) each
//! ```
//!
//! They are reached only through the scope's accessors (`Scope::bytes`, `Scope::array`, …),
//! which build slices from the object's raw address, never from a reference to the header-sized
//! marker types below.

use std::marker::PhantomData;

use crate::object::{TypeInfo, TYPE_MAGIC};
use crate::scan::ScanEntries;
use crate::trace::Tracer;
use crate::{Member, Trace};

/// Anything that can live in a Pinion heap: every [`Trace`] type, plus the built-in
/// [`GcBytes`], [`GcArray`], [`GcSlice`](crate::GcSlice) and [`GcVec`](crate::GcVec).
///
/// It says how the heap lays the type out and what reading one gives: [`Scope::get`] and
/// [`Scope::deref`] return `Ref<'a>` for every heap type alike (`&T` for a traced type, `&[u8]`
/// for a byte string, a slice of elements for the arrays).
///
/// [`Scope::get`]: crate::Scope::get
/// [`Scope::deref`]: crate::Scope::deref
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a heap type",
    note = "heap types are `#[derive(Trace)]` types (and the other `Trace` types), `GcBytes`, \
            `GcArray<T>`, `GcSlice<T>` and `GcVec<T>`"
)]
pub trait GcObject: 'static {
    #[doc(hidden)]
    const TYPE_INFO: &'static TypeInfo;

    /// What reading an object of this type through a scope gives.
    type Ref<'a>;

    /// The view of a live object of this type whose payload starts at `payload`.
    ///
    /// # Safety
    /// `payload` is the payload of a live object of this type, unmoved and undead for `'a`.
    #[doc(hidden)]
    unsafe fn read<'a>(payload: *const u8) -> Self::Ref<'a>;
}

impl<T: Trace> GcObject for T {
    const TYPE_INFO: &'static TypeInfo = &TypeInfo::fixed::<T>();
    type Ref<'a> = &'a T;
    #[inline(always)]
    unsafe fn read<'a>(payload: *const u8) -> &'a T {
        // SAFETY: forwarded from the caller.
        unsafe { &*payload.cast::<T>() }
    }
}

/// A byte string in the heap (a Python `bytes`, a Lua string, an I/O buffer).
///
/// ```
/// # use gc_core::{Config, Heap};
/// let mut heap = Heap::new(Config::default()).unwrap();
/// heap.scope(|s| {
///     let b = s.alloc_bytes(b"hello").unwrap();
///     s.bytes_mut(b)[0] = b'j';
///     assert_eq!(s.bytes(b), b"jello");
/// });
/// ```
#[derive(Debug)]
pub struct GcBytes {
    _private: (),
}

/// An array of references to `T` (a Python list's storage, a Lisp vector, a VM stack).
///
/// ```
/// # use gc_core::{Config, Heap, GcArray, GcBytes};
/// let mut heap = Heap::new(Config::default()).unwrap();
/// heap.scope(|s| {
///     let arr = s.alloc_array::<GcBytes>(3).unwrap();
///     let x = s.alloc_bytes(b"x").unwrap();
///     s.array_set(arr, 1, Some(x));
///     assert_eq!(s.array_len(arr), 3);
///     assert!(s.array(arr)[0].is_null());
///     let got = s.array_load(arr, 1).unwrap();
///     assert!(s.ptr_eq(got, x));
/// });
/// ```
pub struct GcArray<T: ?Sized> {
    _private: PhantomData<fn() -> T>,
}

impl<T: ?Sized> std::fmt::Debug for GcArray<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GcArray")
    }
}

/// Bytes of the length word in front of variable-length payloads.
pub(crate) const LEN_SIZE: usize = std::mem::size_of::<usize>();

/// # Safety
/// `payload` points to a live variable-length payload.
unsafe fn read_len(payload: *const u8) -> usize {
    // SAFETY: the first word of a variable-length payload is its length.
    unsafe { *payload.cast::<usize>() }
}

/// # Safety
/// `payload` points to a live byte-string payload.
unsafe fn bytes_size(payload: *const u8) -> usize {
    // SAFETY: forwarded from the caller.
    LEN_SIZE + unsafe { read_len(payload) }
}

/// # Safety
/// `payload` points to a live array payload.
unsafe fn array_size(payload: *const u8) -> usize {
    // SAFETY: forwarded from the caller.
    LEN_SIZE + unsafe { read_len(payload) } * std::mem::size_of::<Member<()>>()
}

/// # Safety
/// `payload` points to a live array payload.
unsafe fn array_trace(payload: *const u8, tracer: &mut Tracer<'_>) {
    // SAFETY: forwarded from the caller; elements follow the length word.
    let members = unsafe { array_members::<()>(payload) };
    for m in members {
        tracer.member(m);
    }
}

/// The elements of an array payload.
///
/// # Safety
/// `payload` points to a live array payload whose elements are `Member<T>`, and the slice is
/// not used after the object moves or dies.
pub(crate) unsafe fn array_members<'a, T: ?Sized>(payload: *const u8) -> &'a [Member<T>] {
    // SAFETY: forwarded from the caller; Member<T> has the same layout for every T.
    unsafe {
        let len = read_len(payload);
        std::slice::from_raw_parts(payload.add(LEN_SIZE).cast::<Member<T>>(), len)
    }
}

/// The data after a length word: `size(payload)` bytes of payload, less the word.
///
/// # Safety
/// `payload` points to a live variable-length payload measured by `size`.
pub(crate) unsafe fn data_after_len(
    payload: *mut u8,
    size: unsafe fn(*const u8) -> usize,
) -> (*mut u8, usize) {
    // SAFETY: forwarded from the caller; the data follows the length word.
    unsafe { (payload.add(LEN_SIZE), size(payload) - LEN_SIZE) }
}

/// # Safety
/// `payload` points to a live byte-string payload.
unsafe fn bytes_data(payload: *mut u8) -> (*mut u8, usize) {
    // SAFETY: forwarded from the caller.
    unsafe { data_after_len(payload, bytes_size) }
}

/// # Safety
/// `payload` points to a live array payload.
unsafe fn array_data(payload: *mut u8) -> (*mut u8, usize) {
    // SAFETY: forwarded from the caller.
    unsafe { data_after_len(payload, array_size) }
}

static BYTES_INFO: TypeInfo = TypeInfo {
    magic: TYPE_MAGIC,
    name: || "gc_core::GcBytes",
    fixed_size: 0,
    small: None,
    var_size: Some(bytes_size),
    trace: None,
    ref_words: None,
    scan: ScanEntries::of::<crate::scan::Leaf>(),
    drop: None,
    data: bytes_data,
    pin_target: None,
    check: None,
};

static ARRAY_INFO: TypeInfo = TypeInfo {
    magic: TYPE_MAGIC,
    name: || "gc_core::GcArray",
    fixed_size: 0,
    small: None,
    var_size: Some(array_size),
    trace: Some(array_trace),
    ref_words: None,
    scan: ScanEntries::of::<crate::scan::Members>(),
    drop: None,
    data: array_data,
    pin_target: None,
    check: None,
};

impl GcObject for GcBytes {
    const TYPE_INFO: &'static TypeInfo = &BYTES_INFO;
    type Ref<'a> = &'a [u8];
    #[inline(always)]
    unsafe fn read<'a>(payload: *const u8) -> &'a [u8] {
        // SAFETY: forwarded from the caller: a length word, then that many bytes.
        unsafe { std::slice::from_raw_parts(payload.add(LEN_SIZE), read_len(payload)) }
    }
}

impl<T: ?Sized + 'static> GcObject for GcArray<T> {
    const TYPE_INFO: &'static TypeInfo = &ARRAY_INFO;
    type Ref<'a> = &'a [Member<T>];
    #[inline(always)]
    unsafe fn read<'a>(payload: *const u8) -> &'a [Member<T>] {
        // SAFETY: forwarded from the caller.
        unsafe { array_members::<T>(payload) }
    }
}
