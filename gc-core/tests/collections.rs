//! Minor and major collections: survival, promotion, deep lists, cycles, the barrier.

use gc_core::{Config, GcArray, GcBytes, Handle, Heap, Member, Scope, Trace};

/// Test sizes shrink under Miri, which interprets every instruction.
fn scaled(n: u64) -> u64 {
    if cfg!(miri) {
        (n / 40).max(10)
    } else {
        n
    }
}

#[derive(Trace)]
struct Node {
    value: u64,
    next: Member<Node>,
}

#[derive(Trace)]
struct Pair {
    left: Member<Pair>,
    right: Member<Pair>,
    tag: u32,
}

fn small_heap() -> Heap {
    Heap::new(
        Config::default()
            .with_nursery_size(64 * 1024)
            .with_debug_level(2),
    )
    .unwrap()
}

/// Builds a list of `n` nodes (values n-1 .. 0 from the head) and returns its head.
fn build_list<'s>(s: &mut Scope<'s>, n: u64) -> Handle<'s, Node> {
    let head = s
        .alloc(Node {
            value: 0,
            next: Member::null(),
        })
        .unwrap();
    for i in 1..n {
        // Each iteration's temporaries are popped; the head handle's slot is reused.
        s.scope(|s| {
            let cell = s
                .alloc(Node {
                    value: i,
                    next: Member::null(),
                })
                .unwrap();
            s.set(cell, |c| &c.next, Some(head));
            s.rebind(head, cell);
        });
    }
    head
}

fn sum_list(s: &Scope<'_>, head: Handle<'_, Node>) -> (u64, u64) {
    let (mut sum, mut len) = (0, 0);
    let mut cur = Some(s.get(head));
    while let Some(node) = cur {
        sum += node.value;
        len += 1;
        cur = s.deref(&node.next);
    }
    (sum, len)
}

#[test]
fn objects_survive_minor_and_major_collections() {
    let mut heap = small_heap();
    heap.scope(|s| {
        let n = scaled(5_000);
        let head = build_list(s, n);
        let expect = (0..n).sum::<u64>();
        assert_eq!(sum_list(s, head), (expect, n));
        s.collect_minor();
        assert_eq!(sum_list(s, head), (expect, n));
        s.collect_major();
        assert_eq!(sum_list(s, head), (expect, n));
        assert!(s.verify().is_ok());
        let stats = s.stats();
        assert!(stats.minor_collections >= 2);
        assert_eq!(stats.major_collections, 1);
        assert!(stats.objects_promoted >= n);
    });
}

#[test]
fn garbage_is_reclaimed_by_major_collection() {
    let mut heap = Heap::new(
        Config::default()
            .with_nursery_size(4096)
            .with_debug_level(2),
    )
    .unwrap();
    heap.scope(|s| {
        s.scope(|s| {
            build_list(s, scaled(20_000));
        });
        // The list was promoted while it was being built (the nursery is 4 KiB), but its
        // scope has ended: a major collection frees all of it.
        assert!(s.stats().old_bytes > 0);
        s.collect_major();
        assert_eq!(s.stats().old_bytes, 0);
        assert_eq!(s.stats().live_bytes_after_major, 0);
        let keep = build_list(s, scaled(20_000));
        s.collect_major();
        assert_eq!(
            s.stats().old_bytes,
            scaled(20_000) as usize * 24,
            "Node is 24 bytes, class 24"
        );
        let _ = keep;
    });
    heap.collect_major();
    assert_eq!(
        heap.stats().old_bytes,
        0,
        "the scope ended, so everything died"
    );
    assert!(heap.verify().is_ok());
}

#[test]
fn deep_list_of_ten_million_nodes_marks_without_recursion() {
    let n: u64 = if cfg!(miri) { 1_000 } else { 10_000_000 };
    let mut heap = Heap::new(Config::default()).unwrap();
    heap.scope(|s| {
        let head = build_list(s, n);
        s.collect_major();
        let (_, len) = sum_list(s, head);
        assert_eq!(len, n);
    });
}

