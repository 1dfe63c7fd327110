//! The API a bytecode interpreter's hot paths use: map lookups and writes through members or
//! identities with inline-cache hints, `rebind_to`, and a `VecView`'s copies that read the view's own
//! elements. Each against a plain model, across collections that move everything.

mod common;

use std::collections::HashMap;

use gc_core::{
    GcBytes, GcMap, GcSlice, GcVec, Handle, Identity, MapHint, MapKey, Member, Scope, Trace,
};
use proptest::prelude::*;

fn scaled(n: usize) -> usize {
    if cfg!(miri) {
        (n / 50).max(4)
    } else {
        n
    }
}

#[derive(Trace, Debug)]
enum Value {
    Nil,
    Num(f64),
    Str(Member<GcBytes>),
}

/// An object with fields, as an interpreter's instance.
#[derive(Trace)]
struct Instance {
    fields: Member<GcMap<GcBytes, Value>>,
}

/// The names a program uses, as its constants hold them.
fn names<'s>(s: &mut Scope<'s>, count: usize) -> Handle<'s, GcSlice<Member<GcBytes>>> {
    let mut handles = Vec::new();
    for i in 0..count {
        handles.push(Some(s.alloc_bytes(format!("name{i}").as_bytes()).unwrap()));
    }
    s.alloc_slice_of::<Member<GcBytes>>(handles).unwrap()
}

/// An instance with an empty fields map of its own (a four-slot table): the map and the
/// instance.
fn instance<'s>(s: &mut Scope<'s>) -> (Handle<'s, GcMap<GcBytes, Value>>, Handle<'s, Instance>) {
    let fields = s.alloc_map(0).unwrap();
    let object = s
        .alloc_init(InstanceInit {
            fields: Some(fields),
        })
        .unwrap();
    (fields, object)
}

fn lookup<'a>(
    s: &'a Scope<'_>,
    object: Handle<'_, Instance>,
    names: Handle<'_, GcSlice<Member<GcBytes>>>,
    name: usize,
    hint: Option<&MapHint>,
) -> Option<&'a Value> {
    let fields = s.deref(&s.get(object).fields)?;
    s.map_lookup(fields, &s.get(names)[name], hint)
}

#[test]
fn a_hint_is_only_ever_a_shortcut() {
    let mut heap = common::verified();
    heap.scope(|s| {
        let names = names(s, 8);
        let mut objects = Vec::new();
        for k in 0..3 {
            let fields = s.alloc_map(0).unwrap();
            // Different insertion orders: the same name sits in different slots.
            for i in 0..8 {
                let name = if k == 1 { 7 - i } else { i };
                let key = s.root(&s.get(names)[name]).unwrap();
                s.map_insert(fields, key, ValueInit::Num((k * 100 + name) as f64))
                    .unwrap();
            }
            objects.push(
                s.alloc_init(InstanceInit {
                    fields: Some(fields),
                })
                .unwrap(),
            );
        }
        let hint = MapHint::new();
        for round in 0..3 {
            if round > 0 {
                s.collect_minor(); // every slot's key moves
            }
            for (k, &object) in objects.iter().enumerate() {
                for name in 0..8 {
                    let found = lookup(s, object, names, name, Some(&hint));
                    let want = (k * 100 + name) as f64;
                    assert!(
                        matches!(found, Some(Value::Num(n)) if *n == want),
                        "{k} {name}"
                    );
                }
            }
        }
        // A key that is absent stays absent, whatever the hint says.
        let other = s.alloc_bytes(b"name0").unwrap(); // same bytes, another object
        let other = s.alloc_slice_of::<Member<GcBytes>>([Some(other)]).unwrap();
        assert!(lookup(s, objects[0], other, 0, Some(&hint)).is_none());
    });
}

