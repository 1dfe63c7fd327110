//! A minor collection with no survivors, on a heap with no persistent roots and on one with a
//! million persistent roots to old objects, measured in alternating batches in one process
//! (the criterion group `minor_no_survivors_persistent_roots` runs the two cases one after the
//! other, which this shared machine's noise can skew by more than the difference sought).
//!
//! `cargo run --release -p benches --example persistent_roots_minor [minors per batch]`
use std::time::{Duration, Instant};

use benches::Small;
use gc_core::{Config, Heap, Persistent};

const BATCHES: usize = 15;

/// A heap with `roots` persistent roots, each to an old object.
fn heap_with_roots(roots: u64) -> (Heap, Vec<Persistent<Small>>) {
    let mut heap = Heap::new(Config::default().with_nursery_size(4 << 20)).unwrap();
    let kept = heap.scope(|s| {
        (0..roots)
            .map(|i| {
                let h = s.alloc(Small { a: i, b: i }).unwrap();
                s.persist(h).unwrap()
            })
            .collect()
    });
    heap.collect_major(); // every rooted object is old now
    (heap, kept)
}

/// Nanoseconds per minor collection of a nursery holding 1,000 dead objects.
fn batch(heap: &mut Heap, minors: u32) -> f64 {
    let mut timed = Duration::ZERO;
    heap.scope(|s| {
        for _ in 0..minors {
            s.scope(|s| {
                for i in 0..1000u64 {
                    s.alloc(Small { a: i, b: i }).unwrap(); // garbage
                }
            });
            let start = Instant::now();
            s.collect_minor();
            timed += start.elapsed();
        }
    });
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
    let (mut none, _) = heap_with_roots(0);
    let (mut million, _kept) = heap_with_roots(1_000_000);
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
