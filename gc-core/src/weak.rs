//! Weak references: they yield their object while it lives and nothing once it died, and they
//! never keep it alive.
//!
//! A [`Weak`] is an index into the heap's weak table, whose slots hold target addresses that
//! the collector does not trace. Each collection, after it has found every live object and
//! before it frees anything:
//! - a minor collection updates slots whose young target was copied, keeps those whose target
//!   stayed (pinned) and clears those whose young target died;
//! - a major collection clears slots whose target was not marked.
//!
//! So a slot never points to freed or moved memory. A `Weak` is an ordinary value (a leaf for
//! tracing), so it can live in Rust data or inside heap objects (a Python `weakref` object, a
//! cache entry); dropping it frees its slot through a per-heap release queue, like a pin
//! guard, so it may be dropped anywhere, including by a collection's drop glue.
//!
//! Cost: one 16-byte slot per weak reference; each minor collection visits the slots whose
//! target is young, each major collection visits every slot.
//!
//! Invariants (checked by the verifier): an occupied slot's target is null (cleared) or a live
//! object of this heap.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use crate::object::ObjPtr;
use crate::trace::Tracer;
use crate::Trace;

#[derive(Debug, Default)]
struct Released(Mutex<Vec<(u32, u32)>>);

/// A weak reference to an object of heap `T`; see [`Scope::downgrade`](crate::Scope::downgrade)
/// and [`Scope::upgrade`](crate::Scope::upgrade).
pub struct Weak<T: ?Sized> {
    index: u32,
    generation: u32,
    heap: u32,
    released: Arc<Released>,
    _type: PhantomData<fn() -> T>,
}

impl<T: ?Sized> std::fmt::Debug for Weak<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Weak(heap #{}, slot {})", self.heap, self.index)
    }
}

impl<T: ?Sized> Drop for Weak<T> {
    fn drop(&mut self) {
        self.released
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((self.index, self.generation));
    }
}

// SAFETY: a Weak holds no Member and no object address (only a slot index), so tracing it has
// nothing to report; its destructor only pushes onto a mutex-protected queue.
unsafe impl<T: ?Sized + 'static> Trace for Weak<T> {
    const NEEDS_TRACE: bool = false;
    fn trace(&self, _: &mut Tracer<'_>) {}
}

// SAFETY: a Weak holds no Member: its mirror is itself.
unsafe impl<T: ?Sized + 'static> crate::Init for Weak<T> {
    type Init<'h> = Weak<T>;
    fn check_heap(_: &Self, _: u32) -> Result<(), crate::GcError> {
        Ok(())
    }
    unsafe fn build(init: Self, _: &crate::Resolver<'_>) -> Self {
        init
    }
}

struct Slot {
    target: *mut u8,
    generation: u32,
    occupied: bool,
}

/// The heap's weak slots.
pub(crate) struct WeakTable {
    slots: Vec<Slot>,
    free: Vec<u32>,
    released: Arc<Released>,
    heap: u32,
    /// Bumped whenever a collection clears a slot, so tables of weak values know to purge.
    pub(crate) clears: u64,
}

impl WeakTable {
    pub(crate) fn new(heap: u32) -> WeakTable {
        WeakTable {
            slots: Vec::new(),
            free: Vec::new(),
            released: Arc::default(),
            heap,
            clears: 0,
        }
    }

    /// Frees the slots of dropped `Weak`s.
    pub(crate) fn drain(&mut self) {
        let released =
            std::mem::take(&mut *self.released.0.lock().unwrap_or_else(|e| e.into_inner()));
        for (index, generation) in released {
            if let Some(slot) = self.slots.get_mut(index as usize) {
                if slot.occupied && slot.generation == generation {
                    slot.occupied = false;
                    slot.target = std::ptr::null_mut();
                    slot.generation = slot.generation.wrapping_add(1);
                    self.free.push(index);
                }
            }
        }
    }

    pub(crate) fn create<T: ?Sized>(&mut self, target: ObjPtr) -> Weak<T> {
        self.drain();
        let index = self.free.pop().unwrap_or_else(|| {
            self.slots.push(Slot {
                target: std::ptr::null_mut(),
                generation: 0,
                occupied: false,
            });
            (self.slots.len() - 1) as u32
        });
        let slot = &mut self.slots[index as usize];
        slot.target = target.to_ref();
        slot.occupied = true;
        Weak {
            index,
            generation: slot.generation,
            heap: self.heap,
            released: Arc::clone(&self.released),
            _type: PhantomData,
        }
    }

    /// The target of `weak`, if it is this heap's and still alive.
    pub(crate) fn get<T: ?Sized>(&self, weak: &Weak<T>) -> Option<ObjPtr> {
        if weak.heap != self.heap {
            return None;
        }
        let slot = self.slots.get(weak.index as usize)?;
        (slot.occupied && slot.generation == weak.generation)
            .then(|| ObjPtr::from_ref(slot.target))
            .flatten()
    }

    /// Whether `weak` belongs to this heap.
    pub(crate) fn owns<T: ?Sized>(&self, weak: &Weak<T>) -> bool {
        weak.heap == self.heap
    }

    /// Updates or clears every occupied slot: `fate` returns the target's new address, or
    /// `None` when it died. Only targets for which `affected` is true are asked.
    pub(crate) fn sweep(
        &mut self,
        affected: impl Fn(usize) -> bool,
        mut fate: impl FnMut(ObjPtr) -> Option<ObjPtr>,
    ) {
        for slot in self.slots.iter_mut().filter(|s| s.occupied) {
            let Some(obj) = ObjPtr::from_ref(slot.target) else {
                continue;
            };
            if !affected(obj.addr()) {
                continue;
            }
            match fate(obj) {
                Some(to) => slot.target = to.to_ref(),
                None => {
                    slot.target = std::ptr::null_mut();
                    self.clears += 1;
                }
            }
        }
    }