#[test]
fn lookups_find_what_is_there_in_tables_of_every_size_after_removals() {
    // Tables of up to 8 slots are scanned, larger ones probed (`scope/map_lookup.rs`): from 0
    // to 12 entries, half of them then removed (their slots become tombstones), every name
    // is looked up by member and by identity, with and without a hint, across a collection
    // that moves every key.
    let mut heap = common::verified();
    heap.scope(|s| {
        let names = names(s, 13);
        let ids: Vec<Identity> = (0..13)
            .map(|i| {
                let name = s.root(&s.get(names)[i]).unwrap();
                s.identity(name)
            })
            .collect();
        for entries in 0..=12 {
            s.scope(|s| {
                let fields = s.alloc_map(0).unwrap();
                for i in 0..entries {
                    let key = s.root(&s.get(names)[i]).unwrap();
                    s.map_insert(fields, key, ValueInit::Num(i as f64)).unwrap();
                }
                for i in (0..entries).step_by(2) {
                    let key = s.root(&s.get(names)[i]).unwrap();
                    assert!(s.map_remove(fields, key));
                }
                let object = s
                    .alloc_init(InstanceInit {
                        fields: Some(fields),
                    })
                    .unwrap();
                let hint = MapHint::new();
                for round in 0..2 {
                    if round == 1 {
                        s.collect_minor();
                    }
                    for (name, &id) in ids.iter().enumerate() {
                        let present = name < entries && name % 2 == 1;
                        let by_identity = [None, Some(&hint)].map(|hint| {
                            let fields = s.deref(&s.get(object).fields).unwrap();
                            s.map_lookup(fields, MapKey::Identity(id), hint)
                        });
                        let by_member =
                            [None, Some(&hint)].map(|h| lookup(s, object, names, name, h));
                        for found in by_member.into_iter().chain(by_identity) {
                            match found {
                                Some(Value::Num(n)) => {
                                    assert!(present, "{entries} entries: {name} was removed");
                                    assert_eq!(*n, name as f64);
                                }
                                None => assert!(!present, "{entries} entries: {name} missing"),
                                Some(other) => panic!("{other:?}"),
                            }
                        }
                    }
                }
            });
        }
    });
}

#[test]
fn replace_writes_only_existing_entries_and_allocates_nothing() {
    let mut heap = common::verified();
    heap.scope(|s| {
        let names = names(s, 2);
        let (fields, object) = instance(s);
        let text = s.alloc_bytes(b"text").unwrap();
        let source = s.alloc_init(ValueInit::Str(Some(text))).unwrap();
        let hint = MapHint::new();
        let replace = |s: &mut Scope<'_>, name: usize| {
            s.map_replace_copy(Some(&hint), |s| {
                let fields = s.deref(&s.get(object).fields)?;
                Some((fields, (&s.get(names)[name]).into(), s.get(source)))
            })
        };
        assert_eq!(replace(s, 0), Ok(false)); // absent: nothing written
        assert_eq!(s.get(fields).len(), 0);
        let key = s.root(&s.get(names)[0]).unwrap();
        s.map_insert(fields, key, ValueInit::Nil).unwrap();
        let before = s.stats().bytes_allocated;
        assert_eq!(replace(s, 0), Ok(true));
        assert_eq!(s.stats().bytes_allocated, before);
        s.collect_minor();
        let found = lookup(s, object, names, 0, None);
        assert!(matches!(found, Some(Value::Str(m)) if s.deref(m) == Some(&b"text"[..])));
        assert_eq!(replace(s, 1), Ok(false));
    });
}

#[test]
fn set_inserts_only_into_a_table_with_room_and_allocates_nothing() {
    let mut heap = common::verified();
    heap.scope(|s| {
        let names = names(s, 6);
        // Names 0-3 have been keys somewhere (so they have identity hashes); 4 and 5 never.
        let elsewhere = s.alloc_map::<GcBytes, Value>(8).unwrap();
        for i in 0..4 {
            let key = s.root(&s.get(names)[i]).unwrap();
            s.map_insert(elsewhere, key, ValueInit::Nil).unwrap();
        }
        let (fields, object) = instance(s); // four slots: room for three entries
        let source = s.alloc_init(ValueInit::Num(7.0)).unwrap();
        let hint = MapHint::new();
        let set = |s: &mut Scope<'_>, name: usize| {
            s.map_set_copy(Some(&hint), |s| {
                let fields = s.deref(&s.get(object).fields)?;
                Some((fields, &s.get(names)[name], s.get(source)))
            })
        };
        s.collect_minor(); // the keys and the map are old and have moved
        let before = s.stats().bytes_allocated;
        assert_eq!(set(s, 4), Ok(false)); // never a key: no identity hash yet
        for name in 0..3 {
            assert_eq!(set(s, name), Ok(true), "{name}");
        }
        assert_eq!(s.stats().bytes_allocated, before);
        assert_eq!(set(s, 3), Ok(false)); // the table is full: growing it allocates
        assert_eq!(set(s, 0), Ok(true)); // an existing entry is replaced all the same
        assert_eq!(s.get(fields).len(), 3);
        s.map_remove(fields, s.root(&s.get(names)[1]).unwrap());
        // A tombstone counts as used until the table is rebuilt (which allocates).
        assert_eq!(set(s, 3), Ok(false));
        s.collect_minor();
        for (name, want) in [(0, true), (1, false), (2, true), (3, false), (4, false)] {
            let found = lookup(s, object, names, name, None);
            assert_eq!(found.is_some(), want, "{name}");
            assert!(found.is_none_or(|v| matches!(v, Value::Num(n) if *n == 7.0)));
        }
        assert!(s.verify().violations.is_empty());
    });
}

