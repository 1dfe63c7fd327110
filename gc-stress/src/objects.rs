//! The heap types the stress harness allocates, and a handle to any of them.
//!
//! Seven kinds cover what the collector treats differently: a small object without drop glue
//! ([`Node`]), a small object with drop glue ([`DropNode`]), a large object ([`BigNode`], over
//! the large-object threshold), a byte string, an array of references, and arrays of inline
//! values ([`Elem`]), growable (`GcVec`) and fixed (`GcSlice`). Every reference slot
//! has a fixed target kind (see [`Kind::slot_kinds`]), so the model can say which writes are
//! well-typed.

use std::cell::{Cell, RefCell};

use gc_core::{GcArray, GcBytes, GcSlice, GcVec, Handle, Member, Persistent, Scope, Trace, Weak};

/// Which kind of object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A small object without drop glue.
    Node,
    /// A small object whose drop glue is observed by the drop ledger.
    Drop,
    /// A large object (never in the nursery).
    Big,
    /// An array of references to `Node`s.
    Array,
    /// A byte string.
    Bytes,
    /// A growable array of inline values ([`Elem`]).
    Vec,
    /// A fixed-length array of inline values ([`Elem`]).
    Tuple,
}

impl Kind {
    /// The target kind of each reference slot of an object of this kind (`array_len` for
    /// arrays).
    pub fn slot_kinds(self, array_len: usize) -> Vec<Kind> {
        match self {
            Kind::Node => vec![
                Kind::Node,
                Kind::Node,
                Kind::Bytes,
                Kind::Array,
                Kind::Drop,
                Kind::Big,
            ],
            Kind::Drop | Kind::Big => vec![Kind::Node, Kind::Node],
            Kind::Array => vec![Kind::Node; array_len],
            // Inline arrays hold values, not slots: written by their own operations.
            Kind::Bytes | Kind::Vec | Kind::Tuple => Vec::new(),
        }
    }
}

/// A small object with every kind of reference slot.
#[derive(Trace, Debug)]
pub struct Node {
    /// Model id.
    pub id: u64,
    /// Payload checked against the model (a `Cell` so the test-only corruption can flip it).
    pub payload: Cell<u64>,
    /// Slots 0 and 1.
    pub refs: [Member<Node>; 2],
    /// Slot 2.
    pub bytes: Member<GcBytes>,
    /// Slot 3.
    pub array: Member<GcArray<Node>>,
    /// Slot 4.
    pub dropper: Member<DropNode>,
    /// Slot 5.
    pub big: Member<BigNode>,
}

impl Node {
    /// A node with every reference slot null.
    pub fn new(id: u64, payload: u64) -> Node {
        Node {
            id,
            payload: Cell::new(payload),
            refs: [Member::null(), Member::null()],
            bytes: Member::null(),
            array: Member::null(),
            dropper: Member::null(),
            big: Member::null(),
        }
    }
}

/// An inline value of the harness's arrays, as a dynamic language stores one: nothing, a
/// number, or a reference to a node.
#[derive(Trace, Debug)]
pub enum Elem {
    /// Nothing.
    Nil,
    /// A number.
    Num(u64),
    /// A reference to a node.
    Node(Member<Node>),
}

/// A small object with drop glue (through its probe).
#[derive(Trace, Debug)]
pub struct DropNode {
    /// Model id.
    pub id: u64,
    /// Payload checked against the model.
    pub payload: u64,
    /// Records the drop in the ledger.
    pub probe: Probe,
    /// Slots 0 and 1.
    pub refs: [Member<Node>; 2],
}

/// Words of inline payload in a [`BigNode`]: enough to pass the large-object threshold.
pub const BIG_WORDS: usize = gc_core::LARGE_OBJECT_THRESHOLD / 8 + 8;

/// A large object.
#[derive(Trace, Debug)]
pub struct BigNode {
    /// Model id.
    pub id: u64,
    /// Payload: word `i` is `seed * (i + 1)`.
    pub data: [u64; BIG_WORDS],
    /// Slots 0 and 1.
    pub refs: [Member<Node>; 2],
}

/// Fills a big node's payload from its seed.
pub fn big_data(seed: u64) -> [u64; BIG_WORDS] {
    std::array::from_fn(|i| seed.wrapping_mul(i as u64 + 1))
}

/// Byte-string contents from a seed (a small LCG, so replays need only the seed).
pub fn bytes_from_seed(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 56) as u8
        })
        .collect()
}

