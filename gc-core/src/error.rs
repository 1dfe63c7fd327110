//! Errors the collector reports to safe code. API misuse and exhausted limits are values of
//! [`GcError`], never panics, and nothing already allocated is lost when one is returned.

/// What went wrong in a heap operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GcError {
    /// The operating system refused memory, or the heap limit (`MAX`) would be exceeded even
    /// after a full collection. The heap stays usable.
    #[error("out of memory: cannot allocate {requested} bytes with {in_use} bytes in use (limit: {}): {reason}", limit.map_or("none".to_string(), |l| format!("{l} bytes")))]
    OutOfMemory {
        /// Bytes the failing allocation asked for.
        requested: usize,
        /// Heap footprint when it failed: nursery + old generation + large objects.
        in_use: usize,
        /// The heap limit, if one is set.
        limit: Option<usize>,
        /// Why it could not be satisfied.
        reason: &'static str,
    },
    /// `MAX_PINNED` nursery objects are pinned already.
    #[error("cannot pin: {limit} nursery objects are pinned already (MAX_PINNED)")]
    PinLimitReached {
        /// The limit.
        limit: usize,
    },
    /// Pinning is disabled (`MAX_PINNED=0`).
    #[error("cannot pin: pinning is disabled (MAX_PINNED=0)")]
    PinningDisabled,
    /// The pin to end is not an active pin of this heap.
    #[error("not pinned: the pin was already released or belongs to another heap")]
    NotPinned,
    /// The configuration is invalid.
    #[error("invalid heap configuration: {0}")]
    InvalidConfig(String),
    /// A handle created by one heap was used with another.
    #[error("handle belongs to heap #{handle_heap}, not to heap #{this_heap}")]
    ForeignHandle {
        /// The heap that created the handle.
        handle_heap: u32,
        /// The heap it was used with.
        this_heap: u32,
    },
    /// A member of another heap's object was given to `Scope::root`.
    #[error("the member belongs to another heap")]
    ForeignMember,
    /// `Scope::set` was given a field projection that does not lie inside the object, so the
    /// write barrier could not record it (only members stored inline in the object are
    /// writable).
    #[error("the member to write does not lie inside the object being written")]
    MemberOutsideObject,
    /// A variant projection (`Scope::set_variant`, `Scope::load_variant`) found no field: the
    /// object is another variant.
    #[error("the object is not the variant the projection selects")]
    WrongVariant,
    /// A growable array (`GcVec`) would have to move its storage to grow, but the storage is
    /// pinned; nothing was changed.
    #[error("the vector cannot grow while its storage is pinned")]
    ArrayPinned,
    /// An array index past the end.
    #[error("index {index} out of bounds for an array of length {len}")]
    IndexOutOfBounds {
        /// The index asked for.
        index: usize,
        /// The array's length.
        len: usize,
    },
    /// A size that cannot be represented (for example an array longer than memory).
    #[error("requested size overflows: {0}")]
    SizeOverflow(&'static str),
    /// Every heap id has been given out in this process (about four billion heaps made): a
    /// heap cannot be created. Ids are never reused, since handles, pin guards and persistent
    /// roots name their heap by id, and one that outlived its heap must never pass for another
    /// heap's.
    #[error("no heap id is left: {0} heaps were made in this process, and ids are never reused")]
    HeapIdsExhausted(u32),
}
