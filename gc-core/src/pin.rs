//! Pinning: keeping an object in place while C code holds a raw pointer to it.
//!
//! `Scope::pin` returns a [`Pinned`] guard. While the guard lives, its object is a **root** (it
//! cannot die) and it **does not move**: a minor collection leaves a pinned nursery object where
//! it is, traces it and updates its outgoing references, and the allocator later skips over it.
//! The pin ends when the guard is dropped (on any thread: a guard is `Send`, so it can travel
//! with the pointer it hands to C) or consumed by `Scope::unpin`. Every type can be pinned,
//! including objects that hold references (beyond PyPy, which refuses them): their outgoing
//! references are traced like any root's, old objects that point to them stay in the
//! remembered set, and the major collection's marker traces them in place.
//!
//! A dropped guard cannot reach the heap (the heap is borrowed by whoever is using it), so it
//! pushes its pin id onto a small per-heap release queue; the heap drains the queue before
//! every pin operation and collection, after a nursery's worth of allocation around a nursery
//! full of pinned objects, and on `Scope::release_dropped_pins`. Until then a statistics
//! snapshot still counts such a pin. Explicit `unpin` releases at once.
//!
//! Counting: `MAX_PINNED` bounds the number of *nursery* objects pinned at once (an object
//! pinned twice counts once); pinned old and large objects do not count. `MAX_PINNED=0`
//! refuses every pin. Counts are exact: the per-object count drops with every released pin,
//! and an object can die only after its last pin ended.
//!
//! Invariants (checked by the verifier):
//! - an object carries `PINNED` exactly when `counts` holds it with a positive count, and
//!   `counts[obj]` is the number of active slots that refer to it;
//! - `young_pinned` is the number of nursery objects in `counts`, at most `MAX_PINNED` (it can
//!   only exceed it if the limit was lowered, which the API does not allow);
//! - an active slot's object is live and unforwarded; a pinned nursery object is never
//!   forwarded, copied or overwritten (the nursery's gaps exclude it).

use crate::addr_map::AddrMap;
use std::sync::{Arc, Mutex};

use crate::object::{HeaderFlags, ObjPtr};

/// Identifies one pin (for the raw layer: `Scope::pin_raw` / `Scope::unpin_raw`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct PinId {
    index: u32,
    generation: u32,
    heap: u32,
}

/// Why a pin was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    Limit(usize),
    Disabled,
}

/// Pins released by guards, waiting for the heap's thread.
#[derive(Debug, Default)]
pub(crate) struct ReleaseQueue {
    released: Mutex<Vec<PinId>>,
}

impl ReleaseQueue {
    fn push(&self, id: PinId) {
        // A poisoned lock only means another releasing thread panicked mid-push; the vector
        // itself is still sound, so keep going.
        self.released
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(id);
    }

