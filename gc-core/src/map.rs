//! [`GcMap<K, V>`]: a strong map keyed by object identity, as a heap type.
//!
//! An interpreter keeps its globals, an instance's fields and a class's methods in maps keyed
//! by (interned) names. This map lives in the heap: its keys and values are kept alive by it,
//! traced and updated like any other references, and it stays correct across moving collections
//! because it hashes a key by the key's **identity hash** (`Scope::identity_hash`, which a move
//! does not change), stored in the entry beside the key. A lookup compares hashes, then the key
//! member with the key's current address.
//!
//! ```text
//!   GcMap<K, V>:  [ table ][ count ][ tombstones ][ capacity | length | slot × capacity ]
//!                     │                            └── the inline table (a small map's) ──┘
//!                     ▼   VecStorage<Slot<K, V>> (every slot initialised)
//!                 [ capacity | length | slot × capacity ]
//!   a slot:       [ hash | key: Member<K> | value: Option<V> ]   (empty, tombstone or full)
//! ```
//!
//! Open addressing with linear probing over a power-of-two table, at most seven eighths full
//! (live entries plus tombstones; small tables are probed in a cache line or two). Growth (and
//! cleaning out tombstones) allocates a new table in the heap, moves the entries with the store
//! path's bulk entry and sets the old table's length to zero, as a `GcVec` does; removal leaves
//! a tombstone. Values are stored inline (any `V: Trace`), written from mirrors.
//!
//! **The inline table.** Most maps of an interpreter are small (an instance's fields, a small
//! class's methods), and were two objects: the map and its table, allocated together and read
//! one after the other on every lookup. A map made for at most three entries carries its first
//! table inside itself instead, laid out as a table object's payload is (`capacity`, `length`,
//! the slots), with a null `table` member: one allocation instead of two, and no second
//! object for an access to reach (the member is still read, to choose the table). When it grows, the entries move to an out-of-line table as they would
//! from any table, and the inline table's length drops to zero (its words stay, unused: a
//! map that grew past three entries keeps those bytes, as a grown vector's old storage would
//! until it died). A map made for more entries starts out of line, with no inline slots.
//!
//! Invariants: a full slot's hash is its key's identity hash and its key is non-null; `count`
//! is the number of full slots and `tombstones` the number of tombstones; the table in use
//! (the inline one when `table` is null, else the out-of-line one) has a length equal to its
//! capacity, a power of two, and `count + tombstones <= 7/8` of it, so an empty slot always
//! ends a probe; when `table` is null the inline table has at least 4 slots, and when it is
//! not, the inline table's length is zero (its slots are dead: traced, dropped and read by
//! nothing). The verifier checks them all through the map type's `TypeInfo::check`
//! (`map_check`), the first against the heap's identity table.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::inline::{storage_elements, VecStorage, STORAGE_HEADER};
use crate::member::Member;
use crate::object::{IdentityOf, ObjPtr, TypeInfo, TYPE_MAGIC};
use crate::scan::ScanEntries;
use crate::trace::Tracer;
use crate::Trace;

/// A map from heap objects (by identity) to inline values: see the module documentation and
/// `Scope::alloc_map`, `map_insert`, `map_get`, `map_remove`. Read it with `s.get(h)`, which
/// gives a [`MapView`] to iterate.
///
/// ```
/// use gc_core::{Config, GcBytes, Heap};
///
/// let mut heap = Heap::new(Config::default()).unwrap();
/// heap.scope(|s| {
///     let globals = s.alloc_map::<GcBytes, f64>(0).unwrap();
///     let name = s.alloc_bytes(b"pi").unwrap();
///     s.map_insert(globals, name, 3.14).unwrap();
///     s.collect_major(); // the key and the map move; the lookup still works
///     assert_eq!(s.map_get(globals, name), Some(&3.14));
///     assert_eq!(s.get(globals).len(), 1);
/// });
/// ```
pub struct GcMap<K: ?Sized, V> {
    _private: PhantomData<Types<K, V>>,
}

/// What a map's marker says about its key and value types (it owns neither).
type Types<K, V> = (fn() -> V, fn() -> *const K);

impl<K: ?Sized, V> std::fmt::Debug for GcMap<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GcMap")
    }
}

