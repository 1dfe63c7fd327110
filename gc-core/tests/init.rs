//! One-step construction (`Scope::alloc_init`): objects built with their references, young and
//! born old, with the barrier a later store would run, and mirrors checked before anything is
//! reserved.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use gc_core::gc_hooks::{Accumulated, MinorEvent};
use gc_core::{Config, GcError, GcHooks, Handle, Heap, Member, Scope, Trace};

#[derive(Trace)]
struct Node {
    value: u64,
    left: Member<Node>,
    right: Member<Node>,
}

/// Larger than a 256-byte nursery.
#[derive(Trace)]
struct Wide {
    filler: [u64; 40],
    child: Member<Node>,
}

/// Over the large-object threshold.
#[derive(Trace)]
struct Huge {
    filler: [u64; 1100],
    child: Member<Node>,
}

#[derive(Trace)]
enum Value {
    Nil,
    Num(f64),
    Pair(Member<Node>, Member<Node>),
    Named { name: String, node: Member<Node> },
}

/// A user type that happens to be called `Member`: the derive converts fields through the
/// `Init` trait, so it stays a plain value, never an address.
mod user {
    #[derive(gc_core::Trace)]
    #[pinion(leaf)] // holds no references: its own mirror
    pub struct Member(pub u64);
}

#[derive(Trace)]
struct HoldsUserMember {
    plain: user::Member,
    real: Member<Node>,
}

fn leaf<'s>(s: &mut Scope<'s>, value: u64) -> Handle<'s, Node> {
    s.alloc_init(NodeInit {
        value,
        left: None,
        right: None,
    })
    .unwrap()
}

fn value_of(s: &Scope<'_>, m: &Member<Node>) -> Option<u64> {
    s.deref(m).map(|n| n.value)
}

#[test]
fn a_young_object_is_built_with_its_references() {
    let mut heap = Heap::new(Config::default().with_debug_level(2)).unwrap();
    heap.scope(|s| {
        let a = leaf(s, 1);
        let b = leaf(s, 2);
        let root = s
            .alloc_init(NodeInit {
                value: 3,
                left: Some(a),
                right: Some(b),
            })
            .unwrap();
        assert!(s.can_move(root));
        s.collect_minor();
        let r = s.get(root);
        assert_eq!(
            (value_of(s, &r.left), value_of(s, &r.right)),
            (Some(1), Some(2))
        );
    });
    assert!(heap.verify().is_ok());
}

/// Every object not born young gets the barrier: a minor collection after building it with
/// young references must find them (they are reachable only through it) and the verifier must
/// find it remembered.
#[test]
fn born_old_objects_built_with_young_references_are_remembered() {
    // 1. Non-moving allocation.
    let mut heap = Heap::new(Config::default().with_debug_level(2)).unwrap();
    heap.scope(|s| {
        let old = s.escape(|s| {
            let young = leaf(s, 10); // reachable only through the new object once this returns
            s.alloc_init_nonmoving(NodeInit {
                value: 11,
                left: Some(young),
                right: None,
            })
            .unwrap()
        });
        assert!(!s.can_move(old));
        assert!(s.verify().is_ok(), "{}", s.verify());
        s.collect_minor();
        assert_eq!(value_of(s, &s.get(old).left), Some(10));
        s.collect_major();
        assert_eq!(value_of(s, &s.get(old).left), Some(10));
    });

    // 2. An object larger than the whole nursery.
    let mut heap = Heap::new(Config::default().with_nursery_size(256)).unwrap();
    heap.scope(|s| {
        let wide = s.escape(|s| {
            let young = leaf(s, 20);
            s.alloc_init(WideInit {
                filler: [7; 40],
                child: Some(young),
            })
            .unwrap()
        });
        assert!(!s.can_move(wide), "born old");
        assert!(s.verify().is_ok(), "{}", s.verify());
        s.collect_minor();
        assert_eq!(value_of(s, &s.get(wide).child), Some(20));
    });
    assert!(heap.verify().is_ok());

    // 3. Allocation while the nursery is full of pinned objects.
    let config = Config::default()
        .with_nursery_size(16 * 1024)
        .with_max_pinned(100_000);
    let mut heap = Heap::new(config).unwrap();
    heap.scope(|s| {
        let mut guards = Vec::new();
        let young = leaf(s, 30);
        guards.push(s.pin(young).unwrap());
        loop {
            let h = s.alloc_bytes(&[0; 100]).unwrap();
            if !s.can_move(h) {
                break;
            }
            guards.push(s.pin(h).unwrap());
        }
        let born_old = s
            .alloc_init(NodeInit {
                value: 31,
                left: Some(young),
                right: None,
            })
            .unwrap();
        assert!(!s.can_move(born_old), "no nursery gap: born old");
        assert!(s.verify().is_ok(), "{}", s.verify());
        drop(guards);
        s.release_dropped_pins();
        s.collect_minor(); // `young` is unpinned now, and moves: the old parent must follow
        assert_eq!(value_of(s, &s.get(born_old).left), Some(30));
    });
    assert!(heap.verify().is_ok());

    // 4. A large object (young until the next minor collection, which scans it).
    let mut heap = Heap::new(Config::default().with_debug_level(2)).unwrap();
    heap.scope(|s| {
        let huge = s.escape(|s| {
            let young = leaf(s, 40);
            s.alloc_init(HugeInit {
                filler: [1; 1100],
                child: Some(young),
            })
            .unwrap()
        });
        assert!(!s.can_move(huge));
        s.collect_minor();
        assert_eq!(value_of(s, &s.get(huge).child), Some(40));
        let later = leaf(s, 41);
        s.set(huge, |h| &h.child, Some(later)); // now old: a later store takes the barrier
        s.collect_minor();
        assert_eq!(value_of(s, &s.get(huge).child), Some(41));
    });
    assert!(heap.verify().is_ok());
}

