//! Tracing: how the collector finds the references inside a value.
//!
//! Every type stored in a Pinion heap implements the unsafe trait [`Trace`]. Users derive it
//! (`#[derive(Trace)]`); the derive upholds the contract below, so ordinary code never writes
//! `unsafe`. A collection hands each live object a [`Tracer`]; the object reports each of its
//! [`Member`] fields, and the collector may rewrite the field in place (a minor collection moves
//! young objects and updates the members that point to them).
//!
//! Which types are traceable is deliberately narrow. Interior mutability is the enemy: a
//! `RefCell<Member<T>>` would let safe code move a member out of the heap (`replace`) and keep a
//! stale address. So `Trace` is implemented for `Cell<T>` only when `T: Copy` (a `Member` is
//! never `Copy`), and not at all for `RefCell`, `Mutex` and friends. References are written only
//! through the scope's barrier (`Scope::set`), which is the one place that knows how.

use std::cell::Cell;

use crate::init::{Init, Resolver};
use crate::member::Member;

/// A value the collector can trace.
///
/// # Safety
///
/// Implementors promise the collector that:
///
/// 1. `trace` passes every [`Member`] the value holds to the tracer exactly once, and does
///    nothing else with the heap: no allocation, no panics (a panic in `trace` interrupts a
///    collection half-way, so it aborts the process with a message naming `Trace::trace`).
///    Members are held inline: memory the value owns outside the heap (a `Box`, a `Vec`) holds
///    none, which `Trace` for those containers asserts at compile time, because the barrier
///    only writes fields inside heap objects; references in a collection belong in the traced
///    collections (`GcVec`, `GcSlice`, `GcArray`);
/// 2. `NEEDS_TRACE` is `true` whenever the value can hold a `Member` (it may be `true`
///    needlessly, never `false` wrongly);
/// 3. if the value can hold a `Member`, the type does not implement `Drop` (a destructor receives
///    `&mut self` and could move a member out of a dead object) and offers no interior
///    mutability through which a `Member` can be moved, replaced or duplicated;
/// 4. the value is `Send + 'static` and has an alignment of at most 8 bytes (checked at compile
///    time when the type is allocated);
/// 5. `REF_WORDS`, when it is `Some(bits)`, names exactly the reference slots `trace` reports:
///    bit `i` is set when the 8-byte word at offset `8 * i` is a [`Member`] (the collector then
///    scans those words without calling `trace`). `None`, the default for types that hold
///    references, always keeps the contract.
///
/// `#[derive(Trace)]` upholds all five mechanically.
///
/// # Example
///
/// ```
/// use gc_core::{Member, Trace};
///
/// #[derive(Trace)]
/// struct Node {
///     value: i64,
///     next: Member<Node>,
/// }
/// assert!(Node::NEEDS_TRACE);
/// assert!(!<i64 as Trace>::NEEDS_TRACE);
/// ```
pub unsafe trait Trace: Init + Send + 'static {
    /// Whether values of this type can hold references. Leaf types set it to `false`, so the
    /// collector never calls their `trace`.
    const NEEDS_TRACE: bool;

    /// Where the value's references lie, when they are at fixed places: bit `i` set means
    /// the word at byte offset `8 * i` is a [`Member`]. The collectors scan such objects with
    /// an inlined loop over the set bits instead of an indirect call per object and per
    /// reference. `None` (the default for a type with `NEEDS_TRACE`): the collector calls
    /// `trace`. `#[derive(Trace)]` computes it for structs from their fields' offsets.
    ///
    /// ```
    /// use gc_core::{Member, Trace};
    ///
    /// #[derive(Trace)]
    /// struct Node {
    ///     value: i64,
    ///     next: Member<Node>,
    /// }
    /// let words = Node::REF_WORDS.unwrap();
    /// assert_eq!(words, 1 << (std::mem::offset_of!(Node, next) / 8));
    /// assert_eq!(<u64 as Trace>::REF_WORDS, Some(0));
    /// ```
    const REF_WORDS: Option<u64> = if Self::NEEDS_TRACE { None } else { Some(0) };

    /// Reports every [`Member`] in `self` to `tracer`.
    fn trace(&self, tracer: &mut Tracer<'_>);
}

/// The reference words of a struct from its fields (`(byte offset, the field's REF_WORDS)`)
/// and its size: `None` when a field's layout is unknown, a reference field is not 8-aligned
/// or a reference lies past the 64th word. Used by `#[derive(Trace)]`.
#[doc(hidden)]
pub const fn ref_words_of_fields(fields: &[(usize, Option<u64>)], size: usize) -> Option<u64> {
    let mut bits = 0u64;
    let mut i = 0;
    while i < fields.len() {
        let (offset, words) = fields[i];
        i += 1;
        let Some(words) = words else { return None };
        if words == 0 {
            continue;
        }
        if offset % 8 != 0 || offset / 8 >= 64 || offset >= size {
            return None;
        }
        let shift = (offset / 8) as u32;
        // Every bit must survive the shift (a reference past word 63 cannot be described).
        if words.leading_zeros() < shift {
            return None;
        }
        bits |= words << shift;
    }
    Some(bits)
}

