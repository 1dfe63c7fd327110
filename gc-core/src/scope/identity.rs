//! Identity hashes and weak references through a scope.

use super::*;

impl<'s> Scope<'s> {
    /// The object's identity hash: assigned on first request, unique among the objects of every
    /// heap of the process for the process's whole life, and unchanged when the object moves
    /// (so it also serves as `id()`). Objects that never ask pay nothing.
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

    /// The object's [`Identity`](crate::Identity): its identity hash (assigned on first
    /// request, as [`Scope::identity_hash`] does), to look it up in maps as a key without
    /// reaching it ([`MapKey::Identity`](crate::MapKey)).
    ///
    /// ```
    /// # use gc_core::{Config, Heap};
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// heap.scope(|s| {
    ///     let a = s.alloc(1u64).unwrap();
    ///     let id = s.identity(a);
    ///     s.collect_minor(); // `a` moves
    ///     assert_eq!(s.identity(a), id);
    /// });
    /// ```
    ///
    /// # Panics
    /// When `h` belongs to another heap.
    pub fn identity<T: ?Sized>(&mut self, h: Handle<'_, T>) -> crate::Identity {
        crate::Identity(self.identity_hash(h))
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
        Ok(self.heap.weak.get(weak).map(|obj| self.push(obj)))
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
}
