//! Runs a program against a real heap and the model at once, and checks one against the other.
//!
//! Roots live in scope levels: `push-scope` opens a nested `Scope` whose root list starts with
//! a duplicate of every root of the level below (so it can write between old and new roots),
//! and `pop-scope` closes it, popping its handles. A level may drop only the roots it created.
//! A handle keeps its slot until its scope ends, so dropping a root *rebinds* its handle to the
//! level's *sentinel* of the same kind (a handle to the first object of that kind the level
//! created, kept for the level's whole life), which releases the dropped object. Sentinels are
//! roots in the heap and in the model alike.
//!
//! A check compares everything reachable in the heap with the model (kinds, payloads, byte
//! contents, every reference, and a one-to-one match of model ids to heap objects), checks the
//! drop ledger (no drop glue ran twice or for a reachable object; after a major collection,
//! every dead object's glue has run) and runs the heap verifier. It runs after every operation
//! during which a collection happened (or after every operation), and at the end.
//!
//! Pins are independent of scopes: a pinned object is a root until its pin ends, in the heap
//! and in the model, and every check also confirms that it has not moved (its data is still
//! where the guard's pointer says). Operations that touch bytes, end pins or check the heap
//! first wait for the C thread's outstanding jobs.
//!
//! This module keeps the levels, roots and the operations on them; the other operations live
//! by concept in `alloc`, `stores`, `pins`, `lasting` (persistent roots, weak references,
//! identity hashes) and `inline` (arrays of inline values), the checks in `check`.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use gc_core::{Heap, Member, Pinned, RawGc, Scope};

use crate::cthread::CThread;
use crate::model::Model;
use crate::objects::{
    AnyHandle, AnyPersistent, AnyWeak, BigNode, DropLedger, DropNode, Elem, Kind, Node,
};
use crate::ops::Op;
use crate::settings::HeapSettings;

mod alloc;
mod check;
mod inline;
mod lasting;
mod pins;
mod stores;

/// Deepest scope nesting a program may reach (deeper `push-scope`s do nothing).
pub const MAX_DEPTH: usize = 8;
/// Most roots a level keeps of its own (an allocation beyond forgets the level's oldest).
pub const MAX_ROOTS: usize = 48;
/// Most pins a program holds at once (a pin beyond drops the oldest guard).
pub const MAX_PINS: usize = 32;

/// When the model and the heap are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerifyMode {
    /// After every operation during which a collection ran, and at the end.
    EveryGc,
    /// After every operation.
    EveryOp,
}

impl VerifyMode {
    /// The name used on the command line and in replay headers.
    pub fn name(self) -> &'static str {
        match self {
            VerifyMode::EveryGc => "every-gc",
            VerifyMode::EveryOp => "every-op",
        }
    }
}

/// A check that failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Index of the operation after which the check failed.
    pub op_index: usize,
    /// What was wrong.
    pub message: String,
}

/// What running one program did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProgramStats {
    /// Operations executed.
    pub ops: u64,
    /// Minor collections (including those inside major ones).
    pub minor: u64,
    /// Major collections.
    pub major: u64,
    /// Checks run.
    pub verified: u64,
    /// Successful pin operations (the FFI helper's included).
    pub pins: u64,
    /// Refused pin operations.
    pub refused: u64,
}

