//! Fixed-length inline-value arrays through a scope: `GcSlice<T>` made from mirrors, element
//! stores, copies within one slice and from values found elsewhere in the heap. The rules of
//! `scope/inline.rs` (mirrors, the store path, drop glue once) hold here too; the helpers shared
//! with `GcVec<T>` live there.

use super::inline::{out_of_bounds, slice_parts};
use super::*;
use crate::init::{Mirror, Resolver};
use crate::inline::GcSlice;
use std::mem::MaybeUninit;

impl<'s> Scope<'s> {
    /// Allocates a fixed-length array holding the elements built from `items`, one mirror per
    /// element (for a leaf type, the values themselves). See [`GcSlice`].
    ///
    /// Errors: [`GcError::ForeignHandle`] (checked before anything is allocated),
    /// [`GcError::OutOfMemory`], [`GcError::SizeOverflow`].
    pub fn alloc_slice<'h, M: Mirror<'h>>(
        &mut self,
        items: impl IntoIterator<Item = M>,
    ) -> Result<Handle<'s, GcSlice<M::Target>>, GcError> {
        self.alloc_slice_of::<M::Target>(items)
    }

    /// [`Scope::alloc_slice`] with the element type named (for generic code).
    pub fn alloc_slice_of<'h, T: Trace>(
        &mut self,
        items: impl IntoIterator<Item = T::Init<'h>>,
    ) -> Result<Handle<'s, GcSlice<T>>, GcError> {
        let mut items = Gathered::from_iter(items);
        for item in items.iter() {
            if let Err(e) = self.check_init::<T>(item) {
                return self.deliver_then(Err(e));
            }
        }
        let len = items.len();
        let bytes = len
            .checked_mul(std::mem::size_of::<T>())
            .and_then(|b| b.checked_add(LEN_SIZE))
            .ok_or(GcError::SizeOverflow("slice length"))?;
        let obj = self.alloc_var(GcSlice::<T>::TYPE_INFO, bytes)?;
        let resolver = Resolver::new();
        // SAFETY: the payload has room for the length and `len` elements; the mirrors were
        // checked and are resolved now, after the allocation; `build` runs no user code, so the
        // elements are all written before anything can look at the object.
        unsafe {
            obj.payload().cast::<usize>().write(len);
            let first = obj.payload().add(LEN_SIZE).cast::<T>();
            items.drain(|i, item| first.add(i).write(T::build(item, &resolver)));
            self.heap.after_init(obj);
        }
        Ok(self.finish_alloc(obj))
    }

    /// Replaces element `index` of a fixed-length array with the element built from `value`;
    /// the replaced element's drop glue runs.
    ///
    /// # Panics
    /// When a handle belongs to another heap or `index` is out of bounds;
    /// [`Scope::try_slice_set`] returns the error instead.
    pub fn slice_set<T: Trace>(
        &mut self,
        h: Handle<'_, GcSlice<T>>,
        index: usize,
        value: T::Init<'_>,
    ) {
        panic_on(self.try_slice_set(h, index, value))
    }

    /// [`Scope::slice_set`], returning misuse as an error (nothing is written then).
    pub fn try_slice_set<T: Trace>(
        &mut self,
        h: Handle<'_, GcSlice<T>>,
        index: usize,
        value: T::Init<'_>,
    ) -> Result<(), GcError> {
        let obj = self.resolve(h)?;
        self.check_init::<T>(&value)?;
        // SAFETY: obj is a live GcSlice<T>.
        let (first, len) = unsafe { slice_parts::<T>(obj) };
        if index >= len {
            return Err(out_of_bounds(index, len));
        }
        // SAFETY: element `index` is initialised and inside obj; the mirror was checked.
        let old = unsafe { self.store_element(obj, first.add(index), value) };
        drop(old);
        Ok(())
    }

    /// Copies `count` elements of a fixed-length array from `src` to `dst` (the ranges may
    /// overlap). For element types without drop glue (a bitwise copy of a `String` would own
    /// it twice; that is a compile-time error).
    ///
    /// # Panics
    /// When `h` belongs to another heap or a range is out of bounds.
    pub fn slice_copy_within<T: Trace>(
        &mut self,
        h: Handle<'_, GcSlice<T>>,
        src: usize,
        dst: usize,
        count: usize,
    ) {
        let obj = panic_on(self.resolve(h));
        // SAFETY: obj is a live GcSlice<T>; all `len` of its elements are initialised.
        unsafe {
            let (first, len) = slice_parts::<T>(obj);
            self.copy_elements_within(obj, first, len, src, dst, count);
        }
    }

    /// Replaces element `index` of a fixed-length array with a copy of the value `find`
    /// returns (see [`Scope::vec_set_copy`]).
    pub fn slice_set_copy<T: Trace>(
        &mut self,
        h: Handle<'_, GcSlice<T>>,
        index: usize,
        find: impl for<'a> FnOnce(&'a Scope<'s>) -> Option<&'a T>,
    ) -> Result<bool, GcError> {
        let obj = self.resolve(h)?;
        // SAFETY: obj is a live GcSlice<T>; all `len` of its elements are initialised.
        unsafe {
            let (first, len) = slice_parts::<T>(obj);
            self.set_copy_element(obj, first, len, index, find)
        }
    }

    /// Replaces element `index` of a fixed-length array reached through a member with a copy of
    /// a value, all found by `locate` (the array, the index and the value); never allocates.
    /// Returns `false`, writing nothing, when `locate` finds nothing. An interpreter assigns a
    /// closed-over variable (a one-element array) this way without rooting anything. For
    /// element types without drop glue.
    ///
    /// ```
    /// use gc_core::{Config, GcSlice, Heap, Member, Trace};
    ///
    /// #[derive(Trace)]
    /// struct Closure { cells: Member<GcSlice<f64>> }
    ///
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// heap.scope(|s| {
    ///     let cells = s.alloc_slice([1.0, 2.0]).unwrap();
    ///     let closure = s.alloc_init(ClosureInit { cells: Some(cells) }).unwrap();
    ///     let done = s.slice_replace_copy(|s| Some((&s.get(closure).cells, 1, &7.5)));
    ///     assert_eq!(done, Ok(true));
    ///     assert_eq!(s.get(cells), &[1.0, 7.5]);
    /// });
    /// ```
    ///
    /// Errors: an index out of bounds, [`GcError::ForeignMember`] when the array or the value
    /// belongs to another heap (nothing is written).
    #[inline]
    pub fn slice_replace_copy<T: Trace>(
        &mut self,
        locate: impl for<'a> FnOnce(&'a Scope<'s>) -> Option<(&'a Member<GcSlice<T>>, usize, &'a T)>,
    ) -> Result<bool, GcError> {
        const {
            assert!(
                !std::mem::needs_drop::<T>(),
                "copying elements bitwise needs an element type without drop glue"
            )
        };
        let Some((slice, index, value)) = locate(self) else {
            return Ok(false);
        };
        let Some(obj) = ObjPtr::from_ref(slice.slot().get()) else {
            return Ok(false);
        };
        if !self.heap.owns_referent(obj) {
            return Err(GcError::ForeignMember);
        }
        // SAFETY: obj is a live GcSlice<T> of this heap.
        let (first, len) = unsafe { slice_parts::<T>(obj) };
        if index >= len {
            return Err(out_of_bounds(index, len));
        }
        self.check_members(value)?;
        // SAFETY: `value` is a live T without drop glue: a bitwise copy owns nothing twice, and
        // it is taken before anything is written (it may be the element itself); element
        // `index` is initialised and inside obj; the copy's members are this heap's.
        unsafe {
            let value = std::ptr::read(value);
            let _old = self.heap.store_value(obj, first.add(index), value);
        }
        Ok(true)
    }

    /// A bitwise copy of the value `find` returns, its members checked to be this heap's. The
    /// copy never reaches the caller's code: the callers store it at once.
    pub(super) fn copy_value<T: Trace>(
        &self,
        find: impl for<'a> FnOnce(&'a Scope<'s>) -> Option<&'a T>,
    ) -> Result<Option<T>, GcError> {
        const {
            assert!(
                !std::mem::needs_drop::<T>(),
                "copying values bitwise needs a type without drop glue"
            )
        };
        let Some(value) = find(self) else {
            return Ok(None);
        };
        self.check_members(value)?;
        // SAFETY: a valid T without drop glue, so a bitwise copy owns nothing twice; its
        // members are this heap's and current (nothing can collect before the caller stores
        // it).
        Ok(Some(unsafe { std::ptr::read(value) }))
    }
}

