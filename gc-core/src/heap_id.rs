//! Heap ids: unique for the life of the process.
//!
//! Handles, pin guards and persistent roots name their heap by id, and the checks that refuse a
//! foreign one (`GcError::ForeignHandle`) compare ids. So an id is never given twice, even after
//! its heap is dropped: a pin guard or a persistent root that outlived its heap must never pass
//! for a later heap's (a counter that wrapped would let one, after 2^32 heaps, and a persistent
//! root's slot and generation would then name an object of another type). Once every id has
//! been given out, making a heap fails with `GcError::HeapIdsExhausted`.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::GcError;

/// The next id to give; 0 is never given.
static NEXT: AtomicU32 = AtomicU32::new(1);

/// A fresh heap id, or the error once none is left.
pub(crate) fn take() -> Result<NonZeroU32, GcError> {
    take_from(&NEXT)
        .and_then(NonZeroU32::new)
        .ok_or(GcError::HeapIdsExhausted(u32::MAX - 1))
}

/// Takes the next id from `counter`, or `None` once it has reached `u32::MAX` (the counter
/// stops there instead of wrapping).
fn take_from(counter: &AtomicU32) -> Option<u32> {
    counter
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |id| id.checked_add(1))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_run_out_instead_of_wrapping() {
        let counter = AtomicU32::new(u32::MAX - 2);
        assert_eq!(take_from(&counter), Some(u32::MAX - 2));
        assert_eq!(take_from(&counter), Some(u32::MAX - 1));
        // Every later take fails: no id is given twice.
        assert_eq!(take_from(&counter), None);
        assert_eq!(take_from(&counter), None);
        assert_eq!(counter.load(Ordering::Relaxed), u32::MAX);
    }

    #[test]
    fn ids_are_distinct() {
        let (a, b) = (take().unwrap(), take().unwrap());
        assert_ne!(a, b);
    }
}
