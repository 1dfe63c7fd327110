//! array: a reference array of `n` slots, made old first, then `10 · n` stores of freshly
//! allocated objects at pseudo-random slots (so nearly every store is old-to-young, exercising
//! the write barrier and the remembered set), then a sum over the objects the slots hold.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::Small;

/// Stores per slot.
const STORES_PER_SLOT: u64 = 10;

/// The store sequence: slot `index(i)` receives an object holding `i`. An xorshift generator
/// with a fixed seed, so every peer makes the same stores.
pub(crate) struct Stores {
    state: u64,
    slots: u64,
    next: u64,
    total: u64,
}

impl Stores {
    pub(crate) fn new(slots: u64) -> Stores {
        Stores {
            state: 0x9E37_79B9_7F4A_7C15,
            slots: slots.max(1),
            next: 0,
            total: slots.max(1) * STORES_PER_SLOT,
        }
    }
}

impl Iterator for Stores {
    /// (slot, value)
    type Item = (usize, u64);

    fn next(&mut self) -> Option<(usize, u64)> {
        if self.next == self.total {
            return None;
        }
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let value = self.next;
        self.next += 1;
        Some(((self.state % self.slots) as usize, value))
    }
}

fn line(slots: u64, sum: u64) -> String {
    format!(
        "array of {slots} slots\t {} stores\t sum: {sum}",
        slots.max(1) * STORES_PER_SLOT
    )
}

/// The output every peer must print.
pub fn expected(slots: u64) -> Vec<String> {
    let mut model = vec![None; slots.max(1) as usize];
    for (slot, value) in Stores::new(slots) {
        model[slot] = Some(value);
    }
    vec![line(slots, model.iter().flatten().sum())]
}

/// Runs the array workload with `slots` slots for `peer`.
pub fn run(peer: &str, slots: u64) -> Result<Vec<String>, String> {
    let slots = slots.max(1);
    let sum = match peer {
        "pinion" => pinion(slots)?,
        "box" => boxed(slots),
        "rc" => rc(slots),
        "bumpalo" => bump(slots),
        "gc" => super::peer_gc::array(slots),
        "dumpster" => super::peer_dumpster::array(slots),
        "gc-arena" => super::peer_gc_arena::array(slots),
        "bdwgc" => super::peer_bdwgc::array(slots)?,
        other => return Err(super::unknown_peer(other)),
    };
    Ok(vec![line(slots, sum)])
}

/// Stores made per nested Pinion scope (each store's handle is popped with its scope).
const SCOPE_BATCH: usize = 1_000;

fn pinion(slots: u64) -> Result<u64, String> {
    let mut heap = super::pinion_heap()?;
    Ok(heap.scope(|s| {
        let array = s.alloc_array::<Small>(slots as usize).expect("allocation");
        s.collect_minor(); // the array is old from here on
        let mut stores = Stores::new(slots).peekable();
        while stores.peek().is_some() {
            s.scope(|s| {
                for (slot, value) in stores.by_ref().take(SCOPE_BATCH) {
                    let object = s.alloc(Small { a: value, b: 0 }).expect("allocation");
                    s.array_set(array, slot, Some(object));
                }
            });
        }
        s.array(array)
            .iter()
            .filter_map(|m| s.deref(m))
            .map(|o| o.a)
            .sum()
    }))
}

fn boxed(slots: u64) -> u64 {
    let mut array: Vec<Option<Box<Small>>> = (0..slots).map(|_| None).collect();
    for (slot, value) in Stores::new(slots) {
        array[slot] = Some(Box::new(Small { a: value, b: 0 }));
    }
    array.iter().flatten().map(|o| o.a).sum()
}

fn rc(slots: u64) -> u64 {
    type Slot = Option<Rc<RefCell<Small>>>;
    let array: Rc<RefCell<Vec<Slot>>> = Rc::new(RefCell::new(vec![None; slots as usize]));
    for (slot, value) in Stores::new(slots) {
        array.borrow_mut()[slot] = Some(Rc::new(RefCell::new(Small { a: value, b: 0 })));
    }
    let sum = array.borrow().iter().flatten().map(|o| o.borrow().a).sum();
    sum
}

fn bump(slots: u64) -> u64 {
    // The arena never frees: every object ever stored stays allocated (the no-GC floor).
    let arena = bumpalo::Bump::new();
    let array: &[Cell<Option<&Small>>] =
        arena.alloc_slice_fill_with(slots as usize, |_| Cell::new(None));
    for (slot, value) in Stores::new(slots) {
        array[slot].set(Some(arena.alloc(Small { a: value, b: 0 })));
    }
    array.iter().filter_map(Cell::get).map(|o| o.a).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_peer_sums_the_same_slots() {
        for peer in super::super::PEERS {
            match super::super::run("array", peer, 5_000) {
                Ok(lines) => assert_eq!(lines, expected(5_000), "{peer}"),
                Err(reason) => assert!(
                    peer == "bdwgc" && reason.contains("libgc1")
                        || peer == "serde_json" && reason.contains("only the json workload"),
                    "{reason}"
                ),
            }
        }
    }

    #[test]
    fn stores_reach_every_region_of_the_array() {
        let slots = 1_000;
        let mut hit = vec![false; slots];
        for (slot, _) in Stores::new(slots as u64) {
            hit[slot] = true;
        }
        assert!(hit.iter().filter(|h| **h).count() > slots * 9 / 10);
    }
}
