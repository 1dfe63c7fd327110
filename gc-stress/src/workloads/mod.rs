//! Workloads: how a seeded random generator becomes a mutator program.
//!
//! A workload is a type implementing [`Workload`], in a file of its own, listed once in
//! [`WORKLOADS`]. It produces operations one at a time and may keep state between them (to
//! build a tree level by level, for example). Operations name roots by index modulo what
//! exists (see [`crate::ops`]), so a workload never produces an invalid program. Adding one:
//!
//! 1. write `src/workloads/mine.rs` with a `Default` type implementing [`Workload`];
//! 2. add `mod mine;` below and an entry to [`WORKLOADS`];
//! 3. `gc-stress run --workload mine`.

use rand::RngCore;

use crate::ops::Op;

mod arrays;
mod hooks;
mod lists;
mod pinned_ffi;
mod random;
mod trees;

/// A source of mutator operations.
pub trait Workload {
    /// The next operation.
    fn next_op(&mut self, rng: &mut dyn RngCore) -> Op;
}

/// Makes a fresh workload (one per program).
pub type MakeWorkload = fn() -> Box<dyn Workload>;

/// Every workload by name, with its constructor. `all` cycles through them, one per program.
pub const WORKLOADS: &[(&str, MakeWorkload)] = &[
    ("random", || Box::<random::Random>::default()),
    ("trees", || Box::<trees::Trees>::default()),
    ("lists", || Box::<lists::Lists>::default()),
    ("arrays", || Box::<arrays::Arrays>::default()),
    ("pinned-ffi", || Box::<pinned_ffi::PinnedFfi>::default()),
    ("hooks", || Box::<hooks::Hooks>::default()),
];

/// The names `--workload` accepts: every workload, and `all`.
pub fn names() -> Vec<&'static str> {
    WORKLOADS.iter().map(|(n, _)| *n).chain(["all"]).collect()
}

/// The workload program `index` of a campaign runs: `name` itself, or for `all` the workloads
/// in turn.
pub fn resolve(name: &str, index: u64) -> Option<&'static str> {
    if name == "all" {
        return Some(WORKLOADS[(index % WORKLOADS.len() as u64) as usize].0);
    }
    WORKLOADS.iter().find(|(n, _)| *n == name).map(|(n, _)| *n)
}

/// Generates `len` operations of workload `name` (not `all`), or `None` for an unknown name.
pub fn generate(name: &str, rng: &mut dyn RngCore, len: usize) -> Option<Vec<Op>> {
    let (_, make) = WORKLOADS.iter().find(|(n, _)| *n == name)?;
    let mut workload = make();
    Some((0..len).map(|_| workload.next_op(rng)).collect())
}

/// A root index: operations take it modulo the number of roots.
pub(crate) fn root(rng: &mut dyn RngCore) -> u32 {
    use rand::Rng;
    rng.gen_range(0..64u32)
}

/// An inline value operand: nil, a number or a node root, a third each.
pub(crate) fn elem(rng: &mut dyn RngCore) -> crate::ops::ElemSpec {
    use crate::ops::ElemSpec;
    use rand::Rng;
    match rng.gen_range(0..3) {
        0 => ElemSpec::Nil,
        1 => ElemSpec::Num(rng.gen()),
        _ => ElemSpec::Node(root(rng)),
    }
}

/// One operation on the inline-value arrays (growable and fixed), weighted towards pushes so
/// that vectors grow through several reallocations.
pub(crate) fn inline_array_op(rng: &mut dyn RngCore) -> Op {
    use rand::Rng;
    let vec = root(rng);
    match rng.gen_range(0..100u32) {
        0..=7 => Op::AllocVec {
            capacity: rng.gen_range(0..8),
        },
        8..=11 => Op::AllocTuple {
            len: rng.gen_range(0..8),
            elem: elem(rng),
        },
        12..=43 => Op::VecPush {
            vec,
            elem: elem(rng),
        },
        44..=45 => Op::ViewLentPush {
            vec,
            elem: elem(rng),
            dst: rng.gen(),
        },
        46..=48 => Op::ViewPushCopy {
            vec,
            src: rng.gen(),
        },
        49..=50 => Op::ViewCopy {
            vec,
            src: rng.gen(),
            dst: rng.gen(),
        },
        51 => Op::ViewSet {
            vec,
            index: rng.gen(),
            value: rng.gen(),
        },
        52..=61 => Op::VecInsert {
            vec,
            index: rng.gen(),
            elem: elem(rng),
        },
        62..=71 => Op::VecSet {
            vec,
            index: rng.gen(),
            elem: elem(rng),
        },
        72..=77 => Op::VecPop { vec },
        78..=83 => Op::VecRemove {
            vec,
            index: rng.gen(),
        },
        84..=86 => Op::VecTruncate {
            vec,
            len: rng.gen(),
        },
        87..=93 => Op::VecCopy {
            vec,
            src: rng.gen(),
            dst: rng.gen(),
            count: rng.gen_range(0..16),
        },
        _ => Op::TupleSet {
            tuple: vec,
            index: rng.gen(),
            elem: elem(rng),
        },
    }
}

/// A byte-string length: mostly below `small`, now and then large (a large object).
pub(crate) fn bytes_len(rng: &mut dyn RngCore, small: u32) -> u32 {
    use rand::Rng;
    if rng.gen_ratio(1, 100) {
        rng.gen_range(8_000..40_000)
    } else {
        rng.gen_range(0..small)
    }
}
