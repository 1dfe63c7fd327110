//! [`WeakInterner`]: one heap byte string per content, held weakly, with no copy of the content
//! outside the heap.
//!
//! An interpreter interns its strings so that equal strings are one object (string equality is
//! then identity, and strings can key identity maps). A table keyed by a copy of each string's
//! bytes (a `WeakValueTable<Box<[u8]>, GcBytes>`) keeps every string twice: in the heap and in
//! the allocator, where each new string costs an allocation, a copy and later a free, and
//! doubles the memory a program's string building walks through. This table keeps only each
//! string's hash and a weak reference to it, and compares contents by reading the strings
//! themselves through the scope. A lookup hashes the bytes once, and the probe that misses is
//! the one that finds where the new string goes.
//!
//! **Layout.** Open addressing with linear probing over a power-of-two table of entries, each
//! empty, a tombstone, or a hash with a weak reference; live entries plus tombstones are at most
//! seven eighths of the table, so an empty entry ends every probe. Entries whose strings died
//! stay until a purge: after any collection that cleared weak references, the next operation
//! turns the dead entries into tombstones (a dead string is never found: its weak reference
//! yields nothing), and a table whose tombstones pass a quarter of it is rebuilt.
//!
//! Invariants: `live + tombstones` counts the entries that are not empty and stays at most 7/8 of
//! the capacity (a power of two, or zero before the first insertion); a full entry's hash is its
//! string's content hash under the table's hasher, taken when it was inserted (a string's bytes
//! never change); no two full entries hold live strings with equal contents.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use crate::builtin::GcBytes;
use crate::error::GcError;
use crate::scope::{Handle, Scope};
use crate::weak::Weak;

/// One entry of the table.
enum Entry {
    Empty,
    /// Its string died or was removed; probing goes on past it.
    Tomb,
    Full(u64, Weak<GcBytes>),
}

/// A table of interned byte strings held weakly: [`WeakInterner::intern`] returns the live
/// string with the given bytes, or makes one. Strings nothing else holds die as usual and leave
/// the table. See the module documentation.
///
/// ```
/// use gc_core::{Config, Heap, WeakInterner};
///
/// let mut heap = Heap::new(Config::default()).unwrap();
/// let mut strings = WeakInterner::new();
/// heap.scope(|s| {
///     let a = strings.intern(s, b"spam").unwrap();
///     s.collect_minor(); // the string moves; the table still finds it
///     let b = strings.intern(s, b"spam").unwrap();
///     assert!(s.ptr_eq(a, b)); // one object per content
///     assert!(strings.get(s, b"eggs").is_none());
/// });
/// heap.collect_major(); // nothing holds "spam" any more
/// heap.scope(|s| assert_eq!(strings.len(s), 0));
/// ```
pub struct WeakInterner<S = RandomState> {
    /// The heap whose strings it holds (the first it was used with).
    heap: Option<u32>,
    entries: Vec<Entry>,
    live: usize,
    tombstones: usize,
    hasher: S,
    seen_clears: u64,
}

impl<S> std::fmt::Debug for WeakInterner<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "WeakInterner({} entries, {} tombstones, capacity {})",
            self.live,
            self.tombstones,
            self.entries.len()
        )
    }
}

impl<S: BuildHasher + Default> Default for WeakInterner<S> {
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

impl WeakInterner {
    /// An empty table, hashing with `RandomState`.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Where a probe for some bytes ended.
enum Probe<'s> {
    Found(Handle<'s, GcBytes>),
    /// Absent; a new entry goes at this index.
    Vacant(usize),
}

impl<S: BuildHasher> WeakInterner<S> {
    /// An empty table hashing contents with `hasher` (an interpreter whose programs are trusted
    /// may pick a faster hash than the default SipHash: every byte it interns is hashed).
    pub fn with_hasher(hasher: S) -> Self {
        WeakInterner {
            heap: None,
            entries: Vec::new(),
            live: 0,
            tombstones: 0,
            hasher,
            seen_clears: 0,
        }
    }

    /// The live string with these bytes, made (`Scope::alloc_bytes`) and entered if there is
    /// none.
    ///
    /// Errors: [`GcError::OutOfMemory`] (or another allocation error) when the string cannot be
    /// made, [`GcError::ForeignHandle`] when the table holds another heap's strings (a table
    /// serves the heap it was first used with); the table is unchanged then.
    pub fn intern<'s>(
        &mut self,
        s: &mut Scope<'s>,
        bytes: &[u8],
    ) -> Result<Handle<'s, GcBytes>, GcError> {
        if !self.serves(s) {
            return Err(GcError::ForeignHandle {
                handle_heap: self.heap.unwrap_or_default(),
                this_heap: s.heap_id(),
            });
        }
        self.heap = Some(s.heap_id());
        self.purge(s);
        self.reserve_one(s);
        let hash = self.hasher.hash_one(bytes);
        let at = match self.probe(s, hash, bytes) {
            Probe::Found(h) => return Ok(h),
            Probe::Vacant(at) => at,
        };
        // The allocation may collect: entries may die meanwhile, but none moves in the table
        // (purging waits for the next call), so `at` still ends the probe for these bytes.
        let h = s.alloc_bytes(bytes)?;
        if matches!(self.entries[at], Entry::Tomb) {
            self.tombstones -= 1;
        }
        self.entries[at] = Entry::Full(hash, s.downgrade(h));
        self.live += 1;
        Ok(h)
    }

