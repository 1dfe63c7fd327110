//! Weak references and identity hashes across moving collections, alone and with pinning.

use std::collections::HashMap;

use gc_core::{
    Config, GcBytes, GcMap, Handle, Heap, Identity, MapKey, Member, Trace, Weak, WeakValueTable,
};

#[derive(Trace)]
struct Node {
    value: u64,
    next: Member<Node>,
}

#[derive(Trace)]
struct Holder {
    weak: Weak<Node>,
}

fn node(value: u64) -> Node {
    Node {
        value,
        next: Member::null(),
    }
}

fn heap() -> Heap {
    Heap::new(
        Config::default()
            .with_nursery_size(64 * 1024)
            .with_debug_level(2),
    )
    .unwrap()
}

fn scaled(n: usize) -> usize {
    if cfg!(miri) {
        (n / 50).max(5)
    } else {
        n
    }
}

#[test]
fn a_weak_reference_follows_moves_and_is_cleared_when_its_object_dies() {
    let mut heap = heap();
    heap.scope(|s| {
        let kept = s.alloc(node(1)).unwrap();
        let to_kept = s.downgrade(kept);
        let (to_young_garbage, to_old_garbage) = s.scope(|s| {
            let young = s.alloc(node(2)).unwrap();
            let old = s.alloc_nonmoving(node(3)).unwrap();
            (s.downgrade(young), s.downgrade(old))
        });
        // (Upgrading here would root it in a new handle and keep it alive.)
        assert!(s.weak_is_alive(&to_young_garbage), "alive until collected");
        s.collect_minor();
        assert!(
            s.upgrade(&to_young_garbage).is_none(),
            "a minor collection clears dead young targets"
        );
        assert!(
            s.weak_is_alive(&to_old_garbage),
            "an old object waits for a major collection"
        );
        let moved = s.upgrade(&to_kept).unwrap();
        assert!(s.ptr_eq(moved, kept), "followed the move");
        s.collect_major();
        assert!(
            s.upgrade(&to_old_garbage).is_none(),
            "a major collection clears dead old targets"
        );
        assert_eq!(s.get(s.upgrade(&to_kept).unwrap()).value, 1);
        assert!(s.weak_clears() >= 2);
    });
}

#[test]
fn a_weak_reference_never_keeps_its_object_alive() {
    let mut heap = heap();
    let weak = heap.scope(|s| {
        let big = s.alloc_bytes(&[1; 100_000]).unwrap(); // a large object
        s.downgrade(big)
    });
    heap.collect_minor(); // a young large object: reclaimed by the minor collection
    assert_eq!(heap.stats().large_object_bytes, 0);
    heap.scope(|s| assert!(s.upgrade(&weak).is_none()));
    assert_eq!(heap.stats().weak_refs, 1);
    drop(weak);
    heap.collect_minor();
    assert_eq!(heap.stats().weak_refs, 0, "a dropped Weak frees its slot");
}

#[test]
fn weak_references_inside_heap_objects_are_released_with_them() {
    let mut heap = heap();
    heap.scope(|s| {
        let target = s.alloc(node(9)).unwrap();
        s.scope(|s| {
            for _ in 0..100 {
                let w = s.downgrade(target);
                s.alloc(Holder { weak: w }).unwrap();
            }
        });
        let holder_weak = s.downgrade(target);
        let holder = s.alloc(Holder { weak: holder_weak }).unwrap();
        s.collect_minor(); // the 100 holders die, and their Weaks with them
        s.collect_minor();
        assert_eq!(s.stats().weak_refs, 1);
        assert_eq!(s.get(s.upgrade(&s.get(holder).weak).unwrap()).value, 9);
    });
}

