//! The object model: one header word, then the payload.
//!
//! ```text
//!   start ──►  ┌───────────────────────────────┐
//!              │ header: &TypeInfo | flags (8B) │  or, once copied: new reference | FORWARDED
//!   ObjPtr ──► ├───────────────────────────────┤
//!              │ payload (the Rust value, or    │  aligned to 8; its size comes from the
//!              │ len + elements for arrays)     │  TypeInfo
//!              └───────────────────────────────┘
//! ```
//!
//! **References point at the payload.** A reference (an [`ObjPtr`], a member's or a handle's
//! slot, a `RawGc`) holds the payload's address, so a view of the object is the reference
//! itself: following a member is one load, with no header to step over and no null test to
//! keep apart from it. The header sits one word before; the object's start, the address the
//! spaces and side tables deal in, is [`ObjPtr::addr`].
//!
//! **Header.** A single pointer-sized word. `TypeInfo` is aligned to 512 bytes, so the low
//! nine bits of its address are free for [`HeaderFlags`]. When a minor collection copies an
//! object, the old header is overwritten with the new address plus `FORWARDED`; since every
//! object has a header, every object has room for its forwarding pointer and the minimum object
//! size is one word. Per-object overhead is therefore 8 bytes of header plus rounding of the
//! payload up to 8 bytes (and, in the old generation, rounding up to the size class).
//!
//! The header is stored as a pointer (not an integer) so that forwarding addresses keep their
//! provenance, which keeps the code valid under Miri's strict-provenance checks.
//!
//! Invariants:
//! - the header of a live, unforwarded object holds a `&'static TypeInfo` whose `magic` is
//!   [`TYPE_MAGIC`];
//! - `NEEDS_DROP` is set exactly when the type info has drop glue;
//! - `LARGE` is set exactly on objects in the large-object space, `YOUNG_LARGE` only on large
//!   objects allocated since the last minor collection;
//! - `TRACK_YOUNG` is set only on old objects, exactly those not in the remembered set;
//! - `LOG_STORES` is set only on old objects, exactly those not in the store log (`heap/mod.rs`,
//!   which sticky major collections read);
//! - `FORWARDED` appears only in the nursery, only during a minor collection.

use std::ptr::NonNull;

use bitflags::bitflags;

use crate::trace::Tracer;

mod type_info;

pub use type_info::TypeInfo;
pub(crate) use type_info::{IdentityOf, SmallShape};

/// Bytes of header in front of every payload.
pub const HEADER_SIZE: usize = 8;
/// Alignment of every object and payload.
pub const OBJECT_ALIGN: usize = 8;
/// Value of [`TypeInfo::magic`]; the verifier uses it to recognise a valid header.
pub(crate) const TYPE_MAGIC: u64 = 0x5049_4e49_4f4e_5459; // "PINIONTY"

bitflags! {
    /// Flags kept in the low bits of an object's header word.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct HeaderFlags: usize {
        /// The header holds the forwarding address of the object's copy (minor GC only).
        const FORWARDED = 1 << 0;
        /// Old object not in the remembered set: a reference store must take the barrier's
        /// slow path. The barrier's fast path is a test of this one bit.
        const TRACK_YOUNG = 1 << 1;
        /// The object lives in the large-object space (never moves).
        const LARGE = 1 << 2;
        /// A large object allocated since the last minor collection (it is young).
        const YOUNG_LARGE = 1 << 3;
        /// The type has drop glue that must run once the object dies.
        const NEEDS_DROP = 1 << 4;
        /// A young large object reached during the current minor collection.
        const SURVIVED = 1 << 5;
        /// The object has active pins: it must not move.
        const PINNED = 1 << 6;
        /// The object has an identity hash in the heap's identity table.
        const HASHED = 1 << 7;
        /// Old object not in the store log: its next reference store takes the barrier's slow
        /// path, which logs it, so that a sticky major collection finds every old object
        /// written since the last major one (see `collect/sticky.rs`).
        const LOG_STORES = 1 << 8;
    }
}

const FLAG_MASK: usize = 0x1ff;

/// Rounds `n` up to a multiple of [`OBJECT_ALIGN`].
#[inline(always)]
pub(crate) const fn align_up(n: usize) -> usize {
    (n + OBJECT_ALIGN - 1) & !(OBJECT_ALIGN - 1)
}

