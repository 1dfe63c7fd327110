//! The collectors scan the common object shapes through `Trace::REF_WORDS` (an inlined loop
//! over reference words) instead of calling `trace`: the words the derive computes, and
//! collections of every shape that keeps or loses them, checked by the verifier (which
//! compares each object's scan with its `trace`).

use std::mem::offset_of;

use gc_core::{Config, GcArray, Heap, Member, Trace};

#[derive(Trace)]
struct Leafy {
    a: u64,
    b: u32,
}

#[derive(Trace)]
struct Node {
    value: u64,
    left: Member<Node>,
    right: Member<Node>,
}

#[derive(Trace)]
struct Generic<T: Trace> {
    tag: u8,
    item: Member<T>,
    extra: T,
}

#[derive(Trace)]
struct Tuple(u32, Member<Node>, u64, Member<Node>);

#[derive(Trace)]
struct Nested {
    first: Member<Node>,
    inner: Node,
    pair: [Member<Node>; 2],
}

/// An enum's references depend on its variant: the collector calls `trace`.
#[derive(Trace)]
enum Either {
    Num(f64),
    Ref(Member<Node>),
}

/// Holds an `Option<Member>` (no fixed word: its niche is the null address, but the layout is
/// the compiler's to choose), so the collector calls `trace`.
#[derive(Trace)]
struct Optional {
    maybe: Option<Member<Node>>,
}

fn word(offset: usize) -> u64 {
    assert_eq!(offset % 8, 0);
    1 << (offset / 8)
}

#[test]
fn the_derive_describes_struct_references_by_word() {
    assert_eq!(Leafy::REF_WORDS, Some(0));
    assert_eq!(
        Node::REF_WORDS,
        Some(word(offset_of!(Node, left)) | word(offset_of!(Node, right)))
    );
    assert_eq!(
        Generic::<u64>::REF_WORDS,
        Some(word(offset_of!(Generic<u64>, item)))
    );
    assert_eq!(
        Generic::<Node>::REF_WORDS,
        Some(
            word(offset_of!(Generic<Node>, item))
                | Node::REF_WORDS.unwrap() << (offset_of!(Generic<Node>, extra) / 8)
        )
    );
    assert_eq!(
        Tuple::REF_WORDS,
        Some(word(offset_of!(Tuple, 1)) | word(offset_of!(Tuple, 3)))
    );
    let pair = offset_of!(Nested, pair);
    assert_eq!(
        Nested::REF_WORDS,
        Some(
            word(offset_of!(Nested, first))
                | Node::REF_WORDS.unwrap() << (offset_of!(Nested, inner) / 8)
                | word(pair)
                | word(pair + 8)
        )
    );
    assert_eq!(Either::REF_WORDS, None);
    assert_eq!(Optional::REF_WORDS, None);
    assert_eq!(<[Member<Node>; 3] as Trace>::REF_WORDS, Some(0b111));
    assert_eq!(<[u64; 100] as Trace>::REF_WORDS, Some(0));
    // Past the 64th word a reference cannot be described: `trace` is called instead.
    assert_eq!(<[Member<Node>; 65] as Trace>::REF_WORDS, None);
}

/// Objects of every shape, young and old, moved by minor collections and marked by major
/// ones, with the verifier after every collection (it checks each scan against `trace`).
#[test]
fn every_shape_survives_collections_with_the_verifier_on() {
    // Miri runs a smaller nursery and less garbage: still several minor collections a round.
    let (nursery, garbage) = if cfg!(miri) {
        (16 << 10, 1_500)
    } else {
        (64 << 10, 8_000)
    };
    let config = Config::default()
        .with_nursery_size(nursery)
        .with_debug_level(3);
    let mut heap = Heap::new(config).unwrap();
    heap.scope(|s| {
        let leaf = s
            .alloc(Node {
                value: 7,
                left: Member::null(),
                right: Member::null(),
            })
            .unwrap();
        let node = s
            .alloc_init(NodeInit {
                value: 1,
                left: Some(leaf),
                right: Some(leaf),
            })
            .unwrap();
        let generic = s
            .alloc_init(GenericInit::<Node> {
                tag: 3,
                item: Some(node),
                extra: NodeInit {
                    value: 2,
                    left: None,
                    right: Some(leaf),
                },
            })
            .unwrap();
        let tuple = s.alloc_init(TupleInit(4, Some(node), 5, None)).unwrap();
        let nested = s
            .alloc_init(NestedInit {
                first: Some(leaf),
                inner: NodeInit {
                    value: 6,
                    left: Some(node),
                    right: None,
                },
                pair: [Some(node), Some(leaf)],
            })
            .unwrap();
        let either = s.alloc_init(EitherInit::Ref(Some(node))).unwrap();
        let array = s.alloc_array::<Node>(3).unwrap();
        s.array_set(array, 0, Some(leaf));
        s.array_set(array, 2, Some(node));
        for round in 0..3 {
            // Garbage between the live objects, so minor collections move them.
            for i in 0..garbage {
                s.scope(|s| {
                    s.alloc(Node {
                        value: i,
                        left: Member::null(),
                        right: Member::null(),
                    })
                    .unwrap();
                });
            }
            if round == 1 {
                s.collect_major();
            }
            assert_eq!(s.deref(&s.get(node).left).unwrap().value, 7);
            assert_eq!(s.deref(&s.get(generic).item).unwrap().value, 1);
            assert_eq!(s.deref(&s.get(generic).extra.right).unwrap().value, 7);
            assert_eq!(s.deref(&s.get(tuple).1).unwrap().value, 1);
            assert!(s.get(tuple).3.is_null());
            let n = s.get(nested);
            assert_eq!(s.deref(&n.first).unwrap().value, 7);
            assert_eq!(s.deref(&n.inner.left).unwrap().value, 1);
            assert_eq!(s.deref(&n.pair[1]).unwrap().value, 7);
            match s.get(either) {
                Either::Ref(m) => assert_eq!(s.deref(m).unwrap().value, 1),
                Either::Num(_) => unreachable!(),
            }
            let elements: &[Member<Node>] = s.get::<GcArray<Node>>(array);
            assert_eq!(s.deref(&elements[2]).unwrap().value, 1);
            assert!(elements[1].is_null());
        }
        assert!(s.verify().is_ok());
        // The objects were really moved by minor collections, not only marked.
        assert!(
            s.stats().minor_collections >= 6,
            "{} minor collections",
            s.stats().minor_collections
        );
    });
}