#[test]
fn a_weak_valued_table_loses_its_dead_entries() {
    let mut heap = heap();
    let mut interned: WeakValueTable<Vec<u8>, GcBytes> = WeakValueTable::new();
    heap.scope(|s| {
        let keep =
            interned.get_or_insert_with(s, b"keep".to_vec(), |s| s.alloc_bytes(b"keep").unwrap());
        s.scope(|s| {
            for i in 0..scaled(1_000) {
                let key = format!("temp{i}").into_bytes();
                let k2 = key.clone();
                interned.get_or_insert_with(s, key, |s| s.alloc_bytes(&k2).unwrap());
            }
        });
        let again =
            interned.get_or_insert_with(s, b"keep".to_vec(), |s| s.alloc_bytes(b"other").unwrap());
        assert!(s.ptr_eq(keep, again), "the same object, not a new one");
        assert_eq!(interned.len(s), scaled(1_000) + 1, "not collected yet");
        s.collect_major();
        assert_eq!(interned.len(s), 1, "the dead entries disappeared");
        let got = interned.get(s, &b"keep".to_vec()).unwrap();
        assert_eq!(s.bytes(got), b"keep");
    });
}

#[test]
fn identities_are_unique_across_heaps_and_find_only_their_own_entries() {
    // Two heaps that hash the same sequence of objects: their hashes still differ (one counter
    // serves the process), so an identity taken in one heap finds nothing in the other's map.
    fn x_in_a_map<'s>(s: &mut gc_core::Scope<'s>) -> (Handle<'s, GcMap<GcBytes, u64>>, Identity) {
        let map = s.alloc_map(0).unwrap();
        let name = s.alloc_bytes(b"x").unwrap();
        s.map_insert(map, name, 7).unwrap();
        let id = s.identity(name);
        assert_eq!(id.hash(), s.identity_hash(name));
        s.collect_minor(); // the name and the map move
        assert_eq!(
            s.map_lookup(s.get(map), MapKey::Identity(id), None),
            Some(&7)
        );
        (map, id)
    }
    let id_a = heap().scope(|s| x_in_a_map(s).1);
    heap().scope(|s| {
        let (map, id_b) = x_in_a_map(s);
        assert_ne!(id_a, id_b);
        assert_eq!(s.map_lookup(s.get(map), MapKey::Identity(id_a), None), None);
        assert_eq!(
            s.map_lookup(s.get(map), MapKey::Identity(id_b), None),
            Some(&7)
        );
    });
}

#[test]
fn identity_hashes_are_stable_and_unique() {
    let mut heap = heap();
    heap.scope(|s| {
        let objs: Vec<Handle<'_, Node>> = (0..200).map(|i| s.alloc(node(i)).unwrap()).collect();
        let hashes: Vec<u64> = objs.iter().map(|&h| s.identity_hash(h)).collect();
        let unique: std::collections::HashSet<_> = hashes.iter().collect();
        assert_eq!(unique.len(), 200);
        s.collect_minor();
        s.collect_major();
        for (&h, &hash) in objs.iter().zip(&hashes) {
            assert_eq!(s.identity_hash(h), hash);
        }
        assert_eq!(s.stats().hashed_objects, 200);
    });
    heap.collect_major();
    assert_eq!(
        heap.stats().hashed_objects,
        0,
        "dead objects leave the identity table"
    );
}

#[test]
fn hashes_of_large_and_nonmoving_objects_are_stable_and_forgotten_when_they_die() {
    let mut heap = heap();
    heap.scope(|s| {
        let large = s.alloc_bytes(&[0; 50_000]).unwrap();
        let nonmoving = s.alloc_nonmoving(node(1)).unwrap();
        let (hl, hn) = (s.identity_hash(large), s.identity_hash(nonmoving));
        s.scope(|s| {
            let dead_large = s.alloc_bytes(&[0; 50_000]).unwrap();
            s.identity_hash(dead_large);
        });
        s.collect_minor();
        assert_eq!(
            s.stats().hashed_objects,
            2,
            "the dead young large object's entry went"
        );
        s.collect_major();
        assert_eq!(
            (s.identity_hash(large), s.identity_hash(nonmoving)),
            (hl, hn)
        );
    });
}