/// One slot of a map's table: a full slot has a non-null key and a value; an empty slot (never
/// used since the table was made) has a null key and hash 0; a tombstone (its entry was
/// removed, probing goes on past it) has a null key and hash 1. Keeping the state in the key
/// and the hash costs nothing beyond the value's own `Option` (usually a free niche).
pub(crate) struct Slot<K: ?Sized, V> {
    pub(crate) hash: u64,
    pub(crate) key: Member<K>,
    pub(crate) value: Option<V>,
}

/// What a slot holds.
pub(crate) enum SlotState<'a, V> {
    Empty,
    Tomb,
    Full(u64, &'a V),
}

impl<K: ?Sized, V> Slot<K, V> {
    pub(crate) const EMPTY_HASH: u64 = 0;
    pub(crate) const TOMB_HASH: u64 = 1;

    /// A slot with nothing in it.
    pub(crate) fn vacant(hash: u64) -> Slot<K, V> {
        Slot {
            hash,
            key: Member::null(),
            value: None,
        }
    }

    /// Writes a vacant slot at `at` field by field. (Writing a whole `Slot::vacant` built on
    /// the stack made the processor wait on every slot of a new table: the template's narrow
    /// stores, read back at once as wide loads, cannot be forwarded.)
    ///
    /// # Safety
    /// `at` is valid for writes of a `Slot<K, V>` and properly aligned; what it held is
    /// overwritten without being dropped.
    #[inline(always)]
    pub(crate) unsafe fn write_vacant(at: *mut Slot<K, V>, hash: u64) {
        // SAFETY: forwarded from the caller; the three writes cover every field.
        unsafe {
            std::ptr::addr_of_mut!((*at).hash).write(hash);
            std::ptr::addr_of_mut!((*at).key).write(Member::null());
            std::ptr::addr_of_mut!((*at).value).write(None);
        }
    }

    pub(crate) fn state(&self) -> SlotState<'_, V> {
        match (&self.value, self.key.is_null(), self.hash) {
            (Some(v), false, hash) => SlotState::Full(hash, v),
            (_, _, Self::TOMB_HASH) => SlotState::Tomb,
            _ => SlotState::Empty,
        }
    }
}

// SAFETY: a full slot reports its key member and its value's members, nothing else; a slot has
// no Drop impl and no interior mutability of its own.
unsafe impl<K: ?Sized + 'static, V: Trace> Trace for Slot<K, V> {
    const NEEDS_TRACE: bool = true;
    #[inline]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        tracer.member(&self.key);
        if let Some(value) = &self.value {
            value.trace(tracer);
        }
    }
}

// SAFETY: slots are built only by the map's own code (never from a mirror by users): the mirror
// is the slot, and a slot outside the heap only ever holds the member the map resolved for it
// an instant before storing it.
unsafe impl<K: ?Sized + 'static, V: Trace> crate::Init for Slot<K, V> {
    type Init<'h> = Slot<K, V>;
    fn check_heap(_: &Self, _: u32) -> Result<(), crate::GcError> {
        Ok(())
    }
    unsafe fn build(init: Self, _: &crate::Resolver<'_>) -> Self {
        init
    }
}

/// Where a lookup found its key last time: a remembered slot position that lets the next
/// lookup through the same hint skip hashing when the key is still there (in the same map, or
/// another map of the same layout), as an interpreter's inline cache does for a property
/// access. Any hint is safe to use with any map: a stale one only costs a full lookup. It is
/// `Sync` (an atomic, read and written with relaxed ordering), so it can live in shared
/// bytecode. See `Scope::map_lookup`.
#[derive(Debug)]
pub struct MapHint(AtomicU32);

impl MapHint {
    const NONE: u32 = u32::MAX;

    /// A hint that remembers nothing yet.
    pub const fn new() -> MapHint {
        MapHint(AtomicU32::new(Self::NONE))
    }

    #[inline]
    pub(crate) fn get(&self) -> Option<usize> {
        let i = self.0.load(Ordering::Relaxed);
        (i != Self::NONE).then_some(i as usize)
    }

    #[inline]
    pub(crate) fn set(&self, i: usize) {
        self.0
            .store(u32::try_from(i).unwrap_or(Self::NONE), Ordering::Relaxed);
    }
}

impl Default for MapHint {
    fn default() -> Self {
        MapHint::new()
    }
}

