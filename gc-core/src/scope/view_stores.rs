//! What a [`VecView`] writes into other objects, a locator finding the object and the value
//! with the view's elements at hand: an entry of a map (replaced, set or updated) and an
//! element of a fixed-length array. None allocates, so the view stays valid; the value is
//! copied bitwise (element types without drop glue) through the store path.

use super::*;

impl<'v, 's, T: Trace> VecView<'v, 's, T> {
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
        ) -> Option<(crate::MapView<'a, K, V>, &'a Member<K>, &'a V)>,
    ) -> Result<bool, GcError> {
        // SAFETY: the slice is only read during the call, which writes into a map's table,
        // never this vector's storage.
        let elements = unsafe { self.detached_elements() };
        self.sync_len();
        self.scope
            .map_replace_copy(hint, move |sc| locate(sc, elements))
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
        let elements = unsafe { self.detached_elements() };
        self.sync_len();
        self.scope
            .map_set_copy(hint, move |sc| locate(sc, elements))
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
        let elements = unsafe { self.detached_elements() };
        self.sync_len();
        self.scope
            .map_update_copy(hint, move |sc| locate(sc, elements))
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
        // SAFETY: as in `map_replace_copy` (a fixed-length array is never a vector's storage).
        let elements = unsafe { self.detached_elements() };
        self.sync_len();
        self.scope
            .slice_replace_copy(move |sc| locate(sc, elements))
    }
}