#[test]
fn hash_a_pinned_young_object_then_unpin_it_during_a_major_collection() {
    // PyPy 2024: the hash of a pinned young object lived in a "shadow" that went out of step
    // once the object was unpinned and moved by a major collection.
    let mut heap = heap();
    heap.scope(|s| {
        let obj = s.alloc(node(5)).unwrap();
        let pin = s.pin(obj).unwrap();
        let hash = s.identity_hash(obj);
        s.collect_minor(); // stays pinned in the nursery
        assert_eq!(s.identity_hash(obj), hash);
        drop(pin); // the release is taken up at the start of the next collection...
        s.collect_major(); // ...whose opening minor collection moves the object
        assert!(s.can_move(obj) || !s.is_pinned(obj));
        assert_eq!(s.identity_hash(obj), hash);
        s.collect_minor();
        s.collect_major();
        assert_eq!(s.identity_hash(obj), hash);
        assert_eq!(s.get(obj).value, 5);
    });
}

#[test]
fn hash_a_young_object_then_pin_and_unpin_it_then_collect() {
    // PyPy 2024: hash first, then pin, unpin, and collect minor and major.
    let mut heap = heap();
    heap.scope(|s| {
        let obj = s.alloc(node(6)).unwrap();
        let hash = s.identity_hash(obj);
        let pin = s.pin(obj).unwrap();
        s.collect_minor();
        assert_eq!(s.identity_hash(obj), hash);
        s.unpin(pin).unwrap();
        s.collect_minor(); // moves now
        assert_eq!(s.identity_hash(obj), hash);
        s.collect_major();
        assert_eq!(s.identity_hash(obj), hash);
    });
}

#[test]
fn a_weak_reference_to_a_pinned_object() {
    let mut heap = heap();
    heap.scope(|s| {
        let (weak, pin) = s.scope(|s| {
            let obj = s.alloc(node(7)).unwrap();
            (s.downgrade(obj), s.pin(obj).unwrap())
        });
        s.collect_minor();
        s.collect_major();
        let h = s.upgrade(&weak).expect("the pin keeps it alive");
        assert_eq!(
            s.get(h) as *const Node as usize,
            pin.as_ptr() as usize,
            "in place"
        );
        drop(pin);
        s.scope(|s| {
            // Forget the upgraded handle: nothing keeps the object now.
            let _ = s;
        });
    });
    heap.scope(|s| {
        let obj = s.alloc(node(8)).unwrap();
        let pin = s.pin(obj).unwrap();
        let weak = s.downgrade(obj);
        s.unpin(pin).unwrap();
        s.collect_minor(); // unpinned: it moves, the weak reference follows
        assert!(s.ptr_eq(s.upgrade(&weak).unwrap(), obj));
    });
}

#[test]
fn an_identity_keyed_table_survives_a_thousand_collections_with_objects_moving() {
    let mut heap = Heap::new(Config::default().with_nursery_size(32 * 1024)).unwrap();
    let collections = scaled(1_000);
    heap.scope(|s| {
        let objects = s.alloc_array::<Node>(256).unwrap();
        let mut by_hash: HashMap<u64, u64> = HashMap::new(); // identity hash -> value
        let mut next = 0u64;
        for round in 0..collections {
            s.scope(|s| {
                // Replace a few slots with fresh (young) objects and hash some of them.
                for k in 0..8 {
                    let slot = (round * 8 + k) % 256;
                    let n = s.alloc(node(next)).unwrap();
                    if let Some(old) = s.array_load(objects, slot) {
                        let h = s.identity_hash(old);
                        by_hash.remove(&h);
                    }
                    s.array_set(objects, slot, Some(n));
                    by_hash.insert(s.identity_hash(n), next);
                    next += 1;
                }
            });
            if round % 50 == 49 {
                s.collect_major();
            } else {
                s.collect_minor();
            }
            // Every live object is found under its hash, with its value.
            for slot in 0..256 {
                if let Some(h) = s.array_load(objects, slot) {
                    let hash = s.identity_hash(h);
                    assert_eq!(
                        by_hash.get(&hash),
                        Some(&s.get(h).value),
                        "round {round} slot {slot}"
                    );
                }
            }
        }
        assert_eq!(by_hash.len(), 256.min(collections * 8));
    });
    assert!(heap.stats().minor_collections as usize >= collections);
    assert!(heap.verify().is_ok());
}
