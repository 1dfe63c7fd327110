//! Shared workloads for Pinion's benchmarks: the same algorithm for every allocator.
//!
//! Criterion micro-benchmarks live in `benches/benches/`; the `compare` binary runs the
//! [`workloads`] against the peers, one process per run; each function here is one workload
//! for one peer, so that a benchmark compares like with like.

#![deny(missing_docs)]

use gc_core::{Config, Handle, Heap, Member, Persistent, Scope, Trace};

pub mod jvm;
pub mod process;
pub mod workloads;

/// A small object: two words of payload, like a cons cell of two integers.
#[derive(Trace, Clone, Copy, Debug, Default)]
pub struct Small {
    /// First word.
    pub a: u64,
    /// Second word.
    pub b: u64,
}

/// A binary-trees node for Pinion.
#[derive(Trace, Debug)]
pub struct Tree {
    /// Left child (null in leaves).
    pub left: Member<Tree>,
    /// Right child (null in leaves).
    pub right: Member<Tree>,
}

/// Builds a complete tree of the given depth, bottom-up, in the heap: each node is built in one
/// step with its two subtrees (`Scope::alloc_init`), as every other peer builds it.
pub fn pinion_tree<'s>(s: &mut Scope<'s>, depth: u32) -> Handle<'s, Tree> {
    if depth == 0 {
        return s
            .alloc_init(TreeInit {
                left: None,
                right: None,
            })
            .expect("allocation");
    }
    // The subtrees' handles live in a nested scope, so the handle stack stays as deep as the
    // tree, not as large.
    s.escape(|s| {
        let left = pinion_tree(s, depth - 1);
        let right = pinion_tree(s, depth - 1);
        s.alloc_init(TreeInit {
            left: Some(left),
            right: Some(right),
        })
        .expect("allocation")
    })
}

/// A heap with a 4 MB nursery and `roots` persistent roots, each to an old object (a major
/// collection has run): the setting of the persistent-roots benchmarks. The roots are returned
/// with the heap, to be kept as long as it is measured.
pub fn heap_with_persistent_roots(roots: u64) -> (Heap, Vec<Persistent<Small>>) {
    let mut heap = Heap::new(Config::default().with_nursery_size(4 << 20)).expect("a heap");
    let kept = heap.scope(|s| {
        (0..roots)
            .map(|i| {
                let h = s.alloc(Small { a: i, b: i }).expect("allocation");
                s.persist(h).expect("a persistent root")
            })
            .collect()
    });
    heap.collect_major(); // every rooted object is old now
    (heap, kept)
}

/// Fills the nursery with 1,000 dead objects, then times one minor collection (which finds no
/// survivor).
pub fn time_minor_of_garbage(s: &mut Scope<'_>) -> std::time::Duration {
    s.scope(|s| {
        for i in 0..1000u64 {
            s.alloc(Small { a: i, b: i }).expect("allocation"); // garbage
        }
    });
    let start = std::time::Instant::now();
    s.collect_minor();
    start.elapsed()
}

/// A list cell for Pinion: one value, one link.
#[derive(Trace, Debug)]
pub struct ListNode {
    /// The cell's value.
    pub value: u64,
    /// The next cell (null at the end).
    pub next: Member<ListNode>,
}

/// Builds a list of `n` cells (at least one) by pushing at the head, cell `i` holding `i`; each
/// cell is built in one step with its link (`Scope::alloc_init`), as every other peer builds
/// it, and the head's handle is rebound to it, so the handle stack does not grow.
pub fn pinion_list<'s>(s: &mut Scope<'s>, n: u64) -> Handle<'s, ListNode> {
    let head = s
        .alloc_init(ListNodeInit {
            value: 0,
            next: None,
        })
        .expect("allocation");
    for value in 1..n {
        s.scope(|s| {
            let node = s
                .alloc_init(ListNodeInit {
                    value,
                    next: Some(head),
                })
                .expect("allocation");
            s.rebind(head, node);
        });
    }
    head
}

/// Counts the nodes of a Pinion tree without rooting them.
pub fn pinion_check(s: &Scope<'_>, tree: &Tree) -> u64 {
    match (s.deref(&tree.left), s.deref(&tree.right)) {
        (Some(l), Some(r)) => 1 + pinion_check(s, l) + pinion_check(s, r),
        _ => 1,
    }
}

/// A binary-trees node on the system allocator.
#[derive(Debug)]
pub struct BoxTree {
    /// Children, absent in leaves.
    pub children: Option<(Box<BoxTree>, Box<BoxTree>)>,
}

/// Builds a complete `Box` tree of the given depth.
pub fn box_tree(depth: u32) -> Box<BoxTree> {
    Box::new(BoxTree {
        children: (depth > 0).then(|| (box_tree(depth - 1), box_tree(depth - 1))),
    })
}

/// Counts the nodes of a `Box` tree.
pub fn box_check(t: &BoxTree) -> u64 {
    match &t.children {
        Some((l, r)) => 1 + box_check(l) + box_check(r),
        None => 1,
    }
}

/// A binary-trees node in a bumpalo arena.
#[derive(Debug)]
pub struct BumpTree<'a> {
    /// Children, absent in leaves.
    pub children: Option<(&'a BumpTree<'a>, &'a BumpTree<'a>)>,
}

/// Builds a complete tree of the given depth in the arena.
pub fn bump_tree(bump: &bumpalo::Bump, depth: u32) -> &BumpTree<'_> {
    bump.alloc(BumpTree {
        children: (depth > 0).then(|| (bump_tree(bump, depth - 1), bump_tree(bump, depth - 1))),
    })
}

/// Counts the nodes of an arena tree.
pub fn bump_check(t: &BumpTree<'_>) -> u64 {
    match t.children {
        Some((l, r)) => 1 + bump_check(l) + bump_check(r),
        None => 1,
    }
}
