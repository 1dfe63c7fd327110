//! Hash maps keyed by object addresses, with a hasher made for them.
//!
//! The side tables (identity hashes, pin counts, large objects, arenas, the collector's sets of
//! addresses) are keyed by addresses: 8-aligned, never chosen by an adversary, and looked up on
//! paths that must be cheap (an identity-keyed map asks for an identity hash at every lookup).
//! The standard SipHash protects against hash flooding, which addresses cannot mount, at several
//! times the cost of one multiplication: this hasher multiplies by a large odd constant (a
//! Fibonacci hash) and keeps the high bits, which spread well for aligned inputs.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// The hasher of [`AddrMap`] and [`AddrSet`].
#[derive(Default, Clone, Copy, Debug)]
pub(crate) struct AddrHasher(u64);

impl Hasher for AddrHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        // One Fibonacci multiplication; the rotation brings the well-mixed high bits down,
        // where hashbrown takes its bucket index from.
        self.0 = (self.0 ^ n)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(26);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// A map keyed by addresses.
pub(crate) type AddrMap<V> = HashMap<usize, V, BuildHasherDefault<AddrHasher>>;

/// A set of addresses.
pub(crate) type AddrSet = HashSet<usize, BuildHasherDefault<AddrHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_addresses_spread_over_the_low_bits() {
        let mut buckets = [0u32; 64];
        for i in 0..64_000usize {
            let mut h = AddrHasher::default();
            h.write_usize(0x7f00_0000_0000 + i * 16);
            buckets[(h.finish() & 63) as usize] += 1;
        }
        assert!(
            buckets.iter().all(|&n| (700..1300).contains(&n)),
            "{buckets:?}"
        );
        let mut m: AddrMap<u64> = AddrMap::default();
        m.insert(8, 1);
        assert_eq!(m.get(&8), Some(&1));
    }
}
