//! Inline-value arrays through a scope: `GcSlice<T>` (fixed length) and `GcVec<T>` (growable).
//!
//! Elements are written from mirrors (`T::Init`), so an element holding references is built
//! from handles resolved after any allocation that makes room for it; every write goes through
//! the store path. Methods that change elements take `&mut self`: no `&[T]` read from the scope
//! can be alive while an element changes under it. An element removed, popped, truncated or
//! overwritten has its drop glue run exactly once, at that moment, once the array is
//! consistent again (so a panicking destructor leaves a valid array behind).
//!
//! This file holds `GcVec<T>` and the helpers both kinds share; `GcSlice<T>`'s own operations
//! are in `scope/slice.rs`.

use super::*;
use crate::init::Resolver;
use crate::inline::{vec_storage_member, GcVec, VecStorage, STORAGE_HEADER};

/// The elements of a live slice object, as raw parts derived from the object's own pointer
/// (so writes through them are allowed): (first element, length).
///
/// # Safety
/// `slice` is a live `GcSlice<T>`.
pub(super) unsafe fn slice_parts<T>(slice: ObjPtr) -> (*mut T, usize) {
    // SAFETY: forwarded from the caller: the length, then the elements.
    unsafe {
        let payload = slice.payload();
        (
            payload.add(LEN_SIZE).cast::<T>(),
            payload.cast::<usize>().read(),
        )
    }
}

/// The elements of a live storage object, as raw parts: (first element, length, capacity).
/// The pointer derives from the storage's own pointer, so writes through it are allowed.
///
/// # Safety
/// `storage` is a live `VecStorage<T>`.
#[inline(always)]
pub(super) unsafe fn storage_parts<T>(storage: ObjPtr) -> (*mut T, usize, usize) {
    // SAFETY: forwarded from the caller: capacity, length, then the elements.
    unsafe {
        let payload = storage.payload();
        (
            payload.add(STORAGE_HEADER).cast::<T>(),
            payload.cast::<usize>().add(1).read(),
            payload.cast::<usize>().read(),
        )
    }
}

/// Sets a live storage object's length.
///
/// # Safety
/// `storage` is a live `VecStorage<T>`, `len <= capacity`, and exactly its first `len` elements
/// are initialised once the caller is done.
unsafe fn set_storage_len(storage: ObjPtr, len: usize) {
    // SAFETY: forwarded from the caller.
    unsafe { storage.payload().cast::<usize>().add(1).write(len) };
}

pub(super) fn out_of_bounds(index: usize, len: usize) -> GcError {
    GcError::IndexOutOfBounds { index, len }
}

impl<'s> Scope<'s> {
    // ----- GcVec<T> ---------------------------------------------------------------------

