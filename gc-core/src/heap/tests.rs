//! Unit tests of the heap's own state (the rest is tested through the public API).

use super::*;

#[test]
fn the_verifier_reports_a_fast_path_switch_out_of_step() {
    let mut heap = HeapInner::new(Config::default()).unwrap();
    assert!(heap.verify().is_ok());
    heap.alloc_fast_off = true; // nothing asks for the slow path
    let report = heap.verify();
    assert!(
        report
            .violations
            .iter()
            .any(|v| matches!(v, crate::Violation::BadSideList { problem }
                if problem.contains("fast path"))),
        "{report:?}"
    );
    heap.sync_alloc_fast();
    assert!(heap.verify().is_ok());
}
