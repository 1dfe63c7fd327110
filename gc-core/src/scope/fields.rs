//! Reference fields through a scope: loading a field's target into a handle, and storing into
//! a field (the projection checked to lie inside the object, the store through the barrier).

use super::*;

impl<'s> Scope<'s> {
    /// Checks that `field` lies inside the payload of `obj` (of type `T`).
    fn check_inside<T: Trace, U: ?Sized>(obj: ObjPtr, field: &Member<U>) -> Result<(), GcError> {
        Self::check_field_inside::<T, Member<U>>(obj, field)
    }

    /// Checks that `field`, a value of type `F`, lies wholly inside the payload of `obj` (of
    /// type `T`).
    #[inline(always)]
    fn check_field_inside<T: Trace, F>(obj: ObjPtr, field: &F) -> Result<(), GcError> {
        // The field's offset, by wrapping subtraction: a field before the payload wraps to a
        // huge offset, and a projection `|t| &t.field` folds to a constant, so the whole test
        // compiles away (comparing two addresses would not: either might wrap).
        let offset = (field as *const F)
            .addr()
            .wrapping_sub(obj.payload().addr());
        let room = std::mem::size_of::<T>().checked_sub(std::mem::size_of::<F>());
        if room.is_some_and(|room| offset <= room) {
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
        self.load_field(h, |object| Some(field(object)))
    }

    /// Roots the target of the field a projection selects (`None`: no such field).
    #[inline(always)]
    fn load_field<T: Trace, U: ?Sized>(
        &self,
        h: Handle<'_, T>,
        field: impl FnOnce(&T) -> Option<&Member<U>>,
    ) -> Result<Option<Handle<'s, U>>, GcError> {
        let obj = self.resolve(h)?;
        let ptr = {
            // SAFETY: obj is a live T of this heap; the reference ends within this block.
            let value = unsafe { &*obj.payload().cast::<T>() };
            let member = field(value).ok_or(GcError::WrongVariant)?;
            Self::check_inside::<T, U>(obj, member)?;
            member.slot().get()
        };
        Ok(ObjPtr::from_ref(ptr).map(|obj| self.push(obj)))
    }

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
        self.store_field(h, |object| Some(field(object)), value)
    }

    /// Replaces the inline value that `field` selects in `h`'s object (a field that is not a
    /// bare `Member`: an interpreter's value enum, an optional pair of members…) with the value
    /// built from its mirror, through the write barrier; the old value is dropped. Objects are
    /// otherwise built whole by `alloc_init`: this is how one of their value fields changes
    /// later, as [`Scope::set`] does for a reference field.
    ///
    /// It takes the scope mutably, so no reference into the object (which `get` or `deref`
    /// lend) is alive while the value is replaced.
    ///
    /// ```
    /// use gc_core::{Config, GcBytes, Heap, Member, Trace};
    ///
    /// #[derive(Trace)]
    /// enum Value { Nil, Num(f64), Str(Member<GcBytes>) }
    ///
    /// #[derive(Trace)]
    /// struct Cell { name: Member<GcBytes>, value: Value }
    ///
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// heap.scope(|s| {
    ///     let name = s.alloc_bytes(b"answer").unwrap();
    ///     let cell = s.alloc_init(CellInit { name: Some(name), value: ValueInit::Nil }).unwrap();
    ///     s.set_value(cell, |c| &c.value, ValueInit::Num(42.0));
    ///     s.set_value(cell, |c| &c.value, ValueInit::Str(Some(name)));
    ///     s.collect_minor(); // the cell keeps its name alive through the field, too
    ///     assert!(matches!(&s.get(cell).value, Value::Str(m) if s.deref(m) == Some(&b"answer"[..])));
    /// });
    /// ```
    ///
    /// # Panics
    /// When a handle belongs to another heap or `field` does not lie inside the object;
    /// [`Scope::try_set_value`] returns the error instead.
    pub fn set_value<T: Trace, V: Trace + crate::Init>(
        &mut self,
        h: Handle<'_, T>,
        field: impl FnOnce(&T) -> &V,
        init: V::Init<'_>,
    ) {
        panic_on(self.try_set_value(h, field, init))
    }

    /// [`Scope::set_value`], returning misuse as an error (nothing is written then).
    pub fn try_set_value<T: Trace, V: Trace + crate::Init>(
        &mut self,
        h: Handle<'_, T>,
        field: impl FnOnce(&T) -> &V,
        init: V::Init<'_>,
    ) -> Result<(), GcError> {
        let obj = self.resolve(h)?;
        self.check_init::<V>(&init)?;
        let offset = {
            // SAFETY: obj is a live T of this heap; the reference ends within this block.
            let object = unsafe { &*obj.payload().cast::<T>() };
            let value = field(object);
            Self::check_field_inside::<T, V>(obj, value)?;
            (value as *const V).addr() - obj.payload().addr()
        };
        // The destination derives from the object's own pointer (which may write), not from
        // the shared reference the projection returned (which may not).
        // SAFETY: the field lies inside the payload (checked above).
        let dst = unsafe { obj.payload().add(offset) }.cast::<V>();
        let resolver = crate::init::Resolver::new();
        // SAFETY: the mirror was checked for this heap, and the value goes straight into the
        // object. dst is an initialised V inside obj's payload (checked above): a field of the
        // object or of the variant it holds, which the write leaves as it is. The scope is
        // borrowed mutably, so no reference into the object is alive; nothing allocated or
        // collected since obj was resolved.
        let old = unsafe {
            let value = V::build(init, &resolver);
            self.heap.store_value(obj, dst, value)
        };
        drop(old);
        Ok(())
    }

    /// Stores into the field a projection selects (`None`: no such field).
    #[inline(always)]
    fn store_field<T: Trace, U: ?Sized>(
        &self,
        h: Handle<'_, T>,
        field: impl FnOnce(&T) -> Option<&Member<U>>,
        value: Option<Handle<'_, U>>,
    ) -> Result<(), GcError> {
        let (obj, target) = self.resolve_store(h, value)?;
        // SAFETY: obj is a live T of this heap; the reference ends within this function.
        let object = unsafe { &*obj.payload().cast::<T>() };
        let member = field(object).ok_or(GcError::WrongVariant)?;
        Self::check_inside::<T, U>(obj, member)?;
        // SAFETY: obj and target are live objects of this heap; the slot lies in obj.
        unsafe { self.heap.store_ref(obj, member.slot(), target) };
        Ok(())
    }

    /// Stores `value` into the reference field that `field` selects in one variant of an
    /// enum (or any projection that may find no field): `s.set_variant(h, Value::as_obj,
    /// Some(o))`, with the accessors `#[derive(Trace)]` generates for enums.
    ///
    /// ```
    /// use gc_core::{Config, Heap, Member, Trace};
    ///
    /// #[derive(Trace)]
    /// enum Value {
    ///     Nil,
    ///     Num(f64),
    ///     Pair { head: Member<Value>, tail: Member<Value> },
    /// }
    ///
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// heap.scope(|s| {
    ///     let one = s.alloc(Value::Num(1.0)).unwrap();
    ///     let pair = s
    ///         .alloc_init(ValueInit::Pair { head: Some(one), tail: None })
    ///         .unwrap();
    ///     s.set_variant(pair, Value::pair_tail, Some(one));
    ///     let tail = s.load_variant(pair, Value::pair_tail).unwrap();
    ///     assert!(matches!(s.get(tail), Value::Num(n) if *n == 1.0));
    ///     // The wrong variant is an error, not a panic.
    ///     assert!(s.try_set_variant(one, Value::pair_head, None).is_err());
    /// });
    /// ```
    ///
    /// # Panics
    /// When a handle belongs to another heap, the projection finds no field
    /// ([`GcError::WrongVariant`]) or the field does not lie inside the object;
    /// [`Scope::try_set_variant`] returns the error instead.
    pub fn set_variant<T: Trace, U: ?Sized>(
        &self,
        h: Handle<'_, T>,
        field: impl FnOnce(&T) -> Option<&Member<U>>,
        value: Option<Handle<'_, U>>,
    ) {
        panic_on(self.try_set_variant(h, field, value))
    }

    /// [`Scope::set_variant`], returning misuse as an error (nothing is written then).
    pub fn try_set_variant<T: Trace, U: ?Sized>(
        &self,
        h: Handle<'_, T>,
        field: impl FnOnce(&T) -> Option<&Member<U>>,
        value: Option<Handle<'_, U>>,
    ) -> Result<(), GcError> {
        self.store_field(h, field, value)
    }

    /// Roots the target of the reference field that `field` selects in one variant of an
    /// enum; `None` when the field is null. See [`Scope::set_variant`].
    ///
    /// # Panics
    /// When `h` belongs to another heap or the projection finds no field.
    pub fn load_variant<T: Trace, U: ?Sized>(
        &self,
        h: Handle<'_, T>,
        field: impl FnOnce(&T) -> Option<&Member<U>>,
    ) -> Option<Handle<'s, U>> {
        panic_on(self.try_load_variant(h, field))
    }

    /// [`Scope::load_variant`], returning misuse as an error.
    pub fn try_load_variant<T: Trace, U: ?Sized>(
        &self,
        h: Handle<'_, T>,
        field: impl FnOnce(&T) -> Option<&Member<U>>,
    ) -> Result<Option<Handle<'s, U>>, GcError> {
        self.load_field(h, field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two reference fields, the shape `check_inside` is asked about.
    type Pair = (Member<u64>, Member<u64>);

    #[test]
    fn a_field_is_inside_exactly_when_all_of_it_lies_in_the_payload() {
        // A header word, then room for the pair and one member more on either side.
        let buffer: Vec<Member<u64>> = (0..5).map(|_| Member::null()).collect();
        // SAFETY: buffer[0] stands for the header word (never read here).
        let obj = unsafe { ObjPtr::from_start(buffer[0].slot().as_ptr().cast()) };
        // buffer[0] is the header; a pair's payload is buffer[1] and buffer[2].
        let inside = |i: usize| Scope::check_inside::<Pair, u64>(obj, &buffer[i]).is_ok();
        assert!(!inside(0), "the header is not a field");
        assert!(inside(1) && inside(2));
        assert!(!inside(3) && !inside(4), "past the payload");
        // A payload smaller than a member holds none.
        assert!(Scope::check_inside::<u32, u64>(obj, &buffer[1]).is_err());
    }
}
