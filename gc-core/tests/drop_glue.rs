//! Drop glue: exactly once, never while reachable, all dead ones after a full collection,
//! and a panicking destructor does not unwind through the collector.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Test sizes shrink under Miri, which interprets every instruction.
fn scaled(n: u64) -> u64 {
    if cfg!(miri) {
        (n / 40).max(10)
    } else {
        n
    }
}

use gc_core::{Config, Heap, Member, Trace};

/// Counts its drops in a shared counter (a leaf: no references, so Drop is allowed).
#[derive(Trace)]
#[pinion(drop)]
struct Counted {
    drops: Arc<AtomicUsize>,
    id: u64,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(Trace)]
#[pinion(drop)]
struct Panicky {
    id: u64,
}

impl Drop for Panicky {
    fn drop(&mut self) {
        panic!("destructor of {} panics", self.id);
    }
}

/// A traced type whose drop glue comes from its fields (String, Vec), not from a Drop impl.
#[derive(Trace)]
struct Named {
    name: String,
    tags: Vec<String>,
    next: Member<Named>,
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

#[test]
fn young_garbage_is_dropped_by_the_minor_collection_exactly_once() {
    let drops = counter();
    let mut heap = Heap::new(Config::default().with_debug_level(2)).unwrap();
    heap.scope(|s| {
        let kept = s
            .alloc(Counted {
                drops: drops.clone(),
                id: 0,
            })
            .unwrap();
        s.scope(|s| {
            for id in 1..=100 {
                s.alloc(Counted {
                    drops: drops.clone(),
                    id,
                })
                .unwrap();
            }
        });
        assert_eq!(
            drops.load(Ordering::SeqCst),
            0,
            "nothing dies before a collection"
        );
        s.collect_minor();
        assert_eq!(drops.load(Ordering::SeqCst), 100);
        assert_eq!(s.get(kept).id, 0, "the reachable one was not dropped");
        s.collect_minor();
        s.collect_major();
        assert_eq!(drops.load(Ordering::SeqCst), 100, "no second drop");
    });
    heap.collect_major();
    assert_eq!(
        drops.load(Ordering::SeqCst),
        101,
        "the promoted one dies in the old space"
    );
    assert_eq!(heap.stats().objects_dropped, 101);
    drop(heap);
    assert_eq!(drops.load(Ordering::SeqCst), 101);
}

#[test]
fn dropping_the_heap_runs_all_owed_drop_glue() {
    let drops = counter();
    let mut heap = Heap::new(Config::default().with_nursery_size(16 * 1024)).unwrap();
    heap.scope(|s| {
        for id in 0..scaled(1_000) {
            s.alloc(Counted {
                drops: drops.clone(),
                id,
            })
            .unwrap();
        }
        // Some are old now, some young, and a large one.
        s.alloc_bytes(&[0; 20_000]).unwrap();
    });
    let before = drops.load(Ordering::SeqCst);
    drop(heap);
    assert_eq!(
        drops.load(Ordering::SeqCst) as u64,
        scaled(1_000),
        "{before} before the heap was dropped"
    );
}

#[test]
fn field_drop_glue_frees_strings_in_every_space() {
    let mut heap = Heap::new(
        Config::default()
            .with_nursery_size(8 * 1024)
            .with_debug_level(2),
    )
    .unwrap();
    heap.scope(|s| {
        let head = s
            .alloc(Named {
                name: "head".into(),
                tags: vec![],
                next: Member::null(),
            })
            .unwrap();
        let n = scaled(2_000) as usize;
        for i in 0..n {
            s.scope(|s| {
                let n = s
                    .alloc(Named {
                        name: format!("n{i}"),
                        tags: vec!["t".repeat(i % 7)],
                        next: Member::null(),
                    })
                    .unwrap();
                if i % 3 == 0 {
                    s.set(n, |x| &x.next, s.load(head, |h| &h.next));
                    s.set(head, |h| &h.next, Some(n));
                }
            });
        }
        s.collect_major();
        let mut count = 0;
        let mut cur = s.deref(&s.get(head).next);
        while let Some(n) = cur {
            assert!(n.name.starts_with('n'));
            count += 1;
            cur = s.deref(&n.next);
        }
        assert_eq!(count, n.div_ceil(3));
        assert!(s.stats().objects_dropped as usize >= n - n.div_ceil(3));
    });
}

#[test]
fn a_panicking_destructor_does_not_unwind_through_the_collector() {
    let mut heap = Heap::new(Config::default().with_debug_level(2)).unwrap();
    // Silence the expected panic messages.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    heap.scope(|s| {
        s.scope(|s| {
            for id in 0..10 {
                s.alloc(Panicky { id }).unwrap();
            }
        });
        s.collect_minor();
        let after = s.alloc(5u64).unwrap();
        assert_eq!(*s.get(after), 5, "the heap keeps working");
    });
    std::panic::set_hook(hook);
    let stats = heap.stats();
    assert_eq!(stats.drop_panics, 10);
    assert!(heap.verify().is_ok());
}

#[test]
fn young_large_objects_that_die_are_freed_by_the_minor_collection() {
    let drops = counter();
    let mut heap = Heap::new(Config::default().with_debug_level(2)).unwrap();
    heap.scope(|s| {
        let keep = s.alloc_bytes(&[1; 100_000]).unwrap();
        s.scope(|s| {
            for _ in 0..10 {
                s.alloc_bytes(&[2; 50_000]).unwrap();
            }
        });
        assert!(s.stats().large_object_bytes >= 600_000);
        s.collect_minor();
        let stats = s.stats();
        assert!(
            stats.large_object_bytes < 110_000,
            "{}",
            stats.large_object_bytes
        );
        assert_eq!(s.bytes(keep).len(), 100_000);
        // A large array of references, promoted in place, pointing to young objects.
        let arr = s.alloc_array::<Counted>(2_000).unwrap();
        let c = s
            .alloc(Counted {
                drops: drops.clone(),
                id: 9,
            })
            .unwrap();
        s.array_set(arr, 1_999, Some(c));
        s.collect_minor(); // arr survives (rooted), c is promoted through it
        let c2 = s.array_load(arr, 1_999).unwrap();
        assert_eq!(s.get(c2).id, 9);
        let young = s
            .alloc(Counted {
                drops: drops.clone(),
                id: 10,
            })
            .unwrap();
        s.array_set(arr, 0, Some(young)); // old large -> young: the barrier remembers it
        assert!(s.verify().is_ok());
        s.collect_minor();
        assert_eq!(s.deref(&s.array(arr)[0]).unwrap().id, 10);
    });
    heap.collect_major();
    assert_eq!(heap.stats().large_object_bytes, 0);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}
