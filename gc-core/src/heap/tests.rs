//! Unit tests of the heap's own state (the rest is tested through the public API).

use super::*;

/// Asserts that the verifier reports a side-list problem whose text contains `what`.
fn assert_side_list_problem(heap: &mut HeapInner, what: &str) {
    let report = heap.verify();
    assert!(
        report
            .violations
            .iter()
            .any(|v| matches!(v, crate::Violation::BadSideList { problem }
                if problem.contains(what))),
        "{report:?}"
    );
}

#[test]
fn the_verifier_reports_a_fast_path_switch_out_of_step() {
    let mut heap = HeapInner::new(Config::default()).unwrap();
    assert!(heap.verify().is_ok());
    heap.nursery.set_fast_path(false); // nothing asks for the slow path
    assert_side_list_problem(&mut heap, "fast path");
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
    assert_side_list_problem(inner, "barrier filter");
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
fn the_verifier_reports_a_frozen_object_that_refers_out_of_the_frozen_set_unlisted() {
    let mut heap = crate::Heap::new(Config::default()).unwrap();
    let root = heap.scope(|s| {
        let frozen = s.alloc_array::<crate::GcBytes>(1).unwrap();
        s.freeze();
        let young = s.alloc_bytes(b"thawed").unwrap();
        s.array_set(frozen, 0, Some(young)); // the barrier lists `frozen`
        s.collect_minor(); // `young` is promoted into an arena that is not sealed
        assert!(s.verify().is_ok());
        s.persist(frozen).unwrap()
    });
    let inner = &mut heap.inner;
    let state = inner.mutator.get_mut();
    state.frozen_dirty_set.clear();
    state.frozen_dirty.clear();
    assert_side_list_problem(inner, "is no frozen root");
    drop(root);
}

#[test]
fn the_verifier_reports_a_null_handle_slot() {
    let mut heap = HeapInner::new(Config::default()).unwrap();
    let mark = heap.mutator.get_mut().handles.top();
    heap.mutator.get_mut().handles.push(std::ptr::null_mut());
    let report = heap.verify();
    assert!(
        report.violations.iter().any(
            |v| matches!(v, crate::Violation::DanglingReference { from, to: 0, .. }
                if from == "handle 0")
        ),
        "{report:?}"
    );
    // SAFETY: `mark` was the top, and no handle names the slot above it.
    unsafe { heap.mutator.get_mut().handles.cut_to(mark) };
    assert!(heap.verify().is_ok());
}

#[test]
fn the_verifier_reports_a_handle_block_whose_header_is_not_this_heaps() {
    let mut heap = Heap::new(Config::default()).unwrap();
    let inner = &mut heap.inner;
    let id = u64::from(inner.id.get());
    // Another heap's id: a foreign-handle check would take this heap's handles for its.
    inner.mutator.get_mut().handles.corrupt_header(0, id + 1);
    assert_side_list_problem(inner, "block 0 of the handle stack");
    inner.mutator.get_mut().handles.corrupt_header(0, id);
    assert!(inner.verify().is_ok());
}
