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
fn the_verifier_reports_a_barrier_filter_out_of_step() {
    let mut heap = crate::Heap::new(Config::default()).unwrap();
    // While a young large object exists, the filter admits every address.
    heap.scope(|s| {
        s.alloc_bytes_zeroed(crate::LARGE_OBJECT_THRESHOLD).unwrap();
    });
    let inner = &mut heap.inner;
    assert_eq!(inner.young_large.len(), 1);
    assert!(inner.verify().is_ok());
    inner.barrier_filter = crate::store::BarrierFilter::young(&inner.nursery);
    let report = inner.verify();
    assert!(
        report
            .violations
            .iter()
            .any(|v| matches!(v, crate::Violation::BadSideList { problem }
                if problem.contains("barrier filter"))),
        "{report:?}"
    );
    inner.refresh_barrier_filter();
    assert!(inner.verify().is_ok());
    // The minor collection frees the dead large object, and the filter narrows again.
    inner.collect_minor();
    assert!(inner.young_large.is_empty());
    assert_eq!(
        inner.barrier_filter,
        crate::store::BarrierFilter::young(&inner.nursery)
    );
    assert!(inner.verify().is_ok());
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