/// Mirrors a slice allocation keeps on the stack before spilling to a `Vec`.
const INLINE_MIRRORS: usize = 4;

/// The mirrors of a slice being allocated, gathered before the allocation (which may collect,
/// and after which the mirrors are resolved): the first [`INLINE_MIRRORS`] on the stack, the
/// rest in a `Vec`. Small slices (a closure's upvalues, an upvalue's one cell) are the common
/// case, and a heap buffer allocated and freed around each of them cost as much as the slice
/// itself. The stack part is uninitialised beyond what was gathered: an array of `Option`s
/// was written whole (every `None`) and walked whole (every slot tested) twice, about two
/// hundred instructions for a slice of one.
///
/// Invariant: `inline[..min(len, INLINE_MIRRORS)]` are initialised, and `spill` holds the
/// rest, in order.
struct Gathered<I> {
    inline: [MaybeUninit<I>; INLINE_MIRRORS],
    spill: Vec<I>,
    len: usize,
}

impl<I> Gathered<I> {
    #[inline]
    fn from_iter(items: impl IntoIterator<Item = I>) -> Gathered<I> {
        let mut gathered = Gathered {
            inline: [const { MaybeUninit::uninit() }; INLINE_MIRRORS],
            spill: Vec::new(),
            len: 0,
        };
        for item in items {
            match gathered.inline.get_mut(gathered.len) {
                Some(free) => {
                    free.write(item);
                }
                None => gathered.spill.push(item),
            }
            // Counted once written: a panicking iterator leaves only gathered items to drop.
            gathered.len += 1;
        }
        gathered
    }

