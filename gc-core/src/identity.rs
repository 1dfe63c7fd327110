//! Identity hashes that survive moving collections.
//!
//! An interpreter needs `id()` and `hash()` for objects that a minor collection may move. A
//! hash derived from the address would change when the object moves, so Pinion hands out a
//! number from a process-wide counter on the first request and remembers it in a side table
//! keyed by the object's current address:
//!
//! - objects that never ask pay nothing: no header word, no work on the allocation path;
//! - an object that asked carries the `HASHED` header bit. A minor collection re-keys the
//!   entries of the young hashed objects it moved (they are listed in `young`, so the work is
//!   proportional to them) and drops those that died; a major collection drops the entries of
//!   the objects it sweeps. Pinned objects do not move, so their entries stay put until they
//!   are unpinned and moved like any other young object (the situation behind two of PyPy's
//!   2024 pinning bugs, where a hash kept in a "shadow" went out of step with the object);
//! - a hash is unique among the objects of every heap of the process for the process's whole
//!   life (one counter serves all heaps, and no value is given twice), so it also serves as
//!   `id()`, and a hash kept outside the heap ([`Identity`]) names one object and no other.
//!
//! Cost: one hash-map entry (about 16 bytes plus map overhead) per hashed object, a map lookup
//! per request, and, per collection, work proportional to the hashed objects that moved or
//! died. A small direct-mapped cache in front of the map answers the repeated requests of an
//! interpreter (the same few names keying its globals, fields and methods) with one compare;
//! it is emptied whenever entries move (every minor collection) and loses an entry when its
//! object dies.
//!
//! Invariants (checked by the verifier): `HASHED` is set exactly on the objects that have an
//! entry; `young` lists exactly the hashed objects in the nursery; every pair in the cache is
//! an entry of the table.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::addr_map::AddrMap;
use crate::object::{HeaderFlags, ObjPtr};

/// An object's identity, as [`Scope::identity`](crate::Scope::identity) gives it: its identity
/// hash, a plain number that stays true while the object lives, however often it moves. So an
/// interpreter keeps an identity outside the heap (in its bytecode, beside each name constant)
/// and looks the name up in a map by it ([`MapKey::Identity`](crate::MapKey)) without reaching
/// the name object first. No two objects of the process ever share a hash, so a map entry whose
/// hash equals an identity's is that object's entry, and an identity of another heap's object
/// finds nothing in this heap's maps.
///
/// ```
/// use gc_core::{Config, GcBytes, Heap, MapKey};
///
/// let mut heap = Heap::new(Config::default()).unwrap();
/// heap.scope(|s| {
///     let globals = s.alloc_map::<GcBytes, f64>(0).unwrap();
///     let name = s.alloc_bytes(b"pi").unwrap();
///     s.map_insert(globals, name, 3.14).unwrap();
///     let pi = s.identity(name);
///     s.collect_major(); // the name and the map move; the identity still finds the entry
///     assert_eq!(s.map_lookup(s.get(globals), MapKey::Identity(pi), None), Some(&3.14));
///     assert_eq!(pi.hash(), s.identity_hash(name));
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Identity(pub(crate) u64);

impl Identity {
    /// The identity hash (what [`Scope::identity_hash`](crate::Scope::identity_hash) returns).
    pub fn hash(self) -> u64 {
        self.0
    }
}

pub(crate) struct IdentityTable {
    hashes: AddrMap<u64>,
    /// Recently requested `(address, hash)` pairs, by address; address 0 marks an empty way.
    /// Every cached pair is also in `hashes`.
    recent: [Cell<(usize, u64)>; RECENT],
    young: Vec<ObjPtr>,
    /// Young hashed objects kept in place (pinned) by the last minor collection; only an
    /// injected fault looks at it.
    #[cfg(feature = "fault-injection")]
    kept_pinned: std::collections::HashSet<usize>,
}

/// Ways of the cache of recent requests.
const RECENT: usize = 64;

/// The way an address is cached in.
#[inline(always)]
fn way(addr: usize) -> usize {
    ((addr >> 4) ^ (addr >> 10)) & (RECENT - 1)
}

/// The counter behind every identity hash of the process: one counter for all heaps, so that
/// no two objects share a hash even across heaps (an [`Identity`] needs no heap id beside its
/// hash to find nothing in another heap's maps). A fresh hash is one relaxed increment, once
/// per object that asks; 2^64 increments do not run out.
static NEXT_HASH: AtomicU64 = AtomicU64::new(0);

/// A hash no object of the process had before: spread() is a bijection, so distinct counter
/// values give distinct hashes.
fn fresh_hash() -> u64 {
    spread(NEXT_HASH.fetch_add(1, Ordering::Relaxed) + 1)
}

