//! The large-object space: one OS mapping per object, never moved.
//!
//! Objects whose total size is at least `LARGE_OBJECT_THRESHOLD` skip the nursery (copying them
//! would cost more than it saves) and get a mapping of their own, rounded up to 4 KiB. A young
//! large object (flag `YOUNG_LARGE`) is still part of the young generation: a minor collection
//! promotes it in place when it is reachable and unmaps it when it is not, so a short-lived
//! buffer does not wait for a major collection.
//!
//! Invariants:
//! - every object here has the `LARGE` flag, and `index` maps its address to its entry;
//! - `bytes` is the sum of the mapping lengths;
//! - mark bits live in the entries (side memory), not in the objects;
//! - a new object's memory is a fresh mapping (never one reused), so everything after its
//!   header reads as zeros until it is written: allocations that promise zeros
//!   (`Scope::alloc_array`, `Scope::alloc_bytes_zeroed`) write none there.

use crate::addr_map::AddrMap;

use crate::object::ObjPtr;
use crate::page_source::Region;

/// Large objects are mapped in multiples of this.
pub(crate) const LARGE_ALIGN: usize = 4096;

struct LargeObject {
    region: Region,
    marked: bool,
    /// Frozen: neither marked nor swept.
    sealed: bool,
}

impl LargeObject {
    /// The object the region holds, at its start.
    fn object(&self) -> ObjPtr {
        // SAFETY: the region was mapped for this one object, of at least `MIN_OBJECT_SIZE`
        // bytes.
        unsafe { ObjPtr::from_start(self.region.start()) }
    }
}

pub(crate) struct LargeSpace {
    objects: Vec<LargeObject>,
    index: AddrMap<usize>,
    bytes: usize,
}

impl LargeSpace {
    pub(crate) fn new() -> LargeSpace {
        LargeSpace {
            objects: Vec::new(),
            index: AddrMap::default(),
            bytes: 0,
        }
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn len(&self) -> usize {
        self.objects.len()
    }

    /// Maps a new object of `size` bytes. `None` when the OS refuses.
    pub(crate) fn alloc(&mut self, size: usize) -> Option<ObjPtr> {
        let len = size.checked_next_multiple_of(LARGE_ALIGN)?;
        let region = Region::new(len, LARGE_ALIGN)?;
        let object = LargeObject {
            region,
            marked: false,
            sealed: false,
        };
        let obj = object.object();
        self.index.insert(obj.addr(), self.objects.len());
        self.objects.push(object);
        self.bytes += len;
        Some(obj)
    }

    /// Unmaps `obj` and returns the bytes freed. The caller has run its drop glue.
    pub(crate) fn free(&mut self, obj: ObjPtr) -> usize {
        let i = self
            .index
            .remove(&obj.addr())
            .expect("freeing an unknown large object");
        let gone = self.objects.swap_remove(i);
        self.bytes -= gone.region.len();
        if let Some(moved) = self.objects.get(i) {
            self.index.insert(moved.region.start().addr(), i);
        }
        gone.region.len()
    }

    /// Whether `addr` is the start of a large object.
    pub(crate) fn contains(&self, addr: usize) -> bool {
        self.index.contains_key(&addr)
    }

    /// Sets the mark of a large object; returns whether it was clear.
    pub(crate) fn mark(&mut self, obj: ObjPtr) -> bool {
        let i = self.index[&obj.addr()];
        !std::mem::replace(&mut self.objects[i].marked, true)
    }

    /// Whether the large object at `addr` is marked or sealed (false for any other address).
    pub(crate) fn survives_at(&self, addr: usize) -> bool {
        self.index
            .get(&addr)
            .is_some_and(|&i| self.objects[i].marked || self.objects[i].sealed)
    }

    pub(crate) fn clear_marks(&mut self) {
        for o in &mut self.objects {
            o.marked = false;
        }
    }

    /// The bytes of the marked objects' mappings (the verifier's check of
    /// `HeapInner::kept_bytes`).
    pub(crate) fn marked_bytes(&self) -> usize {
        self.bytes_of(|o| o.marked)
    }

    /// The addresses of the marked objects (a sticky collection's kept ones, saved before it
    /// marks: `collect/sticky.rs`).
    pub(crate) fn marked_addrs(&self) -> Vec<usize> {
        self.objects
            .iter()
            .filter(|o| o.marked)
            .map(|o| o.region.start().addr())
            .collect()
    }

    /// Marks exactly the objects at `addrs` (saved by [`LargeSpace::marked_addrs`]; each is
    /// still here, since a sweep frees only unmarked objects).
    pub(crate) fn restore_marks(&mut self, addrs: &[usize]) {
        self.clear_marks();
        for addr in addrs {
            let i = self.index[addr];
            self.objects[i].marked = true;
        }
    }

    /// Seals (or unseals) every large object that exists now.
    pub(crate) fn set_sealed(&mut self, sealed: bool) {
        for o in &mut self.objects {
            o.sealed = sealed;
        }
    }

    /// Whether the object is sealed.
    pub(crate) fn is_sealed(&self, obj: ObjPtr) -> bool {
        self.index
            .get(&obj.addr())
            .is_some_and(|&i| self.objects[i].sealed)
    }

    /// Bytes of sealed large objects.
    pub(crate) fn sealed_bytes(&self) -> usize {
        self.bytes_of(|o| o.sealed)
    }

    /// The bytes of the mappings of the objects `which` selects.
    fn bytes_of(&self, which: impl Fn(&LargeObject) -> bool) -> usize {
        self.objects
            .iter()
            .filter(|o| which(o))
            .map(|o| o.region.len())
            .sum()
    }

    /// The unmarked, unsealed objects (still mapped; the caller drops and frees them).
    pub(crate) fn unmarked(&self) -> Vec<ObjPtr> {
        self.objects
            .iter()
            .filter(|o| !o.marked && !o.sealed)
            .map(LargeObject::object)
            .collect()
    }

    pub(crate) fn for_each_object(&self, mut f: impl FnMut(ObjPtr)) {
        for o in &self.objects {
            f(o.object());
        }
    }
}