    fn take(&self) -> Vec<PinId> {
        std::mem::take(&mut *self.released.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// A pin on a heap object: while it lives the object stays alive and in place, and
/// [`Pinned::as_ptr`] stays valid (as long as the heap itself lives).
///
/// Dropping the guard ends the pin; it may be dropped on another thread.
#[derive(Debug)]
pub struct Pinned {
    id: PinId,
    data: *mut u8,
    len: usize,
    object: crate::roots::RawGc,
    queue: Arc<ReleaseQueue>,
    consumed: bool,
}

// SAFETY: the guard holds an address (dereferencing it is the caller's unsafe business) and an
// Arc to a Mutex-protected queue, which any thread may push to.
unsafe impl Send for Pinned {}
// SAFETY: shared access only reads the address fields.
unsafe impl Sync for Pinned {}

impl Pinned {
    /// The object's data: the bytes of a byte string, the elements of an array, or the value
    /// of any other type. Stable while the guard and the heap live.
    pub fn as_ptr(&self) -> *mut u8 {
        self.data
    }

    /// Length in bytes of the data behind [`Pinned::as_ptr`].
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the data is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The pin's id.
    pub fn id(&self) -> PinId {
        self.id
    }

    /// The pinned object, for the raw layer (`Scope::from_raw`): valid while the guard lives
    /// (a pinned object neither moves nor dies); after the pin ends, only until the heap's next
    /// collection, unless a root provider reports it (see [`RootProvider`](crate::RootProvider)).
    pub fn object(&self) -> crate::roots::RawGc {
        self.object
    }

    /// Marks the guard as released by `Scope::unpin` (so dropping it does nothing more). Only
    /// after the release succeeded: a guard whose release was refused must still end its pin
    /// when dropped.
    pub(crate) fn consume(mut self) {
        self.consumed = true;
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        if !self.consumed {
            self.queue.push(self.id);
        }
    }
}

struct Slot {
    obj: *mut u8,
    generation: u32,
    active: bool,
}

/// Pinning statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PinStats {
    /// Nursery objects pinned now.
    pub pinned_young: usize,
    /// Objects (young or old) pinned now.
    pub pinned_objects: usize,
    /// Successful pin operations so far.
    pub pins: u64,
    /// Pin requests refused because `MAX_PINNED` nursery objects were pinned.
    pub refused_limit: u64,
    /// Pin requests refused because pinning is disabled (`MAX_PINNED=0`).
    pub refused_disabled: u64,
    /// Nursery bytes lost around pinned objects at the last minor collection: the pinned
    /// objects themselves plus the gaps too small to allocate in.
    pub fragmentation_bytes: usize,
    /// `Scope::with_nonmoving_buffer` calls that handed the bytes over in place (the object
    /// never moves, or was pinned already).
    pub ffi_in_place: u64,
    /// `Scope::with_nonmoving_buffer` calls that pinned a young object for the call.
    pub ffi_pinned: u64,
    /// `Scope::with_nonmoving_buffer` calls that copied the bytes (the pin was refused).
    pub ffi_copied: u64,
}

/// The heap's pins.
pub(crate) struct PinTable {
    slots: Vec<Slot>,
    free: Vec<u32>,
    counts: AddrMap<u32>,
    young_pinned: usize,
    /// Nursery objects whose last pin ended, ever: a change tells the allocator that a minor
    /// collection would leave different gaps.
    young_releases: u64,
    queue: Arc<ReleaseQueue>,
    heap: u32,
    pub(crate) stats: PinStats,
}

impl PinTable {
    pub(crate) fn new(heap: u32) -> PinTable {
        PinTable {
            slots: Vec::new(),
            free: Vec::new(),
            counts: AddrMap::default(),
            young_pinned: 0,
            young_releases: 0,
            queue: Arc::new(ReleaseQueue::default()),
            heap,
            stats: PinStats::default(),
        }
    }

    /// Pins `obj` like [`PinTable::pin`], but a refusal is not counted as one (the FFI helper
    /// falls back to a copy, which it counts itself).
    ///
    /// # Safety
    /// `obj` is a live, unforwarded object of this heap.
    pub(crate) unsafe fn pin_quietly(
        &mut self,
        obj: ObjPtr,
        young: bool,
        max_pinned: usize,
    ) -> Option<PinId> {
        let before = (self.stats.refused_limit, self.stats.refused_disabled);
        // SAFETY: forwarded from the caller.
        let pinned = unsafe { self.pin(obj, young, max_pinned) };
        (self.stats.refused_limit, self.stats.refused_disabled) = before;
        pinned.ok()
    }

    /// Pins `obj` (`young` when it lives in the nursery).
    ///
    /// # Safety
    /// `obj` is a live, unforwarded object of this heap.
    pub(crate) unsafe fn pin(
        &mut self,
        obj: ObjPtr,
        young: bool,
        max_pinned: usize,
    ) -> Result<PinId, Refusal> {
        if max_pinned == 0 {
            self.stats.refused_disabled += 1;
            return Err(Refusal::Disabled);
        }
        let count = self.counts.get(&obj.addr()).copied().unwrap_or(0);
        if count == 0 {
            if young && self.young_pinned >= max_pinned {
                self.stats.refused_limit += 1;
                return Err(Refusal::Limit(max_pinned));
            }
            if young {
                self.young_pinned += 1;
            }
            // SAFETY: forwarded from the caller.
            unsafe { obj.insert_flags(HeaderFlags::PINNED) };
        }
        self.counts.insert(obj.addr(), count + 1);
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot {
                    obj: std::ptr::null_mut(),
                    generation: 0,
                    active: false,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.obj = obj.to_ref();
        slot.active = true;
        self.stats.pins += 1;
        Ok(PinId {
            index,
            generation: slot.generation,
            heap: self.heap,
        })
    }

    /// A guard for a pin just made.
    pub(crate) fn guard(&self, id: PinId, obj: ObjPtr, data: *mut u8, len: usize) -> Pinned {
        Pinned {
            id,
            data,
            len,
            object: crate::roots::RawGc::new(
                std::ptr::NonNull::new(obj.to_ref()).expect("objects are non-null"),
            ),
            queue: Arc::clone(&self.queue),
            consumed: false,
        }
    }

    /// Ends a pin. `false` when `id` is not an active pin of this heap.
    ///
    /// `in_nursery` tells whether an address lies in the nursery.
    pub(crate) fn release(&mut self, id: PinId, in_nursery: impl Fn(usize) -> bool) -> bool {
        if id.heap != self.heap {
            return false;
        }
        let Some(slot) = self.slots.get_mut(id.index as usize) else {
            return false;
        };
        if !slot.active || slot.generation != id.generation {
            return false;
        }
        slot.active = false;
        slot.generation = slot.generation.wrapping_add(1);
        let addr = ObjPtr::start_addr_of(slot.obj);
        let obj = ObjPtr::from_ref(slot.obj).expect("active pins hold objects");
        self.free.push(id.index);
        let count = self
            .counts
            .get_mut(&addr)
            .expect("a pinned object has a count");
        *count -= 1;
        if *count == 0 {
            self.counts.remove(&addr);
            if in_nursery(addr) && !fault_on!(LeakPinCount) {
                self.young_pinned -= 1;
                self.young_releases += 1;
            }
            // SAFETY: a pinned object is live and unforwarded until its last pin ends, which
            // is now.
            unsafe { obj.remove_flags(HeaderFlags::PINNED) };
        }
        true
    }

    /// Releases every pin whose guard was dropped.
    pub(crate) fn drain(&mut self, in_nursery: impl Fn(usize) -> bool) {
        for id in self.queue.take() {
            self.release(id, &in_nursery);
        }
    }

    /// Whether `id` is an active pin.
    pub(crate) fn is_active(&self, id: PinId) -> bool {
        id.heap == self.heap
            && self
                .slots
                .get(id.index as usize)
                .is_some_and(|s| s.active && s.generation == id.generation)
    }

    /// The root slots of the active pins (their objects never move while pinned, so the
    /// collector reads them and never rewrites them).
    pub(crate) fn roots(&mut self) -> impl Iterator<Item = &mut *mut u8> {
        self.slots
            .iter_mut()
            .filter(|s| s.active)
            .map(|s| &mut s.obj)
    }

    /// The pinned objects, each once.
    pub(crate) fn objects(&self) -> Vec<ObjPtr> {
        let mut seen = std::collections::HashSet::new();
        self.slots
            .iter()
            .filter(|s| s.active && seen.insert(ObjPtr::start_addr_of(s.obj)))
            .filter_map(|s| ObjPtr::from_ref(s.obj))
            .collect()
    }

    /// How many pins refer to the object at `addr`.
    pub(crate) fn count(&self, addr: usize) -> u32 {
        self.counts.get(&addr).copied().unwrap_or(0)
    }

    /// How many nursery objects have had their last pin end, ever.
    pub(crate) fn young_releases(&self) -> u64 {
        self.young_releases
    }

    pub(crate) fn young_pinned(&self) -> usize {
        self.young_pinned
    }

    pub(crate) fn pinned_objects(&self) -> usize {
        self.counts.len()
    }

    /// Active slots per object address, for the verifier.
    pub(crate) fn active_counts(&self) -> AddrMap<u32> {
        let mut m = AddrMap::default();
        for s in self.slots.iter().filter(|s| s.active) {
            *m.entry(ObjPtr::start_addr_of(s.obj)).or_insert(0) += 1;
        }
        m
    }

    pub(crate) fn counts(&self) -> &AddrMap<u32> {
        &self.counts
    }
}
