//! `trees`: GCBench's shape. Complete binary trees are built bottom-up in a nested scope (each
//! node's two children are the two roots just made, linked by stores or given at construction
//! with `alloc-init`), one is kept as a long-lived tree, and the temporary ones die when their
//! scope closes.

use rand::{Rng, RngCore};

use super::Workload;
use crate::ops::Op;

#[derive(Default)]
pub(super) struct Trees {
    plan: Vec<Op>,
}

/// Operations that build a complete tree of `depth` on top of the level's roots: the new
/// node takes the two most recent roots (its subtrees) as children, then they are dropped.
/// With `one_step` each node is built with its children (`alloc-init`), otherwise it is
/// allocated empty and linked by two stores.
fn build(depth: u32, out: &mut Vec<Op>, payload: &mut u64, one_step: bool) {
    *payload += 1;
    if depth == 0 {
        out.push(Op::AllocNode { payload: *payload });
        return;
    }
    build(depth - 1, out, payload, one_step);
    build(depth - 1, out, payload, one_step);
    if one_step {
        // The newest roots are right (0) and left (1).
        out.push(Op::AllocInit {
            payload: *payload,
            left: Some(1),
            right: Some(0),
            old: false,
        });
    } else {
        out.push(Op::AllocNode { payload: *payload });
        // The newest roots are node (0), right (1), left (2): link them.
        out.extend([
            Op::Write {
                src: 0,
                slot: 0,
                dst: Some(2),
            },
            Op::Write {
                src: 0,
                slot: 1,
                dst: Some(1),
            },
        ]);
    }
    // Forget the subtrees' roots (right, then left, each 1 back from the newest).
    out.extend([Op::DropRoot { root: 1 }, Op::DropRoot { root: 1 }]);
}

impl Workload for Trees {
    fn next_op(&mut self, rng: &mut dyn RngCore) -> Op {
        if self.plan.is_empty() {
            let mut payload = rng.gen();
            let depth = rng.gen_range(2..9);
            let keep = rng.gen_ratio(1, 8); // a long-lived tree stays on the level below
            self.plan.push(Op::PushScope);
            build(depth, &mut self.plan, &mut payload, rng.gen_ratio(1, 2));
            self.plan.push(if keep { Op::Minor } else { Op::PopScope });
            self.plan.reverse();
        }
        self.plan.pop().unwrap_or(Op::Minor)
    }
}
