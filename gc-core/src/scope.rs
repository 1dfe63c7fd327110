//! The safe API: handle scopes.
//!
//! Rust code reaches heap objects through [`Handle`]s: indices into the heap's handle stack,
//! which is a root set the collector updates when objects move. Handles are created by a
//! [`Scope`] and popped when it ends.
//!
//! Why this is sound when **any allocation may collect**:
//! - reading gives `&T` borrowed from `&Scope`; allocating takes `&mut Scope`; so no reference
//!   into the heap can be held across an allocation (the borrow checker rejects it);
//! - a scope is entered through a closure that is generic over its lifetime
//!   (`for<'s> FnOnce(&mut Scope<'s>)`), so a `Handle<'s, _>` cannot leave it: its slot is
//!   never read after it is popped. [`Scope::escape`] hands one handle to the enclosing scope;
//! - handles of an *enclosing* scope can be used in a nested one (they outlive it); a handle of
//!   another heap is caught by a cheap identity check (each handle records its heap's id);
//! - references are stored only through [`Scope::set`] and friends, which run the write
//!   barrier and refuse a field that does not lie inside the object written, so a non-null
//!   `Member` exists only inside the heap where collections update it;
//! - handles are neither `Send` nor `Sync`, and a `Heap` is `Send` but not `Sync`.
//!
//! Methods that can be misused have two forms: `try_x` returns a [`GcError`], `x` panics with
//! that error's message (like slice indexing and `get`).

use std::marker::PhantomData;
use std::ptr::NonNull;

use crate::builtin::{array_members, GcArray, GcBytes, GcObject, LEN_SIZE};
use crate::error::GcError;
use crate::heap::HeapInner;
use crate::member::Member;
use crate::object::{fixed_object_size, object_size, ObjPtr};
use crate::pin::{PinId, Pinned, Refusal};
use crate::roots::{ProviderId, RawGc, RootProvider};
use crate::stats::HeapStats;
use crate::verify::VerifyReport;
use crate::Trace;

/// A rooted reference to a heap object, valid for the scope `'s` that created it.
///
/// `Copy`, two words, neither `Send` nor `Sync`. The object it refers to stays alive and the
/// handle follows it when it moves.
pub struct Handle<'s, T: ?Sized> {
    index: u32,
    heap: u32,
    _marker: PhantomData<(&'s (), *const T)>,
}

impl<T: ?Sized> Clone for Handle<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for Handle<'_, T> {}

impl<T: ?Sized> std::fmt::Debug for Handle<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Handle(heap #{}, slot {})", self.heap, self.index)
    }
}

/// A region of handles; all access to the heap goes through one.
///
/// Entered with [`Heap::scope`](crate::Heap::scope), nested with [`Scope::scope`] and
/// [`Scope::escape`].
pub struct Scope<'s> {
    heap: &'s mut HeapInner,
    base: usize,
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
        self.heap.mutator.get_mut().handles.truncate(self.base);
    }
}

