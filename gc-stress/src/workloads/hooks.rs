//! `hooks`: allocation-heavy programs that install, replace and remove hooks as they go,
//! including hooks that allocate and hooks that collect.

use rand::{Rng, RngCore};

use super::{bytes_len, root, Workload};
use crate::ops::Op;

#[derive(Default)]
pub(super) struct Hooks;

impl Workload for Hooks {
    fn next_op(&mut self, rng: &mut dyn RngCore) -> Op {
        match rng.gen_range(0..1000u32) {
            0..=349 => Op::AllocNode { payload: rng.gen() },
            350..=449 => Op::AllocBytes {
                len: bytes_len(rng, 300),
                seed: rng.gen(),
            },
            450..=489 => Op::AllocDrop { payload: rng.gen() },
            490..=689 => Op::Write {
                src: root(rng),
                slot: rng.gen_range(0..16),
                dst: (!rng.gen_ratio(1, 10)).then(|| root(rng)),
            },
            690..=849 => Op::DropRoot { root: root(rng) },
            850..=869 => Op::PushScope,
            870..=889 => Op::PopScope,
            890..=929 => Op::Hooks {
                kind: rng.gen_range(0..5),
            },
            930..=949 => Op::Pin { root: root(rng) },
            950..=969 => Op::DropPin {
                pin: rng.gen_range(0..32),
            },
            970..=994 => Op::Minor,
            _ => Op::Major,
        }
    }
}
