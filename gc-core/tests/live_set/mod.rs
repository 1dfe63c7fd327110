//! Heaps of plain nodes for the memory tests (`sizing`, `resident_memory`): garbage that dies at
//! once, and a live set of arrays of nodes kept by a persistent root.

use gc_core::{GcArray, Heap, Member, Persistent, Trace};

/// A node of the live sets and the garbage: 24 bytes with its header.
#[derive(Trace)]
pub struct Node {
    pub value: u64,
    pub next: Member<Node>,
}

/// Allocates `count` nodes that die at once.
pub fn garbage(heap: &mut Heap, count: usize) {
    heap.scope(|s| {
        for i in 0..count {
            s.scope(|s| {
                s.alloc(Node {
                    value: i as u64,
                    next: Member::null(),
                })
                .unwrap();
            });
        }
    });
}

/// Builds a live set of `arrays` arrays of `len` nodes, kept while the returned root lives.
pub fn live_set(heap: &mut Heap, arrays: usize, len: usize) -> Persistent<GcArray<GcArray<Node>>> {
    heap.scope(|s| {
        let tables = s.alloc_array::<GcArray<Node>>(arrays).unwrap();
        for t in 0..arrays {
            s.scope(|s| {
                let table = s.alloc_array::<Node>(len).unwrap();
                s.array_set(tables, t, Some(table));
                for i in 0..len {
                    s.scope(|s| {
                        let n = s
                            .alloc(Node {
                                value: i as u64,
                                next: Member::null(),
                            })
                            .unwrap();
                        s.array_set(table, i, Some(n));
                    });
                }
            });
        }
        s.persist(tables).unwrap()
    })
}