/// Runs `ops` on a fresh heap with `settings`. Never panics: a panic inside the collector is
/// reported as a failure (and the heap is leaked, since it may be inconsistent).
pub fn execute(
    ops: &[Op],
    settings: &HeapSettings,
    verify: VerifyMode,
) -> (ProgramStats, Result<(), Failure>) {
    DropLedger::reset();
    let mut heap = match Heap::new(settings.to_config()) {
        Ok(h) => h,
        Err(e) => {
            return (
                ProgramStats::default(),
                Err(Failure {
                    op_index: 0,
                    message: format!("heap: {e}"),
                }),
            )
        }
    };
    let mut exec = Executor {
        ops,
        pc: 0,
        model: Model::default(),
        verify,
        stats: ProgramStats::default(),
        epoch: 0,
        majors: 0,
        held: vec![Vec::new()],
        pins: Vec::new(),
        cthread: None,
        weaks: Vec::new(),
        hashes: HashMap::new(),
        frozen: std::collections::HashSet::new(),
        foreign: None,
        persistents: Vec::new(),
    };
    let result = catch_unwind(AssertUnwindSafe(|| {
        heap.scope(|s| exec.level(s, Vec::new(), 0, 0))
    }));
    exec.stats.ops = exec.pc as u64;
    if let Some(c) = &mut exec.cthread {
        let _ = c.wait_all();
    }
    exec.pins.clear();
    let stats = heap.stats();
    exec.stats.minor = stats.minor_collections;
    exec.stats.major = stats.major_collections;
    exec.stats.pins = stats.pinning.pins;
    exec.stats.refused = stats.pinning.refused_limit + stats.pinning.refused_disabled;
    let result = match result {
        Ok(r) => r,
        Err(panic) => {
            std::mem::forget(heap);
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "non-string panic".into());
            return (
                exec.stats,
                Err(Failure {
                    op_index: exec.pc.saturating_sub(1),
                    message: format!("panic: {message}"),
                }),
            );
        }
    };
    if result.is_err() && !heap.verify().is_ok() {
        // A corrupted heap cannot be dropped safely (its drop glue would follow corrupted
        // headers): leak it, as after a panic.
        std::mem::forget(heap);
    }
    (exec.stats, result)
}

struct Executor<'a> {
    ops: &'a [Op],
    pc: usize,
    model: Model,
    verify: VerifyMode,
    stats: ProgramStats,
    epoch: u64,
    /// Full major collections seen at the last check.
    majors: u64,
    /// Per scope level, the ids of its sentinels (roots for the level's whole life).
    held: Vec<Vec<u64>>,
    /// Live pins: the model id and kind of the pinned object, and the guard.
    pins: Vec<(u64, Kind, Pinned)>,
    /// The C thread, started by the first `c-fill`.
    cthread: Option<CThread>,
    /// Weak references: the target's model id, the reference, and whether it was seen
    /// cleared (a cleared reference never comes back).
    weaks: Vec<(u64, AnyWeak, bool)>,
    /// The identity hash each model object was first given.
    hashes: HashMap<u64, u64>,
    /// Objects frozen by the last `freeze`: the heap treats them as roots until `unfreeze`
    /// (they are never freed, and what the program stores into them stays alive).
    frozen: std::collections::HashSet<u64>,
    /// A second heap, for `foreign-unpin` (made on first use).
    foreign: Option<Heap>,
    /// Persistent roots: the object's model id and the root. Roots in the heap and in the model
    /// until dropped, whatever scope is open.
    persistents: Vec<(u64, AnyPersistent)>,
}

/// Most persistent roots a program holds at once (one more drops the oldest).
pub const MAX_PERSISTENT: usize = 32;

type View<'s> = Vec<(u64, AnyHandle<'s>)>;

/// One scope level's roots.
struct Level<'s> {
    /// The roots the program uses; `view[..base]` are inherited from the level below.
    view: View<'s>,
    base: usize,
    /// Per kind, a handle to the first object of that kind this level created.
    sentinels: [Option<AnyHandle<'s>>; KINDS],
}

/// Number of kinds (of sentinels per level).
const KINDS: usize = 7;

fn kind_index(kind: Kind) -> usize {
    match kind {
        Kind::Node => 0,
        Kind::Drop => 1,
        Kind::Big => 2,
        Kind::Array => 3,
        Kind::Bytes => 4,
        Kind::Vec => 5,
        Kind::Tuple => 6,
    }
}