#[test]
fn put_inserts_growing_the_table_and_finds_everything_again() {
    let mut heap = common::verified();
    heap.scope(|s| {
        let count = scaled(300);
        let names = names(s, count);
        let (fields, object) = instance(s);
        let values = s.alloc_vec::<Value>(count).unwrap();
        for i in 0..count {
            s.vec_push(values, ValueInit::Num(i as f64));
        }
        let hints: Vec<MapHint> = (0..count).map(|_| MapHint::new()).collect();
        for round in 0..2 {
            for (i, hint) in hints.iter().enumerate() {
                let put = s.map_put_copy(Some(hint), |s| {
                    let fields = s.deref(&s.get(object).fields)?;
                    Some((fields, &s.get(names)[i], &s.get(values)[i]))
                });
                assert_eq!(put, Ok(Some(round == 1)), "{i}");
            }
            s.collect_minor();
        }
        assert_eq!(s.get(fields).len(), count);
        for (i, hint) in hints.iter().enumerate() {
            let found = lookup(s, object, names, i, Some(hint));
            assert!(matches!(found, Some(Value::Num(n)) if *n == i as f64));
        }
        assert!(s.verify().violations.is_empty());
    });
}

#[test]
fn rebind_to_follows_a_member_and_ignores_null() {
    let mut heap = common::verified();
    heap.scope(|s| {
        let names = names(s, 3);
        let cursor = s.root(&s.get(names)[0]).unwrap();
        for round in 0..3 {
            assert!(s.rebind_to(cursor, &s.get(names)[round]));
            s.collect_minor();
            assert_eq!(s.get(cursor), format!("name{round}").as_bytes());
        }
        let empty = s.alloc_slice_of::<Member<GcBytes>>([None]).unwrap();
        assert!(!s.rebind_to(cursor, &s.get(empty)[0]));
        assert_eq!(s.get(cursor), b"name2");
    });
}

#[test]
fn a_views_copies_read_its_own_elements() {
    let mut heap = common::verified();
    heap.scope(|s| {
        let stack = s.alloc_vec::<Value>(16).unwrap();
        let text = s.alloc_bytes(b"x").unwrap();
        let boxed = s.alloc_init(ValueInit::Str(Some(text))).unwrap();
        s.vec_push(stack, ValueInit::Num(1.0));
        s.vec_push(stack, ValueInit::Nil);
        let mut v = s.vec_view(stack);
        // Copy element 0 over element 1, found through the elements the closure gets.
        assert_eq!(v.copy_from(1, |_, values| values.first()), Ok(true));
        assert_eq!(v.push_copy_from(|s, _| Some(s.get(boxed))), Ok(true));
        assert_eq!(v.push_copy_from(|_, values| values.get(99)), Ok(false));
        assert_eq!(v.len(), 3);
        assert!(matches!(v[1], Value::Num(n) if n == 1.0));
        drop(v);
        s.collect_minor();
        let values = s.get(stack);
        assert!(matches!(&values[2], Value::Str(m) if s.deref(m) == Some(&b"x"[..])));
    });
}