/// The smallest object: the old generation's smallest size class, so that promoting an object
/// never more than rounds it up to the next class (a header-only object of 8 bytes would take a
/// 16-byte slot: twice its size, which the heap limit's worst case would have to assume).
pub(crate) const MIN_OBJECT_SIZE: usize = 16;

/// Total size of an object with `payload` bytes of payload: header included, aligned, at least
/// [`MIN_OBJECT_SIZE`]. `None` when it overflows.
#[inline(always)]
pub(crate) const fn object_size(payload: usize) -> Option<usize> {
    match HEADER_SIZE.checked_add(payload) {
        Some(n) if n <= usize::MAX - OBJECT_ALIGN => {
            let size = align_up(n);
            Some(if size < MIN_OBJECT_SIZE {
                MIN_OBJECT_SIZE
            } else {
                size
            })
        }
        _ => None,
    }
}

/// [`object_size`] of a fixed-size type (its size cannot overflow).
pub(crate) const fn fixed_object_size<T>() -> usize {
    match object_size(std::mem::size_of::<T>()) {
        Some(size) => size,
        None => panic!("a type larger than the address space"),
    }
}

/// Copies the payload of an object of `size` bytes (a multiple of 8, at least
/// [`MIN_OBJECT_SIZE`]): the `size - 8` bytes after the header, which the caller writes itself.
/// Up to 64 bytes the moves are fixed-size, chosen by tests of the size's bits (a loop, or a
/// `match` of one copy per word count, is merged by the compiler into a `memcpy` call of the
/// variable size), and no two of them overlap.
///
/// Why not the whole object in two overlapping moves, as promotion once copied: the header was
/// then written twice (by the first move and by the caller's store of the new header) and the
/// middle of a 24-byte object twice, three stores into an old-space line that is usually still
/// on its way from memory where two do. With one store per word, binary-trees 20's minor
/// collections took 17% less time (`docs/performance.md`), for 6% more instructions.
///
/// # Safety
/// `from` is readable and `to` writable for `size` bytes, both 8-aligned, not overlapping.
#[inline(always)]
pub(crate) unsafe fn copy_payload(from: *const u8, to: *mut u8, size: usize) {
    /// Copies `N` bytes from `from + at` to `to + at`.
    ///
    /// # Safety
    /// As for `copy_payload`, with `HEADER_SIZE <= at` and `at + N <= size`.
    #[inline(always)]
    unsafe fn chunk<const N: usize>(from: *const u8, to: *mut u8, at: usize) {
        // SAFETY: forwarded from the caller; untyped, so pointers keep their provenance.
        unsafe { std::ptr::copy_nonoverlapping(from.add(at), to.add(at), N) }
    }
    debug_assert!(size >= MIN_OBJECT_SIZE && size.is_multiple_of(8));
    let payload = size - HEADER_SIZE;
    if payload > 56 {
        // SAFETY: forwarded from the caller: the payload lies within the object.
        unsafe {
            std::ptr::copy_nonoverlapping(from.add(HEADER_SIZE), to.add(HEADER_SIZE), payload)
        };
        return;
    }
    // SAFETY: forwarded from the caller. With `payload` a multiple of 8 of at most 56, the
    // 16-byte moves cover its first `payload & !15` bytes and the 8-byte move its last word
    // when `payload & 8`: every byte once, all inside the payload.
    unsafe {
        let whole = payload & !15;
        if whole >= 16 {
            chunk::<16>(from, to, HEADER_SIZE);
        }
        if whole >= 32 {
            chunk::<16>(from, to, HEADER_SIZE + 16);
        }
        if whole >= 48 {
            chunk::<16>(from, to, HEADER_SIZE + 32);
        }
        if payload & 8 != 0 {
            chunk::<8>(from, to, HEADER_SIZE + whole);
        }
    }
}

/// A reference to an object: the address of its payload, one header past the object's start.
/// It is the value every reference slot holds (a member, a handle's slot, a `RawGc`, a
/// forwarding word), so that following a reference to the payload is a load and nothing more
/// (`Scope::deref` returns the slot's value as the view). Copy, comparable, no lifetime: only
/// the collector and the scope's accessors turn it back into views.
///
/// The object's start (its header) is `HEADER_SIZE` bytes before; [`ObjPtr::addr`] is the
/// start's address, the one the side tables (mark bits, pages, runs) index by. Because every
/// object is at least [`MIN_OBJECT_SIZE`] bytes, a reference lies strictly inside its
/// object's memory: a range test of a reference against a space's bounds (the nursery's, a
/// mapping's) answers as a test of the start would.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct ObjPtr(NonNull<u8>);

