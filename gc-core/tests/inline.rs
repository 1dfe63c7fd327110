//! Inline-value arrays (`GcSlice<T>`, `GcVec<T>`): every operation against a `Vec` model, growth
//! from the nursery into a large object, young references stored into old arrays, pinned
//! arrays, drop glue exactly once, and uniform reads.

mod common;

use std::sync::Mutex;

use gc_core::{Config, GcArray, GcBytes, GcError, GcVec, Handle, Heap, Member, Scope, Trace};
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
}

/// A dynamic language's value: scalars inline, objects by reference.
#[derive(Trace)]
enum Value {
    Nil,
    Num(f64),
    Obj(Member<Node>),
}

/// Counts its drops per id (no references, so it may have a destructor).
#[derive(Trace)]
#[pinion(drop)]
struct Counted {
    id: usize,
}

/// Drops per id (a map: the ids are large, and a vector that big is slow under Miri).
static DROPS: std::sync::LazyLock<Mutex<std::collections::HashMap<usize, usize>>> =
    std::sync::LazyLock::new(Default::default);

impl Counted {
    fn new(id: usize) -> Counted {
        Counted { id }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        *DROPS.lock().unwrap().entry(self.id).or_insert(0) += 1;
    }
}

fn drops_of(id: usize) -> usize {
    DROPS.lock().unwrap().get(&id).copied().unwrap_or(0)
}

fn node<'s>(s: &mut Scope<'s>, value: u64) -> Handle<'s, Node> {
    s.alloc(Node { value }).unwrap()
}

/// The value of element `i`, as the model writes it.
fn seen(s: &Scope<'_>, v: &Value) -> (u8, u64) {
    match v {
        Value::Nil => (0, 0),
        Value::Num(n) => (1, *n as u64),
        Value::Obj(m) => (2, s.deref(m).map_or(u64::MAX, |n| n.value)),
    }
}

#[test]
fn a_vector_grows_from_the_nursery_into_a_large_object_and_keeps_its_elements() {
    let mut heap = Heap::new(Config::default().with_debug_level(2)).unwrap();
    heap.scope(|s| {
        let v = s.alloc_vec::<Value>(0).unwrap();
        let n = scaled(3000);
        for i in 0..n {
            s.scope(|s| {
                let obj = node(s, i as u64);
                let value = if i % 2 == 0 {
                    ValueInit::Obj(Some(obj))
                } else {
                    ValueInit::Num(i as f64)
                };
                s.vec_push(v, value);
            });
        }
        assert!(s.vec_capacity(v) >= n);
        if !cfg!(miri) {
            assert!(
                s.stats().large_objects >= 1,
                "3,000 elements of 16 bytes outgrow the nursery's object size"
            );
        }
        s.collect_minor();
        s.collect_major();
        let items = s.get(v);
        assert_eq!(items.len(), n);
        for (i, item) in items.iter().enumerate() {
            let want = if i % 2 == 0 {
                (2, i as u64)
            } else {
                (1, i as u64)
            };
            assert_eq!(seen(s, item), want, "element {i}");
        }
    });
    assert!(heap.verify().is_ok());
}

#[test]
fn young_references_stored_into_an_old_vector_are_remembered() {
    let mut heap = Heap::new(Config::default().with_debug_level(2)).unwrap();
    heap.scope(|s| {
        let v = s.alloc_vec::<Value>(8).unwrap();
        s.vec_push(v, ValueInit::Nil);
        s.collect_minor(); // the vector and its storage are old now
        for i in 0..6u64 {
            s.scope(|s| {
                let young = node(s, 100 + i); // reachable only through the old storage
                s.vec_push(v, ValueInit::Obj(Some(young)));
            });
        }
        s.scope(|s| {
            let young = node(s, 7);
            s.vec_set(v, 0, ValueInit::Obj(Some(young)));
            let young = node(s, 8);
            s.vec_insert(v, 1, ValueInit::Obj(Some(young)));
        });
        assert!(s.verify().is_ok(), "{}", s.verify());
        s.collect_minor();
        let got: Vec<(u8, u64)> = s.get(v).iter().map(|x| seen(s, x)).collect();
        assert_eq!(
            got,
            [
                (2, 7),
                (2, 8),
                (2, 100),
                (2, 101),
                (2, 102),
                (2, 103),
                (2, 104),
                (2, 105)
            ]
        );
        // Growing an old vector copies its young references into the new storage through the
        // bulk store path.
        for _ in 0..20 {
            s.vec_push(v, ValueInit::Num(1.0));
        }
        s.collect_minor();
        assert_eq!(seen(s, &s.get(v)[7]), (2, 105));
    });
    assert!(heap.verify().is_ok());
}