/// A replacement writes only the entry's value, and the barrier sees the reference it makes:
/// a young string replacing an old entry's number is remembered, so the minor collection
/// after it keeps the string and updates the entry (the verifier runs after each collection).
#[test]
fn a_young_value_replacing_an_entry_of_an_old_map_is_remembered() {
    let mut heap = common::verified();
    heap.scope(|s| {
        let names = names(s, 3);
        let (fields, object) = instance(s);
        for i in 0..3 {
            let key = s.root(&s.get(names)[i]).unwrap();
            s.map_insert(fields, key, ValueInit::Num(i as f64)).unwrap();
        }
        s.collect_major(); // the map, its table and the names are old now
        s.collect_minor(); // and no longer remembered
        let text = s.alloc_bytes(b"young").unwrap();
        let source = s.alloc_init(ValueInit::Str(Some(text))).unwrap();
        let replaced = s.map_replace_copy(None, |s| {
            let fields = s.deref(&s.get(object).fields)?;
            Some((fields, (&s.get(names)[1]).into(), s.get(source)))
        });
        assert_eq!(replaced, Ok(true));
        s.collect_minor();
        let found = lookup(s, object, names, 1, None);
        assert!(matches!(found, Some(Value::Str(m)) if s.deref(m) == Some(&b"young"[..])));
        for (i, want) in [(0, 0.0), (2, 2.0)] {
            assert!(matches!(lookup(s, object, names, i, None), Some(Value::Num(n)) if *n == want));
        }
        assert!(s.verify().violations.is_empty());
    });
}

proptest! {
    #![proptest_config(common::proptest_config(48))]

    /// Fields written and read through members, identities and hints, against a `HashMap`, with hints
    /// shared between objects (as one bytecode instruction sees many instances) and
    /// collections in between.
    #[test]
    fn member_map_operations_match_a_model(
        ops in proptest::collection::vec((0usize..3, 0usize..6, 0u8..7, 0usize..3), 1..80)
    ) {
        let mut heap = common::verified();
        heap.scope(|s| {
            let names = names(s, 6);
            let objects: Vec<_> = (0..3).map(|_| instance(s).1).collect();
            let source = s.alloc_vec::<Value>(1).unwrap();
            s.vec_push(source, ValueInit::Nil);
            let hints: Vec<MapHint> = (0..3).map(|_| MapHint::new()).collect();
            let mut model: Vec<HashMap<usize, f64>> = vec![HashMap::new(); 3];
            // A name's identity, taken the first time an operation by identity needs it (until
            // then the name has no identity hash, as `map_set_copy` sees it).
            let mut ids: Vec<Option<Identity>> = vec![None; 6];
            for (step, &(object, name, op, hint)) in ops.iter().enumerate() {
                if op >= 5 && ids[name].is_none() {
                    let key = s.root(&s.get(names)[name]).unwrap();
                    ids[name] = Some(s.identity(key));
                }
                let hint = &hints[hint];
                let number = step as f64;
                s.vec_set(source, 0, ValueInit::Num(number));
                let obj = objects[object];
                match op {
                    0 => {
                        let put = s.map_put_copy(Some(hint), |s| {
                            let fields = s.deref(&s.get(obj).fields)?;
                            Some((fields, &s.get(names)[name], &s.get(source)[0]))
                        }).unwrap();
                        let had = model[object].insert(name, number).is_some();
                        prop_assert_eq!(put, Some(had));
                    }
                    1 => {
                        let replaced = s.map_replace_copy(Some(hint), |s| {
                            let fields = s.deref(&s.get(obj).fields)?;
                            Some((fields, (&s.get(names)[name]).into(), &s.get(source)[0]))
                        }).unwrap();
                        let had = model[object].contains_key(&name);
                        if had {
                            model[object].insert(name, number);
                        }
                        prop_assert_eq!(replaced, had);
                    }
                    2 if step % 2 == 0 => s.collect_minor(),
                    2 => {
                        // Inserts only into a table with room, for a key that has a hash.
                        let set = s.vec_view(source).map_set_copy(Some(hint), |s, values| {
                            let fields = s.deref(&s.get(obj).fields)?;
                            Some((fields, &s.get(names)[name], &values[0]))
                        }).unwrap();
                        let had = model[object].contains_key(&name);
                        prop_assert!(set || !had, "an existing entry is always replaced");
                        if set {
                            model[object].insert(name, number);
                        }
                    }
                    3 => {
                        // As `map_set_copy`, inserting only when the locator allows it.
                        let may_insert = step % 3 != 0;
                        let set = s.vec_view(source).map_update_copy(Some(hint), |s, values| {
                            let fields = s.deref(&s.get(obj).fields)?;
                            Some((fields, &s.get(names)[name], &values[0], may_insert))
                        }).unwrap();
                        let had = model[object].contains_key(&name);
                        prop_assert!(set || !had, "an existing entry is always replaced");
                        prop_assert!(had || may_insert || !set, "inserted though not allowed");
                        if set {
                            model[object].insert(name, number);
                        }
                    }
                    5 => {
                        let id = ids[name].unwrap();
                        let replaced = s.map_replace_copy(Some(hint), |s| {
                            let fields = s.deref(&s.get(obj).fields)?;
                            Some((fields, MapKey::Identity(id), &s.get(source)[0]))
                        }).unwrap();
                        let had = model[object].contains_key(&name);
                        if had {
                            model[object].insert(name, number);
                        }
                        prop_assert_eq!(replaced, had);
                    }
                    _ => {
                        let found = if op == 6 {
                            let fields = s.deref(&s.get(obj).fields).unwrap();
                            s.map_lookup(fields, MapKey::Identity(ids[name].unwrap()), Some(hint))
                        } else {
                            lookup(s, obj, names, name, Some(hint))
                        };
                        let want = model[object].get(&name);
                        match (found, want) {
                            (None, None) => {}
                            (Some(Value::Num(n)), Some(w)) => prop_assert_eq!(n, w),
                            (f, w) => prop_assert!(false, "found {:?}, model {:?}", f, w),
                        }
                    }
                }
            }
            prop_assert!(s.verify().violations.is_empty());
            Ok(())
        })?;
    }
}

