//! The unsafe layer of a scope: raw addresses for the embedder's own root set (see `roots`).

use super::*;

impl<'s> Scope<'s> {
    /// The raw address behind a handle, for the embedder's own root set (see
    /// [`RootProvider`]).
    ///
    /// # Panics
    /// When `h` belongs to another heap.
    pub fn to_raw<T: ?Sized>(&self, h: Handle<'_, T>) -> RawGc {
        let obj = panic_on(self.resolve(h));
        RawGc::new(NonNull::new(obj.to_ref()).expect("objects are non-null"))
    }

    /// Roots a raw reference in a handle.
    ///
    /// # Safety
    /// `raw` refers to a live object of type `T` in this heap: it was obtained from this heap
    /// and is still valid by the rule of the `roots` module (no collection since, or at every
    /// collection since it was reported by a root provider or its object was pinned by a live
    /// guard).
    pub unsafe fn from_raw<T: ?Sized>(&self, raw: RawGc) -> Handle<'s, T> {
        // SAFETY: a RawGc is non-null; the caller promises it is a live object of this heap.
        self.push(unsafe { ObjPtr::from_ref_unchecked(raw.as_ptr()) })
    }

    /// The registered root provider `id`, if it has type `P`.
    pub fn root_provider_mut<P: RootProvider>(&mut self, id: ProviderId) -> Option<&mut P> {
        let provider: &mut dyn std::any::Any =
            self.heap.providers.get_mut(id.0)?.as_mut()?.as_mut();
        provider.downcast_mut::<P>()
    }
}
