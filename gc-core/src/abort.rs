//! What happens when user code panics inside a collection.
//!
//! A collection calls user code in three places: `Trace::trace` (every object it scans),
//! `RootProvider::trace_roots` (every registered provider) and drop glue (every dead object
//! with a destructor). Half-way through a collection some objects are forwarded and some
//! references still point to their old copies, so unwinding out of it and letting the program
//! go on would let safe code read a stale copy of a moved object. The rule, which binds every
//! collector phase present and future (minor and major collections today; incremental steps
//! and marker threads later):
//!
//! - **drop glue is contained**: a panicking destructor is caught where it runs, its payload
//!   is disposed of inside a second catch (a payload whose own destructor panics is leaked),
//!   the panic is counted in `HeapStats::drop_panics`, and the collection completes
//!   (`ObjPtr::run_drop`);
//! - **a panic from `Trace::trace` or `RootProvider::trace_roots` aborts the process** with a
//!   message naming the culprit. Both are contract violations of unsafe traits (the derive
//!   never panics), and no recovery can make the heap consistent again.
//!
//! The abort comes from [`AbortOnUnwind`], a guard that is created before a phase that runs
//! user code and disarmed (forgotten) after it: its destructor runs only while unwinding, so
//! the scan loops pay nothing for it. Hooks are not part of this rule: they run after the
//! collection has finished, when the heap is consistent, and a panic in a hook propagates to
//! the caller (see `hooks.rs`).

/// Aborts the process if it is dropped, which happens only when a panic unwinds through the
/// phase it guards; [`AbortOnUnwind::disarm`] ends the phase normally.
pub(crate) struct AbortOnUnwind {
    culprit: &'static str,
}

impl AbortOnUnwind {
    /// Guards a phase in which a panic can only come from `culprit`.
    #[inline(always)]
    pub(crate) fn new(culprit: &'static str) -> AbortOnUnwind {
        AbortOnUnwind { culprit }
    }

    /// Ends the guarded phase normally.
    #[inline(always)]
    pub(crate) fn disarm(self) {
        std::mem::forget(self);
    }
}

impl Drop for AbortOnUnwind {
    #[cold]
    fn drop(&mut self) {
        // Under an injected fault the collector's own consistency checks may panic; the stress
        // harness reports that as a detection and leaks the heap, so let the panic through.
        #[cfg(feature = "fault-injection")]
        if crate::faults::active().is_some() {
            return;
        }
        eprintln!(
            "pinion: a panic escaped {} during a garbage collection; a half-collected heap \
             cannot be used again, so the process is aborting",
            self.culprit
        );
        std::process::abort();
    }
}
