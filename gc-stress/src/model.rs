//! The reference model: the object graph as plain Rust data.
//!
//! Object ids are indices into `objects`; every object ever allocated in a program stays in
//! the model (dead ones are simply unreachable), which is what lets the harness check that a
//! dead object's drop glue ran and a live one's did not.

use std::collections::HashSet;

use crate::objects::Kind;

/// One object as the model knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelObject {
    /// Its kind.
    pub kind: Kind,
    /// Payload of nodes (the seed, for big nodes).
    pub payload: u64,
    /// Contents of byte strings.
    pub bytes: Vec<u8>,
    /// Reference slots: the id each one refers to.
    pub slots: Vec<Option<u64>>,
}

/// The whole model graph.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// Every object allocated so far, by id.
    pub objects: Vec<ModelObject>,
    /// Ids of the objects with drop glue.
    pub droppable: Vec<u64>,
}

impl Model {
    /// Adds an object and returns its id.
    pub fn add(&mut self, kind: Kind, payload: u64, bytes: Vec<u8>, array_len: usize) -> u64 {
        let id = self.objects.len() as u64;
        let slots = vec![None; kind.slot_kinds(array_len).len()];
        self.objects.push(ModelObject {
            kind,
            payload,
            bytes,
            slots,
        });
        if kind == Kind::Drop {
            self.droppable.push(id);
        }
        id
    }

    /// The object `id`.
    pub fn get(&self, id: u64) -> &ModelObject {
        &self.objects[id as usize]
    }

    /// The object `id`, mutably.
    pub fn get_mut(&mut self, id: u64) -> &mut ModelObject {
        &mut self.objects[id as usize]
    }

    /// The ids reachable from `roots`.
    pub fn reachable(&self, roots: impl IntoIterator<Item = u64>) -> HashSet<u64> {
        let mut seen = HashSet::new();
        let mut stack: Vec<u64> = roots.into_iter().collect();
        while let Some(id) = stack.pop() {
            if seen.insert(id) {
                stack.extend(self.get(id).slots.iter().flatten());
            }
        }
        seen
    }
}
