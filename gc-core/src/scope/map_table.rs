//! The table of an identity map (`GcMap<K, V>`, see `map.rs`): its probe, its raw parts, its
//! allocation and its growth. The writes and reads that use it are in `scope/map.rs`,
//! `scope/map_copy.rs` and `scope/map_lookup.rs`.
//!
//! Invariants: a table's capacity is a power of two, at least 4; every slot is initialised
//! (empty, tombstone or full); at most seven eighths of the slots are full or tombstones, so
//! a probe always ends at an empty slot. A map's inline table (see `map.rs`) is a table like
//! any other while the map uses it.

use super::*;
use crate::inline::{VecStorage, STORAGE_HEADER};
use crate::map::{
    map_payload_size, table_in_use, GcMap, MapHeader, Slot, SlotState, MAP_INLINE_TABLE,
};

pub(super) use crate::map::MIN_TABLE_SLOTS;

/// Where a key is, or would go, in a table.
pub(super) struct Probe {
    /// The slot holding the key.
    pub(super) found: Option<usize>,
    /// The first slot an insertion of the key may take (a tombstone or the empty slot that
    /// ended the probe).
    pub(super) vacant: Option<usize>,
}

impl Probe {
    /// Neither found nor placed (a null key, or one without an identity hash).
    pub(super) const NOWHERE: Probe = Probe {
        found: None,
        vacant: None,
    };
}

