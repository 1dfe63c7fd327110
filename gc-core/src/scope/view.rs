//! `VecView`: a growable array's elements, borrowed for a stretch of work that allocates
//! nothing: an interpreter's value stack between two allocations.
//!
//! Going through `Scope` for every element resolves the vector's handle, follows its storage
//! and checks the bounds each time. A view does the first two once: it borrows the scope
//! mutably (so nothing can allocate, collect or move anything while it lives) and keeps the
//! storage's address. Writes still go through the store path, so the barrier sees them.
//!
//! What a view can write, and why each is sound:
//! - a value built in safe code (`set`, `push`): its members can only be null;
//! - a value built from a mirror (`set_init`, `push_init`): handles checked and resolved now;
//! - a bitwise copy of another element (`copy`, `push_copy`) or of a value the caller finds
//!   anywhere (`copy_from`, `push_copy_from`), for element types without drop glue (a copy must
//!   not own anything twice); a value found outside the view may come from another heap, so
//!   its members are checked to be this heap's first.

use super::inline::storage_parts;
use super::*;
use crate::init::Resolver;
use crate::inline::GcVec;

/// A borrowed, non-allocating view of a [`GcVec<T>`](crate::GcVec)'s elements; see
/// [`Scope::vec_view`].
///
/// The view keeps the length: the vector's own length word is written when the view ends (or
/// hands out its scope, to a caller or to a locator), not on every push and pop, so drop the
/// view (or let it go out of scope) before using the scope again.
///
/// ```
/// use gc_core::{Config, Heap, Member, Trace};
///
/// #[derive(Trace, Debug)]
/// enum Value { Nil, Num(f64), Obj(Member<Value>) }
///
/// let mut heap = Heap::new(Config::default()).unwrap();
/// heap.scope(|s| {
///     let stack = s.alloc_vec::<Value>(256).unwrap();
///     let obj = s.alloc(Value::Num(7.0)).unwrap();
///     let mut v = s.vec_view(stack);
///     v.push(Value::Num(1.0)).unwrap();
///     v.push_init(ValueInit::Obj(Some(obj))).unwrap();
///     v.push_copy(1).unwrap();                  // duplicate the top
///     let (a, b) = match (&v[0], v.get(1)) {
///         (Value::Num(a), Some(Value::Obj(m))) => (*a, v.scope().deref(m).unwrap()),
///         _ => unreachable!(),
///     };
///     assert!(matches!(b, Value::Num(x) if a + x == 8.0));
///     v.truncate(1);
///     assert_eq!(v.len(), 1);
/// });
/// ```
// `repr(C)` with the length and the capacity apart: side by side, the compiler read them from
// the storage's two header words in one 16-byte load, and when the length had just been
// written (by the view before this one) the processor could not forward that store to the
// wide load and stalled, on every view made (a third of a Lox VM's `run` loop).
#[repr(C)]
pub struct VecView<'v, 's, T: Trace> {
    pub(super) scope: &'v mut Scope<'s>,
    len: usize,
    storage: ObjPtr,
    first: *mut T,
    capacity: usize,
    /// The vector's handle slot (of this heap, checked when the view was made), to find the
    /// storage again after [`VecView::with_scope`].
    vec: crate::handle_stack::Slot,
}

impl<T: Trace> std::fmt::Debug for VecView<'_, '_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VecView(len {}, capacity {})", self.len, self.capacity)
    }
}

/// `copy`, `copy_from` and the like need an element type without drop glue.
const fn assert_no_drop_glue<T>() {
    assert!(
        !std::mem::needs_drop::<T>(),
        "copying elements bitwise needs an element type without drop glue"
    );
}

impl<'s> Scope<'s> {
    /// A view of the vector's elements for work that allocates nothing (see [`VecView`]).
    ///
    /// # Panics
    /// When `v` belongs to another heap.
    #[inline]
    pub fn vec_view<T: Trace>(&mut self, v: Handle<'_, GcVec<T>>) -> VecView<'_, 's, T> {
        let storage = panic_on(self.storage_of(v));
        // SAFETY: storage is the live storage of v.
        let (first, len, capacity) = unsafe { storage_parts::<T>(storage) };
        VecView {
            scope: self,
            storage,
            first,
            len,
            capacity,
            vec: v.slot(),
        }
    }

