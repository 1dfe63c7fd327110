//! The safe API's edges: foreign handles, misuse errors, nesting, Send, the raw root layer,
//! and the verifier catching a broken invariant.

/// Test sizes shrink under Miri, which interprets every instruction.
fn scaled(n: u64) -> u64 {
    if cfg!(miri) {
        (n / 40).max(10)
    } else {
        n
    }
}

use gc_core::{
    Config, GcError, Handle, Heap, Member, RawGc, RootProvider, RootTracer, Trace, Violation,
};

#[derive(Trace)]
struct Node {
    value: u64,
    next: Member<Node>,
}

fn node(value: u64) -> Node {
    Node {
        value,
        next: Member::null(),
    }
}

#[test]
fn cross_heap_handles_are_refused_with_an_error() {
    let mut a = Heap::new(Config::default()).unwrap();
    let mut b = Heap::new(Config::default()).unwrap();
    assert_ne!(a.id(), b.id());
    a.scope(|sa| {
        let ha = sa.alloc(node(1)).unwrap();
        b.scope(|sb| {
            let hb = sb.alloc(node(2)).unwrap();
            assert!(matches!(sb.try_get(ha), Err(GcError::ForeignHandle { .. })));
            assert!(matches!(
                sb.try_set(hb, |n| &n.next, Some(ha)),
                Err(GcError::ForeignHandle { .. })
            ));
            assert!(matches!(
                sb.try_load(ha, |n| &n.next),
                Err(GcError::ForeignHandle { .. })
            ));
            // A store checks the object's handle as well as the value's, with or without one.
            for value in [Some(hb), None] {
                assert!(matches!(
                    sb.try_set(ha, |n| &n.next, value),
                    Err(GcError::ForeignHandle { .. })
                ));
            }
            let array = sb.alloc_array::<Node>(1).unwrap();
            assert!(matches!(
                sb.try_array_set(array, 0, Some(ha)),
                Err(GcError::ForeignHandle { .. })
            ));
            assert!(sb.array(array)[0].is_null(), "nothing was written");
            assert!(sb.get(hb).next.is_null(), "nothing was written");
            let err = sb.try_get(ha).err().unwrap().to_string();
            assert!(err.contains("belongs to heap"), "{err}");
        });
        assert_eq!(sa.get(ha).value, 1);
        assert!(
            sa.get(ha).next.is_null(),
            "the refused stores wrote nothing"
        );
    });
}

#[test]
#[should_panic(expected = "belongs to heap")]
fn get_panics_on_a_foreign_handle() {
    let mut a = Heap::new(Config::default()).unwrap();
    let mut b = Heap::new(Config::default()).unwrap();
    a.scope(|sa| {
        let ha = sa.alloc(1u64).unwrap();
        b.scope(|sb| {
            sb.get(ha);
        });
    });
}

#[test]
fn a_member_outside_the_object_is_refused() {
    let outside: &'static Member<Node> = Box::leak(Box::new(Member::null()));
    let mut heap = Heap::new(Config::default()).unwrap();
    heap.scope(|s| {
        let a = s.alloc(node(1)).unwrap();
        let b = s.alloc(node(2)).unwrap();
        assert_eq!(
            s.try_set(a, |_| outside, Some(b)),
            Err(GcError::MemberOutsideObject)
        );
        assert!(outside.is_null(), "the leaked member was not written");
        assert_eq!(
            s.try_load(a, |_| outside).err(),
            Some(GcError::MemberOutsideObject)
        );
        let arr = s.alloc_array::<Node>(1).unwrap();
        assert!(matches!(
            s.try_array_load(arr, 1),
            Err(GcError::IndexOutOfBounds { index: 1, len: 1 })
        ));
    });
    // SAFETY: `outside` came from Box::leak above and is not used again.
    drop(unsafe { Box::from_raw(outside as *const Member<Node> as *mut Member<Node>) });
}

#[test]
fn nested_scopes_pop_their_handles_and_outer_handles_stay_usable() {
    let mut heap = Heap::new(
        Config::default()
            .with_nursery_size(4096)
            .with_debug_level(2),
    )
    .unwrap();
    heap.scope(|s| {
        let outer = s.alloc(node(42)).unwrap();
        let total: u64 = s.scope(|inner| {
            let mut t = 0;
            for i in 0..scaled(1_000) {
                let h = inner.alloc(node(i)).unwrap();
                t += inner.get(h).value + inner.get(outer).value;
            }
            t
        });
        assert_eq!(total, (0..scaled(1_000)).sum::<u64>() + 42 * scaled(1_000));
        assert_eq!(s.get(outer).value, 42);
        // After the nested scope only `outer` is rooted: a major collection keeps one node.
        s.collect_major();
        assert_eq!(s.stats().old_bytes, 24);
        let kept = s.escape(|inner| inner.alloc(node(7)).unwrap());
        s.collect_major();
        assert_eq!(s.get(kept).value, 7);
        let failed: Result<gc_core::Handle<'_, Node>, GcError> =
            s.try_escape(|_| Err(GcError::MemberOutsideObject));
        assert!(failed.is_err());
    });
}

