//! One-step construction: building an object with its references in a single allocation.
//!
//! A heap object is written once, by [`Scope::alloc_init`](crate::Scope::alloc_init), from a
//! *mirror* of its type: the same shape with every `Member<U>` replaced by an
//! `Option<Handle<'h, U>>` and every leaf field kept as it is. `#[derive(Trace)]` generates the
//! mirror (`NodeInit<'h>` for `Node`) and the [`Init`] impl that connects the two, for structs
//! and for every variant of an enum; leaf types (numbers, strings, `Weak`, …) are their own
//! mirror, and so are `Option`, arrays and tuples of mirrors.
//!
//! Why a mirror and not an initialiser closure: a closure that receives `Member`s could stash
//! one in a captured variable (a non-null `Member` outside the heap, which no collection
//! updates), and a panic inside it would leave a reserved object with an uninitialised payload.
//! A mirror holds only handles, which are rooted and checked. `alloc_init`:
//!
//! 1. checks that every handle in the mirror belongs to this heap ([`Init::check_heap`]), so
//!    nothing can fail after the reservation;
//! 2. reserves the object (which may run a collection: the handles follow their objects);
//! 3. resolves every handle to its object's *current* address and writes every field
//!    ([`Init::build`], generated code: no user code runs between the resolution and the
//!    write);
//! 4. runs the barrier of the single store path (`store.rs`) if the object was born old, so it
//!    is remembered exactly as after a later store;
//! 5. roots the object and only then delivers hook events.
//!
//! Derived `build` creates the value with its members filled in and moves it into the
//! reserved payload at once; that value is never visible to user code.

use crate::error::GcError;
use crate::handle_stack::HandleStack;
use crate::member::Member;
use crate::scope::Handle;

/// Resolves the handles of a mirror to the current addresses of their objects, for
/// [`Init::build`]. Only the heap makes one, right after reserving the object.
pub struct Resolver<'a> {
    /// Ties the resolver to the scope that made it: a handle is the address of its slot, so
    /// resolving needs nothing else.
    _scope: std::marker::PhantomData<&'a ()>,
}

impl std::fmt::Debug for Resolver<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Resolver")
    }
}

impl Resolver<'_> {
    /// A resolver for the handles of a checked mirror (only the heap makes one).
    #[inline(always)]
    pub(crate) fn new() -> Self {
        Resolver {
            _scope: std::marker::PhantomData,
        }
    }

    /// The member a mirror's optional handle becomes.
    ///
    /// # Safety
    /// The handle belongs to the heap that made this resolver (checked by
    /// [`Init::check_heap`]) and the member is written into a heap object before any user code
    /// runs.
    #[inline(always)]
    pub(crate) unsafe fn member<U: ?Sized>(&self, h: Option<Handle<'_, U>>) -> Member<U> {
        // A match, not a read of the null word for `None` (as stores do): a mirror's children
        // are usually known to be present or absent where it is written, and then the match
        // folds away, where the read stayed (two loads for a binary tree's leaf).
        match h {
            // SAFETY: a live handle of this heap (the caller's check) names a live slot, which
            // holds its object's current reference (the invariants of `scope/mod.rs`).
            Some(h) => Member::from_ptr(unsafe { HandleStack::read(h.slot()) }),
            None => Member::null(),
        }
    }
}

/// How a heap type is built in one step from its mirror, [`Init::Init`].
///
/// `#[derive(Trace)]` implements it for structs and enums; leaf types are their own mirror
/// ([`impl_leaf_init!`](crate::impl_leaf_init) implements that for a leaf type with a
/// hand-written `Trace`).
///
/// # Safety
///
/// 1. `check_heap` returns an error when any handle in the mirror belongs to another heap than
///    `heap`, and has no other effect;
/// 2. `build` turns every handle into the member `Resolver::member` gives for it, keeps every
///    other value, and does nothing else: no allocation, no panic, and no member it creates
///    escapes the returned value.
pub unsafe trait Init: Sized {
    /// The mirror: this type with its members as optional handles.
    type Init<'h>;

    /// Refuses a mirror holding a handle of another heap.
    fn check_heap(init: &Self::Init<'_>, heap: u32) -> Result<(), GcError>;

    /// The value described by `init`, its handles resolved to members.
    ///
    /// # Safety
    /// `check_heap` accepted `init` for the resolver's heap, and the value is moved into a heap
    /// object before any user code runs.
    unsafe fn build(init: Self::Init<'_>, resolver: &Resolver<'_>) -> Self;
}

/// A mirror, and the type it builds: what lets `s.alloc_init(NodeInit { .. })` infer `Node`.
/// `#[derive(Trace)]` implements it for the mirrors it generates (and for types without
/// fields, which are their own mirrors).
pub trait Mirror<'h>: Sized {
    /// The heap type this mirror builds.
    type Target: crate::Trace + Init<Init<'h> = Self>;
}

