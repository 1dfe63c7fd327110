//! Collector micro-benchmarks: the write-barrier fast paths, one minor collection of a 4 MB
//! nursery at 0%, 10% and 50% survival, major-collection throughput over live data (with the
//! measured bytes of overhead per object printed beside it; a live tree, a live list and a
//! search tree reached in random order), and a minor collection with no survivors beside a
//! million persistent roots to old objects.
//!
//! `cargo bench -p benches --bench collector`

use std::hint::black_box;
use std::time::{Duration, Instant};

use benches::{
    heap_with_persistent_roots, pinion_list, pinion_tree, time_minor_of_garbage, Small, Tree,
};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gc_core::{Config, Heap, Member, Trace};

const NURSERY: usize = 4 << 20;

fn write_barrier(c: &mut Criterion) {
    let mut group = c.benchmark_group("write_barrier");
    let mut heap = Heap::new(Config::default()).unwrap();
    heap.scope(|s| {
        let node = || Tree {
            left: Member::null(),
            right: Member::null(),
        };
        let old = s.alloc(node()).unwrap();
        let old2 = s.alloc(node()).unwrap();
        s.collect_minor(); // promotes both
        let young = s.alloc(node()).unwrap();
        let young2 = s.alloc(node()).unwrap();
        // The first store remembers `old`; every store measured takes the fast path.
        group.bench_function("old_to_young_already_remembered", |b| {
            b.iter(|| s.set(black_box(old), |t| &t.left, Some(young)))
        });
        group.bench_function("old_to_old", |b| {
            b.iter(|| s.set(black_box(old), |t| &t.right, Some(old2)))
        });
        group.bench_function("young_to_young", |b| {
            b.iter(|| s.set(black_box(young), |t| &t.left, Some(young2)))
        });
        group.bench_function("store_null", |b| {
            b.iter(|| s.set(black_box(old), |t| &t.right, None))
        });
    });
    group.finish();
}

fn minor_collection(c: &mut Criterion) {
    let mut group = c.benchmark_group("minor_collection_4mb");
    // Fill 90% of the nursery with 24-byte objects (16 B payload, 8 B header).
    let objects = (NURSERY * 9 / 10 / 24) as u64;
    group.throughput(Throughput::Bytes(objects * 24));
    for survival in [0u64, 10, 50] {
        group.bench_with_input(
            BenchmarkId::new("survival_percent", survival),
            &survival,
            |b, &survival| {
                let mut heap = Heap::new(Config::default().with_nursery_size(NURSERY)).unwrap();
                b.iter_custom(|iters| {
                    let mut timed = Duration::ZERO;
                    heap.scope(|s| {
                        for _ in 0..iters {
                            s.scope(|s| {
                                // Untimed: empty the nursery and the old generation.
                                s.collect_major();
                                let before = s.collection_count();
                                for i in 0..objects {
                                    if i % 100 < survival {
                                        s.alloc(Small { a: i, b: i }).unwrap(); // stays rooted
                                    } else {
                                        s.scope(|t| {
                                            t.alloc(Small { a: i, b: i }).unwrap();
                                        });
                                    }
                                }
                                assert_eq!(s.collection_count(), before, "the fill collected");
                                let start = Instant::now();
                                s.collect_minor();
                                timed += start.elapsed();
                            });
                        }
                    });
                    timed
                });
            },
        );
    }
    group.finish();
}

fn major_collection(c: &mut Criterion) {
    const DEPTH: u32 = 19;
    let nodes = (1u64 << (DEPTH + 1)) - 1;
    let mut group = c.benchmark_group("major_collection_live_tree");
    group.sample_size(20);
    let mut heap = Heap::new(Config::default()).unwrap();
    heap.scope(|s| {
        let base = s.stats().committed_bytes;
        let tree = pinion_tree(s, DEPTH);
        s.collect_major();
        let stats = s.stats();
        let payload = nodes * std::mem::size_of::<Tree>() as u64;
        let footprint = (stats.old_bytes as u64).max(payload);
        eprintln!(
            "major_collection_live_tree: {nodes} objects of {} B payload; old generation {} B \
             ({:.2} B per object beyond the payload); committed {} B more than an empty heap",
            std::mem::size_of::<Tree>(),
            stats.old_bytes,
            (footprint - payload) as f64 / nodes as f64,
            stats.committed_bytes.saturating_sub(base),
        );
        group.throughput(Throughput::Bytes(stats.old_bytes as u64));
        group.bench_function(BenchmarkId::new("depth", DEPTH), |b| {
            b.iter(|| s.collect_major())
        });
        black_box(s.get(tree));
    });
    group.finish();
    major_collection_live_list(c);
    major_collection_random_tree(c);
}

