//! Reading identity maps through a scope: lookups by key (with an optional inline-cache hint),
//! membership and length. The table's layout and its probe are in `scope/map_table.rs`.

use super::map_table::{parts, probe, Probe};
use super::*;
use crate::map::{GcMap, MapHint, MapKey, MapView, Slot};

impl<'s> Scope<'s> {
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
            Ok(probe(slots, capacity, hash, Some(key.to_ref()))
                .found
                .and_then(|i| (*slots.add(i)).value.as_ref()))
        }
    }

    /// The value stored under the key a member refers to, in the map `map` (a view from
    /// [`Scope::get`] or [`Scope::deref`]): no handle needed, so an interpreter looks up an
    /// instance's fields or its globals by a name held in its constants.
    ///
    /// `hint` makes repeated lookups cheap: it remembers the slot where the key was found, and
    /// when the next lookup with the same hint finds that key in that slot (same map, or a map
    /// of the same layout) it skips hashing altogether, like an interpreter's inline cache. A
    /// stale or foreign hint only costs a full lookup.
    ///
    /// ```
    /// use gc_core::{Config, GcBytes, GcMap, Heap, MapHint, Member, Trace};
    ///
    /// #[derive(Trace)]
    /// struct Instance { fields: Member<GcMap<GcBytes, f64>>, name: Member<GcBytes> }
    ///
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// heap.scope(|s| {
    ///     let fields = s.alloc_map::<GcBytes, f64>(0).unwrap();
    ///     let name = s.alloc_bytes(b"x").unwrap();
    ///     s.map_insert(fields, name, 1.5).unwrap();
    ///     let obj = s.alloc_init(InstanceInit { fields: Some(fields), name: Some(name) }).unwrap();
    ///     let hint = MapHint::new(); // one per lookup site
    ///     for _ in 0..3 {
    ///         s.collect_minor(); // everything moves; the lookup still works
    ///         let o = s.get(obj);
    ///         let found = s.map_lookup(s.deref(&o.fields).unwrap(), &o.name, Some(&hint));
    ///         assert_eq!(found, Some(&1.5));
    ///     }
    /// });
    /// ```
    ///
    /// The key is a member or an [`Identity`](crate::Identity) ([`MapKey`]): by identity, no
    /// object is read to find the key (see the example there).
    #[inline]
    pub fn map_lookup<'a, 'k, K: ?Sized + 'static, V: Trace>(
        &'a self,
        map: MapView<'a, K, V>,
        key: impl Into<MapKey<'k, K>>,
        hint: Option<&MapHint>,
    ) -> Option<&'a V> {
        let slots = map.slots();
        let i = match key.into() {
            MapKey::Member(key) => {
                let key = ObjPtr::from_ref(key.slot().get())?;
                // The hint's slot, when it holds the key, is full: its value is the answer (no
                // second look at the slot's state).
                if let Some(slot) = hint.and_then(MapHint::get).and_then(|i| slots.get(i)) {
                    if slot.key.slot().get() == key.to_ref() {
                        if let Some(value) = &slot.value {
                            return Some(value);
                        }
                    }
                }
                self.look_up_slot(slots, key, hint)?
            }
            MapKey::Identity(key) => {
                // A full slot with the identity's hash holds its object: no two objects share
                // one (not even two heaps' objects).
                if let Some(slot) = hint.and_then(MapHint::get).and_then(|i| slots.get(i)) {
                    if slot.hash == key.hash() {
                        if let Some(value) = &slot.value {
                            return Some(value);
                        }
                    }
                }
                look_up_hash(slots, key.hash(), hint)?
            }
        };
        // A found slot holds the key, so it is full (a removal leaves no value).
        slots.get(i)?.value.as_ref()
    }

    /// The full slot holding `key`, trying `hint` first (and updating it on a miss that
    /// finds the key): what [`Scope::map_lookup`] does, giving the slot instead of its value,
    /// for the stores that replace a value in place.
    #[inline(always)]
    pub(super) fn slot_of_key<K: ?Sized + 'static, V: Trace>(
        &self,
        slots: &[Slot<K, V>],
        key: MapKey<'_, K>,
        hint: Option<&MapHint>,
    ) -> Option<usize> {
        let hinted = hint.and_then(MapHint::get);
        match key {
            MapKey::Member(key) => {
                let key = ObjPtr::from_ref(key.slot().get())?;
                if let Some(i) = hinted.filter(|&i| slots.get(i).is_some_and(|s| holds(s, key))) {
                    return Some(i);
                }
                self.look_up_slot(slots, key, hint)
            }
            MapKey::Identity(key) => {
                let hash = key.hash();
                if let Some(i) =
                    hinted.filter(|&i| slots.get(i).is_some_and(|s| holds_hash(s, hash)))
                {
                    return Some(i);
                }
                look_up_hash(slots, hash, hint)
            }
        }
    }

    /// [`Scope::map_lookup`] past the hint: the slot of `key`, updating `hint` (a call of its
    /// own, like [`Scope::probe_slot`]). A small table (an instance's fields, a small class's
    /// methods) is scanned for the key's address instead of probed: a few comparisons in one or
    /// two cache lines, and a miss (an interpreter's `invoke` looks for a field of the method's
    /// name first) costs no identity hash, which the probe needs. It takes the table's slots,
    /// not the map's view, so that a lookup whose hint holds never builds the rest of the view
    /// (the object holding the table, which only stores need): when a call took the view, the
    /// view was made whole before the hint was tried.
    #[inline(never)]
    fn look_up_slot<K: ?Sized + 'static, V: Trace>(
        &self,
        slots: &[Slot<K, V>],
        key: ObjPtr,
        hint: Option<&MapHint>,
    ) -> Option<usize> {
        if slots.len() > SCANNED_TABLE_SLOTS {
            return self.probe_slot(slots, key, hint).0.found;
        }
        // A key is in at most one full slot: an identity map compares addresses.
        let i = slots.iter().position(|slot| holds(slot, key))?;
        if let Some(hint) = hint {
            hint.set(i);
        }
        Some(i)
    }

    /// Where `key` is in `map` (trying `hint` first, and updating it), or where it would go,
    /// and the key's identity hash when it was needed and the key has one. The probe's
    /// `vacant` is known only when the probe ran (a hint that holds finds the key without it).
    ///
    /// The hint's test is inlined into every caller (a bytecode site whose hint holds costs a
    /// load and two comparisons); the hash probe is a call of its own, so that the callers do
    /// not pay its register saves on every hit (they did: two thirds of a hit's instructions).
    #[inline(always)]
    pub(super) fn find_slot<K: ?Sized + 'static, V: Trace>(
        &self,
        map: &MapView<'_, K, V>,
        key: &Member<K>,
        hint: Option<&MapHint>,
    ) -> (Probe, Option<u64>) {
        let Some(key) = ObjPtr::from_ref(key.slot().get()) else {
            return (Probe::NOWHERE, None);
        };
        if let Some(i) = hinted(map, key, hint) {
            let at = Probe {
                found: Some(i),
                vacant: None,
            };
            return (at, None);
        }
        self.probe_slot(map.slots(), key, hint)
    }

    /// [`Scope::find_slot`] past the hint: the key's identity hash, then the probe.
    #[inline(never)]
    fn probe_slot<K: ?Sized + 'static, V: Trace>(
        &self,
        slots: &[Slot<K, V>],
        key: ObjPtr,
        hint: Option<&MapHint>,
    ) -> (Probe, Option<u64>) {
        // SAFETY: a non-null member refers to a live object (this heap's or, when misused,
        // another heap's, whose header is only read); a key without an identity hash is in no
        // map. The slots are a live table with an empty slot.
        let Some(hash) = (unsafe { self.heap.identity.lookup(key) }) else {
            return (Probe::NOWHERE, None);
        };
        // SAFETY: as above.
        let at = unsafe { probe(slots.as_ptr(), slots.len(), hash, Some(key.to_ref())) };
        if let (Some(i), Some(hint)) = (at.found, hint) {
            hint.set(i);
        }
        (at, Some(hash))
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
}

