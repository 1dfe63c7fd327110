//! When hook events arrive: events during a hook accumulate for the next opportunity, events
//! of a collection outside any scope arrive at the next one, merged events sum their figures, a
//! hook removed during delivery gets nothing more, and a panicking hook propagates once the heap
//! is consistent.

use std::sync::{Arc, Mutex};

use gc_core::{Config, GcHooks, Scope};
use gc_hooks::{Accumulated, MajorEvent, MinorEvent};

#[path = "common/recording.rs"]
mod recording;

use recording::{verified, NodeInit, Recording};

/// On its first minor event, forces three more minor collections from inside the hook.
struct Reentrant {
    deliveries: Vec<u64>,
}

impl GcHooks for Reentrant {
    fn on_minor(&mut self, s: &mut Scope<'_>, m: &Accumulated<MinorEvent>) {
        self.deliveries.push(m.count);
        if self.deliveries.len() == 1 {
            for _ in 0..3 {
                s.collect_minor(); // events merge; no recursive delivery
            }
        }
    }
}

/// The deliveries `Reentrant` gets when `allocate` is the first thing after the collection
/// whose hook caused three more.
fn deliveries_when_next(allocate: impl FnOnce(&mut Scope<'_>)) -> Vec<u64> {
    let mut heap = verified(Config::default());
    heap.set_hooks(Reentrant { deliveries: vec![] });
    heap.collect_minor(); // delivers 1; the hook causes 3 more
    heap.scope(allocate);
    let hooks = heap.remove_hooks().unwrap();
    (hooks as Box<dyn std::any::Any>)
        .downcast::<Reentrant>()
        .unwrap()
        .deliveries
}

#[test]
fn events_during_a_hook_accumulate_and_arrive_at_the_next_opportunity() {
    let deliveries = deliveries_when_next(|s| {
        s.alloc(1u64).unwrap(); // the next opportunity
    });
    assert_eq!(deliveries, vec![1, 3]);
    // `alloc_init` has its own fast path, which skips the test for waiting events: waiting
    // events must turn that path off, so that it delivers them too.
    let deliveries = deliveries_when_next(|s| {
        s.alloc_init(NodeInit {
            value: 1,
            next: None,
        })
        .unwrap(); // the next opportunity
        s.alloc_init(NodeInit {
            value: 2,
            next: None,
        })
        .unwrap(); // nothing waits: the fast path again
    });
    assert_eq!(deliveries, vec![1, 3]);
}

/// Counts the major collections delivered.
struct MajorCount(u64);

impl GcHooks for MajorCount {
    fn on_major(&mut self, _s: &mut Scope<'_>, m: &Accumulated<MajorEvent>) {
        self.0 += m.count;
    }
}

#[test]
fn events_of_a_collection_outside_any_scope_arrive_at_the_next_one_step_allocation() {
    // `freeze` collects with no scope to deliver from: the event waits, and the next
    // allocation, even one through `alloc_init`'s fast path, must deliver it.
    let mut heap = verified(Config::default());
    heap.set_hooks(MajorCount(0));
    heap.freeze();
    heap.scope(|s| {
        s.alloc_init(NodeInit {
            value: 1,
            next: None,
        })
        .unwrap();
    });
    let hooks = heap.remove_hooks().unwrap();
    let count = (hooks as Box<dyn std::any::Any>)
        .downcast::<MajorCount>()
        .unwrap();
    assert_eq!(count.0, 1);
}

#[test]
fn merged_events_sum_durations_and_keep_min_max_and_the_last_fields() {
    let rec = Recording::default();
    let mut heap = verified(Config::default());
    heap.set_hooks(Reentrant { deliveries: vec![] });
    heap.collect_minor();
    heap.set_hooks(rec.clone()); // replace: the three merged minors go to the recorder
    heap.scope(|s| {
        s.alloc(1u64).unwrap();
    });
    let m = rec.seen().minor[0];
    assert_eq!(m.count, 3);
    assert_eq!(m.last.number, 4);
    assert!(m.min_duration <= m.max_duration && m.max_duration <= m.total_duration);
}

/// Removes itself on its first minor event.
struct OneShot(Arc<Mutex<u32>>);

impl GcHooks for OneShot {
    fn on_minor(&mut self, s: &mut Scope<'_>, _: &Accumulated<MinorEvent>) {
        *self.0.lock().unwrap() += 1;
        s.remove_hooks();
    }
    fn on_major(&mut self, _: &mut Scope<'_>, _: &Accumulated<MajorEvent>) {
        *self.0.lock().unwrap() += 100;
    }
}

#[test]
fn a_hook_removed_during_delivery_gets_nothing_more() {
    let calls = Arc::new(Mutex::new(0));
    let mut heap = verified(Config::default());
    heap.set_hooks(OneShot(calls.clone()));
    heap.collect_major(); // minor + step + major pending: on_minor removes the hook
    heap.collect_major();
    assert_eq!(*calls.lock().unwrap(), 1);
    assert!(heap.remove_hooks().is_none());
}

struct Panicky(Arc<Mutex<u32>>);

impl GcHooks for Panicky {
    fn on_minor(&mut self, s: &mut Scope<'_>, _: &Accumulated<MinorEvent>) {
        *self.0.lock().unwrap() += 1;
        s.alloc_bytes(b"half done").unwrap();
        panic!("hook failure");
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "10,000 allocations with the verifier after every collection"
)]
fn a_panicking_hook_propagates_after_the_heap_is_consistent_and_stays_installed() {
    let calls = Arc::new(Mutex::new(0));
    let mut heap = verified(Config::default().with_nursery_size(16 * 1024));
    heap.set_hooks(Panicky(calls.clone()));
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        heap.scope(|s| {
            for i in 0..10_000u64 {
                s.alloc(i).unwrap(); // fills the nursery: a minor collection, then the hook
            }
        })
    }));
    std::panic::set_hook(hook);
    assert!(result.is_err(), "the panic reached the caller");
    assert!(heap.verify().is_ok(), "the heap is consistent");
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| heap.collect_minor()));
    assert!(again.is_err(), "the hook is still installed");
    assert_eq!(*calls.lock().unwrap(), 2);
    heap.remove_hooks();
    heap.collect_minor();
    assert!(heap.verify().is_ok());
}