/// Probes the table of `capacity` slots (a power of two) for the key with `hash`: the object
/// `key` when given, else whichever key has that hash (an identity hash belongs to one object
/// of the process, so the hash alone tells a lookup by `Identity` its key).
///
/// # Safety
/// `slots` points to `capacity` initialised slots of a live table; `capacity` is a power of two
/// and the table has at least one empty slot.
pub(super) unsafe fn probe<K: ?Sized, V>(
    slots: *const Slot<K, V>,
    capacity: usize,
    hash: u64,
    key: Option<*mut u8>,
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
                if h == hash && key.is_none_or(|key| slot.key.slot().get() == key) {
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

/// The table a live map uses, as raw parts: (map header, the object holding the slots (the
/// map itself while its table is inline, else its table object), first slot, capacity).
///
/// # Safety
/// `map` is a live `GcMap<K, V>`.
#[inline(always)]
pub(super) unsafe fn parts<K: ?Sized, V>(
    map: ObjPtr,
) -> (*mut MapHeader<K, V>, ObjPtr, *mut Slot<K, V>, usize) {
    // SAFETY: forwarded from the caller: the table in use is initialised and its length is its
    // capacity.
    unsafe {
        let (_, holder, storage) = table_in_use::<K, V>(map.payload());
        let capacity = storage.cast::<usize>().add(1).read();
        (
            map.payload().cast::<MapHeader<K, V>>(),
            holder,
            storage.add(STORAGE_HEADER).cast::<Slot<K, V>>(),
            capacity,
        )
    }
}

/// Writes the two words and the `slots` empty slots of a fresh table at `storage` (a table
/// object's payload, or a map's inline table).
///
/// # Safety
/// `storage` is valid for writes of the two words and `slots` slots, and 8-byte aligned; what
/// it held is overwritten without being dropped.
#[inline(always)]
unsafe fn write_empty_table<K: ?Sized, V>(storage: *mut u8, slots: usize) {
    // SAFETY: forwarded from the caller; an empty slot holds no reference.
    unsafe {
        storage.cast::<usize>().write(slots);
        storage.cast::<usize>().add(1).write(slots);
        let first = storage.add(STORAGE_HEADER).cast::<Slot<K, V>>();
        if slots == MIN_TABLE_SLOTS {
            // The common size, written without a loop (a constant count unrolls).
            for i in 0..MIN_TABLE_SLOTS {
                Slot::write_vacant(first.add(i), Slot::<K, V>::EMPTY_HASH);
            }
        } else {
            for i in 0..slots {
                Slot::write_vacant(first.add(i), Slot::<K, V>::EMPTY_HASH);
            }
        }
    }
}

impl<'s> Scope<'s> {
    /// A table of `slots` empty slots (every slot initialised). May collect; not rooted.
    pub(super) fn alloc_table<K: ?Sized + 'static, V: Trace>(
        &mut self,
        slots: usize,
    ) -> Result<ObjPtr, GcError> {
        let bytes = slots
            .checked_mul(std::mem::size_of::<Slot<K, V>>())
            .and_then(|b| b.checked_add(STORAGE_HEADER))
            .ok_or(GcError::SizeOverflow("map capacity"))?;
        let table = self.alloc_var(VecStorage::<Slot<K, V>>::TYPE_INFO, bytes)?;
        // SAFETY: the payload has the capacity and length words and room for `slots` slots.
        unsafe { write_empty_table::<K, V>(table.payload(), slots) };
        Ok(table)
    }

    /// A map with an inline table of [`MIN_TABLE_SLOTS`] empty slots: one object. May collect;
    /// not rooted.
    #[inline]
    pub(super) fn alloc_inline_map<K: ?Sized + 'static, V: Trace>(
        &mut self,
    ) -> Result<ObjPtr, GcError> {
        let bytes = const {
            match map_payload_size::<K, V>(MIN_TABLE_SLOTS) {
                Some(bytes) => bytes,
                None => panic!("a map slot larger than the address space"),
            }
        };
        let map = self.alloc_var(GcMap::<K, V>::TYPE_INFO, bytes)?;
        // SAFETY: the payload is a map header followed by room for the inline table's
        // `MIN_TABLE_SLOTS` slots: the header is written with a null table member (the inline
        // table is in use) and the inline table is written whole.
        unsafe {
            let payload = map.payload();
            let header = payload.cast::<MapHeader<K, V>>();
            std::ptr::addr_of_mut!((*header).table).write(Member::null());
            std::ptr::addr_of_mut!((*header).count).write(0);
            std::ptr::addr_of_mut!((*header).tombstones).write(0);
            write_empty_table::<K, V>(payload.add(MAP_INLINE_TABLE), MIN_TABLE_SLOTS);
        }
        Ok(map)
    }

    /// Moves the map's entries into a new table sized for `entries` (dropping the tombstones).
    pub(super) fn rehash<K: ?Sized + 'static, V: Trace>(
        &mut self,
        m: Handle<'_, GcMap<K, V>>,
        entries: usize,
    ) -> Result<(), GcError> {
        let slots = table_size(entries)?;
        let fresh = self.alloc_table::<K, V>(slots)?;
        // The allocation may have moved the map.
        let map = self.resolve(m)?;
        // SAFETY: both tables are live; every full slot moves once into the fresh table (a bulk
        // store-path copy of one slot over an empty one), the old table's length drops to zero
        // so its death drops nothing, and the map's member is written through the store path.
        unsafe {
            let (header, _, from, capacity) = parts::<K, V>(map);
            let (_, _, old_storage) = table_in_use::<K, V>(map.payload());
            let to = fresh.payload().add(STORAGE_HEADER).cast::<Slot<K, V>>();
            for i in 0..capacity {
                let slot = from.add(i);
                if let SlotState::Full(hash, _) = (*slot).state() {
                    let at = probe(to, slots, hash, Some((*slot).key.slot().get()))
                        .vacant
                        .expect("a fresh table has room");
                    self.heap.store_copy(fresh, to.add(at), slot, 1);
                }
            }
            // The old table (inline or not) keeps no entry: its length drops to zero.
            old_storage.cast::<usize>().add(1).write(0);
            (*header).tombstones = 0;
            self.heap
                .store_ref(map, (*header).table.slot(), fresh.to_ref());
        }
        if self.heap.recorder.has_pending() {
            self.deliver_hooks();
        }
        Ok(())
    }
}

/// The smallest power-of-two table (at least 4 slots) that holds `entries` at most seven eighths
/// full.
#[inline]
pub(super) fn table_size(entries: usize) -> Result<usize, GcError> {
    if entries <= 3 {
        // The common case (an instance's fields), without the arithmetic.
        return Ok(MIN_TABLE_SLOTS);
    }
    entries
        .checked_mul(8)
        .map(|e| e.div_ceil(7).max(MIN_TABLE_SLOTS))
        .and_then(usize::checked_next_power_of_two)
        .ok_or(GcError::SizeOverflow("map capacity"))
}
