//! `random`: every operation the model knows, weighted so that graphs survive several
//! collections. Forced collections are rare (the nursery fills by itself).

use rand::{Rng, RngCore};

use super::{bytes_len, root, Workload};
use crate::ops::Op;

#[derive(Default)]
pub(super) struct Random;

impl Workload for Random {
    fn next_op(&mut self, rng: &mut dyn RngCore) -> Op {
        let pin = rng.gen_range(0..32);
        match rng.gen_range(0..1000u32) {
            0..=179 => Op::AllocNode { payload: rng.gen() },
            180..=229 => Op::AllocInit {
                payload: rng.gen(),
                left: (!rng.gen_ratio(1, 5)).then(|| root(rng)),
                right: (!rng.gen_ratio(1, 5)).then(|| root(rng)),
                old: rng.gen_ratio(1, 5),
            },
            230..=289 => Op::AllocDrop { payload: rng.gen() },
            290..=359 => Op::AllocBytes {
                len: bytes_len(rng, 200),
                seed: rng.gen(),
            },
            // Medium byte strings: larger than the smallest gaps pinned objects leave.
            360..=369 => Op::AllocBytes {
                len: rng.gen_range(200..4_000),
                seed: rng.gen(),
            },
            370..=419 => Op::AllocArray {
                len: if rng.gen_ratio(1, 100) {
                    rng.gen_range(1_000..3_000)
                } else {
                    rng.gen_range(0..16)
                },
            },
            420..=423 => Op::AllocBig { payload: rng.gen() },
            600..=659 => super::inline_array_op(rng),
            424..=599 => Op::Write {
                src: root(rng),
                slot: rng.gen_range(0..16),
                dst: (!rng.gen_ratio(1, 10)).then(|| root(rng)),
            },
            660..=669 => Op::CopyRange {
                src: root(rng),
                dst: root(rng),
                from: rng.gen(),
                to: rng.gen(),
                len: rng.gen_range(0..64),
            },
            670..=675 => Op::Weak { root: root(rng) },
            676..=680 => Op::WeakRead {
                weak: rng.gen_range(0..64),
            },
            681..=683 => Op::Persist { root: root(rng) },
            684..=686 => Op::Unpersist {
                persistent: rng.gen_range(0..32),
            },
            687..=689 => Op::PersistRead {
                persistent: rng.gen_range(0..32),
            },
            690..=699 => Op::Hash { root: root(rng) },
            700..=739 => Op::WriteBytes {
                root: root(rng),
                offset: rng.gen(),
                value: rng.gen(),
            },
            740..=889 => Op::DropRoot { root: root(rng) },
            890..=906 => Op::PushScope,
            907..=925 => Op::PopScope,
            926..=935 => Op::Pin { root: 0 },
            936..=945 => Op::Pin { root: root(rng) },
            946..=955 => Op::Unpin { pin },
            956..=961 => Op::DropPin { pin },
            962..=965 => Op::ForeignUnpin { pin },
            966..=975 => Op::PinnedWrite {
                pin,
                offset: rng.gen(),
                value: rng.gen(),
            },
            976..=985 => Op::Ffi {
                root: root(rng),
                offset: rng.gen(),
                value: rng.gen(),
            },
            986..=992 => Op::CFill {
                pin,
                value: rng.gen(),
            },
            995 => {
                if rng.gen_ratio(1, 2) {
                    Op::Freeze
                } else {
                    Op::Unfreeze
                }
            }
            993..=994 => Op::Hooks {
                kind: rng.gen_range(0..5),
            },
            996..=998 => Op::Minor,
            _ => Op::Major,
        }
    }
}
