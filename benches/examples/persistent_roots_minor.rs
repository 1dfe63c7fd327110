//! A minor collection with no survivors, on a heap with no persistent roots and on one with a
//! million persistent roots to old objects, measured in alternating batches in one process
//! (the criterion group `minor_no_survivors_persistent_roots` runs the two cases one after the
//! other, which this shared machine's noise can skew by more than the difference sought).
//!
//! `cargo run --release -p benches --example persistent_roots_minor [minors per batch]`
use benches::{heap_with_persistent_roots, time_minor_of_garbage};
use gc_core::Heap;

const BATCHES: usize = 15;

/// Nanoseconds per minor collection of a nursery holding 1,000 dead objects.
fn batch(heap: &mut Heap, minors: u32) -> f64 {
    let timed: std::time::Duration =
        heap.scope(|s| (0..minors).map(|_| time_minor_of_garbage(s)).sum());
    timed.as_nanos() as f64 / f64::from(minors)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let minors: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let (mut none, _) = heap_with_persistent_roots(0);
    let (mut million, _kept) = heap_with_persistent_roots(1_000_000);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..BATCHES {
        a.push(batch(&mut none, minors));
        b.push(batch(&mut million, minors));
    }
    let (a, b) = (median(a), median(b));
    println!(
        "ns per minor collection (median of {BATCHES} alternating batches of {minors}): \
         no roots {a:.1}, 1M roots to old objects {b:.1}, ratio {:.3}",
        b / a
    );
}
