//! Persistent roots through a scope: making one, reading it, re-pointing it.

use super::*;
use crate::persistent::Persistent;

impl<'s> Scope<'s> {
    /// An owned root to `h`'s object that outlives this scope (see [`Persistent`]): it keeps
    /// the object alive and follows it when it moves, until it is dropped.
    ///
    /// Errors: [`GcError::ForeignHandle`] when `h` belongs to another heap.
    pub fn persist<T: ?Sized>(&mut self, h: Handle<'_, T>) -> Result<Persistent<T>, GcError> {
        let obj = self.resolve(h)?;
        // SAFETY: obj is a live object of this heap.
        let young = unsafe { self.heap.is_young(obj.to_ref()) };
        Ok(self.heap.persistent.create(obj, young))
    }

    /// Roots the object of a persistent root in a handle of this scope.
    ///
    /// Errors: [`GcError::ForeignHandle`] when the root belongs to another heap.
    pub fn persistent<T: ?Sized>(&self, root: &Persistent<T>) -> Result<Handle<'s, T>, GcError> {
        self.check_persistent(root)?;
        Ok(self.push(self.heap.persistent.get(root)))
    }

    /// Points a persistent root at `h`'s object (the root's old object may die).
    ///
    /// Errors: [`GcError::ForeignHandle`] when the root or `h` belongs to another heap.
    pub fn set_persistent<T: ?Sized>(
        &mut self,
        root: &Persistent<T>,
        h: Handle<'_, T>,
    ) -> Result<(), GcError> {
        self.check_persistent(root)?;
        let obj = self.resolve(h)?;
        // SAFETY: obj is a live object of this heap.
        let young = unsafe { self.heap.is_young(obj.to_ref()) };
        self.heap.persistent.set(root, obj, young);
        Ok(())
    }

    fn check_persistent<T: ?Sized>(&self, root: &Persistent<T>) -> Result<(), GcError> {
        if self.heap.persistent.owns(root) {
            Ok(())
        } else {
            Err(GcError::ForeignHandle {
                handle_heap: root.heap_id(),
                this_heap: self.heap.id.get(),
            })
        }
    }
}