    #[inline]
    fn len(&self) -> usize {
        self.len
    }

    /// The gathered items on the stack.
    #[inline]
    fn inline(&self) -> &[I] {
        let n = self.len.min(INLINE_MIRRORS);
        // SAFETY: the first `n` inline items are initialised (the invariant); `MaybeUninit<I>`
        // has `I`'s layout.
        unsafe { std::slice::from_raw_parts(self.inline.as_ptr().cast::<I>(), n) }
    }

    #[inline]
    fn iter(&self) -> impl Iterator<Item = &I> {
        self.inline().iter().chain(&self.spill)
    }

    /// Hands every item, with its index, to `put`, in order, leaving nothing gathered. (By
    /// reference, and inlined with `put`: moving the gathered items into a call, and `put`
    /// called out of line, doubled a small slice's cost.)
    #[inline(always)]
    fn drain(&mut self, mut put: impl FnMut(usize, I)) {
        let n = self.len.min(INLINE_MIRRORS);
        // The inline items are moved out below: from here `Drop` must not see them (if `put`
        // panics, those not yet moved leak, which is safe).
        self.len = 0;
        for (i, slot) in self.inline[..n].iter().enumerate() {
            // SAFETY: initialised (the invariant, with the length read before it was reset),
            // and read once.
            put(i, unsafe { slot.assume_init_read() });
        }
        for (i, item) in std::mem::take(&mut self.spill).into_iter().enumerate() {
            put(n + i, item);
        }
    }
}

impl<I> Drop for Gathered<I> {
    fn drop(&mut self) {
        let n = self.len.min(INLINE_MIRRORS);
        for slot in &mut self.inline[..n] {
            // SAFETY: initialised (the invariant), dropped once.
            unsafe { slot.assume_init_drop() };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn gathered_items_come_out_in_order_and_each_is_dropped_once() {
        for count in [0, 1, INLINE_MIRRORS, INLINE_MIRRORS + 3] {
            let token = Rc::new(());
            let gathered = Gathered::from_iter((0..count).map(|i| (i, Rc::clone(&token))));
            assert_eq!(gathered.len(), count);
            assert!(gathered.iter().map(|(i, _)| *i).eq(0..count));
            let mut seen = Vec::new();
            let mut gathered = gathered;
            gathered.drain(|i, (j, _)| seen.push((i, j)));
            assert_eq!(gathered.len(), 0);
            drop(gathered);
            assert_eq!(seen, (0..count).map(|i| (i, i)).collect::<Vec<_>>());
            assert_eq!(Rc::strong_count(&token), 1, "{count} items");
            // Dropped without draining.
            let gathered = Gathered::from_iter((0..count).map(|_| Rc::clone(&token)));
            drop(gathered);
            assert_eq!(Rc::strong_count(&token), 1, "{count} items, not drained");
        }
    }
}