impl ObjPtr {
    /// The object a slot's value refers to; `None` for a null slot.
    #[inline(always)]
    pub(crate) fn from_ref(reference: *mut u8) -> Option<ObjPtr> {
        NonNull::new(reference).map(ObjPtr)
    }

    /// # Safety
    /// `reference` is not null.
    #[inline(always)]
    pub(crate) unsafe fn from_ref_unchecked(reference: *mut u8) -> ObjPtr {
        // SAFETY: forwarded from the caller.
        ObjPtr(unsafe { NonNull::new_unchecked(reference) })
    }

    /// The object whose memory (header first) begins at `start`.
    ///
    /// # Safety
    /// `start` is the address of an object's header word (written or to be written) inside a
    /// heap mapping.
    #[inline(always)]
    pub(crate) unsafe fn from_start(start: *mut u8) -> ObjPtr {
        // SAFETY: the header word lies inside the mapping, so one header past its start is in
        // bounds (or one past the end) and, being past a non-null address, non-null.
        ObjPtr(unsafe { NonNull::new_unchecked(start.add(HEADER_SIZE)) })
    }

    /// The value a slot holds to refer to this object (the payload's address).
    #[inline(always)]
    pub(crate) fn to_ref(self) -> *mut u8 {
        self.0.as_ptr()
    }

    /// The object's start: its header's address.
    #[inline(always)]
    pub(crate) fn start(self) -> *mut u8 {
        // A wrapping step back, not an in-bounds one: `from_ref` is safe and takes any slot
        // value, so this must be sound for a corrupted one too (the verifier's inputs). For a
        // real reference, one header past its object's start, it is the same instruction.
        self.0.as_ptr().wrapping_sub(HEADER_SIZE)
    }

    /// The address of the object's start (see the type's comment).
    #[inline(always)]
    pub(crate) fn addr(self) -> usize {
        self.start().addr()
    }

    /// Whether the object lies in the space of `len` bytes at address `start` (a space holds
    /// whole objects). The reference itself is tested, which spares the hot range tests (the
    /// nursery's, in every visit of a collection) the step back to the start: a reference
    /// lies strictly inside its object, which lies wholly inside or wholly outside the space.
    #[inline(always)]
    pub(crate) fn lies_in(self, start: usize, len: usize) -> bool {
        self.0.as_ptr().addr().wrapping_sub(start) < len
    }

    /// The start address of the object a slot's value refers to (0 for a null value): the key
    /// of the address-keyed tables (pins, the identity table, the verifier's maps), which deal
    /// in starts. It wraps rather than fails, so that the verifier can name a corrupt value.
    #[inline(always)]
    pub(crate) fn start_addr_of(reference: *mut u8) -> usize {
        if reference.is_null() {
            0
        } else {
            reference.addr().wrapping_sub(HEADER_SIZE)
        }
    }

    /// The payload that follows the header: the reference itself.
    #[inline(always)]
    pub(crate) fn payload(self) -> *mut u8 {
        self.0.as_ptr()
    }

    /// Raw header word.
    ///
    /// # Safety
    /// `self` points to an object header in heap memory.
    #[inline(always)]
    pub(crate) unsafe fn header(self) -> *mut u8 {
        // SAFETY: caller guarantees a readable, 8-aligned header word.
        unsafe { *self.start().cast::<*mut u8>() }
    }

    /// # Safety
    /// `self` points to an object header in heap memory that nobody else is reading now.
    #[inline(always)]
    pub(crate) unsafe fn set_header(self, word: *mut u8) {
        // SAFETY: caller guarantees a writable, 8-aligned header word.
        unsafe { *self.start().cast::<*mut u8>() = word }
    }

    /// Writes a fresh header for a new object of type `info`.
    ///
    /// # Safety
    /// `self` points to at least a header's worth of writable heap memory.
    #[inline(always)]
    pub(crate) unsafe fn init_header(self, info: &'static TypeInfo, flags: HeaderFlags) {
        let word = (info as *const TypeInfo as *mut u8).map_addr(|a| a | flags.bits());
        // SAFETY: forwarded from the caller.
        unsafe { self.set_header(word) }
    }

