//! The safe API: handle scopes.
//!
//! Rust code reaches heap objects through [`Handle`]s: the addresses of slots of the heap's
//! handle stack (`handle_stack.rs`), which is a root set the collector updates when objects
//! move. Handles are created by a [`Scope`] and popped when it ends.
//!
//! Why this is sound when **any allocation may collect**:
//! - reading gives `&T` borrowed from `&Scope`; allocating takes `&mut Scope`; so no reference
//!   into the heap can be held across an allocation (the borrow checker rejects it);
//! - a scope is entered through a closure that is generic over its lifetime
//!   (`for<'s> FnOnce(&mut Scope<'s>)`), so a `Handle<'s, _>` cannot leave it: its slot is
//!   never read after it is popped. [`Scope::escape`] hands one handle to the enclosing scope;
//! - handles of an *enclosing* scope can be used in a nested one (they outlive it); a handle of
//!   another heap is caught by an identity check (each block of handle slots records its
//!   heap's id), made only while more than one heap is alive;
//! - references are stored only through [`Scope::set`] and friends, which run the write
//!   barrier and refuse a field that does not lie inside the object written, so a non-null
//!   `Member` exists only inside the heap where collections update it;
//! - handles are neither `Send` nor `Sync`, and a `Heap` is `Send` but not `Sync`.
//!
//! Invariants (the handles; the stack keeps its own, see `handle_stack.rs`): every live slot
//! holds a non-null object reference (a push takes an [`ObjPtr`]; a store into a slot writes a
//! resolved object; a collection rewrites a slot with the object's new address); a scope cuts
//! the stack back only to its own base, when it ends, and the handles it made end with it
//! (their lifetime is the scope's). So a handle that safe code can name is the address of a
//! live slot, which holds its object: [`Scope::resolve`] reads that slot without testing it
//! again (debug builds assert it). An absent handle, `None`, is the null word, and a store of
//! an optional handle reads a static null word in its place, without a branch. The verifier
//! checks every live slot.
//!
//! Methods that can be misused have two forms: `try_x` returns a [`GcError`], `x` panics with
//! that error's message (like slice indexing and `get`).

use std::marker::PhantomData;
use std::ptr::NonNull;

use crate::builtin::{array_members, GcArray, GcBytes, GcObject, LEN_SIZE};
use crate::error::GcError;
use crate::handle_stack::{HandleStack, Slot};
use crate::heap::HeapInner;
use crate::member::Member;
use crate::object::{fixed_object_size, object_size, ObjPtr};
use crate::pin::{PinId, Pinned, Refusal};
use crate::roots::{ProviderId, RawGc, RootProvider};
use crate::stats::HeapStats;
use crate::verify::VerifyReport;
use crate::Trace;

mod alloc;
mod arrays;
mod fields;
mod gc_control;
mod identity;
mod inline;
mod map;
mod map_copy;
mod map_lookup;
mod map_table;
mod persistent;
mod pinning;
mod raw;
mod slice;
#[cfg(test)]
mod tests;
mod view;
mod view_stores;

pub use view::VecView;

/// A rooted reference to a heap object, valid for the scope `'s` that created it.
///
/// `Copy`, eight bytes (the address of a slot of the heap's handle stack), neither `Send`
/// nor `Sync`. The object it refers to stays alive and the handle follows it when it moves. A
/// slot's address is never null, so an `Option<Handle>` takes eight bytes too: one register,
/// not a value on the stack.
pub struct Handle<'s, T: ?Sized> {
    /// The handle's slot: reading the object is one load. The slot's block records the heap's
    /// id, for the check that refuses another heap's handle.
    slot: Slot,
    _marker: PhantomData<(&'s (), *const T)>,
}

impl<T: ?Sized> Handle<'_, T> {
    /// The handle's slot in its heap's handle stack.
    #[inline(always)]
    pub(crate) fn slot(self) -> Slot {
        self.slot
    }

    /// The id of the heap whose handle stack holds the slot.
    #[inline(always)]
    pub(crate) fn heap_id(self) -> u32 {
        // SAFETY: a handle safe code holds names a live slot of a live stack: it cannot outlive
        // its scope, and so its heap (the module's invariants).
        unsafe { HandleStack::heap_id_of(self.slot) }
    }
}

impl<T: ?Sized> Clone for Handle<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for Handle<'_, T> {}

impl<T: ?Sized> std::fmt::Debug for Handle<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Handle(heap #{}, slot {:p})", self.heap_id(), self.slot)
    }
}

