//! Persistent roots: owned handles that keep an object alive between scopes.
//!
//! A handle lives only as long as its scope; a REPL's globals, a server's cache or an interned
//! string table must keep objects from one `heap.scope(..)` call to the next. A [`Persistent`]
//! (V8's `Global`, gc-arena's dynamic roots) is an owned, `'static` value: while it exists its
//! object stays alive, and it follows the object when it moves.
//!
//! It holds no address: only the heap's id, a slot index in the heap's persistent table and the
//! slot's generation. So it stays sound when the heap moves to another thread (it is `Send`)
//! and when the heap is dropped first; using it needs a scope of its own heap
//! (`GcError::ForeignHandle` otherwise). It is not `Clone`: a second root to the same object is
//! made through a scope. Dropping it queues its slot's release on a per-heap queue (as a pin
//! guard does), drained at the next collection or persistent-root operation, so it may be
//! dropped anywhere, on any thread, even inside drop glue.
//!
//! **Cost.** A minor collection visits only the slots that point to young objects: a slot
//! joins the `young` list when it is set to a young object, and the minor collection empties
//! the list (what it pointed to is old afterwards, unless pinned in the nursery, and those stay
//! listed). So a million persistent roots to old objects cost a minor collection nothing. A major
//! collection visits every occupied slot.
//!
//! Invariants (checked by the verifier): an occupied slot holds a live object of this heap; an
//! occupied slot that refers to a young object is in `young`.

use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use crate::object::ObjPtr;

/// Released slots, waiting for the heap's thread: `(index, generation)`.
#[derive(Debug, Default)]
pub(crate) struct Released(Mutex<Vec<(u32, u32)>>);

impl Released {
    fn push(&self, entry: (u32, u32)) {
        // A poisoned lock only means another releasing thread panicked mid-push; the vector
        // itself is still sound.
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(entry);
    }

    fn take(&self) -> Vec<(u32, u32)> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// An owned root: keeps its object alive and follows it when it moves, until dropped. Made with
/// [`Scope::persist`](crate::Scope::persist), read with
/// [`Scope::persistent`](crate::Scope::persistent).
///
/// ```
/// use gc_core::{Config, Heap, Persistent};
///
/// let mut heap = Heap::new(Config::default()).unwrap();
/// let global: Persistent<u64> = heap.scope(|s| {
///     let h = s.alloc(42u64).unwrap();
///     s.persist(h).unwrap()
/// });
/// heap.collect_major(); // the object moved to the old generation; the root followed
/// heap.scope(|s| {
///     let h = s.persistent(&global).unwrap();
///     assert_eq!(*s.get(h), 42);
/// });
/// drop(global); // the object may die at the next collection
/// ```
///
/// It is not `Clone` (a second root is made through a scope, with `persist`):
///
/// ```compile_fail,E0599
/// # use gc_core::{Config, Heap};
/// let mut heap = Heap::new(Config::default()).unwrap();
/// let root = heap.scope(|s| {
///     let h = s.alloc(1u64).unwrap();
///     s.persist(h).unwrap()
/// });
/// let second = root.clone(); // error: no method `clone`
/// ```
pub struct Persistent<T: ?Sized> {
    heap: u32,
    index: u32,
    generation: u32,
    released: Arc<Released>,
    _type: PhantomData<fn() -> T>,
}

impl<T: ?Sized> std::fmt::Debug for Persistent<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Persistent(heap #{}, slot {})", self.heap, self.index)
    }
}

impl<T: ?Sized> Drop for Persistent<T> {
    fn drop(&mut self) {
        self.released.push((self.index, self.generation));
    }
}

impl<T: ?Sized> Persistent<T> {
    /// The id of the heap this root belongs to.
    pub fn heap_id(&self) -> u32 {
        self.heap
    }
}

// SAFETY: a Persistent holds no address (only ids) and an Arc to a mutex-protected queue, so
// moving it to another thread or dropping it there touches no heap memory.
unsafe impl<T: ?Sized> Send for Persistent<T> {}
// SAFETY: shared access reads only the ids.
unsafe impl<T: ?Sized> Sync for Persistent<T> {}

struct Slot {
    obj: *mut u8,
    generation: u32,
    occupied: bool,
}

/// The heap's persistent roots.
pub(crate) struct PersistentTable {
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Slots that may refer to young objects (see the module comment).
    young: Vec<u32>,
    released: Arc<Released>,
    heap: u32,
    occupied: usize,
}

