//! What a [`VecView`] writes into other objects, a locator finding the object and the value
//! with the view's elements at hand: an entry of a map (replaced, set or updated) and an
//! element of a fixed-length array. None allocates, so the view stays valid; the value is
//! copied bitwise (element types without drop glue) through the store path.

use super::*;

impl<'v, 's, T: Trace> VecView<'v, 's, T> {
    /// Lends the scope and the elements to `f`, the view's length written into the vector
    /// first (for anything that reads the vector through the scope). The slice's lifetime is
    /// the caller's to choose, as for `detached_elements`: a locator's result borrows from it.
    ///
    /// # Safety
    /// `f` writes nothing into this vector's storage (only into other objects: a map's table,
    /// an array's element), and the slice is not used after `f` returns.
    #[inline(always)]
    unsafe fn lend_elements<'e, R>(&mut self, f: impl FnOnce(&mut Scope<'s>, &'e [T]) -> R) -> R {
        // SAFETY: the slice lives while `f` runs, which the caller bounds to writes elsewhere.
        let elements = unsafe { self.detached_elements() };
        self.sync_len();
        f(self.scope, elements)
    }

    /// [`Scope::map_replace_copy`] while the view is open (the locator also gets the view's
    /// elements, to copy one of them): replacing an existing entry allocates nothing, so the
    /// view stays valid. An interpreter assigns a global or a field from its stack this way.
    #[inline]
    pub fn map_replace_copy<K: ?Sized + 'static, V: Trace>(
        &mut self,
        hint: Option<&crate::MapHint>,
        locate: impl for<'a> FnOnce(
            &'a Scope<'s>,
            &'a [T],
        )
            -> Option<(crate::MapView<'a, K, V>, crate::MapKey<'a, K>, &'a V)>,
    ) -> Result<bool, GcError> {
        // SAFETY: replacing an entry writes into the map's table, never this vector's storage.
        unsafe {
            self.lend_elements(|sc, elements| sc.map_replace_copy(hint, |s| locate(s, elements)))
        }
    }

    /// [`Scope::map_set_copy`] while the view is open (the locator also gets the view's
    /// elements): it replaces an entry, or inserts one into a table with room, and allocates
    /// nothing either way, so the view stays valid. An interpreter defines a field from its
    /// stack this way (`Ok(false)`: the scope's [`Scope::map_put_copy`] must do it).
    #[inline]
    pub fn map_set_copy<K: ?Sized + 'static, V: Trace>(
        &mut self,
        hint: Option<&crate::MapHint>,
        locate: impl for<'a> Fn(
            &'a Scope<'s>,
            &'a [T],
        ) -> Option<(crate::MapView<'a, K, V>, &'a Member<K>, &'a V)>,
    ) -> Result<bool, GcError> {
        // SAFETY: as in `map_replace_copy`.
        unsafe { self.lend_elements(|sc, elements| sc.map_set_copy(hint, |s| locate(s, elements))) }
    }

    /// [`Scope::map_update_copy`] while the view is open (the locator also gets the view's
    /// elements): it allocates nothing, so the view stays valid. An interpreter stores into a
    /// field from its stack this way, defining one only when its locator allows it.
    #[inline]
    pub fn map_update_copy<K: ?Sized + 'static, V: Trace>(
        &mut self,
        hint: Option<&crate::MapHint>,
        locate: impl for<'a> Fn(
            &'a Scope<'s>,
            &'a [T],
        )
            -> Option<(crate::MapView<'a, K, V>, &'a Member<K>, &'a V, bool)>,
    ) -> Result<bool, GcError> {
        // SAFETY: as in `map_replace_copy`.
        unsafe {
            self.lend_elements(|sc, elements| sc.map_update_copy(hint, |s| locate(s, elements)))
        }
    }

    /// [`Scope::slice_replace_copy`] while the view is open (the locator also gets the view's
    /// elements): it allocates nothing, so the view stays valid. An interpreter assigns a
    /// closed-over variable from its stack this way.
    #[inline]
    pub fn slice_replace_copy<U: Trace>(
        &mut self,
        locate: impl for<'a> FnOnce(
            &'a Scope<'s>,
            &'a [T],
        ) -> Option<(&'a Member<crate::GcSlice<U>>, usize, &'a U)>,
    ) -> Result<bool, GcError> {
        // SAFETY: the store writes into a fixed-length array's element, never a vector's
        // storage.
        unsafe { self.lend_elements(|sc, elements| sc.slice_replace_copy(|s| locate(s, elements))) }
    }
}
