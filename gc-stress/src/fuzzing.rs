//! Turning arbitrary bytes into a program, for the fuzz targets in `fuzz/`.
//!
//! The first two bytes pick heap settings that make collections frequent (a small nursery,
//! stress mode, pin limits, poisoning, a heap limit, the verifier); every following operation is
//! an opcode byte and a few argument bytes. Every operation of the language is reachable,
//! freezing, hooks and the C thread included. Any byte string decodes to a valid program (missing bytes read as zero), so
//! the fuzzer explores programs, not parse errors.

use crate::ops::Op;
use crate::settings::HeapSettings;

/// Most operations decoded from one input.
pub const MAX_OPS: usize = 400;

struct Bytes<'a> {
    data: &'a [u8],
    at: usize,
}

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    fn u32(&mut self) -> u32 {
        u32::from(self.u8())
    }

    fn u64(&mut self) -> u64 {
        u64::from(self.u8()) << 8 | u64::from(self.u8())
    }

    fn done(&self) -> bool {
        self.at >= self.data.len()
    }
}

/// The settings selected by a fuzz input's first two bytes: the nursery size (eight sizes from
/// 256 bytes to 4 MB), stress mode, the pin limit and poisoning from the first; a heap limit
/// (none, or one of three sizes) and the verifier level from the second.
pub fn settings_from_bytes(first: u8, second: u8) -> HeapSettings {
    let mut s = HeapSettings::default();
    let nursery = ["256", "1K", "4K", "16K", "64K", "256K", "1M", "4M"][usize::from(first & 7)];
    let stress = ["0", "1", "7", "0"][usize::from((first >> 3) & 3)];
    let max_pinned = [None, Some("0"), Some("1"), Some("1000")][usize::from((first >> 5) & 3)];
    let poison = if first & 0x80 != 0 { "1" } else { "0" };
    // Limits with room for the nursery's worst-case promotion (see docs/tuning.md).
    let max = [None, Some("16M"), Some("32M"), Some("64M")][usize::from(second & 3)];
    let debug = ["0", "1", "2", "0"][usize::from((second >> 2) & 3)];
    let pairs = [
        ("NURSERY", Some(nursery)),
        ("STRESS", Some(stress)),
        ("MAX_PINNED", max_pinned),
        ("NURSERY_DEBUG", Some(poison)),
        ("MAX", max),
        ("DEBUG", Some(debug)),
    ];
    for (name, value) in pairs {
        if let Some(v) = value {
            s.apply(name, v).expect("valid fuzz settings");
        }
    }
    s
}

/// An inline value operand from one byte (and two more for a number).
fn elem(b: &mut Bytes<'_>) -> crate::ops::ElemSpec {
    use crate::ops::ElemSpec;
    match b.u8() % 3 {
        0 => ElemSpec::Nil,
        1 => ElemSpec::Num(b.u64()),
        _ => ElemSpec::Node(b.u32()),
    }
}

