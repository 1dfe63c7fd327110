//! A destructor that panics with a payload whose own destructor panics (issue 14, defect 1).
//!
//! The collector catches a panicking destructor, but the payload it catches is itself a value
//! with a destructor. If that second panic escapes the catch, it unwinds out of the sweep with
//! the dead slot still allocated, and the destructor runs a second time later: a double free
//! from safe code. This file is its own test binary because, on a collector with that bug, the
//! C library aborts the whole process ("free(): double free detected"); Miri reports the
//! use-after-free.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use gc_core::{Config, Heap, Trace};

/// A panic payload whose destructor panics again.
struct PanickingPayload;

impl Drop for PanickingPayload {
    fn drop(&mut self) {
        panic!("the panic payload's own destructor panics");
    }
}

static ARMED: AtomicBool = AtomicBool::new(false);
static DROPS: AtomicUsize = AtomicUsize::new(0);

/// Owns heap memory of the system allocator (so a second drop is a real double free), and
/// panics with a [`PanickingPayload`] when dropped while armed.
#[derive(Trace)]
#[pinion(drop)]
struct Trap {
    owned: Vec<u64>,
}

impl Drop for Trap {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
        self.owned.clear();
        if ARMED.load(Ordering::SeqCst) {
            std::panic::panic_any(PanickingPayload);
        }
    }
}

/// A large variant (over the large-object threshold), which dies young in a minor collection.
#[derive(Trace)]
#[pinion(drop)]
struct BigTrap {
    trap: Trap,
    filler: [u64; 1100],
}

fn trap() -> Trap {
    Trap {
        owned: vec![1, 2, 3, 4],
    }
}

/// One test function: the two cases share the static counters.
#[test]
fn a_panicking_destructor_with_a_panicking_payload_runs_once_and_never_unwinds() {
    // Case 1: an old object swept by a major collection.
    let mut heap = Heap::new(Config::default()).unwrap();
    heap.scope(|s| {
        s.scope(|s| {
            s.alloc(trap()).unwrap();
            s.collect_minor(); // promoted: now old
        });
        ARMED.store(true, Ordering::SeqCst);
        s.collect_major(); // the handle is gone: the sweep drops it, and it panics twice
    });
    ARMED.store(false, Ordering::SeqCst);
    assert_eq!(DROPS.load(Ordering::SeqCst), 1, "the destructor ran once");
    assert_eq!(heap.stats().drop_panics, 1);
    assert!(heap.verify().is_ok());
    heap.collect_major();
    drop(heap);
    assert_eq!(
        DROPS.load(Ordering::SeqCst),
        1,
        "no second run at the next collection or when the heap is dropped"
    );

    // Case 2: a young large object that dies in a minor collection.
    DROPS.store(0, Ordering::SeqCst);
    let mut heap = Heap::new(Config::default()).unwrap();
    heap.scope(|s| {
        s.scope(|s| {
            s.alloc(BigTrap {
                trap: trap(),
                filler: [7; 1100],
            })
            .unwrap();
        });
        ARMED.store(true, Ordering::SeqCst);
        s.collect_minor();
    });
    ARMED.store(false, Ordering::SeqCst);
    assert_eq!(DROPS.load(Ordering::SeqCst), 1);
    let stats = heap.stats();
    assert_eq!(stats.drop_panics, 1);
    assert_eq!(stats.large_objects, 0, "the dead large object was unmapped");
    assert!(heap.verify().is_ok());
    drop(heap);
    assert_eq!(DROPS.load(Ordering::SeqCst), 1);
}