/// The reference words of `[T; n]` for a `T` of `size` bytes with reference words `words`.
const fn ref_words_of_array(words: Option<u64>, size: usize, n: usize) -> Option<u64> {
    let Some(words) = words else { return None };
    if words == 0 || n == 0 {
        return Some(0);
    }
    if !size.is_multiple_of(8) {
        return None;
    }
    let mut bits = 0u64;
    let mut i = 0;
    while i < n {
        let offset = i * size;
        if offset / 8 >= 64 || words.leading_zeros() < (offset / 8) as u32 {
            return None;
        }
        bits |= words << (offset / 8);
        i += 1;
    }
    Some(bits)
}

/// What a collection does with one reference slot.
pub(crate) trait SlotVisitor {
    /// Whether a fixed layout's references are visited from the last to the first (see the
    /// copy order in `collect/mod.rs`); the order is otherwise the fields' order. (A function, not
    /// a constant, so that the trait stays usable as `dyn SlotVisitor`.)
    #[inline(always)]
    fn last_first() -> bool
    where
        Self: Sized,
    {
        false
    }

    /// Whether this visitor will read the object at `target` when it visits a slot holding
    /// it, so that a reference array's scan should prefetch it some slots ahead (`scan.rs`).
    /// The minor collection reads only young objects: prefetching every old target of an old
    /// array it rescans would pull a random cache line per slot for nothing.
    #[inline(always)]
    fn reads_target(&self, target: *mut u8) -> bool
    where
        Self: Sized,
    {
        let _ = target;
        true
    }

    /// Called for every non-null reference slot. May rewrite the slot.
    fn visit(&mut self, slot: &Cell<*mut u8>);
}

/// Handed to [`Trace::trace`]; receives the value's references.
pub struct Tracer<'a> {
    visitor: &'a mut dyn SlotVisitor,
}

impl std::fmt::Debug for Tracer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tracer")
    }
}

impl<'a> Tracer<'a> {
    pub(crate) fn new(visitor: &'a mut dyn SlotVisitor) -> Tracer<'a> {
        Tracer { visitor }
    }

    /// Reports one reference field.
    #[inline]
    pub fn member<T: ?Sized>(&mut self, member: &Member<T>) {
        let slot = member.slot();
        if !slot.get().is_null() {
            self.visitor.visit(slot);
        }
    }

    /// Reports a raw reference slot (the embedder's root layer).
    #[inline]
    pub(crate) fn slot(&mut self, slot: &Cell<*mut u8>) {
        if !slot.get().is_null() {
            self.visitor.visit(slot);
        }
    }
}

// SAFETY: a Member is the reference; tracing it is the whole contract.
unsafe impl<T: ?Sized + 'static> Trace for Member<T> {
    const NEEDS_TRACE: bool = true;
    // A member is one word (`repr(transparent)` over its address).
    const REF_WORDS: Option<u64> = Some(1);
    #[inline]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        tracer.member(self);
    }
}

macro_rules! leaf_trace {
    ($($t:ty),* $(,)?) => {$(
        // SAFETY: the type holds no Member, so tracing it does nothing.
        unsafe impl Trace for $t {
            const NEEDS_TRACE: bool = false;
            #[inline]
            fn trace(&self, _: &mut Tracer<'_>) {}
        }
        crate::impl_leaf_init!($t);
    )*};
}

/// [`Init`] for a generic leaf container: the mirror is the value itself.
macro_rules! generic_leaf_init {
    (impl<$($p:ident),*> for $t:ty where $($bounds:tt)*) => {
        // SAFETY: the container holds no non-null Member (only null ones can exist outside the
        // heap), so its mirror is itself, with no handle to check.
        unsafe impl<$($p),*> Init for $t where $($bounds)* {
            type Init<'h> = $t;
            #[inline(always)]
            fn check_heap(_: &Self, _: u32) -> Result<(), crate::GcError> {
                Ok(())
            }
            #[inline(always)]
            unsafe fn build(init: Self, _: &Resolver<'_>) -> Self {
                init
            }
        }
        impl<'h, $($p),*> crate::Mirror<'h> for $t where $($bounds)* {
            type Target = $t;
        }
    };
}

generic_leaf_init!(impl<T> for std::sync::Arc<T> where T: Trace + Sync);
generic_leaf_init!(impl<T> for Cell<T> where T: Copy + Trace);
generic_leaf_init!(impl<T> for std::marker::PhantomData<T> where T: ?Sized + Send + 'static);
generic_leaf_init!(impl<T> for Box<T> where T: Trace);
generic_leaf_init!(impl<T> for Vec<T> where T: Trace);
generic_leaf_init!(impl<T> for Box<[T]> where T: Trace);

leaf_trace!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    usize,
    i8,
    i16,
    i32,
    i64,
    isize,
    f32,
    f64,
    String,
    Box<str>,
    &'static str,
    std::num::NonZeroU32,
    std::num::NonZeroU64,
    std::num::NonZeroUsize,
    std::sync::atomic::AtomicBool,
    std::sync::atomic::AtomicU32,
    std::sync::atomic::AtomicU64,
    std::sync::atomic::AtomicUsize,
    std::sync::atomic::AtomicI64,
);

// SAFETY: an Arc gives only shared access to its value and `T: Sync` rules out a Member
// inside (Member is !Sync), so nothing can move a reference out; tracing forwards anyway.
unsafe impl<T: Trace + Sync> Trace for std::sync::Arc<T> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    #[inline]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        (**self).trace(tracer);
    }
}

