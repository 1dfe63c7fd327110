//! Allocation: moving values into the heap, one-step construction, byte strings and arrays,
//! non-moving objects.

use super::*;

impl<'s> Scope<'s> {
    /// Moves `value` into the heap. May run a collection (any allocation may).
    ///
    /// On error the value is dropped and nothing already allocated is lost.
    #[inline]
    pub fn alloc<T: Trace>(&mut self, value: T) -> Result<Handle<'s, T>, GcError> {
        let size = const { fixed_object_size::<T>() };
        match self
            .heap
            .alloc_young_fast(T::TYPE_INFO, size, std::mem::needs_drop::<T>())
        {
            Some(obj) => {
                // SAFETY: the nursery gave `size` bytes whose payload is uninitialised and
                // aligned to 8, and T's alignment is at most 8 (checked when T::TYPE_INFO was
                // built).
                unsafe { obj.payload().cast::<T>().write(value) };
                // No event waits (the fast path was on), so there is nothing to deliver.
                Ok(self.push(obj))
            }
            None => self.alloc_slow_value(value),
        }
    }

    /// [`Scope::alloc`] past the allocator's fast path (which may collect): out of line.
    #[inline(never)]
    fn alloc_slow_value<T: Trace>(&mut self, value: T) -> Result<Handle<'s, T>, GcError> {
        let size = const { fixed_object_size::<T>() };
        let obj = match self
            .heap
            .alloc_object_slow(T::TYPE_INFO, size, std::mem::needs_drop::<T>())
        {
            Ok(obj) => obj,
            Err(e) => return self.deliver_then(Err(e)),
        };
        // SAFETY: the allocator returned `size` bytes whose payload is uninitialised and
        // aligned to 8, and T's alignment is at most 8 (checked when T::TYPE_INFO was built).
        unsafe { obj.payload().cast::<T>().write(value) };
        Ok(self.finish_alloc(obj))
    }

    /// Builds an object in one step from its mirror (see [`Init`](crate::Init)): every member
    /// is given as an optional handle, every other field as its value. May run a collection
    /// (any allocation may); the handles follow their objects.
    ///
    /// ```
    /// use gc_core::{Config, Heap, Member, Trace};
    ///
    /// #[derive(Trace)]
    /// struct Tree {
    ///     left: Member<Tree>,
    ///     right: Member<Tree>,
    ///     depth: u32,
    /// }
    ///
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// heap.scope(|s| {
    ///     let leaf = s.alloc_init(TreeInit { left: None, right: None, depth: 0 }).unwrap();
    ///     let root = s
    ///         .alloc_init(TreeInit { left: Some(leaf), right: Some(leaf), depth: 1 })
    ///         .unwrap();
    ///     let l = s.deref(&s.get(root).left).unwrap();
    ///     assert_eq!(l.depth, 0);
    /// });
    /// ```
    ///
    /// Errors: [`GcError::ForeignHandle`] when a handle in the mirror belongs to another heap
    /// (checked before anything is allocated), [`GcError::OutOfMemory`]. On error the mirror is
    /// dropped and nothing already allocated is lost.
    #[inline]
    pub fn alloc_init<'h, M: crate::Mirror<'h>>(
        &mut self,
        init: M,
    ) -> Result<Handle<'s, M::Target>, GcError> {
        self.alloc_init_of::<M::Target>(init)
    }

    /// [`Scope::alloc_init`] with the type named rather than inferred from the mirror (for
    /// generic code: `s.alloc_init_of::<T>(mirror)`).
    #[inline]
    pub fn alloc_init_of<T: Trace>(&mut self, init: T::Init<'_>) -> Result<Handle<'s, T>, GcError> {
        if let Err(e) = self.check_init::<T>(&init) {
            return self.deliver_then(Err(e));
        }
        let size = const { fixed_object_size::<T>() };
        match self
            .heap
            .alloc_young_fast(T::TYPE_INFO, size, std::mem::needs_drop::<T>())
        {
            Some(obj) => {
                // SAFETY: as in `alloc`; the handles were checked to be this heap's; nothing
                // collected. The object is young, so it needs no barrier.
                unsafe { self.write_value::<T>(obj, init) };
                // No event waits (the fast path was on), so there is nothing to deliver.
                Ok(self.push(obj))
            }
            None => self.alloc_init_slow::<T>(init),
        }
    }

    /// [`Scope::alloc_init_of`] past the allocator's fast path (which may collect, and may give
    /// an object born old): out of line, so the fast path's caller stays small.
    #[inline(never)]
    fn alloc_init_slow<T: Trace>(&mut self, init: T::Init<'_>) -> Result<Handle<'s, T>, GcError> {
        let size = const { fixed_object_size::<T>() };
        let obj = match self
            .heap
            .alloc_object_slow(T::TYPE_INFO, size, std::mem::needs_drop::<T>())
        {
            Ok(obj) => obj,
            Err(e) => return self.deliver_then(Err(e)),
        };
        // SAFETY: as in `alloc`; the handles were checked to be this heap's, and the ones the
        // allocation's collection moved were updated in the handle stack, so resolving them now
        // gives current addresses; no user code runs before the value is in the heap.
        unsafe { self.write_init::<T>(obj, init) };
        Ok(self.finish_alloc(obj))
    }

    /// [`Scope::alloc_init`] straight into non-moving space (pinned for life), as an old object:
    /// the young references it is built with leave it remembered, as a later store would.
    pub fn alloc_init_nonmoving<'h, M: crate::Mirror<'h>>(
        &mut self,
        init: M,
    ) -> Result<Handle<'s, M::Target>, GcError> {
        self.alloc_init_nonmoving_of::<M::Target>(init)
    }

    /// [`Scope::alloc_init_nonmoving`] with the type named rather than inferred.
    pub fn alloc_init_nonmoving_of<T: Trace>(
        &mut self,
        init: T::Init<'_>,
    ) -> Result<Handle<'s, T>, GcError> {
        if let Err(e) = self.check_init::<T>(&init) {
            return self.deliver_then(Err(e));
        }
        let size = const { fixed_object_size::<T>() };
        let obj = match self
            .heap
            .alloc_nonmoving(T::TYPE_INFO, size, std::mem::needs_drop::<T>())
        {
            Ok(obj) => obj,
            Err(e) => return self.deliver_then(Err(e)),
        };
        // SAFETY: as in `alloc_init`.
        unsafe { self.write_init::<T>(obj, init) };
        Ok(self.finish_alloc(obj))
    }

    /// Writes the value built from `init` into the fresh object `obj` and runs the store
    /// path's initialisation barrier.
    ///
    /// # Safety
    /// `obj` was just allocated for a `T` (payload uninitialised); `T::check_heap` accepted
    /// `init` for this heap.
    #[inline(always)]
    unsafe fn write_init<T: Trace>(&mut self, obj: ObjPtr, init: T::Init<'_>) {
        // SAFETY: forwarded from the caller.
        unsafe {
            self.write_value::<T>(obj, init);
            self.heap.after_init(obj);
        }
    }

    /// [`Scope::write_init`] without the barrier, for an object known to be young.
    ///
    /// # Safety
    /// As for `write_init`.
    #[inline(always)]
    unsafe fn write_value<T: Trace>(&mut self, obj: ObjPtr, init: T::Init<'_>) {
        let resolver = crate::init::Resolver::new();
        // SAFETY: forwarded from the caller: the handles are this heap's and live (their
        // scopes enclose this one), the payload is T-sized and 8-aligned.
        unsafe {
            let value = T::build(init, &resolver);
            obj.payload().cast::<T>().write(value);
        }
    }

    /// Allocates a variable-length object of `payload` bytes whose type has drop glue when
    /// `info.drop` is set. May collect. Inlined: the allocator's fast path in the caller (a
    /// map's table, allocated with every interpreter instance, was a call of its own).
    #[inline]
    pub(super) fn alloc_var(
        &mut self,
        info: &'static crate::object::TypeInfo,
        payload: usize,
    ) -> Result<ObjPtr, GcError> {
        let size = object_size(payload).ok_or(GcError::SizeOverflow("object size"))?;
        match self.heap.alloc_object(info, size, info.drop.is_some()) {
            Ok(obj) => Ok(obj),
            Err(e) => self.deliver_then(Err(e)),
        }
    }

    /// Allocates a byte string holding a copy of `data`.
    pub fn alloc_bytes(&mut self, data: &[u8]) -> Result<Handle<'s, GcBytes>, GcError> {
        let obj = self.alloc_var(GcBytes::TYPE_INFO, LEN_SIZE + data.len())?;
        // SAFETY: the payload has room for the length word and data.len() bytes.
        unsafe {
            obj.payload().cast::<usize>().write(data.len());
            let dst = obj.payload().add(LEN_SIZE);
            std::ptr::copy_nonoverlapping(data.as_ptr(), dst, data.len());
        }
        Ok(self.finish_alloc(obj))
    }

    /// Allocates a byte string of `len` zero bytes.
    pub fn alloc_bytes_zeroed(&mut self, len: usize) -> Result<Handle<'s, GcBytes>, GcError> {
        let obj = self.alloc_var(GcBytes::TYPE_INFO, LEN_SIZE.saturating_add(len))?;
        // SAFETY: the payload has room for the length word and len bytes.
        unsafe {
            obj.payload().cast::<usize>().write(len);
            zero_unless_fresh(obj, LEN_SIZE, len);
        }
        Ok(self.finish_alloc(obj))
    }

    /// Allocates an array of `len` null references.
    pub fn alloc_array<U: ?Sized + 'static>(
        &mut self,
        len: usize,
    ) -> Result<Handle<'s, GcArray<U>>, GcError> {
        let bytes = len
            .checked_mul(std::mem::size_of::<Member<U>>())
            .and_then(|b| b.checked_add(LEN_SIZE))
            .ok_or(GcError::SizeOverflow("array length"))?;
        let obj = self.alloc_var(GcArray::<U>::TYPE_INFO, bytes)?;
        // SAFETY: the payload has room for the length word and `len` members; a null member
        // is all zero bytes.
        unsafe {
            obj.payload().cast::<usize>().write(len);
            zero_unless_fresh(obj, LEN_SIZE, bytes - LEN_SIZE);
        }
        Ok(self.finish_alloc(obj))
    }

    /// Allocates an array holding `items`. The items are handles, so they stay valid when
    /// this allocation runs a collection and moves them.
    pub fn alloc_array_from<U: ?Sized + 'static>(
        &mut self,
        items: &[Handle<'_, U>],
    ) -> Result<Handle<'s, GcArray<U>>, GcError> {
        for &h in items {
            self.resolve(h)?;
        }
        let array = self.alloc_array::<U>(items.len())?;
        let obj = self.resolve(array)?;
        // SAFETY: `obj` is a live array of items.len() members; the items were resolved after
        // the allocation (which may have moved them); the store path's barrier covers an array
        // born old.
        unsafe {
            let members = array_members::<U>(obj.payload());
            for (m, &h) in members.iter().zip(items) {
                let target = self.resolve(h)?.to_ref();
                self.heap.store_ref(obj, m.slot(), target);
            }
        }
        Ok(array)
    }

    /// Allocates a byte string directly in non-moving space (pinned for life): for buffers
    /// that live long in C. It never moves; keep it alive with a handle or a pin (a pin on it
    /// does not count against `MAX_PINNED`).
    pub fn alloc_bytes_nonmoving(&mut self, data: &[u8]) -> Result<Handle<'s, GcBytes>, GcError> {
        let size =
            object_size(LEN_SIZE + data.len()).ok_or(GcError::SizeOverflow("object size"))?;
        let obj = match self.heap.alloc_nonmoving(GcBytes::TYPE_INFO, size, false) {
            Ok(obj) => obj,
            Err(e) => return self.deliver_then(Err(e)),
        };
        // SAFETY: the payload has room for the length word and data.len() bytes.
        unsafe {
            obj.payload().cast::<usize>().write(data.len());
            std::ptr::copy_nonoverlapping(data.as_ptr(), obj.payload().add(LEN_SIZE), data.len());
        }
        Ok(self.finish_alloc(obj))
    }

    /// Allocates a value directly in non-moving space (pinned for life).
    pub fn alloc_nonmoving<T: Trace>(&mut self, value: T) -> Result<Handle<'s, T>, GcError> {
        let size = const { fixed_object_size::<T>() };
        let obj = match self
            .heap
            .alloc_nonmoving(T::TYPE_INFO, size, std::mem::needs_drop::<T>())
        {
            Ok(obj) => obj,
            Err(e) => return self.deliver_then(Err(e)),
        };
        // SAFETY: as in `alloc`.
        unsafe { obj.payload().cast::<T>().write(value) };
        Ok(self.finish_alloc(obj))
    }
}

/// Zeroes `len` bytes of `obj`'s payload from byte `offset`, unless `obj` is a large object:
/// its memory is a fresh mapping that reads as zeros already (`large.rs`), so a large array's
/// pages are first touched when the program writes them, not once more before, and never when
/// it does not.
///
/// # Safety
/// `obj` is a new object whose payload has room for `offset + len` bytes and whose payload
/// nothing has written since it was allocated, but for the bytes before `offset`.
#[inline]
unsafe fn zero_unless_fresh(obj: ObjPtr, offset: usize, len: usize) {
    // SAFETY: forwarded from the caller: obj is a live object with a valid header.
    if unsafe { obj.flags() }.contains(crate::object::HeaderFlags::LARGE) {
        return;
    }
    // SAFETY: forwarded from the caller: the range lies inside the payload.
    unsafe { std::ptr::write_bytes(obj.payload().add(offset), 0, len) };
}