#[test]
fn cycles_are_kept_while_reachable_and_freed_after() {
    let mut heap = small_heap();
    heap.scope(|s| {
        let a = s
            .alloc(Pair {
                left: Member::null(),
                right: Member::null(),
                tag: 1,
            })
            .unwrap();
        let b = s
            .alloc(Pair {
                left: Member::null(),
                right: Member::null(),
                tag: 2,
            })
            .unwrap();
        s.set(a, |p| &p.left, Some(b));
        s.set(b, |p| &p.left, Some(a));
        s.set(a, |p| &p.right, Some(a));
        s.collect_major();
        let b2 = s.load(a, |p| &p.left).unwrap();
        assert_eq!(s.get(b2).tag, 2);
        let a2 = s.load(b2, |p| &p.left).unwrap();
        assert!(s.ptr_eq(a, a2));
        assert!(s.get(a).right.ptr_eq(&s.get(b2).left));
    });
    heap.collect_major();
    assert_eq!(heap.stats().old_bytes, 0);
}

#[test]
fn old_to_young_reference_is_remembered_by_the_barrier() {
    let mut heap = small_heap();
    heap.scope(|s| {
        let old = s
            .alloc(Pair {
                left: Member::null(),
                right: Member::null(),
                tag: 0,
            })
            .unwrap();
        s.collect_minor(); // `old` is promoted
        s.scope(|s| {
            let young = s
                .alloc(Pair {
                    left: Member::null(),
                    right: Member::null(),
                    tag: 7,
                })
                .unwrap();
            s.set(old, |p| &p.left, Some(young));
            assert!(s.verify().is_ok());
        });
        // The only path to the young object is the old object's field.
        s.collect_minor();
        let young = s
            .load(old, |p| &p.left)
            .expect("kept alive by the remembered set");
        assert_eq!(s.get(young).tag, 7);
        s.collect_major();
        assert_eq!(s.get(s.load(old, |p| &p.left).unwrap()).tag, 7);
    });
}

#[derive(Trace)]
struct Holder {
    other: Member<Holder>,
    bytes: Member<GcBytes>,
}

/// The barrier's fast path filters a store into a logged old object by the value's address;
/// a young large object lies outside the nursery, and must still be remembered.
#[test]
fn a_young_large_object_stored_into_a_logged_old_object_is_remembered() {
    let mut heap = small_heap();
    heap.scope(|s| {
        let empty = || Holder {
            other: Member::null(),
            bytes: Member::null(),
        };
        let holder = s.alloc(empty()).unwrap();
        let other = s.alloc(empty()).unwrap();
        s.collect_minor(); // both promoted
        s.set(holder, |h| &h.other, Some(other)); // an old-to-old store logs `holder`
        s.scope(|s| {
            let mut text = vec![7u8; gc_core::LARGE_OBJECT_THRESHOLD];
            text[0] = 42;
            let large = s.alloc_bytes(&text).unwrap();
            s.set(holder, |h| &h.bytes, Some(large));
        });
        // The only path to the large object is the old object's field.
        s.collect_minor();
        let large = s
            .load(holder, |h| &h.bytes)
            .expect("kept alive by the remembered set");
        assert_eq!(s.bytes(large)[0], 42);
        assert_eq!(s.bytes(large).len(), gc_core::LARGE_OBJECT_THRESHOLD);
    });
}

