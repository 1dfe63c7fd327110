//! The young verifier: the checks whose cost is proportional to the young generation, the
//! remembered set and the roots, for running after every minor collection (`DEBUG=2`).
//!
//! The full verifier walks every object of the heap, so running it after every minor collection
//! makes a program with a large old generation quadratic (under `STRESS=1`, a collection per
//! allocation, a Lisp example of 200 iterations would have taken three hours). This one checks
//! what a minor collection can break:
//!
//! - every root (handles, root providers, persistent roots, pins, frozen roots) refers to the
//!   start of a live object of this heap, and every persistent root to a young object is listed
//!   for the minor collection;
//! - every young object (nursery objects, young large objects) has a valid header and
//!   consistent flags, and its references point to live objects;
//! - every remembered object is an old object without `TRACK_YOUNG` or `LOG_STORES` (it is in
//!   the store log), and its references point to live objects;
//! - the side lists of young objects (`young_drop`, `young_large`) agree with the headers;
//! - the heap limit holds.
//!
//! What it cannot see without walking the old generation (an old object that points to a young
//! one but is not remembered, free-list bookkeeping, every reachable object) is left to the full
//! verifier, which `DEBUG=2` still runs after every major collection and `DEBUG=3` after every
//! collection.

use std::collections::HashSet;

use super::{Checker, Collect, Space, VerifyReport, Violation};
use crate::heap::HeapInner;
use crate::object::{HeaderFlags, ObjPtr};
use crate::trace::Tracer;

impl HeapInner {
    /// Runs the young verifier (see the module comment).
    pub(crate) fn verify_young(&mut self) -> VerifyReport {
        let mut roots = self.gather_roots();
        let heap: &HeapInner = self;
        roots.extend(
            heap.pins
                .counts()
                .keys()
                .map(|&addr| ("pin".to_string(), addr)),
        );
        roots.extend(
            heap.mutator()
                .frozen_dirty
                .iter()
                .map(|o| ("frozen root".to_string(), o.addr())),
        );
        let mut checker = Checker {
            heap,
            nursery_objects: HashSet::new(),
            young_large: heap.young_large.iter().map(|o| o.addr()).collect(),
            bad: HashSet::new(),
            report: VerifyReport::default(),
        };
        checker.check_handle_blocks();
        // SAFETY: outside a minor collection no nursery object is forwarded.
        let (nursery_objects, corrupt) = unsafe { heap.nursery.objects() };
        for at in corrupt {
            checker.report.push(Violation::BadHeader {
                at,
                problem: "corrupt header in the nursery (the walk stops here)".into(),
            });
        }
        checker.nursery_objects = nursery_objects.iter().map(|o| o.addr()).collect();

        // Young objects: headers and side lists.
        let drops: HashSet<usize> = heap.young_drop.iter().map(|o| o.addr()).collect();
        let mut scanned: Vec<ObjPtr> = Vec::new();
        for &obj in &nursery_objects {
            checker.check_header(obj, &Space::Nursery);
            // SAFETY: obj is an allocated nursery object.
            let needs = unsafe { obj.flags() }.contains(HeaderFlags::NEEDS_DROP);
            if needs != drops.contains(&obj.addr()) {
                checker.report.push(Violation::BadSideList {
                    problem: format!("young_drop disagrees with NEEDS_DROP at {:#x}", obj.addr()),
                });
            }
            scanned.push(obj);
        }
        if drops.iter().any(|a| !checker.nursery_objects.contains(a)) {
            checker.report.push(Violation::BadSideList {
                problem: "young_drop lists an address that is no nursery object".into(),
            });
        }
        for &obj in &heap.young_large {
            if !heap.large.contains(obj.addr()) {
                checker.report.push(Violation::BadSideList {
                    problem: format!("young_large lists {:#x}, no large object", obj.addr()),
                });
                continue;
            }
            checker.check_header(obj, &Space::Large);
            // SAFETY: obj is a live large object.
            if !unsafe { obj.flags() }.contains(HeaderFlags::YOUNG_LARGE) {
                checker.report.push(Violation::BadSideList {
                    problem: format!(
                        "young_large disagrees with YOUNG_LARGE at {:#x}",
                        obj.addr()
                    ),
                });
            }
            scanned.push(obj);
        }
        // Remembered objects: old, without TRACK_YOUNG, and logged (without LOG_STORES).
        for &obj in &heap.mutator().remembered {
            match checker.classify(obj.addr()) {
                Ok(Space::Nursery) | Err(_) => {
                    checker.report.push(Violation::BadSideList {
                        problem: format!("remembered entry {:#x} is no old object", obj.addr()),
                    });
                    continue;
                }
                Ok(space) => checker.check_header(obj, &space),
            }
            // SAFETY: obj is an allocated old or large object.
            let flags = unsafe { obj.flags() };
            if flags.intersects(
                HeaderFlags::TRACK_YOUNG | HeaderFlags::YOUNG_LARGE | HeaderFlags::LOG_STORES,
            ) {
                checker.report.push(Violation::BadSideList {
                    problem: format!("remembered entry {:#x} has flags {flags:?}", obj.addr()),
                });
            }
            scanned.push(obj);
        }
        checker.report.objects = scanned.len();

        // Roots and the references of the scanned objects.
        for (name, addr) in roots {
            checker.report.roots += 1;
            if let Err(what) = checker.classify(addr) {
                checker.report.push(Violation::DanglingReference {
                    from: name,
                    to: addr,
                    what,
                });
            }
        }
        let mut children = Vec::new();
        for obj in scanned {
            if checker.bad.contains(&obj.addr()) {
                continue; // reported: its descriptor cannot be trusted
            }
            children.clear();
            // SAFETY: obj is a live, unforwarded object; Collect only reads slots.
            unsafe { obj.trace(&mut Tracer::new(&mut Collect { out: &mut children })) };
            for &child in &children {
                checker.report.references += 1;
                if let Err(what) = checker.classify(child) {
                    checker.report.push(Violation::DanglingReference {
                        from: format!("field of {:#x}", obj.addr()),
                        to: child,
                        what,
                    });
                }
            }
        }
        heap.check_persistent_young(&mut checker.report, |a| {
            heap.nursery.contains(a) || checker.young_large.contains(&a)
        });
        if let Some(limit) = heap.config.max_heap() {
            let footprint = heap.footprint();
            if footprint > limit {
                checker
                    .report
                    .push(Violation::HeapLimitExceeded { footprint, limit });
            }
        }
        checker.report
    }
}
