//! The embedder's own root set: the unsafe layer beside handle scopes.
//!
//! An interpreter usually keeps its values on its own stack and in its own globals. Instead of
//! pushing a handle for every one of them, it can implement [`RootProvider`]: at every
//! collection the heap asks each registered provider to report its slots, and the collector
//! updates them in place when objects move (clox's `markRoots`, PyPy's shadow stack, MMTk's
//! `scan_roots`). The slots hold [`RawGc`] values: untyped object addresses with no lifetime.
//!
//! This layer is `unsafe` because the type system cannot see the discipline it needs:
//!
//! 1. **When a `RawGc` is valid.** A `RawGc` comes from one heap ([`Scope::to_raw`],
//!    [`Pinned::object`]) and refers to a live object of that heap until that heap's next
//!    collection (any allocation may run one). It stays valid across a collection only when,
//!    at that collection, it is held in a slot that a registered provider reports (the
//!    collector then updates the slot, so the *slot's* value is the valid one), or its object
//!    is pinned by a guard that is still alive (a pinned object neither moves nor dies). This
//!    is the one rule; `Scope::from_raw` and `Pinned::object` refer to it;
//! 2. [`Scope::from_raw`](crate::Scope::from_raw) must be told the object's true type;
//! 3. a provider reports, each at most once per collection, only `RawGc`s of the heap it is
//!    registered with, does not allocate or otherwise touch the heap, and **does not panic**:
//!    a panic from `trace_roots` aborts the process, because it interrupts a collection
//!    half-way (the rule for every user callback inside a collection is in `abort.rs`).
//!
//! Violations are what the stress mode (`with_stress(Some(1))`, nursery poisoning and the
//! verifier) exists to catch.
//!
//! [`Scope::to_raw`]: crate::Scope::to_raw
//! [`Pinned::object`]: crate::Pinned::object

use std::any::Any;
use std::cell::Cell;
use std::ptr::NonNull;

use crate::trace::Tracer;

/// An untyped, unrooted reference to a heap object, for the embedder's own root set.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct RawGc(NonNull<u8>);

// SAFETY: a RawGc is only an address; dereferencing it takes `unsafe` (`Scope::from_raw`) and
// a scope of the owning heap, which lives on one thread at a time.
unsafe impl Send for RawGc {}

impl RawGc {
    pub(crate) fn new(ptr: NonNull<u8>) -> RawGc {
        RawGc(ptr)
    }

    pub(crate) fn as_ptr(self) -> *mut u8 {
        self.0.as_ptr()
    }
}

/// Identifies a registered root provider.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ProviderId(pub(crate) usize);

/// The embedder's root set, consulted at every collection.
///
/// # Safety
///
/// `trace_roots` must
///
/// 1. report, through `roots`, every [`RawGc`] the embedder will use after the collection
///    (unless a live [`Pinned`](crate::Pinned) guard pins its object), each exactly once;
/// 2. report only `RawGc`s of the heap the provider is registered with;
/// 3. not allocate in or otherwise touch the heap;
/// 4. not panic: a collection cannot be left half-way, so a panic from `trace_roots` aborts
///    the process with a message naming it.
///
/// A `RawGc` not reported at a collection may dangle afterwards (module rule 1).
///
/// # Example
///
/// ```
/// use gc_core::{Config, Heap, RawGc, RootProvider, RootTracer};
///
/// /// An interpreter's value stack.
/// struct Stack(Vec<RawGc>);
///
/// // SAFETY: reports every slot once and touches nothing else.
/// unsafe impl RootProvider for Stack {
///     fn trace_roots(&mut self, roots: &mut RootTracer<'_, '_>) {
///         for v in &mut self.0 {
///             roots.visit(v);
///         }
///     }
/// }
///
/// let mut heap = Heap::new(Config::default()).unwrap();
/// let id = heap.add_root_provider(Stack(Vec::new()));
/// heap.scope(|s| {
///     let h = s.alloc(7u64).unwrap();
///     let raw = s.to_raw(h);
///     s.root_provider_mut::<Stack>(id).unwrap().0.push(raw);
/// });
/// heap.collect_major(); // the object moved into the old generation; the slot was updated
/// heap.scope(|s| {
///     let raw = s.root_provider_mut::<Stack>(id).unwrap().0[0];
///     // SAFETY: the provider reported the slot at every collection; it holds a u64.
///     let h = unsafe { s.from_raw::<u64>(raw) };
///     assert_eq!(*s.get(h), 7);
/// });
/// ```
pub unsafe trait RootProvider: Any + Send {
    /// Reports every live `RawGc` slot.
    fn trace_roots(&mut self, roots: &mut RootTracer<'_, '_>);
}

/// Receives a provider's root slots.
#[derive(Debug)]
pub struct RootTracer<'a, 'b> {
    tracer: &'a mut Tracer<'b>,
}

impl<'a, 'b> RootTracer<'a, 'b> {
    pub(crate) fn new(tracer: &'a mut Tracer<'b>) -> Self {
        RootTracer { tracer }
    }

    /// Reports one slot; the collector may rewrite it.
    #[inline]
    pub fn visit(&mut self, slot: &mut RawGc) {
        let cell = Cell::new(slot.0.as_ptr());
        self.tracer.slot(&cell);
        if let Some(moved) = NonNull::new(cell.get()) {
            slot.0 = moved;
        }
    }

    /// Reports one optional slot.
    #[inline]
    pub fn visit_opt(&mut self, slot: &mut Option<RawGc>) {
        if let Some(raw) = slot {
            self.visit(raw);
        }
    }
}
