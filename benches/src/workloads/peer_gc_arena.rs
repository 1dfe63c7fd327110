//! The `gc-arena` peer: safe, non-moving, incremental mark-sweep. It collects only between
//! `mutate` calls, so each short-lived tree is built and checked in one call and the arena pays
//! its debt after it; the list is built in batches for the same reason.

use std::cell::RefCell;

use gc_arena::{Arena, Collect, Gc, Mutation, Rootable};

use super::binary_trees::schedule;

#[derive(Collect)]
#[collect(no_drop)]
struct Tree<'gc> {
    children: Option<(Gc<'gc, Tree<'gc>>, Gc<'gc, Tree<'gc>>)>,
}

fn tree<'gc>(mc: &Mutation<'gc>, depth: u32) -> Gc<'gc, Tree<'gc>> {
    Gc::new(
        mc,
        Tree {
            children: (depth > 0).then(|| (tree(mc, depth - 1), tree(mc, depth - 1))),
        },
    )
}

fn check(t: &Tree<'_>) -> u64 {
    match &t.children {
        Some((l, r)) => 1 + check(l) + check(r),
        None => 1,
    }
}

#[derive(Collect)]
#[collect(no_drop)]
struct TreeRoot<'gc> {
    long_lived: Option<Gc<'gc, Tree<'gc>>>,
}

/// binary-trees of size `n`.
pub(super) fn binary_trees(n: u32) -> Vec<String> {
    let arena = RefCell::new(Arena::<Rootable![TreeRoot<'_>]>::new(|_| TreeRoot {
        long_lived: None,
    }));
    schedule(
        n,
        |d| {
            let checked = arena.borrow().mutate(|mc, _| check(&tree(mc, d)));
            arena.borrow_mut().collect_debt();
            checked
        },
        |max, iterate| {
            arena
                .borrow_mut()
                .mutate_root(|mc, root| root.long_lived = Some(tree(mc, max)));
            for depth in (4..=max).step_by(2) {
                iterate(depth);
            }
            arena
                .borrow()
                .mutate(|_, root| check(root.long_lived.as_ref().expect("built")))
        },
    )
}

#[derive(Collect)]
#[collect(no_drop)]
struct Node<'gc> {
    value: u64,
    next: Option<Gc<'gc, Node<'gc>>>,
}

#[derive(Collect)]
#[collect(no_drop)]
struct ListRoot<'gc> {
    head: Option<Gc<'gc, Node<'gc>>>,
}

/// Nodes allocated per `mutate` call before the arena may collect.
const BATCH: u64 = 10_000;

/// The list workload: returns the sum of the values.
pub(super) fn list(n: u64) -> u64 {
    let mut arena = Arena::<Rootable![ListRoot<'_>]>::new(|_| ListRoot { head: None });
    let mut value = 0;
    while value < n {
        let end = (value + BATCH).min(n);
        arena.mutate_root(|mc, root| {
            for v in value..end {
                root.head = Some(Gc::new(
                    mc,
                    Node {
                        value: v,
                        next: root.head,
                    },
                ));
            }
        });
        arena.collect_debt();
        value = end;
    }
    arena.mutate(|_, root| {
        let mut sum = 0;
        let mut cur = root.head;
        while let Some(node) = cur {
            sum += node.value;
            cur = node.next;
        }
        sum
    })
}