/// The start of a map payload: what every map has, before its inline slots (see the module
/// documentation).
#[repr(C)]
pub(crate) struct MapHeader<K: ?Sized, V> {
    /// The out-of-line table; null while the map uses its inline table.
    pub(crate) table: Member<VecStorage<Slot<K, V>>>,
    pub(crate) count: usize,
    pub(crate) tombstones: usize,
    /// The inline table's capacity (zero for a map made out of line), then its length: the
    /// two words a table object's payload starts with, so that the inline table is read as
    /// one ([`MAP_INLINE_TABLE`]).
    pub(crate) inline_capacity: usize,
    pub(crate) inline_len: usize,
}

/// Where a map payload's inline table starts (its capacity word): the inline table from there on
/// is laid out as a table object's payload.
pub(crate) const MAP_INLINE_TABLE: usize = 3 * 8;

/// Where a map payload's inline slots start.
pub(crate) const MAP_INLINE_SLOTS: usize = MAP_INLINE_TABLE + STORAGE_HEADER;

/// The inline table's length word, counted in words from the payload's start.
const MAP_INLINE_LEN_WORD: usize = MAP_INLINE_TABLE / 8 + 1;

/// The payload bytes of a map with `inline_slots` inline slots (`None` on overflow).
pub(crate) const fn map_payload_size<K: ?Sized, V>(inline_slots: usize) -> Option<usize> {
    match inline_slots.checked_mul(std::mem::size_of::<Slot<K, V>>()) {
        Some(bytes) => bytes.checked_add(MAP_INLINE_SLOTS),
        None => None,
    }
}

/// # Safety
/// `payload` points to a live map payload.
unsafe fn map_size<K: ?Sized, V>(payload: *const u8) -> usize {
    // SAFETY: forwarded from the caller: the inline capacity word is initialised.
    let capacity = unsafe { (*payload.cast::<MapHeader<K, V>>()).inline_capacity };
    MAP_INLINE_SLOTS + capacity * std::mem::size_of::<Slot<K, V>>()
}

/// The live inline slots of a map payload (none once the map has an out-of-line table).
///
/// # Safety
/// `payload` points to a live map payload; the slice is not used after the map moves or dies,
/// or after its inline length changes.
unsafe fn inline_slots<'a, K: ?Sized, V>(payload: *const u8) -> &'a [Slot<K, V>] {
    // SAFETY: forwarded from the caller: the first `inline_len` inline slots are initialised.
    unsafe {
        let len = (*payload.cast::<MapHeader<K, V>>()).inline_len;
        std::slice::from_raw_parts(payload.add(MAP_INLINE_SLOTS).cast::<Slot<K, V>>(), len)
    }
}

/// # Safety
/// `payload` points to a live map payload.
unsafe fn map_trace<K: ?Sized + 'static, V: Trace>(payload: *const u8, tracer: &mut Tracer<'_>) {
    // SAFETY: forwarded from the caller.
    unsafe {
        tracer.member(&(*payload.cast::<MapHeader<K, V>>()).table);
        for slot in inline_slots::<K, V>(payload) {
            slot.trace(tracer);
        }
    }
}

/// # Safety
/// `payload` points to a dead map payload, dropped exactly once.
unsafe fn map_drop<K: ?Sized, V>(payload: *mut u8) {
    // SAFETY: forwarded from the caller: the first `inline_len` inline slots are initialised
    // and never used again (a map that moved its entries out of line has inline length zero).
    unsafe {
        let len = (*payload.cast::<MapHeader<K, V>>()).inline_len;
        std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(
            payload.add(MAP_INLINE_SLOTS).cast::<Slot<K, V>>(),
            len,
        ));
    }
}

fn map_data<K: ?Sized, V>(payload: *mut u8) -> (*mut u8, usize) {
    (payload, std::mem::size_of::<MapHeader<K, V>>())
}

/// The smallest table: room for three entries.
pub(crate) const MIN_TABLE_SLOTS: usize = 4;

