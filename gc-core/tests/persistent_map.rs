//! Persistent roots and identity maps: the two ways to keep objects between scopes without
//! `unsafe`.

mod common;

use std::collections::HashMap;

use gc_core::{Config, GcBytes, GcError, Handle, Heap, Member, Persistent, Scope, Trace};
use proptest::prelude::*;

fn scaled(n: usize) -> usize {
    if cfg!(miri) {
        (n / 100).max(10)
    } else {
        n
    }
}

#[derive(Trace)]
struct Node {
    value: u64,
    next: Member<Node>,
}

fn node<'s>(s: &mut Scope<'s>, value: u64) -> Handle<'s, Node> {
    s.alloc_init(NodeInit { value, next: None }).unwrap()
}

fn verified() -> Heap {
    // Under Miri a small nursery: poisoning 4 MB after every minor collection is slow there.
    let nursery = if cfg!(miri) { 64 << 10 } else { 4 << 20 };
    Heap::new(
        Config::default()
            .with_nursery_size(nursery)
            .with_debug_level(2)
            .with_nursery_debug(true),
    )
    .unwrap()
}

#[test]
fn a_persistent_root_survives_scopes_collections_and_moves() {
    let mut heap = verified();
    let root: Persistent<Node> = heap.scope(|s| {
        let n = node(s, 7);
        s.persist(n).unwrap()
    });
    for _ in 0..3 {
        heap.scope(|s| {
            for i in 0..scaled(1000) as u64 {
                node(s, i); // garbage
            }
            s.collect_minor();
        });
    }
    heap.collect_major();
    heap.scope(|s| {
        let h = s.persistent(&root).unwrap();
        assert_eq!(s.get(h).value, 7);
        // Re-pointing it at a young object, which the next minor collection moves.
        let young = node(s, 8);
        s.set_persistent(&root, young).unwrap();
    });
    heap.collect_minor();
    heap.scope(|s| assert_eq!(s.get(s.persistent(&root).unwrap()).value, 8));
    assert_eq!(heap.stats().persistent_roots, 1);
    let weak = heap.scope(|s| {
        let h = s.persistent(&root).unwrap();
        s.downgrade(h)
    });
    drop(root);
    heap.collect_major();
    heap.scope(|s| assert!(s.upgrade(&weak).is_none(), "dropped: the object died"));
    assert_eq!(heap.stats().persistent_roots, 0);
    assert!(heap.verify().is_ok());
}

#[test]
fn a_persistent_root_may_be_dropped_on_another_thread_or_after_its_heap() {
    let mut heap = verified();
    let (root, weak) = heap.scope(|s| {
        let n = node(s, 1);
        (s.persist(n).unwrap(), s.downgrade(n))
    });
    std::thread::spawn(move || drop(root)).join().unwrap();
    heap.collect_major();
    heap.scope(|s| assert!(s.upgrade(&weak).is_none()));

    let root = heap.scope(|s| {
        let n = node(s, 2);
        s.persist(n).unwrap()
    });
    drop(heap);
    drop(root); // its heap is gone: the release goes nowhere, harmlessly
}

#[test]
fn a_heap_moves_to_another_thread_with_its_persistent_roots() {
    let mut heap = verified();
    let root = heap.scope(|s| {
        let n = node(s, 3);
        s.persist(n).unwrap()
    });
    let (heap, root) = std::thread::spawn(move || {
        let mut heap = heap;
        heap.collect_major();
        (heap, root)
    })
    .join()
    .unwrap();
    let mut heap = heap;
    heap.scope(|s| assert_eq!(s.get(s.persistent(&root).unwrap()).value, 3));
}

#[test]
fn a_persistent_root_of_another_heap_is_refused() {
    let mut a = verified();
    let mut b = verified();
    let root = a.scope(|s| {
        let n = node(s, 1);
        s.persist(n).unwrap()
    });
    b.scope(|s| {
        assert!(matches!(
            s.persistent(&root),
            Err(GcError::ForeignHandle { .. })
        ));
        let other = node(s, 2);
        assert!(matches!(
            s.set_persistent(&root, other),
            Err(GcError::ForeignHandle { .. })
        ));
        assert!(s.persist(other).is_ok());
    });
}

#[test]
fn many_persistent_roots_to_old_objects_cost_a_minor_collection_nothing() {
    let mut heap = Heap::new(Config::default()).unwrap();
    let roots: Vec<Persistent<u64>> = heap.scope(|s| {
        (0..if cfg!(miri) { 250 } else { 100_000 })
            .map(|i| {
                let h = s.alloc(i).unwrap();
                s.persist(h).unwrap()
            })
            .collect()
    });
    heap.collect_minor(); // all old now
    heap.collect_minor(); // visits none of them
    heap.scope(|s| {
        for (i, r) in roots.iter().enumerate().step_by(997) {
            assert_eq!(*s.get(s.persistent(r).unwrap()), i as u64);
        }
    });
    assert!(heap.verify().is_ok());
}

