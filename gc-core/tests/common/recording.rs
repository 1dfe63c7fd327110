//! What the hook tests share: a list node, a hook that records every event, and a verified
//! heap (included with `#[path]` by the tests that use it).

use std::sync::{Arc, Mutex};

use gc_core::{Config, GcHooks, Heap, Member, Scope, Trace};
use gc_hooks::{
    Accumulated, MajorEvent, MajorStepEvent, MinorEvent, OutOfMemoryEvent, PinRefusedEvent,
};

/// A list node.
#[derive(Trace)]
pub struct Node {
    pub value: u64,
    pub next: Member<Node>,
}

/// Everything a hook saw.
#[derive(Default, Debug, Clone)]
pub struct Seen {
    pub minor: Vec<Accumulated<MinorEvent>>,
    pub step: Vec<Accumulated<MajorStepEvent>>,
    pub major: Vec<Accumulated<MajorEvent>>,
    pub refused: Vec<Accumulated<PinRefusedEvent>>,
    pub oom: Vec<Accumulated<OutOfMemoryEvent>>,
}

/// A hook that records every event it gets.
#[derive(Clone, Default)]
pub struct Recording(Arc<Mutex<Seen>>);

impl Recording {
    /// A copy of what the hook saw so far.
    #[allow(dead_code)] // not every test file that shares this module uses it
    pub fn seen(&self) -> Seen {
        self.0.lock().unwrap().clone()
    }
}

impl GcHooks for Recording {
    fn on_minor(&mut self, _: &mut Scope<'_>, m: &Accumulated<MinorEvent>) {
        self.0.lock().unwrap().minor.push(*m);
    }
    fn on_major_step(&mut self, _: &mut Scope<'_>, m: &Accumulated<MajorStepEvent>) {
        self.0.lock().unwrap().step.push(*m);
    }
    fn on_major(&mut self, _: &mut Scope<'_>, m: &Accumulated<MajorEvent>) {
        self.0.lock().unwrap().major.push(*m);
    }
    fn on_pin_refused(&mut self, _: &mut Scope<'_>, m: &Accumulated<PinRefusedEvent>) {
        self.0.lock().unwrap().refused.push(*m);
    }
    fn on_out_of_memory(&mut self, _: &mut Scope<'_>, m: &Accumulated<OutOfMemoryEvent>) {
        self.0.lock().unwrap().oom.push(*m);
    }
}

/// A heap that runs the verifier after every collection.
pub fn verified(config: Config) -> Heap {
    Heap::new(config.with_debug_level(2)).unwrap()
}
