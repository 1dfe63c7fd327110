//! Loom models of the sequence lock behind `Heap::stats_reader`: a reader on another thread
//! never sees a torn snapshot, whatever the interleaving and whatever the memory model lets a
//! relaxed load return. Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p gc-hooks --test loom --release --target-dir target/loom`.
//!
//! The models run the shipped `SeqLock` code with 2 words instead of the statistics' 11: loom
//! branches on every relaxed load, and the algorithm does not depend on the width.

#![cfg(loom)]

use gc_hooks::SeqLock;
use loom::sync::Arc;

#[test]
fn a_reader_concurrent_with_a_write_sees_before_or_after() {
    loom::model(|| {
        let lock = Arc::new(SeqLock::<2>::default());
        let reader = lock.clone();
        let t = loom::thread::spawn(move || {
            let v = reader.read();
            assert!(v == [0, 0] || v == [1, 1], "torn: {v:?}");
        });
        lock.write([1, 1]);
        t.join().unwrap();
    });
}

#[test]
fn a_reader_concurrent_with_two_writes_sees_one_whole_write() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(|| {
        let lock = Arc::new(SeqLock::<2>::default());
        let reader = lock.clone();
        let t = loom::thread::spawn(move || {
            let v = reader.read();
            assert!(v == [0, 0] || v == [1, 1] || v == [2, 2], "torn: {v:?}");
        });
        lock.write([1, 1]);
        lock.write([2, 2]);
        t.join().unwrap();
    });
}