// SAFETY: `Cell<T>` with `T: Copy` cannot hold a Member (Member is not Copy), so `set` and
// `replace` can never move a reference out of the heap.
unsafe impl<T: Copy + Trace> Trace for Cell<T> {
    const NEEDS_TRACE: bool = false;
    #[inline]
    fn trace(&self, _: &mut Tracer<'_>) {}
}

// SAFETY: PhantomData holds nothing.
unsafe impl<T: ?Sized + Send + 'static> Trace for std::marker::PhantomData<T> {
    const NEEDS_TRACE: bool = false;
    #[inline]
    fn trace(&self, _: &mut Tracer<'_>) {}
}

// SAFETY: traces the contained value when present; Option offers no interior mutability.
unsafe impl<T: Trace> Trace for Option<T> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    #[inline]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        if let Some(v) = self {
            v.trace(tracer);
        }
    }
}

/// `NEEDS_TRACE` of an owning container (`Box`, `Vec`, `Box<[T]>`) of `T`: always `false`,
/// after a compile-time assertion that `T` holds no references. A `Member` in memory the heap
/// does not manage could never be written (the barrier refuses a field outside its object) and
/// would not be updated in place by a growth or a clone; references in a collection belong in a
/// traced collection instead. The assertion fires when a type holding such a container is
/// allocated (its `NEEDS_TRACE` is evaluated then).
macro_rules! owning_container_needs_trace {
    ($container:literal) => {{
        assert!(
            !T::NEEDS_TRACE,
            concat!(
                "a ",
                $container,
                " cannot hold GC references (Member): use a traced collection instead                  (GcVec<T> for a growable array, GcSlice<T> for a fixed one, GcArray<T> for                  references only)"
            )
        );
        false
    }};
}

// SAFETY: a Box owning a Member is refused at compile time (NEEDS_TRACE asserts it), so there is
// nothing to trace.
unsafe impl<T: Trace> Trace for Box<T> {
    const NEEDS_TRACE: bool = owning_container_needs_trace!("Box<T>");
    #[inline]
    fn trace(&self, _: &mut Tracer<'_>) {}
}

// SAFETY: a Vec owning a Member is refused at compile time, so there is nothing to trace.
unsafe impl<T: Trace> Trace for Vec<T> {
    const NEEDS_TRACE: bool = owning_container_needs_trace!("Vec<T>");
    #[inline]
    fn trace(&self, _: &mut Tracer<'_>) {}
}

// SAFETY: a boxed slice owning a Member is refused at compile time, so there is nothing to
// trace.
unsafe impl<T: Trace> Trace for Box<[T]> {
    const NEEDS_TRACE: bool = owning_container_needs_trace!("Box<[T]>");
    #[inline]
    fn trace(&self, _: &mut Tracer<'_>) {}
}

// SAFETY: traces every element of the array.
unsafe impl<T: Trace, const N: usize> Trace for [T; N] {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    const REF_WORDS: Option<u64> = ref_words_of_array(T::REF_WORDS, std::mem::size_of::<T>(), N);
    #[inline]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        if T::NEEDS_TRACE {
            for v in self {
                v.trace(tracer);
            }
        }
    }
}

macro_rules! tuple_trace {
    ($($name:ident)+) => {
        // SAFETY: traces every component.
        unsafe impl<$($name: Trace),+> Trace for ($($name,)+) {
            const NEEDS_TRACE: bool = false $(|| $name::NEEDS_TRACE)+;
            #[inline]
            #[allow(non_snake_case)]
            fn trace(&self, tracer: &mut Tracer<'_>) {
                let ($($name,)+) = self;
                $($name.trace(tracer);)+
            }
        }
    };
}

tuple_trace!(A);
tuple_trace!(A B);
tuple_trace!(A B C);
tuple_trace!(A B C D);
