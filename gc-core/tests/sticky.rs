//! Sticky major collections (`collect/major.rs`): an automatic major collection that marks only
//! what reached the old generation since the last one. Each test reaches a fresh object only
//! through a kept one in a different way (an old-to-old store, a young store then promotion, a
//! pinned referent promoted after the major collection) and checks it survives; then what
//! sticky collections reclaim and what waits for a full one. The verifier runs after every
//! major collection (`DEBUG=1`): it checks the store log and the kept marks as well.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use gc_core::{Config, Handle, Heap, Member, Scope, Trace};

#[derive(Trace)]
struct Node {
    value: u64,
    next: Member<Node>,
}

#[path = "common/counted.rs"]
mod counted;
use counted::Counted;

/// Nodes per chain, and the heap's sizes below, shrink under Miri (which interprets every
/// instruction): the collections stay the same, on a heap a quarter the size.
const CHAIN: u64 = if cfg!(miri) { 100 } else { 400 };
const SCALE: usize = if cfg!(miri) { 4 } else { 1 };

/// A small nursery and a low `MIN`, so that automatic major collections come quickly.
fn config() -> Config {
    Config::default()
        .with_nursery_size(16 * 1024 / SCALE)
        .with_min_major(64 * 1024 / SCALE)
        .with_debug_level(1)
}

fn node<'s>(s: &mut Scope<'s>, value: u64) -> Handle<'s, Node> {
    s.alloc(Node {
        value,
        next: Member::null(),
    })
    .unwrap()
}

/// Builds a chain long enough to be promoted, and drops it.
fn churn(s: &mut Scope<'_>, round: u64) {
    s.scope(|s| {
        let head = node(s, round);
        for i in 0..CHAIN {
            let n = node(s, i);
            s.set(n, |n| &n.next, Some(head));
            s.set(head, |h| &h.next, Some(n));
        }
    });
}

/// Churns until an automatic sticky major collection has run.
fn run_until_sticky(s: &mut Scope<'_>) {
    let before = s.stats().sticky_major_collections;
    for round in 0..2_000u64 {
        churn(s, round);
        if s.stats().sticky_major_collections > before {
            return;
        }
    }
    panic!("no sticky major collection ran");
}

fn next_value(s: &Scope<'_>, holder: Handle<'_, Node>) -> u64 {
    let next = s.load(holder, |n| &n.next).expect("the reference is set");
    s.get(next).value
}

/// Builds a chain of nodes that lives as long as the returned handle: data that full
/// collections find live, so that sticky ones, which free the churn's garbage while marking
/// little, pass the pacer's usefulness test and run in a row.
fn live_base<'s>(s: &mut Scope<'s>) -> Handle<'s, Node> {
    let base = node(s, 0);
    for i in 0..3 * CHAIN * CHAIN / 400 {
        s.scope(|s| {
            let n = node(s, i);
            s.set(n, |n| &n.next, s.load(base, |b| &b.next));
            s.set(base, |b| &b.next, Some(n));
        });
    }
    base
}

/// Full major collections so far.
fn full_collections(s: &Scope<'_>) -> u64 {
    let stats = s.stats();
    stats.major_collections - stats.sticky_major_collections
}

/// A sticky collection's survivors stay fresh (`collect/sticky.rs`), so the kept object that
/// refers to one is still the only way the next sticky collection finds it: it stays in the
/// store log (the verifier checks that after every major collection), and the referent survives
/// sticky collection after sticky collection, with no full one between.
#[test]
#[cfg_attr(miri, ignore)] // 137 s under Miri; the pinned-referent test covers the same code
fn a_fresh_object_stored_into_a_kept_one_survives_sticky_collections() {
    let mut heap = Heap::new(config()).unwrap();
    heap.scope(|s| {
        live_base(s);
        let holder = node(s, 1);
        s.collect_major(); // full: the holder is kept
        s.scope(|s| {
            let fresh = node(s, 42);
            s.collect_minor(); // promoted: fresh and old
            s.set(holder, |n| &n.next, Some(fresh)); // an old-to-old store: logged
        });
        let fulls = full_collections(s);
        for _ in 0..3 {
            run_until_sticky(s);
            assert_eq!(next_value(s, holder), 42);
        }
        assert_eq!(full_collections(s), fulls, "only sticky collections ran");
        assert!(s.verify().is_ok());
    });
}