/// The invariants of this module a map keeps in its own payload (the verifier's check, through
/// its type's `TypeInfo::check`): which table is in use and its length, the counts, the load,
/// and that every full slot holds its key's identity hash as `identity_of` reads it from the
/// heap's identity table (a wrong hash hides the entry from every lookup, and a lookup by
/// `Identity` trusts it to tell the key).
///
/// # Safety
/// `payload` points to a live map payload whose table member, when non-null, refers to a
/// live table object.
unsafe fn map_check<K: ?Sized, V>(
    payload: *const u8,
    identity_of: IdentityOf<'_>,
) -> Option<String> {
    // SAFETY: forwarded from the caller; the header's words are initialised.
    let header = unsafe { &*payload.cast::<MapHeader<K, V>>() };
    let inline = header.table.is_null();
    // SAFETY: as above.
    let (_, _, storage) = unsafe { table_in_use::<K, V>(payload.cast_mut()) };
    // SAFETY: a table in use starts with its capacity and length words.
    let (capacity, len) = unsafe {
        (
            storage.cast::<usize>().read(),
            storage.cast::<usize>().add(1).read(),
        )
    };
    if inline && header.inline_capacity < MIN_TABLE_SLOTS {
        return Some(format!(
            "a map uses an inline table of {} slots",
            header.inline_capacity
        ));
    }
    if !inline && header.inline_len != 0 {
        return Some(format!(
            "a map with an out-of-line table keeps {} inline slots live",
            header.inline_len
        ));
    }
    if len != capacity || len < MIN_TABLE_SLOTS || !len.is_power_of_two() {
        return Some(format!(
            "a map's table has length {len} and capacity {capacity} (equal, a power of two, \
             at least {MIN_TABLE_SLOTS})"
        ));
    }
    // SAFETY: the table in use has `len` initialised slots.
    let slots = unsafe { storage_elements::<Slot<K, V>>(storage) };
    let (mut full, mut tombs) = (0, 0);
    for slot in slots {
        match slot.state() {
            SlotState::Full(hash, _) => {
                full += 1;
                let key = slot.key.slot().get();
                match identity_of(key) {
                    Some(identity) if identity == hash => {}
                    Some(identity) => {
                        return Some(format!(
                            "a map's slot holds the hash {hash:#x} for the key {key:p}, whose \
                             identity hash is {identity:#x}"
                        ))
                    }
                    None => {
                        return Some(format!(
                            "a map's slot holds the key {key:p}, which has no identity hash"
                        ))
                    }
                }
            }
            SlotState::Tomb => tombs += 1,
            SlotState::Empty => {}
        }
    }
    if (full, tombs) != (header.count, header.tombstones) {
        return Some(format!(
            "a map counts {} entries and {} tombstones, its table holds {full} and {tombs}",
            header.count, header.tombstones
        ));
    }
    ((full + tombs) * 8 > len * 7).then(|| {
        format!(
            "a map's table of {len} slots holds {full} entries and {tombs} tombstones: over 7/8"
        )
    })
}

/// How a map payload's references lie: the table member (the first word), then the live
/// inline slots, counted by the inline length word.
type MapScan<K, V> = crate::scan::Then<
    crate::scan::Fixed<Member<VecStorage<Slot<K, V>>>>,
    crate::scan::Elements<Slot<K, V>, MAP_INLINE_LEN_WORD, MAP_INLINE_SLOTS>,
>;

impl TypeInfo {
    const fn map<K: ?Sized + 'static, V: Trace>() -> TypeInfo {
        // The inline table is where the constants say, whatever K and V are.
        assert!(std::mem::offset_of!(MapHeader<K, V>, inline_capacity) == MAP_INLINE_TABLE);
        assert!(std::mem::size_of::<MapHeader<K, V>>() == MAP_INLINE_SLOTS);
        assert!(
            std::mem::align_of::<Slot<K, V>>() <= crate::object::OBJECT_ALIGN,
            "Pinion heap types must have an alignment of at most 8 bytes"
        );
        TypeInfo {
            magic: TYPE_MAGIC,
            name: std::any::type_name::<GcMap<K, V>>,
            fixed_size: 0,
            small: None,
            var_size: Some(map_size::<K, V>),
            trace: Some(map_trace::<K, V>),
            ref_words: None,
            scan: ScanEntries::of::<MapScan<K, V>>(),
            drop: if std::mem::needs_drop::<V>() {
                Some(map_drop::<K, V>)
            } else {
                None
            },
            data: map_data::<K, V>,
            pin_target: None,
            check: Some(map_check::<K, V>),
        }
    }
}

/// The key of a map lookup or replacement: a member referring to the key object, or the key's
/// [`Identity`](crate::Identity). An identity needs no object to be reached: an interpreter keeps
/// one per name in its bytecode, and a lookup by it skips loading the name from the heap; a
/// lookup by member reads the key's identity hash from the heap's table when it must probe.
/// `From` makes either out of a `&Member<K>` or an `Identity`.
pub enum MapKey<'k, K: ?Sized> {
    /// The key object, through a member (null finds nothing).
    Member(&'k Member<K>),
    /// The key object's identity.
    Identity(crate::Identity),
}