/// A major collection of a live 4-million-node list built by pushing at the head: the marker's
/// worst case for overlap (each object is found only through the one before it), and the case
/// the mark cursor serves (neighbours were promoted together).
fn major_collection_live_list(c: &mut Criterion) {
    const NODES: u64 = 4_000_000;
    let mut group = c.benchmark_group("major_collection_live_list");
    group.sample_size(20);
    let mut heap = Heap::new(Config::default()).unwrap();
    heap.scope(|s| {
        let head = pinion_list(s, NODES);
        s.collect_major();
        group.throughput(Throughput::Elements(NODES));
        group.bench_function(BenchmarkId::new("nodes", NODES), |b| {
            b.iter(|| s.collect_major())
        });
        black_box(s.get(head));
    });
    group.finish();
}

/// A major collection of a live binary search tree of 1 million random keys, inserted one at a
/// time: its nodes were promoted in insertion order, so marking reaches them in an order
/// unrelated to their addresses (the case of most real heaps, and of splay), where marking
/// waits on memory unless it prefetches.
fn major_collection_random_tree(c: &mut Criterion) {
    const NODES: u64 = 1_000_000;
    let mut group = c.benchmark_group("major_collection_random_tree");
    group.sample_size(20);
    let mut heap = Heap::new(Config::default()).unwrap();
    heap.scope(|s| {
        let root = s
            .alloc_init(SearchNodeInit {
                key: u64::MAX / 2,
                left: None,
                right: None,
            })
            .unwrap();
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 1..NODES {
            // xorshift64: a fixed sequence, the same tree in every run.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let key = x;
            s.scope(|s| {
                let cursor = s.dup(root);
                loop {
                    let node = s.get(cursor);
                    let go_left = key < node.key;
                    let next = if go_left { &node.left } else { &node.right };
                    if s.rebind_to(cursor, next) {
                        continue;
                    }
                    let leaf = s
                        .alloc_init(SearchNodeInit {
                            key,
                            left: None,
                            right: None,
                        })
                        .unwrap();
                    if go_left {
                        s.set(cursor, |n| &n.left, Some(leaf));
                    } else {
                        s.set(cursor, |n| &n.right, Some(leaf));
                    }
                    break;
                }
            });
        }
        s.collect_major();
        group.throughput(Throughput::Elements(NODES));
        group.bench_function(BenchmarkId::new("nodes", NODES), |b| {
            b.iter(|| s.collect_major())
        });
        black_box(s.get(root));
    });
    group.finish();
}

/// A search tree node.
#[derive(Trace)]
struct SearchNode {
    key: u64,
    left: Member<SearchNode>,
    right: Member<SearchNode>,
}

/// A minor collection with no survivors (a nursery of garbage), with no persistent roots and
/// with a million persistent roots to old objects: the minor collection visits only the roots
/// that may point to young objects, so the second costs (almost) what the first does.
fn minor_with_persistent_roots(c: &mut Criterion) {
    let mut group = c.benchmark_group("minor_no_survivors_persistent_roots");
    for roots in [0u64, 1_000_000] {
        let (mut heap, kept) = heap_with_persistent_roots(roots);
        group.bench_with_input(BenchmarkId::new("roots", roots), &roots, |b, _| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                heap.scope(|s| {
                    for _ in 0..iters {
                        timed += time_minor_of_garbage(s);
                    }
                });
                timed
            });
        });
        black_box(kept.len());
    }
    group.finish();
}

criterion_group!(
    benches,
    write_barrier,
    minor_collection,
    major_collection,
    minor_with_persistent_roots
);
criterion_main!(benches);
