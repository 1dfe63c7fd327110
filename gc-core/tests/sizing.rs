//! The sizing policies at work in a real heap: the young generation grows where little
//! survives and shrinks where its copying misses the pause goal; a fixed nursery never moves;
//! an old generation whose live set swings keeps the free pages it refills.

use std::time::Duration;

use gc_core::{Config, Heap};

mod live_set;
use live_set::{garbage, live_set};

#[test]
#[cfg_attr(miri, ignore = "allocates tens of megabytes")]
fn the_nursery_grows_where_nothing_survives_up_to_a_third_of_the_live_heap() {
    // No pause goal: only the memory bound (young at most half the old generation's live size).
    // Unused memory goes back at once.
    let config = Config::default()
        .with_minor_pause(Duration::ZERO)
        .with_release_after(Duration::ZERO);
    let mut heap = Heap::new(config).unwrap();
    let start = heap.stats().nursery_size;
    assert_eq!(start, gc_core::DEFAULT_NURSERY_SIZE);
    // Before a major collection has measured the live data, the nursery stays within its
    // initial size.
    garbage(&mut heap, 1_000_000);
    assert_eq!(heap.stats().nursery_size, start);
    // Next to almost nothing live, it shrinks to its lower bound.
    heap.collect_major();
    garbage(&mut heap, 1_000_000);
    assert_eq!(heap.stats().nursery_size, gc_core::DEFAULT_NURSERY_MIN);
    // About 48 MB live (24-byte nodes and their arrays): the nursery may grow to half of it.
    let live_set = live_set(&mut heap, 100, 20_000);
    heap.collect_major();
    let live = heap.stats().live_bytes_after_major;
    garbage(&mut heap, 5_000_000);
    let size = heap.stats().nursery_size;
    assert!(size > start, "grew: {size}");
    assert!(size <= live / 2 + 4096, "{size} vs live {live}");
    // The live set goes: the nursery shrinks back and its tail, like the old generation's
    // free pages, goes back to the OS.
    drop(live_set);
    heap.collect_major();
    garbage(&mut heap, 100_000);
    let stats = heap.stats();
    assert_eq!(stats.nursery_size, gc_core::DEFAULT_NURSERY_MIN);
    assert!(
        stats.committed_bytes < 4 << 20,
        "committed {} after the heap emptied",
        stats.committed_bytes
    );
}

#[test]
#[cfg_attr(miri, ignore = "allocates tens of megabytes")]
fn the_nursery_shrinks_when_copying_misses_the_goal() {
    // A goal no collection can meet, not even its fixed part (roots and bookkeeping): the
    // policy then sizes the nursery for copying to take about twice that fixed part (see
    // `young_sizing`), which, with almost everything surviving, is far below the initial size.
    // (How far depends on measured pauses; the exact sizes are the pure policy's unit tests.
    // This test once asserted the minimum, which held only when the measured fixed part came
    // out near zero.)
    let config = Config::default()
        .with_minor_pause(Duration::from_nanos(1))
        .with_nursery_bounds(Some(256 << 10), None);
    let mut heap = Heap::new(config).unwrap();
    let _live = live_set(&mut heap, 20, 20_000);
    let stats = heap.stats();
    assert!(
        stats.nursery_size < gc_core::DEFAULT_NURSERY_SIZE,
        "nursery {} B",
        stats.nursery_size
    );
    assert!(stats.nursery_size >= 256 << 10);
    assert!(stats.minor_pauses.count > 0);
    assert!(stats.minor_pauses.p99 >= stats.minor_pauses.p50);
}

#[test]
#[cfg_attr(miri, ignore = "allocates tens of megabytes")]
fn a_fixed_nursery_never_changes_size() {
    let mut heap = Heap::new(Config::default().with_nursery_size(1 << 20)).unwrap();
    garbage(&mut heap, 500_000);
    let _live = live_set(&mut heap, 10, 20_000);
    assert_eq!(heap.stats().nursery_size, 1 << 20);
}

/// A program whose live set swings between two sizes every major collection; returns the bytes
/// the heap gave back to the OS after a warm-up, and checks the heap.
fn swinging(release_after: Duration) -> u64 {
    // A small headroom and no MIN floor, so that the swing leaves free pages beyond it.
    let config = Config::default()
        .with_nursery_size(1 << 20)
        .with_major_collect(1.2)
        .with_min_major(1 << 20)
        .with_release_after(release_after);
    let mut heap = Heap::new(config).unwrap();
    let _base = live_set(&mut heap, 40, 20_000);
    let cycle = |heap: &mut Heap, arrays: usize| {
        let medium = live_set(heap, arrays, 20_000);
        heap.collect_major();
        drop(medium);
    };
    for round in 0..4 {
        cycle(&mut heap, if round % 2 == 0 { 25 } else { 2 });
    }
    let warm = heap.stats().bytes_returned;
    for round in 0..6 {
        cycle(&mut heap, if round % 2 == 0 { 25 } else { 2 });
    }
    assert!(heap.verify().is_ok());
    heap.stats().bytes_returned - warm
}

#[test]
#[cfg_attr(miri, ignore = "allocates tens of megabytes")]
fn a_heap_that_swings_keeps_the_pages_it_refills_until_they_age() {
    // Pages freed when the live set is small are refilled when it grows again: kept while
    // young, they are never given back and faulted in again.
    assert_eq!(swinging(Duration::from_secs(600)), 0);
    // Without hysteresis the same program gives pages back every small cycle (and refaults
    // them in the next big one).
    assert!(swinging(Duration::ZERO) > 0);
}