/// A reference to a heap object of any kind, borrowed from a scope.
#[derive(Clone, Copy)]
enum HeapRef<'a> {
    Node(&'a Node),
    Drop(&'a DropNode),
    Big(&'a BigNode),
    Array(&'a [Member<Node>]),
    Bytes(&'a [u8]),
    Vec(&'a [Elem]),
    Tuple(&'a [Elem]),
}

/// A handle to a pinned object of the given kind.
///
/// # Safety
/// `raw` is a live object of this heap whose type is `kind`'s.
unsafe fn raw_handle<'s>(s: &Scope<'s>, raw: RawGc, kind: Kind) -> AnyHandle<'s> {
    // SAFETY: forwarded from the caller.
    unsafe {
        match kind {
            Kind::Node => AnyHandle::Node(s.from_raw(raw)),
            Kind::Drop => AnyHandle::Drop(s.from_raw(raw)),
            Kind::Big => AnyHandle::Big(s.from_raw(raw)),
            Kind::Array => AnyHandle::Array(s.from_raw(raw)),
            Kind::Bytes => AnyHandle::Bytes(s.from_raw(raw)),
            Kind::Vec => AnyHandle::Vec(s.from_raw(raw)),
            Kind::Tuple => AnyHandle::Tuple(s.from_raw(raw)),
        }
    }
}

impl HeapRef<'_> {
    fn addr(self) -> usize {
        match self {
            HeapRef::Node(r) => r as *const Node as usize,
            HeapRef::Drop(r) => r as *const DropNode as usize,
            HeapRef::Big(r) => r as *const BigNode as usize,
            HeapRef::Array(r) => r.as_ptr() as usize,
            HeapRef::Bytes(r) => r.as_ptr() as usize,
            // A vector's elements live in its storage: one per vector at any time.
            HeapRef::Vec(r) | HeapRef::Tuple(r) => r.as_ptr() as usize,
        }
    }

    fn kind(self) -> Kind {
        match self {
            HeapRef::Node(_) => Kind::Node,
            HeapRef::Drop(_) => Kind::Drop,
            HeapRef::Big(_) => Kind::Big,
            HeapRef::Array(_) => Kind::Array,
            HeapRef::Bytes(_) => Kind::Bytes,
            HeapRef::Vec(_) => Kind::Vec,
            HeapRef::Tuple(_) => Kind::Tuple,
        }
    }
}

fn resolve<'a>(s: &'a Scope<'_>, h: AnyHandle<'_>) -> HeapRef<'a> {
    match h {
        AnyHandle::Node(h) => HeapRef::Node(s.get(h)),
        AnyHandle::Drop(h) => HeapRef::Drop(s.get(h)),
        AnyHandle::Big(h) => HeapRef::Big(s.get(h)),
        AnyHandle::Array(h) => HeapRef::Array(s.array(h)),
        AnyHandle::Bytes(h) => HeapRef::Bytes(s.get(h)),
        AnyHandle::Vec(h) => HeapRef::Vec(s.get(h)),
        AnyHandle::Tuple(h) => HeapRef::Tuple(s.get(h)),
    }
}

/// The targets of an object's reference slots, in slot order.
fn slots<'a>(s: &'a Scope<'_>, r: HeapRef<'a>) -> Vec<Option<HeapRef<'a>>> {
    let node = |m: &'a Member<Node>| s.deref(m).map(HeapRef::Node);
    match r {
        HeapRef::Node(n) => vec![
            node(&n.refs[0]),
            node(&n.refs[1]),
            s.deref_bytes(&n.bytes).map(HeapRef::Bytes),
            s.deref_array(&n.array).map(HeapRef::Array),
            s.deref(&n.dropper).map(HeapRef::Drop),
            s.deref(&n.big).map(HeapRef::Big),
        ],
        HeapRef::Drop(d) => vec![node(&d.refs[0]), node(&d.refs[1])],
        HeapRef::Big(b) => vec![node(&b.refs[0]), node(&b.refs[1])],
        HeapRef::Array(a) => a.iter().map(node).collect(),
        // Inline values are compared element by element (see `check.rs`).
        HeapRef::Bytes(_) | HeapRef::Vec(_) | HeapRef::Tuple(_) => Vec::new(),
    }
}

/// The item `index` counts back from the most recent (0 is the last), modulo the count.
fn pick<T>(items: &[T], index: u32) -> Option<&T> {
    (!items.is_empty()).then(|| &items[items.len() - 1 - index as usize % items.len()])
}