#[test]
fn a_pinned_vector_refuses_to_grow_and_changes_nothing() {
    let mut heap = Heap::new(Config::default().with_debug_level(2)).unwrap();
    heap.scope(|s| {
        let v = s.alloc_vec::<u64>(4).unwrap();
        for i in 0..4 {
            s.vec_push(v, i);
        }
        let pin = s.pin(v).unwrap();
        assert!(s.is_pinned(v));
        assert_eq!(pin.len(), 32, "the pin covers the elements");
        let at = pin.as_ptr();
        assert_eq!(s.try_vec_push(v, 9), Err(GcError::ArrayPinned));
        assert_eq!(s.try_vec_insert(v, 0, 9), Err(GcError::ArrayPinned));
        assert_eq!(s.vec_reserve(v, 100), Err(GcError::ArrayPinned));
        assert_eq!(s.get(v), &[0, 1, 2, 3]);
        s.vec_set(v, 0, 10); // writes in place are fine
        s.collect_minor();
        assert_eq!(
            s.get(v).as_ptr().cast::<u8>(),
            at.cast_const(),
            "pinned: did not move"
        );
        s.unpin(pin).unwrap();
        s.vec_push(v, 4);
        assert_eq!(s.get(v), &[10, 1, 2, 3, 4]);
    });
}

#[test]
fn drop_glue_runs_once_for_every_element_removed_and_none_for_elements_moved() {
    let mut heap = Heap::new(Config::default().with_nursery_size(16 * 1024)).unwrap();
    let base = 1_000_000; // ids of this test
    heap.scope(|s| {
        let v = s.alloc_vec::<Counted>(1).unwrap();
        for i in 0..10 {
            s.vec_push(v, Counted::new(base + i)); // grows several times: moves, no drops
        }
        assert!((0..10).all(|i| drops_of(base + i) == 0));
        assert!(s.vec_pop(v)); // id 9
        assert_eq!(
            s.vec_pop_value(v).map(|c| c.id),
            None::<usize>.or(Some(base + 8))
        );
        s.vec_remove(v, 0); // id 0
        assert_eq!(s.vec_remove_value(v, 0).id, base + 1);
        s.vec_set(v, 0, Counted::new(base + 20)); // overwrites id 2
        s.vec_truncate(v, 3); // ids 20, 3, 4 stay; 5, 6, 7 go
        for (id, want) in [
            (0, 1),
            (1, 1),
            (2, 1),
            (3, 0),
            (4, 0),
            (5, 1),
            (6, 1),
            (7, 1),
            (8, 1),
            (9, 1),
        ] {
            assert_eq!(drops_of(base + id), want, "id {id}");
        }
        s.collect_major();
        s.collect_major();
        assert_eq!(
            drops_of(base + 3),
            0,
            "live elements are not dropped by collections"
        );
        s.vec_clear(v);
        assert_eq!(drops_of(base + 20), 1);
        assert_eq!(drops_of(base + 3), 1);
    });
    heap.collect_major();
    drop(heap);
    for id in (0..10).chain([20]) {
        assert_eq!(drops_of(base + id), 1, "id {id} dropped exactly once");
    }
}

