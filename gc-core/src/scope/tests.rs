use crate::{Config, Heap};

#[test]
fn a_handle_keeps_its_whole_slot_index_and_heap_id_in_one_word() {
    let mut heap = Heap::new(Config::default()).unwrap();
    heap.scope(|s| {
        for index in [0, 1, 0x7fff_ffff, 0x8000_0000, u32::MAX] {
            let h = s.handle_at::<u64>(index);
            assert_eq!(h.index(), index);
            assert_eq!(h.heap_id(), s.heap_id());
        }
        assert_eq!(std::mem::size_of::<Option<super::Handle<'_, u64>>>(), 8);
    });
}

#[test]
fn a_member_holds_its_targets_payload_address_and_the_verifier_rejects_a_header_address() {
    let mut heap = Heap::new(Config::default()).unwrap();
    heap.scope(|s| {
        let array = s.alloc_array::<u64>(1).unwrap();
        let target = s.alloc(7u64).unwrap();
        s.array_set(array, 0, Some(target));
        for old in [false, true] {
            if old {
                s.collect_major(); // both promoted: old-space slots, not nursery memory
            }
            let member = &s.get(array)[0];
            let view: *const u64 = s.deref(member).unwrap();
            // The view is the member's value itself: the payload, one header past the start.
            assert_eq!(view.cast::<u8>().cast_mut(), member.slot().get());
            assert_eq!(s.get(target), &7);
            // A reference to the header (the object's start) is no reference at all.
            let reference = member.slot().get();
            member
                .slot()
                .set(reference.wrapping_sub(crate::HEADER_SIZE));
            let report = s.verify(); // reads only; the member is restored before anything else
            s.get(array)[0].slot().set(reference);
            let dangling = report
                .violations
                .iter()
                .any(|v| matches!(v, crate::Violation::DanglingReference { .. }));
            assert!(dangling, "old: {old}\n{report}");
            assert!(s.verify().is_ok());
        }
    });
}