#[test]
fn escape_keeps_exactly_the_returned_object_in_the_enclosing_scope() {
    let mut heap = Heap::new(Config::default().with_debug_level(2)).unwrap();
    heap.scope(|s| {
        let outer = s.alloc(node(1)).unwrap();
        // The result is the third of five temporaries: it takes the inner scope's first slot.
        let third = s.escape(|inner| {
            let made: Vec<_> = (10..15).map(|i| inner.alloc(node(i)).unwrap()).collect();
            made[2]
        });
        // A second escape right after must not reuse the first one's slot.
        let second = s.escape(|inner| {
            inner.alloc(node(20)).unwrap();
            inner.alloc(node(21)).unwrap()
        });
        // An escape of an enclosing scope's object (its closure cannot return the enclosing
        // handle itself: the closure's scope may be any shorter one).
        let again = s.escape(|inner| inner.dup(outer));
        // A fallible escape whose handle comes from a nested scope's escape.
        let nested: Result<Handle<'_, Node>, GcError> =
            s.try_escape(|inner| Ok(inner.escape(|deeper| deeper.alloc(node(30)).unwrap())));
        let nested = nested.unwrap();
        s.collect_major();
        assert_eq!(s.get(outer).value, 1);
        assert_eq!(s.get(third).value, 12);
        assert_eq!(s.get(second).value, 21);
        assert_eq!(s.get(again).value, 1);
        assert!(s.ptr_eq(again, outer));
        assert_eq!(s.get(nested).value, 30);
        // Only the four distinct objects stay rooted: the temporaries died.
        assert_eq!(s.stats().old_bytes, 4 * 24);
        assert!(s.verify().is_ok());
    });
}

#[test]
fn a_heap_can_move_to_another_thread() {
    let mut heap = Heap::new(Config::default()).unwrap();
    heap.scope(|s| {
        s.alloc(node(1)).unwrap();
    });
    let heap = std::thread::spawn(move || {
        let mut heap = heap;
        heap.scope(|s| {
            let h = s.alloc(node(5)).unwrap();
            s.collect_major();
            assert_eq!(s.get(h).value, 5);
        });
        heap
    })
    .join()
    .unwrap();
    assert_eq!(heap.stats().major_collections, 1);
}

/// An interpreter's value stack, rooted through the unsafe layer.
struct Stack(Vec<RawGc>);

// SAFETY: reports every slot once, touches nothing else.
unsafe impl RootProvider for Stack {
    fn trace_roots(&mut self, roots: &mut RootTracer<'_, '_>) {
        for slot in &mut self.0 {
            roots.visit(slot);
        }
    }
}

#[test]
fn root_providers_are_updated_when_objects_move() {
    let mut heap = Heap::new(
        Config::default()
            .with_nursery_size(8 * 1024)
            .with_debug_level(2),
    )
    .unwrap();
    let id = heap.add_root_provider(Stack(Vec::new()));
    let n = scaled(2_000);
    for i in 0..n {
        heap.scope(|s| {
            let h = s.alloc(node(i)).unwrap();
            let raw = s.to_raw(h);
            s.root_provider_mut::<Stack>(id).unwrap().0.push(raw);
        });
    }
    heap.collect_major();
    heap.scope(|s| {
        let stack = s.root_provider_mut::<Stack>(id).unwrap().0.clone();
        for (i, raw) in stack.into_iter().enumerate() {
            // SAFETY: the provider reported the slot at every collection; it holds a Node.
            let h = unsafe { s.from_raw::<Node>(raw) };
            assert_eq!(s.get(h).value, i as u64);
        }
    });
    struct Other;
    // SAFETY: holds no roots.
    unsafe impl RootProvider for Other {
        fn trace_roots(&mut self, _: &mut RootTracer<'_, '_>) {}
    }
    assert!(
        heap.root_provider_mut::<Other>(id).is_none(),
        "wrong type is refused"
    );
    let stack: Stack = heap.remove_root_provider(id).unwrap();
    assert_eq!(stack.0.len() as u64, n);
    heap.collect_major();
    assert_eq!(
        heap.stats().old_bytes,
        0,
        "unregistered roots no longer keep objects"
    );
}

#[test]
fn the_verifier_catches_a_raw_root_the_embedder_forgot_to_report() {
    let mut heap = Heap::new(Config::default()).unwrap();
    let id = heap.add_root_provider(Stack(Vec::new()));
    let forgotten: RawGc = heap.scope(|s| {
        let h = s.alloc(node(1)).unwrap();
        s.to_raw(h)
    });
    heap.collect_minor(); // the object was not reported: it died and the nursery was reset
                          // The embedder's bug: it pushes the stale value onto its stack afterwards.
    heap.root_provider_mut::<Stack>(id)
        .unwrap()
        .0
        .push(forgotten);
    let report = heap.verify();
    assert!(!report.is_ok());
    assert!(
        matches!(
            &report.violations[0],
            Violation::DanglingReference {
                what: "free nursery memory",
                ..
            }
        ),
        "{report}"
    );
    heap.root_provider_mut::<Stack>(id).unwrap().0.clear();
    assert!(heap.verify().is_ok());
}

#[test]
fn the_verifier_reports_counts() {
    let mut heap = Heap::new(Config::default()).unwrap();
    heap.scope(|s| {
        let a = s.alloc(node(1)).unwrap();
        let b = s.alloc(node(2)).unwrap();
        s.set(a, |n| &n.next, Some(b));
        s.alloc(node(3)).unwrap();
        let report = s.verify();
        assert!(report.is_ok(), "{report}");
        assert_eq!(report.objects, 3);
        assert_eq!(report.reachable, 3);
        assert_eq!(report.references, 1);
        assert_eq!(report.roots, 3);
    });
}

#[test]
fn an_optional_handle_is_as_small_as_a_handle() {
    // A heap id is never 0, so `None` takes no room of its own: `root`, `load` and the
    // interpreters' optional values pass one register, not two.
    use std::mem::size_of;
    assert_eq!(size_of::<Handle<'static, u64>>(), 8);
    assert_eq!(size_of::<Option<Handle<'static, u64>>>(), 8);
}
