//! Memory goes back to the OS: a program builds a large live set, drops it, collects, and its
//! resident memory falls back to near what it was before. This file holds one test so that it
//! runs in a process of its own (resident memory is per process).

use gc_core::{Config, Heap};

mod live_set;
use live_set::{garbage, live_set};

/// Resident memory of this process, from /proc/self/statm.
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux");
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[test]
#[cfg_attr(miri, ignore = "Miri has no /proc")]
fn resident_memory_falls_back_after_a_large_live_set_dies() {
    let mut heap = Heap::new(Config::default()).unwrap();
    // Warm up: the nursery settles at its size for a program that keeps nothing.
    garbage(&mut heap, 300_000);
    heap.collect_major();
    let before = resident_bytes();

    // About 200 MB live: 100 arrays of 40,000 nodes (24 bytes each) plus the arrays.
    let live = live_set(&mut heap, 100, 40_000);
    heap.collect_major();
    let peak = resident_bytes();
    assert!(
        peak > before + 100_000_000,
        "the live set was resident: {before} -> {peak}"
    );

    // The live set dies with its root: it collapsed, so the retention policy gives
    // the surplus back at once (a steady heap would keep its headroom; see retention.rs).
    drop(live);
    heap.collect_major();
    let after = resident_bytes();
    let stats = heap.stats();
    eprintln!(
        "resident: before {before}, peak {peak}, after {after}; returned {} bytes; \
         committed {}, nursery {}",
        stats.bytes_returned, stats.committed_bytes, stats.nursery_size
    );
    assert!(
        stats.bytes_returned > 90_000_000,
        "the 96 MB of nodes went back"
    );
    // What stays: each arena's side table (page metadata and bitmaps) and its first OS page
    // (the arena index), a few percent of the spike.
    assert!(
        after.saturating_sub(before) <= (peak - before) / 20,
        "resident after {after} vs before {before} (peak {peak})"
    );
    assert!(stats.committed_bytes < 8 << 20, "{}", stats.committed_bytes);
}
