//! `lists`: long linked lists, each new node pointing to the previous head, so a list of
//! thousands survives through a single root and every collection walks it.

use rand::{Rng, RngCore};

use super::Workload;
use crate::ops::Op;

#[derive(Default)]
pub(super) struct Lists {
    length: u32,
    plan: Vec<Op>,
}

impl Workload for Lists {
    fn next_op(&mut self, rng: &mut dyn RngCore) -> Op {
        if self.plan.is_empty() {
            if self.length > 5_000 && rng.gen_ratio(1, 5_000) {
                self.length = 0;
                return Op::DropRoot { root: 0 }; // let the whole list go
            }
            let node = Op::AllocNode { payload: rng.gen() };
            self.plan = if self.length == 0 {
                vec![node]
            } else {
                // The newest roots are the new node (0) and the old head (1): link, forget.
                vec![
                    Op::DropRoot { root: 1 },
                    Op::Write {
                        src: 0,
                        slot: 0,
                        dst: Some(1),
                    },
                    node,
                ]
            };
            self.length += 1;
            if rng.gen_ratio(1, 2_000) {
                self.plan.insert(0, Op::Major);
            }
        }
        self.plan.pop().unwrap_or(Op::Minor)
    }
}
