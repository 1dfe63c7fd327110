//! Memory goes back to the OS: a program builds a large live set, drops it, collects, and its
//! resident memory falls back to near what it was before. This file holds one test so that it
//! runs in a process of its own (resident memory is per process).

use gc_core::{Config, GcArray, Heap, Member, Trace};

#[derive(Trace)]
struct Node {
    value: u64,
    next: Member<Node>,
}

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
    heap.scope(|s| {
        for i in 0..300_000u64 {
            s.scope(|s| {
                s.alloc(Node {
                    value: i,
                    next: Member::null(),
                })
                .unwrap();
            });
        }
    });
    heap.collect_major();
    let before = resident_bytes();

    // About 200 MB live: 100 arrays of 40,000 nodes (24 bytes each) plus the arrays.
    heap.scope(|s| {
        let tables = s.alloc_array::<GcArray<Node>>(100).unwrap();
        for t in 0..100 {
            s.scope(|s| {
                let table = s.alloc_array::<Node>(40_000).unwrap();
                s.array_set(tables, t, Some(table));
                for i in 0..40_000 {
                    s.scope(|s| {
                        let n = s
                            .alloc(Node {
                                value: i as u64,
                                next: Member::null(),
                            })
                            .unwrap();
                        s.array_set(table, i, Some(n));
                    });
                }
            });
        }
        s.collect_major();
    });
    let peak = resident_bytes();
    assert!(
        peak > before + 100_000_000,
        "the live set was resident: {before} -> {peak}"
    );

    // Everything died with the scope: the live set collapsed, so the retention policy gives
    // the surplus back at once (a steady heap would keep its headroom; see retention.rs).
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
