//! gcbench, after Boehm's GCBench: a stretch tree of depth `size + 2`, a long-lived tree of
//! depth `size` (16 by default) and a 500,000-element float array kept live, then for each depth
//! `d = 4, 6, …, size`, `2 · nodes(size + 2) / nodes(d)` trees built top-down (allocate a node,
//! then populate its children) and as many bottom-up (children first). Nodes carry just their two
//! references. Each phase checks the node count of its last tree.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gc_core::Member;

use crate::{pinion_check, pinion_tree, Tree};

/// Elements of the float array kept live for the whole run.
pub const ARRAY_LEN: usize = 500_000;
const MIN_DEPTH: u32 = 4;

pub(crate) fn nodes(depth: u32) -> u64 {
    (1u64 << (depth + 1)) - 1
}

fn iterations(size: u32, depth: u32) -> u64 {
    2 * nodes(size + 2) / nodes(depth)
}

/// The float array's contents: `a[i] = 1 / i` for the first half (GCBench leaves `a[0]` and the
/// second half at zero).
pub(crate) fn fill(array: &mut [f64]) {
    for (i, x) in array.iter_mut().enumerate().take(ARRAY_LEN / 2).skip(1) {
        *x = 1.0 / i as f64;
    }
}

fn array_line(a1000: f64) -> String {
    format!("array[1000] = {a1000}")
}

/// One peer's operations, run on GCBench's schedule.
pub(crate) struct Ops<'a> {
    /// Builds (top-down), counts and drops a tree of the depth.
    pub top_down: &'a mut dyn FnMut(u32) -> u64,
    /// Builds (bottom-up), counts and drops a tree of the depth.
    pub bottom_up: &'a mut dyn FnMut(u32) -> u64,
}

/// Runs the schedule. `keep_live(size, run)` builds the long-lived tree and the array, calls
/// `run` while they are live, and returns the long-lived tree's node count and `array[1000]`.
pub(crate) fn schedule(
    size: u32,
    ops: Ops<'_>,
    keep_live: impl FnOnce(u32, &mut dyn FnMut()) -> (u64, f64),
) -> Vec<String> {
    let stretch = size + 2;
    let mut lines = vec![format!(
        "stretch tree of depth {stretch}\t check: {}",
        (ops.bottom_up)(stretch)
    )];
    let (long, a1000) = keep_live(size, &mut || {
        for depth in (MIN_DEPTH..=size).step_by(2) {
            let count = iterations(size, depth);
            let (mut top, mut bottom) = (0, 0);
            for _ in 0..count {
                top = (ops.top_down)(depth);
            }
            for _ in 0..count {
                bottom = (ops.bottom_up)(depth);
            }
            lines.push(format!(
                "{count}\t trees of depth {depth}\t top-down check: {top}\t bottom-up check: {bottom}"
            ));
        }
    });
    lines.push(format!("long lived tree of depth {size}\t check: {long}"));
    lines.push(array_line(a1000));
    lines
}

/// The output every peer must print.
pub fn expected(size: u32) -> Vec<String> {
    let mut lines = vec![format!(
        "stretch tree of depth {}\t check: {}",
        size + 2,
        nodes(size + 2)
    )];
    for depth in (MIN_DEPTH..=size).step_by(2) {
        lines.push(format!(
            "{}\t trees of depth {depth}\t top-down check: {n}\t bottom-up check: {n}",
            iterations(size, depth),
            n = nodes(depth)
        ));
    }
    lines.push(format!(
        "long lived tree of depth {size}\t check: {}",
        nodes(size)
    ));
    lines.push(array_line(1.0 / 1000.0));
    lines
}

/// Runs gcbench of size `size` for `peer`.
pub fn run(peer: &str, size: u32) -> Result<Vec<String>, String> {
    let size = size.max(MIN_DEPTH);
    match peer {
        "pinion" => pinion(size),
        "box" => Ok(boxed(size)),
        "rc" => Ok(rc(size)),
        "bumpalo" => Ok(bump(size)),
        "gc" => Ok(super::peer_gc::gcbench(size)),
        "dumpster" => Ok(super::peer_dumpster::gcbench(size)),
        "gc-arena" => Ok(super::peer_gc_arena::gcbench(size)),
        "bdwgc" => super::peer_bdwgc::gcbench(size),
        other => Err(super::unknown_peer(other)),
    }
}

