//! The `gc-arena` peer: safe, non-moving, incremental mark-sweep. It collects only between
//! `mutate` calls, so each short-lived tree is built and checked in one call and the arena pays
//! its debt after it; the list is built in batches for the same reason.

use std::cell::RefCell;

use gc_arena::{Arena, Collect, Gc, Mutation, RefLock, Rootable};

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

/// A GCBench node: children set after allocation, so the node sits behind a `RefLock`.
#[derive(Collect, Default)]
#[collect(no_drop)]
struct BenchNode<'gc> {
    left: Option<BenchRef<'gc>>,
    right: Option<BenchRef<'gc>>,
}

type BenchRef<'gc> = Gc<'gc, RefLock<BenchNode<'gc>>>;

fn new_node<'gc>(mc: &Mutation<'gc>, node: BenchNode<'gc>) -> BenchRef<'gc> {
    Gc::new(mc, RefLock::new(node))
}

fn populate<'gc>(mc: &Mutation<'gc>, node: BenchRef<'gc>, depth: u32) {
    if depth > 0 {
        let (left, right) = (
            new_node(mc, BenchNode::default()),
            new_node(mc, BenchNode::default()),
        );
        let mut n = node.borrow_mut(mc);
        n.left = Some(left);
        n.right = Some(right);
        drop(n);
        populate(mc, left, depth - 1);
        populate(mc, right, depth - 1);
    }
}

fn make<'gc>(mc: &Mutation<'gc>, depth: u32) -> BenchRef<'gc> {
    if depth == 0 {
        return new_node(mc, BenchNode::default());
    }
    let (left, right) = (make(mc, depth - 1), make(mc, depth - 1));
    new_node(
        mc,
        BenchNode {
            left: Some(left),
            right: Some(right),
        },
    )
}

fn count(node: BenchRef<'_>) -> u64 {
    let n = node.borrow();
    match (n.left, n.right) {
        (Some(l), Some(r)) => 1 + count(l) + count(r),
        _ => 1,
    }
}

#[derive(Collect)]
#[collect(no_drop)]
struct BenchRoot<'gc> {
    long_lived: Option<BenchRef<'gc>>,
    array: Option<Gc<'gc, Vec<f64>>>,
}

/// gcbench of size `size`: each tree is built and counted in one `mutate` call, after which the
/// arena pays its collection debt.
pub(super) fn gcbench(size: u32) -> Vec<String> {
    use super::gcbench::{fill, schedule, Ops, ARRAY_LEN};
    let arena = RefCell::new(Arena::<Rootable![BenchRoot<'_>]>::new(|_| BenchRoot {
        long_lived: None,
        array: None,
    }));
    let one = |build: &dyn for<'gc> Fn(&Mutation<'gc>) -> BenchRef<'gc>| {
        let counted = arena.borrow().mutate(|mc, _| count(build(mc)));
        arena.borrow_mut().collect_debt();
        counted
    };
    schedule(
        size,
        Ops {
            top_down: &mut |d| {
                one(&|mc| {
                    let root = new_node(mc, BenchNode::default());
                    populate(mc, root, d);
                    root
                })
            },
            bottom_up: &mut |d| one(&|mc| make(mc, d)),
        },
        |size, run| {
            arena.borrow_mut().mutate_root(|mc, root| {
                let long = new_node(mc, BenchNode::default());
                populate(mc, long, size);
                root.long_lived = Some(long);
                let mut floats = vec![0.0; ARRAY_LEN];
                fill(&mut floats);
                root.array = Some(Gc::new(mc, floats));
            });
            run();
            arena.borrow().mutate(|_, root| {
                (
                    count(root.long_lived.expect("built")),
                    root.array.expect("built")[1000],
                )
            })
        },
    )
}

#[derive(Collect)]
#[collect(no_drop)]
struct ArrayRoot<'gc> {
    array: Gc<'gc, RefLock<Vec<Option<Gc<'gc, u64>>>>>,
}

