//! A heap type's static descriptor, [`TypeInfo`]: what the collector needs to know about a
//! type without knowing the type (its size, its references, its drop glue), reached from every
//! object's header.
//!
//! Invariants: a `TypeInfo`'s `magic` is [`TYPE_MAGIC`]; it is aligned to 512 bytes, so that
//! its address leaves the header's nine flag bits free (`object.rs`); `small` is `Some` exactly
//! for the fixed-size types whose objects fit an old-generation slot, with their size and class.

use super::{object_size, OBJECT_ALIGN, TYPE_MAGIC};
use crate::scan::ScanEntries;
use crate::trace::Tracer;

/// Static description of a heap type: its size, how to trace it and how to drop it.
///
/// One `TypeInfo` exists per type (per codegen unit); headers point at it.
#[repr(C, align(512))]
#[derive(Debug)]
pub struct TypeInfo {
    pub(crate) magic: u64,
    pub(crate) name: fn() -> &'static str,
    /// Payload size of fixed-size types.
    pub(crate) fixed_size: usize,
    /// Payload size of variable-size types, computed from the payload.
    pub(crate) var_size: Option<unsafe fn(*const u8) -> usize>,
    /// For a fixed-size type whose objects fit an old-generation slot: their size and size
    /// class, precomputed for promotion (see [`SmallShape`]); `None` for other types.
    pub(crate) small: Option<SmallShape>,
    /// Visits the payload's references; `None` when the type holds none.
    pub(crate) trace: Option<unsafe fn(*const u8, &mut Tracer<'_>)>,
    /// The payload words that hold references, when they are known ([`crate::Trace::REF_WORDS`]
    /// of a fixed-size type); `None` otherwise. Evacuation reads them to skip the scan of a
    /// copy whose references are all null (see [`super::ObjPtr::may_refer`]).
    pub(crate) ref_words: Option<u64>,
    /// The collectors' scan functions for the payload (see the `scan` module).
    pub(crate) scan: ScanEntries,
    /// Runs the payload's drop glue in place; `None` when the type needs none.
    pub(crate) drop: Option<unsafe fn(*mut u8)>,
    /// The data a pin hands to C, from the payload: its address and length in bytes (the value
    /// of a fixed-size type, the bytes or elements after a length word).
    pub(crate) data: unsafe fn(*mut u8) -> (*mut u8, usize),
    /// For a type whose data lives in another object (a growable vector's storage): the
    /// reference to that object, which a pin on this one pins instead.
    pub(crate) pin_target: Option<unsafe fn(*mut u8) -> *mut u8>,
    /// Checks the invariants a type keeps inside its own payload (a map's table, counts and
    /// hashes), for the verifier: a description of what is broken, or `None`. `None` for the
    /// types whose payload has no invariant of its own.
    pub(crate) check: Option<unsafe fn(*const u8, IdentityOf<'_>) -> Option<String>>,
}

/// The heap's identity hashes, as a payload check reads them ([`TypeInfo::check`]): the hash
/// the identity table holds for the object at an address, or `None` when it holds none.
pub(crate) type IdentityOf<'a> = &'a dyn Fn(*mut u8) -> Option<u64>;

/// The size (header included) and old-generation size class of every object of a fixed-size
/// type, computed when its `TypeInfo` is built. A minor collection promotes most objects: with
/// these it reads one word of the type's descriptor where it computed the size from the payload
/// size (overflow checks, rounding, the minimum) and then looked the class up in a table, a
/// chain of dependent steps between the header's load and the slot's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SmallShape {
    pub(crate) size: u32,
    pub(crate) class: u8,
}

impl SmallShape {
    /// The shape of objects with `payload` bytes of payload, if they fit a small slot.
    pub(crate) const fn of(payload: usize) -> Option<SmallShape> {
        match object_size(payload) {
            Some(size) if size <= crate::old_space::MAX_SMALL => Some(SmallShape {
                size: size as u32,
                class: crate::old_space::class_of(size) as u8,
            }),
            _ => None,
        }
    }
}

impl TypeInfo {
    /// Builds the description of a fixed-size type.
    pub(crate) const fn fixed<T: crate::Trace>() -> TypeInfo {
        assert!(
            std::mem::align_of::<T>() <= OBJECT_ALIGN,
            "Pinion heap types must have an alignment of at most 8 bytes"
        );
        TypeInfo {
            magic: TYPE_MAGIC,
            name: std::any::type_name::<T>,
            fixed_size: std::mem::size_of::<T>(),
            var_size: None,
            small: SmallShape::of(std::mem::size_of::<T>()),
            trace: if T::NEEDS_TRACE {
                Some(trace_erased::<T>)
            } else {
                None
            },
            ref_words: T::REF_WORDS,
            scan: ScanEntries::of::<crate::scan::Fixed<T>>(),
            drop: if std::mem::needs_drop::<T>() {
                Some(drop_erased::<T>)
            } else {
                None
            },
            data: fixed_data::<T>,
            pin_target: None,
            check: None,
        }
    }

    /// The type's name, as `std::any::type_name` gives it.
    pub fn name(&self) -> &'static str {
        (self.name)()
    }
}

/// # Safety
/// `payload` points to a live, initialised `T`.
unsafe fn trace_erased<T: crate::Trace>(payload: *const u8, tracer: &mut Tracer<'_>) {
    // SAFETY: the caller guarantees payload is a live T.
    unsafe { (*payload.cast::<T>()).trace(tracer) }
}

/// The data of a fixed-size value: the payload itself.
fn fixed_data<T>(payload: *mut u8) -> (*mut u8, usize) {
    (payload, std::mem::size_of::<T>())
}

/// # Safety
/// `payload` points to a live, initialised `T` that is never used again.
unsafe fn drop_erased<T>(payload: *mut u8) {
    // SAFETY: the caller guarantees payload is a live T and gives up ownership of it.
    unsafe { std::ptr::drop_in_place(payload.cast::<T>()) }
}