    /// Allocates an empty growable array with room for `capacity` elements. See [`GcVec`].
    pub fn alloc_vec<T: Trace>(
        &mut self,
        capacity: usize,
    ) -> Result<Handle<'s, GcVec<T>>, GcError> {
        self.try_escape(|s| {
            let storage = s.alloc_storage::<T>(capacity)?;
            let storage: Handle<'_, VecStorage<T>> = s.push(storage);
            let size = const { crate::object::fixed_object_size::<Member<VecStorage<T>>>() };
            let obj = match s.heap.alloc_object(GcVec::<T>::TYPE_INFO, size, false) {
                Ok(obj) => obj,
                Err(e) => return s.deliver_then(Err(e)),
            };
            let storage = s.resolve(storage)?; // it may have moved
                                               // SAFETY: obj is a fresh GcVec<T>: its payload is one member, written now with a
                                               // live storage of this heap; the barrier runs if it was born old.
            unsafe {
                obj.payload()
                    .cast::<Member<VecStorage<T>>>()
                    .write(Member::from_ptr(storage.to_ref()));
                s.heap.after_init(obj);
            }
            Ok(s.finish_alloc(obj))
        })
    }

    /// A storage of `capacity` elements, length zero. May collect; the result is not rooted.
    fn alloc_storage<T: Trace>(&mut self, capacity: usize) -> Result<ObjPtr, GcError> {
        let bytes = capacity
            .checked_mul(std::mem::size_of::<T>())
            .and_then(|b| b.checked_add(STORAGE_HEADER))
            .ok_or(GcError::SizeOverflow("vector capacity"))?;
        let obj = self.alloc_var(VecStorage::<T>::TYPE_INFO, bytes)?;
        // SAFETY: the payload starts with the capacity and length words.
        unsafe {
            obj.payload().cast::<usize>().write(capacity);
            set_storage_len(obj, 0);
        }
        Ok(obj)
    }

    /// The vector's current storage.
    #[inline]
    pub(super) fn storage_of<T: Trace>(&self, v: Handle<'_, GcVec<T>>) -> Result<ObjPtr, GcError> {
        let obj = self.resolve(v)?;
        // SAFETY: obj is a live GcVec<T>; its storage member is never null.
        let storage = unsafe { vec_storage_member::<T>(obj.payload()) }
            .slot()
            .get();
        Ok(ObjPtr::from_ref(storage).expect("a vector always has a storage"))
    }

    /// The number of elements.
    ///
    /// # Panics
    /// When `v` belongs to another heap.
    #[inline]
    pub fn vec_len<T: Trace>(&self, v: Handle<'_, GcVec<T>>) -> usize {
        self.get(v).len()
    }

    /// How many elements fit before the next growth.
    ///
    /// # Panics
    /// When `v` belongs to another heap.
    pub fn vec_capacity<T: Trace>(&self, v: Handle<'_, GcVec<T>>) -> usize {
        let storage = panic_on(self.storage_of(v));
        // SAFETY: storage is a live VecStorage<T>.
        unsafe { storage_parts::<T>(storage).2 }
    }

    /// Makes room for at least `additional` more elements (growing the storage inside the
    /// heap, which may collect).
    ///
    /// Errors: [`GcError::ArrayPinned`] when the storage would move while pinned,
    /// [`GcError::OutOfMemory`], [`GcError::SizeOverflow`]; nothing changes then.
    pub fn vec_reserve<T: Trace>(
        &mut self,
        v: Handle<'_, GcVec<T>>,
        additional: usize,
    ) -> Result<(), GcError> {
        let storage = self.storage_of(v)?;
        // SAFETY: storage is a live VecStorage<T>.
        let (_, len, capacity) = unsafe { storage_parts::<T>(storage) };
        let needed = len
            .checked_add(additional)
            .ok_or(GcError::SizeOverflow("vector capacity"))?;
        if needed <= capacity {
            return Ok(());
        }
        if self.heap.pins.count(storage.addr()) > 0 {
            return Err(GcError::ArrayPinned);
        }
        let new_capacity = needed.max(capacity.saturating_mul(2)).max(4);
        let fresh = self.alloc_storage::<T>(new_capacity)?;
        // The allocation may have collected: find the vector and its storage again.
        let vec_obj = self.resolve(v)?;
        let old = self.storage_of(v)?;
        // SAFETY: `old` and `fresh` are live storages of T, `fresh` has room for `len`
        // elements; the elements move (their old slots are forgotten by setting the old length
        // to zero, so the old storage's death drops nothing); the vector's member is written
        // through the store path.
        unsafe {
            let (from, len, _) = storage_parts::<T>(old);
            let (to, _, _) = storage_parts::<T>(fresh);
            self.heap.store_copy(fresh, to, from, len);
            set_storage_len(fresh, len);
            set_storage_len(old, 0);
            let member = vec_storage_member::<T>(vec_obj.payload());
            self.heap.store_ref(vec_obj, member.slot(), fresh.to_ref());
        }
        if self.heap.recorder.has_pending() {
            self.deliver_hooks();
        }
        Ok(())
    }

    /// Appends the element built from `value`, growing the storage when it is full.
    ///
    /// # Panics
    /// When [`Scope::try_vec_push`] would return an error.
    pub fn vec_push<T: Trace>(&mut self, v: Handle<'_, GcVec<T>>, value: T::Init<'_>) {
        panic_on(self.try_vec_push(v, value))
    }

    /// [`Scope::vec_push`], returning an error (and changing nothing) on a foreign handle,
    /// growth refused while the vector is pinned ([`GcError::ArrayPinned`]), or out of memory.
    pub fn try_vec_push<T: Trace>(
        &mut self,
        v: Handle<'_, GcVec<T>>,
        value: T::Init<'_>,
    ) -> Result<(), GcError> {
        let len = self.get(self.checked(v)?).len();
        self.try_vec_insert(v, len, value)
    }

    /// Inserts the element built from `value` at `index`, shifting the later elements up
    /// (through the store path's bulk entry).
    ///
    /// # Panics
    /// When [`Scope::try_vec_insert`] would return an error.
    pub fn vec_insert<T: Trace>(
        &mut self,
        v: Handle<'_, GcVec<T>>,
        index: usize,
        value: T::Init<'_>,
    ) {
        panic_on(self.try_vec_insert(v, index, value))
    }

    /// [`Scope::vec_insert`], returning misuse as an error (nothing changes then): a foreign
    /// handle, `index > len`, growth refused while pinned, out of memory.
    pub fn try_vec_insert<T: Trace>(
        &mut self,
        v: Handle<'_, GcVec<T>>,
        index: usize,
        value: T::Init<'_>,
    ) -> Result<(), GcError> {
        let storage = self.storage_of(v)?;
        // SAFETY: storage is a live VecStorage<T>.
        let (_, len, capacity) = unsafe { storage_parts::<T>(storage) };
        if index > len {
            return Err(out_of_bounds(index, len));
        }
        self.check_init::<T>(&value)?;
        // The storage found above, unless it is full: growth (which may collect) replaces it.
        let storage = if len < capacity {
            storage
        } else {
            self.vec_reserve(v, 1)?;
            self.storage_of(v)?
        };
        let resolver = Resolver::new();
        // SAFETY: the storage has room for len + 1 elements; elements [index, len) move up one
        // (a bulk copy within the storage), after which slot `index` holds a stale bitwise
        // copy, overwritten without being dropped; the mirror was checked and is resolved after
        // the growth's allocation.
        unsafe {
            let (first, len, _) = storage_parts::<T>(storage);
            let at = first.add(index);
            self.heap.store_copy(storage, at.add(1), at, len - index);
            self.heap
                .store_fresh(storage, at, T::build(value, &resolver));
            set_storage_len(storage, len + 1);
        }
        Ok(())
    }

    /// Replaces element `index` with the element built from `value`; the replaced element's
    /// drop glue runs.
    ///
    /// # Panics
    /// When [`Scope::try_vec_set`] would return an error.
    pub fn vec_set<T: Trace>(&mut self, v: Handle<'_, GcVec<T>>, index: usize, value: T::Init<'_>) {
        panic_on(self.try_vec_set(v, index, value))
    }

    /// [`Scope::vec_set`], returning misuse as an error (nothing is written then).
    pub fn try_vec_set<T: Trace>(
        &mut self,
        v: Handle<'_, GcVec<T>>,
        index: usize,
        value: T::Init<'_>,
    ) -> Result<(), GcError> {
        let storage = self.storage_of(v)?;
        self.check_init::<T>(&value)?;
        // SAFETY: storage is a live VecStorage<T>.
        let (first, len, _) = unsafe { storage_parts::<T>(storage) };
        if index >= len {
            return Err(out_of_bounds(index, len));
        }
        // SAFETY: element `index` is initialised and inside the storage; the mirror was
        // checked.
        let old = unsafe { self.store_element(storage, first.add(index), value) };
        drop(old);
        Ok(())
    }

    /// Removes the last element and runs its drop glue; returns whether there was one. For
    /// elements without references, [`Scope::vec_pop_value`] returns the element instead.
    ///
    /// # Panics
    /// When `v` belongs to another heap.
    pub fn vec_pop<T: Trace>(&mut self, v: Handle<'_, GcVec<T>>) -> bool {
        let len = self.get(v).len();
        len > 0 && panic_on(self.take(v, len - 1)).is_some()
    }

    /// Removes the last element and returns it. Only for element types that hold no
    /// references (a compile-time check): an element with references must not leave the
    /// heap, so read it with `get` first and remove it with [`Scope::vec_pop`].
    ///
    /// # Panics
    /// When `v` belongs to another heap.
    pub fn vec_pop_value<T: Trace>(&mut self, v: Handle<'_, GcVec<T>>) -> Option<T> {
        const {
            assert!(
                !T::NEEDS_TRACE,
                "vec_pop_value returns the element, which may hold references: read it with \
                 `s.get`, then remove it with `vec_pop`"
            )
        };
        let len = self.get(v).len();
        if len == 0 {
            return None;
        }
        panic_on(self.take(v, len - 1))
    }

    /// Removes element `index`, shifting the later elements down, and runs its drop glue. For
    /// elements without references, [`Scope::vec_remove_value`] returns it instead.
    ///
    /// # Panics
    /// When [`Scope::try_vec_remove`] would return an error.
    pub fn vec_remove<T: Trace>(&mut self, v: Handle<'_, GcVec<T>>, index: usize) {
        panic_on(self.try_vec_remove(v, index))
    }

    /// [`Scope::vec_remove`], returning misuse as an error (nothing changes then).
    pub fn try_vec_remove<T: Trace>(
        &mut self,
        v: Handle<'_, GcVec<T>>,
        index: usize,
    ) -> Result<(), GcError> {
        self.take(v, index).map(drop)
    }

    /// Removes element `index`, shifting the later elements down, and returns it. Only for
    /// element types that hold no references (a compile-time check).
    ///
    /// # Panics
    /// When `v` belongs to another heap or `index` is out of bounds.
    pub fn vec_remove_value<T: Trace>(&mut self, v: Handle<'_, GcVec<T>>, index: usize) -> T {
        const {
            assert!(
                !T::NEEDS_TRACE,
                "vec_remove_value returns the element, which may hold references: read it \
                 with `s.get`, then remove it with `vec_remove`"
            )
        };
        panic_on(self.take(v, index)).expect("checked in bounds")
    }

    /// Removes element `index` and hands it back, the vector consistent again. The element
    /// leaves the heap only as far as the caller: dropped at once, or returned to safe code
    /// when it holds no references.
    fn take<T: Trace>(
        &mut self,
        v: Handle<'_, GcVec<T>>,
        index: usize,
    ) -> Result<Option<T>, GcError> {
        let storage = self.storage_of(v)?;
        // SAFETY: storage is a live VecStorage<T>.
        let (first, len, _) = unsafe { storage_parts::<T>(storage) };
        if index >= len {
            return Err(out_of_bounds(index, len));
        }
        // SAFETY: element `index` is initialised; it is read out, the later ones move down one
        // (a bulk copy within the storage) and the length drops by one, so every remaining
        // element is initialised exactly once.
        let taken = unsafe {
            let at = first.add(index);
            let taken = at.read();
            self.heap
                .store_copy(storage, at, at.add(1), len - index - 1);
            set_storage_len(storage, len - 1);
            taken
        };
        Ok(Some(taken))
    }

    /// Shortens the vector to `len` elements (nothing happens when it is not longer); the
    /// removed elements' drop glue runs.
    ///
    /// # Panics
    /// When `v` belongs to another heap.
    pub fn vec_truncate<T: Trace>(&mut self, v: Handle<'_, GcVec<T>>, len: usize) {
        let storage = panic_on(self.storage_of(v));
        // SAFETY: storage is a live VecStorage<T>.
        let (first, old_len, _) = unsafe { storage_parts::<T>(storage) };
        if len >= old_len {
            return;
        }
        // SAFETY: the length drops first, so the removed elements are no longer part of the
        // vector when their drop glue runs (a panicking destructor leaves a valid vector);
        // `drop_in_place` on the slice drops every element even if one panics.
        unsafe {
            set_storage_len(storage, len);
            std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(
                first.add(len),
                old_len - len,
            ));
        }
    }

    /// Removes every element (their drop glue runs); the capacity stays.
    ///
    /// # Panics
    /// When `v` belongs to another heap.
    pub fn vec_clear<T: Trace>(&mut self, v: Handle<'_, GcVec<T>>) {
        self.vec_truncate(v, 0);
    }

    /// Copies `count` elements from `src` to `dst` within the vector (the ranges may overlap),
    /// through the store path's bulk entry. For element types without drop glue (a compile-time
    /// check).
    ///
    /// # Panics
    /// When `v` belongs to another heap or a range is out of bounds.
    pub fn vec_copy_within<T: Trace>(
        &mut self,
        v: Handle<'_, GcVec<T>>,
        src: usize,
        dst: usize,
        count: usize,
    ) {
        let storage = panic_on(self.storage_of(v));
        // SAFETY: storage is a live VecStorage<T>; its first `len` elements are initialised.
        unsafe {
            let (first, len, _) = storage_parts::<T>(storage);
            self.copy_elements_within(storage, first, len, src, dst, count);
        }
    }

    /// Replaces element `index` with a copy of the value `find` returns (from any object of
    /// this heap, or a value of the program's own); nothing changes when it returns `None`.
    /// Returns whether a value was copied. For element types without drop glue (a compile-time
    /// check).
    ///
    /// Errors: a foreign handle, an index out of bounds, [`GcError::ForeignMember`] when the
    /// value refers to another heap's objects.
    pub fn vec_set_copy<T: Trace>(
        &mut self,
        v: Handle<'_, GcVec<T>>,
        index: usize,
        find: impl for<'a> FnOnce(&'a Scope<'s>) -> Option<&'a T>,
    ) -> Result<bool, GcError> {
        let storage = self.storage_of(v)?;
        // SAFETY: storage is a live VecStorage<T>; its first `len` elements are initialised.
        unsafe {
            let (first, len, _) = storage_parts::<T>(storage);
            self.set_copy_element(storage, first, len, index, find)
        }
    }

    /// Appends a copy of the value `find` returns (see [`Scope::vec_set_copy`]), growing the
    /// storage first when it is full (so `find` runs after any collection). Returns whether a
    /// value was copied.
    pub fn vec_push_copy<T: Trace>(
        &mut self,
        v: Handle<'_, GcVec<T>>,
        find: impl for<'a> FnOnce(&'a Scope<'s>) -> Option<&'a T>,
    ) -> Result<bool, GcError> {
        self.vec_reserve(v, 1)?;
        let storage = self.storage_of(v)?;
        let Some(value) = self.copy_value(find)? else {
            return Ok(false);
        };
        // SAFETY: the storage has room for one more; the copy's members are this heap's.
        unsafe {
            let (first, len, _) = storage_parts::<T>(storage);
            self.heap.store_fresh(storage, first.add(len), value);
            set_storage_len(storage, len + 1);
        }
        Ok(true)
    }

    // ----- shared -----------------------------------------------------------------------

    /// Copies `count` elements from index `src` to index `dst` among the `len` elements at
    /// `first` inside `holder` (the ranges may overlap), through the store path's bulk copy.
    /// For element types without drop glue (a compile-time check): the overwritten elements
    /// need nothing.
    ///
    /// # Panics
    /// When either range reaches past `len`.
    ///
    /// # Safety
    /// `first` points to `len` initialised elements inside the live object `holder`.
    pub(super) unsafe fn copy_elements_within<T: Trace>(
        &mut self,
        holder: ObjPtr,
        first: *mut T,
        len: usize,
        src: usize,
        dst: usize,
        count: usize,
    ) {
        const {
            assert!(
                !std::mem::needs_drop::<T>(),
                "copying elements bitwise needs an element type without drop glue"
            )
        };
        panic_on(check_range(src, count, len).and(check_range(dst, count, len)));
        // SAFETY: both ranges are initialised elements inside holder (forwarded from the
        // caller, and checked above).
        unsafe {
            self.heap
                .store_copy(holder, first.add(dst), first.add(src), count)
        };
    }

    /// Replaces element `index` of the `len` elements at `first` inside `holder` with a copy of
    /// the value `find` returns; `Ok(false)`, writing nothing, when it returns `None`. `find`
    /// gets the scope shared, so nothing moves between the check and the store.
    ///
    /// # Safety
    /// As for [`Scope::copy_elements_within`].
    pub(super) unsafe fn set_copy_element<T: Trace>(
        &mut self,
        holder: ObjPtr,
        first: *mut T,
        len: usize,
        index: usize,
        find: impl for<'a> FnOnce(&'a Scope<'s>) -> Option<&'a T>,
    ) -> Result<bool, GcError> {
        if index >= len {
            return Err(out_of_bounds(index, len));
        }
        let Some(value) = self.copy_value(find)? else {
            return Ok(false);
        };
        // SAFETY: element `index` is initialised and inside holder (forwarded from the caller,
        // and checked above); `copy_value` checked that the copy's members are this heap's.
        unsafe { self.heap.store_value(holder, first.add(index), value) };
        Ok(true)
    }

    /// `h` if it is this heap's.
    pub(super) fn checked<'h, T: ?Sized>(
        &self,
        h: Handle<'h, T>,
    ) -> Result<Handle<'h, T>, GcError> {
        self.resolve(h).map(|_| h)
    }

    /// Builds `value` (checked) and stores it over the initialised element `dst` of `obj`;
    /// returns the old element for the caller to drop.
    ///
    /// # Safety
    /// `obj` is a live object of this heap, `dst` an initialised element inside it, and
    /// `T::check_heap` accepted `value`.
    pub(super) unsafe fn store_element<T: Trace>(
        &mut self,
        obj: ObjPtr,
        dst: *mut T,
        value: T::Init<'_>,
    ) -> T {
        let resolver = Resolver::new();
        // SAFETY: forwarded from the caller; no allocation happened since the handles were
        // resolved.
        unsafe { self.heap.store_value(obj, dst, T::build(value, &resolver)) }
    }
}

/// `[start, start + count)` lies within `len` elements.
pub(super) fn check_range(start: usize, count: usize, len: usize) -> Result<(), GcError> {
    match start.checked_add(count) {
        Some(end) if end <= len => Ok(()),
        _ => Err(out_of_bounds(start.saturating_add(count), len)),
    }
}