#[test]
fn a_million_numbers_are_a_few_heap_objects() {
    let mut heap = Heap::new(Config::default()).unwrap();
    // Under Miri a thousand: the vector's growth copies its storage, which Miri checks byte by
    // byte.
    let n = if cfg!(miri) { 1_000 } else { 1_000_000 };
    heap.scope(|s| {
        let v = s.alloc_vec::<f64>(0).unwrap();
        for i in 0..n {
            s.vec_push(v, i as f64);
        }
        s.collect_major();
        let report = s.verify();
        assert!(report.is_ok());
        assert!(
            report.objects <= 3,
            "{} objects for {n} numbers",
            report.objects
        );
        assert_eq!(
            s.get(v).iter().sum::<f64>(),
            (0..n).map(|i| i as f64).sum::<f64>()
        );
    });
}

#[test]
fn fixed_length_slices_hold_values_and_references_inline() {
    let mut heap = Heap::new(Config::default().with_debug_level(2)).unwrap();
    heap.scope(|s| {
        let a = node(s, 1);
        let t = s
            .alloc_slice([ValueInit::Num(2.0), ValueInit::Obj(Some(a)), ValueInit::Nil])
            .unwrap();
        let numbers = s.alloc_slice([1u64, 2, 3, 4]).unwrap();
        s.collect_minor();
        let b = node(s, 5);
        s.slice_set(t, 2, ValueInit::Obj(Some(b)));
        s.slice_copy_within(t, 1, 0, 1);
        s.slice_copy_within(numbers, 0, 1, 3);
        s.collect_minor();
        let got: Vec<(u8, u64)> = s.get(t).iter().map(|x| seen(s, x)).collect();
        assert_eq!(got, [(2, 1), (2, 1), (2, 5)]);
        assert_eq!(s.get(numbers), &[1, 1, 2, 3]);
        assert_eq!(
            s.try_slice_set(numbers, 4, 0),
            Err(GcError::IndexOutOfBounds { index: 4, len: 4 })
        );
    });
    assert!(heap.verify().is_ok());
}

/// The mirrors of a slice are gathered on the stack up to a small count and in a vector past
/// it: every length around that boundary keeps its elements in order, and a foreign handle is
/// found wherever it lies (before anything is allocated).
#[test]
fn slices_of_every_small_length_keep_their_order_and_their_checks() {
    let mut heap = Heap::new(Config::default().with_debug_level(2)).unwrap();
    let mut other = Heap::new(Config::default()).unwrap();
    heap.scope(|s| {
        for len in 0..12u64 {
            let nodes: Vec<_> = (0..len).map(|i| node(s, 100 * len + i)).collect();
            let t = s
                .alloc_slice(nodes.iter().map(|n| ValueInit::Obj(Some(*n))))
                .unwrap();
            s.collect_minor();
            let got: Vec<(u8, u64)> = s.get(t).iter().map(|x| seen(s, x)).collect();
            let want: Vec<(u8, u64)> = (0..len).map(|i| (2, 100 * len + i)).collect();
            assert_eq!(got, want, "a slice of {len}");
        }
        other.scope(|o| {
            let foreign = node(o, 7);
            for at in 0..9 {
                let nodes: Vec<_> = (0..9)
                    .map(|i| if i == at { foreign } else { node(s, i) })
                    .collect();
                let before = s.stats().bytes_allocated;
                let result = s.alloc_slice(nodes.iter().map(|n| ValueInit::Obj(Some(*n))));
                assert!(
                    matches!(result, Err(GcError::ForeignHandle { .. })),
                    "a foreign handle at {at}"
                );
                assert_eq!(
                    s.stats().bytes_allocated,
                    before,
                    "refused before allocating"
                );
            }
        });
    });
    assert!(heap.verify().is_ok());
}

/// One read for every heap type: `get` through a handle, `deref` through a member.
#[derive(Trace)]
struct Holder {
    bytes: Member<GcBytes>,
    array: Member<GcArray<Node>>,
    vec: Member<GcVec<Value>>,
    node: Member<Node>,
}

