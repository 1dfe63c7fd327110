//! Property: after any sequence of mutations and collections, the heap graph reachable from
//! the handles matches a plain model, and the verifier finds nothing wrong.

mod common;

use gc_core::{Config, GcArray, Heap, Member, Trace};
use proptest::prelude::*;

#[derive(Trace)]
struct Obj {
    id: u64,
    slots: [Member<Obj>; 2],
    items: Member<GcArray<Obj>>,
}

#[derive(Clone, Debug)]
enum Op {
    Alloc,
    Link {
        from: usize,
        slot: usize,
        to: Option<usize>,
    },
    DropRoot(usize),
    Minor,
    Major,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Alloc),
        4 => (0..64usize, 0..2usize, proptest::option::of(0..64usize))
            .prop_map(|(from, slot, to)| Op::Link { from, slot, to }),
        2 => (0..64usize).prop_map(Op::DropRoot),
        1 => Just(Op::Minor),
        1 => Just(Op::Major),
    ]
}

proptest! {
    #![proptest_config(common::proptest_config(64))]

    #[test]
    fn heap_matches_model(ops in proptest::collection::vec(op(), 1..200), nursery in 1usize..8) {
        let mut heap = Heap::new(Config::default().with_nursery_size(nursery * 512).with_debug_level(2)).unwrap();
        heap.scope(|s| {
            // Model: object id -> its two slots (ids); roots are the live handles.
            let mut model: Vec<[Option<u64>; 2]> = Vec::new();
            let mut roots = Vec::new();
            for op in ops {
                match op {
                    Op::Alloc => {
                        let id = model.len() as u64;
                        model.push([None, None]);
                        let h = s.alloc(Obj { id, slots: [Member::null(), Member::null()], items: Member::null() }).unwrap();
                        roots.push(h);
                    }
                    Op::Link { from, slot, to } if !roots.is_empty() => {
                        let from_h = roots[from % roots.len()];
                        let to_h = to.map(|t| roots[t % roots.len()]);
                        let from_id = s.get(from_h).id as usize;
                        model[from_id][slot] = to_h.map(|t| s.get(t).id);
                        s.set(from_h, |o| &o.slots[slot], to_h);
                    }
                    Op::DropRoot(i) if !roots.is_empty() => {
                        roots.swap_remove(i % roots.len());
                    }
                    Op::Minor => s.collect_minor(),
                    Op::Major => s.collect_major(),
                    _ => {}
                }
            }
            s.collect_major();
            // Walk every root and compare every reachable edge with the model.
            let mut seen = std::collections::HashSet::new();
            let mut stack: Vec<&Obj> = roots.iter().map(|&h| s.get(h)).collect();
            while let Some(o) = stack.pop() {
                if !seen.insert(o.id) { continue; }
                for (member, expected) in o.slots.iter().zip(model[o.id as usize]) {
                    let got = s.deref(member);
                    prop_assert_eq!(got.map(|x| x.id), expected);
                    stack.extend(got);
                }
            }
            let report = s.verify();
            prop_assert!(report.is_ok(), "{}", report);
            Ok(())
        })?;
    }
}
