//! Fault injection: a catalogue of realistic collector bugs, for proving that the stress
//! harness finds them.
//!
//! Built only with the `fault-injection` feature. Without it, every `fault_on!(Name)` in the
//! collector expands to the constant `false` and this module does not exist, so a normal build
//! contains no fault code at all (`.ci/run` checks the release binary for the fault names).
//!
//! Each fault is switched on for the current thread by name (`faults::set`), so tests and the
//! harness's `hunt` command can run one at a time. Each models a bug class that hurt a real
//! collector, named in its documentation.

use std::cell::Cell;

/// One injectable bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Only the first old object found pointing to a pinned young object stays in the
    /// remembered set; the others get their barrier bit back. A later minor collection then
    /// moves the (unpinned) object without updating those parents. PyPy's incminimark had this
    /// bug class: an old parent of a pinned object not recorded, so the pinned object was
    /// freed or moved while still referenced.
    ForgetPinnedParents,
    /// The nursery reset poisons and reuses the whole nursery, pinned objects included, as if
    /// there were no pins: the allocator writes over pinned objects (PyPy's nursery cleanup
    /// around pinned objects).
    NurseryResetOverwritesPinned,
    /// A minor collection copies pinned objects like any other, so the pointer handed to C
    /// goes stale (the core promise of pinning broken).
    MovePinned,
    /// Ending the last pin of a nursery object does not decrement the pinned-object count, so
    /// the count leaks until `MAX_PINNED` refuses every pin (a pin counter that never drops).
    LeakPinCount,
    /// An off-by-one in the allocator's jump across a pinned object: the gap before a pinned
    /// object is taken to end one word later, so an allocation overwrites the pinned object's
    /// header (fencepost errors in PyPy's nursery gap logic).
    GapOffByOne,
    /// The barrier's slow path, on an old object already remembered, removes it from the
    /// remembered set instead of leaving it there ("toggling" instead of setting), so an old
    /// object written twice loses its entry and its young referent is freed.
    DropRememberedOnRewrite,
    /// While hook events are recorded inside a collection, a barrier-triggering write clears an
    /// old object's barrier bit but its remembered-set entry goes to a set the collector then
    /// replaces: the invariant "an old object without the barrier bit is remembered" breaks.
    /// PyPy issue 4899: installing no-op hooks crashed the collector this way.
    BarrierInHookRecording,
    /// When a hashed object that was pinned is unpinned and then moved, its identity-table
    /// entry is re-created with a fresh hash, so its hash changes (PyPy's 2024 identity-hash
    /// "shadow" bugs with pinned objects).
    LoseHashOnUnpinMove,
    /// A minor collection forgets to clear weak references to young objects it reclaims, so a
    /// weak reference points into freed nursery memory (the classic weak-reference
    /// processing-order bug).
    SkipWeakClearing,
    /// `Scope::unpin` marks the guard consumed before checking that the pin is this heap's, so
    /// a guard refused by another heap's scope never ends its pin: the object stays pinned and
    /// rooted for ever, and under `MAX_PINNED=1` its heap can never pin again (issue 14,
    /// defect 3).
    LeakPinOnRefusedUnpin,
    /// After a collection the allocator tries only the first nursery gap, and under a heap
    /// limit takes its failure for an exhausted limit: a pinned object a few hundred bytes into
    /// the nursery makes larger allocations fail with a false out-of-memory (issue 14, defect
    /// 4).
    FirstGapOnly,
    /// The barrier clears an old object's `LOG_STORES` bit without adding the object to the
    /// store log, so a sticky major collection does not trace it: an object promoted since the
    /// last major collection and stored only into it is freed while reachable (the missing
    /// write-barrier bugs of CRuby's generational collector, whose old objects are skipped
    /// the same way).
    LoseStoreLogEntry,
    /// A sticky major collection starts the store log again as a full one does: every logged
    /// kept object gets its `LOG_STORES` bit back and leaves the log, even one that refers to a
    /// fresh object the collection found live and left fresh. The next sticky collection then
    /// frees that object while the kept one still refers to it (a remembered set cleared after a
    /// collection that did not promote everything it covered).
    ClearLogAfterSticky,
}