/// Implements [`Init`] for leaf types (types that hold no `Member`): the mirror is the type.
///
/// ```
/// use gc_core::{impl_leaf_init, Trace, Tracer};
///
/// struct Celsius(f64);
/// // SAFETY: holds no Member.
/// unsafe impl Trace for Celsius {
///     const NEEDS_TRACE: bool = false;
///     fn trace(&self, _: &mut Tracer<'_>) {}
/// }
/// impl_leaf_init!(Celsius);
/// ```
#[macro_export]
macro_rules! impl_leaf_init {
    ($($t:ty),* $(,)?) => {$(
        // SAFETY: a leaf holds no Member: its mirror is itself, with no handle to check.
        unsafe impl $crate::Init for $t {
            type Init<'h> = $t;
            #[inline(always)]
            fn check_heap(_: &Self, _: u32) -> ::core::result::Result<(), $crate::GcError> {
                ::core::result::Result::Ok(())
            }
            #[inline(always)]
            unsafe fn build(init: Self, _: &$crate::Resolver<'_>) -> Self {
                init
            }
        }
        impl<'h> $crate::Mirror<'h> for $t {
            type Target = $t;
        }
    )*};
}

impl<'h, T: ?Sized + 'static> Mirror<'h> for Option<Handle<'h, T>> {
    type Target = Member<T>;
}

// SAFETY: a member's mirror is an optional handle, checked and resolved as the contract says.
unsafe impl<T: ?Sized + 'static> Init for Member<T> {
    type Init<'h> = Option<Handle<'h, T>>;
    #[inline(always)]
    fn check_heap(init: &Self::Init<'_>, heap: u32) -> Result<(), GcError> {
        match init {
            Some(h) if h.heap_id() != heap => Err(GcError::ForeignHandle {
                handle_heap: h.heap_id(),
                this_heap: heap,
            }),
            _ => Ok(()),
        }
    }
    #[inline(always)]
    unsafe fn build(init: Self::Init<'_>, resolver: &Resolver<'_>) -> Self {
        // SAFETY: forwarded from the caller.
        unsafe { resolver.member(init) }
    }
}

// SAFETY: checks and builds the contained value when present.
unsafe impl<T: Init> Init for Option<T> {
    type Init<'h> = Option<T::Init<'h>>;
    #[inline(always)]
    fn check_heap(init: &Self::Init<'_>, heap: u32) -> Result<(), GcError> {
        match init {
            Some(v) => T::check_heap(v, heap),
            None => Ok(()),
        }
    }
    #[inline(always)]
    unsafe fn build(init: Self::Init<'_>, resolver: &Resolver<'_>) -> Self {
        // SAFETY: forwarded from the caller.
        init.map(|v| unsafe { T::build(v, resolver) })
    }
}

// SAFETY: checks and builds every element.
unsafe impl<T: Init, const N: usize> Init for [T; N] {
    type Init<'h> = [T::Init<'h>; N];
    #[inline(always)]
    fn check_heap(init: &Self::Init<'_>, heap: u32) -> Result<(), GcError> {
        init.iter().try_for_each(|v| T::check_heap(v, heap))
    }
    #[inline(always)]
    unsafe fn build(init: Self::Init<'_>, resolver: &Resolver<'_>) -> Self {
        // SAFETY: forwarded from the caller.
        init.map(|v| unsafe { T::build(v, resolver) })
    }
}

macro_rules! tuple_init {
    ($($name:ident)+) => {
        // SAFETY: checks and builds every component.
        unsafe impl<$($name: Init),+> Init for ($($name,)+) {
            type Init<'h> = ($($name::Init<'h>,)+);
            #[inline(always)]
            #[allow(non_snake_case)]
            fn check_heap(init: &Self::Init<'_>, heap: u32) -> Result<(), GcError> {
                let ($($name,)+) = init;
                $($name::check_heap($name, heap)?;)+
                Ok(())
            }
            #[inline(always)]
            #[allow(non_snake_case)]
            unsafe fn build(init: Self::Init<'_>, resolver: &Resolver<'_>) -> Self {
                let ($($name,)+) = init;
                // SAFETY: forwarded from the caller.
                unsafe { ($($name::build($name, resolver),)+) }
            }
        }
    };
}

tuple_init!(A);
tuple_init!(A B);
tuple_init!(A B C);
tuple_init!(A B C D);