/// Tables of at most this many slots are scanned rather than probed by lookups
/// ([`Scope::look_up_slot`]): the table [`Scope::alloc_map`] makes for up to 3 entries has 4, the
/// next size 8.
const SCANNED_TABLE_SLOTS: usize = 8;

/// The slot `hint` remembers, when it still holds `key`.
#[inline(always)]
fn hinted<K: ?Sized, V>(
    map: &MapView<'_, K, V>,
    key: ObjPtr,
    hint: Option<&MapHint>,
) -> Option<usize> {
    let i = hint.and_then(MapHint::get)?;
    holds(map.slots().get(i)?, key).then_some(i)
}

/// Whether `slot` is full with `key` (the slots a removal leaves keep no value).
#[inline(always)]
fn holds<K: ?Sized, V>(slot: &crate::map::Slot<K, V>, key: ObjPtr) -> bool {
    slot.key.slot().get() == key.to_ref() && slot.value.is_some()
}

/// [`Scope::map_lookup`] by identity past the hint: the full slot with `hash`, updating `hint`.
/// A small table is scanned, a larger one probed (a full slot's hash is its key's identity
/// hash, unique in the process, so the hash alone tells the key).
#[inline(never)]
fn look_up_hash<K: ?Sized, V>(
    slots: &[Slot<K, V>],
    hash: u64,
    hint: Option<&MapHint>,
) -> Option<usize> {
    let i = if slots.len() <= SCANNED_TABLE_SLOTS {
        slots.iter().position(|slot| holds_hash(slot, hash))?
    } else {
        // SAFETY: a view's slots are a live table's: every slot initialised, their number a
        // power of two, one of them at least empty (the table's invariants).
        unsafe { probe(slots.as_ptr(), slots.len(), hash, None) }.found?
    };
    if let Some(hint) = hint {
        hint.set(i);
    }
    Some(i)
}

/// Whether `slot` is full with the key whose identity hash is `hash`.
#[inline(always)]
fn holds_hash<K: ?Sized, V>(slot: &Slot<K, V>, hash: u64) -> bool {
    slot.hash == hash && slot.value.is_some()
}
