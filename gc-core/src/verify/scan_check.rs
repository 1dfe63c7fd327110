//! The verifier's check of the scan entries: the slots the collectors' scan of an object visits
//! (its type's `ScanEntries`, see the `scan` module) are exactly those its `trace` reports.

use crate::object::ObjPtr;
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
    (traced.0 != scanned.0).then(|| {
        format!(
            "type {} scans the reference slots {:x?} but its trace reports {:x?}",
            info.name(),
            scanned.0,
            traced.0
        )
    })
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

    /// An object laid out by hand: a header, then two references to itself.
    fn object(info: &'static TypeInfo, words: &mut [*mut u8; 3]) -> ObjPtr {
        let obj = ObjPtr::new(words.as_mut_ptr().cast()).unwrap();
        // SAFETY: the buffer holds a header and a Pair's two words; every write goes through
        // the object's own pointer, which later reads use.
        unsafe {
            obj.init_header(info, HeaderFlags::empty());
            let slots = obj.payload().cast::<*mut u8>();
            slots.write(obj.as_ptr());
            slots.add(1).write(obj.as_ptr());
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
}
