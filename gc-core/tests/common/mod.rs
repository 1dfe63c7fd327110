//! Helpers shared by the integration tests.

/// A proptest configuration with `cases` cases (two under Miri, which is slow), and no failure
/// persistence under Miri, whose isolation forbids the file access it needs.
#[allow(dead_code)] // not every test file that shares this module uses it
pub fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    let default = proptest::test_runner::Config::default();
    proptest::test_runner::Config {
        cases: if cfg!(miri) { 2 } else { cases },
        failure_persistence: if cfg!(miri) {
            None
        } else {
            default.failure_persistence.clone()
        },
        ..default
    }
}

/// A heap that checks itself as it goes: a 16 KB nursery (small tests collect often), the
/// verifier after every collection, and the nursery's freed memory poisoned.
#[allow(dead_code)] // not every test file that shares this module uses it
pub fn verified() -> gc_core::Heap {
    gc_core::Heap::new(
        gc_core::Config::default()
            .with_nursery_size(16 << 10)
            .with_debug_level(2)
            .with_nursery_debug(true),
    )
    .unwrap()
}
