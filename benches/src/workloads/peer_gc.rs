//! The `gc` peer: the rust-gc crate (`Gc<T>`, reference-counted roots, mark-sweep).

// gc 0.5's derive emits its impls inside a constant, which this lint flags; the code is theirs.
#![allow(non_local_definitions)]

use gc::{Finalize, Gc, Trace};

use super::binary_trees::{all_depths, schedule};

#[derive(Trace, Finalize)]
struct Tree {
    children: Option<(Gc<Tree>, Gc<Tree>)>,
}

fn tree(depth: u32) -> Gc<Tree> {
    Gc::new(Tree {
        children: (depth > 0).then(|| (tree(depth - 1), tree(depth - 1))),
    })
}

fn check(t: &Tree) -> u64 {
    match &t.children {
        Some((l, r)) => 1 + check(l) + check(r),
        None => 1,
    }
}

/// binary-trees of size `n`.
pub(super) fn binary_trees(n: u32) -> Vec<String> {
    schedule(
        n,
        |d| check(&tree(d)),
        |max, iterate| {
            let long = tree(max);
            all_depths(max, iterate);
            check(&long)
        },
    )
}

#[derive(Trace, Finalize)]
struct Node {
    value: u64,
    next: Option<Gc<Node>>,
}

/// The list workload: returns the sum of the values.
pub(super) fn list(n: u64) -> u64 {
    let mut head: Option<Gc<Node>> = None;
    for value in 0..n {
        head = Some(Gc::new(Node { value, next: head }));
    }
    let mut sum = 0;
    let mut cur = head.as_deref();
    while let Some(node) = cur {
        sum += node.value;
        cur = node.next.as_deref();
    }
    sum
}
