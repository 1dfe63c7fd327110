//! Turning arbitrary bytes into a program, for the fuzz targets in `fuzz/`.
//!
//! The first byte picks heap settings that make collections frequent (a small nursery, stress
//! mode, pin limits, poisoning); every following operation is an opcode byte and a few
//! argument bytes. Any byte string decodes to a valid program (missing bytes read as zero), so
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

/// The settings selected by a fuzz input's first byte.
pub fn settings_from_byte(b: u8) -> HeapSettings {
    let mut s = HeapSettings::default();
    let nursery = ["4K", "16K", "64K", "1M"][usize::from(b & 3)];
    let stress = ["0", "1", "7", "0"][usize::from((b >> 2) & 3)];
    let max_pinned = [None, Some("0"), Some("1"), Some("1000")][usize::from((b >> 4) & 3)];
    let pairs = [
        ("NURSERY", Some(nursery)),
        ("STRESS", Some(stress)),
        ("MAX_PINNED", max_pinned),
        ("NURSERY_DEBUG", Some(if b & 0x40 != 0 { "1" } else { "0" })),
    ];
    for (name, value) in pairs {
        if let Some(v) = value {
            s.apply(name, v).expect("valid fuzz settings");
        }
    }
    s
}

/// Decodes a fuzz input into settings and a program.
pub fn decode(data: &[u8]) -> (HeapSettings, Vec<Op>) {
    let mut b = Bytes { data, at: 0 };
    let settings = settings_from_byte(b.u8());
    let mut ops = Vec::new();
    while !b.done() && ops.len() < MAX_OPS {
        let op = match b.u8() % 26 {
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
            _ => Op::Major,
        };
        ops.push(op);
    }
    (settings, ops)
}

/// The configuration fuzz target's property, shared with the stable regression test: parsing
/// `NAME=VALUE` lines never panics, and an accepted configuration reads back unchanged from
/// its own `env_pairs`.
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_bytes_decode_to_a_bounded_program() {
        assert!(decode(&[]).1.is_empty());
        let (_, ops) = decode(&[0xff; 10_000]);
        assert!(ops.len() <= MAX_OPS);
        let (_, ops) = decode(&[1, 0, 1, 2, 24, 25]);
        assert_eq!(ops[0], Op::AllocNode { payload: 258 });
    }
}
