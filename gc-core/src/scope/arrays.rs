//! Byte strings and arrays of references: reading and writing their elements.

use super::*;

impl<'s> Scope<'s> {
    /// The bytes of a byte string.
    ///
    /// # Panics
    /// When `h` belongs to another heap.
    pub fn bytes(&self, h: Handle<'_, GcBytes>) -> &[u8] {
        let obj = panic_on(self.resolve(h));
        // SAFETY: obj is a live byte string: a length word, then that many bytes. The slice
        // is tied to &self.
        unsafe {
            let len = obj.payload().cast::<usize>().read();
            std::slice::from_raw_parts(obj.payload().add(LEN_SIZE), len)
        }
    }

    /// The bytes of a byte string, writable (the scope is borrowed mutably, so nothing else
    /// reads the heap meanwhile).
    ///
    /// # Panics
    /// When `h` belongs to another heap.
    pub fn bytes_mut(&mut self, h: Handle<'_, GcBytes>) -> &mut [u8] {
        let obj = panic_on(self.resolve(h));
        // SAFETY: as in `bytes`; &mut self guarantees no other reference into the heap lives.
        unsafe {
            let len = obj.payload().cast::<usize>().read();
            std::slice::from_raw_parts_mut(obj.payload().add(LEN_SIZE), len)
        }
    }

    /// The elements of an array, to read with [`Scope::deref`].
    ///
    /// # Panics
    /// When `h` belongs to another heap.
    pub fn array<U: ?Sized + 'static>(&self, h: Handle<'_, GcArray<U>>) -> &[Member<U>] {
        let obj = panic_on(self.resolve(h));
        // SAFETY: obj is a live array of Member<U>; the slice is tied to &self.
        unsafe { array_members::<U>(obj.payload()) }
    }

    /// The length of an array.
    pub fn array_len<U: ?Sized + 'static>(&self, h: Handle<'_, GcArray<U>>) -> usize {
        self.array(h).len()
    }

    /// Roots element `index` of an array.
    ///
    /// # Panics
    /// When `h` belongs to another heap or `index` is out of bounds.
    pub fn array_load<U: ?Sized + 'static>(
        &self,
        h: Handle<'_, GcArray<U>>,
        index: usize,
    ) -> Option<Handle<'s, U>> {
        panic_on(self.try_array_load(h, index))
    }

    /// [`Scope::array_load`], returning misuse as an error.
    pub fn try_array_load<U: ?Sized + 'static>(
        &self,
        h: Handle<'_, GcArray<U>>,
        index: usize,
    ) -> Result<Option<Handle<'s, U>>, GcError> {
        let obj = self.resolve(h)?;
        // SAFETY: obj is a live array; the slice ends within this function.
        let members = unsafe { array_members::<U>(obj.payload()) };
        let m = members.get(index).ok_or(GcError::IndexOutOfBounds {
            index,
            len: members.len(),
        })?;
        Ok(ObjPtr::from_ref(m.slot().get()).map(|obj| self.push(obj)))
    }

    /// Stores `value` at `index` of an array, with the write barrier.
    ///
    /// # Panics
    /// When a handle belongs to another heap or `index` is out of bounds.
    pub fn array_set<U: ?Sized + 'static>(
        &self,
        h: Handle<'_, GcArray<U>>,
        index: usize,
        value: Option<Handle<'_, U>>,
    ) {
        panic_on(self.try_array_set(h, index, value))
    }

    /// [`Scope::array_set`], returning misuse as an error (nothing is written then).
    pub fn try_array_set<U: ?Sized + 'static>(
        &self,
        h: Handle<'_, GcArray<U>>,
        index: usize,
        value: Option<Handle<'_, U>>,
    ) -> Result<(), GcError> {
        let (obj, target) = self.resolve_store(h, value)?;
        // SAFETY: obj is a live array; the slice ends within this block.
        let members = unsafe { array_members::<U>(obj.payload()) };
        let m = members.get(index).ok_or(GcError::IndexOutOfBounds {
            index,
            len: members.len(),
        })?;
        // SAFETY: obj and target are live objects of this heap; the slot lies in obj.
        unsafe { self.heap.store_ref(obj, m.slot(), target) };
        Ok(())
    }

    /// Copies `len` elements of the array `src` from `src_index` into the array `dst` at
    /// `dst_index`, like `copy_within` when they are the same array (the ranges may overlap),
    /// through the store path's bulk entry (one barrier decision for the whole range).
    ///
    /// ```
    /// # use gc_core::{Config, Heap};
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// heap.scope(|s| {
    ///     let a = s.alloc_array::<u64>(4).unwrap();
    ///     let x = s.alloc(7u64).unwrap();
    ///     s.array_set(a, 0, Some(x));
    ///     s.array_copy(a, 0, a, 1, 3); // a = [x, x, null, null]
    ///     assert!(s.ptr_eq(s.array_load(a, 1).unwrap(), x));
    ///     assert!(s.array_load(a, 2).is_none());
    /// });
    /// ```
    ///
    /// # Panics
    /// When a handle belongs to another heap or a range is out of bounds;
    /// [`Scope::try_array_copy`] returns the error instead.
    pub fn array_copy<U: ?Sized + 'static>(
        &self,
        src: Handle<'_, GcArray<U>>,
        src_index: usize,
        dst: Handle<'_, GcArray<U>>,
        dst_index: usize,
        len: usize,
    ) {
        panic_on(self.try_array_copy(src, src_index, dst, dst_index, len))
    }

    /// [`Scope::array_copy`], returning misuse as an error (nothing is copied then).
    pub fn try_array_copy<U: ?Sized + 'static>(
        &self,
        src: Handle<'_, GcArray<U>>,
        src_index: usize,
        dst: Handle<'_, GcArray<U>>,
        dst_index: usize,
        len: usize,
    ) -> Result<(), GcError> {
        let (from, to) = (self.resolve(src)?, self.resolve(dst)?);
        // SAFETY: both are live arrays of this heap; the slices end within this function.
        let (from_members, to_members) = unsafe {
            (
                array_members::<U>(from.payload()),
                array_members::<U>(to.payload()),
            )
        };
        let check = |index: usize, total: usize| match index.checked_add(len) {
            Some(end) if end <= total => Ok(()),
            _ => Err(GcError::IndexOutOfBounds {
                index: index.saturating_add(len),
                len: total,
            }),
        };
        check(src_index, from_members.len())?;
        check(dst_index, to_members.len())?;
        // SAFETY: both ranges lie inside live arrays of this heap (checked above) and hold
        // initialised members; the destination lies in `to`; a member has no drop glue, so the
        // overwritten ones need nothing.
        unsafe {
            self.heap.store_copy(
                to,
                to_members.as_ptr().add(dst_index).cast_mut(),
                from_members.as_ptr().add(src_index),
                len,
            )
        };
        Ok(())
    }
}
