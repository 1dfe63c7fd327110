//! The verifier's checks of a payload against its type. The scan entries: the slots the
//! collectors' scan of an object visits (its type's `ScanEntries`, see the `scan` module) are
//! exactly those its `trace` reports, and every one of them lies at a word its type's
//! `ref_words` names, when it names them (evacuation skips the scan of a copy whose named words
//! are all null: `ObjPtr::may_refer`). The small shape a type's descriptor gives promotion (its
//! objects' size and slot class, read instead of the size). And the invariants a type keeps
//! inside its own payload, through its `TypeInfo::check` (a map's table, counts and hashes, see
//! `map.rs`).

use crate::object::{IdentityOf, ObjPtr, SmallShape, TypeInfo};
use crate::scan::SlotList;
use crate::trace::Tracer;

/// Whether the collectors' scan of `obj` (its type's scan entries) visits other slots than the
/// type's `trace` reports (the invariant of the `scan` module): a description of the
/// difference, or `None`.
///
/// # Safety
/// `obj` is a live, unforwarded object with a valid header.
pub(super) unsafe fn scan_disagrees(obj: ObjPtr) -> Option<String> {
    // SAFETY: forwarded from the caller.
    let info = unsafe { obj.type_info() };
    let (mut traced, mut scanned) = (SlotList::default(), SlotList::default());
    // SAFETY: forwarded from the caller; both visitors only read slot addresses.
    unsafe {
        if let Some(trace) = info.trace {
            trace(obj.payload(), &mut Tracer::new(&mut traced));
        }
        (info.scan.slots)(obj.payload(), &mut scanned);
    }
    traced.0.sort_unstable();
    scanned.0.sort_unstable();
    if traced.0 != scanned.0 {
        return Some(format!(
            "type {} scans the reference slots {:x?} but its trace reports {:x?}",
            info.name(),
            scanned.0,
            traced.0
        ));
    }
    let words = info.ref_words?;
    let payload = obj.payload().addr();
    let unnamed: Vec<usize> = traced
        .0
        .iter()
        .copied()
        .filter(|&slot| {
            let word = (slot - payload) / 8;
            !(slot - payload).is_multiple_of(8) || word >= 64 || words & (1 << word) == 0
        })
        .collect();
    (!unnamed.is_empty()).then(|| {
        format!(
            "type {} names the reference words {words:#b}, but its trace reports the slots {:x?} \
             outside them",
            info.name(),
            unnamed
        )
    })
}

/// Whether a type's descriptor gives promotion another small shape than its size calls for
/// (`object/type_info.rs`: `small` is the shape of a fixed-size type whose objects fit a slot,
/// and `None` otherwise; promotion copies and places an object by it): a description, or
/// `None`.
pub(super) fn small_shape_wrong(info: &TypeInfo) -> Option<String> {
    let expected = if info.var_size.is_none() {
        SmallShape::of(info.fixed_size)
    } else {
        None
    };
    (info.small != expected).then(|| {
        format!(
            "type {} gives promotion the small shape {:?} where its size calls for {expected:?}",
            info.name(),
            info.small
        )
    })
}

/// What the type of `obj` finds broken in its payload (its `TypeInfo::check`, given the heap's
/// identity hashes), or `None`.
///
/// # Safety
/// `obj` is a live, unforwarded object with a valid header.
pub(super) unsafe fn payload_broken(obj: ObjPtr, identity_of: IdentityOf<'_>) -> Option<String> {
    // SAFETY: forwarded from the caller.
    let info = unsafe { obj.type_info() };
    // SAFETY: the payload of a live object of that type.
    let problem = unsafe { (info.check?)(obj.payload(), identity_of) }?;
    Some(format!("{}: {problem}", info.name()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::HeaderFlags;
    use crate::object::TypeInfo;
    use crate::scan::{Fixed, ScanEntries};
    use crate::Member;

    type Pair = [Member<u64>; 2];

    static PAIR: TypeInfo = TypeInfo::fixed::<Pair>();
    /// `Pair`'s descriptor with a wrong scan layout: it scans only the first reference.
    static WRONG: TypeInfo = TypeInfo {
        scan: ScanEntries::of::<Fixed<Member<u64>>>(),
        ..TypeInfo::fixed::<Pair>()
    };
    /// `Pair`'s descriptor with another type's small shape (one word's).
    static WRONG_SHAPE: TypeInfo = TypeInfo {
        small: SmallShape::of(8),
        ..TypeInfo::fixed::<Pair>()
    };
    /// `Pair`'s descriptor naming only its first reference word.
    static WRONG_WORDS: TypeInfo = TypeInfo {
        ref_words: Some(0b01),
        ..TypeInfo::fixed::<Pair>()
    };

    /// An object laid out by hand: a header, then two references to itself.
    fn object(info: &'static TypeInfo, words: &mut [*mut u8; 3]) -> ObjPtr {
        // SAFETY: the buffer's first word is the header.
        let obj = unsafe { ObjPtr::from_start(words.as_mut_ptr().cast()) };
        // SAFETY: the buffer holds a header and a Pair's two words; every write goes through
        // the object's own pointer, which later reads use.
        unsafe {
            obj.init_header(info, HeaderFlags::empty());
            let slots = obj.payload().cast::<*mut u8>();
            slots.write(obj.to_ref());
            slots.add(1).write(obj.to_ref());
        }
        obj
    }

    #[test]
    fn a_scan_layout_that_disagrees_with_trace_is_reported() {
        assert_eq!(<Pair as crate::Trace>::REF_WORDS, Some(0b11));
        let mut good = [std::ptr::null_mut(); 3];
        // SAFETY: a valid hand-made object.
        assert_eq!(unsafe { scan_disagrees(object(&PAIR, &mut good)) }, None);
        let mut bad = [std::ptr::null_mut(); 3];
        // SAFETY: as above (the descriptor's scan is wrong on purpose).
        let problem = unsafe { scan_disagrees(object(&WRONG, &mut bad)) };
        assert!(problem.is_some_and(|p| p.contains("trace reports")));
    }

    #[test]
    fn reference_words_that_miss_a_traced_slot_are_reported() {
        let mut words = [std::ptr::null_mut(); 3];
        // SAFETY: a valid hand-made object (the descriptor's words are wrong on purpose).
        let problem = unsafe { scan_disagrees(object(&WRONG_WORDS, &mut words)) };
        assert!(
            problem.as_ref().is_some_and(|p| p.contains("outside them")),
            "{problem:?}"
        );
    }

    #[test]
    fn a_small_shape_that_disagrees_with_the_size_is_reported() {
        assert_eq!(small_shape_wrong(&PAIR), None);
        assert_eq!(
            small_shape_wrong(<crate::GcBytes as crate::GcObject>::TYPE_INFO),
            None
        );
        let problem = small_shape_wrong(&WRONG_SHAPE);
        assert!(
            problem.as_ref().is_some_and(|p| p.contains("small shape")),
            "{problem:?}"
        );
    }
}