    /// Live targets, for the verifier.
    pub(crate) fn targets(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots
            .iter()
            .filter(|s| s.occupied && !s.target.is_null())
            .map(|s| ObjPtr::start_addr_of(s.target))
    }

    /// Occupied slots (weak references that exist).
    pub(crate) fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.occupied).count()
    }
}

/// A table whose values are held weakly: an entry disappears once its value died. The
/// building block of caches keyed by Rust values. (To intern byte strings, a
/// [`WeakInterner`](crate::WeakInterner) keeps no copy of them outside the heap, where this
/// table keeps each key.)
///
/// ```
/// use gc_core::{Config, GcBytes, Heap, WeakValueTable};
///
/// let mut heap = Heap::new(Config::default()).unwrap();
/// let mut interned: WeakValueTable<Vec<u8>, GcBytes> = WeakValueTable::new();
/// heap.scope(|s| {
///     let a = interned.get_or_insert_with(s, b"spam".to_vec(), |s| s.alloc_bytes(b"spam").unwrap());
///     let b = interned.get_or_insert_with(s, b"spam".to_vec(), |s| s.alloc_bytes(b"spam").unwrap());
///     assert!(s.ptr_eq(a, b)); // interned: one object
/// });
/// heap.collect_major(); // nothing holds "spam" any more
/// heap.scope(|s| assert_eq!(interned.len(s), 0));
/// ```
///
/// The keys are hashed with `S`, by default the standard library's `RandomState` (SipHash,
/// resistant to inputs chosen to collide). A table whose keys are long and trusted may pick a
/// faster hasher with [`WeakValueTable::with_hasher`]:
///
/// ```
/// use std::hash::{BuildHasherDefault, DefaultHasher};
/// use gc_core::{Config, GcBytes, Heap, WeakValueTable};
///
/// // Any `BuildHasher`; `DefaultHasher` with fixed keys stands in for a faster one here.
/// type Fixed = BuildHasherDefault<DefaultHasher>;
/// let mut interned: WeakValueTable<Box<[u8]>, GcBytes, Fixed> =
///     WeakValueTable::with_hasher(Fixed::default());
/// let mut heap = Heap::new(Config::default()).unwrap();
/// heap.scope(|s| {
///     let a = s.alloc_bytes(b"eggs").unwrap();
///     interned.insert(s, b"eggs"[..].into(), a);
///     let found = interned.get(s, &b"eggs"[..]).unwrap();
///     assert!(s.ptr_eq(a, found));
/// });
/// ```
pub struct WeakValueTable<K, T: ?Sized, S = RandomState> {
    entries: HashMap<K, Weak<T>, S>,
    seen_clears: u64,
}

impl<K, T: ?Sized, S> std::fmt::Debug for WeakValueTable<K, T, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WeakValueTable({} entries)", self.entries.len())
    }
}

impl<K: Hash + Eq, T: ?Sized, S: BuildHasher + Default> Default for WeakValueTable<K, T, S> {
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

impl<K: Hash + Eq, T: ?Sized + 'static> WeakValueTable<K, T> {
    /// An empty table, its keys hashed with `RandomState`.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<K: Hash + Eq, T: ?Sized, S: BuildHasher> WeakValueTable<K, T, S> {
    /// An empty table whose keys are hashed with `hasher`.
    pub fn with_hasher(hasher: S) -> Self {
        WeakValueTable {
            entries: HashMap::with_hasher(hasher),
            seen_clears: 0,
        }
    }
}

impl<K: Hash + Eq, T: ?Sized + 'static, S: BuildHasher> WeakValueTable<K, T, S> {
    /// Drops the entries whose values died, if any collection cleared weak references since
    /// the last purge.
    pub fn purge(&mut self, s: &crate::Scope<'_>) {
        let clears = s.weak_clears();
        if clears != self.seen_clears {
            self.seen_clears = clears;
            self.entries.retain(|_, w| s.weak_is_alive(w));
        }
    }

    /// The live value for `key`.
    ///
    /// The key may be given borrowed, as for `HashMap::get` (a `&[u8]` for `Box<[u8]>` keys),
    /// so looking up a string does not allocate one.
    pub fn get<'s, Q>(&mut self, s: &crate::Scope<'s>, key: &Q) -> Option<crate::Handle<'s, T>>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.purge(s);
        self.entries.get(key).and_then(|w| s.upgrade(w))
    }

    /// Stores `value` under `key` (replacing any).
    pub fn insert(&mut self, s: &mut crate::Scope<'_>, key: K, value: crate::Handle<'_, T>) {
        self.purge(s);
        let weak = s.downgrade(value);
        self.entries.insert(key, weak);
    }

    /// The live value for `key`, or a new one made by `make` and stored.
    pub fn get_or_insert_with<'s>(
        &mut self,
        s: &mut crate::Scope<'s>,
        key: K,
        make: impl FnOnce(&mut crate::Scope<'s>) -> crate::Handle<'s, T>,
    ) -> crate::Handle<'s, T> {
        if let Some(h) = self.get::<K>(s, &key) {
            return h;
        }
        let h = make(s);
        self.insert(s, key, h);
        h
    }

    /// Live entries.
    pub fn len(&mut self, s: &crate::Scope<'_>) -> usize {
        self.purge(s);
        self.entries.len()
    }

    /// Whether no live entry remains.
    pub fn is_empty(&mut self, s: &crate::Scope<'_>) -> bool {
        self.len(s) == 0
    }
}