#[test]
fn collection_inside_an_allocation_keeps_the_references_of_the_value() {
    // Stress mode collects at every allocation, so each allocation below moves everything.
    let mut heap = Heap::new(Config::default().with_stress(Some(1)).with_debug_level(2)).unwrap();
    heap.scope(|s| {
        let items: Vec<_> = (0..50u64)
            .map(|i| {
                s.alloc(Node {
                    value: i,
                    next: Member::null(),
                })
                .unwrap()
            })
            .collect();
        let arr = s.alloc_array_from(&items).unwrap();
        for (i, m) in s.array(arr).iter().enumerate() {
            assert_eq!(s.deref(m).unwrap().value, i as u64);
        }
        // A pair whose fields are set right after allocation, each store under stress.
        let left = s
            .alloc(Pair {
                left: Member::null(),
                right: Member::null(),
                tag: 1,
            })
            .unwrap();
        let pair = s
            .alloc(Pair {
                left: Member::null(),
                right: Member::null(),
                tag: 2,
            })
            .unwrap();
        s.set(pair, |p| &p.left, Some(left));
        s.alloc(0u64).unwrap();
        assert_eq!(s.deref(&s.get(pair).left).unwrap().tag, 1);
        assert!(s.stats().minor_collections >= 50);
    });
}

#[test]
fn byte_strings_and_arrays_survive_moves() {
    let mut heap = small_heap();
    heap.scope(|s| {
        let b = s.alloc_bytes(b"pinion").unwrap();
        let arr = s.alloc_array::<GcBytes>(4).unwrap();
        s.array_set(arr, 2, Some(b));
        s.collect_minor();
        assert_eq!(s.bytes(b), b"pinion");
        let again = s.array_load(arr, 2).unwrap();
        assert_eq!(s.bytes(again), b"pinion");
        assert!(s.array_load(arr, 0).is_none());
        assert!(s.try_array_load(arr, 4).is_err());
        s.bytes_mut(again)[0] = b'P';
        s.collect_major();
        assert_eq!(s.bytes(b), b"Pinion");
        let empty: Handle<'_, GcArray<GcBytes>> = s.alloc_array(0).unwrap();
        assert_eq!(s.array_len(empty), 0);
    });
}

#[test]
fn zeroed_allocations_read_as_zeros_in_every_space() {
    // Large objects skip the zeroing (their mapping is fresh); nursery and old-space memory is
    // reused, so it must be zeroed. Each size is allocated after the same memory held
    // non-zero bytes that died.
    let mut heap = small_heap();
    heap.scope(|s| {
        for len in [64, gc_core::LARGE_OBJECT_THRESHOLD * 3] {
            for round in 0..3 {
                s.scope(|s| {
                    let junk = s.alloc_bytes(&vec![0xAB; len]).unwrap();
                    let junk_array = s.alloc_array::<Node>(len / 8).unwrap();
                    let node = s
                        .alloc(Node {
                            value: 7,
                            next: Member::null(),
                        })
                        .unwrap();
                    s.array_set(junk_array, 0, Some(node));
                    assert!(s.bytes(junk).iter().all(|&b| b == 0xAB));
                });
                if round == 1 {
                    s.collect_major(); // what died is freed: the next round may reuse it
                } else {
                    s.collect_minor();
                }
                let bytes = s.alloc_bytes_zeroed(len).unwrap();
                let array = s.alloc_array::<Node>(len / 8).unwrap();
                assert!(
                    s.bytes(bytes).iter().all(|&b| b == 0),
                    "{len} bytes, round {round}"
                );
                assert!(
                    s.array(array).iter().all(|m| s.deref(m).is_none()),
                    "{len} bytes, round {round}"
                );
            }
        }
    });
}

#[test]
fn objects_larger_than_a_tiny_nursery_are_born_old() {
    let mut heap = Heap::new(Config::default().with_nursery_size(256).with_debug_level(2)).unwrap();
    heap.scope(|s| {
        let keep = s.alloc_bytes(&[5u8; 1000]).unwrap();
        let node = s
            .alloc(Node {
                value: 1,
                next: Member::null(),
            })
            .unwrap();
        s.set(node, |n| &n.next, None);
        let arr = s.alloc_array::<Node>(200).unwrap(); // 1.6 KB: born old
        s.array_set(arr, 0, Some(node)); // old -> young store: remembered
        s.collect_minor();
        assert_eq!(s.deref(&s.array(arr)[0]).unwrap().value, 1);
        assert_eq!(s.bytes(keep), &[5u8; 1000][..]);
    });
}
