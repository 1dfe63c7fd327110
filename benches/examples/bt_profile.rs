//! Runs Pinion's binary-trees workload in a loop, for profilers.
use benches::{pinion_check, pinion_tree};
use gc_core::{Config, Heap};

fn main() {
    let depth: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(16);
    let rounds: u32 = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let mut heap = Heap::new(Config::default()).unwrap();
    let mut total = 0;
    for _ in 0..rounds {
        total += heap.scope(|s| {
            let t = pinion_tree(s, depth);
            pinion_check(s, s.get(t))
        });
    }
    let st = heap.stats();
    println!(
        "{total} nodes; {} minor, {} major; promoted {} MB",
        st.minor_collections,
        st.major_collections,
        st.bytes_promoted >> 20
    );
}
