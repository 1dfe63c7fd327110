//! Identity maps through a scope: `GcMap<K, V>` (see `map.rs`).

use super::*;
use crate::init::Resolver;
use crate::inline::{VecStorage, STORAGE_HEADER};
use crate::map::{GcMap, MapHeader, Slot, SlotState};

/// Where a key is, or would go, in a table.
struct Probe {
    /// The slot holding the key.
    found: Option<usize>,
    /// The first slot an insertion of the key may take (a tombstone or the empty slot that
    /// ended the probe).
    vacant: Option<usize>,
}

/// Probes the table of `capacity` slots (a power of two) for `key` with `hash`.
///
/// # Safety
/// `slots` points to `capacity` initialised slots of a live table; `capacity` is a power of two
/// and the table has at least one empty slot.
unsafe fn probe<K: ?Sized, V>(
    slots: *const Slot<K, V>,
    capacity: usize,
    hash: u64,
    key: *mut u8,
) -> Probe {
    let mask = capacity - 1;
    let mut i = hash as usize & mask;
    let mut vacant = None;
    loop {
        // SAFETY: i < capacity, and every slot is initialised.
        let slot = unsafe { &*slots.add(i) };
        match slot.state() {
            SlotState::Empty => {
                return Probe {
                    found: None,
                    vacant: vacant.or(Some(i)),
                }
            }
            SlotState::Tomb => {
                vacant.get_or_insert(i);
            }
            SlotState::Full(h, _) => {
                if h == hash && slot.key.slot().get() == key {
                    return Probe {
                        found: Some(i),
                        vacant,
                    };
                }
            }
        }
        i = (i + 1) & mask;
    }
}

/// The table of a live map, as raw parts: (map payload, table object, first slot, capacity).
///
/// # Safety
/// `map` is a live `GcMap<K, V>`.
unsafe fn parts<K: ?Sized, V>(
    map: ObjPtr,
) -> (*mut MapHeader<K, V>, ObjPtr, *mut Slot<K, V>, usize) {
    // SAFETY: forwarded from the caller: the header's table member refers to a live table
    // whose length is its capacity.
    unsafe {
        let header = map.payload().cast::<MapHeader<K, V>>();
        let table = ObjPtr::new((*header).table.slot().get()).expect("a map always has a table");
        let payload = table.payload();
        let capacity = payload.cast::<usize>().add(1).read();
        (
            header,
            table,
            payload.add(STORAGE_HEADER).cast::<Slot<K, V>>(),
            capacity,
        )
    }
}

