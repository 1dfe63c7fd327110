//! Arbitrary bytes -> heap settings and a mutator program (`gc_stress::fuzzing::decode`), run
//! against the model with a check after every operation. Any failure is a crash.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (settings, ops) = gc_stress::fuzzing::decode(data);
    let (_, result) = gc_stress::execute(&ops, &settings, gc_stress::VerifyMode::EveryOp);
    if let Err(failure) = result {
        panic!("op {}: {}", failure.op_index, failure.message);
    }
});