impl<K: ?Sized> std::fmt::Debug for MapKey<'_, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MapKey::Member(m) => write!(f, "MapKey::Member({:?})", m.slot().get()),
            MapKey::Identity(id) => write!(f, "MapKey::Identity({id:?})"),
        }
    }
}

impl<K: ?Sized> Clone for MapKey<'_, K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K: ?Sized> Copy for MapKey<'_, K> {}

impl<'k, K: ?Sized> From<&'k Member<K>> for MapKey<'k, K> {
    fn from(member: &'k Member<K>) -> Self {
        MapKey::Member(member)
    }
}

impl<K: ?Sized> From<crate::Identity> for MapKey<'_, K> {
    fn from(identity: crate::Identity) -> Self {
        MapKey::Identity(identity)
    }
}

/// A map read through a scope: its entries, borrowed from the scope. It is also how the
/// scope's member-based map operations name a map (`Scope::map_lookup`,
/// `Scope::map_replace_copy`), whether it was reached through a handle or a member.
pub struct MapView<'a, K: ?Sized, V> {
    slots: &'a [Slot<K, V>],
    count: usize,
    /// The table object (for the store path; writes never go through `slots`).
    table: ObjPtr,
    /// The map object.
    map: ObjPtr,
}

impl<K: ?Sized, V> std::fmt::Debug for MapView<'_, K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MapView({} entries)", self.count)
    }
}

impl<K: ?Sized, V> Clone for MapView<'_, K, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K: ?Sized, V> Copy for MapView<'_, K, V> {}

impl<'a, K: ?Sized, V> MapView<'a, K, V> {
    pub(crate) fn slots(&self) -> &'a [Slot<K, V>] {
        self.slots
    }

    pub(crate) fn table(&self) -> ObjPtr {
        self.table
    }

    pub(crate) fn map(&self) -> ObjPtr {
        self.map
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the map has no entry.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The entries, in table order: each key (to follow with `Scope::deref` or root with
    /// `Scope::root`) and its value.
    pub fn iter(&self) -> impl Iterator<Item = (&'a Member<K>, &'a V)> + 'a {
        self.slots.iter().filter_map(|slot| match slot.state() {
            SlotState::Full(_, value) => Some((&slot.key, value)),
            _ => None,
        })
    }
}

impl<K: ?Sized + 'static, V: Trace> crate::GcObject for GcMap<K, V> {
    const TYPE_INFO: &'static TypeInfo = &TypeInfo::map::<K, V>();
    type Ref<'a> = MapView<'a, K, V>;
    #[inline]
    unsafe fn read<'a>(payload: *const u8) -> MapView<'a, K, V> {
        // SAFETY: forwarded from the caller: the table in use is the live inline table or the
        // live table object the member refers to, laid out alike.
        unsafe {
            let (_, holder, storage) = table_in_use::<K, V>(payload.cast_mut());
            MapView {
                slots: storage_elements::<Slot<K, V>>(storage),
                count: (*payload.cast::<MapHeader<K, V>>()).count,
                table: holder,
                // A reference is its object's payload address.
                map: ObjPtr::from_ref_unchecked(payload.cast_mut()),
            }
        }
    }
}

/// The table a live map uses: (the map object, the object holding the slots (the map itself
/// while its table is inline, else its table object), and the table's storage payload, which
/// starts with the capacity and length words).
///
/// # Safety
/// `payload` points to a live `GcMap<K, V>` payload.
#[inline(always)]
pub(crate) unsafe fn table_in_use<K: ?Sized, V>(payload: *mut u8) -> (ObjPtr, ObjPtr, *mut u8) {
    // SAFETY: forwarded from the caller; a reference is its object's payload address (so the
    // map's is `payload`, and a table's is its storage), and a non-null table member refers to
    // a live table object. Both choices are computed and one is selected (no branch for the
    // processor to predict on every lookup).
    unsafe {
        let map = payload;
        let table = (*payload.cast::<MapHeader<K, V>>()).table.slot().get();
        let inline = table.is_null();
        let holder = if inline { map } else { table };
        let storage = if inline {
            payload.add(MAP_INLINE_TABLE)
        } else {
            table
        };
        (
            ObjPtr::from_ref_unchecked(map),
            ObjPtr::from_ref_unchecked(holder),
            storage,
        )
    }
}

#[cfg(test)]
mod tests;