/// Decodes a fuzz input into settings and a program.
pub fn decode(data: &[u8]) -> (HeapSettings, Vec<Op>) {
    let mut b = Bytes { data, at: 0 };
    let settings = settings_from_bytes(b.u8(), b.u8());
    let mut ops = Vec::new();
    while !b.done() && ops.len() < MAX_OPS {
        let op = match b.u8() % 54 {
            0..=2 => Op::AllocNode { payload: b.u64() },
            3 => Op::AllocDrop { payload: b.u64() },
            4 => Op::AllocBig { payload: b.u64() },
            5 => Op::AllocBytes {
                len: b.u32() * 4,
                seed: b.u64(),
            },
            6 => Op::AllocArray { len: b.u32() % 32 },
            7..=9 => Op::Write {
                src: b.u32(),
                slot: b.u32(),
                dst: Some(b.u32()),
            },
            10 => Op::Write {
                src: b.u32(),
                slot: b.u32(),
                dst: None,
            },
            11 => Op::CopyRange {
                src: b.u32(),
                dst: b.u32(),
                from: b.u32(),
                to: b.u32(),
                len: b.u32(),
            },
            12 => Op::WriteBytes {
                root: b.u32(),
                offset: b.u32(),
                value: b.u8(),
            },
            13 => Op::DropRoot { root: b.u32() },
            14 => Op::PushScope,
            15 => Op::PopScope,
            16 => Op::Pin { root: b.u32() },
            17 => Op::Unpin { pin: b.u32() },
            18 => Op::DropPin { pin: b.u32() },
            19 => Op::PinnedWrite {
                pin: b.u32(),
                offset: b.u32(),
                value: b.u8(),
            },
            20 => Op::Ffi {
                root: b.u32(),
                offset: b.u32(),
                value: b.u8(),
            },
            21 => Op::Weak { root: b.u32() },
            22 => Op::WeakRead { weak: b.u32() },
            23 => Op::Hash { root: b.u32() },
            24 => Op::Minor,
            25 => Op::Major,
            26 => Op::Freeze,
            27 => Op::Unfreeze,
            28 => Op::Hooks { kind: b.u32() % 5 },
            29 => Op::CFill {
                pin: b.u32(),
                value: b.u8(),
            },
            30 => Op::ForeignUnpin { pin: b.u32() },
            31 => Op::AllocBytes {
                len: b.u32() * 16,
                seed: b.u64(),
            },
            32..=33 => Op::AllocInit {
                payload: b.u64(),
                left: Some(b.u32()),
                right: (b.u8() & 1 == 0).then(|| b.u32()),
                old: b.u8() & 1 == 1,
            },
            34 => Op::AllocInit {
                payload: b.u64(),
                left: None,
                right: None,
                old: b.u8() & 1 == 1,
            },
            35 => Op::AllocVec {
                capacity: b.u32() % 16,
            },
            36 => Op::AllocTuple {
                len: b.u32() % 16,
                elem: elem(&mut b),
            },
            37..=39 => Op::VecPush {
                vec: b.u32(),
                elem: elem(&mut b),
            },
            40 => Op::VecInsert {
                vec: b.u32(),
                index: b.u32(),
                elem: elem(&mut b),
            },
            41 => Op::VecSet {
                vec: b.u32(),
                index: b.u32(),
                elem: elem(&mut b),
            },
            42 => Op::VecPop { vec: b.u32() },
            43 => Op::VecRemove {
                vec: b.u32(),
                index: b.u32(),
            },
            44 => Op::VecTruncate {
                vec: b.u32(),
                len: b.u32(),
            },
            45 => Op::VecCopy {
                vec: b.u32(),
                src: b.u32(),
                dst: b.u32(),
                count: b.u32() % 16,
            },
            46 => Op::TupleSet {
                tuple: b.u32(),
                index: b.u32(),
                elem: elem(&mut b),
            },
            47 => Op::Persist { root: b.u32() },
            48 => Op::Unpersist {
                persistent: b.u32(),
            },
            49 => Op::ViewPushCopy {
                vec: b.u32(),
                src: b.u32(),
            },
            50 => Op::ViewCopy {
                vec: b.u32(),
                src: b.u32(),
                dst: b.u32(),
            },
            51 => Op::ViewSet {
                vec: b.u32(),
                index: b.u32(),
                value: b.u64(),
            },
            52 => Op::ViewLentPush {
                vec: b.u32(),
                elem: elem(&mut b),
                dst: b.u32(),
            },
            _ => Op::PersistRead {
                persistent: b.u32(),
            },
        };
        ops.push(op);
    }
    (settings, ops)
}

/// The configuration fuzz target's property, shared with the stable regression test: parsing
/// `NAME=VALUE` lines never panics, an accepted configuration reads back unchanged from its own
/// `env_pairs`, and it builds a heap (or gets a clear error) that runs a small program with a
/// clean verifier.
pub fn check_config_text(text: &str) {
    let vars = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (format!("PINION_GC_{k}"), v.to_string()));
    if let Ok(config) = gc_core::Config::from_vars("PINION_GC_", vars) {
        let mut again = gc_core::Config::default();
        for (suffix, value) in config.env_pairs() {
            again
                .set(suffix, &value)
                .expect("a value the configuration wrote reads back");
        }
        assert_eq!(again.env_pairs(), config.env_pairs(), "{text:?}");
        // No event log (it would write to a path the input names) and no trace lines.
        run_small_program(config.with_log(None).with_trace(false));
    }
}

/// Builds a heap with `config` (an error is fine: the configuration was valid, the OS may still
/// refuse its nursery) and runs a small list-building program on it.
fn run_small_program(config: gc_core::Config) {
    use crate::objects::Node;
    let Ok(mut heap) = gc_core::Heap::new(config) else {
        return;
    };
    heap.scope(|s| {
        let head = s.alloc(Node::new(0, 0)).ok();
        for i in 1..300u64 {
            let Ok(cell) = s.alloc(Node::new(i, i)) else {
                break; // a tiny heap limit: an error, never a panic
            };
            if let Some(head) = head {
                s.set(cell, |c| &c.refs[0], s.load(head, |h| &h.refs[0]));
                s.set(head, |h| &h.refs[0], Some(cell));
            }
        }
        s.collect_minor();
        s.collect_major();
    });
    let report = heap.verify();
    assert!(report.is_ok(), "{report}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_bytes_decode_to_a_bounded_program() {
        assert!(decode(&[]).1.is_empty());
        let (_, ops) = decode(&[0xff; 10_000]);
        assert!(ops.len() <= MAX_OPS);
        let (_, ops) = decode(&[1, 0, 0, 1, 2, 24, 25, 26, 27, 28, 3, 29, 0, 0, 30, 0]);
        assert_eq!(ops[0], Op::AllocNode { payload: 258 });
        assert_eq!(
            &ops[1..],
            [
                Op::Minor,
                Op::Major,
                Op::Freeze,
                Op::Unfreeze,
                Op::Hooks { kind: 3 },
                Op::CFill { pin: 0, value: 0 },
                Op::ForeignUnpin { pin: 0 },
            ]
        );
        // Every settings pair makes a heap.
        for first in 0..=255u8 {
            for second in 0..16u8 {
                let config = settings_from_bytes(first, second).to_config();
                assert!(config.validate().is_ok(), "{first} {second}");
            }
        }
    }
}