/// The array workload: returns the sum over the slots. Stores run in batches of `BATCH` per
/// `mutate` call, with the collection debt paid between batches.
pub(super) fn array(slots: u64) -> u64 {
    let mut arena = Arena::<Rootable![ArrayRoot<'_>]>::new(|mc| ArrayRoot {
        array: Gc::new(mc, RefLock::new(vec![None; slots as usize])),
    });
    let mut stores = super::array::Stores::new(slots).peekable();
    while stores.peek().is_some() {
        arena.mutate(|mc, root| {
            let mut array = root.array.borrow_mut(mc);
            for (slot, value) in stores.by_ref().take(BATCH as usize) {
                array[slot] = Some(Gc::new(mc, value));
            }
        });
        arena.collect_debt();
    }
    arena.mutate(|_, root| root.array.borrow().iter().flatten().map(|o| **o).sum())
}

/// A splay node for gc-arena.
#[derive(Collect, Default)]
#[collect(no_drop)]
struct SplayNode<'gc> {
    key: u64,
    left: Option<SplayRef<'gc>>,
    right: Option<SplayRef<'gc>>,
    payload: Option<SplayRef<'gc>>,
}

type SplayRef<'gc> = Gc<'gc, RefLock<SplayNode<'gc>>>;

struct SplayArena<'gc> {
    mc: &'gc Mutation<'gc>,
}

impl<'gc> super::splay::SplayOps for SplayArena<'gc> {
    type Ref = SplayRef<'gc>;

    fn node(&mut self, key: u64) -> Self::Ref {
        Gc::new(
            self.mc,
            RefLock::new(SplayNode {
                key,
                ..SplayNode::default()
            }),
        )
    }
    fn key(&self, n: &Self::Ref) -> u64 {
        n.borrow().key
    }
    fn left(&mut self, n: &Self::Ref) -> Option<Self::Ref> {
        n.borrow().left
    }
    fn right(&mut self, n: &Self::Ref) -> Option<Self::Ref> {
        n.borrow().right
    }
    fn payload(&mut self, n: &Self::Ref) -> Option<Self::Ref> {
        n.borrow().payload
    }
    fn set_left(&mut self, n: &Self::Ref, v: Option<&Self::Ref>) {
        n.borrow_mut(self.mc).left = v.copied();
    }
    fn set_right(&mut self, n: &Self::Ref, v: Option<&Self::Ref>) {
        n.borrow_mut(self.mc).right = v.copied();
    }
    fn set_payload(&mut self, n: &Self::Ref, v: Option<&Self::Ref>) {
        n.borrow_mut(self.mc).payload = v.copied();
    }
}

#[derive(Collect)]
#[collect(no_drop)]
struct SplayRoot<'gc> {
    root: Option<SplayRef<'gc>>,
}

/// splay with `runs` runs: each run (and each setup batch) is one `mutate` call followed by the
/// arena paying its collection debt, which the run's time includes.
pub(super) fn splay(runs: u64) -> Vec<String> {
    use super::splay::{check_line, stat_lines, Keys, SplayTree, TREE_SIZE};
    let mut arena = Arena::<Rootable![SplayRoot<'_>]>::new(|_| SplayRoot { root: None });
    let mut keys = Keys::new();
    let mut step = |arena: &mut Arena<Rootable![SplayRoot<'_>]>, setup: bool| {
        arena.mutate_root(|mc, root| {
            let mut ops = SplayArena { mc };
            let mut tree = SplayTree::<SplayArena<'_>> { root: root.root };
            if setup {
                for _ in 0..100 {
                    tree.insert_new(&mut ops, &mut keys);
                }
            } else {
                tree.run(&mut ops, &mut keys);
            }
            root.root = tree.root;
        });
        arena.collect_debt();
    };
    for _ in 0..TREE_SIZE / 100 {
        step(&mut arena, true);
    }
    let mut times = Vec::with_capacity(runs as usize);
    for _ in 0..runs {
        let start = std::time::Instant::now();
        step(&mut arena, false);
        times.push(start.elapsed().as_secs_f64());
    }
    let check = arena.mutate(|mc, root| {
        let mut tree = SplayTree::<SplayArena<'_>> { root: root.root };
        tree.check(&mut SplayArena { mc })
    });
    let mut lines = vec![check_line(runs, check)];
    lines.extend(stat_lines(times, None));
    lines
}