fn pinion(size: u32) -> Result<Vec<String>, String> {
    let mut heap = super::pinion_heap()?;
    let lines = heap.scope(|outer| {
        let stretch = size + 2;
        let mut lines = vec![format!(
            "stretch tree of depth {stretch}\t check: {}",
            outer.scope(|s| {
                let t = pinion_tree(s, stretch);
                pinion_check(s, s.get(t))
            })
        )];
        let long = outer.alloc(leaf()).expect("allocation");
        pinion_populate(outer, long, size);
        let array = outer
            .alloc_bytes_zeroed(ARRAY_LEN * 8)
            .expect("allocation");
        let mut floats = vec![0.0; ARRAY_LEN];
        fill(&mut floats);
        for (chunk, x) in outer.bytes_mut(array).chunks_exact_mut(8).zip(&floats) {
            chunk.copy_from_slice(&x.to_ne_bytes());
        }
        drop(floats);
        for depth in (MIN_DEPTH..=size).step_by(2) {
            let count = iterations(size, depth);
            let (mut top, mut bottom) = (0, 0);
            for _ in 0..count {
                top = outer.scope(|s| {
                    let t = s.alloc(leaf()).expect("allocation");
                    pinion_populate(s, t, depth);
                    pinion_check(s, s.get(t))
                });
            }
            for _ in 0..count {
                bottom = outer.scope(|s| {
                    let t = pinion_tree(s, depth);
                    pinion_check(s, s.get(t))
                });
            }
            lines.push(format!(
                "{count}\t trees of depth {depth}\t top-down check: {top}\t bottom-up check: {bottom}"
            ));
        }
        let long_check = pinion_check(outer, outer.get(long));
        let bytes = outer.bytes(array);
        let a1000 = f64::from_ne_bytes(bytes[8000..8008].try_into().expect("8 bytes"));
        lines.push(format!("long lived tree of depth {size}\t check: {long_check}"));
        lines.push(array_line(a1000));
        lines
    });
    Ok(lines)
}

fn leaf() -> Tree {
    Tree {
        left: Member::null(),
        right: Member::null(),
    }
}

/// GCBench's `Populate`: give `node` two fresh children, then populate them.
fn pinion_populate(s: &mut gc_core::Scope<'_>, node: gc_core::Handle<'_, Tree>, depth: u32) {
    if depth == 0 {
        return;
    }
    s.scope(|s| {
        let left = s.alloc(leaf()).expect("allocation");
        s.set(node, |t| &t.left, Some(left));
        let right = s.alloc(leaf()).expect("allocation");
        s.set(node, |t| &t.right, Some(right));
        pinion_populate(s, left, depth - 1);
        pinion_populate(s, right, depth - 1);
    });
}

#[derive(Default)]
struct BoxNode {
    left: Option<Box<BoxNode>>,
    right: Option<Box<BoxNode>>,
}

fn box_populate(node: &mut BoxNode, depth: u32) {
    if depth > 0 {
        let left = node.left.insert(Box::default());
        box_populate(left, depth - 1);
        let right = node.right.insert(Box::default());
        box_populate(right, depth - 1);
    }
}

fn box_make(depth: u32) -> Box<BoxNode> {
    Box::new(if depth == 0 {
        BoxNode::default()
    } else {
        BoxNode {
            left: Some(box_make(depth - 1)),
            right: Some(box_make(depth - 1)),
        }
    })
}

fn box_count(node: &BoxNode) -> u64 {
    match (&node.left, &node.right) {
        (Some(l), Some(r)) => 1 + box_count(l) + box_count(r),
        _ => 1,
    }
}

fn boxed(size: u32) -> Vec<String> {
    schedule(
        size,
        Ops {
            top_down: &mut |d| {
                let mut root = Box::<BoxNode>::default();
                box_populate(&mut root, d);
                box_count(&root)
            },
            bottom_up: &mut |d| box_count(&box_make(d)),
        },
        |size, run| {
            let mut long = Box::<BoxNode>::default();
            box_populate(&mut long, size);
            let mut array = vec![0.0; ARRAY_LEN];
            fill(&mut array);
            run();
            (box_count(&long), array[1000])
        },
    )
}

type RcLink = Rc<RefCell<RcNode>>;