/// SplitMix64's finaliser: spreads consecutive counter values over all 64 bits.
fn spread(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl IdentityTable {
    pub(crate) fn new() -> IdentityTable {
        IdentityTable {
            hashes: AddrMap::default(),
            recent: std::array::from_fn(|_| Cell::new((0, 0))),
            young: Vec::new(),
            #[cfg(feature = "fault-injection")]
            kept_pinned: std::collections::HashSet::new(),
        }
    }

    /// The object's identity hash, assigned on first request.
    ///
    /// # Safety
    /// `obj` is a live, unforwarded object of this heap; `young` tells whether it is in the
    /// nursery.
    pub(crate) unsafe fn hash(&mut self, obj: ObjPtr, young: bool) -> u64 {
        // SAFETY: forwarded from the caller.
        if unsafe { obj.flags() }.contains(HeaderFlags::HASHED) {
            return self.cached(obj.addr());
        }
        let hash = fresh_hash();
        self.hashes.insert(obj.addr(), hash);
        self.recent[way(obj.addr())].set((obj.addr(), hash));
        // SAFETY: forwarded from the caller.
        unsafe { obj.insert_flags(HeaderFlags::HASHED) };
        if young {
            self.young.push(obj);
        }
        hash
    }

    /// The object's identity hash if it has one (never assigns one).
    ///
    /// # Safety
    /// `obj` is a live, unforwarded object of this heap.
    #[inline]
    pub(crate) unsafe fn lookup(&self, obj: ObjPtr) -> Option<u64> {
        // SAFETY: forwarded from the caller.
        if unsafe { obj.flags() }.contains(HeaderFlags::HASHED) {
            Some(self.cached(obj.addr()))
        } else {
            None
        }
    }

    /// The hash of a hashed object, through the cache.
    #[inline]
    fn cached(&self, addr: usize) -> u64 {
        let way = &self.recent[way(addr)];
        let (cached, hash) = way.get();
        if cached == addr {
            return hash;
        }
        let hash = self.hashes[&addr];
        way.set((addr, hash));
        hash
    }

    /// After a minor collection's tracing: re-keys moved young objects, keeps those that
    /// stayed in place (pinned), forgets the dead.
    ///
    /// # Safety
    /// Called during a minor collection, after every survivor was copied or kept in place and
    /// before the nursery is reset: `young` objects are either forwarded, pinned, or dead with
    /// their headers intact.
    pub(crate) unsafe fn after_minor(&mut self) {
        // Young entries move or die: the cache forgets everything.
        for way in &self.recent {
            way.set((0, 0));
        }
        let mut still_young = Vec::new();
        for obj in std::mem::take(&mut self.young) {
            let hash = self
                .hashes
                .remove(&obj.addr())
                .expect("a young hashed object has an entry");
            // SAFETY: forwarded from the caller.
            unsafe {
                if let Some(to) = obj.forwardee() {
                    #[cfg(feature = "fault-injection")]
                    let hash = if fault_on!(LoseHashOnUnpinMove)
                        && self.kept_pinned.contains(&obj.addr())
                    {
                        // The injected bug: the unpinned object's entry is re-created.
                        fresh_hash()
                    } else {
                        hash
                    };
                    self.hashes.insert(to.addr(), hash); // the copy kept the HASHED bit
                } else if obj.flags().contains(HeaderFlags::PINNED) {
                    self.hashes.insert(obj.addr(), hash);
                    still_young.push(obj);
                }
            }
        }
        #[cfg(feature = "fault-injection")]
        {
            self.kept_pinned = still_young.iter().map(|o| o.addr()).collect();
        }
        self.young = still_young;
    }

    /// Forgets a dead old object.
    pub(crate) fn forget(&mut self, obj: ObjPtr) {
        self.hashes.remove(&obj.addr());
        let way = &self.recent[way(obj.addr())];
        if way.get().0 == obj.addr() {
            way.set((0, 0));
        }
    }

    /// Forgets every object `live` says is dead (a major collection, before its sweep: the sweep
    /// then needs to read no dead object's header for the table's sake).
    pub(crate) fn forget_dead(&mut self, live: impl Fn(usize) -> bool) {
        self.hashes.retain(|&addr, _| live(addr));
        for way in &self.recent {
            let (addr, _) = way.get();
            if addr != 0 && !self.hashes.contains_key(&addr) {
                way.set((0, 0));
            }
        }
    }

    /// A cached pair the table does not hold (for the verifier: there must be none).
    pub(crate) fn stale_cached(&self) -> Option<(usize, u64)> {
        self.recent
            .iter()
            .map(Cell::get)
            .find(|&(addr, hash)| addr != 0 && self.hashes.get(&addr) != Some(&hash))
    }

    pub(crate) fn len(&self) -> usize {
        self.hashes.len()
    }

    pub(crate) fn contains(&self, addr: usize) -> bool {
        self.hashes.contains_key(&addr)
    }

    /// The identity hash of the object at `addr`, if it has one (the verifier's question: it
    /// reads the table, not the object's header).
    pub(crate) fn get(&self, addr: usize) -> Option<u64> {
        self.hashes.get(&addr).copied()
    }

    pub(crate) fn young(&self) -> &[ObjPtr] {
        &self.young
    }
}