#[test]
fn handles_moved_by_the_reserving_collection_are_resolved_after_it() {
    // STRESS=1: every allocation runs a minor collection, which moves every young object the
    // mirror's handles refer to before the new object is written.
    let mut heap = Heap::new(
        Config::default()
            .with_stress(Some(1))
            .with_nursery_debug(true)
            .with_debug_level(2),
    )
    .unwrap();
    heap.scope(|s| {
        let mut tree = leaf(s, 0);
        let n: u64 = if cfg!(miri) { 20 } else { 200 };
        for i in 1..n {
            let other = leaf(s, i);
            tree = s
                .alloc_init(NodeInit {
                    value: i,
                    left: Some(tree),
                    right: Some(other),
                })
                .unwrap();
        }
        let mut sum = 0;
        let mut cur = Some(s.get(tree));
        while let Some(n) = cur {
            sum += n.value + value_of(s, &n.right).unwrap_or(0);
            cur = s.deref(&n.left);
        }
        assert_eq!(sum, 2 * (1..n).sum::<u64>());
    });
}

#[test]
fn enums_are_built_in_one_step_and_projected_by_variant() {
    let mut heap = Heap::new(Config::default().with_debug_level(2)).unwrap();
    heap.scope(|s| {
        let a = leaf(s, 1);
        let b = leaf(s, 2);
        let pair = s.alloc_init(ValueInit::Pair(Some(a), None)).unwrap();
        let named = s
            .alloc_init(ValueInit::Named {
                name: "x".to_string(),
                node: Some(b),
            })
            .unwrap();
        let nil = s.alloc_init(ValueInit::Nil).unwrap();
        let num = s.alloc_init(ValueInit::Num(2.5)).unwrap();
        s.set_variant(pair, Value::pair_1, Some(b));
        s.collect_minor();
        assert_eq!(
            s.load_variant(pair, Value::pair_0).map(|h| s.get(h).value),
            Some(1)
        );
        assert_eq!(
            s.load_variant(pair, Value::pair_1).map(|h| s.get(h).value),
            Some(2)
        );
        assert_eq!(
            s.load_variant(named, Value::named_node)
                .map(|h| s.get(h).value),
            Some(2)
        );
        assert_eq!(s.get(named).named_name().map(String::as_str), Some("x"));
        assert_eq!(s.get(num).as_num(), Some(&2.5));
        assert!(matches!(s.get(nil), Value::Nil));
        assert_eq!(
            s.try_set_variant(num, Value::pair_0, Some(a)),
            Err(GcError::WrongVariant)
        );
        assert_eq!(
            s.try_load_variant(nil, Value::named_node).err(),
            Some(GcError::WrongVariant)
        );
    });
}

#[test]
fn a_mirror_with_a_foreign_handle_is_refused_before_anything_is_allocated() {
    let mut other = Heap::new(Config::default()).unwrap();
    let mut heap = Heap::new(Config::default()).unwrap();
    other.scope(|o| {
        let foreign = leaf(o, 1);
        heap.scope(|s| {
            let before = s.stats().bytes_allocated;
            let err = s
                .alloc_init(NodeInit {
                    value: 2,
                    left: None,
                    right: Some(foreign),
                })
                .err();
            assert!(
                matches!(err, Some(GcError::ForeignHandle { .. })),
                "{err:?}"
            );
            assert_eq!(s.stats().bytes_allocated, before, "nothing was reserved");
        });
    });
}

#[test]
fn a_field_type_named_member_stays_a_value() {
    let mut heap = Heap::new(Config::default()).unwrap();
    heap.scope(|s| {
        let n = leaf(s, 5);
        let h = s
            .alloc_init(HoldsUserMemberInit {
                plain: user::Member(0xdead_beef),
                real: Some(n),
            })
            .unwrap();
        s.collect_major();
        assert_eq!(s.get(h).plain.0, 0xdead_beef);
        assert_eq!(value_of(s, &s.get(h).real), Some(5));
    });
    assert!(heap.verify().is_ok());
}

/// Verifies the heap from inside every minor-collection hook: hooks delivered by a one-step
/// allocation run only once its fields are written and it is rooted.
struct VerifyingHook(Arc<AtomicU64>);

impl GcHooks for VerifyingHook {
    fn on_minor(&mut self, s: &mut Scope<'_>, minors: &Accumulated<MinorEvent>) {
        let report = s.verify();
        assert!(report.is_ok(), "{report}");
        self.0.fetch_add(minors.count, Ordering::SeqCst);
    }
}

#[test]
fn hooks_see_the_object_only_after_every_field_is_written() {
    let seen = Arc::new(AtomicU64::new(0));
    let mut heap = Heap::new(Config::default().with_stress(Some(1))).unwrap();
    heap.set_hooks(VerifyingHook(seen.clone()));
    heap.scope(|s| {
        let mut tree = leaf(s, 0);
        for i in 0..if cfg!(miri) { 20u64 } else { 100 } {
            tree = s
                .alloc_init(NodeInit {
                    value: i,
                    left: Some(tree),
                    right: Some(tree),
                })
                .unwrap();
        }
    });
    assert!(seen.load(Ordering::SeqCst) >= if cfg!(miri) { 20 } else { 100 });
}
