//! `pinned-ffi`: byte strings pinned and handed to the C thread, which checks and fills them
//! through raw pointers while this thread allocates heavily and collects. Half the pins take the
//! newest buffer, as an FFI call does with the buffer it just allocated; buffers are also hashed
//! by identity (keys of a cache), which moving them after their pins end must not change.

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
            // Half the pins take the buffer just allocated, as an FFI call does (which also
            // leaves pinned objects near the start of the nursery after a collection).
            690..=729 => Op::Pin { root: 0 },
            730..=769 => Op::Pin { root: root(rng) },
            770..=849 => Op::CFill {
                pin,
                value: rng.gen(),
            },
            850..=879 => Op::Unpin { pin },
            880..=899 => Op::DropPin { pin },
            900..=909 => Op::ForeignUnpin { pin },
            910..=929 => Op::PinnedWrite {
                pin,
                offset: rng.gen(),
                value: rng.gen(),
            },
            930..=939 => Op::Ffi {
                root: root(rng),
                offset: rng.gen(),
                value: rng.gen(),
            },
            // Buffers are also dictionary keys by identity (a cache of C results, say).
            940..=944 => Op::Hash { root: 0 },
            945..=949 => Op::Hash { root: root(rng) },
            950..=959 => Op::PushScope,
            960..=969 => Op::PopScope,
            970..=989 => Op::Minor,
            _ => Op::Major,
        }
    }
}
