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