    /// The live string with these bytes, if there is one (never one of another heap than the
    /// table's).
    pub fn get<'s>(&mut self, s: &Scope<'s>, bytes: &[u8]) -> Option<Handle<'s, GcBytes>> {
        if !self.serves(s) {
            return None;
        }
        self.purge(s);
        if self.entries.is_empty() {
            return None;
        }
        match self.probe(s, self.hasher.hash_one(bytes), bytes) {
            Probe::Found(h) => Some(h),
            Probe::Vacant(_) => None,
        }
    }

    /// Live entries (strings that have not died). `s` is a scope of the table's heap (another
    /// heap's scope cannot tell which died: the entries are counted as they were).
    pub fn len(&mut self, s: &Scope<'_>) -> usize {
        if self.serves(s) {
            self.purge(s);
        }
        self.live
    }

    /// Whether no live entry remains.
    pub fn is_empty(&mut self, s: &Scope<'_>) -> bool {
        self.len(s) == 0
    }

    /// Whether `s` is a scope of the heap whose strings the table holds (any heap while it
    /// holds none).
    fn serves(&self, s: &Scope<'_>) -> bool {
        self.heap.is_none_or(|id| id == s.heap_id())
    }

    /// The entries the table has room for (a power of two, or zero before the first string).
    pub fn capacity(&self) -> usize {
        self.entries.len()
    }

    /// Finds the live string with these bytes, or the entry a new one goes in (the first
    /// tombstone on the way, else the empty entry that ended the probe). The table is not
    /// empty and has an empty entry.
    fn probe<'s>(&self, s: &Scope<'s>, hash: u64, bytes: &[u8]) -> Probe<'s> {
        let mask = self.entries.len() - 1;
        let mut i = (hash as usize) & mask;
        let mut vacant = None;
        loop {
            match &self.entries[i] {
                Entry::Empty => return Probe::Vacant(vacant.unwrap_or(i)),
                Entry::Tomb => {
                    vacant.get_or_insert(i);
                }
                Entry::Full(h, weak) if *h == hash => {
                    // A hash match is almost always the string; its bytes decide. A dead one
                    // yields nothing and is passed over like a tombstone (it is not reused
                    // before the purge turns it into one).
                    if let Some(found) = s.upgrade(weak) {
                        if s.get(found) == bytes {
                            return Probe::Found(found);
                        }
                    }
                }
                Entry::Full(..) => {}
            }
            i = (i + 1) & mask;
        }
    }

    /// Makes room for one more entry: the first table, or a rebuilt one when live entries and
    /// tombstones would pass 7/8 of it (twice as large when the live ones alone fill half).
    fn reserve_one(&mut self, s: &Scope<'_>) {
        let capacity = self.entries.len();
        if (self.live + self.tombstones + 1) * 8 <= capacity * 7 {
            return;
        }
        let wanted = if (self.live + 1) * 2 > capacity {
            (capacity * 2).max(MIN_CAPACITY)
        } else {
            capacity
        };
        self.rebuild(s, wanted);
    }

    /// Moves the live entries into a new table of `capacity` entries, dropping the dead ones
    /// and the tombstones.
    fn rebuild(&mut self, s: &Scope<'_>, capacity: usize) {
        let old = std::mem::replace(
            &mut self.entries,
            std::iter::repeat_with(|| Entry::Empty)
                .take(capacity)
                .collect(),
        );
        self.live = 0;
        self.tombstones = 0;
        let mask = capacity - 1;
        for entry in old {
            let Entry::Full(hash, weak) = entry else {
                continue;
            };
            if !s.weak_is_alive(&weak) {
                continue;
            }
            let mut i = (hash as usize) & mask;
            while !matches!(self.entries[i], Entry::Empty) {
                i = (i + 1) & mask;
            }
            self.entries[i] = Entry::Full(hash, weak);
            self.live += 1;
        }
    }

    /// Turns the entries of dead strings into tombstones, if a collection cleared weak
    /// references since the last purge; rebuilds a table a quarter tombstones.
    fn purge(&mut self, s: &Scope<'_>) {
        let clears = s.weak_clears();
        if clears == self.seen_clears {
            return;
        }
        self.seen_clears = clears;
        for entry in &mut self.entries {
            if matches!(entry, Entry::Full(_, weak) if !s.weak_is_alive(weak)) {
                *entry = Entry::Tomb;
                self.live -= 1;
                self.tombstones += 1;
            }
        }
        if self.tombstones * 4 > self.entries.len() {
            // Room for as many entries as were used since the last rebuild (live and dead: a
            // program that builds strings at a steady rate fills the table as far again by the
            // next collection), so a steady program's table is rebuilt once a collection
            // instead of regrowing from a small size through every doubling; a table far
            // larger than that shrinks.
            let used = self.live + self.tombstones;
            self.rebuild(s, capacity_for(used));
        }
    }
}

/// The first table's entries.
const MIN_CAPACITY: usize = 16;

/// The smallest table (a power of two, at least [`MIN_CAPACITY`]) that holds `entries` within
/// seven eighths.
fn capacity_for(entries: usize) -> usize {
    (entries * 8)
        .div_ceil(7)
        .next_power_of_two()
        .max(MIN_CAPACITY)
}