impl PersistentTable {
    pub(crate) fn new(heap: u32) -> PersistentTable {
        PersistentTable {
            slots: Vec::new(),
            free: Vec::new(),
            young: Vec::new(),
            released: Arc::default(),
            heap,
            occupied: 0,
        }
    }

    /// Frees the slots of dropped roots.
    pub(crate) fn drain(&mut self) {
        for (index, generation) in self.released.take() {
            if let Some(slot) = self.slots.get_mut(index as usize) {
                if slot.occupied && slot.generation == generation {
                    slot.occupied = false;
                    slot.obj = std::ptr::null_mut();
                    slot.generation = slot.generation.wrapping_add(1);
                    self.free.push(index);
                    self.occupied -= 1;
                }
            }
        }
    }

    /// A new root to `obj` (`young` when it is a young object).
    pub(crate) fn create<T: ?Sized>(&mut self, obj: ObjPtr, young: bool) -> Persistent<T> {
        self.drain();
        let index = self.free.pop().unwrap_or_else(|| {
            self.slots.push(Slot {
                obj: std::ptr::null_mut(),
                generation: 0,
                occupied: false,
            });
            (self.slots.len() - 1) as u32
        });
        let slot = &mut self.slots[index as usize];
        slot.obj = obj.to_ref();
        slot.occupied = true;
        self.occupied += 1;
        if young {
            self.young.push(index);
        }
        Persistent {
            heap: self.heap,
            index,
            generation: slot.generation,
            released: Arc::clone(&self.released),
            _type: PhantomData,
        }
    }

    /// Whether `root` is a live root of this heap (a dropped root cannot be asked).
    pub(crate) fn owns<T: ?Sized>(&self, root: &Persistent<T>) -> bool {
        root.heap == self.heap
    }

    /// The object of `root`.
    pub(crate) fn get<T: ?Sized>(&self, root: &Persistent<T>) -> ObjPtr {
        let slot = &self.slots[root.index as usize];
        debug_assert!(slot.occupied && slot.generation == root.generation);
        ObjPtr::from_ref(slot.obj).expect("an occupied slot holds an object")
    }

    /// Points `root` at `obj` (`young` when it is a young object).
    pub(crate) fn set<T: ?Sized>(&mut self, root: &Persistent<T>, obj: ObjPtr, young: bool) {
        self.slots[root.index as usize].obj = obj.to_ref();
        if young {
            self.young.push(root.index);
        }
    }

    /// Takes the list of slots that may refer to young objects (each once), for a minor
    /// collection to visit; [`PersistentTable::keep_young`] gives back the ones still young.
    pub(crate) fn take_young(&mut self) -> Vec<u32> {
        let mut young = std::mem::take(&mut self.young);
        young.sort_unstable();
        young.dedup();
        young
    }

    /// The root slot `index`, when it is occupied.
    pub(crate) fn slot_mut(&mut self, index: u32) -> Option<&mut *mut u8> {
        self.slots
            .get_mut(index as usize)
            .filter(|s| s.occupied)
            .map(|s| &mut s.obj)
    }

    /// After a minor collection: re-lists the slots of `visited` whose object is still young
    /// (pinned in the nursery); the others refer to old objects now.
    pub(crate) fn keep_young(&mut self, visited: Vec<u32>, is_young: impl Fn(usize) -> bool) {
        for index in visited {
            if let Some(slot) = self.slots.get(index as usize) {
                if slot.occupied && is_young(ObjPtr::start_addr_of(slot.obj)) {
                    self.young.push(index);
                }
            }
        }
    }

    /// Every occupied root slot (for a major collection).
    pub(crate) fn all_roots(&mut self) -> impl Iterator<Item = &mut *mut u8> {
        self.slots
            .iter_mut()
            .filter(|s| s.occupied)
            .map(|s| &mut s.obj)
    }

    /// Occupied slots' objects, with whether each is listed young (for the verifier).
    pub(crate) fn targets(&self) -> Vec<(usize, bool)> {
        let listed: std::collections::HashSet<u32> = self.young.iter().copied().collect();
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.occupied)
            .map(|(i, s)| (ObjPtr::start_addr_of(s.obj), listed.contains(&(i as u32))))
            .collect()
    }

    /// Persistent roots that exist now.
    pub(crate) fn len(&self) -> usize {
        self.occupied
    }
}
