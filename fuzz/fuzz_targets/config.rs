//! Arbitrary text -> `PINION_GC_*` variables (one `NAME=VALUE` per line) -> the configuration
//! parser. It must never panic, and a configuration it accepts must read back unchanged from
//! its own `env_pairs`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = gc_core::parse_size(text);
    let _ = gc_core::parse_factor(text);
    gc_stress::fuzzing::check_config_text(text);
});
