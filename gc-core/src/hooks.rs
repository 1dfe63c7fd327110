//! User hooks: callbacks on collections, with statistics, that may use the heap.
//!
//! PyPy exposes `on_gc_minor`, `on_gc_collect_step` and `on_gc_collect`; one of its users
//! crashed PyPy just by installing no-op hooks, because delivering a hook wrote a pointer
//! inside the collector and broke a remembered-set invariant (PyPy issue 4899). Here that
//! cannot happen, by construction:
//!
//! 1. inside a collection, recording an event only updates preallocated counters
//!    (`gc_hooks::Recorder::record`): no allocation, no barrier, no user code;
//! 2. hooks run only after the collection has finished and the allocation that triggered it
//!    has been rooted (its handle pushed), before control returns to the code that allocated,
//!    with an ordinary `&mut Scope`: a hook may allocate, store references (through the
//!    barrier, like any code), pin, and even collect;
//! 3. delivery is never recursive: events that happen while a hook runs (it allocated, or
//!    collected) are merged into the pending statistics and delivered at the next
//!    opportunity, the next allocation or collection after the hook returns;
//! 4. a hook may replace or remove the hooks while it runs: the rest of that delivery is
//!    skipped and the new hooks (or none) stay installed;
//! 5. a panic in a hook propagates to the caller after the heap is consistent again (it always
//!    is when a hook runs), and the hook stays installed;
//! 6. an out-of-memory hook runs before the failed allocation returns its error; it may free
//!    memory it controls (drop pins it holds, clear references it can reach) and may allocate
//!    (a failure there is recorded and delivered later, never recursively). The failed
//!    allocation is not retried: the caller decides.
//!
//! Invariants: `delivering` is true exactly while a hook runs; `hooks` is `None` while a hook
//! runs (it is taken out for the call) and `generation` changes whenever hooks are installed or
//! removed.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use gc_hooks::{
    Accumulated, MajorEvent, MajorStepEvent, MinorEvent, OutOfMemoryEvent, PinRefusedEvent,
};

use crate::Scope;

/// Callbacks on collection events. Every method has an empty default; implement the ones you
/// need. Each receives the heap (`&mut Scope`) and the events of its kind merged since the
/// last delivery (`count`, summed and min/max durations, the last event's other fields).
///
/// ```
/// use gc_core::{Config, GcHooks, Heap, Scope};
/// use gc_hooks::{Accumulated, MinorEvent};
///
/// #[derive(Default)]
/// struct Count(u64);
///
/// impl GcHooks for Count {
///     fn on_minor(&mut self, s: &mut Scope<'_>, minors: &Accumulated<MinorEvent>) {
///         self.0 += minors.count;
///         s.alloc_bytes(b"hooks may allocate").unwrap();
///     }
/// }
///
/// let mut heap = Heap::new(Config::default()).unwrap();
/// heap.set_hooks(Count::default());
/// heap.collect_minor();
/// heap.collect_minor();
/// let hooks = heap.remove_hooks().unwrap();
/// let count = (hooks as Box<dyn std::any::Any>).downcast::<Count>().unwrap();
/// assert_eq!(count.0, 2);
/// ```
pub trait GcHooks: std::any::Any + Send {
    /// Minor collections happened.
    fn on_minor(&mut self, _s: &mut Scope<'_>, _minor: &Accumulated<MinorEvent>) {}
    /// Major-collection steps happened (one per major collection while it is stop-the-world).
    fn on_major_step(&mut self, _s: &mut Scope<'_>, _step: &Accumulated<MajorStepEvent>) {}
    /// Major collections completed.
    fn on_major(&mut self, _s: &mut Scope<'_>, _major: &Accumulated<MajorEvent>) {}
    /// Pins were refused.
    fn on_pin_refused(&mut self, _s: &mut Scope<'_>, _refused: &Accumulated<PinRefusedEvent>) {}
    /// Allocations failed with out-of-memory.
    fn on_out_of_memory(&mut self, _s: &mut Scope<'_>, _oom: &Accumulated<OutOfMemoryEvent>) {}
}

impl Scope<'_> {
    /// Delivers pending events to the installed hooks, if any (see the module rules).
    #[cold]
    #[inline(never)]
    pub(crate) fn deliver_hooks(&mut self) {
        let heap = self.heap_mut();
        if heap.delivering {
            return; // events merge and wait: never recursive
        }
        let Some(mut hooks) = heap.hooks.take() else {
            heap.recorder.discard_pending();
            heap.sync_alloc_fast();
            return;
        };
        let generation = heap.hooks_generation;
        heap.delivering = true;
        let pending = heap.recorder.take_pending();
        heap.sync_alloc_fast();
        let result = catch_unwind(AssertUnwindSafe(|| {
            self.scope(|s| {
                let still = |s: &mut Scope<'_>| s.heap_mut().hooks_generation == generation;
                if !pending.minor.is_empty() {
                    hooks.on_minor(s, &pending.minor);
                }
                if still(s) && !pending.major_step.is_empty() {
                    hooks.on_major_step(s, &pending.major_step);
                }
                if still(s) && !pending.major.is_empty() {
                    hooks.on_major(s, &pending.major);
                }
                if still(s) && !pending.pin_refused.is_empty() {
                    hooks.on_pin_refused(s, &pending.pin_refused);
                }
                if still(s) && !pending.out_of_memory.is_empty() {
                    hooks.on_out_of_memory(s, &pending.out_of_memory);
                }
            })
        }));
        let heap = self.heap_mut();
        heap.delivering = false;
        // Events the hooks caused wait for the next allocation (never recursive).
        heap.sync_alloc_fast();
        if heap.hooks_generation == generation {
            heap.hooks = Some(hooks); // not replaced or removed meanwhile: stays installed
        }
        if let Err(panic) = result {
            resume_unwind(panic);
        }
    }

    /// Installs hooks (replacing any), also from inside a hook; returns the previous ones.
    pub fn set_hooks(&mut self, hooks: impl GcHooks) -> Option<Box<dyn GcHooks>> {
        let heap = self.heap_mut();
        heap.hooks_generation += 1;
        heap.hooks.replace(Box::new(hooks))
    }

    /// Removes the hooks, also from inside a hook (the rest of that delivery is skipped).
    pub fn remove_hooks(&mut self) -> Option<Box<dyn GcHooks>> {
        let heap = self.heap_mut();
        heap.hooks_generation += 1;
        heap.hooks.take()
    }
}
