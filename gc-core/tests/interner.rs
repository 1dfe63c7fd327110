//! `WeakInterner`: one string per content across moving collections, entries that die with
//! their strings, collisions, growth and purges, against a model.

mod common;

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use gc_core::{Config, GcBytes, GcError, Handle, Heap, Persistent, WeakInterner};
use proptest::prelude::*;

/// A small nursery, and the young verifier after every minor collection.
fn heap() -> Heap {
    common::verified()
}

/// A hasher that gives every content the same hash: every lookup walks every entry, and only
/// the contents tell strings apart.
#[derive(Default, Clone)]
struct Colliding;

impl BuildHasher for Colliding {
    type Hasher = ConstantHasher;
    fn build_hasher(&self) -> ConstantHasher {
        ConstantHasher
    }
}

struct ConstantHasher;

impl Hasher for ConstantHasher {
    fn write(&mut self, _: &[u8]) {}
    fn finish(&self) -> u64 {
        7
    }
}

#[test]
fn equal_contents_are_one_string_across_moving_collections() {
    let mut heap = heap();
    let mut strings = WeakInterner::new();
    heap.scope(|s| {
        let a = strings.intern(s, b"spam").unwrap();
        let b = strings.intern(s, b"eggs").unwrap();
        assert!(!s.ptr_eq(a, b));
        s.collect_minor(); // both move to the old generation
        let again = strings.intern(s, b"spam").unwrap();
        assert!(s.ptr_eq(again, a));
        s.collect_major();
        assert!(s.ptr_eq(strings.get(s, b"eggs").unwrap(), b));
        assert_eq!(s.get(a), b"spam");
        assert!(strings.get(s, b"ham").is_none());
        assert_eq!(strings.len(s), 2);
        // The empty string is a string like any other.
        let empty = strings.intern(s, b"").unwrap();
        let again = strings.intern(s, b"").unwrap();
        assert!(s.ptr_eq(again, empty));
    });
}

#[test]
fn entries_die_with_their_strings_and_a_new_string_takes_the_content() {
    let mut heap = heap();
    let mut strings = WeakInterner::new();
    let kept: Persistent<GcBytes> = heap.scope(|s| {
        s.scope(|t| {
            for i in 0..100u32 {
                strings.intern(t, format!("dead {i}").as_bytes()).unwrap();
            }
        });
        let kept = strings.intern(s, b"kept").unwrap();
        s.persist(kept).unwrap()
    });
    heap.collect_minor(); // young strings nothing holds die here
    heap.scope(|s| {
        assert_eq!(strings.len(s), 1);
        assert!(strings.get(s, b"dead 7").is_none());
        let again = strings.intern(s, b"dead 7").unwrap();
        assert_eq!(s.get(again), b"dead 7");
        assert_eq!(strings.len(s), 2);
        assert!(s.ptr_eq(
            strings.get(s, b"kept").unwrap(),
            s.persistent(&kept).unwrap()
        ));
    });
}

#[test]
fn colliding_hashes_are_told_apart_by_content() {
    let mut heap = heap();
    let mut strings = WeakInterner::with_hasher(Colliding);
    heap.scope(|s| {
        let words: Vec<Handle<'_, GcBytes>> = (0..40u32)
            .map(|i| strings.intern(s, format!("w{i}").as_bytes()).unwrap())
            .collect();
        s.collect_minor();
        for (i, w) in words.iter().enumerate() {
            let found = strings.intern(s, format!("w{i}").as_bytes()).unwrap();
            assert!(s.ptr_eq(found, *w), "word {i}");
        }
        assert_eq!(strings.len(s), 40);
    });
}

#[test]
fn the_table_grows_then_sheds_its_dead_entries() {
    // A nursery large enough for the whole burst: no collection until it is over.
    let mut heap = Heap::new(
        Config::default()
            .with_nursery_size(4 << 20)
            .with_debug_level(2),
    )
    .unwrap();
    let mut strings = WeakInterner::new();
    let n: usize = if cfg!(miri) { 200 } else { 20_000 };
    heap.scope(|s| {
        let mut kept: Vec<Handle<'_, GcBytes>> = Vec::new();
        for i in 0..n {
            let text = format!("string {i}");
            // Every tenth string is kept rooted; the others die in their nested scopes.
            if i % 10 == 0 {
                kept.push(s.escape(|t| strings.intern(t, text.as_bytes()).unwrap()));
            } else {
                s.scope(|t| {
                    strings.intern(t, text.as_bytes()).unwrap();
                });
            }
        }
        let burst = strings.capacity();
        assert!(burst * 7 >= n * 8, "capacity {burst} for {n} strings");
        s.collect_major();
        assert_eq!(strings.len(s), kept.len());
        // Interning more purges first: the dead entries leave the table, which is rebuilt no
        // larger (with room for a burst like the last one).
        strings.intern(s, b"one more").unwrap();
        assert!(strings.capacity() <= burst);
        for (k, h) in kept.iter().enumerate() {
            let found = strings.get(s, format!("string {}", k * 10).as_bytes());
            assert!(found.is_some_and(|f| s.ptr_eq(f, *h)), "string {}", k * 10);
        }
        // A quiet phase (a few new strings between collections): the tombstones of those that
        // die pile up until rebuilds size the table for what the quiet phase uses.
        if !cfg!(miri) {
            for round in 0..400 {
                s.scope(|t| {
                    for j in 0..50 {
                        strings
                            .intern(t, format!("quiet {round} {j}").as_bytes())
                            .unwrap();
                    }
                });
                s.collect_minor();
            }
            assert!(
                strings.capacity() * 2 <= burst,
                "capacity {} after the quiet phase, {burst} after the burst",
                strings.capacity()
            );
            assert_eq!(strings.len(s), kept.len() + 1); // the kept strings and "one more"
        }
    });
    assert!(heap.verify().is_ok());
}