impl<'s> Scope<'s> {
    /// Allocates an empty identity map with room for about `capacity` entries. See [`GcMap`].
    pub fn alloc_map<K: ?Sized + 'static, V: Trace>(
        &mut self,
        capacity: usize,
    ) -> Result<Handle<'s, GcMap<K, V>>, GcError> {
        let slots = table_size(capacity)?;
        self.try_escape(|s| {
            let table = s.alloc_table::<K, V>(slots)?;
            let table: Handle<'_, VecStorage<Slot<K, V>>> = s.push(table.as_ptr());
            let size = const { crate::object::fixed_object_size::<MapHeader<K, V>>() };
            let obj = match s.heap.alloc_object(GcMap::<K, V>::TYPE_INFO, size, false) {
                Ok(obj) => obj,
                Err(e) => return s.deliver_then(Err(e)),
            };
            let table = s.resolve(table)?; // it may have moved
                                           // SAFETY: obj is a fresh map: its payload is a header, written now with a live
                                           // table of this heap; the barrier runs if it was born old.
            unsafe {
                obj.payload().cast::<MapHeader<K, V>>().write(MapHeader {
                    table: Member::from_ptr(table.as_ptr()),
                    count: 0,
                    tombstones: 0,
                });
                s.heap.after_init(obj);
            }
            Ok(s.finish_alloc(obj))
        })
    }

    /// A table of `slots` empty slots (every slot initialised). May collect; not rooted.
    fn alloc_table<K: ?Sized + 'static, V: Trace>(
        &mut self,
        slots: usize,
    ) -> Result<ObjPtr, GcError> {
        let bytes = slots
            .checked_mul(std::mem::size_of::<Slot<K, V>>())
            .and_then(|b| b.checked_add(STORAGE_HEADER))
            .ok_or(GcError::SizeOverflow("map capacity"))?;
        let table = self.alloc_var(VecStorage::<Slot<K, V>>::TYPE_INFO, bytes)?;
        // SAFETY: the payload has the capacity and length words and room for `slots` slots,
        // all written here (an empty slot holds no reference).
        unsafe {
            let payload = table.payload();
            payload.cast::<usize>().write(slots);
            payload.cast::<usize>().add(1).write(slots);
            let first = payload.add(STORAGE_HEADER).cast::<Slot<K, V>>();
            for i in 0..slots {
                first.add(i).write(Slot::vacant(Slot::<K, V>::EMPTY_HASH));
            }
        }
        Ok(table)
    }

    /// The value stored under `key`, borrowed from the scope; `None` when the key is absent.
    ///
    /// # Panics
    /// When a handle belongs to another heap; [`Scope::try_map_get`] returns the error instead.
    pub fn map_get<K: ?Sized + 'static, V: Trace>(
        &self,
        m: Handle<'_, GcMap<K, V>>,
        key: Handle<'_, K>,
    ) -> Option<&V> {
        panic_on(self.try_map_get(m, key))
    }

    /// [`Scope::map_get`], returning a foreign handle as an error.
    pub fn try_map_get<K: ?Sized + 'static, V: Trace>(
        &self,
        m: Handle<'_, GcMap<K, V>>,
        key: Handle<'_, K>,
    ) -> Result<Option<&V>, GcError> {
        let map = self.resolve(m)?;
        let key = self.resolve(key)?;
        // SAFETY: key is a live object of this heap. A key without an identity hash was never
        // inserted into any map.
        let Some(hash) = (unsafe { self.heap.identity.lookup(key) }) else {
            return Ok(None);
        };
        // SAFETY: map is a live GcMap<K, V> whose table has an empty slot; the reference is
        // tied to &self.
        unsafe {
            let (_, _, slots, capacity) = parts::<K, V>(map);
            Ok(probe(slots, capacity, hash, key.as_ptr())
                .found
                .and_then(|i| (*slots.add(i)).value.as_ref()))
        }
    }

    /// The value stored under the key a member refers to, both reached through members (no
    /// handle needed: an interpreter's instance fields and its constant names).
    pub fn map_lookup<'a, K: ?Sized + 'static, V: Trace>(
        &'a self,
        map: &'a Member<GcMap<K, V>>,
        key: &Member<K>,
    ) -> Option<&'a V> {
        let map = ObjPtr::new(map.slot().get())?;
        let key = ObjPtr::new(key.slot().get())?;
        // SAFETY: non-null members refer to live objects (this heap's or, when misused, another
        // heap's, which is only read here); a key without an identity hash is in no map.
        unsafe {
            let hash = self.heap.identity.lookup(key)?;
            let (_, _, slots, capacity) = parts::<K, V>(map);
            probe(slots, capacity, hash, key.as_ptr())
                .found
                .and_then(|i| (*slots.add(i)).value.as_ref())
        }
    }

    /// [`Scope::map_insert`] with a copy of the value `find` returns (from any object of this
    /// heap, or a value of the program's own) instead of a mirror; nothing changes when it
    /// returns `None`. The map grows first if it must, so `find` runs after any collection. For
    /// value types without drop glue.
    ///
    /// Errors: a foreign handle, [`GcError::ForeignMember`] when the value refers to another
    /// heap's objects, [`GcError::OutOfMemory`].
    pub fn map_insert_copy<K: ?Sized + 'static, V: Trace>(
        &mut self,
        m: Handle<'_, GcMap<K, V>>,
        key: Handle<'_, K>,
        find: impl for<'a> FnOnce(&'a Scope<'s>) -> Option<&'a V>,
    ) -> Result<bool, GcError> {
        let hash = self.prepare_insert(m, key)?;
        let Some(value) = self.copy_value(find)? else {
            return Ok(false);
        };
        let (map, key_ptr) = (self.resolve(m)?, self.resolve(key)?.as_ptr());
        // SAFETY: as in `map_insert`, with a checked copy for the value.
        let (replaced, old) = unsafe { self.put::<K, V>(map, hash, key_ptr, value) };
        drop(old);
        Ok(replaced)
    }

    /// Whether `key` is in the map.
    ///
    /// # Panics
    /// When a handle belongs to another heap.
    pub fn map_contains<K: ?Sized + 'static, V: Trace>(
        &self,
        m: Handle<'_, GcMap<K, V>>,
        key: Handle<'_, K>,
    ) -> bool {
        self.map_get(m, key).is_some()
    }

    /// The number of entries.
    ///
    /// # Panics
    /// When `m` belongs to another heap.
    pub fn map_len<K: ?Sized + 'static, V: Trace>(&self, m: Handle<'_, GcMap<K, V>>) -> usize {
        self.get(m).len()
    }

    /// Stores the value built from `value` under `key` (replacing, and dropping, any value the
    /// key had); returns whether the key was there already. The key gets an identity hash if
    /// it had none; the map grows inside the heap when needed (which may collect).
    ///
    /// Errors: [`GcError::ForeignHandle`] (a handle or the mirror of another heap),
    /// [`GcError::OutOfMemory`]; nothing changes then.
    pub fn map_insert<K: ?Sized + 'static, V: Trace>(
        &mut self,
        m: Handle<'_, GcMap<K, V>>,
        key: Handle<'_, K>,
        value: V::Init<'_>,
    ) -> Result<bool, GcError> {
        V::check_heap(&value, self.heap.id)?;
        let hash = self.prepare_insert(m, key)?;
        let (map, key_ptr) = (self.resolve(m)?, self.resolve(key)?.as_ptr());
        let resolver = Resolver {
            handles: &self.heap.mutator().handles,
        };
        // SAFETY: the mirror was checked and is resolved after any allocation; `put` stores it
        // at once.
        let value = unsafe { V::build(value, &resolver) };
        // SAFETY: the map and key are live objects of this heap and the table has room.
        let (replaced, old) = unsafe { self.put::<K, V>(map, hash, key_ptr, value) };
        drop(old);
        Ok(replaced)
    }

    /// Checks the handles, gives the key an identity hash if it has none and grows the table if
    /// one more entry would overfill it (which may collect); returns the key's hash.
    fn prepare_insert<K: ?Sized + 'static, V: Trace>(
        &mut self,
        m: Handle<'_, GcMap<K, V>>,
        key: Handle<'_, K>,
    ) -> Result<u64, GcError> {
        let map = self.resolve(m)?;
        let key_obj = self.resolve(key)?;
        let young = self.heap.nursery.contains(key_obj.addr());
        // SAFETY: key_obj is a live, unforwarded object of this heap.
        let hash = unsafe { self.heap.identity.hash(key_obj, young) };
        // SAFETY: map is a live GcMap<K, V>.
        let (count, tombstones, capacity) = unsafe {
            let (header, _, _, capacity) = parts::<K, V>(map);
            ((*header).count, (*header).tombstones, capacity)
        };
        if (count + tombstones + 1) * 8 > capacity * 7 {
            self.rehash::<K, V>(m, count + 1)?;
        }
        Ok(hash)
    }

    /// Stores `value` under the key at `key_ptr` with `hash`; returns whether the key was there
    /// and the slot it replaced, for the caller to drop once the table is consistent.
    ///
    /// # Safety
    /// `map` is a live `GcMap<K, V>` of this heap whose table has room for one more entry,
    /// `key_ptr` a live object of this heap whose identity hash is `hash`, and `value`'s members
    /// are live objects of this heap; nothing may collect between resolving them and this call.
    unsafe fn put<K: ?Sized + 'static, V: Trace>(
        &mut self,
        map: ObjPtr,
        hash: u64,
        key_ptr: *mut u8,
        value: V,
    ) -> (bool, Slot<K, V>) {
        // SAFETY: forwarded from the caller; the slot written lies in the table, through the
        // store path.
        unsafe {
            let (header, table, slots, capacity) = parts::<K, V>(map);
            let probe = probe(slots, capacity, hash, key_ptr);
            let (index, replaced) = match probe.found {
                Some(i) => (i, true),
                None => (probe.vacant.expect("a table keeps an empty slot"), false),
            };
            let was_tomb = matches!((*slots.add(index)).state(), SlotState::Tomb);
            let slot = Slot {
                hash,
                key: Member::from_ptr(key_ptr),
                value: Some(value),
            };
            let old = self.heap.store_value(table, slots.add(index), slot);
            if !replaced {
                (*header).count += 1;
                if was_tomb {
                    (*header).tombstones -= 1;
                }
            }
            (replaced, old)
        }
    }

    /// Removes `key` and drops its value; returns whether it was there.
    ///
    /// # Panics
    /// When a handle belongs to another heap.
    pub fn map_remove<K: ?Sized + 'static, V: Trace>(
        &mut self,
        m: Handle<'_, GcMap<K, V>>,
        key: Handle<'_, K>,
    ) -> bool {
        let map = panic_on(self.resolve(m));
        let key = panic_on(self.resolve(key));
        // SAFETY: key is a live object of this heap.
        let Some(hash) = (unsafe { self.heap.identity.lookup(key) }) else {
            return false;
        };
        // SAFETY: the map is live; the removed entry becomes a tombstone through the store
        // path and is dropped once the table is consistent.
        let old = unsafe {
            let (header, table, slots, capacity) = parts::<K, V>(map);
            let Some(index) = probe(slots, capacity, hash, key.as_ptr()).found else {
                return false;
            };
            let tomb = Slot::vacant(Slot::<K, V>::TOMB_HASH);
            let old = self.heap.store_value(table, slots.add(index), tomb);
            (*header).count -= 1;
            (*header).tombstones += 1;
            old
        };
        drop(old);
        true
    }

    /// Moves the map's entries into a new table sized for `entries` (dropping the tombstones).
    fn rehash<K: ?Sized + 'static, V: Trace>(
        &mut self,
        m: Handle<'_, GcMap<K, V>>,
        entries: usize,
    ) -> Result<(), GcError> {
        let slots = table_size(entries)?;
        let fresh = self.alloc_table::<K, V>(slots)?;
        let map = self.resolve(m)?; // the allocation may have moved it
                                    // SAFETY: both tables are live; every full slot moves once into the fresh table (a
                                    // bulk store-path copy of one slot over an empty one), the old table's length drops to
                                    // zero so its death drops nothing, and the map's member is written through the store
                                    // path.
        unsafe {
            let (header, old, from, capacity) = parts::<K, V>(map);
            let to = fresh.payload().add(STORAGE_HEADER).cast::<Slot<K, V>>();
            for i in 0..capacity {
                let slot = from.add(i);
                if let SlotState::Full(hash, _) = (*slot).state() {
                    let at = probe(to, slots, hash, (*slot).key.slot().get())
                        .vacant
                        .expect("a fresh table has room");
                    self.heap.store_copy(fresh, to.add(at), slot, 1);
                }
            }
            old.payload().cast::<usize>().add(1).write(0);
            (*header).tombstones = 0;
            self.heap
                .store_ref(map, (*header).table.slot(), fresh.as_ptr());
        }
        if self.heap.recorder.has_pending() {
            self.deliver_hooks();
        }
        Ok(())
    }
}

/// The smallest power-of-two table (at least 8 slots) that holds `entries` at most seven eighths
/// full.
fn table_size(entries: usize) -> Result<usize, GcError> {
    entries
        .checked_mul(8)
        .map(|e| e.div_ceil(7).max(8))
        .and_then(usize::checked_next_power_of_two)
        .ok_or(GcError::SizeOverflow("map capacity"))
}
