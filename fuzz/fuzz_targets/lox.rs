//! Arbitrary bytes -> Lox source -> the Lox VM on a small, limited heap with a budget of
//! backward jumps and calls. Any input must end with output or a Lox error: never a panic, a
//! crash, or a heap the verifier rejects. The seed corpus is the Crafting Interpreters test
//! suite and the programs of `lox/bench/`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = lox::fuzzing::run_untrusted(data);
});
