//! A leaf object that counts its drops, for the integration tests that check when drop glue
//! runs (included with `#[path]` by the tests that use it).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use gc_core::Trace;

/// Counts its drops in a shared counter (a leaf: no references, so `Drop` is allowed).
#[derive(Trace)]
#[pinion(drop)]
pub struct Counted {
    pub drops: Arc<AtomicUsize>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}