/// The catalogue: every fault with its command-line name, whether it needs pinning, and what
/// it models.
pub const CATALOGUE: &[(Fault, &str, bool, &str)] = &[
    (Fault::ForgetPinnedParents, "forget-pinned-parents", true, "only the first old parent of a pinned object stays remembered (PyPy: pinned object freed while a parent points to it)"),
    (Fault::NurseryResetOverwritesPinned, "reset-overwrites-pinned", true, "the nursery reset reuses the memory of pinned objects (PyPy: nursery cleanup around pins)"),
    (Fault::MovePinned, "move-pinned", true, "a minor collection moves pinned objects (the pointer given to C goes stale)"),
    (Fault::LeakPinCount, "leak-pin-count", true, "ending the last pin of a nursery object does not decrement the pinned count (a leaking pin counter)"),
    (Fault::GapOffByOne, "gap-off-by-one", true, "the allocator's gap before a pinned object ends one word too late (PyPy: fencepost errors around pins)"),
    (Fault::DropRememberedOnRewrite, "drop-remembered-on-rewrite", false, "a second young store into a remembered old object drops its remembered-set entry"),
    (Fault::BarrierInHookRecording, "barrier-in-hook-recording", false, "a barrier run while recording hook events inside the collection loses its entry (PyPy issue 4899)"),
    (Fault::LoseHashOnUnpinMove, "lose-hash-on-unpin-move", true, "a hashed object unpinned and moved gets a new hash (PyPy 2024: identity-hash shadows and pinning)"),
    (Fault::SkipWeakClearing, "skip-weak-clearing", false, "a minor collection does not clear or update weak references to young objects"),
    (Fault::LeakPinOnRefusedUnpin, "leak-pin-on-refused-unpin", true, "an unpin refused through another heap's scope consumes the guard, so its pin never ends"),
    (Fault::FirstGapOnly, "first-gap-only", true, "after a collection only the first nursery gap is tried, and under MAX its failure is taken for out-of-memory"),
    (Fault::LoseStoreLogEntry, "lose-store-log-entry", false, "the barrier clears an old object's LOG_STORES bit without logging it, so a sticky major collection misses what it points to"),
    (Fault::ClearLogAfterSticky, "clear-log-after-sticky", false, "a sticky major collection drops from the store log the kept objects that refer to its fresh survivors, so the next one frees them"),
];

impl Fault {
    /// The fault's command-line name.
    pub fn name(self) -> &'static str {
        CATALOGUE
            .iter()
            .find(|(f, ..)| *f == self)
            .map_or("?", |(_, n, ..)| n)
    }

    /// Whether the fault can only trigger when objects are pinned (so `MAX_PINNED=0` makes it
    /// unreachable).
    pub fn needs_pinning(self) -> bool {
        CATALOGUE.iter().any(|(f, _, p, _)| *f == self && *p)
    }

    /// What the fault models.
    pub fn description(self) -> &'static str {
        CATALOGUE
            .iter()
            .find(|(f, ..)| *f == self)
            .map_or("?", |(.., d)| d)
    }

    /// The fault with this name.
    pub fn from_name(name: &str) -> Option<Fault> {
        CATALOGUE
            .iter()
            .find(|(_, n, ..)| *n == name)
            .map(|(f, ..)| *f)
    }
}

thread_local! {
    static ACTIVE: Cell<Option<Fault>> = const { Cell::new(None) };
}

/// Switches a fault on (or all off) for the current thread.
pub fn set(fault: Option<Fault>) {
    ACTIVE.with(|a| a.set(fault));
}

/// The fault switched on for the current thread.
pub fn active() -> Option<Fault> {
    ACTIVE.with(|a| a.get())
}

/// Whether `fault` is on.
#[inline]
pub fn is_on(fault: Fault) -> bool {
    active() == Some(fault)
}