    /// # Safety
    /// `self` points to an object header.
    #[inline(always)]
    pub(crate) unsafe fn flags(self) -> HeaderFlags {
        // SAFETY: forwarded from the caller.
        HeaderFlags::from_bits_retain(unsafe { self.header() }.addr() & FLAG_MASK)
    }

    /// # Safety
    /// `self` points to an unforwarded object header.
    #[inline(always)]
    pub(crate) unsafe fn set_flags(self, flags: HeaderFlags) {
        // SAFETY: forwarded from the caller.
        unsafe {
            let word = self.header().map_addr(|a| (a & !FLAG_MASK) | flags.bits());
            self.set_header(word);
        }
    }

    /// # Safety
    /// `self` points to an unforwarded object header.
    #[inline(always)]
    pub(crate) unsafe fn insert_flags(self, flags: HeaderFlags) {
        // SAFETY: forwarded from the caller.
        unsafe { self.set_flags(self.flags() | flags) }
    }

    /// # Safety
    /// `self` points to an unforwarded object header.
    #[inline(always)]
    pub(crate) unsafe fn remove_flags(self, flags: HeaderFlags) {
        // SAFETY: forwarded from the caller.
        unsafe { self.set_flags(self.flags() - flags) }
    }

    /// Whether the object's type is `info` and none of the flags `without` is set: one test of
    /// the header word (a type info's low bits are zero, and its other bits are the header's).
    ///
    /// # Safety
    /// `self` points to an unforwarded object header written by `init_header`.
    #[inline(always)]
    pub(crate) unsafe fn is_of_type(self, info: &'static TypeInfo, without: HeaderFlags) -> bool {
        // SAFETY: forwarded from the caller.
        let word = unsafe { self.header() }.addr();
        word & !(FLAG_MASK & !without.bits()) == (info as *const TypeInfo).addr()
    }

