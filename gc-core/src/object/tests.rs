//! Unit tests of the object model: sizes, shapes, copies, headers.

use super::*;
use crate::Member;

type Pair = [Member<u64>; 2];

static PAIR: TypeInfo = TypeInfo::fixed::<Pair>();
static NUMBER: TypeInfo = TypeInfo::fixed::<u64>();
/// `Pair` as a type whose reference words are unknown (as for enums and arrays).
static UNKNOWN_WORDS: TypeInfo = TypeInfo {
    ref_words: None,
    ..TypeInfo::fixed::<Pair>()
};

#[test]
fn small_shapes_agree_with_the_computed_size_and_class() {
    let max = crate::old_space::MAX_SMALL;
    for payload in 0..=max {
        let size = object_size(payload).unwrap();
        match SmallShape::of(payload) {
            Some(shape) => {
                assert_eq!(shape.size as usize, size, "payload {payload}");
                assert_eq!(shape.class as usize, crate::old_space::class_of(size));
                assert!(crate::old_space::SIZE_CLASSES[shape.class as usize] as usize >= size);
            }
            None => assert!(size > max, "payload {payload} fits a slot"),
        }
    }
    assert_eq!(
        SmallShape::of(max),
        None,
        "a header more than the largest slot"
    );
    assert_eq!(PAIR.small, SmallShape::of(16));
    assert_eq!(PAIR.small.unwrap().size, 24);
}

/// A hand-made object: a header, then two words holding `first` and `second`.
fn object(info: &'static TypeInfo, words: &mut [*mut u8; 3], first: bool, second: bool) -> ObjPtr {
    // SAFETY: the buffer holds a header and two payload words; every write goes through
    // the object's own pointer, which later reads use.
    unsafe {
        let obj = ObjPtr::from_start(words.as_mut_ptr().cast());
        obj.init_header(info, HeaderFlags::empty());
        let slots = obj.payload().cast::<*mut u8>();
        slots.write(if first {
            obj.to_ref()
        } else {
            std::ptr::null_mut()
        });
        slots.add(1).write(if second {
            obj.to_ref()
        } else {
            std::ptr::null_mut()
        });
        obj
    }
}

#[test]
fn an_object_may_refer_unless_its_known_reference_words_are_all_null() {
    let mut words = [std::ptr::null_mut(); 3];
    for (first, second) in [(false, false), (true, false), (false, true), (true, true)] {
        let obj = object(&PAIR, &mut words, first, second);
        let mut seen = Vec::new();
        // SAFETY: a valid hand-made object.
        let refers = unsafe { obj.may_refer(|target| seen.push(target)) };
        assert_eq!(refers, first || second, "{first} {second}");
        // Every non-null reference word, and nothing else, is handed over.
        assert_eq!(seen.len(), usize::from(first) + usize::from(second));
        assert!(seen.iter().all(|&target| target == obj.to_ref()));
    }
    // Unknown words: the scan decides, so the object may refer whatever its words hold.
    let obj = object(&UNKNOWN_WORDS, &mut words, false, false);
    // SAFETY: as above.
    assert!(unsafe { obj.may_refer(|_| ()) });
    // A type without references never refers, whatever its payload holds.
    let obj = object(&NUMBER, &mut words, true, true);
    // SAFETY: as above (a u64's payload is one word; the second is never read).
    assert!(!unsafe { obj.may_refer(|_| panic!("a leaf has no reference")) });
}

#[test]
fn a_header_names_its_type_whatever_its_flags_but_the_excluded_ones() {
    let mut words = [std::ptr::null_mut(); 3];
    let obj = object(&PAIR, &mut words, false, false);
    // SAFETY: a valid hand-made object; flags are set through its own pointer.
    unsafe {
        assert!(obj.is_of_type(&PAIR, HeaderFlags::empty()));
        assert!(!obj.is_of_type(&NUMBER, HeaderFlags::empty()));
        assert!(!obj.is_of_type(&UNKNOWN_WORDS, HeaderFlags::empty()));
        // Flags that are not excluded do not matter; an excluded one that is set does.
        obj.insert_flags(HeaderFlags::TRACK_YOUNG | HeaderFlags::LOG_STORES);
        assert!(obj.is_of_type(&PAIR, HeaderFlags::YOUNG_LARGE));
        obj.insert_flags(HeaderFlags::YOUNG_LARGE);
        assert!(!obj.is_of_type(&PAIR, HeaderFlags::YOUNG_LARGE));
        assert!(obj.is_of_type(&PAIR, HeaderFlags::empty()));
    }
}

#[test]
fn a_payload_copy_writes_every_payload_byte_and_nothing_else() {
    for size in (MIN_OBJECT_SIZE..=160).step_by(8) {
        let from: Vec<u64> = (1..=size as u64 / 8).collect();
        // One word of slack after the object, to catch a copy that runs past it.
        let mut to = vec![0u64; size / 8 + 1];
        // SAFETY: both buffers hold `size` bytes, 8-aligned, and do not overlap.
        unsafe { copy_payload(from.as_ptr().cast(), to.as_mut_ptr().cast(), size) };
        assert_eq!(to[0], 0, "size {size}: the header is the caller's to write");
        assert_eq!(&to[1..size / 8], &from[1..], "size {size}: the payload");
        assert_eq!(to[size / 8], 0, "size {size}: nothing past the object");
    }
}
