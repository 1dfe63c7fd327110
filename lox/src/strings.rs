//! String interning: one heap string per content, so that string equality is identity and
//! strings can key identity maps (globals, fields, methods).
//!
//! The table (`WeakInterner`) holds each string weakly, with its content hash: an entry dies
//! with its string, and contents are compared by reading the strings themselves, so no copy of
//! them lives outside the heap. The table lives outside the heap (in the VM), across scopes, so
//! a REPL's later lines find the strings earlier ones made while they live.
//!
//! Every string a program builds is interned, so every byte it concatenates is hashed. The
//! table hashes a word at a time ([`ContentHasher`]) rather than with the standard library's
//! SipHash, which took a fifth of the `strings` benchmark's time (`perf record`); clox hashes
//! its strings with FNV-1a, a byte at a time. Lox programs are trusted input, so the table does
//! not need SipHash's resistance to keys chosen to collide.

use std::hash::{BuildHasherDefault, Hasher};

use gc_core::{GcBytes, GcError, Handle, Scope, WeakInterner};

/// The interned strings.
#[derive(Debug, Default)]
pub(crate) struct Strings {
    table: WeakInterner<BuildHasherDefault<ContentHasher>>,
}

/// A multiply-rotate hash over 8-byte words (the scheme of rustc's `FxHasher`; strings of 32
/// bytes or more in four lanes), with a final mix so that the low bits, which pick the
/// bucket, depend on every input bit.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ContentHasher(u64);

impl ContentHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl Hasher for ContentHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        // Long strings in four independent lanes, folded in at the end: one lane's chain of
        // multiplies took a multiply's latency per word; four overlap.
        let mut blocks = bytes.chunks_exact(32);
        if bytes.len() >= 32 {
            let mut lanes = [
                ContentHasher(self.0),
                ContentHasher(self.0 ^ 1),
                ContentHasher(self.0 ^ 2),
                ContentHasher(self.0 ^ 3),
            ];
            for block in &mut blocks {
                for (lane, word) in lanes.iter_mut().zip(block.chunks_exact(8)) {
                    lane.add(u64::from_le_bytes(word.try_into().expect("8 bytes")));
                }
            }
            for lane in lanes {
                self.add(lane.0);
            }
        }
        let mut words = blocks.remainder().chunks_exact(8);
        for word in &mut words {
            self.add(u64::from_le_bytes(word.try_into().expect("8 bytes")));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        let h = self.0;
        (h ^ (h >> 32)).wrapping_mul(Self::SEED) ^ (h >> 29)
    }
}

impl Strings {
    /// The string with these bytes, made if there is none.
    ///
    /// Errors: [`GcError::OutOfMemory`] when the heap is full.
    pub(crate) fn intern<'s>(
        &mut self,
        s: &mut Scope<'s>,
        bytes: &[u8],
    ) -> Result<Handle<'s, GcBytes>, GcError> {
        self.table.intern(s, bytes)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::hash::Hasher;

    use super::ContentHasher;

    fn hash(bytes: &[u8]) -> u64 {
        let mut h = ContentHasher::default();
        h.write_usize(bytes.len());
        h.write(bytes);
        h.finish()
    }

    #[test]
    fn every_byte_and_the_length_count() {
        // Long enough for the four lanes, two blocks of them, and words and bytes after.
        let base =
            b"the quick brown fox jumps over the lazy dog, then the quick brown fox naps".to_vec();
        let mut seen = HashSet::new();
        assert!(seen.insert(hash(&base)));
        for i in 0..base.len() {
            let mut changed = base.clone();
            changed[i] ^= 1;
            assert!(
                seen.insert(hash(&changed)),
                "flipping byte {i} changed nothing"
            );
        }
        // A shorter string padded with zero bytes differs from the longer one by its length.
        assert_ne!(hash(b"ab"), hash(b"ab\0"));
    }

    #[test]
    fn the_bucket_bits_spread_consecutive_numbers() {
        // The strings a program builds from a counter ("0", "1", …) must not share their low
        // bits, which pick the bucket.
        let buckets: HashSet<u64> = (0..4096)
            .map(|i| hash(format!("{i:b}").as_bytes()) & 4095)
            .collect();
        assert!(
            buckets.len() > 2048,
            "{} distinct buckets of 4096",
            buckets.len()
        );
    }
}