/// A kept map's entry replaced in place (`map_replace_copy`, whose barrier traces the value
/// inline) by a fresh object that nothing else refers to: the store is logged, so the sticky
/// collection marks it.
#[test]
#[cfg_attr(miri, ignore)] // like the test above: long under Miri, same code as the vector one
fn a_fresh_object_replacing_a_kept_maps_entry_survives_a_sticky_collection() {
    let mut heap = Heap::new(config()).unwrap();
    heap.scope(|s| {
        let map = s.alloc_map::<gc_core::GcBytes, Member<Node>>(0).unwrap();
        let key = s.alloc_bytes(b"entry").unwrap();
        let first = node(s, 1);
        s.map_insert(map, key, Some(first)).unwrap();
        let carrier = node(s, 0);
        s.collect_major(); // full: the map, its table and the key are kept
        s.scope(|s| {
            let fresh = node(s, 42);
            s.collect_minor(); // promoted: fresh and old
            s.set(carrier, |n| &n.next, Some(fresh));
        });
        let replaced = s.map_replace_copy(None, |sc| {
            let entries = sc.get(map);
            let (name, _) = entries.iter().next()?;
            Some((entries, name.into(), &sc.get(carrier).next))
        });
        assert_eq!(replaced, Ok(true));
        s.set(carrier, |n| &n.next, None); // the map is the only way to the fresh object now
        run_until_sticky(s);
        let entry = s
            .map_get(map, key)
            .and_then(|m| s.deref(m))
            .map(|n| n.value);
        assert_eq!(entry, Some(42));
        assert!(s.verify().is_ok());
    });
}

#[test]
#[cfg_attr(miri, ignore)] // over 60 s under Miri; the pinned-referent test covers the same code
fn a_young_object_stored_into_a_kept_one_survives_its_promotion_and_a_sticky_collection() {
    let mut heap = Heap::new(config()).unwrap();
    heap.scope(|s| {
        let holder = node(s, 1);
        s.collect_major();
        s.scope(|s| {
            let young = node(s, 7);
            s.set(holder, |n| &n.next, Some(young)); // remembered, and logged
        });
        s.collect_minor(); // promotes it: the holder now refers to a fresh object
        run_until_sticky(s);
        assert_eq!(next_value(s, holder), 7);
    });
}

#[test]
fn a_pinned_referent_promoted_after_a_major_collection_survives_a_sticky_one() {
    let mut heap = Heap::new(config()).unwrap();
    heap.scope(|s| {
        let holder = node(s, 1);
        let pin = s.scope(|s| {
            let pinned = node(s, 99);
            let pin = s.pin(pinned).unwrap();
            s.set(holder, |n| &n.next, Some(pinned));
            pin
        });
        // The holder is kept, and stays remembered: its referent is young and pinned.
        s.collect_major();
        s.unpin(pin).unwrap();
        // The next minor collection promotes the referent; nothing stores into the holder.
        s.collect_minor();
        run_until_sticky(s);
        assert_eq!(next_value(s, holder), 99);
    });
}

#[test]
#[cfg_attr(miri, ignore)] // sticky collections take long to come under Miri; the view's unit tests run there
fn elements_duplicated_in_a_kept_vector_survive_sticky_collections() {
    // A view's `push_copy` runs no barrier: the vector gains no referent it did not hold, so
    // a vector outside the store log still refers only to what it held at the last major
    // collection. Checked with a kept object and a fresh one (stored through the store path,
    // which logs the vector), duplicated while the vector is logged, again after a sticky
    // collection (which leaves it logged: it refers to a fresh survivor), and again after a
    // full one, while it is not; the verifier checks the log after every major one.
    let mut heap = Heap::new(config()).unwrap();
    heap.scope(|s| {
        let stack = s.alloc_vec::<Member<Node>>(64).unwrap();
        let kept = node(s, 5);
        s.vec_push(stack, Some(kept));
        s.collect_major(); // full: the vector and `kept` are kept, the log starts again
        s.scope(|s| {
            let fresh = node(s, 9);
            s.collect_minor(); // fresh and old
            s.vec_push(stack, Some(fresh)); // an old-to-old store: the vector is logged
        });
        let duplicate = |s: &mut Scope<'_>, times: usize| {
            let mut v = s.vec_view(stack);
            for _ in 0..times {
                v.push_copy(0).unwrap();
                v.push_copy(1).unwrap();
            }
        };
        duplicate(s, 4);
        run_until_sticky(s);
        duplicate(s, 2);
        s.collect_major();
        // The log started again: the vector is outside it (truncating logs nothing). Keep
        // the first pair, swap them through the top (copies within the vector, no barrier
        // either), then duplicate again.
        {
            let mut v = s.vec_view(stack);
            v.truncate(3);
            v.copy(0, 2).unwrap();
            v.copy(1, 0).unwrap();
            v.copy(2, 1).unwrap();
            v.truncate(2);
        }
        duplicate(s, 8);
        run_until_sticky(s);
        let values: Vec<u64> = s
            .get(stack)
            .iter()
            .map(|m| s.deref(m).expect("set").value)
            .collect();
        assert_eq!(values, [9, 5].repeat(9)); // swapped, then duplicated
        assert!(s.verify().is_ok());
    });
}