#[test]
fn reads_are_uniform_for_every_heap_type() {
    let mut heap = Heap::new(Config::default()).unwrap();
    heap.scope(|s| {
        let bytes = s.alloc_bytes(b"abc").unwrap();
        let n = node(s, 3);
        let array = s.alloc_array_from(&[n]).unwrap();
        let vec = s.alloc_vec::<Value>(1).unwrap();
        s.vec_push(vec, ValueInit::Num(4.0));
        let holder = s
            .alloc_init(HolderInit {
                bytes: Some(bytes),
                array: Some(array),
                vec: Some(vec),
                node: Some(n),
            })
            .unwrap();
        s.collect_major();
        let h = s.get(holder);
        assert_eq!(s.deref(&h.bytes), Some(&b"abc"[..]));
        assert_eq!(s.deref(&h.array).map(|a| a.len()), Some(1));
        assert!(matches!(s.deref(&h.vec), Some([Value::Num(x)]) if *x == 4.0));
        assert_eq!(s.deref(&h.node).map(|n| n.value), Some(3));
        assert_eq!(s.get(bytes), b"abc");
        assert_eq!(s.get(array).len(), 1);
    });
}

/// The operations of the model test.
#[derive(Clone, Debug)]
enum Op {
    Push(Elem),
    Insert(usize, Elem),
    Set(usize, Elem),
    Pop,
    Remove(usize),
    Truncate(usize),
    Clear,
    CopyWithin(usize, usize, usize),
    Reserve(usize),
    Pin,
    Unpin,
    Minor,
    Major,
}

/// An element: a number, a reference to a fresh node, or nil.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Elem {
    Nil,
    Num(u32),
    Obj(u32),
}

fn elem() -> impl Strategy<Value = Elem> {
    prop_oneof![
        Just(Elem::Nil),
        any::<u32>().prop_map(Elem::Num),
        any::<u32>().prop_map(Elem::Obj)
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => elem().prop_map(Op::Push),
        2 => (0..40usize, elem()).prop_map(|(i, e)| Op::Insert(i, e)),
        2 => (0..40usize, elem()).prop_map(|(i, e)| Op::Set(i, e)),
        1 => Just(Op::Pop),
        1 => (0..40usize).prop_map(Op::Remove),
        1 => (0..40usize).prop_map(Op::Truncate),
        1 => Just(Op::Clear),
        1 => (0..40usize, 0..40usize, 0..10usize).prop_map(|(a, b, c)| Op::CopyWithin(a, b, c)),
        1 => (0..600usize).prop_map(Op::Reserve),
        1 => Just(Op::Pin),
        1 => Just(Op::Unpin),
        1 => Just(Op::Minor),
        1 => Just(Op::Major),
    ]
}

fn model_value(e: Elem) -> (u8, u64) {
    match e {
        Elem::Nil => (0, 0),
        Elem::Num(n) => (1, u64::from(n)),
        Elem::Obj(n) => (2, u64::from(n)),
    }
}

