//! Identity maps through a scope: `GcMap<K, V>` (see `map.rs`): making one, inserting (a
//! mirror or a copy) and removing. The writes of a value copied from anywhere, which an
//! interpreter's assignments use, are in `map_copy.rs`; the reads in `map_lookup.rs`; the table
//! (its probe, allocation and growth) in `map_table.rs`.

use super::map_table::{parts, probe, table_size, MIN_TABLE_SLOTS};
use super::*;
use crate::init::Resolver;
use crate::inline::VecStorage;
use crate::map::{GcMap, MapHeader, Slot, SlotState};

impl<'s> Scope<'s> {
    /// Allocates an empty identity map with room for about `capacity` entries. See [`GcMap`]:
    /// a map for at most three entries is one object, its table inline.
    ///
    /// The small map (capacity 3 or less: an instance's fields) is allocated inline in the
    /// caller, as `alloc_init` is; a larger one takes a call.
    #[inline]
    pub fn alloc_map<K: ?Sized + 'static, V: Trace>(
        &mut self,
        capacity: usize,
    ) -> Result<Handle<'s, GcMap<K, V>>, GcError> {
        if table_size(capacity) == Ok(MIN_TABLE_SLOTS) {
            // A fresh map refers to nothing: no barrier to run, even when born old.
            let obj = self.alloc_inline_map::<K, V>()?;
            return Ok(self.finish_alloc(obj));
        }
        self.alloc_large_map(capacity)
    }

    /// [`Scope::alloc_map`] for more than three entries: the map and a table object of its
    /// own, with no inline slots.
    #[inline(never)]
    fn alloc_large_map<K: ?Sized + 'static, V: Trace>(
        &mut self,
        capacity: usize,
    ) -> Result<Handle<'s, GcMap<K, V>>, GcError> {
        let slots = table_size(capacity)?;
        debug_assert!(
            slots > MIN_TABLE_SLOTS,
            "a map for 4 entries or more has 8 slots or more"
        );
        let size = const {
            match crate::map::map_payload_size::<K, V>(0) {
                Some(payload) => match crate::object::object_size(payload) {
                    Some(size) => size,
                    None => panic!("a map header larger than the address space"),
                },
                None => panic!("a map header larger than the address space"),
            }
        };
        let table = self.alloc_table::<K, V>(slots)?;
        // The header goes in the nursery beside the table when there is room (nothing can
        // collect then); otherwise the table is rooted while the header is allocated.
        let young = match GcMap::<K, V>::TYPE_INFO.drop {
            None => self.heap.try_alloc_young(GcMap::<K, V>::TYPE_INFO, size),
            Some(_) => None,
        };
        let (obj, table) = match young {
            Some(obj) => (obj, table),
            None => self.scope(|s| {
                let table: Handle<'_, VecStorage<Slot<K, V>>> = s.push(table);
                let drops = GcMap::<K, V>::TYPE_INFO.drop.is_some();
                match s.heap.alloc_object(GcMap::<K, V>::TYPE_INFO, size, drops) {
                    Ok(obj) => Ok((obj, s.resolve(table)?)), // the table may have moved
                    Err(e) => s.deliver_then(Err(e)),
                }
            })?,
        };
        // SAFETY: obj is a fresh map without inline slots: its payload is a header, written
        // now with a live table of this heap (nothing allocated since it was resolved); the
        // barrier runs if it was born old.
        unsafe {
            obj.payload().cast::<MapHeader<K, V>>().write(MapHeader {
                table: Member::from_ptr(table.to_ref()),
                count: 0,
                tombstones: 0,
                inline_capacity: 0,
                inline_len: 0,
            });
            self.heap.after_init(obj);
        }
        Ok(self.finish_alloc(obj))
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
        let (map, key_ptr) = (self.resolve(m)?, self.resolve(key)?.to_ref());
        // SAFETY: as in `map_insert`, with a checked copy for the value.
        let (replaced, old) = unsafe { self.put::<K, V>(map, hash, key_ptr, value) };
        drop(old);
        Ok(replaced)
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
        self.check_init::<V>(&value)?;
        let hash = self.prepare_insert(m, key)?;
        let (map, key_ptr) = (self.resolve(m)?, self.resolve(key)?.to_ref());
        let resolver = Resolver::new();
        // SAFETY: the mirror was checked and is resolved after any allocation; `put` stores it
        // at once.
        let value = unsafe { V::build(value, &resolver) };
        // SAFETY: the map and key are live objects of this heap and the table has room.
        let (replaced, old) = unsafe { self.put::<K, V>(map, hash, key_ptr, value) };
        drop(old);
        Ok(replaced)
    }

    /// Checks the handles, gives the key an identity hash if it has none and grows the table if
    /// one more entry would overfill it and the key is not in it already (which may collect);
    /// returns the key's hash.
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
        // SAFETY: map is a live GcMap<K, V>; its table has an empty slot.
        let (count, needs_room) = unsafe {
            let (header, _, slots, capacity) = parts::<K, V>(map);
            let (count, tombstones) = ((*header).count, (*header).tombstones);
            // A key already there is replaced in place: the table grows only for a new one
            // (a small map keeps its inline table when an entry is written again).
            let full = (count + tombstones + 1) * 8 > capacity * 7;
            let present = || {
                probe(slots, capacity, hash, Some(key_obj.to_ref()))
                    .found
                    .is_some()
            };
            (count, full && !present())
        };
        if needs_room {
            self.rehash::<K, V>(m, count + 1)?;
        }
        Ok(hash)
    }

    /// Stores `value` under the key at `key_ptr` with `hash`; returns whether the key was there
    /// and the slot it replaced (for the caller to drop once the table is consistent).
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
        // SAFETY: forwarded from the caller; the probe gives the key's slot or where it goes.
        unsafe {
            let (_, _, slots, capacity) = parts::<K, V>(map);
            let probe = probe(slots, capacity, hash, Some(key_ptr));
            let (index, replaced) = match probe.found {
                Some(i) => (i, true),
                None => (probe.vacant.expect("a table keeps an empty slot"), false),
            };
            let old = self.put_at::<K, V>(map, index, replaced, hash, key_ptr, value);
            (replaced, old)
        }
    }

    /// Stores `value` under the key at `key_ptr` in slot `index` of the map's table: the key's
    /// own slot when `replaced`, else the vacant slot a probe for it found. Returns the slot
    /// it replaced (for the caller to drop once the table is consistent).
    ///
    /// # Safety
    /// As for [`Scope::put`], with `index` found by a probe of this table for this key, and
    /// nothing written into the table since.
    pub(super) unsafe fn put_at<K: ?Sized + 'static, V: Trace>(
        &mut self,
        map: ObjPtr,
        index: usize,
        replaced: bool,
        hash: u64,
        key_ptr: *mut u8,
        value: V,
    ) -> Slot<K, V> {
        // SAFETY: forwarded from the caller; the slot written lies in the table, through the
        // store path.
        unsafe {
            let (header, table, slots, _) = parts::<K, V>(map);
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
            old
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
            let Some(index) = probe(slots, capacity, hash, Some(key.to_ref())).found else {
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
}
