//! The operation language: what a mutator program does, one operation per line.
//!
//! Operations name roots (and pins and weak references) by index, counting back from the most
//! recent (0 is the newest), modulo what exists when they run, so any sequence (a shrunk one
//! too) is valid: an operation whose target does not exist does nothing.
//!
//! | line | meaning |
//! |---|---|
//! | `alloc-node P` | allocate a [`Node`](crate::objects::Node) with payload P, root it |
//! | `alloc-drop P` | allocate a [`DropNode`](crate::objects::DropNode) (drop glue), root it |
//! | `alloc-big P` | allocate a [`BigNode`](crate::objects::BigNode) (large object), root it |
//! | `alloc-bytes LEN SEED` | allocate a byte string of LEN bytes (at most 16 MiB) made from SEED, root it |
//! | `alloc-array LEN` | allocate an array of LEN null references (at most 2 Mi), root it |
//! | `alloc-init P L R` | build a node in one step (`Scope::alloc_init`) whose slots 0 and 1 are node roots L and R (`-` for null), root it |
//! | `alloc-init-old P L R` | the same, born old (`Scope::alloc_init_nonmoving`) |
//! | `alloc-vec CAP` | allocate an empty growable array of inline values ([`Elem`](crate::objects::Elem)) with room for CAP (at most 65536), root it |
//! | `alloc-tuple LEN E` | allocate a fixed-length array of LEN (at most 4096) copies of the value E, root it |
//! | `vec-push V E`, `vec-insert V I E`, `vec-set V I E` | append, insert at I (modulo len + 1), replace at I (modulo len) in growable array root V |
//! | `vec-pop V`, `vec-remove V I`, `vec-truncate V N` | remove the last element, element I, everything from N (modulo len + 1) on |
//! | `vec-copy V SRC DST N` | copy N elements within V from SRC to DST (clipped to the length) |
//! | `tuple-set T I E` | replace element I (modulo len) of fixed-length array root T |
//! | `write SRC SLOT DST` | store root DST (a root of the slot's kind; `-` for null) into slot SLOT of root SRC |
//! | `copy-range SRC DST FROM TO LEN` | copy LEN elements of array root SRC from FROM into array root DST at TO (clipped to both arrays), through the barrier |
//! | `write-bytes ROOT OFFSET VALUE` | overwrite one byte of a byte-string root |
//! | `drop-root ROOT` | forget one of this level's own roots |
//! | `push-scope` / `pop-scope` | open / close a nested root scope |
//! | `minor` / `major` | force a minor / major collection |
//! | `pin ROOT` | pin a root's object (a refused pin is counted, not a failure) |
//! | `unpin PIN` / `drop-pin PIN` | end a pin explicitly / by dropping its guard |
//! | `foreign-unpin PIN` | try to end a pin through another heap's scope: refused, and the guard, dropped, ends the pin on its own heap |
//! | `pinned-write PIN OFFSET VALUE` | write one byte of a pinned byte string through its raw pointer |
//! | `ffi ROOT OFFSET VALUE` | write one byte of a byte-string root inside the FFI helper |
//! | `c-fill PIN VALUE` | hand a pinned byte string to the "C thread", which checks its contents and fills it with VALUE while this thread goes on |
//! | `persist ROOT` | make a persistent root to a root's object (at most 32; a 33rd drops the oldest) |
//! | `unpersist P` | drop persistent root P (counting back from the newest) |
//! | `persist-read P` | root persistent root P's object in the current level |
//! | `weak ROOT` | make a weak reference to a root's object |
//! | `weak-read W` | upgrade a weak reference; a live result becomes a root |
//! | `hash ROOT` | ask for a root's identity hash (it must never change) |
//! | `freeze` / `unfreeze` | freeze the heap (a major collection, then the old generation is sealed) / return it to normal collection |
//! | `hooks K` | install hooks of kind K: 0 none, 1 no-op, 2 allocating, 3 collecting, 4 pinning |
//! | `corrupt ROOT` | test only: flip a node's payload behind the model's back |
//!
//! A value E is `-` (nil), `#N` (the number N) or `@R` (node root R, or nil when there is
//! none).

#[cfg(test)]
mod tests;
mod text;

pub use text::ParseOpError;