/// Applies one op to the heap (in its own scope, so the nodes it makes are reachable only
/// through the vector) and to the model.
fn apply(
    s: &mut Scope<'_>,
    v: Handle<'_, GcVec<Value>>,
    pin: &mut Option<gc_core::Pinned>,
    model: &mut Vec<Elem>,
    op: &Op,
) {
    fn build<'s>(s: &mut Scope<'s>, e: Elem) -> Option<Handle<'s, Node>> {
        match e {
            Elem::Obj(n) => Some(node(s, u64::from(n))),
            _ => None,
        }
    }
    s.scope(|s| {
        let len = model.len();
        match *op {
            Op::Push(e) => {
                let n = build(s, e);
                let r = s.try_vec_push(v, mirror(e, n));
                if pin.is_some() && len == s.vec_capacity(v) {
                    assert_eq!(r, Err(GcError::ArrayPinned));
                } else {
                    r.unwrap();
                    model.push(e);
                }
            }
            Op::Insert(i, e) => {
                let n = build(s, e);
                let r = s.try_vec_insert(v, i, mirror(e, n));
                if i > len {
                    assert!(matches!(r, Err(GcError::IndexOutOfBounds { .. })));
                } else if pin.is_some() && len == s.vec_capacity(v) {
                    assert_eq!(r, Err(GcError::ArrayPinned));
                } else {
                    r.unwrap();
                    model.insert(i, e);
                }
            }
            Op::Set(i, e) => {
                let n = build(s, e);
                let r = s.try_vec_set(v, i, mirror(e, n));
                if i < len {
                    r.unwrap();
                    model[i] = e;
                } else {
                    assert!(r.is_err());
                }
            }
            Op::Pop => {
                assert_eq!(s.vec_pop(v), model.pop().is_some());
            }
            Op::Remove(i) => {
                let r = s.try_vec_remove(v, i);
                if i < len {
                    r.unwrap();
                    model.remove(i);
                } else {
                    assert!(r.is_err());
                }
            }
            Op::Truncate(n) => {
                s.vec_truncate(v, n);
                model.truncate(n);
            }
            Op::Clear => {
                s.vec_clear(v);
                model.clear();
            }
            Op::CopyWithin(a, b, c) => {
                if a + c <= len && b + c <= len {
                    s.vec_copy_within(v, a, b, c);
                    model.copy_within(a..a + c, b);
                }
            }
            Op::Reserve(n) => {
                let r = s.vec_reserve(v, n);
                if pin.is_some() && len + n > s.vec_capacity(v) {
                    assert_eq!(r, Err(GcError::ArrayPinned));
                } else {
                    r.unwrap();
                    assert!(s.vec_capacity(v) >= len + n);
                }
            }
            Op::Pin => {
                if pin.is_none() {
                    *pin = Some(s.pin(v).unwrap());
                }
            }
            Op::Unpin => {
                if let Some(p) = pin.take() {
                    s.unpin(p).unwrap();
                }
            }
            Op::Minor => s.collect_minor(),
            Op::Major => s.collect_major(),
        }
    });
}

fn mirror<'h>(e: Elem, n: Option<Handle<'h, Node>>) -> ValueInit<'h> {
    match e {
        Elem::Nil => ValueInit::Nil,
        Elem::Num(x) => ValueInit::Num(f64::from(x)),
        Elem::Obj(_) => ValueInit::Obj(n),
    }
}

proptest! {
    #![proptest_config(common::proptest_config(64))]

    #[test]
    fn a_vector_behaves_like_a_vec(
        ops in proptest::collection::vec(op(), 1..if cfg!(miri) { 30 } else { 200 }),
        nursery in prop_oneof![
            Just(1024usize),
            Just(16 * 1024),
            // Under Miri a smaller large nursery: poisoning 4 MB per collection is slow there.
            Just(if cfg!(miri) { 256 << 10 } else { 4 << 20 }),
        ],
    ) {
        let mut heap = Heap::new(
            Config::default()
                .with_nursery_size(nursery)
                .with_nursery_debug(true)
                .with_debug_level(2),
        )
        .unwrap();
        heap.scope(|s| {
            let v = s.alloc_vec::<Value>(0).unwrap();
            let mut model = Vec::new();
            let mut pin = None;
            for op in &ops {
                apply(s, v, &mut pin, &mut model, op);
                let got: Vec<(u8, u64)> = s.get(v).iter().map(|x| seen(s, x)).collect();
                let want: Vec<(u8, u64)> = model.iter().map(|&e| model_value(e)).collect();
                assert_eq!(got, want, "after {op:?}");
            }
            drop(pin);
        });
        let report = heap.verify();
        prop_assert!(report.is_ok(), "{}", report);
    }
}

#[test]
fn counted_elements_are_all_dropped_with_the_heap() {
    let mut heap = Heap::new(Config::default()).unwrap();
    heap.scope(|s| {
        let v = s.alloc_vec::<Counted>(0).unwrap();
        for i in 0..100 {
            s.vec_push(v, Counted::new(2_000_000 + i));
        }
        let slice = s
            .alloc_slice((0..10).map(|i| Counted::new(3_000_000 + i)))
            .unwrap();
        assert_eq!(s.get(slice).len(), 10);
    });
    drop(heap);
    for id in (2_000_000..2_000_100).chain(3_000_000..3_000_010) {
        assert_eq!(drops_of(id), 1, "id {id} dropped exactly once");
    }
}
