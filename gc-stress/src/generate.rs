//! Program generators: one per workload.
//!
//! A workload turns a seeded random generator into an operation sequence. The `random`
//! workload mixes every operation the model knows, weighted so that programs build graphs that
//! survive several collections: allocations, reference writes and root drops dominate, forced
//! collections are rare (the nursery fills by itself), and large objects appear now and then.

use rand::Rng;

use crate::ops::Op;

/// The workloads `gc-stress run --workload` accepts.
pub const WORKLOADS: &[&str] = &["random"];

/// Generates `len` operations of workload `name`, or `None` for an unknown workload.
pub fn generate(name: &str, rng: &mut impl Rng, len: usize) -> Option<Vec<Op>> {
    match name {
        "random" => Some((0..len).map(|_| random_op(rng)).collect()),
        _ => None,
    }
}

/// One operation of the `random` workload.
pub fn random_op(rng: &mut impl Rng) -> Op {
    let root = |rng: &mut dyn rand::RngCore| rng.gen_range(0..64u32);
    match rng.gen_range(0..1000u32) {
        0..=249 => Op::AllocNode { payload: rng.gen() },
        250..=309 => Op::AllocDrop { payload: rng.gen() },
        310..=389 => {
            let len = if rng.gen_ratio(1, 100) {
                rng.gen_range(8_000..40_000)
            } else {
                rng.gen_range(0..200)
            };
            Op::AllocBytes {
                len,
                seed: rng.gen(),
            }
        }
        390..=439 => {
            let len = if rng.gen_ratio(1, 100) {
                rng.gen_range(1_000..3_000)
            } else {
                rng.gen_range(0..16)
            };
            Op::AllocArray { len }
        }
        440..=443 => Op::AllocBig { payload: rng.gen() },
        444..=749 => Op::Write {
            src: root(rng),
            slot: rng.gen_range(0..16),
            dst: (!rng.gen_ratio(1, 10)).then(|| root(rng)),
        },
        750..=799 => Op::WriteBytes {
            root: root(rng),
            offset: rng.gen(),
            value: rng.gen(),
        },
        800..=959 => Op::DropRoot { root: root(rng) },
        960..=976 => Op::PushScope,
        977..=995 => Op::PopScope,
        996..=998 => Op::Minor,
        _ => Op::Major,
    }
}