/// A value with a reference, as an interpreter's globals hold.
#[derive(Trace)]
enum Value {
    Num(f64),
    Obj(Member<Node>),
}

#[test]
fn a_map_keeps_its_keys_and_values_alive_and_finds_them_after_they_move() {
    let mut heap = verified();
    let n = scaled(2000) as u64;
    let (map, keys) = heap.scope(|s| {
        let map = s.alloc_map::<GcBytes, Value>(0).unwrap();
        let mut keys = Vec::new();
        for i in 0..n {
            s.scope(|s| {
                let key = s.alloc_bytes(format!("k{i}").as_bytes()).unwrap();
                let value = if i % 2 == 0 {
                    ValueInit::Num(i as f64)
                } else {
                    ValueInit::Obj(Some(node(s, i)))
                };
                assert!(!s.map_insert(map, key, value).unwrap());
            });
        }
        // The keys are reachable only through the map: root some again through a scan.
        let rooted: Vec<Handle<'_, GcBytes>> = s
            .get(map)
            .iter()
            .take(3)
            .map(|(key, _)| s.root(key).unwrap())
            .collect();
        for key in rooted {
            keys.push(s.persist(key).unwrap());
        }
        (s.persist(map).unwrap(), keys)
    });
    heap.collect_minor();
    heap.collect_major();
    heap.scope(|s| {
        let map = s.persistent(&map).unwrap();
        assert_eq!(s.map_len(map), n as usize);
        let mut seen = 0;
        for (key, value) in s.get(map).iter() {
            let name = std::str::from_utf8(s.deref(key).unwrap()).unwrap();
            let i: u64 = name[1..].parse().unwrap();
            match value {
                Value::Num(x) => assert_eq!(*x, i as f64),
                Value::Obj(m) => assert_eq!(s.deref(m).unwrap().value, i),
            }
            seen += 1;
        }
        assert_eq!(seen, n);
        for key in &keys {
            let key = s.persistent(key).unwrap();
            assert!(s.map_get(map, key).is_some(), "found after the key moved");
        }
        // A key with equal bytes but another identity is another key.
        let twin = s.alloc_bytes(b"k0").unwrap();
        assert!(s.map_get(map, twin).is_none());
    });
    assert!(heap.verify().is_ok());
}

#[test]
fn removals_leave_tombstones_and_growth_cleans_them() {
    let mut heap = verified();
    heap.scope(|s| {
        let map = s.alloc_map::<Node, u64>(4).unwrap();
        let keys: Vec<Handle<'_, Node>> = (0..scaled(3000) as u64).map(|i| node(s, i)).collect();
        for (i, &k) in keys.iter().enumerate() {
            s.map_insert(map, k, i as u64).unwrap();
        }
        s.collect_minor(); // every key moved
        for (i, &k) in keys.iter().enumerate() {
            assert_eq!(s.map_get(map, k), Some(&(i as u64)));
            if i % 2 == 0 {
                assert!(s.map_remove(map, k));
            }
        }
        assert!(!s.map_remove(map, keys[0]));
        assert_eq!(s.map_len(map), keys.len() / 2);
        for (i, &k) in keys.iter().enumerate().step_by(2) {
            assert!(!s.map_insert(map, k, 10 * i as u64).unwrap());
            assert!(s.map_insert(map, k, 10 * i as u64 + 1).unwrap(), "replaced");
        }
        s.collect_major();
        for (i, &k) in keys.iter().enumerate() {
            let want = if i % 2 == 0 {
                10 * i as u64 + 1
            } else {
                i as u64
            };
            assert_eq!(s.map_get(map, k), Some(&want));
        }
    });
    assert!(heap.verify().is_ok());
}