fn panic_on<T>(result: Result<T, GcError>) -> T {
    match result {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

impl<'s> Scope<'s> {
    pub(crate) fn enter(heap: &'s mut HeapInner) -> Scope<'s> {
        let base = heap.mutator.get_mut().handles.len();
        Scope { heap, base }
    }

    pub(crate) fn heap_mut(&mut self) -> &mut HeapInner {
        self.heap
    }

    /// Roots a new object and delivers pending hook events (a hook may collect, so the new
    /// object is rooted first).
    #[inline(always)]
    fn finish_alloc<T: ?Sized>(&mut self, obj: ObjPtr) -> Handle<'s, T> {
        let h = self.push(obj.as_ptr());
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
    fn push<T: ?Sized>(&self, ptr: *mut u8) -> Handle<'s, T> {
        // SAFETY: no other reference into the mutator state is live during this push.
        let handles = &mut unsafe { self.heap.mutator_mut() }.handles;
        let index = handles.len() as u32;
        handles.push(ptr);
        Handle {
            index,
            heap: self.heap.id,
            _marker: PhantomData,
        }
    }

    #[inline(always)]
    fn resolve<T: ?Sized>(&self, h: Handle<'_, T>) -> Result<ObjPtr, GcError> {
        if h.heap != self.heap.id {
            return Err(GcError::ForeignHandle {
                handle_heap: h.heap,
                this_heap: self.heap.id,
            });
        }
        let ptr = self.heap.mutator().handles[h.index as usize];
        Ok(ObjPtr::new(ptr).expect("a live handle's slot is filled"))
    }

    // ----- allocation -------------------------------------------------------------------

    /// Moves `value` into the heap. May run a collection (any allocation may).
    ///
    /// On error the value is dropped and nothing already allocated is lost.
    #[inline]
    pub fn alloc<T: Trace>(&mut self, value: T) -> Result<Handle<'s, T>, GcError> {
        let size = const { fixed_object_size::<T>() };
        let obj = match self
            .heap
            .alloc_object(T::TYPE_INFO, size, std::mem::needs_drop::<T>())
        {
            Ok(obj) => obj,
            Err(e) => return self.deliver_then(Err(e)),
        };
        // SAFETY: alloc_object returned `size` bytes whose payload is uninitialised and
        // aligned to 8, and T's alignment is at most 8 (checked when T::TYPE_INFO was built).
        unsafe { obj.payload().cast::<T>().write(value) };
        Ok(self.finish_alloc(obj))
    }

    fn alloc_var(
        &mut self,
        info: &'static crate::object::TypeInfo,
        payload: usize,
    ) -> Result<ObjPtr, GcError> {
        let size = object_size(payload).ok_or(GcError::SizeOverflow("object size"))?;
        match self.heap.alloc_object(info, size, false) {
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
            std::ptr::write_bytes(obj.payload().add(LEN_SIZE), 0, len);
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
            std::ptr::write_bytes(obj.payload().add(LEN_SIZE), 0, bytes - LEN_SIZE);
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
        // the allocation (which may have moved them); the barrier covers an array born old.
        unsafe {
            let members = array_members::<U>(obj.payload());
            for (m, &h) in members.iter().zip(items) {
                let target = self.resolve(h)?.as_ptr();
                m.slot().set(target);
                self.heap.write_barrier(obj, target);
            }
        }
        Ok(array)
    }

    // ----- reading ----------------------------------------------------------------------

    /// The object behind `h`, borrowed from the scope (so no allocation can move it meanwhile).
    ///
    /// # Panics
    /// When `h` belongs to another heap; [`Scope::try_get`] returns the error instead.
    #[inline]
    pub fn get<T: Trace>(&self, h: Handle<'_, T>) -> &T {
        panic_on(self.try_get(h))
    }

    /// The object behind `h`, or [`GcError::ForeignHandle`].
    #[inline]
    pub fn try_get<T: Trace>(&self, h: Handle<'_, T>) -> Result<&T, GcError> {
        let obj = self.resolve(h)?;
        // SAFETY: `h` is a live handle of this heap, so obj is a live T; the reference is
        // tied to &self, and collections need &mut self.
        Ok(unsafe { &*obj.payload().cast::<T>() })
    }

    /// Follows a member without rooting its target: the reference lives as long as both the
    /// scope borrow and the member borrow.
    #[inline]
    pub fn deref<'a, U: Trace>(&'a self, member: &'a Member<U>) -> Option<&'a U> {
        let obj = ObjPtr::new(member.slot().get())?;
        // SAFETY: a non-null member lives inside a heap object and refers to a live U of the
        // same heap; the borrows keep every collection of that heap away.
        Some(unsafe { &*obj.payload().cast::<U>() })
    }

    /// Follows a member to a byte string without rooting it.
    #[inline]
    pub fn deref_bytes<'a>(&'a self, member: &'a Member<GcBytes>) -> Option<&'a [u8]> {
        let obj = ObjPtr::new(member.slot().get())?;
        // SAFETY: a non-null Member<GcBytes> refers to a live byte string; the borrows keep
        // every collection away while the slice lives.
        Some(unsafe {
            let len = obj.payload().cast::<usize>().read();
            std::slice::from_raw_parts(obj.payload().add(LEN_SIZE), len)
        })
    }

    /// Follows a member to an array without rooting it.
    #[inline]
    pub fn deref_array<'a, U: ?Sized + 'static>(
        &'a self,
        member: &'a Member<GcArray<U>>,
    ) -> Option<&'a [Member<U>]> {
        let obj = ObjPtr::new(member.slot().get())?;
        // SAFETY: a non-null Member<GcArray<U>> refers to a live array of Member<U>; the
        // borrows keep every collection away while the slice lives.
        Some(unsafe { array_members::<U>(obj.payload()) })
    }

    /// Checks that `field` lies inside the payload of `obj` (of type `T`).
    fn check_inside<T: Trace, U: ?Sized>(obj: ObjPtr, field: &Member<U>) -> Result<(), GcError> {
        let start = obj.payload().addr();
        let at = (field as *const Member<U>).addr();
        let end = start + std::mem::size_of::<T>();
        if at >= start && at + std::mem::size_of::<Member<U>>() <= end {
            Ok(())
        } else {
            Err(GcError::MemberOutsideObject)
        }
    }

    /// Roots the target of a reference field of `h`'s object: `s.load(h, |o| &o.next)`.
    ///
    /// # Panics
    /// When `h` belongs to another heap or `field` does not lie inside the object.
    #[inline]
    pub fn load<T: Trace, U: ?Sized>(
        &self,
        h: Handle<'_, T>,
        field: impl FnOnce(&T) -> &Member<U>,
    ) -> Option<Handle<'s, U>> {
        panic_on(self.try_load(h, field))
    }

    /// [`Scope::load`], returning misuse as an error.
    #[inline]
    pub fn try_load<T: Trace, U: ?Sized>(
        &self,
        h: Handle<'_, T>,
        field: impl FnOnce(&T) -> &Member<U>,
    ) -> Result<Option<Handle<'s, U>>, GcError> {
        let obj = self.resolve(h)?;
        let ptr = {
            // SAFETY: obj is a live T of this heap; the reference ends within this block.
            let value = unsafe { &*obj.payload().cast::<T>() };
            let member = field(value);
            Self::check_inside::<T, U>(obj, member)?;
            member.slot().get()
        };
        Ok((!ptr.is_null()).then(|| self.push(ptr)))
    }

    /// A new handle in this scope to the object `h` refers to (for example to keep a value of
    /// an enclosing scope in a variable this scope rebinds).
    ///
    /// # Panics
    /// When `h` belongs to another heap.
    pub fn dup<T: ?Sized>(&self, h: Handle<'_, T>) -> Handle<'s, T> {
        let ptr = panic_on(self.resolve(h)).as_ptr();
        self.push(ptr)
    }

    /// Roots the target of a member reached through [`Scope::deref`] or [`Scope::array`].
    ///
    /// # Panics
    /// When the member belongs to another heap's object; [`Scope::try_root`] returns
    /// [`GcError::ForeignMember`] instead.
    pub fn root<U: ?Sized>(&self, member: &Member<U>) -> Option<Handle<'s, U>> {
        panic_on(self.try_root(member))
    }

    /// [`Scope::root`], returning a member of another heap as an error.
    pub fn try_root<U: ?Sized>(
        &self,
        member: &Member<U>,
    ) -> Result<Option<Handle<'s, U>>, GcError> {
        let Some(obj) = ObjPtr::new(member.slot().get()) else {
            return Ok(None);
        };
        // A non-null member lives inside some heap and refers to an object of that same heap,
        // so checking that the target is ours proves the member is ours too.
        if self.heap.owns(obj) {
            Ok(Some(self.push(obj.as_ptr())))
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
        let ptr = panic_on(self.resolve(source)).as_ptr();
        panic_on(self.resolve(target));
        // SAFETY: no other reference into the mutator state is live during this store.
        unsafe { self.heap.mutator_mut() }.handles[target.index as usize] = ptr;
    }

    /// Whether two handles refer to the same object.
    ///
    /// # Panics
    /// When either handle belongs to another heap.
    pub fn ptr_eq<T: ?Sized, U: ?Sized>(&self, a: Handle<'_, T>, b: Handle<'_, U>) -> bool {
        panic_on(self.resolve(a)) == panic_on(self.resolve(b))
    }

    // ----- writing (the barrier) --------------------------------------------------------

    /// Stores `value` into the reference field of `h`'s object that `field` selects, with the
    /// write barrier: `s.set(node, |n| &n.next, Some(other))`.
    ///
    /// # Panics
    /// When a handle belongs to another heap or `field` does not lie inside the object;
    /// [`Scope::try_set`] returns the error instead.
    #[inline]
    pub fn set<T: Trace, U: ?Sized>(
        &self,
        h: Handle<'_, T>,
        field: impl FnOnce(&T) -> &Member<U>,
        value: Option<Handle<'_, U>>,
    ) {
        panic_on(self.try_set(h, field, value))
    }

    /// [`Scope::set`], returning misuse as an error (nothing is written then).
    #[inline]
    pub fn try_set<T: Trace, U: ?Sized>(
        &self,
        h: Handle<'_, T>,
        field: impl FnOnce(&T) -> &Member<U>,
        value: Option<Handle<'_, U>>,
    ) -> Result<(), GcError> {
        let obj = self.resolve(h)?;
        let target = match value {
            Some(v) => self.resolve(v)?.as_ptr(),
            None => std::ptr::null_mut(),
        };
        {
            // SAFETY: obj is a live T of this heap; the reference ends within this block.
            let object = unsafe { &*obj.payload().cast::<T>() };
            let member = field(object);
            Self::check_inside::<T, U>(obj, member)?;
            member.slot().set(target);
        }
        // SAFETY: obj and target are live objects of this heap.
        unsafe { self.heap.write_barrier(obj, target) };
        Ok(())
    }

    // ----- byte strings and arrays ------------------------------------------------------

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
        let ptr = m.slot().get();
        Ok((!ptr.is_null()).then(|| self.push(ptr)))
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
        let obj = self.resolve(h)?;
        let target = match value {
            Some(v) => self.resolve(v)?.as_ptr(),
            None => std::ptr::null_mut(),
        };
        // SAFETY: obj is a live array; the slice ends within this block.
        let members = unsafe { array_members::<U>(obj.payload()) };
        let m = members.get(index).ok_or(GcError::IndexOutOfBounds {
            index,
            len: members.len(),
        })?;
        m.slot().set(target);
        // SAFETY: obj and target are live objects of this heap.
        unsafe { self.heap.write_barrier(obj, target) };
        Ok(())
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
        panic_on(self.try_escape(|inner| Ok(f(inner))))
    }

    /// [`Scope::escape`] for closures that can fail: the error passes through, the handle is
    /// kept.
    pub fn try_escape<T: ?Sized, E: From<GcError>>(
        &mut self,
        f: impl for<'i> FnOnce(&mut Scope<'i>) -> Result<Handle<'i, T>, E>,
    ) -> Result<Handle<'s, T>, E> {
        let slot: Handle<'s, T> = self.push(std::ptr::null_mut());
        let ptr = {
            let mut inner = Scope::enter(self.heap);
            let h = f(&mut inner)?;
            inner.resolve(h)?.as_ptr()
        };
        self.heap.mutator.get_mut().handles[slot.index as usize] = ptr;
        Ok(slot)
    }

    // ----- pinning ----------------------------------------------------------------------

    /// Pins the object: until the returned guard is dropped (or passed to [`Scope::unpin`])
    /// the object stays alive and does not move, so [`Pinned::as_ptr`] can be handed to C.
    /// Every type can be pinned, including objects that hold references.
    ///
    /// Errors: [`GcError::PinLimitReached`] when `MAX_PINNED` nursery objects are pinned
    /// already (old and large objects do not count), [`GcError::PinningDisabled`] when
    /// `MAX_PINNED` is 0, [`GcError::ForeignHandle`].
    ///
    /// ```
    /// # use gc_core::{Config, Heap};
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// heap.scope(|s| {
    ///     let buf = s.alloc_bytes(b"abc").unwrap();
    ///     let pin = s.pin(buf).unwrap();
    ///     let before = pin.as_ptr();
    ///     s.collect_minor(); // the buffer stays where it is
    ///     assert_eq!(s.pin(buf).unwrap().as_ptr(), before);
    ///     // SAFETY: the pin keeps the 3 bytes alive and in place.
    ///     unsafe { *pin.as_ptr() = b'x' };
    ///     assert_eq!(s.bytes(buf), b"xbc");
    ///     s.unpin(pin).unwrap();
    /// });
    /// ```
    pub fn pin<T: ?Sized>(&mut self, h: Handle<'_, T>) -> Result<Pinned, GcError> {
        let obj = self.resolve(h)?;
        let id = self.pin_object(obj)?;
        // SAFETY: obj is a live, unforwarded object (just pinned, so it stays that way).
        let (data, len) = unsafe {
            let info = obj.type_info();
            match info.var_size {
                Some(_) => (obj.payload().add(LEN_SIZE), obj.payload_size() - LEN_SIZE),
                None => (obj.payload(), info.fixed_size),
            }
        };
        Ok(self.heap.pins.guard(id, obj, data, len))
    }

    fn pin_object(&mut self, obj: ObjPtr) -> Result<PinId, GcError> {
        self.heap.drain_released_pins();
        let young = self.heap.nursery.contains(obj.addr());
        let max = self.heap.config.max_pinned();
        // SAFETY: obj is a live, unforwarded object of this heap (resolved from a handle).
        let refusal = match unsafe { self.heap.pins.pin(obj, young, max) } {
            Ok(id) => return Ok(id),
            Err(r) => r,
        };
        let (error, reason) = match refusal {
            Refusal::Limit(limit) => (
                GcError::PinLimitReached { limit },
                gc_hooks::PinRefusal::Limit,
            ),
            Refusal::Disabled => (GcError::PinningDisabled, gc_hooks::PinRefusal::Disabled),
        };
        self.heap
            .recorder
            .record(gc_hooks::Event::PinRefused(gc_hooks::PinRefusedEvent {
                reason,
                limit: max as u64,
                pinned_objects: self.heap.pins.young_pinned() as u64,
            }));
        self.deliver_then(Err(error))
    }

    /// Ends a pin now (dropping the guard ends it too, at the heap's next pin operation or
    /// collection).
    ///
    /// A guard of another heap is refused with [`GcError::NotPinned`] and left intact: it is
    /// dropped as usual, which ends its pin on its own heap.
    pub fn unpin(&mut self, pin: Pinned) -> Result<(), GcError> {
        if fault_on!(LeakPinOnRefusedUnpin) {
            let id = pin.id();
            pin.consume(); // the injected bug: consumed before the release is checked
            return self.unpin_raw(id);
        }
        self.unpin_raw(pin.id())?;
        pin.consume(); // released just now: its drop must not queue the id again
        Ok(())
    }

    /// Pins without a guard (the raw layer): the pin lasts until [`Scope::unpin_raw`].
    pub fn pin_raw<T: ?Sized>(&mut self, h: Handle<'_, T>) -> Result<PinId, GcError> {
        let obj = self.resolve(h)?;
        self.pin_object(obj)
    }

    /// Ends a raw pin. Unpinning what is not pinned (already released, or another heap's pin)
    /// returns [`GcError::NotPinned`].
    pub fn unpin_raw(&mut self, id: PinId) -> Result<(), GcError> {
        let nursery = &self.heap.nursery;
        if self.heap.pins.release(id, |a| nursery.contains(a)) {
            Ok(())
        } else {
            Err(GcError::NotPinned)
        }
    }

    /// Whether the object is pinned (pins released by dropped guards count until the heap's
    /// next pin operation or collection).
    pub fn is_pinned<T: ?Sized>(&self, h: Handle<'_, T>) -> bool {
        self.resolve(h)
            .is_ok_and(|obj| self.heap.pins.count(obj.addr()) > 0)
    }

    /// Whether `id` is an active pin.
    pub fn is_pin_active(&self, id: PinId) -> bool {
        self.heap.pins.is_active(id)
    }

    /// Runs `f` with the byte string's bytes at a stable address, in the spirit of PyPy's
    /// `get_nonmovingbuffer`, so the caller never handles a refusal. The bytes may be written.
    ///
    /// - an object that never moves (old, large, allocated non-moving) or is pinned already is
    ///   handed over in place: no pin, no copy;
    /// - a young object is pinned for the call;
    /// - when the pin is refused (`MAX_PINNED` reached, or `MAX_PINNED=0`), the bytes are
    ///   copied to a temporary buffer and copied back afterwards.
    ///
    /// [`HeapStats::pinning`] counts each outcome (`ffi_in_place`, `ffi_pinned`,
    /// `ffi_copied`); a copy is not counted as a refused pin.
    ///
    /// ```
    /// # use gc_core::{Config, Heap};
    /// let mut heap = Heap::new(Config::default().with_max_pinned(0)).unwrap(); // pinning off
    /// heap.scope(|s| {
    ///     let buf = s.alloc_bytes(b"hello").unwrap();
    ///     let n = s.with_nonmoving_buffer(buf, |bytes| {
    ///         bytes[0] = b'j'; // what a C function would do through bytes.as_mut_ptr()
    ///         bytes.len()
    ///     });
    ///     assert_eq!((n, s.bytes(buf)), (5, &b"jello"[..]));
    ///     assert_eq!(s.stats().pinning.ffi_copied, 1); // young, and pinning is off: copied
    ///     s.collect_minor(); // now old: it never moves again
    ///     s.with_nonmoving_buffer(buf, |bytes| bytes[0] = b'h');
    ///     assert_eq!(s.stats().pinning.ffi_in_place, 1);
    ///     assert_eq!(s.stats().pinning.refused_disabled, 0);
    /// });
    /// ```
    ///
    /// # Panics
    /// When `h` belongs to another heap.
    pub fn with_nonmoving_buffer<R>(
        &mut self,
        h: Handle<'_, GcBytes>,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> R {
        let obj = panic_on(self.resolve(h));
        let moves = self.heap.nursery.contains(obj.addr()) && self.heap.pins.count(obj.addr()) == 0;
        if !moves {
            self.heap.pins.stats.ffi_in_place += 1;
            // &mut self keeps every collection away while `f` runs, and the object cannot move
            // anyway.
            return f(self.bytes_mut(h));
        }
        self.heap.drain_released_pins();
        let max = self.heap.config.max_pinned();
        // SAFETY: obj is a live, unforwarded young object of this heap (resolved from a handle).
        match unsafe { self.heap.pins.pin_quietly(obj, true, max) } {
            Some(id) => {
                self.heap.pins.stats.ffi_pinned += 1;
                let result = f(self.bytes_mut(h));
                let nursery = &self.heap.nursery;
                self.heap.pins.release(id, |a| nursery.contains(a));
                result
            }
            None => {
                self.heap.pins.stats.ffi_copied += 1;
                let mut copy = self.bytes(h).to_vec();
                let result = f(&mut copy);
                self.bytes_mut(h).copy_from_slice(&copy);
                result
            }
        }
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

    /// Whether the object can move (it is in the nursery and not pinned).
    pub fn can_move<T: ?Sized>(&self, h: Handle<'_, T>) -> bool {
        self.resolve(h).is_ok_and(|obj| {
            self.heap.nursery.contains(obj.addr()) && self.heap.pins.count(obj.addr()) == 0
        })
    }

    /// Ends the pins whose guards were dropped (other operations do this on their own).
    pub fn release_dropped_pins(&mut self) {
        self.heap.drain_released_pins();
    }

    // ----- identity hashes and weak references -----------------------------------------

    /// The object's identity hash: assigned on first request, unique among the heap's objects
    /// for the heap's whole life, and unchanged when the object moves (so it also serves as
    /// `id()`). Objects that never ask pay nothing.
    ///
    /// ```
    /// # use gc_core::{Config, Heap};
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// heap.scope(|s| {
    ///     let a = s.alloc(1u64).unwrap();
    ///     let h = s.identity_hash(a);
    ///     s.collect_minor(); // `a` moves to the old generation
    ///     assert_eq!(s.identity_hash(a), h);
    ///     let b = s.alloc(1u64).unwrap();
    ///     assert_ne!(s.identity_hash(b), h);
    /// });
    /// ```
    ///
    /// # Panics
    /// When `h` belongs to another heap.
    pub fn identity_hash<T: ?Sized>(&mut self, h: Handle<'_, T>) -> u64 {
        let obj = panic_on(self.resolve(h));
        let young = self.heap.nursery.contains(obj.addr());
        // SAFETY: obj is a live, unforwarded object of this heap.
        unsafe { self.heap.identity.hash(obj, young) }
    }

    /// A weak reference to the object: it does not keep the object alive.
    ///
    /// ```
    /// # use gc_core::{Config, Heap};
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// heap.scope(|s| {
    ///     let weak = s.scope(|s| {
    ///         let tmp = s.alloc(7u64).unwrap();
    ///         s.downgrade(tmp)
    ///     });
    ///     let kept = s.alloc(8u64).unwrap();
    ///     let weak_kept = s.downgrade(kept);
    ///     s.collect_minor();
    ///     assert!(s.upgrade(&weak).is_none()); // died: cleared
    ///     assert_eq!(*s.get(s.upgrade(&weak_kept).unwrap()), 8); // moved: followed
    /// });
    /// ```
    ///
    /// # Panics
    /// When `h` belongs to another heap.
    pub fn downgrade<T: ?Sized>(&mut self, h: Handle<'_, T>) -> crate::Weak<T> {
        let obj = panic_on(self.resolve(h));
        self.heap.weak.create(obj)
    }

    /// The object of a weak reference, rooted, if it is still alive.
    ///
    /// # Panics
    /// When `weak` belongs to another heap; [`Scope::try_upgrade`] returns the error instead.
    pub fn upgrade<T: ?Sized>(&self, weak: &crate::Weak<T>) -> Option<Handle<'s, T>> {
        panic_on(self.try_upgrade(weak))
    }

    /// [`Scope::upgrade`], returning a weak reference of another heap as an error.
    pub fn try_upgrade<T: ?Sized>(
        &self,
        weak: &crate::Weak<T>,
    ) -> Result<Option<Handle<'s, T>>, GcError> {
        if !self.heap.weak.owns(weak) {
            return Err(GcError::ForeignMember);
        }
        Ok(self.heap.weak.get(weak).map(|obj| self.push(obj.as_ptr())))
    }

    /// Whether the weak reference's object is still alive (it is cleared by the collection
    /// that reclaims it).
    pub fn weak_is_alive<T: ?Sized>(&self, weak: &crate::Weak<T>) -> bool {
        self.heap.weak.get(weak).is_some()
    }

    /// How many weak references collections have cleared so far (a change tells tables of
    /// weak values to purge).
    pub fn weak_clears(&self) -> u64 {
        self.heap.weak.clears
    }

    // ----- collections, statistics, verification ---------------------------------------

    /// Runs a minor collection now (then delivers the hooks).
    pub fn collect_minor(&mut self) {
        self.heap.collect_minor();
        if self.heap.recorder.has_pending() {
            self.deliver_hooks();
        }
    }

    /// Runs a complete major collection now (then delivers the hooks).
    pub fn collect_major(&mut self) {
        self.heap.collect_major();
        if self.heap.recorder.has_pending() {
            self.deliver_hooks();
        }
    }

    /// Collections run so far (minor plus major): a cheap way to notice that an allocation
    /// collected.
    #[inline]
    pub fn collection_count(&self) -> u64 {
        self.heap.stats.minor_collections + self.heap.stats.major_collections
    }

    /// Freezes the heap while this scope's handles are live (see
    /// [`Heap::freeze`](crate::Heap::freeze)).
    pub fn freeze(&mut self) {
        self.heap.freeze();
    }

    /// Whether the object is frozen (sealed by [`Scope::freeze`]: never moved or freed until
    /// [`Scope::unfreeze`]).
    pub fn is_frozen<T: ?Sized>(&self, h: Handle<'_, T>) -> bool {
        // SAFETY: a resolved handle refers to a live, unforwarded object of this heap.
        self.resolve(h)
            .is_ok_and(|obj| unsafe { self.heap.is_frozen(obj) })
    }

    /// A checksum of every page of the sealed arenas, by page address (for tests).
    #[doc(hidden)]
    pub fn sealed_page_checksums(&self) -> Vec<(usize, u64)> {
        self.heap.old.sealed_page_checksums()
    }

    /// Returns the frozen memory to normal collection.
    pub fn unfreeze(&mut self) {
        self.heap.unfreeze();
    }

    /// The heap's statistics.
    pub fn stats(&self) -> HeapStats {
        self.heap.snapshot_stats()
    }

    /// Runs the heap verifier.
    pub fn verify(&mut self) -> VerifyReport {
        self.heap.verify()
    }

    /// The id of this scope's heap.
    pub fn heap_id(&self) -> u32 {
        self.heap.id
    }

    // ----- the unsafe layer -------------------------------------------------------------

    /// The raw address behind a handle, for the embedder's own root set (see
    /// [`RootProvider`]).
    ///
    /// # Panics
    /// When `h` belongs to another heap.
    pub fn to_raw<T: ?Sized>(&self, h: Handle<'_, T>) -> RawGc {
        let obj = panic_on(self.resolve(h));
        RawGc::new(NonNull::new(obj.as_ptr()).expect("objects are non-null"))
    }

    /// Roots a raw reference in a handle.
    ///
    /// # Safety
    /// `raw` refers to a live object of type `T` in this heap: it was obtained from this heap
    /// and is still valid by the rule of the `roots` module (no collection since, or at every
    /// collection since it was reported by a root provider or its object was pinned by a live
    /// guard).
    pub unsafe fn from_raw<T: ?Sized>(&self, raw: RawGc) -> Handle<'s, T> {
        self.push(raw.as_ptr())
    }

    /// The registered root provider `id`, if it has type `P`.
    pub fn root_provider_mut<P: RootProvider>(&mut self, id: ProviderId) -> Option<&mut P> {
        let provider: &mut dyn std::any::Any =
            self.heap.providers.get_mut(id.0)?.as_mut()?.as_mut();
        provider.downcast_mut::<P>()
    }
}
