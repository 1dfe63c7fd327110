//! Program generators: one per workload.
//!
//! A workload turns a seeded random generator into an operation sequence. The `random`
//! workload mixes every operation the model knows, weighted so that programs build graphs that
//! survive several collections: allocations, reference writes and root drops dominate, forced
//! collections are rare (the nursery fills by itself), and large objects, pins and the C
//! thread appear now and then. `pinned-ffi` is about pins: byte strings pinned, handed to the
//! C thread and written through raw pointers while the program allocates and collects.

use rand::{Rng, RngCore};

use crate::ops::Op;

/// The workloads `gc-stress run --workload` accepts.
pub const WORKLOADS: &[&str] = &["random", "pinned-ffi", "hooks"];

/// Generates `len` operations of workload `name`, or `None` for an unknown workload.
pub fn generate(name: &str, rng: &mut impl Rng, len: usize) -> Option<Vec<Op>> {
    let op: fn(&mut dyn RngCore) -> Op = match name {
        "random" => random_op,
        "pinned-ffi" => pinned_ffi_op,
        "hooks" => hooks_op,
        _ => return None,
    };
    Some((0..len).map(|_| op(rng)).collect())
}

fn root(rng: &mut dyn RngCore) -> u32 {
    rng.gen_range(0..64u32)
}

fn bytes_len(rng: &mut dyn RngCore, small: u32) -> u32 {
    if rng.gen_ratio(1, 100) {
        rng.gen_range(8_000..40_000)
    } else {
        rng.gen_range(0..small)
    }
}

/// One operation of the `random` workload: every operation the model knows.
pub fn random_op(rng: &mut dyn RngCore) -> Op {
    match rng.gen_range(0..1000u32) {
        0..=229 => Op::AllocNode { payload: rng.gen() },
        230..=289 => Op::AllocDrop { payload: rng.gen() },
        290..=369 => Op::AllocBytes {
            len: bytes_len(rng, 200),
            seed: rng.gen(),
        },
        370..=419 => {
            let len = if rng.gen_ratio(1, 100) {
                rng.gen_range(1_000..3_000)
            } else {
                rng.gen_range(0..16)
            };
            Op::AllocArray { len }
        }
        420..=423 => Op::AllocBig { payload: rng.gen() },
        670..=679 => Op::Weak { root: root(rng) },
        680..=689 => Op::WeakRead {
            weak: rng.gen_range(0..64),
        },
        690..=699 => Op::Hash { root: root(rng) },
        424..=669 => Op::Write {
            src: root(rng),
            slot: rng.gen_range(0..16),
            dst: (!rng.gen_ratio(1, 10)).then(|| root(rng)),
        },
        700..=739 => Op::WriteBytes {
            root: root(rng),
            offset: rng.gen(),
            value: rng.gen(),
        },
        740..=889 => Op::DropRoot { root: root(rng) },
        890..=906 => Op::PushScope,
        907..=925 => Op::PopScope,
        926..=945 => Op::Pin { root: root(rng) },
        946..=955 => Op::Unpin {
            pin: rng.gen_range(0..32),
        },
        956..=965 => Op::DropPin {
            pin: rng.gen_range(0..32),
        },
        966..=975 => Op::PinnedWrite {
            pin: rng.gen_range(0..32),
            offset: rng.gen(),
            value: rng.gen(),
        },
        976..=985 => Op::Ffi {
            root: root(rng),
            offset: rng.gen(),
            value: rng.gen(),
        },
        993..=995 => Op::Hooks {
            kind: rng.gen_range(0..5),
        },
        986..=992 => Op::CFill {
            pin: rng.gen_range(0..32),
            value: rng.gen(),
        },
        996..=998 => Op::Minor,
        _ => Op::Major,
    }
}

/// One operation of the `pinned-ffi` workload: byte strings pinned and handed to the C thread,
/// which works on them while this thread allocates heavily and collects.
pub fn pinned_ffi_op(rng: &mut dyn RngCore) -> Op {
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
            pin: rng.gen_range(0..32),
            value: rng.gen(),
        },
        850..=879 => Op::Unpin {
            pin: rng.gen_range(0..32),
        },
        880..=909 => Op::DropPin {
            pin: rng.gen_range(0..32),
        },
        910..=929 => Op::PinnedWrite {
            pin: rng.gen_range(0..32),
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

/// One operation of the `hooks` workload: allocation-heavy programs with hooks installed,
/// replaced and removed as they go, including hooks that allocate and that collect.
pub fn hooks_op(rng: &mut dyn RngCore) -> Op {
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
