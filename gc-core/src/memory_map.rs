//! Which addresses are readable: lets the verifier inspect a corrupted header without
//! crashing on it.
//!
//! A header whose type-descriptor pointer was overwritten points anywhere. Before the verifier
//! follows one, it checks that the descriptor lies in readable memory, using this thread's copy
//! of `/proc/self/maps` (read once, read again only when an address is not found, since type
//! descriptors live in the program's own mapped image). Where the map cannot be read (Miri's
//! isolation, other systems), every address counts as readable and the verifier is only as
//! robust as the magic number check.

use std::cell::RefCell;

thread_local! {
    static RANGES: RefCell<Option<Vec<(usize, usize)>>> = const { RefCell::new(None) };
}

fn read_map() -> Option<Vec<(usize, usize)>> {
    #[cfg(miri)]
    {
        None
    }
    #[cfg(not(miri))]
    {
        let text = std::fs::read_to_string("/proc/self/maps").ok()?;
        let mut ranges = Vec::new();
        for line in text.lines() {
            let mut fields = line.split_whitespace();
            let (Some(span), Some(perms)) = (fields.next(), fields.next()) else {
                continue;
            };
            let Some((lo, hi)) = span.split_once('-') else {
                continue;
            };
            if perms.starts_with('r') {
                if let (Ok(lo), Ok(hi)) =
                    (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
                {
                    ranges.push((lo, hi));
                }
            }
        }
        Some(ranges)
    }
}

/// Whether `[addr, addr + len)` lies in one readable mapping (always true when the map is
/// unavailable).
pub(crate) fn readable(addr: usize, len: usize) -> bool {
    let Some(end) = addr.checked_add(len) else {
        return false;
    };
    let inside = |ranges: &[(usize, usize)]| ranges.iter().any(|&(lo, hi)| addr >= lo && end <= hi);
    RANGES.with(|cell| {
        let mut cache = cell.borrow_mut();
        if let Some(ranges) = cache.as_deref() {
            if inside(ranges) {
                return true;
            }
        }
        match read_map() {
            Some(ranges) => {
                let found = inside(&ranges);
                *cache = Some(ranges);
                found
            }
            None => true,
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn static_data_is_readable_and_null_is_not() {
        static X: u64 = 5;
        assert!(super::readable(&X as *const u64 as usize, 8));
        if !cfg!(miri) {
            assert!(!super::readable(8, 8));
            assert!(!super::readable(usize::MAX - 4, 8));
        }
    }
}