    /// The object's type.
    ///
    /// # Safety
    /// `self` points to an unforwarded object header written by `init_header`.
    #[inline(always)]
    pub(crate) unsafe fn type_info(self) -> &'static TypeInfo {
        // SAFETY: an unforwarded header holds a &'static TypeInfo plus flag bits.
        unsafe {
            &*self
                .header()
                .map_addr(|a| a & !FLAG_MASK)
                .cast::<TypeInfo>()
        }
    }

    /// Payload size in bytes.
    ///
    /// # Safety
    /// `self` points to a live, unforwarded object.
    #[inline(always)]
    pub(crate) unsafe fn payload_size(self) -> usize {
        // SAFETY: forwarded from the caller.
        let info = unsafe { self.type_info() };
        match info.var_size {
            None => info.fixed_size,
            // SAFETY: the payload is live and of this type.
            Some(size) => unsafe { size(self.payload()) },
        }
    }

    /// Total object size (header + payload), rounded to the object alignment.
    ///
    /// # Safety
    /// `self` points to a live, unforwarded object.
    #[inline(always)]
    pub(crate) unsafe fn size(self) -> usize {
        // SAFETY: forwarded from the caller.
        let payload = unsafe { self.payload_size() };
        // A live object's size was computed without overflow when it was allocated.
        object_size(payload).unwrap_or(usize::MAX)
    }

    /// Where the object was copied to, if it was.
    ///
    /// # Safety
    /// `self` points to an object header.
    #[inline(always)]
    pub(crate) unsafe fn forwardee(self) -> Option<ObjPtr> {
        // SAFETY: forwarded from the caller.
        let word = unsafe { self.header() };
        let forwarded = HeaderFlags::FORWARDED.bits();
        if word.addr() & forwarded != 0 {
            // Objects are only 8-aligned: clear the FORWARDED bit alone, not the whole mask.
            ObjPtr::from_ref(word.map_addr(|a| a & !forwarded))
        } else {
            None
        }
    }

    /// Overwrites the header with a forwarding pointer to `to`.
    ///
    /// # Safety
    /// `self` is a nursery object whose contents have been copied to `to`.
    #[inline(always)]
    pub(crate) unsafe fn forward_to(self, to: ObjPtr) {
        let word = to.to_ref().map_addr(|a| a | HeaderFlags::FORWARDED.bits());
        // SAFETY: forwarded from the caller.
        unsafe { self.set_header(word) }
    }

    /// Whether a scan of the object could visit anything: `false` when its type holds no
    /// references, or holds them at known words ([`TypeInfo::ref_words`]) that are all null
    /// (a tree's leaves, half its nodes). Reads only those words.
    ///
    /// Each non-null reference at a known word is also handed to `target`: the minor
    /// collection prefetches the young ones while it copies the object, so that they are in
    /// cache when the copy is scanned.
    ///
    /// # Safety
    /// `self` is a live, unforwarded object.
    #[inline(always)]
    pub(crate) unsafe fn may_refer(self, mut target: impl FnMut(*mut u8)) -> bool {
        // SAFETY: forwarded from the caller.
        let info = unsafe { self.type_info() };
        let Some(mut words) = info.ref_words else {
            return info.trace.is_some();
        };
        let payload = self.payload();
        let mut refers = false;
        while words != 0 {
            let i = words.trailing_zeros() as usize;
            words &= words - 1;
            // SAFETY: word i of the payload is a `Member` (the REF_WORDS contract of `Trace`),
            // `repr(transparent)` over a `Cell<*mut u8>`, inside the live object.
            let slot = unsafe { &*payload.add(i * 8).cast::<std::cell::Cell<*mut u8>>() };
            let referent = slot.get();
            if !referent.is_null() {
                target(referent);
                refers = true;
            }
        }
        refers
    }

    /// Visits the object's references.
    ///
    /// # Safety
    /// `self` is a live, unforwarded object; the tracer may rewrite its reference fields.
    #[inline]
    pub(crate) unsafe fn trace(self, tracer: &mut Tracer<'_>) {
        // SAFETY: forwarded from the caller.
        if let Some(trace) = unsafe { self.type_info() }.trace {
            // SAFETY: the payload is a live value of the type that `trace` belongs to.
            unsafe { trace(self.payload(), tracer) }
        }
    }

    /// Whether the header holds a plausible type descriptor: in readable memory and carrying
    /// the magic number. The verifier asks before anything else reads the descriptor.
    ///
    /// # Safety
    /// `self` points to a readable header word.
    pub(crate) unsafe fn has_valid_type(self) -> bool {
        // SAFETY: forwarded from the caller.
        let word = unsafe { self.header() };
        let info = word.addr() & !FLAG_MASK;
        if info == 0 || !crate::memory_map::readable(info, std::mem::size_of::<TypeInfo>()) {
            return false;
        }
        // SAFETY: the descriptor's bytes are readable (checked above); a corrupted header is
        // caught by the magic check before any other field is used.
        unsafe { (*word.map_addr(|a| a & !FLAG_MASK).cast::<TypeInfo>()).magic == TYPE_MAGIC }
    }

    /// Runs the object's drop glue, containing a panicking destructor so that it never unwinds
    /// through the collector. Returns whether the destructor panicked.
    ///
    /// The panic's payload is a value of the user's choosing, and dropping it may panic too:
    /// it is dropped inside a second `catch_unwind`, and a payload of *that* panic is leaked
    /// rather than dropped. Nothing a destructor does can therefore unwind out of a sweep and
    /// leave a dead slot allocated (its destructor would run again: a double free).
    ///
    /// # Safety
    /// `self` is an unforwarded object that is dead: nothing will read its payload again.
    pub(crate) unsafe fn run_drop(self) -> bool {
        // SAFETY: forwarded from the caller.
        let Some(drop) = (unsafe { self.type_info() }).drop else {
            return false;
        };
        let payload = self.payload();
        // SAFETY: the payload is a dead value of the matching type, dropped exactly once here.
        let run = std::panic::AssertUnwindSafe(|| unsafe { drop(payload) });
        match std::panic::catch_unwind(run) {
            Ok(()) => false,
            Err(panic) => {
                dispose_of_panic(panic);
                true
            }
        }
    }
}

/// Drops a caught panic's payload without letting a further panic escape: a payload whose
/// destructor panics is contained and the payload of that panic dropped in turn (it is usually
/// a plain message); after a few such rounds the last payload is leaked rather than dropped.
pub(crate) fn dispose_of_panic(panic: Box<dyn std::any::Any + Send>) {
    const ROUNDS: usize = 4;
    let mut payload = panic;
    for _ in 0..ROUNDS {
        let drop_payload = std::panic::AssertUnwindSafe(move || drop(payload));
        match std::panic::catch_unwind(drop_payload) {
            Ok(()) => return,
            Err(next) => payload = next,
        }
    }
    std::mem::forget(payload);
}

#[cfg(test)]
mod tests;