/// [`pick`] among the roots of one kind.
fn pick_of_kind<'s>(view: &View<'s>, kind: Kind, index: u32) -> Option<(u64, AnyHandle<'s>)> {
    let candidates: Vec<(u64, AnyHandle<'s>)> = view
        .iter()
        .copied()
        .filter(|(_, h)| h.kind() == kind)
        .collect();
    pick(&candidates, index).copied()
}

impl Executor<'_> {
    fn fail(&self, op_index: usize, message: impl Into<String>) -> Failure {
        Failure {
            op_index,
            message: message.into(),
        }
    }

    fn level<'s>(
        &mut self,
        s: &mut Scope<'s>,
        view: View<'s>,
        base: usize,
        depth: usize,
    ) -> Result<(), Failure> {
        let mut level = Level {
            view,
            base,
            sentinels: [None; KINDS],
        };
        while self.pc < self.ops.len() {
            let at = self.pc;
            let op = self.ops[at];
            self.pc += 1;
            match op {
                Op::PushScope if depth < MAX_DEPTH => {
                    let inherited = &level.view;
                    self.held.push(Vec::new());
                    s.scope(|inner| {
                        let nested: View<'_> = inherited
                            .iter()
                            .map(|&(id, h)| (id, h.dup(inner)))
                            .collect();
                        let own_base = nested.len();
                        self.level(inner, nested, own_base, depth + 1)
                    })?;
                    self.held.pop();
                }
                Op::PopScope if depth > 0 => return Ok(()),
                _ => self.apply(s, &mut level, op, at)?,
            }
            self.after_op(s, &level.view, at)?;
        }
        if depth == 0 {
            self.check(s, &level.view, self.ops.len().saturating_sub(1), false)?;
        }
        Ok(())
    }

    /// Forgets the level's oldest root when it holds `MAX_ROOTS`. Called *before* an
    /// operation that may collect (an allocation may run hooks that collect), so that the
    /// heap and the model lose the root at the same point.
    fn make_room<'s>(&mut self, s: &Scope<'s>, level: &mut Level<'s>) {
        if level.view.len() - level.base >= MAX_ROOTS {
            self.drop_root(s, level, level.base);
        }
    }

    /// Roots a new object in the level, and makes it the level's sentinel of its kind when
    /// there is none yet.
    fn root<'s>(&mut self, s: &Scope<'s>, level: &mut Level<'s>, id: u64, h: AnyHandle<'s>) {
        let k = kind_index(h.kind());
        if level.sentinels[k].is_none() {
            level.sentinels[k] = Some(h.dup(s));
            self.held.last_mut().expect("a level is open").push(id);
        }
        level.view.push((id, h));
    }

    /// Forgets the root at `index`: its handle is rebound to the level's sentinel of the same
    /// kind, which releases the object it held.
    fn drop_root<'s>(&mut self, s: &Scope<'s>, level: &mut Level<'s>, index: usize) {
        let (_, h) = level.view.remove(index);
        match (h, level.sentinels[kind_index(h.kind())]) {
            (AnyHandle::Node(h), Some(AnyHandle::Node(o))) => s.rebind(h, o),
            (AnyHandle::Drop(h), Some(AnyHandle::Drop(o))) => s.rebind(h, o),
            (AnyHandle::Big(h), Some(AnyHandle::Big(o))) => s.rebind(h, o),
            (AnyHandle::Array(h), Some(AnyHandle::Array(o))) => s.rebind(h, o),
            (AnyHandle::Bytes(h), Some(AnyHandle::Bytes(o))) => s.rebind(h, o),
            (AnyHandle::Vec(h), Some(AnyHandle::Vec(o))) => s.rebind(h, o),
            (AnyHandle::Tuple(h), Some(AnyHandle::Tuple(o))) => s.rebind(h, o),
            _ => unreachable!("a level's own root has a sentinel of its kind"),
        }
    }

    fn apply<'s>(
        &mut self,
        s: &mut Scope<'s>,
        level: &mut Level<'s>,
        op: Op,
        at: usize,
    ) -> Result<(), Failure> {
        if matches!(
            op,
            Op::AllocNode { .. }
                | Op::AllocDrop { .. }
                | Op::AllocBig { .. }
                | Op::AllocBytes { .. }
                | Op::AllocArray { .. }
                | Op::AllocInit { .. }
                | Op::AllocVec { .. }
                | Op::AllocTuple { .. }
                | Op::PersistRead { .. }
                | Op::WeakRead { .. }
        ) {
            self.make_room(s, level);
        }
        match op {
            Op::AllocNode { .. }
            | Op::AllocDrop { .. }
            | Op::AllocBig { .. }
            | Op::AllocBytes { .. }
            | Op::AllocArray { .. }
            | Op::AllocInit { .. } => self.apply_alloc(s, level, op, at)?,
            Op::Write { .. } | Op::CopyRange { .. } | Op::WriteBytes { .. } => {
                self.apply_store(s, level, op, at)?
            }
            Op::DropRoot { root } => {
                let own = level.view.len() - level.base;
                if own > 0 {
                    // Counting back from the level's most recent root.
                    self.drop_root(s, level, level.view.len() - 1 - root as usize % own);
                }
            }
            Op::Minor => s.collect_minor(),
            Op::Major => s.collect_major(),
            Op::Corrupt { root } => {
                if let Some((_, AnyHandle::Node(h))) = pick_of_kind(&level.view, Kind::Node, root) {
                    let node = s.get(h);
                    node.payload.set(node.payload.get() ^ 0x100);
                }
            }
            Op::Pin { .. }
            | Op::Unpin { .. }
            | Op::DropPin { .. }
            | Op::ForeignUnpin { .. }
            | Op::PinnedWrite { .. }
            | Op::Ffi { .. }
            | Op::CFill { .. } => self.apply_pin(s, level, op, at)?,
            Op::Persist { .. }
            | Op::Unpersist { .. }
            | Op::PersistRead { .. }
            | Op::Weak { .. }
            | Op::WeakRead { .. }
            | Op::Hash { .. } => self.apply_lasting(s, level, op, at)?,
            Op::Freeze => {
                s.freeze();
                // Everything reachable is frozen, except pinned young objects, which stay young.
                // (Their handles live in a scope of their own, so they root nothing afterwards.)
                let mut live = self.live_ids(&level.view);
                let pins = &self.pins;
                let young: Vec<u64> = s.scope(|t| {
                    pins.iter()
                        .filter(|(_, kind, guard)| {
                            // SAFETY: a live guard keeps its object alive and in place; the
                            // model records its kind.
                            let h = unsafe { raw_handle(t, guard.object(), *kind) };
                            !crate::with_handle!(h, h => t.is_frozen(h))
                        })
                        .map(|(id, _, _)| *id)
                        .collect()
                });
                for id in young {
                    live.remove(&id);
                }
                self.frozen.extend(live);
            }
            Op::Unfreeze => {
                s.unfreeze();
                self.frozen.clear();
            }
            Op::Hooks { kind } => match crate::hooks::HookKind::from_index(kind) {
                Some(k) => {
                    s.set_hooks(crate::hooks::StressHooks::new(k));
                }
                None => {
                    s.remove_hooks();
                }
            },
            Op::AllocVec { .. }
            | Op::AllocTuple { .. }
            | Op::VecPush { .. }
            | Op::VecInsert { .. }
            | Op::VecSet { .. }
            | Op::VecPop { .. }
            | Op::VecRemove { .. }
            | Op::VecTruncate { .. }
            | Op::VecCopy { .. }
            | Op::ViewPushCopy { .. }
            | Op::ViewCopy { .. }
            | Op::ViewSet { .. }
            | Op::ViewLentPush { .. }
            | Op::TupleSet { .. } => self.apply_inline(s, level, op, at)?,
            Op::PushScope | Op::PopScope => {} // at the depth limit, or at the top level
        }
        Ok(())
    }
}
