//! [`SplayOps`] for Pinion, `rc` and `bumpalo` (the GC crates' live with their other code in
//! their `peer_*` modules).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gc_core::{Handle, Member, Scope, Trace};

use super::splay::{check_line, stat_lines, Keys, SplayOps, SplayTree, TREE_SIZE};

/// A splay-tree (or payload-tree) node in Pinion's heap.
#[derive(Trace)]
pub(crate) struct PinionNode {
    key: u64,
    left: Member<PinionNode>,
    right: Member<PinionNode>,
    payload: Member<PinionNode>,
}

/// The holder of the tree's root between runs (each run has its own handle scope).
#[derive(Trace)]
struct Holder {
    root: Member<PinionNode>,
}

struct PinionOps<'a, 'i> {
    s: &'a mut Scope<'i>,
}

impl<'i> SplayOps for PinionOps<'_, 'i> {
    type Ref = Handle<'i, PinionNode>;

    fn node(&mut self, key: u64) -> Self::Ref {
        self.s
            .alloc(PinionNode {
                key,
                left: Member::null(),
                right: Member::null(),
                payload: Member::null(),
            })
            .expect("allocation")
    }
    fn key(&self, n: &Self::Ref) -> u64 {
        self.s.get(*n).key
    }
    fn left(&mut self, n: &Self::Ref) -> Option<Self::Ref> {
        self.s.load(*n, |x| &x.left)
    }
    fn right(&mut self, n: &Self::Ref) -> Option<Self::Ref> {
        self.s.load(*n, |x| &x.right)
    }
    fn payload(&mut self, n: &Self::Ref) -> Option<Self::Ref> {
        self.s.load(*n, |x| &x.payload)
    }
    fn set_left(&mut self, n: &Self::Ref, v: Option<&Self::Ref>) {
        self.s.set(*n, |x| &x.left, v.copied());
    }
    fn set_right(&mut self, n: &Self::Ref, v: Option<&Self::Ref>) {
        self.s.set(*n, |x| &x.right, v.copied());
    }
    fn set_payload(&mut self, n: &Self::Ref, v: Option<&Self::Ref>) {
        self.s.set(*n, |x| &x.payload, v.copied());
    }
}

/// Runs `$body` with `$tree` and `$ops` bound in a fresh handle scope, the root loaded from
/// and stored back to `$holder`: every handle the body makes is popped at the end.
macro_rules! with_tree {
    ($outer:expr, $holder:expr, |$tree:ident, $ops:ident| $body:expr) => {
        $outer.scope(|inner| {
            let root = inner.load($holder, |h| &h.root);
            let mut $ops = PinionOps { s: inner };
            let mut $tree = SplayTree::<PinionOps<'_, '_>> { root };
            let result = $body;
            $ops.s.set($holder, |h| &h.root, $tree.root);
            result
        })
    };
}

/// Inserts made per handle scope during setup.
const SETUP_BATCH: u64 = 100;

pub(super) fn pinion(runs: u64) -> Result<Vec<String>, String> {
    let mut heap = super::pinion_heap()?;
    let (check, times) = heap.scope(|outer| {
        let holder = outer
            .alloc(Holder {
                root: Member::null(),
            })
            .expect("allocation");
        let mut keys = Keys::new();
        for _ in 0..TREE_SIZE / SETUP_BATCH {
            with_tree!(outer, holder, |tree, ops| for _ in 0..SETUP_BATCH {
                tree.insert_new(&mut ops, &mut keys);
            });
        }
        let mut times = Vec::with_capacity(runs as usize);
        for _ in 0..runs {
            let start = std::time::Instant::now();
            with_tree!(outer, holder, |tree, ops| tree.run(&mut ops, &mut keys));
            times.push(start.elapsed().as_secs_f64());
        }
        let check = with_tree!(outer, holder, |tree, ops| tree.check(&mut ops));
        (check, times)
    });
    let stats = heap.stats();
    let max_pause = stats.minor_pause.max.max(stats.major_pause.max);
    let mut lines = vec![check_line(runs, check)];
    lines.extend(stat_lines(times, Some(max_pause.as_secs_f64())));
    lines.push(format!(
        "stat: minor_p99_ms={:.4}",
        stats.minor_pauses.p99.as_secs_f64() * 1e3
    ));
    Ok(lines)
}

/// A splay node behind `Rc<RefCell<…>>`.
#[derive(Default)]
pub(crate) struct RcNode {
    key: u64,
    left: Option<RcRef>,
    right: Option<RcRef>,
    payload: Option<RcRef>,
}

type RcRef = Rc<RefCell<RcNode>>;

/// [`SplayOps`] for `rc`.
pub(crate) struct RcOps;

impl SplayOps for RcOps {
    type Ref = RcRef;

    fn node(&mut self, key: u64) -> RcRef {
        Rc::new(RefCell::new(RcNode {
            key,
            ..RcNode::default()
        }))
    }
    fn key(&self, n: &RcRef) -> u64 {
        n.borrow().key
    }
    fn left(&mut self, n: &RcRef) -> Option<RcRef> {
        n.borrow().left.clone()
    }
    fn right(&mut self, n: &RcRef) -> Option<RcRef> {
        n.borrow().right.clone()
    }
    fn payload(&mut self, n: &RcRef) -> Option<RcRef> {
        n.borrow().payload.clone()
    }
    fn set_left(&mut self, n: &RcRef, v: Option<&RcRef>) {
        n.borrow_mut().left = v.cloned();
    }
    fn set_right(&mut self, n: &RcRef, v: Option<&RcRef>) {
        n.borrow_mut().right = v.cloned();
    }
    fn set_payload(&mut self, n: &RcRef, v: Option<&RcRef>) {
        n.borrow_mut().payload = v.cloned();
    }
}

/// A splay node in a bumpalo arena (never freed: the arena grows with every run).
#[derive(Default)]
pub(crate) struct BumpNode<'a> {
    key: u64,
    left: Cell<Option<&'a BumpNode<'a>>>,
    right: Cell<Option<&'a BumpNode<'a>>>,
    payload: Cell<Option<&'a BumpNode<'a>>>,
}

struct BumpOps<'a>(&'a bumpalo::Bump);

impl<'a> SplayOps for BumpOps<'a> {
    type Ref = &'a BumpNode<'a>;

    fn node(&mut self, key: u64) -> Self::Ref {
        self.0.alloc(BumpNode {
            key,
            ..BumpNode::default()
        })
    }
    fn key(&self, n: &Self::Ref) -> u64 {
        n.key
    }
    fn left(&mut self, n: &Self::Ref) -> Option<Self::Ref> {
        n.left.get()
    }
    fn right(&mut self, n: &Self::Ref) -> Option<Self::Ref> {
        n.right.get()
    }
    fn payload(&mut self, n: &Self::Ref) -> Option<Self::Ref> {
        n.payload.get()
    }
    fn set_left(&mut self, n: &Self::Ref, v: Option<&Self::Ref>) {
        n.left.set(v.copied());
    }
    fn set_right(&mut self, n: &Self::Ref, v: Option<&Self::Ref>) {
        n.right.set(v.copied());
    }
    fn set_payload(&mut self, n: &Self::Ref, v: Option<&Self::Ref>) {
        n.payload.set(v.copied());
    }
}

pub(super) fn bump(runs: u64) -> Vec<String> {
    let arena = bumpalo::Bump::new();
    super::splay::run_simple(&mut BumpOps(&arena), runs)
}
