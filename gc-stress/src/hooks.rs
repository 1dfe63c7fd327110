//! Hooks the stress harness installs: they use the heap the way real hooks do (allocate,
//! store references through the barrier, pin, collect) without changing what the model
//! describes, so every check still applies while they run.

use gc_core::gc_hooks::{Accumulated, MajorEvent, MinorEvent};
use gc_core::{GcHooks, Member, Scope};

use crate::objects::Node;

/// What an installed hook does on every delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookKind {
    /// Nothing (PyPy issue 4899 crashed with no-op hooks).
    NoOp,
    /// Allocates a small linked list and a byte string.
    Allocating,
    /// Forces a minor collection every 4th delivery and a major one every 16th.
    Collecting,
    /// Pins a fresh byte string and drops the pin.
    Pinning,
}

impl HookKind {
    /// The kind selected by `hooks K` (0 removes the hooks).
    pub fn from_index(k: u32) -> Option<HookKind> {
        match k % 5 {
            0 => None,
            1 => Some(HookKind::NoOp),
            2 => Some(HookKind::Allocating),
            3 => Some(HookKind::Collecting),
            _ => Some(HookKind::Pinning),
        }
    }
}

/// The hooks themselves.
#[derive(Debug)]
pub struct StressHooks {
    kind: HookKind,
    calls: u64,
}

impl StressHooks {
    /// Hooks of `kind`.
    pub fn new(kind: HookKind) -> StressHooks {
        StressHooks { kind, calls: 0 }
    }

    fn act(&mut self, s: &mut Scope<'_>) {
        self.calls += 1;
        match self.kind {
            HookKind::NoOp => {}
            HookKind::Allocating => {
                let mut prev = None;
                for i in 0..5 {
                    let Ok(n) = s.alloc(Node {
                        id: u64::MAX - i,
                        payload: std::cell::Cell::new(i),
                        refs: [Member::null(), Member::null()],
                        bytes: Member::null(),
                        array: Member::null(),
                        dropper: Member::null(),
                        big: Member::null(),
                    }) else {
                        return;
                    };
                    s.set(n, |n| &n.refs[0], prev);
                    prev = Some(n);
                }
                let _ = s.alloc_bytes(&[7; 100]);
            }
            HookKind::Collecting => {
                if self.calls.is_multiple_of(16) {
                    s.collect_major();
                } else if self.calls.is_multiple_of(4) {
                    s.collect_minor();
                }
            }
            HookKind::Pinning => {
                if let Ok(b) = s.alloc_bytes(&[1; 64]) {
                    let _ = s.pin(b);
                }
            }
        }
    }
}

impl GcHooks for StressHooks {
    fn on_minor(&mut self, s: &mut Scope<'_>, _: &Accumulated<MinorEvent>) {
        self.act(s);
    }
    fn on_major(&mut self, s: &mut Scope<'_>, _: &Accumulated<MajorEvent>) {
        self.act(s);
    }
}