#[test]
fn a_small_map_is_one_object_with_its_table_inline_until_it_grows() {
    let mut heap = verified();
    heap.scope(|s| {
        let objects = |s: &Scope<'_>| s.stats().objects_allocated;
        let keys: Vec<Handle<'_, Node>> = (0..5).map(|i| node(s, i)).collect();
        let before = objects(s);
        let small = s.alloc_map::<Node, Member<Node>>(0).unwrap();
        assert_eq!(
            objects(s) - before,
            1,
            "a map for up to 3 entries is one object"
        );
        let before = objects(s);
        let large = s.alloc_map::<Node, u64>(8).unwrap();
        assert_eq!(
            objects(s) - before,
            2,
            "a larger map is a map and its table"
        );
        s.map_insert(large, keys[0], 7).unwrap();
        // The small map grows old while its values are young: the inline slots are behind
        // the write barrier like any table's.
        s.collect_minor();
        let before = objects(s);
        for (i, &k) in keys.iter().take(3).enumerate() {
            let value = node(s, 100 + i as u64);
            s.map_insert(small, k, Some(value)).unwrap();
        }
        assert_eq!(
            objects(s) - before,
            3,
            "three entries fit inline: no table allocated"
        );
        let before = objects(s);
        let again = s.alloc_map::<Node, u64>(0).unwrap();
        for (i, &k) in keys.iter().take(3).enumerate() {
            s.map_insert(again, k, i as u64).unwrap();
        }
        assert!(s.map_insert(again, keys[0], 10).unwrap(), "replaced");
        assert_eq!(objects(s) - before, 1, "writing a key again needs no room");
        assert_eq!(s.map_get(again, keys[0]), Some(&10));
        s.collect_minor(); // the values move; the old map's inline slots are updated
        let value_of = |s: &Scope<'_>, k: Handle<'_, Node>| {
            let member = s.map_get(small, k).expect("an entry");
            s.deref(member).expect("a value").value
        };
        for (i, &k) in keys.iter().take(3).enumerate() {
            assert_eq!(value_of(s, k), 100 + i as u64);
        }
        // A fourth entry moves the entries out to a table of their own.
        let before = objects(s);
        let value = node(s, 103);
        s.map_insert(small, keys[3], Some(value)).unwrap();
        assert_eq!(
            objects(s) - before,
            2,
            "the value and the out-of-line table"
        );
        s.collect_minor();
        s.collect_major();
        for (i, &k) in keys.iter().take(4).enumerate() {
            assert_eq!(value_of(s, k), 100 + i as u64);
        }
        assert!(s.map_get(small, keys[4]).is_none());
        assert_eq!(s.map_len(small), 4);
        assert_eq!(s.map_get(large, keys[0]), Some(&7));
    });
    assert!(heap.verify().is_ok());
}

#[test]
fn values_with_drop_glue_are_dropped_once_inline_or_out_of_line() {
    use std::sync::Arc;
    let shared = Arc::new(0u64);
    let mut heap = verified();
    heap.scope(|s| {
        let keys: Vec<Handle<'_, Node>> = (0..6).map(|i| node(s, i)).collect();
        // One map keeps its entries inline, one grows out of its inline table, one starts out
        // of line; each dies (young, or old after a minor collection promoted it) with values
        // still in it, one value in each replaced first.
        for entries in [3, 6] {
            for capacity in [0, 8] {
                for promoted in [false, true] {
                    s.scope(|s| {
                        let map = s.alloc_map::<Node, Arc<u64>>(capacity).unwrap();
                        for &k in &keys[..entries] {
                            s.map_insert(map, k, Arc::clone(&shared)).unwrap();
                        }
                        s.map_insert(map, keys[0], Arc::clone(&shared)).unwrap();
                        assert_eq!(Arc::strong_count(&shared), 1 + entries);
                        if promoted {
                            s.collect_minor(); // the map moves with its values
                            assert_eq!(Arc::strong_count(&shared), 1 + entries);
                        }
                    });
                    if promoted {
                        s.collect_major();
                    } else {
                        s.collect_minor();
                    }
                    let case = format!("{entries} entries, capacity {capacity}, old {promoted}");
                    assert_eq!(Arc::strong_count(&shared), 1, "{case}");
                }
            }
        }
        assert_eq!(Arc::strong_count(&shared), 1);
    });
    assert!(heap.verify().is_ok());
}

#[derive(Clone, Debug)]
enum MapOp {
    Insert(usize, u64),
    Remove(usize),
    Minor,
    Major,
}

proptest! {
    #![proptest_config(common::proptest_config(64))]

    #[test]
    fn a_map_behaves_like_a_hash_map(
        ops in proptest::collection::vec(
            prop_oneof![
                6 => (0..40usize, any::<u64>()).prop_map(|(k, v)| MapOp::Insert(k, v)),
                3 => (0..40usize).prop_map(MapOp::Remove),
                1 => Just(MapOp::Minor),
                1 => Just(MapOp::Major),
            ],
            1..if cfg!(miri) { 40 } else { 300 },
        )
    ) {
        let mut heap = Heap::new(Config::default().with_nursery_size(4096).with_debug_level(2)).unwrap();
        heap.scope(|s| {
            let map = s.alloc_map::<u64, u64>(0).unwrap();
            let keys: Vec<Handle<'_, u64>> = (0..40u64).map(|i| s.alloc(i).unwrap()).collect();
            let mut model: HashMap<usize, u64> = HashMap::new();
            for op in &ops {
                match *op {
                    MapOp::Insert(k, v) => {
                        let had = s.map_insert(map, keys[k], v).unwrap();
                        assert_eq!(had, model.insert(k, v).is_some());
                    }
                    MapOp::Remove(k) => assert_eq!(s.map_remove(map, keys[k]), model.remove(&k).is_some()),
                    MapOp::Minor => s.collect_minor(),
                    MapOp::Major => s.collect_major(),
                }
                for (k, &key) in keys.iter().enumerate() {
                    assert_eq!(s.map_get(map, key), model.get(&k), "key {k} after {op:?}");
                }
                assert_eq!(s.map_len(map), model.len());
            }
        });
        prop_assert!(heap.verify().is_ok());
    }
}
