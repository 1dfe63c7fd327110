use crate::{Config, Heap};

#[test]
fn a_handle_is_one_word_and_names_its_heap() {
    let mut heap = Heap::new(Config::default()).unwrap();
    let mut other = Heap::new(Config::default()).unwrap();
    heap.scope(|s| {
        let h = s.alloc(1u64).unwrap();
        assert_eq!(h.heap_id(), s.heap_id());
        assert_eq!(std::mem::size_of::<Option<super::Handle<'_, u64>>>(), 8);
        other.scope(|o| {
            // Two heaps alive: the check reads the slot's block header.
            assert_eq!(
                o.try_get(h).unwrap_err(),
                crate::GcError::ForeignHandle {
                    handle_heap: s.heap_id(),
                    this_heap: o.heap_id()
                }
            );
        });
    });
}

#[test]
fn handles_across_block_boundaries_keep_their_objects_through_collections() {
    use crate::handle_stack::BLOCK_BYTES;
    let per_block = BLOCK_BYTES / std::mem::size_of::<usize>() - 1;
    let mut heap = Heap::new(Config::default()).unwrap();
    heap.scope(|s| {
        // Fill past two blocks, escaping one object out of a nested scope at every step, so
        // that escapes and scope ends land on every offset, block ends among them.
        let mut kept = Vec::new();
        for i in 0..2 * per_block + 3 {
            let h = s.escape(|inner| {
                inner.alloc(0u64).unwrap();
                inner.alloc(i as u64).unwrap()
            });
            kept.push(h);
            if i % 500 == 0 {
                s.collect_minor();
            }
        }
        s.collect_major();
        assert!(s.verify().is_ok());
        for (i, &h) in kept.iter().enumerate() {
            assert_eq!(*s.get(h), i as u64);
        }
        // A nested scope that ends at a block boundary and one that crosses it again.
        s.scope(|inner| {
            let temporaries: Vec<_> = (0..per_block)
                .map(|i| inner.alloc(i as u64).unwrap())
                .collect();
            inner.collect_minor();
            assert_eq!(*inner.get(temporaries[per_block - 1]), per_block as u64 - 1);
        });
        assert_eq!(*s.get(kept[kept.len() - 1]), kept.len() as u64 - 1);
        assert!(s.verify().is_ok());
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
