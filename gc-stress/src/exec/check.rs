//! The checks: after every operation that collected (or every operation), the heap is compared
//! with the model, the drop ledger and the pins are checked, and the verifier runs.

use std::collections::HashMap;

use gc_core::Scope;

use super::inline::compare_elem;
use super::{raw_handle, resolve, slots, Executor, Failure, HeapRef, VerifyMode, View};
use crate::objects::{big_data, AnyHandle, DropLedger};

impl Executor<'_> {
    pub(super) fn after_op(
        &mut self,
        s: &mut Scope<'_>,
        view: &View<'_>,
        at: usize,
    ) -> Result<(), Failure> {
        let epoch = s.collection_count();
        if epoch != self.epoch || self.verify == VerifyMode::EveryOp {
            self.epoch = epoch;
            // Only a full major collection reclaims every dead object: a sticky one keeps what
            // the previous one found live (`gc-core`'s `collect/major.rs`), so after one alone
            // a dead object may stay, its weak references uncleared and its drop glue unrun.
            let stats = s.stats();
            let full_majors = stats.major_collections - stats.sticky_major_collections;
            let after_full_major = full_majors != self.majors;
            self.majors = full_majors;
            self.check(s, view, at, after_full_major)?;
        }
        Ok(())
    }

    /// Compares the heap with the model, checks the drop ledger, runs the verifier.
    pub(super) fn check(
        &mut self,
        s: &mut Scope<'_>,
        view: &View<'_>,
        at: usize,
        after_major: bool,
    ) -> Result<(), Failure> {
        self.wait_c(at)?;
        self.stats.verified += 1;
        let report = s.verify();
        if !report.is_ok() {
            return Err(self.fail(at, format!("heap verifier: {report}")));
        }
        // Pins whose guards were dropped end now, so the heap's pins can match the model's.
        s.release_dropped_pins();
        // Pinned objects are roots too; their handles live in a scope of their own.
        s.scope(|t| self.compare(t, view, at, after_major))
    }

    /// The model ids reachable from every root: the view, the levels' sentinels and the pins.
    pub(super) fn live_ids(&self, view: &View<'_>) -> std::collections::HashSet<u64> {
        let roots = view
            .iter()
            .map(|&(id, _)| id)
            .chain(self.held.iter().flatten().copied())
            .chain(self.pins.iter().map(|(id, _, _)| *id))
            .chain(self.persistents.iter().map(|(id, _)| *id))
            .chain(self.frozen.iter().copied());
        self.model.reachable(roots)
    }

    /// Identity hashes of the roots never change, and live objects' hashes are distinct.
    fn check_hashes(
        &mut self,
        s: &mut Scope<'_>,
        view: &View<'_>,
        at: usize,
    ) -> Result<(), Failure> {
        for &(id, h) in view {
            if let Some(&first) = self.hashes.get(&id) {
                let now = h.identity_hash(s);
                if now != first {
                    return Err(self.fail(
                        at,
                        format!("object {id}: identity hash changed from {first:#x} to {now:#x}"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn compare(
        &mut self,
        s: &mut Scope<'_>,
        view: &View<'_>,
        at: usize,
        after_major: bool,
    ) -> Result<(), Failure> {
        self.check_hashes(s, view, at)?;
        let pinned: Vec<(u64, AnyHandle<'_>, usize)> = self
            .pins
            .iter()
            .map(|(id, kind, guard)| {
                // SAFETY: a live guard keeps its object alive and in place, and the model
                // records the object's kind, so the handle has the object's true type.
                let h = unsafe { raw_handle(s, guard.object(), *kind) };
                (*id, h, guard.as_ptr() as usize)
            })
            .collect();
        let mut persistent = Vec::new();
        for (id, p) in &self.persistents {
            match p.read(s) {
                Ok(h) => persistent.push((*id, h)),
                Err(e) => return Err(self.fail(at, format!("persistent root {id}: {e}"))),
            }
        }
        let s: &Scope<'_> = s;
        for &(id, h) in view {
            let by_model = self.pins.iter().any(|(pid, ..)| *pid == id);
            let in_heap = crate::with_handle!(h, h => s.is_pinned(h));
            if by_model != in_heap {
                return Err(self.fail(
                    at,
                    format!("object {id}: pinned in the heap: {in_heap}, by the model: {by_model}"),
                ));
            }
        }
        for &(id, h, data) in &pinned {
            let now = resolve(s, h).addr();
            if now != data {
                return Err(self.fail(
                    at,
                    format!("pinned object {id} moved from {data:#x} to {now:#x}"),
                ));
            }
        }
        let mut addr_of: HashMap<u64, usize> = HashMap::new();
        let mut id_of: HashMap<usize, u64> = HashMap::new();
        let mut stack: Vec<(u64, HeapRef<'_>)> = view
            .iter()
            .map(|&(id, h)| (id, resolve(s, h)))
            .chain(pinned.iter().map(|&(id, h, _)| (id, resolve(s, h))))
            .chain(persistent.iter().map(|&(id, h)| (id, resolve(s, h))))
            .collect();
        while let Some((id, r)) = stack.pop() {
            let addr = r.addr();
            if let Some(&known) = addr_of.get(&id) {
                if known != addr {
                    return Err(self.fail(
                        at,
                        format!("model object {id} is two heap objects ({known:#x} and {addr:#x})"),
                    ));
                }
                continue;
            }
            if let Some(&other) = id_of.get(&addr) {
                return Err(self.fail(
                    at,
                    format!("model objects {other} and {id} are one heap object at {addr:#x}"),
                ));
            }
            addr_of.insert(id, addr);
            id_of.insert(addr, id);
            let m = self.model.get(id);
            if r.kind() != m.kind {
                return Err(self.fail(
                    at,
                    format!(
                        "object {id}: heap has a {:?}, model a {:?}",
                        r.kind(),
                        m.kind
                    ),
                ));
            }
            let payload_ok = match r {
                HeapRef::Node(n) => n.id == id && n.payload.get() == m.payload,
                HeapRef::Drop(d) => d.id == id && d.payload == m.payload && d.probe.id == id,
                HeapRef::Big(b) => b.id == id && b.data == big_data(m.payload),
                HeapRef::Array(a) => a.len() == m.slots.len(),
                HeapRef::Bytes(b) => b == m.bytes.as_slice(),
                HeapRef::Vec(items) | HeapRef::Tuple(items) => {
                    if items.len() != m.values.len() {
                        return Err(self.fail(
                            at,
                            format!(
                                "object {id} ({:?}): {} elements, the model has {}",
                                m.kind,
                                items.len(),
                                m.values.len()
                            ),
                        ));
                    }
                    for (i, (elem, &value)) in items.iter().zip(&m.values).enumerate() {
                        match compare_elem(s, elem, value) {
                            Ok(Some(node)) => stack
                                .push((value.target().expect("a node value"), HeapRef::Node(node))),
                            Ok(None) => {}
                            Err(what) => {
                                return Err(
                                    self.fail(at, format!("object {id} element {i}: {what}"))
                                )
                            }
                        }
                    }
                    true
                }
            };
            if !payload_ok {
                return Err(self.fail(
                    at,
                    format!("object {id} ({:?}): payload differs from the model", m.kind),
                ));
            }
            for (slot, (got, want)) in slots(s, r).into_iter().zip(&m.slots).enumerate() {
                match (got, *want) {
                    (None, None) => {}
                    (Some(target), Some(tid)) => stack.push((tid, target)),
                    (got, want) => {
                        return Err(self.fail(
                            at,
                            format!(
                                "object {id} slot {slot}: heap {}, model {want:?}",
                                if got.is_some() { "set" } else { "null" }
                            ),
                        ))
                    }
                }
            }
        }
        // Liveness comes from the model: the roots in use, the sentinels and the pins.
        let live_set = self.live_ids(view);
        // Weak references: never cleared while reachable; after a full major collection,
        // cleared once unreachable.
        for (id, weak, cleared) in &mut self.weaks {
            let alive = weak.is_alive(s);
            let live = live_set.contains(id);
            if live && !alive {
                return Err(Failure {
                    op_index: at,
                    message: format!("object {id}: weak reference cleared while reachable"),
                });
            }
            if after_major && !live && alive {
                return Err(Failure {
                    op_index: at,
                    message: format!(
                        "object {id}: weak reference to a dead object survived a full major collection"
                    ),
                });
            }
            if *cleared && alive {
                return Err(Failure {
                    op_index: at,
                    message: format!("object {id}: a cleared weak reference came back"),
                });
            }
            *cleared |= !alive;
        }
        let mut seen_hashes = std::collections::HashSet::new();
        for (id, hash) in &self.hashes {
            if live_set.contains(id) && !seen_hashes.insert(*hash) {
                return Err(Failure {
                    op_index: at,
                    message: format!("object {id}: identity hash {hash:#x} is not unique"),
                });
            }
        }
        for &id in &self.model.droppable {
            let drops = DropLedger::count(id);
            let live = live_set.contains(&id);
            if drops > 1 {
                return Err(self.fail(at, format!("object {id}: drop glue ran {drops} times")));
            }
            if live && drops > 0 {
                return Err(self.fail(
                    at,
                    format!("object {id}: drop glue ran while it is reachable"),
                ));
            }
            if after_major && !live && drops == 0 {
                return Err(self.fail(
                    at,
                    format!(
                        "object {id}: dead after a full major collection but its drop glue did not run"
                    ),
                ));
            }
        }
        Ok(())
    }
}