/// A region of handles; all access to the heap goes through one.
///
/// Entered with [`Heap::scope`](crate::Heap::scope), nested with [`Scope::scope`] and
/// [`Scope::escape`].
pub struct Scope<'s> {
    heap: &'s mut HeapInner,
    /// The top of the handle stack when the scope began, to which its end cuts it back.
    base: Slot,
}

impl std::fmt::Debug for Scope<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope")
            .field("heap", &self.heap.id)
            .field("base", &self.base)
            .finish()
    }
}

impl Drop for Scope<'_> {
    fn drop(&mut self) {
        // SAFETY: `base` was the top when this scope began; the scopes nested in it have ended
        // (they borrow it), and the handles it made end with it.
        unsafe { self.heap.mutator.get_mut().handles.cut_to(self.base) };
    }
}

#[cold]
#[inline(never)]
fn rebind_refused(e: GcError) -> ! {
    panic!("{e}")
}

/// The panicking form of a `try_x` method's result. The panic is a call of its own, off the
/// hot path: inlined, its message's formatting kept the caller's values alive for it (a hot
/// loop spilled them to the stack on every iteration, for a path it never takes).
#[inline(always)]
fn panic_on<T>(result: Result<T, GcError>) -> T {
    match result {
        Ok(v) => v,
        Err(e) => misuse(e),
    }
}

/// Panics with a misuse's message (see [`panic_on`]).
#[cold]
#[inline(never)]
fn misuse(e: GcError) -> ! {
    panic!("{e}")
}

impl<'s> Scope<'s> {
    pub(crate) fn enter(heap: &'s mut HeapInner) -> Scope<'s> {
        let base = heap.mutator.get_mut().handles.top();
        Scope { heap, base }
    }

    pub(crate) fn heap_mut(&mut self) -> &mut HeapInner {
        self.heap
    }

    /// Roots a new object and delivers pending hook events (a hook may collect, so the new
    /// object is rooted first).
    #[inline(always)]
    fn finish_alloc<T: ?Sized>(&mut self, obj: ObjPtr) -> Handle<'s, T> {
        let h = self.push(obj);
        if self.heap.recorder.has_pending() {
            self.deliver_hooks();
        }
        h
    }

    /// Delivers pending hook events after a failed operation, then passes the error on.
    #[cold]
    fn deliver_then<T>(&mut self, result: Result<T, GcError>) -> Result<T, GcError> {
        if self.heap.recorder.has_pending() {
            self.deliver_hooks();
        }
        result
    }