#[test]
#[cfg_attr(miri, ignore)] // two runs to a sticky collection; the pinned-referent test runs the same code
fn a_fresh_object_live_at_one_sticky_collection_is_freed_by_the_next_one() {
    // A structure live when a sticky collection runs (a tree being built) and dropped soon
    // after is freed by the next sticky collection, not left for a full one.
    let drops = Arc::new(AtomicUsize::new(0));
    let mut heap = Heap::new(config()).unwrap();
    heap.scope(|s| {
        live_base(s);
        s.collect_major(); // the first full collection: sticky ones may follow
        let fulls = full_collections(s);
        s.scope(|s| {
            s.alloc(Counted {
                drops: drops.clone(),
            })
            .unwrap();
            s.collect_minor(); // fresh
            run_until_sticky(s); // live then: it survives
            assert_eq!(drops.load(Ordering::SeqCst), 0);
        });
        run_until_sticky(s);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "freed by the second sticky one"
        );
        assert_eq!(full_collections(s), fulls, "only sticky collections ran");
    });
}

#[test]
fn sticky_collections_free_dead_fresh_objects_and_a_full_one_the_dead_kept_ones() {
    let kept_drops = Arc::new(AtomicUsize::new(0));
    let fresh_drops = Arc::new(AtomicUsize::new(0));
    let mut heap = Heap::new(config()).unwrap();
    heap.scope(|s| {
        s.scope(|s| {
            s.alloc(Counted {
                drops: kept_drops.clone(),
            })
            .unwrap();
            s.collect_major(); // kept, then dead when this scope ends
        });
        s.scope(|s| {
            s.alloc(Counted {
                drops: fresh_drops.clone(),
            })
            .unwrap();
            s.collect_minor(); // fresh, then dead
        });
        run_until_sticky(s);
        assert_eq!(fresh_drops.load(Ordering::SeqCst), 1, "a dead fresh object");
        assert_eq!(
            kept_drops.load(Ordering::SeqCst),
            0,
            "a kept object waits for a full collection"
        );
        s.collect_major();
        assert_eq!(kept_drops.load(Ordering::SeqCst), 1);
    });
}

#[test]
#[cfg_attr(miri, ignore)] // no unsafe code of its own; the pacer's tests cover the rule
fn with_sticky_collections_off_every_major_collection_is_full() {
    let mut heap = Heap::new(config().with_sticky(false)).unwrap();
    heap.scope(|s| {
        for round in 0..200 {
            churn(s, round);
        }
    });
    let stats = heap.stats();
    // The second automatic one would be sticky with sticky collections on.
    assert!(stats.major_collections >= 2, "{stats:?}");
    assert_eq!(stats.sticky_major_collections, 0);
}

#[test]
#[cfg_attr(miri, ignore)] // no unsafe code of its own; the pinned-referent test covers the rest
fn a_frozen_heap_runs_only_full_major_collections_until_one_after_unfreeze() {
    let mut heap = Heap::new(config()).unwrap();
    heap.freeze();
    heap.scope(|s| {
        for round in 0..200 {
            churn(s, round);
        }
    });
    let stats = heap.stats();
    assert!(stats.major_collections >= 3, "{stats:?}");
    assert_eq!(
        stats.sticky_major_collections, 0,
        "sealed objects are not marked"
    );
    heap.unfreeze();
    heap.scope(run_until_sticky);
    assert!(heap.verify().is_ok());
}

#[test]
#[cfg_attr(miri, ignore)] // no unsafe code of its own; the pacer's tests cover the rule
fn a_growing_heap_runs_sticky_collections_that_move_the_threshold() {
    // A list that only grows: every full collection finds all of it live, so sticky ones
    // (which mark only the nodes promoted since) take over the threshold steps, two in a row
    // between full ones; with sticky collections that could not move the threshold, each step
    // after the first useless one would be a full collection (the backoff).
    let nodes: u64 = 20_000 / SCALE as u64;
    let mut heap = Heap::new(config()).unwrap();
    let (thresholds, sum) = heap.scope(|s| {
        let head = node(s, 0);
        let mut thresholds = vec![s.stats().major_threshold];
        for value in 1..nodes {
            s.scope(|s| {
                let n = node(s, value);
                s.set(n, |n| &n.next, s.load(head, |h| &h.next));
                s.set(head, |h| &h.next, Some(n));
            });
            let threshold = s.stats().major_threshold;
            if threshold != *thresholds.last().unwrap() {
                thresholds.push(threshold);
            }
        }
        let mut sum = 0;
        let mut cur = s.load(head, |h| &h.next);
        while let Some(n) = cur {
            sum += s.get(n).value;
            cur = s.load(n, |n| &n.next);
        }
        (thresholds, sum)
    });
    assert_eq!(sum, nodes * (nodes - 1) / 2, "every node is still there");
    let stats = heap.stats();
    assert!(stats.major_collections >= 5, "{stats:?}");
    assert!(
        stats.sticky_major_collections * 2 >= stats.major_collections,
        "sticky collections take the steps: {stats:?}"
    );
    // Every major collection moved the threshold up, sticky ones included.
    assert!(thresholds.windows(2).all(|t| t[1] > t[0]), "{thresholds:?}");
    assert_eq!(
        thresholds.len() as u64,
        stats.major_collections + 1,
        "{thresholds:?}"
    );
    assert!(heap.verify().is_ok());
}