thread_local! {
    static DROP_LEDGER: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// Counts, per model id, how often a [`DropNode`]'s drop glue ran on this thread.
#[derive(Debug)]
pub struct DropLedger;

impl DropLedger {
    /// Forgets every count (at the start of a program).
    pub fn reset() {
        DROP_LEDGER.with(|l| l.borrow_mut().clear());
    }

    /// How often `id` was dropped.
    pub fn count(id: u64) -> u32 {
        DROP_LEDGER.with(|l| l.borrow().get(id as usize).copied().unwrap_or(0))
    }
}

/// Records its owner's drop in the ledger.
#[derive(Trace, Debug)]
#[pinion(drop)]
pub struct Probe {
    /// Model id of the owner.
    pub id: u64,
}

impl Drop for Probe {
    fn drop(&mut self) {
        DROP_LEDGER.with(|l| {
            let mut l = l.borrow_mut();
            let i = self.id as usize;
            if l.len() <= i {
                l.resize(i + 1, 0);
            }
            l[i] += 1;
        });
    }
}

/// Runs `$body` with `$h` bound to the typed handle inside an [`AnyHandle`], whatever its
/// kind (for operations every kind supports: pin, hash, freeze checks...).
#[macro_export]
macro_rules! with_handle {
    ($any:expr, $h:ident => $body:expr) => {
        match $any {
            $crate::objects::AnyHandle::Node($h) => $body,
            $crate::objects::AnyHandle::Drop($h) => $body,
            $crate::objects::AnyHandle::Big($h) => $body,
            $crate::objects::AnyHandle::Array($h) => $body,
            $crate::objects::AnyHandle::Bytes($h) => $body,
            $crate::objects::AnyHandle::Vec($h) => $body,
            $crate::objects::AnyHandle::Tuple($h) => $body,
        }
    };
}

/// A handle to an object of any kind.
#[derive(Clone, Copy, Debug)]
pub enum AnyHandle<'s> {
    /// A [`Node`].
    Node(Handle<'s, Node>),
    /// A [`DropNode`].
    Drop(Handle<'s, DropNode>),
    /// A [`BigNode`].
    Big(Handle<'s, BigNode>),
    /// An array of nodes.
    Array(Handle<'s, GcArray<Node>>),
    /// A byte string.
    Bytes(Handle<'s, GcBytes>),
    /// A growable array of values.
    Vec(Handle<'s, GcVec<Elem>>),
    /// A fixed-length array of values.
    Tuple(Handle<'s, GcSlice<Elem>>),
}

/// A weak reference to an object of any kind.
#[derive(Debug)]
pub enum AnyWeak {
    /// To a [`Node`].
    Node(Weak<Node>),
    /// To a [`DropNode`].
    Drop(Weak<DropNode>),
    /// To a [`BigNode`].
    Big(Weak<BigNode>),
    /// To an array of nodes.
    Array(Weak<GcArray<Node>>),
    /// To a byte string.
    Bytes(Weak<GcBytes>),
    /// To a growable array of values.
    Vec(Weak<GcVec<Elem>>),
    /// To a fixed-length array of values.
    Tuple(Weak<GcSlice<Elem>>),
}

impl AnyWeak {
    /// A weak reference to `h`'s object.
    pub fn new(s: &mut Scope<'_>, h: AnyHandle<'_>) -> AnyWeak {
        match h {
            AnyHandle::Node(h) => AnyWeak::Node(s.downgrade(h)),
            AnyHandle::Drop(h) => AnyWeak::Drop(s.downgrade(h)),
            AnyHandle::Big(h) => AnyWeak::Big(s.downgrade(h)),
            AnyHandle::Array(h) => AnyWeak::Array(s.downgrade(h)),
            AnyHandle::Bytes(h) => AnyWeak::Bytes(s.downgrade(h)),
            AnyHandle::Vec(h) => AnyWeak::Vec(s.downgrade(h)),
            AnyHandle::Tuple(h) => AnyWeak::Tuple(s.downgrade(h)),
        }
    }

    /// The object, rooted in `s`, if it is alive.
    pub fn upgrade<'s>(&self, s: &Scope<'s>) -> Option<AnyHandle<'s>> {
        match self {
            AnyWeak::Node(w) => s.upgrade(w).map(AnyHandle::Node),
            AnyWeak::Drop(w) => s.upgrade(w).map(AnyHandle::Drop),
            AnyWeak::Big(w) => s.upgrade(w).map(AnyHandle::Big),
            AnyWeak::Array(w) => s.upgrade(w).map(AnyHandle::Array),
            AnyWeak::Bytes(w) => s.upgrade(w).map(AnyHandle::Bytes),
            AnyWeak::Vec(w) => s.upgrade(w).map(AnyHandle::Vec),
            AnyWeak::Tuple(w) => s.upgrade(w).map(AnyHandle::Tuple),
        }
    }

    /// Whether the object is alive (not cleared).
    pub fn is_alive(&self, s: &Scope<'_>) -> bool {
        match self {
            AnyWeak::Node(w) => s.weak_is_alive(w),
            AnyWeak::Drop(w) => s.weak_is_alive(w),
            AnyWeak::Big(w) => s.weak_is_alive(w),
            AnyWeak::Array(w) => s.weak_is_alive(w),
            AnyWeak::Bytes(w) => s.weak_is_alive(w),
            AnyWeak::Vec(w) => s.weak_is_alive(w),
            AnyWeak::Tuple(w) => s.weak_is_alive(w),
        }
    }
}

/// A persistent root to an object of any kind.
#[derive(Debug)]
pub enum AnyPersistent {
    /// To a [`Node`].
    Node(Persistent<Node>),
    /// To a [`DropNode`].
    Drop(Persistent<DropNode>),
    /// To a [`BigNode`].
    Big(Persistent<BigNode>),
    /// To an array of nodes.
    Array(Persistent<GcArray<Node>>),
    /// To a byte string.
    Bytes(Persistent<GcBytes>),
    /// To a growable array of values.
    Vec(Persistent<GcVec<Elem>>),
    /// To a fixed-length array of values.
    Tuple(Persistent<GcSlice<Elem>>),
}

impl AnyPersistent {
    /// A persistent root to `h`'s object.
    pub fn new(s: &mut Scope<'_>, h: AnyHandle<'_>) -> Result<AnyPersistent, gc_core::GcError> {
        Ok(match h {
            AnyHandle::Node(h) => AnyPersistent::Node(s.persist(h)?),
            AnyHandle::Drop(h) => AnyPersistent::Drop(s.persist(h)?),
            AnyHandle::Big(h) => AnyPersistent::Big(s.persist(h)?),
            AnyHandle::Array(h) => AnyPersistent::Array(s.persist(h)?),
            AnyHandle::Bytes(h) => AnyPersistent::Bytes(s.persist(h)?),
            AnyHandle::Vec(h) => AnyPersistent::Vec(s.persist(h)?),
            AnyHandle::Tuple(h) => AnyPersistent::Tuple(s.persist(h)?),
        })
    }

    /// The object, rooted in `s`.
    pub fn read<'s>(&self, s: &Scope<'s>) -> Result<AnyHandle<'s>, gc_core::GcError> {
        Ok(match self {
            AnyPersistent::Node(p) => AnyHandle::Node(s.persistent(p)?),
            AnyPersistent::Drop(p) => AnyHandle::Drop(s.persistent(p)?),
            AnyPersistent::Big(p) => AnyHandle::Big(s.persistent(p)?),
            AnyPersistent::Array(p) => AnyHandle::Array(s.persistent(p)?),
            AnyPersistent::Bytes(p) => AnyHandle::Bytes(s.persistent(p)?),
            AnyPersistent::Vec(p) => AnyHandle::Vec(s.persistent(p)?),
            AnyPersistent::Tuple(p) => AnyHandle::Tuple(s.persistent(p)?),
        })
    }
}

impl<'s> AnyHandle<'s> {
    /// The object's identity hash.
    pub fn identity_hash(self, s: &mut Scope<'_>) -> u64 {
        with_handle!(self, h => s.identity_hash(h))
    }

    /// The node handle, if this is a node.
    pub fn as_node(self) -> Option<Handle<'s, Node>> {
        if let AnyHandle::Node(h) = self {
            Some(h)
        } else {
            None
        }
    }

    /// The drop-node handle, if this is one.
    pub fn as_drop(self) -> Option<Handle<'s, DropNode>> {
        if let AnyHandle::Drop(h) = self {
            Some(h)
        } else {
            None
        }
    }

    /// The big-node handle, if this is one.
    pub fn as_big(self) -> Option<Handle<'s, BigNode>> {
        if let AnyHandle::Big(h) = self {
            Some(h)
        } else {
            None
        }
    }

    /// The array handle, if this is an array.
    pub fn as_array(self) -> Option<Handle<'s, GcArray<Node>>> {
        if let AnyHandle::Array(h) = self {
            Some(h)
        } else {
            None
        }
    }

    /// The byte-string handle, if this is one.
    pub fn as_bytes(self) -> Option<Handle<'s, GcBytes>> {
        if let AnyHandle::Bytes(h) = self {
            Some(h)
        } else {
            None
        }
    }

    /// The object's kind.
    pub fn kind(self) -> Kind {
        match self {
            AnyHandle::Node(_) => Kind::Node,
            AnyHandle::Drop(_) => Kind::Drop,
            AnyHandle::Big(_) => Kind::Big,
            AnyHandle::Array(_) => Kind::Array,
            AnyHandle::Bytes(_) => Kind::Bytes,
            AnyHandle::Vec(_) => Kind::Vec,
            AnyHandle::Tuple(_) => Kind::Tuple,
        }
    }

    /// The same object, rooted again in scope `s`.
    pub fn dup<'i>(self, s: &Scope<'i>) -> AnyHandle<'i> {
        match self {
            AnyHandle::Node(h) => AnyHandle::Node(s.dup(h)),
            AnyHandle::Drop(h) => AnyHandle::Drop(s.dup(h)),
            AnyHandle::Big(h) => AnyHandle::Big(s.dup(h)),
            AnyHandle::Array(h) => AnyHandle::Array(s.dup(h)),
            AnyHandle::Bytes(h) => AnyHandle::Bytes(s.dup(h)),
            AnyHandle::Vec(h) => AnyHandle::Vec(s.dup(h)),
            AnyHandle::Tuple(h) => AnyHandle::Tuple(s.dup(h)),
        }
    }
}