#[derive(Default)]
struct RcNode {
    left: Option<RcLink>,
    right: Option<RcLink>,
}

fn rc_populate(node: &RcLink, depth: u32) {
    if depth > 0 {
        let (left, right) = (RcLink::default(), RcLink::default());
        let mut n = node.borrow_mut();
        n.left = Some(left.clone());
        n.right = Some(right.clone());
        drop(n);
        rc_populate(&left, depth - 1);
        rc_populate(&right, depth - 1);
    }
}

fn rc_make(depth: u32) -> RcLink {
    Rc::new(RefCell::new(if depth == 0 {
        RcNode::default()
    } else {
        RcNode {
            left: Some(rc_make(depth - 1)),
            right: Some(rc_make(depth - 1)),
        }
    }))
}

fn rc_count(node: &RcLink) -> u64 {
    match &*node.borrow() {
        RcNode {
            left: Some(l),
            right: Some(r),
        } => 1 + rc_count(l) + rc_count(r),
        _ => 1,
    }
}

fn rc(size: u32) -> Vec<String> {
    schedule(
        size,
        Ops {
            top_down: &mut |d| {
                let root = RcLink::default();
                rc_populate(&root, d);
                rc_count(&root)
            },
            bottom_up: &mut |d| rc_count(&rc_make(d)),
        },
        |size, run| {
            let long = RcLink::default();
            rc_populate(&long, size);
            let array = Rc::new(RefCell::new(vec![0.0; ARRAY_LEN]));
            fill(&mut array.borrow_mut());
            run();
            let a1000 = array.borrow()[1000];
            (rc_count(&long), a1000)
        },
    )
}

#[derive(Default)]
struct BumpNode<'a> {
    left: Cell<Option<&'a BumpNode<'a>>>,
    right: Cell<Option<&'a BumpNode<'a>>>,
}

fn bump_populate<'a>(arena: &'a bumpalo::Bump, node: &'a BumpNode<'a>, depth: u32) {
    if depth > 0 {
        let left = arena.alloc(BumpNode::default());
        node.left.set(Some(left));
        let right = arena.alloc(BumpNode::default());
        node.right.set(Some(right));
        bump_populate(arena, left, depth - 1);
        bump_populate(arena, right, depth - 1);
    }
}

fn bump_make(arena: &bumpalo::Bump, depth: u32) -> &BumpNode<'_> {
    arena.alloc(if depth == 0 {
        BumpNode::default()
    } else {
        BumpNode {
            left: Cell::new(Some(bump_make(arena, depth - 1))),
            right: Cell::new(Some(bump_make(arena, depth - 1))),
        }
    })
}

fn bump_count(node: &BumpNode<'_>) -> u64 {
    match (node.left.get(), node.right.get()) {
        (Some(l), Some(r)) => 1 + bump_count(l) + bump_count(r),
        _ => 1,
    }
}

fn bump(size: u32) -> Vec<String> {
    // An arena frees all at once: one reset per short-lived tree; the live data has its own.
    let scratch = RefCell::new(bumpalo::Bump::new());
    let live = bumpalo::Bump::new();
    schedule(
        size,
        Ops {
            top_down: &mut |d| {
                let mut arena = scratch.borrow_mut();
                let root = arena.alloc(BumpNode::default());
                bump_populate(&arena, root, d);
                let count = bump_count(root);
                arena.reset();
                count
            },
            bottom_up: &mut |d| {
                let mut arena = scratch.borrow_mut();
                let count = bump_count(bump_make(&arena, d));
                arena.reset();
                count
            },
        },
        |size, run| {
            let long = live.alloc(BumpNode::default());
            bump_populate(&live, long, size);
            let array = live.alloc_slice_fill_copy(ARRAY_LEN, 0.0);
            fill(array);
            run();
            (bump_count(long), array[1000])
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_peer_prints_the_expected_lines() {
        for peer in super::super::PEERS {
            match super::super::run("gcbench", peer, 8) {
                Ok(lines) => assert_eq!(lines, expected(8), "{peer}"),
                Err(reason) => assert!(
                    peer == "bdwgc" && reason.contains("libgc1")
                        || peer == "serde_json" && reason.contains("only the json workload"),
                    "{reason}"
                ),
            }
        }
    }
}
