//! A panic escaping user code in the middle of a collection (issue 14, defect 2).
//!
//! Half-way through a minor collection some objects are forwarded and some references still
//! point at their old copies. Continuing from there would let safe code read a stale copy of a
//! moved object, so the rule is: a panic from `RootProvider::trace_roots` or `Trace::trace` (both
//! contract violations) aborts the process with a clear message. Each case runs in a child
//! process (this test binary again, selecting the case through an environment variable), and
//! the parent checks that the child was aborted with that message and never reached the code
//! after the collection.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use gc_core::{Config, Heap, Member, RootProvider, RootTracer, Trace, Tracer};

const CASE: &str = "PINION_UNWIND_CASE";

static ARMED: AtomicBool = AtomicBool::new(false);

/// A root provider that panics while the collector asks it for its roots.
struct PanickingProvider;

// SAFETY: reports no roots (and panics when armed, which is the contract violation under test).
unsafe impl RootProvider for PanickingProvider {
    fn trace_roots(&mut self, _: &mut RootTracer<'_, '_>) {
        if ARMED.load(Ordering::SeqCst) {
            panic!("a root provider panics");
        }
    }
}

/// A heap type whose hand-written `trace` panics (the derive never generates that).
struct PanickingTrace {
    value: u64,
    next: Member<PanickingTrace>,
}

// SAFETY: reports its one member; it panics when armed, which is the violation under test.
unsafe impl Trace for PanickingTrace {
    const NEEDS_TRACE: bool = true;
    fn trace(&self, tracer: &mut Tracer<'_>) {
        if ARMED.load(Ordering::SeqCst) {
            panic!("a Trace impl panics");
        }
        tracer.member(&self.next);
    }
}

// Built with `alloc` only (its members start null), so it is its own mirror.
gc_core::impl_leaf_init!(PanickingTrace);

#[derive(Trace)]
struct Node {
    value: u64,
    next: Member<Node>,
}

/// Runs one case in this process: returns only if the collection returned (or unwound).
fn run_case(case: &str) {
    let mut heap = Heap::new(Config::default()).unwrap();
    if case == "provider" {
        heap.add_root_provider(PanickingProvider);
    }
    heap.scope(|s| {
        let node = s
            .alloc(Node {
                value: 42,
                next: Member::null(),
            })
            .unwrap();
        let other = s
            .alloc(PanickingTrace {
                value: 7,
                next: Member::null(),
            })
            .unwrap();
        ARMED.store(true, Ordering::SeqCst);
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s.collect_minor()));
        ARMED.store(false, Ordering::SeqCst);
        // Reaching this line at all is the defect: the heap is half-collected.
        println!(
            "continued after a collection (unwound: {}): node {} other {}",
            unwound.is_err(),
            s.get(node).value,
            s.get(other).value
        );
    });
    std::process::exit(3);
}

fn child(case: &str) -> std::process::Output {
    let exe = std::env::current_exe().unwrap();
    Command::new(exe)
        .args([
            "--exact",
            "child_entry_point",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CASE, case)
        .output()
        .unwrap()
}

/// Not a test of its own: the entry point of the child processes.
#[test]
fn child_entry_point() {
    if let Ok(case) = std::env::var(CASE) {
        run_case(&case);
    }
}

fn assert_aborted(case: &str, culprit: &str) {
    let out = child(case);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("continued after a collection"),
        "{case}: the program went on with a half-collected heap:\n{stdout}\n{stderr}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            out.status.signal(),
            Some(libc_sigabrt()),
            "{case}: expected an abort, got {:?}\n{stderr}",
            out.status
        );
    }
    assert!(
        stderr.contains("pinion: a panic escaped") && stderr.contains(culprit),
        "{case}: the abort explains itself:\n{stderr}"
    );
}

fn libc_sigabrt() -> i32 {
    6
}

#[test]
#[cfg_attr(miri, ignore)] // Miri cannot spawn processes
fn a_panicking_root_provider_aborts_with_a_clear_message() {
    assert_aborted("provider", "RootProvider::trace_roots");
}

#[test]
#[cfg_attr(miri, ignore)] // Miri cannot spawn processes
fn a_panicking_trace_impl_aborts_with_a_clear_message() {
    assert_aborted("trace", "Trace::trace");
}
