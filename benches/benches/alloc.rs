//! Allocation cost: Pinion against `Box` (the system allocator) and `bumpalo` (an arena, the
//! no-GC floor), in one criterion group per workload so the numbers come from one run; and the
//! handle path (scope enter and exit, handle push, `set` with its projection, `deref`), beside
//! controls that run the same loops on plain Rust references (the loop's own floor).
//!
//! `cargo bench -p benches --bench alloc`

use std::cell::Cell;
use std::hint::black_box;

use benches::{
    box_check, box_tree, bump_check, bump_tree, pinion_check, pinion_tree, Small, Tree, TreeInit,
};
use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use gc_core::{Config, GcArray, Handle, Heap};

const BATCH: u64 = 1_000;

fn alloc_small(c: &mut Criterion) {
    let mut group = c.benchmark_group("alloc_small_1000");
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function("pinion", |b| {
        let mut heap = Heap::new(Config::default()).unwrap();
        heap.scope(|s| {
            b.iter(|| {
                s.scope(|s| {
                    for i in 0..BATCH {
                        black_box(s.alloc(Small { a: i, b: i }).unwrap());
                    }
                })
            })
        });
    });
    group.bench_function("box", |b| {
        b.iter(|| {
            for i in 0..BATCH {
                black_box(Box::new(Small { a: i, b: i }));
            }
        })
    });
    group.bench_function("bumpalo", |b| {
        let mut bump = bumpalo::Bump::new();
        b.iter(|| {
            for i in 0..BATCH {
                black_box(bump.alloc(Small { a: i, b: i }));
            }
            bump.reset();
        })
    });
    group.finish();
}

fn binary_trees(c: &mut Criterion) {
    const DEPTH: u32 = 16;
    let nodes = (1u64 << (DEPTH + 1)) - 1;
    let mut group = c.benchmark_group("binary_trees_16");
    group.sample_size(20);
    group.throughput(Throughput::Elements(nodes));
    group.bench_function(BenchmarkId::new("pinion", DEPTH), |b| {
        let mut heap = Heap::new(Config::default()).unwrap();
        b.iter(|| {
            heap.scope(|s| {
                let t = pinion_tree(s, DEPTH);
                assert_eq!(pinion_check(s, s.get(t)), nodes);
            })
        });
    });
    group.bench_function(BenchmarkId::new("box", DEPTH), |b| {
        b.iter(|| {
            let t = box_tree(DEPTH);
            assert_eq!(box_check(&t), nodes);
        })
    });
    group.bench_function(BenchmarkId::new("bumpalo", DEPTH), |b| {
        let mut bump = bumpalo::Bump::new();
        b.iter(|| {
            {
                let t = bump_tree(&bump, DEPTH);
                assert_eq!(bump_check(t), nodes);
            }
            bump.reset();
        })
    });
    group.finish();
}

/// The handle path: what the safe API costs per access, each figure over batches of 1,000
/// distinct inputs with `black_box` on every input and output (criterion reports the time per
/// batch; divide by 1,000). The objects are old (after a major collection), so `set` runs the
/// barrier's old-object test.
fn handle_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("handle_path_1000");
    group.throughput(Throughput::Elements(BATCH));
    let mut heap = Heap::new(Config::default()).unwrap();
    heap.scope(|s| {
        let nodes: Handle<'_, GcArray<Tree>> = s.alloc_array(BATCH as usize).unwrap();
        for i in 0..BATCH as usize {
            s.scope(|s| {
                let leaf = s
                    .alloc_init(TreeInit {
                        left: None,
                        right: None,
                    })
                    .unwrap();
                s.array_set(nodes, i, Some(leaf));
            });
        }
        s.collect_major();
        group.bench_function("scope_enter_exit", |b| {
            b.iter(|| {
                for i in 0..BATCH {
                    s.scope(|inner| {
                        black_box(i);
                        black_box(&*inner);
                    });
                }
            })
        });
        group.bench_function("handle_push", |b| {
            b.iter(|| {
                s.scope(|s| {
                    for member in s.array(nodes) {
                        black_box(s.root(black_box(member)));
                    }
                })
            })
        });
        group.bench_function("deref", |b| {
            b.iter(|| {
                for member in s.array(nodes) {
                    black_box(s.deref(black_box(member)));
                }
            })
        });
        s.scope(|s| {
            let handles: Vec<Handle<'_, Tree>> = s
                .array(nodes)
                .iter()
                .map(|m| s.root(m).expect("every slot is set"))
                .collect();
            // Each node gets the next one as its left child; the pairs are made outside the
            // timed loop, so that it times the stores (not an index computation).
            let pairs: Vec<(Handle<'_, Tree>, Handle<'_, Tree>)> = handles
                .iter()
                .zip(handles.iter().cycle().skip(1))
                .map(|(&h, &value)| (h, value))
                .collect();
            group.bench_function("set_with_projection", |b| {
                b.iter(|| {
                    for &(h, value) in &pairs {
                        s.set(black_box(h), |t| &t.left, black_box(Some(value)));
                    }
                })
            });
        });
    });
    handle_path_controls(&mut group);
    group.finish();
}

/// A node of the controls: a plain Rust node whose reference field is a cell.
#[derive(Default)]
struct PlainNode<'a> {
    left: Cell<Option<&'a PlainNode<'a>>>,
}

/// The handle path's controls, in the same group: each of push, `deref` and `set` with the
/// library call replaced by the plain Rust it stands for, with no check and no barrier, over the
/// same 1,000 distinct inputs with the same `black_box`es. They time the floor the loop itself
/// sets on this machine, which no handle representation can go under:
/// - `control_deref`: following a reference stored in a slice (a member's load);
/// - `control_push`: `Vec::push` of that reference onto a stack whose length lives in memory,
///   as the handle stack's top does (its address has escaped through `black_box`), with
///   capacity reserved (its test stands for the block-full test);
/// - `control_set`: a store through two slots holding references (a handle is a slot), into
///   a node's cell.
fn handle_path_controls(group: &mut BenchmarkGroup<'_, WallTime>) {
    let nodes: Vec<PlainNode<'_>> = (0..BATCH).map(|_| PlainNode::default()).collect();
    let members: Vec<&PlainNode<'_>> = nodes.iter().collect();
    group.bench_function("control_deref", |b| {
        b.iter(|| {
            for member in &members {
                black_box(*black_box(member));
            }
        })
    });
    let mut stack: Vec<&PlainNode<'_>> = Vec::with_capacity(members.len());
    group.bench_function("control_push", |b| {
        b.iter(|| {
            let stack = black_box(&mut stack);
            stack.clear();
            for member in &members {
                stack.push(*black_box(member));
                black_box(stack.last());
            }
        })
    });
    let slots: Vec<Cell<&PlainNode<'_>>> = members.iter().map(|&m| Cell::new(m)).collect();
    let pairs: Vec<(&Cell<&PlainNode<'_>>, &Cell<&PlainNode<'_>>)> =
        slots.iter().zip(slots.iter().cycle().skip(1)).collect();
    group.bench_function("control_set", |b| {
        b.iter(|| {
            for &(h, value) in &pairs {
                let (h, value) = (black_box(h), black_box(Some(value)));
                h.get().left.set(value.map(Cell::get));
            }
        })
    });
}

criterion_group!(benches, alloc_small, binary_trees, handle_path);
criterion_main!(benches);