#[test]
fn the_identity_cache_never_outlives_its_entries() {
    // Keys hashed, looked up (cached), moved by minor collections, some dying, addresses
    // reused by new objects that get hashed in turn: the verifier checks the cache against the
    // table after every collection (DEBUG=2) and at the end.
    let mut heap = common::verified();
    heap.scope(|s| {
        let fields = s.alloc_map::<GcBytes, Value>(0).unwrap();
        for round in 0..scaled(40) {
            s.scope(|t| {
                let key = t.alloc_bytes(format!("k{round}").as_bytes()).unwrap();
                t.map_insert(fields, key, ValueInit::Num(round as f64))
                    .unwrap();
                assert!(t.map_get(fields, key).is_some());
                let garbage = t.alloc_bytes(b"garbage").unwrap();
                let _ = t.identity_hash(garbage); // hashed, then dies
            });
            if round % 3 == 0 {
                s.collect_minor();
            }
            if round % 7 == 0 {
                s.collect_major();
            }
        }
        assert_eq!(s.get(fields).len(), scaled(40));
        assert!(s.verify().violations.is_empty());
    });
}

#[test]
fn a_view_and_its_vector_agree_after_every_kind_of_write() {
    let mut heap = common::verified();
    heap.scope(|s| {
        let stack: Handle<'_, GcVec<Value>> = s.alloc_vec(8).unwrap();
        let mut v = s.vec_view(stack);
        v.push(Value::Num(1.0)).unwrap();
        v.push_copy(0).unwrap();
        v.set(1, Value::Num(2.0)).unwrap();
        v.copy(1, 0).unwrap();
        v.truncate(1);
        drop(v); // the view's length reaches the vector when the view ends
        assert_eq!(s.vec_len(stack), 1);
        assert!(matches!(s.get(stack)[0], Value::Num(n) if n == 2.0));
    });
}

/// A view writes its length into the vector lazily: whatever reads the vector through the
/// view's scope (`scope()`, the locators of the copy operations) sees the view's length, and
/// a view that is forgotten leaves a length that covers only initialised elements, which the
/// collector traces and the verifier accepts.
#[test]
fn what_reads_the_vector_during_a_view_sees_the_views_length() {
    let mut heap = common::verified();
    heap.scope(|s| {
        let stack: Handle<'_, GcVec<Value>> = s.alloc_vec(8).unwrap();
        let text = s.alloc_bytes(b"kept").unwrap();
        s.vec_push(stack, ValueInit::Str(Some(text)));
        let mut v = s.vec_view(stack);
        v.push(Value::Num(1.0)).unwrap();
        v.push(Value::Num(2.0)).unwrap();
        assert_eq!(v.scope().get(stack).len(), 3);
        let seen = std::cell::Cell::new(0);
        v.push_copy_from(|sc, values| {
            seen.set(sc.get(stack).len());
            values.first()
        })
        .unwrap();
        assert_eq!(seen.get(), 3); // the locator runs before the push
        v.copy_from(1, |sc, values| {
            seen.set(sc.get(stack).len());
            values.get(3)
        })
        .unwrap();
        assert_eq!(seen.get(), 4);
        v.truncate(1);
        std::mem::forget(v); // the vector keeps the length it last saw: 4 elements
        assert_eq!(s.vec_len(stack), 4);
        s.collect_minor();
        s.collect_major();
        let values = s.get(stack);
        for i in [0, 1, 3] {
            assert!(matches!(&values[i], Value::Str(m) if s.deref(m) == Some(&b"kept"[..])));
        }
        assert!(s.verify().violations.is_empty());
    });
}

