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

#[test]
fn the_verifier_reports_a_null_handle_slot() {
    let mut heap = HeapInner::new(Config::default()).unwrap();
    heap.mutator.get_mut().handles.push(std::ptr::null_mut());
    let report = heap.verify();
    assert!(
        report.violations.iter().any(
            |v| matches!(v, crate::Violation::DanglingReference { from, to: 0, .. }
                if from == "handle 0")
        ),
        "{report:?}"
    );
    heap.mutator.get_mut().handles.clear();
    assert!(heap.verify().is_ok());
}
