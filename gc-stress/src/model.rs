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
    /// Elements of the inline-value arrays.
    pub values: Vec<Value>,
}

/// An inline value, as the model knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// Nothing.
    Nil,
    /// A number.
    Num(u64),
    /// A reference to the node with this id.
    Node(u64),
}

impl Value {
    /// The id this value refers to, if any.
    pub fn target(self) -> Option<u64> {
        match self {
            Value::Node(id) => Some(id),
            _ => None,
        }
    }
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
            values: Vec::new(),
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
                let o = self.get(id);
                stack.extend(o.slots.iter().flatten());
                stack.extend(o.values.iter().filter_map(|v| v.target()));
            }
        }
        seen
    }
}
