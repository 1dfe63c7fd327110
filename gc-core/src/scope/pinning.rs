//! Pinning through a scope: pins, unpins, the FFI helper, non-moving allocation.

use super::*;

impl<'s> Scope<'s> {
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
        let obj = self.pin_target(self.resolve(h)?);
        let id = self.pin_object(obj)?;
        // SAFETY: obj is a live, unforwarded object (just pinned, so it stays that way).
        let (data, len) = unsafe { (obj.type_info().data)(obj.payload()) };
        Ok(self.heap.pins.guard(id, obj, data, len))
    }

    /// The object a pin on `obj` pins: `obj`, or the object that holds its data (a growable
    /// vector's storage).
    fn pin_target(&self, obj: ObjPtr) -> ObjPtr {
        // SAFETY: obj is a live, unforwarded object of this heap.
        match unsafe { obj.type_info() }.pin_target {
            // SAFETY: the type's own function, on a live payload of that type; the result is
            // a live object of this heap (the object holding the data).
            Some(target) => ObjPtr::from_ref(unsafe { target(obj.payload()) }).unwrap_or(obj),
            None => obj,
        }
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
            .record_event(gc_hooks::Event::PinRefused(gc_hooks::PinRefusedEvent {
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
        let obj = self.pin_target(self.resolve(h)?);
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
            .is_ok_and(|obj| self.heap.pins.count(self.pin_target(obj).addr()) > 0)
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
}