#[test]
fn a_table_serves_the_heap_it_was_first_used_with() {
    let mut first = heap();
    let mut second = heap();
    let mut strings = WeakInterner::new();
    first.scope(|s| {
        strings.intern(s, b"spam").unwrap();
    });
    let first_id = first.id();
    second.scope(|s| {
        match strings.intern(s, b"spam") {
            Err(GcError::ForeignHandle {
                handle_heap,
                this_heap,
            }) => {
                assert_eq!(handle_heap, first_id);
                assert_eq!(this_heap, s.heap_id());
            }
            other => panic!("expected a foreign-heap error, got {other:?}"),
        }
        assert!(strings.get(s, b"spam").is_none());
        assert_eq!(strings.len(s), 1); // the first heap's entry, untouched
    });
    first.scope(|s| assert!(strings.get(s, b"spam").is_some())); // not collected yet
    first.collect_major();
    first.scope(|s| assert!(strings.get(s, b"spam").is_none())); // it died: nothing held it
}

/// What a model step does.
#[derive(Debug, Clone)]
enum Op {
    /// Intern word `w` and keep the handle in slot `slot` (replacing what it held).
    Keep(u8, u8),
    /// Intern word `w` without keeping it.
    Touch(u8),
    /// Forget slot `slot`.
    Drop(u8),
    Minor,
    Major,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..24u8, 0..8u8).prop_map(|(w, slot)| Op::Keep(w, slot)),
        3 => (0..24u8).prop_map(Op::Touch),
        2 => (0..8u8).prop_map(Op::Drop),
        1 => Just(Op::Minor),
        1 => Just(Op::Major),
    ]
}

fn word(w: u8) -> Vec<u8> {
    // Words of several lengths, some longer than a hasher's word.
    format!("{w}-{}", "x".repeat(usize::from(w % 5) * 4)).into_bytes()
}

proptest! {
    #![proptest_config(common::proptest_config(48))]

    /// Interning matches a model: a word held in some slot is always the same string; a word
    /// nothing holds may be a new one after a collection; no two live strings share content.
    #[test]
    fn interning_matches_a_model(
        ops in proptest::collection::vec(op(), 1..if cfg!(miri) { 30 } else { 160 }),
        colliding in any::<bool>(),
    ) {
        let mut heap = heap();
        let mut plain = WeakInterner::new();
        let mut collide = WeakInterner::with_hasher(Colliding);
        heap.scope(|s| {
            let mut slots: [Option<(u8, Handle<'_, GcBytes>)>; 8] = [None; 8];
            for op in &ops {
                let mut intern = |w: u8| {
                    let h = if colliding {
                        collide.intern(s, &word(w)).unwrap()
                    } else {
                        plain.intern(s, &word(w)).unwrap()
                    };
                    (s.get(h) == &word(w)[..], h)
                };
                match *op {
                    Op::Keep(w, slot) => {
                        let (right, h) = intern(w);
                        prop_assert!(right, "word {} has other bytes", w);
                        if let Some((_, other)) = slots.iter().flatten().find(|(x, _)| *x == w) {
                            prop_assert!(s.ptr_eq(h, *other), "word {} held as another string", w);
                        }
                        slots[usize::from(slot)] = Some((w, h));
                    }
                    Op::Touch(w) => {
                        let (right, h) = intern(w);
                        prop_assert!(right, "word {} has other bytes", w);
                        if let Some((_, other)) = slots.iter().flatten().find(|(x, _)| *x == w) {
                            prop_assert!(s.ptr_eq(h, *other), "word {} held as another string", w);
                        }
                    }
                    Op::Drop(slot) => slots[usize::from(slot)] = None,
                    Op::Minor => s.collect_minor(),
                    Op::Major => s.collect_major(),
                }
            }
            let live = if colliding { collide.len(s) } else { plain.len(s) };
            let held: HashMap<u8, ()> = slots.iter().flatten().map(|(w, _)| (*w, ())).collect();
            prop_assert!(live >= held.len(), "{} live entries, {} words held", live, held.len());
            Ok(())
        })?;
        prop_assert!(heap.verify().is_ok());
    }
}
