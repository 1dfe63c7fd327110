//! Helpers shared by the integration tests.

/// A proptest configuration with `cases` cases (two under Miri, which is slow), and no failure
/// persistence under Miri, whose isolation forbids the file access it needs.
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
