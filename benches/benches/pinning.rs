//! The cost of pinning: one pin plus unpin, and an allocation-heavy loop with 1% of its
//! objects pinned against none, in one criterion group each.
//!
//! `cargo bench -p benches --bench pinning`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gc_core::{Config, Heap};

fn pin_unpin(c: &mut Criterion) {
    let mut group = c.benchmark_group("pin_unpin");
    group.bench_function("young byte string", |b| {
        let mut heap = Heap::new(Config::default()).unwrap();
        heap.scope(|s| {
            let buf = s.alloc_bytes(&[0; 64]).unwrap();
            b.iter(|| {
                let pin = s.pin(buf).unwrap();
                black_box(pin.as_ptr());
                s.unpin(pin).unwrap();
            })
        });
    });
    group.bench_function("guard dropped", |b| {
        let mut heap = Heap::new(Config::default()).unwrap();
        heap.scope(|s| {
            let buf = s.alloc_bytes(&[0; 64]).unwrap();
            b.iter(|| black_box(s.pin(buf).unwrap().as_ptr()))
        });
    });
    group.finish();
}

/// Allocates 10,000 byte strings of 64 bytes, keeping each alive briefly, and pins every
/// `pin_every`-th one for the next 100 allocations.
fn churn(heap: &mut Heap, pin_every: usize) {
    heap.scope(|s| {
        let mut pins = std::collections::VecDeque::new();
        for i in 0..10_000 {
            s.scope(|s| {
                let buf = s.alloc_bytes(&[i as u8; 64]).unwrap();
                if pin_every != 0 && i % pin_every == 0 {
                    pins.push_back(s.pin(buf).unwrap());
                }
            });
            if pins.len() > 1 && i % 100 == 0 {
                pins.pop_front();
            }
        }
    });
}

fn allocation_with_pins(c: &mut Criterion) {
    let mut group = c.benchmark_group("alloc_10000_bytes64");
    group.throughput(Throughput::Elements(10_000));
    for (name, every) in [("none pinned", 0), ("1% pinned", 100)] {
        group.bench_function(name, |b| {
            let mut heap = Heap::new(Config::default().with_nursery_size(256 * 1024)).unwrap();
            b.iter(|| churn(&mut heap, every));
        });
    }
    group.finish();
}

criterion_group!(benches, pin_unpin, allocation_with_pins);
criterion_main!(benches);