    /// Checks that every member `value` holds refers to an object of this heap (a value found
    /// anywhere, about to be copied into this heap, may come from another heap).
    #[inline]
    pub(super) fn check_members<T: Trace>(&self, value: &T) -> Result<(), GcError> {
        if !T::NEEDS_TRACE || HeapInner::alone() {
            return Ok(());
        }
        struct Check<'a> {
            heap: &'a HeapInner,
            foreign: bool,
        }
        impl crate::trace::SlotVisitor for Check<'_> {
            fn visit(&mut self, slot: &std::cell::Cell<*mut u8>) {
                if let Some(obj) = ObjPtr::from_ref(slot.get()) {
                    self.foreign |= !self.heap.owns_referent(obj);
                }
            }
        }
        let mut check = Check {
            heap: self.heap,
            foreign: false,
        };
        value.trace(&mut crate::trace::Tracer::new(&mut check));
        if check.foreign {
            Err(GcError::ForeignMember)
        } else {
            Ok(())
        }
    }
}

impl<'v, 's, T: Trace> VecView<'v, 's, T> {
    /// The number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no element.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many elements fit (a view never grows the vector).
    #[inline]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The elements.
    #[inline]
    pub fn as_slice(&self) -> &[T] {
        // SAFETY: the slice borrows the view, whose borrow of the scope keeps every other
        // access away while the slice lives.
        unsafe { self.detached_elements() }
    }

    /// The elements, for a locator or finder closure that also gets the scope (which the
    /// view borrows mutably, so the slice cannot borrow the view).
    ///
    /// # Safety
    /// The caller uses the slice only during one call into the scope that writes nothing
    /// into this vector's storage (writes into other objects, or through the storage's own
    /// pointer after the slice's last use, are fine), and not after it returns.
    #[inline(always)]
    pub(super) unsafe fn detached_elements<'a>(&self) -> &'a [T] {
        // SAFETY: the first `len` elements are initialised; the caller bounds the slice's use.
        unsafe { std::slice::from_raw_parts(self.first, self.len) }
    }