    #[inline(always)]
    fn push<T: ?Sized>(&self, obj: ObjPtr) -> Handle<'s, T> {
        // SAFETY: no other reference into the mutator state is live during this push.
        let slot = unsafe { self.heap.mutator_mut() }
            .handles
            .push(obj.to_ref());
        self.handle_at(slot)
    }

    /// The object a handle of this heap refers to, or [`GcError::ForeignHandle`].
    #[inline(always)]
    fn resolve<T: ?Sized>(&self, h: Handle<'_, T>) -> Result<ObjPtr, GcError> {
        self.check_handle(h)?;
        // SAFETY: `h` is this heap's (checked just now).
        Ok(unsafe { self.slot_object(h) })
    }

    /// The object `h` refers to and the address a store writes for `value` (null for `None`):
    /// [`Scope::resolve`] for both, with one test of the count of live heaps, while this is
    /// the only one, instead of a heap-id test per handle (see [`Scope::check_init`]).
    #[inline(always)]
    fn resolve_store<T: ?Sized, U: ?Sized>(
        &self,
        h: Handle<'_, T>,
        value: Option<Handle<'_, U>>,
    ) -> Result<(ObjPtr, *mut u8), GcError> {
        if !HeapInner::alone() {
            self.check_heap_id(h)?;
            if let Some(v) = value {
                self.check_heap_id(v)?;
            }
        }
        // SAFETY: both handles are this heap's: checked above, or this is the only heap alive.
        let obj = unsafe { self.slot_object(h) };
        // The value's slot is read whether or not there is a value: `None` reads a static null
        // word. No branch (which cost a taken jump on every store of a value).
        // SAFETY: a value's slot is a live slot, as for `h`.
        Ok((obj, unsafe {
            HandleStack::read_optional(value.map(Handle::slot))
        }))
    }

    /// [`GcError::ForeignHandle`] unless `h` is a handle of this heap.
    #[inline(always)]
    fn check_handle<T: ?Sized>(&self, h: Handle<'_, T>) -> Result<(), GcError> {
        // While this is the only heap alive, every handle is this heap's (see
        // `HeapInner::alone`): one test of a global instead of a load of the slot's header.
        if HeapInner::alone() {
            Ok(())
        } else {
            self.check_heap_id(h)
        }
    }

    /// [`Scope::check_handle`] by the id in the slot's block header alone.
    #[inline(always)]
    fn check_heap_id<T: ?Sized>(&self, h: Handle<'_, T>) -> Result<(), GcError> {
        let handle_heap = h.heap_id();
        if handle_heap == self.heap.id.get() {
            Ok(())
        } else {
            Err(GcError::ForeignHandle {
                handle_heap,
                this_heap: self.heap.id.get(),
            })
        }
    }

    /// The object in `h`'s slot of the handle stack.
    ///
    /// # Safety
    /// `h` is a handle of this heap.
    #[inline(always)]
    unsafe fn slot_object<T: ?Sized>(&self, h: Handle<'_, T>) -> ObjPtr {
        // SAFETY: `h` is a handle of this heap (the caller's promise) that safe code holds, so
        // its scope is live and its slot is live, holding a non-null object reference (the
        // invariants of this module).
        let reference = unsafe { HandleStack::read(h.slot) };
        debug_assert!(!reference.is_null(), "a live handle names a filled slot");
        // SAFETY: as above.
        unsafe { ObjPtr::from_ref_unchecked(reference) }
    }

    /// Refuses a mirror holding a handle of another heap ([`crate::Init::check_heap`]). While
    /// this is the only heap alive, every handle is this heap's (a handle borrows its heap, so
    /// a dropped heap has none), and one test of the count of live heaps replaces a test per
    /// handle: a node's two children cost one test, not two.
    #[inline(always)]
    pub(crate) fn check_init<T: crate::Init>(&self, init: &T::Init<'_>) -> Result<(), GcError> {
        if HeapInner::alone() {
            Ok(())
        } else {
            T::check_heap(init, self.heap.id.get())
        }
    }

    // ----- reading ----------------------------------------------------------------------

    /// The object behind `h`, borrowed from the scope (so no allocation can move it meanwhile).
    ///
    /// # Panics
    /// When `h` belongs to another heap; [`Scope::try_get`] returns the error instead.
    ///
    /// Every heap type reads the same way ([`GcObject::Ref`]): a `#[derive(Trace)]` type as
    /// `&T`, a byte string as `&[u8]`, a `GcArray<U>` as `&[Member<U>]`, a `GcSlice<T>` or
    /// `GcVec<T>` as `&[T]` (a vector's live elements).
    #[inline]
    pub fn get<T: GcObject>(&self, h: Handle<'_, T>) -> T::Ref<'_> {
        // The handle is checked before the view is made, so the failure carries no view (a
        // view in the failing path's result was kept alive, spilled, in every caller's loop).
        let obj = panic_on(self.resolve(h));
        // SAFETY: as in `try_get`.
        unsafe { T::read(obj.payload()) }
    }

    /// The object behind `h`, or [`GcError::ForeignHandle`].
    #[inline]
    pub fn try_get<T: GcObject>(&self, h: Handle<'_, T>) -> Result<T::Ref<'_>, GcError> {
        let obj = self.resolve(h)?;
        // SAFETY: `h` is a live handle of this heap, so obj is a live T; the view is tied to
        // &self, and collections need &mut self.
        Ok(unsafe { T::read(obj.payload()) })
    }

    /// Follows a member without rooting its target: the view lives as long as both the scope
    /// borrow and the member borrow. The same call for every heap type (see [`Scope::get`]).
    /// A member holds its target's payload address, so for a fixed-size type this is the
    /// member's one load (the `Option` is the member's nullable pointer as it is).
    #[inline]
    pub fn deref<'a, U: GcObject>(&'a self, member: &'a Member<U>) -> Option<U::Ref<'a>> {
        let obj = ObjPtr::from_ref(member.slot().get())?;
        // SAFETY: a non-null member lives inside a heap object and refers to a live U of the
        // same heap; the borrows keep every collection of that heap away.
        Some(unsafe { U::read(obj.payload()) })
    }

    /// Follows a member to a byte string without rooting it ([`Scope::deref`] does the same).
    #[inline]
    pub fn deref_bytes<'a>(&'a self, member: &'a Member<GcBytes>) -> Option<&'a [u8]> {
        self.deref(member)
    }

    /// Follows a member to an array without rooting it ([`Scope::deref`] does the same).
    #[inline]
    pub fn deref_array<'a, U: ?Sized + 'static>(
        &'a self,
        member: &'a Member<GcArray<U>>,
    ) -> Option<&'a [Member<U>]> {
        self.deref(member)
    }

    /// A new handle in this scope to the object `h` refers to (for example to keep a value of
    /// an enclosing scope in a variable this scope rebinds).
    ///
    /// # Panics
    /// When `h` belongs to another heap.
    pub fn dup<T: ?Sized>(&self, h: Handle<'_, T>) -> Handle<'s, T> {
        self.push(panic_on(self.resolve(h)))
    }

    /// Roots the target of a member reached through [`Scope::deref`] or [`Scope::array`].
    ///
    /// # Panics
    /// When the member belongs to another heap's object; [`Scope::try_root`] returns
    /// [`GcError::ForeignMember`] instead.
    #[inline]
    pub fn root<U: ?Sized>(&self, member: &Member<U>) -> Option<Handle<'s, U>> {
        panic_on(self.try_root(member))
    }

    /// [`Scope::root`], returning a member of another heap as an error.
    #[inline]
    pub fn try_root<U: ?Sized>(
        &self,
        member: &Member<U>,
    ) -> Result<Option<Handle<'s, U>>, GcError> {
        let Some(obj) = ObjPtr::from_ref(member.slot().get()) else {
            return Ok(None);
        };
        // A non-null member lives inside some heap and refers to an object of that same heap,
        // so checking that the target is ours proves the member is ours too.
        if self.heap.owns_referent(obj) {
            Ok(Some(self.push(obj)))
        } else {
            Err(GcError::ForeignMember)
        }
    }

    /// Makes `target` refer to the object `source` refers to, like assigning a V8 handle or a
    /// SpiderMonkey `Rooted`. Loops use it to carry a result out of a nested scope without
    /// growing the handle stack:
    ///
    /// ```
    /// # use gc_core::{Config, Heap, Member, Trace};
    /// # #[derive(Trace)] struct Node { v: u64, next: Member<Node> }
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// heap.scope(|s| {
    ///     let head = s.alloc(Node { v: 0, next: Member::null() }).unwrap();
    ///     for v in 1..10_000 {
    ///         s.scope(|s| {
    ///             let cell = s.alloc(Node { v, next: Member::null() }).unwrap();
    ///             s.set(cell, |c| &c.next, Some(head));
    ///             s.rebind(head, cell); // `head` now refers to the new cell
    ///         });
    ///     }
    ///     assert_eq!(s.get(head).v, 9_999);
    /// });
    /// ```
    ///
    /// # Panics
    /// When either handle belongs to another heap.
    pub fn rebind<T: ?Sized>(&self, target: Handle<'_, T>, source: Handle<'_, T>) {
        let ptr = panic_on(self.resolve(source)).to_ref();
        panic_on(self.resolve(target));
        // SAFETY: `target` is a handle of this heap (resolved just now), so a live slot, and no
        // reference into its block is live.
        unsafe { HandleStack::write(target.slot, ptr) };
    }

    /// Makes `target` refer to the object a member (reached through [`Scope::deref`] or
    /// [`Scope::get`]) refers to: [`Scope::rebind`] without rooting the member in a scope of
    /// its own first. An interpreter keeps its current function in a handle and rebinds it on
    /// every call and return. Returns `false`, leaving `target` as it was, when the member is
    /// null.
    ///
    /// ```
    /// # use gc_core::{Config, Heap, Member, Trace};
    /// # #[derive(Trace)] struct Node { v: u64, next: Member<Node> }
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// heap.scope(|s| {
    ///     let tail = s.alloc(Node { v: 2, next: Member::null() }).unwrap();
    ///     let head = s.alloc_init(NodeInit { v: 1, next: Some(tail) }).unwrap();
    ///     let cursor = s.dup(head);
    ///     assert!(s.rebind_to(cursor, &s.get(head).next)); // cursor = cursor.next
    ///     assert_eq!(s.get(cursor).v, 2);
    ///     assert!(!s.rebind_to(cursor, &s.get(tail).next)); // null: unchanged
    ///     assert_eq!(s.get(cursor).v, 2);
    /// });
    /// ```
    ///
    /// # Panics
    /// When `target` or the member belongs to another heap.
    #[inline(always)]
    pub fn rebind_to<T: ?Sized>(&self, target: Handle<'_, T>, member: &Member<T>) -> bool {
        let Some(obj) = ObjPtr::from_ref(member.slot().get()) else {
            return false;
        };
        if let Err(e) = self.check_handle(target) {
            rebind_refused(e);
        }
        if !self.heap.owns_referent(obj) {
            rebind_refused(GcError::ForeignMember);
        }
        // SAFETY: `target` is a handle of this heap (checked just now), so a live slot, and no
        // reference into its block is live.
        unsafe { HandleStack::write(target.slot, obj.to_ref()) };
        true
    }

    /// Whether two handles refer to the same object.
    ///
    /// # Panics
    /// When either handle belongs to another heap.
    pub fn ptr_eq<T: ?Sized, U: ?Sized>(&self, a: Handle<'_, T>, b: Handle<'_, U>) -> bool {
        panic_on(self.resolve(a)) == panic_on(self.resolve(b))
    }

    // ----- nesting ----------------------------------------------------------------------

    /// Runs `f` in a nested scope whose handles are popped when it returns. Handles of this
    /// scope remain usable inside.
    pub fn scope<R>(&mut self, f: impl for<'i> FnOnce(&mut Scope<'i>) -> R) -> R {
        f(&mut Scope::enter(self.heap))
    }

    /// Runs `f` in a nested scope and keeps the one handle it returns, in this scope.
    ///
    /// ```
    /// # use gc_core::{Config, Heap, Handle, Scope};
    /// fn make_pair<'s>(s: &mut Scope<'s>) -> Handle<'s, (u64, u64)> {
    ///     s.escape(|inner| {
    ///         for i in 0..100 {
    ///             inner.alloc(i as u64).unwrap(); // temporaries, popped on return
    ///         }
    ///         inner.alloc((1u64, 2u64)).unwrap()
    ///     })
    /// }
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// heap.scope(|s| {
    ///     let p = make_pair(s);
    ///     assert_eq!(*s.get(p), (1, 2));
    /// });
    /// ```
    ///
    /// # Panics
    /// When `f` returns a handle of another heap.
    pub fn escape<T: ?Sized>(
        &mut self,
        f: impl for<'i> FnOnce(&mut Scope<'i>) -> Handle<'i, T>,
    ) -> Handle<'s, T> {
        // `try_escape` without its `Result`, which the hottest callers (a tree built bottom-up
        // escapes once per node) would otherwise pass through memory and test.
        let mut inner = Scope::enter(self.heap);
        let h = f(&mut inner);
        let obj = panic_on(inner.resolve(h));
        let slot = inner.exit_keeping(obj);
        self.handle_at(slot)
    }

    /// Ends this scope keeping one object rooted, in the scope's first slot (the enclosing
    /// scope's next one): the handle stack is cut back to that slot and the object pushed
    /// there, and the scope's drop (which would cut it again) does not run. Returns the slot.
    /// Nothing can collect between the caller's resolve that gave `obj` and this store (no
    /// allocation).
    #[inline(always)]
    fn exit_keeping(self, obj: ObjPtr) -> Slot {
        let base = self.base;
        let mut this = std::mem::ManuallyDrop::new(self);
        let handles = &mut this.heap.mutator.get_mut().handles;
        // SAFETY: as in the scope's drop: `base` was the top when it began, and its handles
        // end here (the caller resolved the one it keeps).
        unsafe { handles.cut_keeping(base, obj.to_ref()) }
    }

    /// The handle of this scope whose slot is `slot`, a live slot this scope pushed.
    #[inline(always)]
    fn handle_at<T: ?Sized>(&self, slot: Slot) -> Handle<'s, T> {
        Handle {
            slot,
            _marker: PhantomData,
        }
    }

    /// [`Scope::escape`] for closures that can fail: the error passes through, the handle is
    /// kept.
    pub fn try_escape<T: ?Sized, E: From<GcError>>(
        &mut self,
        f: impl for<'i> FnOnce(&mut Scope<'i>) -> Result<Handle<'i, T>, E>,
    ) -> Result<Handle<'s, T>, E> {
        let mut inner = Scope::enter(self.heap);
        let h = f(&mut inner)?;
        let obj = inner.resolve(h)?;
        // The handle takes the first slot the inner scope used.
        let slot = inner.exit_keeping(obj);
        Ok(self.handle_at(slot))
    }
}
