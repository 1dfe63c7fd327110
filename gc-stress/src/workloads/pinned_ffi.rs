//! `pinned-ffi`: byte strings pinned and handed to the C thread, which checks and fills them
//! through raw pointers while this thread allocates heavily and collects.

use rand::{Rng, RngCore};

use super::{bytes_len, root, Workload};
use crate::ops::Op;

#[derive(Default)]
pub(super) struct PinnedFfi;

impl Workload for PinnedFfi {
    fn next_op(&mut self, rng: &mut dyn RngCore) -> Op {
        let pin = rng.gen_range(0..32);
        match rng.gen_range(0..1000u32) {
            0..=299 => Op::AllocBytes {
                len: bytes_len(rng, 4096),
                seed: rng.gen(),
            },
            300..=449 => Op::AllocNode { payload: rng.gen() },
            450..=569 => Op::Write {
                src: root(rng),
                slot: rng.gen_range(0..16),
                dst: Some(root(rng)),
            },
            570..=689 => Op::DropRoot { root: root(rng) },
            690..=769 => Op::Pin { root: root(rng) },
            770..=849 => Op::CFill {
                pin,
                value: rng.gen(),
            },
            850..=879 => Op::Unpin { pin },
            880..=909 => Op::DropPin { pin },
            910..=929 => Op::PinnedWrite {
                pin,
                offset: rng.gen(),
                value: rng.gen(),
            },
            930..=949 => Op::Ffi {
                root: root(rng),
                offset: rng.gen(),
                value: rng.gen(),
            },
            950..=959 => Op::PushScope,
            960..=969 => Op::PopScope,
            970..=989 => Op::Minor,
            _ => Op::Major,
        }
    }
}