/// The longest byte string an operation allocates (the harness builds its contents in ordinary
/// memory too, so a hand-written `alloc-bytes 4294967295` must be refused, not attempted).
pub const MAX_BYTES_LEN: u32 = 1 << 24;
/// The longest array an operation allocates.
pub const MAX_ARRAY_LEN: u32 = 1 << 21;
/// The largest capacity `alloc-vec` asks for.
pub const MAX_VEC_CAPACITY: u32 = 1 << 16;
/// The longest tuple `alloc-tuple` allocates.
pub const MAX_TUPLE_LEN: u32 = 1 << 12;

/// An inline value operand: nothing, a number, or a node root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElemSpec {
    /// Nothing.
    Nil,
    /// A number.
    Num(u64),
    /// Node root (modulo the node roots; nothing when there is none).
    Node(u32),
}

/// One mutator operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Allocate a node.
    AllocNode {
        /// Its payload.
        payload: u64,
    },
    /// Allocate a node with drop glue.
    AllocDrop {
        /// Its payload.
        payload: u64,
    },
    /// Allocate a large node.
    AllocBig {
        /// Seed of its payload.
        payload: u64,
    },
    /// Allocate a byte string.
    AllocBytes {
        /// Length in bytes.
        len: u32,
        /// Seed of its contents.
        seed: u64,
    },
    /// Allocate an array of null references.
    AllocArray {
        /// Number of elements.
        len: u32,
    },
    /// Build a node in one step with its first two reference slots set.
    AllocInit {
        /// Its payload.
        payload: u64,
        /// Node root for slot 0 (modulo the node roots), or `None` for null.
        left: Option<u32>,
        /// Node root for slot 1, or `None`.
        right: Option<u32>,
        /// Born old (non-moving) instead of young.
        old: bool,
    },
    /// Allocate an empty growable array of inline values.
    AllocVec {
        /// Its initial capacity.
        capacity: u32,
    },
    /// Allocate a fixed-length array of inline values, all equal.
    AllocTuple {
        /// Its length.
        len: u32,
        /// Its elements.
        elem: ElemSpec,
    },
    /// Append to a growable array.
    VecPush {
        /// Growable-array root.
        vec: u32,
        /// The value.
        elem: ElemSpec,
    },
    /// Insert into a growable array.
    VecInsert {
        /// Growable-array root.
        vec: u32,
        /// Position (modulo len + 1).
        index: u32,
        /// The value.
        elem: ElemSpec,
    },
    /// Replace an element of a growable array.
    VecSet {
        /// Growable-array root.
        vec: u32,
        /// Position (modulo len).
        index: u32,
        /// The value.
        elem: ElemSpec,
    },
    /// Remove the last element of a growable array.
    VecPop {
        /// Growable-array root.
        vec: u32,
    },
    /// Remove an element of a growable array.
    VecRemove {
        /// Growable-array root.
        vec: u32,
        /// Position (modulo len).
        index: u32,
    },
    /// Shorten a growable array.
    VecTruncate {
        /// Growable-array root.
        vec: u32,
        /// New length (modulo len + 1).
        len: u32,
    },
    /// Copy elements within a growable array.
    VecCopy {
        /// Growable-array root.
        vec: u32,
        /// First source element (modulo len).
        src: u32,
        /// First destination element (modulo len).
        dst: u32,
        /// Elements (clipped to the length).
        count: u32,
    },
    /// Append a copy of an element of a growable array through a view (`VecView::push_copy`,
    /// an interpreter pushing a local: a store without a barrier); nothing when it is full.
    ViewPushCopy {
        /// Growable-array root.
        vec: u32,
        /// Source element (modulo len).
        src: u32,
    },
    /// Copy an element of a growable array over another through a view (`VecView::copy`, an
    /// interpreter assigning a local: a store without a barrier).
    ViewCopy {
        /// Growable-array root.
        vec: u32,
        /// Source element (modulo len).
        src: u32,
        /// Destination element (modulo len).
        dst: u32,
    },
    /// Replace an element of a growable array with a number through a view (`VecView::set`
    /// of a value built in safe code: a store without a barrier).
    ViewSet {
        /// Growable-array root.
        vec: u32,
        /// Position (modulo len).
        index: u32,
        /// The number.
        value: u64,
    },
    /// With a view of a growable array open, lend its scope out (`VecView::with_scope`, an
    /// interpreter allocating inside its dispatch loop) to push a value through the scope
    /// (which may grow the storage and run a collection that moves it), then copy the new last
    /// element over another through the same view.
    ViewLentPush {
        /// Growable-array root.
        vec: u32,
        /// The value pushed.
        elem: ElemSpec,
        /// Destination of the copy (modulo the new length).
        dst: u32,
    },
    /// Replace an element of a fixed-length array.
    TupleSet {
        /// Fixed-length-array root.
        tuple: u32,
        /// Position (modulo len).
        index: u32,
        /// The value.
        elem: ElemSpec,
    },
    /// Store a reference (or null).
    Write {
        /// Root whose object is written.
        src: u32,
        /// Slot index (modulo the object's slot count).
        slot: u32,
        /// Root of the slot's kind to store (modulo their count), or `None` for null.
        dst: Option<u32>,
    },
    /// Copy a range of array elements through the barrier.
    CopyRange {
        /// Source array root (among array roots).
        src: u32,
        /// Destination array root (among array roots).
        dst: u32,
        /// First source element (modulo the source length).
        from: u32,
        /// First destination element (modulo the destination length).
        to: u32,
        /// Elements to copy (clipped to both arrays).
        len: u32,
    },
    /// Overwrite one byte of a byte string.
    WriteBytes {
        /// Byte-string root (modulo their count).
        root: u32,
        /// Offset (modulo the length).
        offset: u32,
        /// New value.
        value: u8,
    },
    /// Forget a root of the current level.
    DropRoot {
        /// Index among the level's own roots (modulo their count).
        root: u32,
    },
    /// Open a nested scope.
    PushScope,
    /// Close the current nested scope.
    PopScope,
    /// Force a minor collection.
    Minor,
    /// Force a major collection.
    Major,
    /// Pin a root's object.
    Pin {
        /// Root index (modulo the number of roots).
        root: u32,
    },
    /// End a pin with `Scope::unpin`.
    Unpin {
        /// Pin index (modulo the number of live pins).
        pin: u32,
    },
    /// End a pin by dropping its guard.
    DropPin {
        /// Pin index (modulo the number of live pins).
        pin: u32,
    },
    /// Try to end a pin through another heap's scope (refused; the guard is then dropped).
    ForeignUnpin {
        /// Pin index (modulo the number of live pins).
        pin: u32,
    },
    /// Write a byte of a pinned byte string through the raw pointer.
    PinnedWrite {
        /// Pin index among pinned byte strings.
        pin: u32,
        /// Offset (modulo the length).
        offset: u32,
        /// New value.
        value: u8,
    },
    /// Write a byte of a byte-string root inside `Scope::with_nonmoving_buffer`.
    Ffi {
        /// Byte-string root (modulo their count).
        root: u32,
        /// Offset (modulo the length).
        offset: u32,
        /// New value.
        value: u8,
    },
    /// Hand a pinned byte string to the C thread: it checks the contents and fills them.
    CFill {
        /// Pin index among pinned byte strings.
        pin: u32,
        /// The fill value.
        value: u8,
    },
    /// Make a persistent root to a root's object.
    Persist {
        /// Root index (modulo the number of roots).
        root: u32,
    },
    /// Drop a persistent root.
    Unpersist {
        /// Persistent-root index (modulo their number).
        persistent: u32,
    },
    /// Root a persistent root's object in the current level.
    PersistRead {
        /// Persistent-root index (modulo their number).
        persistent: u32,
    },
    /// Make a weak reference to a root's object.
    Weak {
        /// Root index (modulo the number of roots).
        root: u32,
    },
    /// Upgrade a weak reference.
    WeakRead {
        /// Weak-reference index (modulo their number).
        weak: u32,
    },
    /// Ask for a root's identity hash.
    Hash {
        /// Root index (modulo the number of roots).
        root: u32,
    },
    /// Freeze the heap.
    Freeze,
    /// Unfreeze the heap.
    Unfreeze,
    /// Install (or remove) collection hooks.
    Hooks {
        /// The kind (see [`crate::hooks::HookKind::from_index`]).
        kind: u32,
    },
    /// Test-only corruption: flip a node's payload without telling the model.
    Corrupt {
        /// Node root (modulo their count).
        root: u32,
    },
}
