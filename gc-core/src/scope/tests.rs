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
fn handles_of_a_second_heap_are_still_refused_in_a_mirror() {
    let mut a = Heap::new(Config::default()).unwrap();
    let mut b = Heap::new(Config::default()).unwrap();
    a.scope(|sa| {
        let foreign = sa.alloc(1u64).unwrap();
        b.scope(|sb| {
            let init: Option<super::Handle<'_, u64>> = Some(foreign);
            assert!(sb.check_init::<crate::Member<u64>>(&init).is_err());
        });
    });
}