#[test]
fn a_view_duplicates_young_and_old_elements_of_an_old_vector_without_a_barrier() {
    // `push_copy`, `copy` and `set` with a value built in safe code run no barrier (the
    // vector gains no referent it did not hold): an old vector holding a young string is
    // remembered, so a minor collection updates every duplicate; one holding only old values
    // is not, and its duplicates need nothing. The verifier runs after every collection
    // (DEBUG=2).
    let mut heap = common::verified();
    heap.scope(|s| {
        let stack = s.alloc_vec::<Value>(64).unwrap();
        let old = s.alloc_bytes(b"old").unwrap();
        s.vec_push(stack, ValueInit::Str(Some(old)));
        s.vec_push(stack, ValueInit::Num(3.0));
        s.collect_major(); // the vector, its storage and `old` are old now
        s.scope(|t| {
            let young = t.alloc_bytes(b"young").unwrap();
            t.vec_push(stack, ValueInit::Str(Some(young))); // remembered
        });
        {
            let mut v = s.vec_view(stack);
            for _ in 0..8 {
                for src in 0..3 {
                    v.push_copy(src).unwrap();
                }
            }
            v.push(Value::Nil).unwrap();
            // Overwrites within the vector: a number over a string and back.
            v.set(5, Value::Num(-1.0)).unwrap();
            v.copy(2, 5).unwrap();
            v.copy(4, 3).unwrap();
            v.copy(0, 3).unwrap();
        }
        s.collect_minor(); // moves `young`: every duplicate must follow it
        s.collect_major();
        let values = s.get(stack);
        assert_eq!(values.len(), 3 + 8 * 3 + 1);
        for (i, value) in values.iter().enumerate().take(27) {
            match (i % 3, value) {
                (0, Value::Str(m)) => assert_eq!(s.deref(m), Some(&b"old"[..])),
                (1, Value::Num(n)) => assert_eq!(*n, 3.0),
                (2, Value::Str(m)) => assert_eq!(s.deref(m), Some(&b"young"[..])),
                (_, other) => panic!("element {i}: {other:?}"),
            }
        }
        assert!(matches!(values[27], Value::Nil));
        assert!(s.verify().is_ok());
    });
}

#[test]
fn a_young_value_copied_into_an_old_vector_from_elsewhere_is_remembered() {
    // The contrast to `push_copy`: a copy from another object (`copy_from`,
    // `push_copy_from`) may give the vector a referent it did not hold, so it runs the
    // barrier; without it the minor collection would leave the old vector pointing into the
    // nursery (the verifier runs after every collection). Each kind of copy on its own.
    let mut heap = common::verified();
    heap.scope(|s| {
        let stack = s.alloc_vec::<Value>(8).unwrap();
        s.vec_push(stack, ValueInit::Nil);
        for push in [false, true] {
            s.collect_major(); // the vector is old and outside the remembered set
            s.scope(|t| {
                let text = t.alloc_bytes(b"young").unwrap();
                let boxed = t.alloc_init(ValueInit::Str(Some(text))).unwrap();
                let mut v = t.vec_view(stack);
                let copied = if push {
                    v.truncate(0);
                    v.push_copy_from(|s, _| Some(s.get(boxed)))
                } else {
                    v.copy_from(0, |s, _| Some(s.get(boxed)))
                };
                assert_eq!(copied, Ok(true));
            });
            s.collect_minor();
            let values = s.get(stack);
            assert_eq!(values.len(), 1);
            assert!(matches!(&values[0], Value::Str(m) if s.deref(m) == Some(&b"young"[..])));
            assert!(s.verify().is_ok());
        }
    });
}
