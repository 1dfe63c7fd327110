//! `Member<T>`: a reference field inside a heap object.
//!
//! A member is one word holding the address of the referenced object (or null). The collector
//! rewrites it when the object moves, through the `Cell`, while the containing object is only
//! shared.
//!
//! What keeps members sound from safe code:
//! - a member can be created only null ([`Member::null`]); it becomes non-null only when the
//!   scope's barrier writes it, and the barrier writes only members that lie inside a heap
//!   object, so **a non-null member exists only inside the heap**, where every collection
//!   traces and updates it;
//! - it is neither `Clone` nor `Copy`, and heap objects are reachable only through shared
//!   references, so it cannot be copied or moved out of the heap (the `Trace` contract forbids
//!   `Drop` impls and interior mutability that could move one);
//! - reading it needs a scope: `Scope::load` roots the target in a handle, `Scope::deref`
//!   borrows the scope so no collection can run while the reference lives.

use std::cell::Cell;
use std::marker::PhantomData;

/// A traced reference field: store one in a heap type for every object it points to.
///
/// Create it with [`Member::null`], write it with `Scope::set` (the write barrier), read it
/// with `Scope::load` or `Scope::deref`.
///
/// ```
/// use gc_core::{Config, Heap, Member, Trace};
///
/// #[derive(Trace)]
/// struct Pair { left: Member<Pair>, right: Member<Pair> }
///
/// let mut heap = Heap::new(Config::default()).unwrap();
/// heap.scope(|s| {
///     let a = s.alloc(Pair { left: Member::null(), right: Member::null() }).unwrap();
///     let b = s.alloc(Pair { left: Member::null(), right: Member::null() }).unwrap();
///     s.set(a, |p| &p.left, Some(b));
///     let left = s.load(a, |p| &p.left).unwrap();
///     assert!(s.ptr_eq(left, b));
///     assert!(s.get(a).right.is_null());
/// });
/// ```
#[repr(transparent)]
pub struct Member<T: ?Sized> {
    ptr: Cell<*mut u8>,
    _type: PhantomData<fn() -> T>,
}

// SAFETY: a non-null Member exists only inside a heap object (see the module comment), and a
// heap moves between threads as a whole, with all its objects; a Member outside the heap is
// always null. Members are !Sync (Cell), so no two threads ever see one at once.
unsafe impl<T: ?Sized> Send for Member<T> {}

impl<T: ?Sized> Member<T> {
    /// A member that refers to nothing.
    #[inline]
    pub const fn null() -> Member<T> {
        Member {
            ptr: Cell::new(std::ptr::null_mut()),
            _type: PhantomData,
        }
    }

    /// Whether the member refers to nothing.
    #[inline]
    pub fn is_null(&self) -> bool {
        self.ptr.get().is_null()
    }

    /// Whether two members refer to the same object (or are both null).
    #[inline]
    pub fn ptr_eq<U: ?Sized>(&self, other: &Member<U>) -> bool {
        self.ptr.get() == other.ptr.get()
    }

    /// A member holding `ptr` (the heap writes it into an object at once).
    #[inline(always)]
    pub(crate) fn from_ptr(ptr: *mut u8) -> Member<T> {
        Member {
            ptr: Cell::new(ptr),
            _type: PhantomData,
        }
    }

    #[inline]
    pub(crate) fn slot(&self) -> &Cell<*mut u8> {
        &self.ptr
    }
}

impl<T: ?Sized> Default for Member<T> {
    fn default() -> Self {
        Member::null()
    }
}

impl<T: ?Sized> std::fmt::Debug for Member<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_null() {
            f.write_str("Member(null)")
        } else {
            f.write_str("Member(..)")
        }
    }
}
