//! Unit tests of the checks a map runs on its own payload for the verifier (`map_check`).

use super::*;
use crate::{Config, Heap, Violation};

/// The verifier's problems, as text.
fn problems(s: &mut crate::Scope<'_>) -> Vec<String> {
    s.verify()
        .violations
        .into_iter()
        .map(|v| match v {
            Violation::BadHeader { problem, .. } => problem,
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn the_verifier_reports_a_map_whose_table_or_counts_are_broken() {
    let mut heap = Heap::new(Config::default()).unwrap();
    heap.scope(|s| {
        let map = s.alloc_map::<u64, u64>(0).unwrap();
        let keys: Vec<_> = (0..5u64).map(|i| s.alloc(i).unwrap()).collect();
        for &k in &keys[..2] {
            s.map_insert(map, k, 7).unwrap();
        }
        // A raw reference is the object's payload address.
        let header = s.to_raw(map).as_ptr().cast::<MapHeader<u64, u64>>();
        // Changes a word of the live, rooted map's header; nothing collects in between, and
        // each change is undone before anything else runs.
        let poke = |change: &dyn Fn(&mut MapHeader<u64, u64>)| {
            // SAFETY: `header` is the payload of the live map, not otherwise borrowed now.
            change(unsafe { &mut *header })
        };
        assert!(problems(s).is_empty());
        poke(&|h| h.count = 3);
        let found = problems(s);
        assert!(
            found.iter().any(|p| p.contains("counts 3 entries")),
            "{found:?}"
        );
        poke(&|h| h.count = 2);
        poke(&|h| h.inline_len = 2);
        let found = problems(s);
        assert!(found.iter().any(|p| p.contains("length 2")), "{found:?}");
        poke(&|h| h.inline_len = MIN_TABLE_SLOTS);
        assert!(problems(s).is_empty());
        // Out of line: the inline slots must be dead.
        for &k in &keys[2..] {
            s.map_insert(map, k, 7).unwrap();
        }
        assert!(problems(s).is_empty());
        poke(&|h| h.inline_len = MIN_TABLE_SLOTS);
        let found = problems(s);
        assert!(
            found.iter().any(|p| p.contains("keeps 4 inline slots")),
            "{found:?}"
        );
        poke(&|h| h.inline_len = 0);
        assert!(problems(s).is_empty());
    });
}

#[test]
fn the_verifier_reports_a_full_slot_whose_hash_is_not_its_keys_identity_hash() {
    let mut heap = Heap::new(Config::default()).unwrap();
    heap.scope(|s| {
        let map = s.alloc_map::<u64, u64>(0).unwrap();
        let key = s.alloc(1u64).unwrap();
        s.map_insert(map, key, 7).unwrap();
        let (payload, key_at) = (s.to_raw(map).as_ptr(), s.to_raw(key).as_ptr());
        // SAFETY: the payload of the live, rooted map; its table in use has `len`
        // initialised slots after the storage header, one of them the key's.
        let slot = unsafe {
            let (_, _, storage) = table_in_use::<u64, u64>(payload);
            let len = storage.cast::<usize>().add(1).read();
            let first = storage.add(STORAGE_HEADER).cast::<Slot<u64, u64>>();
            (0..len)
                .map(|i| first.add(i))
                .find(|&slot| (*slot).key.slot().get() == key_at)
                .expect("the key's slot")
        };
        assert!(problems(s).is_empty());
        // Another hash in the key's slot (not the empty or tombstone marker); nothing
        // collects while it is there, and it is put back before anything else runs.
        // SAFETY: the slot lies in the live map's table and is not otherwise borrowed now.
        let hash = unsafe { (*slot).hash };
        // SAFETY: as above.
        unsafe { (*slot).hash = hash + 2 };
        let found = problems(s);
        assert!(
            found.iter().any(|p| p.contains("whose identity hash is")),
            "{found:?}"
        );
        // SAFETY: as above.
        unsafe { (*slot).hash = hash };
        assert!(problems(s).is_empty());
        // Collections move the key and re-key its identity: the slot's hash still agrees.
        s.collect_minor();
        s.collect_major();
        assert!(problems(s).is_empty());
    });
}
