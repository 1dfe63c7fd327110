//! The verifier's checks of what sticky major collections rely on (`collect/major.rs`): the
//! store log and the kept marks.
//!
//! - the store log lists each of its objects once, and they are exactly the old objects without
//!   `LOG_STORES`; every remembered object is among them;
//! - while the heap keeps its marks, an old object whose mark bit is set (kept by the last major
//!   collection that kept its survivors) and that refers to an unmarked old object or a young
//!   one is in the log: the next sticky collection would otherwise free or miss that referent;
//! - while the heap keeps its marks, the marked objects' bytes are `kept_bytes`, from which the
//!   next sticky collection counts its fresh bytes (a mark left on a sticky collection's
//!   survivor, or one lost, shows here).
//!
//! The second check walks every kept object, reachable or not: a sticky collection keeps an
//! unreachable kept object, and what it refers to must stay valid.

use std::collections::HashSet;

use super::{Checker, Collect, Space, Violation};
use crate::object::{HeaderFlags, ObjPtr};
use crate::trace::Tracer;

impl Checker<'_> {
    /// Checks the store log and the kept marks (the module comment) over `all`, every
    /// allocated object.
    pub(super) fn check_store_log(&mut self, all: &[(ObjPtr, Space)]) {
        let heap = self.heap;
        let log = &heap.mutator().store_log;
        let logged: HashSet<usize> = log.iter().map(|o| o.addr()).collect();
        if logged.len() != log.len() {
            self.report.push(Violation::BadSideList {
                problem: "the store log lists an object twice".into(),
            });
        }
        let mut unlogged_old = HashSet::new();
        for (obj, space) in all {
            // SAFETY: obj is an allocated object of this heap.
            let flags = unsafe { obj.flags() };
            let old = !matches!(space, Space::Nursery) && !flags.contains(HeaderFlags::YOUNG_LARGE);
            if old && !flags.contains(HeaderFlags::LOG_STORES) {
                unlogged_old.insert(obj.addr());
            }
        }
        if unlogged_old != logged {
            let missing: Vec<_> = unlogged_old.difference(&logged).take(4).collect();
            let extra: Vec<_> = logged.difference(&unlogged_old).take(4).collect();
            self.report.push(Violation::BadSideList {
                problem: format!(
                    "old objects without LOG_STORES not in the store log: {missing:x?}; store log \
                     entries that are not old objects without LOG_STORES: {extra:x?}"
                ),
            });
        }
        let unlogged_remembered: Vec<usize> = heap
            .mutator()
            .remembered
            .iter()
            .map(|o| o.addr())
            .filter(|a| !logged.contains(a))
            .take(4)
            .collect();
        if !unlogged_remembered.is_empty() {
            self.report.push(Violation::BadSideList {
                problem: format!(
                    "remembered objects not in the store log: {unlogged_remembered:x?}"
                ),
            });
        }
        if heap.marks_kept {
            self.check_kept_marks(all, &logged);
            let marked = heap.old.marked_bytes() + heap.large.marked_bytes();
            if marked != heap.kept_bytes {
                self.report.push(Violation::BadSideList {
                    problem: format!(
                        "the marked objects hold {marked} bytes, the kept bytes say {}",
                        heap.kept_bytes
                    ),
                });
            }
        }
    }

    /// Every kept object outside the log refers only to kept objects.
    fn check_kept_marks(&mut self, all: &[(ObjPtr, Space)], logged: &HashSet<usize>) {
        let heap = self.heap;
        let kept = |addr: usize| heap.large.survives_at(addr) || heap.old.survives_at(addr, false);
        let mut children = Vec::new();
        for (obj, space) in all {
            let addr = obj.addr();
            if matches!(space, Space::Nursery)
                || self.bad.contains(&addr)
                || logged.contains(&addr)
                || !kept(addr)
            {
                continue;
            }
            children.clear();
            // SAFETY: obj is a live, unforwarded object with a valid header; Collect only
            // reads its slots.
            unsafe { obj.trace(&mut Tracer::new(&mut Collect { out: &mut children })) };
            for &child in &children {
                if child == 0 || self.classify(child).is_err() {
                    continue; // null, or a dangling reference reported elsewhere
                }
                if self.is_young(child) || !kept(child) {
                    self.report.push(Violation::MissingLogEntry {
                        kept: addr,
                        fresh: child,
                    });
                }
            }
        }
    }
}
