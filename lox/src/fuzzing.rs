//! Running untrusted programs: what the `lox` fuzz target and its stable corpus replay do.
//!
//! A program runs on a small heap with a hard limit (so that collections happen often and
//! running out of memory is an ordinary runtime error) and a budget of backward jumps and calls
//! (so that it ends). Whatever the source, the run must end with output or a Lox error; a
//! panic, a crash or a heap the verifier rejects is a bug.

use crate::vm::{Limits, Lox, LoxError};

/// The heap a fuzzed program gets: a 16 KB nursery, a 32 MB limit, and the young verifier
/// after every collection (`DEBUG=2`).
pub fn fuzz_config() -> gc_core::Config {
    gc_core::Config::default()
        .with_nursery_size(16 << 10)
        .with_max_heap(Some(32 << 20))
        .with_debug_level(2)
}

/// Backward jumps and calls a fuzzed program may make.
pub const FUZZ_STEPS: u64 = 20_000;

/// Runs `source` (bytes, read as UTF-8 with replacement) as an untrusted program, then checks
/// the heap with the full verifier. Returns how the run ended.
///
/// # Panics
/// When the verifier finds the heap broken (the VM or the collector has a bug).
///
/// ```
/// let outcome = lox::fuzzing::run_untrusted(b"var a = 1; while (true) a = a + 1;");
/// assert_eq!(outcome, Err(lox::LoxError::Runtime)); // the budget ran out
/// ```
pub fn run_untrusted(source: &[u8]) -> Result<(), LoxError> {
    let source = String::from_utf8_lossy(source);
    let mut lox = Lox::new(fuzz_config()).expect("the fuzzing configuration is valid");
    lox.set_limits(Limits {
        steps: Some(FUZZ_STEPS),
    });
    let result = lox.interpret(&source, &mut std::io::sink(), &mut std::io::sink());
    let report = lox.heap_mut().verify();
    assert!(
        report.violations.is_empty(),
        "the verifier rejects the heap after running {source:?}: {:?}",
        report.violations
    );
    result
}