    /// Element `i`, if it exists.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&T> {
        self.as_slice().get(i)
    }

    /// The last element, if any.
    #[inline]
    pub fn last(&self) -> Option<&T> {
        self.as_slice().last()
    }

    /// The scope, for reading the objects elements refer to (`view.scope().deref(member)`).
    #[inline]
    pub fn scope(&self) -> &Scope<'s> {
        self.sync_len();
        self.scope
    }

    #[inline]
    fn check(&self, i: usize) -> Result<(), GcError> {
        if i < self.len {
            Ok(())
        } else {
            Err(GcError::IndexOutOfBounds {
                index: i,
                len: self.len,
            })
        }
    }

    /// Sets the view's length; the caller keeps exactly the first `len` elements initialised.
    ///
    /// The storage's own length word is written when the view hands out its scope or ends
    /// ([`VecView::sync_len`]), not on every push and pop of an interpreter's stack; until
    /// then only the view reads the length (it borrows the scope mutably). That is sound for
    /// an element type without drop glue even if the view is forgotten: a stale length covers
    /// only elements that were initialised while the view lived and were never dropped or moved
    /// out (`truncate` runs no drop glue for such types, `pop_value` takes only elements
    /// without references), which keep alive what they refer to. A type with drop glue keeps
    /// the word exact at every step.
    #[inline]
    fn set_len(&mut self, len: usize) {
        self.len = len;
        if std::mem::needs_drop::<T>() {
            self.sync_len();
        }
    }

    /// Writes the view's length into the storage, for anything that reads the vector
    /// through the scope.
    #[inline]
    pub(super) fn sync_len(&self) {
        // SAFETY: the storage is live (the view keeps collections away) and its first
        // `self.len` elements are initialised.
        unsafe {
            self.storage
                .payload()
                .cast::<usize>()
                .add(1)
                .write(self.len)
        };
    }

    /// Replaces element `i` with `value` (built in safe code, so its members are null); the old
    /// element is dropped.
    // Always inlined, as `build` is: passed through memory, a value the caller had just built
    // in narrow stores was read back whole and stalled the store (most of this function's
    // time in a Lox VM's method calls).
    #[inline(always)]
    pub fn set(&mut self, i: usize, value: T) -> Result<(), GcError> {
        self.check(i)?;
        // SAFETY: element `i` is initialised and inside the storage; a value built in safe code
        // holds only null members.
        let old = unsafe {
            self.scope
                .heap
                .store_value_without_references(self.first.add(i), value)
        };
        drop(old);
        Ok(())
    }

    /// Replaces element `i` with the element built from `init`.
    #[inline]
    pub fn set_init(&mut self, i: usize, init: T::Init<'_>) -> Result<(), GcError> {
        self.check(i)?;
        let value = self.build(init)?;
        // SAFETY: element `i` is initialised and inside the storage.
        let old = unsafe {
            self.scope
                .heap
                .store_value(self.storage, self.first.add(i), value)
        };
        drop(old);
        Ok(())
    }

    /// Copies element `src` over element `dst`.
    #[inline]
    pub fn copy(&mut self, src: usize, dst: usize) -> Result<(), GcError> {
        const { assert_no_drop_glue::<T>() };
        self.check(src)?;
        self.check(dst)?;
        // SAFETY: both are initialised elements of the storage; no drop glue to run.
        unsafe {
            self.scope
                .heap
                .replace_within(self.first.add(dst), self.first.add(src))
        };
        Ok(())
    }

    /// Copies the value `find` returns (from any object of this heap, or a value of the
    /// program's own) over element `dst`; nothing is written when it returns `None`. `find`
    /// gets the scope and the view's own elements (an interpreter finds the object to read
    /// from through the values on its stack). Returns whether a value was copied.
    ///
    /// Errors: [`GcError::ForeignMember`] when the value refers to another heap's objects.
    #[inline]
    pub fn copy_from(
        &mut self,
        dst: usize,
        find: impl for<'a> FnOnce(&'a Scope<'s>, &'a [T]) -> Option<&'a T>,
    ) -> Result<bool, GcError> {
        const { assert_no_drop_glue::<T>() };
        self.check(dst)?;
        // SAFETY: the slice is not used once `find` returns (the write goes through the
        // storage's own pointer after it).
        let elements = unsafe { self.detached_elements() };
        self.sync_len();
        let Some(value) = find(self.scope, elements) else {
            return Ok(false);
        };
        self.scope.check_members(value)?;
        let src: *const T = value;
        // SAFETY: `src` is a valid T (a live reference a moment ago, and nothing ran since) and
        // `dst` an initialised element; no drop glue to run; the members are this heap's.
        unsafe {
            self.scope
                .heap
                .store_copy(self.storage, self.first.add(dst), src, 1)
        };
        Ok(true)
    }

    /// Appends `value` (built in safe code); when the vector is full it is given back (a view
    /// never grows the vector: grow it with `Scope::vec_reserve` first).
    #[inline]
    pub fn push(&mut self, value: T) -> Result<(), T> {
        if self.len == self.capacity {
            return Err(value);
        }
        // SAFETY: slot `len` is inside the storage and free; a value built in safe code holds
        // only null members.
        unsafe {
            self.scope
                .heap
                .store_fresh_without_references(self.first.add(self.len), value)
        };
        self.set_len(self.len + 1);
        Ok(())
    }

    /// Appends the element built from `init`.
    ///
    /// Errors: [`GcError::ForeignHandle`], or [`GcError::IndexOutOfBounds`] when the vector is
    /// full.
    #[inline]
    pub fn push_init(&mut self, init: T::Init<'_>) -> Result<(), GcError> {
        if self.len == self.capacity {
            return Err(self.full());
        }
        let value = self.build(init)?;
        // SAFETY: slot `len` is inside the storage and free.
        unsafe {
            self.scope
                .heap
                .store_fresh(self.storage, self.first.add(self.len), value)
        };
        self.set_len(self.len + 1);
        Ok(())
    }

    /// Appends a copy of element `src`.
    ///
    /// Errors: [`GcError::IndexOutOfBounds`] when `src` is out of bounds or the vector is full.
    #[inline]
    pub fn push_copy(&mut self, src: usize) -> Result<(), GcError> {
        const { assert_no_drop_glue::<T>() };
        self.check(src)?;
        if self.len == self.capacity {
            return Err(self.full());
        }
        // SAFETY: `src` is initialised, slot `len` is free, both in the storage; no drop glue.
        unsafe {
            self.scope
                .heap
                .store_copy_within(self.first.add(self.len), self.first.add(src))
        };
        self.set_len(self.len + 1);
        Ok(())
    }

    /// Appends a copy of the value `find` returns (see [`VecView::copy_from`]); returns whether
    /// a value was found. `find` runs first, also when the view is full: the error
    /// ([`GcError::IndexOutOfBounds`] at the capacity) comes only when there is something to
    /// push, so that an interpreter tells a call that overflows its stack from a call of
    /// nothing with one search.
    #[inline]
    pub fn push_copy_from(
        &mut self,
        find: impl for<'a> FnOnce(&'a Scope<'s>, &'a [T]) -> Option<&'a T>,
    ) -> Result<bool, GcError> {
        const { assert_no_drop_glue::<T>() };
        // SAFETY: as in `copy_from`.
        let elements = unsafe { self.detached_elements() };
        self.sync_len();
        let Some(value) = find(self.scope, elements) else {
            return Ok(false);
        };
        if self.len == self.capacity {
            return Err(self.full());
        }
        self.scope.check_members(value)?;
        let src: *const T = value;
        // SAFETY: as in `copy_from`, into the free slot `len`.
        unsafe {
            self.scope
                .heap
                .store_copy(self.storage, self.first.add(self.len), src, 1)
        };
        self.set_len(self.len + 1);
        Ok(true)
    }

    /// Lends the scope to `f`, for work that may allocate (and so collect and move objects,
    /// this vector's storage among them), and takes the view up again afterwards: the length
    /// is written into the vector before `f` runs, and the storage, length and capacity are
    /// read again after it (also when `f` panics, so that a caught panic leaves a valid view).
    /// `f` may change the vector through the scope (push to it, open a view of its own).
    ///
    /// An interpreter allocates from inside its dispatch loop this way (an instance, a bound
    /// method, a closure), without ending the loop's view and making a new one: two stores
    /// and three loads, against the loop's exit and re-entry.
    ///
    /// ```
    /// use gc_core::{Config, GcBytes, Heap, Member, Trace};
    ///
    /// #[derive(Trace, Debug)]
    /// enum Value { Nil, Num(f64), Str(Member<GcBytes>) }
    ///
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// heap.scope(|s| {
    ///     let stack = s.alloc_vec::<Value>(64).unwrap();
    ///     let mut v = s.vec_view(stack);
    ///     v.push(Value::Num(1.0)).unwrap();
    ///     v.with_scope(|s| {
    ///         let text = s.alloc_bytes(b"made while the view lives").unwrap();
    ///         s.collect_minor(); // the stack's storage moves
    ///         s.vec_push(stack, ValueInit::Str(Some(text)));
    ///     });
    ///     assert_eq!(v.len(), 2);
    ///     assert!(matches!(&v[1], Value::Str(m) if v.scope().deref(m).unwrap().len() == 25));
    /// });
    /// ```
    #[inline]
    pub fn with_scope<R>(&mut self, f: impl FnOnce(&mut Scope<'s>) -> R) -> R {
        /// Takes the view up again however `f` ends.
        struct Reload<'g, 'v, 's, T: Trace>(&'g mut VecView<'v, 's, T>);
        impl<T: Trace> Drop for Reload<'_, '_, '_, T> {
            #[inline]
            fn drop(&mut self) {
                self.0.reload();
            }
        }
        self.sync_len();
        let view = Reload(self);
        f(view.0.scope)
    }

    /// Finds the vector's storage again, after the scope was lent out.
    #[inline]
    fn reload(&mut self) {
        // SAFETY: the vector's handle outlives the view (it borrows the handle's scope), so its
        // slot is live.
        let obj = unsafe { crate::handle_stack::HandleStack::read(self.vec) };
        let obj = ObjPtr::from_ref(obj).expect("a live handle's slot is filled");
        // SAFETY: the handle's slot still holds the vector (the view was made from it, and the
        // scope that owns the slot outlives the view); a vector always has a storage, live,
        // whose length the scope's operations kept exact.
        unsafe {
            let member = crate::inline::vec_storage_member::<T>(obj.payload());
            self.storage =
                ObjPtr::from_ref(member.slot().get()).expect("a vector always has a storage");
            (self.first, self.len, self.capacity) = storage_parts::<T>(self.storage);
        }
    }

    /// Shortens the view to `len` elements (nothing happens when it is not longer); the removed
    /// elements' drop glue runs.
    #[inline]
    pub fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        let old = self.len;
        self.set_len(len);
        // SAFETY: the removed elements were initialised and are outside the length now.
        unsafe {
            std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(
                self.first.add(len),
                old - len,
            ))
        };
    }

    /// Removes the last element and returns it. Only for element types that hold no references
    /// (a compile-time check); otherwise read it and `truncate`.
    pub fn pop_value(&mut self) -> Option<T> {
        const {
            assert!(
                !T::NEEDS_TRACE,
                "pop_value returns the element, which may hold references: read it, then \
                 truncate"
            )
        };
        if self.len == 0 {
            return None;
        }
        self.set_len(self.len - 1);
        // SAFETY: the element was initialised and is outside the length now: moved out once.
        Some(unsafe { self.first.add(self.len).read() })
    }

    // Always inlined: returned through memory, the value was written in narrow stores and
    // read back at once in wide loads, which the processor cannot forward (a stall on every
    // store of a built value, 4% of the Lox VM's `instantiation` benchmark).
    #[inline(always)]
    fn build(&self, init: T::Init<'_>) -> Result<T, GcError> {
        self.scope.check_init::<T>(&init)?;
        let resolver = Resolver::new();
        // SAFETY: checked for this heap just now, and nothing can collect while the view lives;
        // the value goes straight into the storage.
        Ok(unsafe { T::build(init, &resolver) })
    }

    fn full(&self) -> GcError {
        GcError::IndexOutOfBounds {
            index: self.len,
            len: self.capacity,
        }
    }
}

impl<T: Trace> Drop for VecView<'_, '_, T> {
    fn drop(&mut self) {
        self.sync_len();
    }
}

impl<T: Trace> std::ops::Index<usize> for VecView<'_, '_, T> {
    type Output = T;
    #[inline]
    fn index(&self, i: usize) -> &T {
        &self.as_slice()[i]
    }
}
