//! `arrays`: large reference arrays (large objects, promoted in place) filled with young
//! nodes, so most stores are old-to-young and go through the barrier's slow path, plus range
//! copies between arrays; and arrays of inline values (growable vectors, fixed tuples) holding
//! numbers and node references, grown, shifted and copied.

use rand::{Rng, RngCore};

use super::{root, Workload};
use crate::ops::Op;

#[derive(Default)]
pub(super) struct Arrays;

impl Workload for Arrays {
    fn next_op(&mut self, rng: &mut dyn RngCore) -> Op {
        match rng.gen_range(0..1000u32) {
            0..=9 => Op::AllocArray {
                len: rng.gen_range(1_000..4_000),
            },
            10..=29 => Op::AllocArray {
                len: rng.gen_range(0..64),
            },
            30..=299 => Op::AllocNode { payload: rng.gen() },
            // Inline-value arrays: pushes grow vectors through several reallocations, into
            // large objects, with inserts, removes and copies between.
            300..=499 => super::inline_array_op(rng),
            500..=799 => Op::Write {
                src: root(rng),
                slot: rng.gen(),
                dst: (!rng.gen_ratio(1, 20)).then(|| root(rng)),
            },
            800..=859 => Op::CopyRange {
                src: root(rng),
                dst: root(rng),
                from: rng.gen(),
                to: rng.gen(),
                len: rng.gen_range(0..256),
            },
            860..=979 => Op::DropRoot { root: root(rng) },
            980..=993 => Op::Minor,
            _ => Op::Major,
        }
    }
}
