//! The operation language: what a mutator program does, one operation per line.
//!
//! Operations name roots (and pins and weak references) by index, counting back from the most
//! recent (0 is the newest), modulo what exists when they run, so any sequence (a shrunk one
//! too) is valid: an operation whose target does not exist does nothing.
//!
//! | line | meaning |
//! |---|---|
//! | `alloc-node P` | allocate a [`Node`](crate::objects::Node) with payload P, root it |
//! | `alloc-drop P` | allocate a [`DropNode`](crate::objects::DropNode) (drop glue), root it |
//! | `alloc-big P` | allocate a [`BigNode`](crate::objects::BigNode) (large object), root it |
//! | `alloc-bytes LEN SEED` | allocate a byte string of LEN bytes (at most 16 MiB) made from SEED, root it |
//! | `alloc-array LEN` | allocate an array of LEN null references (at most 2 Mi), root it |
//! | `alloc-init P L R` | build a node in one step (`Scope::alloc_init`) whose slots 0 and 1 are node roots L and R (`-` for null), root it |
//! | `alloc-init-old P L R` | the same, born old (`Scope::alloc_init_nonmoving`) |
//! | `alloc-vec CAP` | allocate an empty growable array of inline values ([`Elem`](crate::objects::Elem)) with room for CAP (at most 65536), root it |
//! | `alloc-tuple LEN E` | allocate a fixed-length array of LEN (at most 4096) copies of the value E, root it |
//! | `vec-push V E`, `vec-insert V I E`, `vec-set V I E` | append, insert at I (modulo len + 1), replace at I (modulo len) in growable array root V |
//! | `vec-pop V`, `vec-remove V I`, `vec-truncate V N` | remove the last element, element I, everything from N (modulo len + 1) on |
//! | `vec-copy V SRC DST N` | copy N elements within V from SRC to DST (clipped to the length) |
//! | `tuple-set T I E` | replace element I (modulo len) of fixed-length array root T |
//!
//! A value E is `-` (nil), `#N` (the number N) or `@R` (node root R, or nil when there is
//! none).
//! | `write SRC SLOT DST` | store root DST (a root of the slot's kind; `-` for null) into slot SLOT of root SRC |
//! | `copy-range SRC DST FROM TO LEN` | copy LEN elements of array root SRC from FROM into array root DST at TO (clipped to both arrays), through the barrier |
//! | `write-bytes ROOT OFFSET VALUE` | overwrite one byte of a byte-string root |
//! | `drop-root ROOT` | forget one of this level's own roots |
//! | `push-scope` / `pop-scope` | open / close a nested root scope |
//! | `minor` / `major` | force a minor / major collection |
//! | `pin ROOT` | pin a root's object (a refused pin is counted, not a failure) |
//! | `unpin PIN` / `drop-pin PIN` | end a pin explicitly / by dropping its guard |
//! | `foreign-unpin PIN` | try to end a pin through another heap's scope: refused, and the guard, dropped, ends the pin on its own heap |
//! | `pinned-write PIN OFFSET VALUE` | write one byte of a pinned byte string through its raw pointer |
//! | `ffi ROOT OFFSET VALUE` | write one byte of a byte-string root inside the FFI helper |
//! | `c-fill PIN VALUE` | hand a pinned byte string to the "C thread", which checks its contents and fills it with VALUE while this thread goes on |
//! | `persist ROOT` | make a persistent root to a root's object (at most 32; a 33rd drops the oldest) |
//! | `unpersist P` | drop persistent root P (counting back from the newest) |
//! | `persist-read P` | root persistent root P's object in the current level |
//! | `weak ROOT` | make a weak reference to a root's object |
//! | `weak-read W` | upgrade a weak reference; a live result becomes a root |
//! | `hash ROOT` | ask for a root's identity hash (it must never change) |
//! | `freeze` / `unfreeze` | freeze the heap (a major collection, then the old generation is sealed) / return it to normal collection |
//! | `hooks K` | install hooks of kind K: 0 none, 1 no-op, 2 allocating, 3 collecting, 4 pinning |
//! | `corrupt ROOT` | test only: flip a node's payload behind the model's back |

use std::fmt;
use std::str::FromStr;

/// The longest byte string an operation allocates (the harness builds its contents in ordinary
/// memory too, so a hand-written `alloc-bytes 4294967295` must be refused, not attempted).
pub const MAX_BYTES_LEN: u32 = 1 << 24;
/// The longest array an operation allocates.
pub const MAX_ARRAY_LEN: u32 = 1 << 21;
/// The largest capacity `alloc-vec` asks for.
pub const MAX_VEC_CAPACITY: u32 = 1 << 16;
/// The longest tuple `alloc-tuple` allocates.
pub const MAX_TUPLE_LEN: u32 = 1 << 12;

/// An inline value operand: nothing, a number, or a node root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElemSpec {
    /// Nothing.
    Nil,
    /// A number.
    Num(u64),
    /// Node root (modulo the node roots; nothing when there is none).
    Node(u32),
}

impl fmt::Display for ElemSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElemSpec::Nil => f.write_str("-"),
            ElemSpec::Num(n) => write!(f, "#{n}"),
            ElemSpec::Node(r) => write!(f, "@{r}"),
        }
    }
}

impl FromStr for ElemSpec {
    type Err = String;
    fn from_str(text: &str) -> Result<ElemSpec, String> {
        let bad = || format!("`{text}` is not a value (`-`, `#N` or `@R`)");
        match text.as_bytes().first() {
            _ if text == "-" => Ok(ElemSpec::Nil),
            Some(b'#') => text[1..].parse().map(ElemSpec::Num).map_err(|_| bad()),
            Some(b'@') => text[1..].parse().map(ElemSpec::Node).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }
}

/// One mutator operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Allocate a node.
    AllocNode {
        /// Its payload.
        payload: u64,
    },
    /// Allocate a node with drop glue.
    AllocDrop {
        /// Its payload.
        payload: u64,
    },
    /// Allocate a large node.
    AllocBig {
        /// Seed of its payload.
        payload: u64,
    },
    /// Allocate a byte string.
    AllocBytes {
        /// Length in bytes.
        len: u32,
        /// Seed of its contents.
        seed: u64,
    },
    /// Allocate an array of null references.
    AllocArray {
        /// Number of elements.
        len: u32,
    },
    /// Build a node in one step with its first two reference slots set.
    AllocInit {
        /// Its payload.
        payload: u64,
        /// Node root for slot 0 (modulo the node roots), or `None` for null.
        left: Option<u32>,
        /// Node root for slot 1, or `None`.
        right: Option<u32>,
        /// Born old (non-moving) instead of young.
        old: bool,
    },
    /// Allocate an empty growable array of inline values.
    AllocVec {
        /// Its initial capacity.
        capacity: u32,
    },
    /// Allocate a fixed-length array of inline values, all equal.
    AllocTuple {
        /// Its length.
        len: u32,
        /// Its elements.
        elem: ElemSpec,
    },
    /// Append to a growable array.
    VecPush {
        /// Growable-array root.
        vec: u32,
        /// The value.
        elem: ElemSpec,
    },
    /// Insert into a growable array.
    VecInsert {
        /// Growable-array root.
        vec: u32,
        /// Position (modulo len + 1).
        index: u32,
        /// The value.
        elem: ElemSpec,
    },
    /// Replace an element of a growable array.
    VecSet {
        /// Growable-array root.
        vec: u32,
        /// Position (modulo len).
        index: u32,
        /// The value.
        elem: ElemSpec,
    },
    /// Remove the last element of a growable array.
    VecPop {
        /// Growable-array root.
        vec: u32,
    },
    /// Remove an element of a growable array.
    VecRemove {
        /// Growable-array root.
        vec: u32,
        /// Position (modulo len).
        index: u32,
    },
    /// Shorten a growable array.
    VecTruncate {
        /// Growable-array root.
        vec: u32,
        /// New length (modulo len + 1).
        len: u32,
    },
    /// Copy elements within a growable array.
    VecCopy {
        /// Growable-array root.
        vec: u32,
        /// First source element (modulo len).
        src: u32,
        /// First destination element (modulo len).
        dst: u32,
        /// Elements (clipped to the length).
        count: u32,
    },
    /// Replace an element of a fixed-length array.
    TupleSet {
        /// Fixed-length-array root.
        tuple: u32,
        /// Position (modulo len).
        index: u32,
        /// The value.
        elem: ElemSpec,
    },
    /// Store a reference (or null).
    Write {
        /// Root whose object is written.
        src: u32,
        /// Slot index (modulo the object's slot count).
        slot: u32,
        /// Root of the slot's kind to store (modulo their count), or `None` for null.
        dst: Option<u32>,
    },
    /// Copy a range of array elements through the barrier.
    CopyRange {
        /// Source array root (among array roots).
        src: u32,
        /// Destination array root (among array roots).
        dst: u32,
        /// First source element (modulo the source length).
        from: u32,
        /// First destination element (modulo the destination length).
        to: u32,
        /// Elements to copy (clipped to both arrays).
        len: u32,
    },
    /// Overwrite one byte of a byte string.
    WriteBytes {
        /// Byte-string root (modulo their count).
        root: u32,
        /// Offset (modulo the length).
        offset: u32,
        /// New value.
        value: u8,
    },
    /// Forget a root of the current level.
    DropRoot {
        /// Index among the level's own roots (modulo their count).
        root: u32,
    },
    /// Open a nested scope.
    PushScope,
    /// Close the current nested scope.
    PopScope,
    /// Force a minor collection.
    Minor,
    /// Force a major collection.
    Major,
    /// Pin a root's object.
    Pin {
        /// Root index (modulo the number of roots).
        root: u32,
    },
    /// End a pin with `Scope::unpin`.
    Unpin {
        /// Pin index (modulo the number of live pins).
        pin: u32,
    },
    /// End a pin by dropping its guard.
    DropPin {
        /// Pin index (modulo the number of live pins).
        pin: u32,
    },
    /// Try to end a pin through another heap's scope (refused; the guard is then dropped).
    ForeignUnpin {
        /// Pin index (modulo the number of live pins).
        pin: u32,
    },
    /// Write a byte of a pinned byte string through the raw pointer.
    PinnedWrite {
        /// Pin index among pinned byte strings.
        pin: u32,
        /// Offset (modulo the length).
        offset: u32,
        /// New value.
        value: u8,
    },
    /// Write a byte of a byte-string root inside `Scope::with_nonmoving_buffer`.
    Ffi {
        /// Byte-string root (modulo their count).
        root: u32,
        /// Offset (modulo the length).
        offset: u32,
        /// New value.
        value: u8,
    },
    /// Hand a pinned byte string to the C thread: it checks the contents and fills them.
    CFill {
        /// Pin index among pinned byte strings.
        pin: u32,
        /// The fill value.
        value: u8,
    },
    /// Make a persistent root to a root's object.
    Persist {
        /// Root index (modulo the number of roots).
        root: u32,
    },
    /// Drop a persistent root.
    Unpersist {
        /// Persistent-root index (modulo their number).
        persistent: u32,
    },
    /// Root a persistent root's object in the current level.
    PersistRead {
        /// Persistent-root index (modulo their number).
        persistent: u32,
    },
    /// Make a weak reference to a root's object.
    Weak {
        /// Root index (modulo the number of roots).
        root: u32,
    },
    /// Upgrade a weak reference.
    WeakRead {
        /// Weak-reference index (modulo their number).
        weak: u32,
    },
    /// Ask for a root's identity hash.
    Hash {
        /// Root index (modulo the number of roots).
        root: u32,
    },
    /// Freeze the heap.
    Freeze,
    /// Unfreeze the heap.
    Unfreeze,
    /// Install (or remove) collection hooks.
    Hooks {
        /// The kind (see [`crate::hooks::HookKind::from_index`]).
        kind: u32,
    },
    /// Test-only corruption: flip a node's payload without telling the model.
    Corrupt {
        /// Node root (modulo their count).
        root: u32,
    },
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Op::AllocNode { payload } => write!(f, "alloc-node {payload}"),
            Op::AllocDrop { payload } => write!(f, "alloc-drop {payload}"),
            Op::AllocBig { payload } => write!(f, "alloc-big {payload}"),
            Op::AllocBytes { len, seed } => write!(f, "alloc-bytes {len} {seed}"),
            Op::AllocArray { len } => write!(f, "alloc-array {len}"),
            Op::AllocInit {
                payload,
                left,
                right,
                old,
            } => {
                let root = |r: Option<u32>| r.map_or("-".to_string(), |r| r.to_string());
                let name = if old { "alloc-init-old" } else { "alloc-init" };
                write!(f, "{name} {payload} {} {}", root(left), root(right))
            }
            Op::AllocVec { capacity } => write!(f, "alloc-vec {capacity}"),
            Op::AllocTuple { len, elem } => write!(f, "alloc-tuple {len} {elem}"),
            Op::VecPush { vec, elem } => write!(f, "vec-push {vec} {elem}"),
            Op::VecInsert { vec, index, elem } => write!(f, "vec-insert {vec} {index} {elem}"),
            Op::VecSet { vec, index, elem } => write!(f, "vec-set {vec} {index} {elem}"),
            Op::VecPop { vec } => write!(f, "vec-pop {vec}"),
            Op::VecRemove { vec, index } => write!(f, "vec-remove {vec} {index}"),
            Op::VecTruncate { vec, len } => write!(f, "vec-truncate {vec} {len}"),
            Op::VecCopy {
                vec,
                src,
                dst,
                count,
            } => write!(f, "vec-copy {vec} {src} {dst} {count}"),
            Op::TupleSet { tuple, index, elem } => {
                write!(f, "tuple-set {tuple} {index} {elem}")
            }
            Op::Write {
                src,
                slot,
                dst: Some(d),
            } => write!(f, "write {src} {slot} {d}"),
            Op::Write {
                src,
                slot,
                dst: None,
            } => write!(f, "write {src} {slot} -"),
            Op::CopyRange {
                src,
                dst,
                from,
                to,
                len,
            } => write!(f, "copy-range {src} {dst} {from} {to} {len}"),
            Op::WriteBytes {
                root,
                offset,
                value,
            } => write!(f, "write-bytes {root} {offset} {value}"),
            Op::DropRoot { root } => write!(f, "drop-root {root}"),
            Op::PushScope => f.write_str("push-scope"),
            Op::PopScope => f.write_str("pop-scope"),
            Op::Minor => f.write_str("minor"),
            Op::Major => f.write_str("major"),
            Op::Pin { root } => write!(f, "pin {root}"),
            Op::Unpin { pin } => write!(f, "unpin {pin}"),
            Op::DropPin { pin } => write!(f, "drop-pin {pin}"),
            Op::ForeignUnpin { pin } => write!(f, "foreign-unpin {pin}"),
            Op::PinnedWrite { pin, offset, value } => {
                write!(f, "pinned-write {pin} {offset} {value}")
            }
            Op::Ffi {
                root,
                offset,
                value,
            } => write!(f, "ffi {root} {offset} {value}"),
            Op::CFill { pin, value } => write!(f, "c-fill {pin} {value}"),
            Op::Persist { root } => write!(f, "persist {root}"),
            Op::Unpersist { persistent } => write!(f, "unpersist {persistent}"),
            Op::PersistRead { persistent } => write!(f, "persist-read {persistent}"),
            Op::Weak { root } => write!(f, "weak {root}"),
            Op::WeakRead { weak } => write!(f, "weak-read {weak}"),
            Op::Hash { root } => write!(f, "hash {root}"),
            Op::Freeze => f.write_str("freeze"),
            Op::Unfreeze => f.write_str("unfreeze"),
            Op::Hooks { kind } => write!(f, "hooks {kind}"),
            Op::Corrupt { root } => write!(f, "corrupt {root}"),
        }
    }
}

/// Why a line is not an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot parse operation `{line}`: {reason}")]
pub struct ParseOpError {
    /// The line.
    pub line: String,
    /// What was wrong.
    pub reason: String,
}

impl FromStr for Op {
    type Err = ParseOpError;

    fn from_str(line: &str) -> Result<Op, ParseOpError> {
        let err = |reason: &str| ParseOpError {
            line: line.to_string(),
            reason: reason.to_string(),
        };
        let mut words = line.split_whitespace();
        let name = words.next().ok_or_else(|| err("empty line"))?;
        let args: Vec<&str> = words.collect();
        let num = |i: usize| -> Result<u64, ParseOpError> {
            args.get(i)
                .ok_or_else(|| err("missing argument"))?
                .parse::<u64>()
                .map_err(|_| err("arguments are unsigned integers"))
        };
        let u32_at = |i: usize| -> Result<u32, ParseOpError> {
            u32::try_from(num(i)?).map_err(|_| err("argument too large"))
        };
        let elem = |i: usize| -> Result<ElemSpec, ParseOpError> {
            args.get(i)
                .ok_or_else(|| err("missing argument"))?
                .parse()
                .map_err(|e: String| err(&e))
        };
        let want = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(err(&format!("expected {n} argument(s)")))
            }
        };
        let op = match name {
            "alloc-node" => {
                want(1)?;
                Op::AllocNode { payload: num(0)? }
            }
            "alloc-drop" => {
                want(1)?;
                Op::AllocDrop { payload: num(0)? }
            }
            "alloc-big" => {
                want(1)?;
                Op::AllocBig { payload: num(0)? }
            }
            "alloc-bytes" => {
                want(2)?;
                let len = u32_at(0)?;
                if len > MAX_BYTES_LEN {
                    return Err(err(&format!(
                        "a byte string is at most {MAX_BYTES_LEN} bytes long"
                    )));
                }
                Op::AllocBytes { len, seed: num(1)? }
            }
            "alloc-array" => {
                want(1)?;
                let len = u32_at(0)?;
                if len > MAX_ARRAY_LEN {
                    return Err(err(&format!(
                        "an array has at most {MAX_ARRAY_LEN} elements"
                    )));
                }
                Op::AllocArray { len }
            }
            "alloc-init" | "alloc-init-old" => {
                want(3)?;
                let root = |i: usize| -> Result<Option<u32>, ParseOpError> {
                    if args[i] == "-" {
                        Ok(None)
                    } else {
                        u32_at(i).map(Some)
                    }
                };
                Op::AllocInit {
                    payload: num(0)?,
                    left: root(1)?,
                    right: root(2)?,
                    old: name == "alloc-init-old",
                }
            }
            "alloc-vec" => {
                want(1)?;
                let capacity = u32_at(0)?;
                if capacity > MAX_VEC_CAPACITY {
                    return Err(err(&format!(
                        "a vector's capacity is at most {MAX_VEC_CAPACITY}"
                    )));
                }
                Op::AllocVec { capacity }
            }
            "alloc-tuple" => {
                want(2)?;
                let len = u32_at(0)?;
                if len > MAX_TUPLE_LEN {
                    return Err(err(&format!(
                        "a tuple has at most {MAX_TUPLE_LEN} elements"
                    )));
                }
                Op::AllocTuple {
                    len,
                    elem: elem(1)?,
                }
            }
            "vec-push" => {
                want(2)?;
                Op::VecPush {
                    vec: u32_at(0)?,
                    elem: elem(1)?,
                }
            }
            "vec-insert" => {
                want(3)?;
                Op::VecInsert {
                    vec: u32_at(0)?,
                    index: u32_at(1)?,
                    elem: elem(2)?,
                }
            }
            "vec-set" => {
                want(3)?;
                Op::VecSet {
                    vec: u32_at(0)?,
                    index: u32_at(1)?,
                    elem: elem(2)?,
                }
            }
            "vec-pop" => {
                want(1)?;
                Op::VecPop { vec: u32_at(0)? }
            }
            "vec-remove" => {
                want(2)?;
                Op::VecRemove {
                    vec: u32_at(0)?,
                    index: u32_at(1)?,
                }
            }
            "vec-truncate" => {
                want(2)?;
                Op::VecTruncate {
                    vec: u32_at(0)?,
                    len: u32_at(1)?,
                }
            }
            "vec-copy" => {
                want(4)?;
                Op::VecCopy {
                    vec: u32_at(0)?,
                    src: u32_at(1)?,
                    dst: u32_at(2)?,
                    count: u32_at(3)?,
                }
            }
            "tuple-set" => {
                want(3)?;
                Op::TupleSet {
                    tuple: u32_at(0)?,
                    index: u32_at(1)?,
                    elem: elem(2)?,
                }
            }
            "write" => {
                want(3)?;
                let dst = if args[2] == "-" {
                    None
                } else {
                    Some(u32_at(2)?)
                };
                Op::Write {
                    src: u32_at(0)?,
                    slot: u32_at(1)?,
                    dst,
                }
            }
            "write-bytes" => {
                want(3)?;
                let value = u8::try_from(num(2)?).map_err(|_| err("a byte is 0..=255"))?;
                Op::WriteBytes {
                    root: u32_at(0)?,
                    offset: u32_at(1)?,
                    value,
                }
            }
            "copy-range" => {
                want(5)?;
                Op::CopyRange {
                    src: u32_at(0)?,
                    dst: u32_at(1)?,
                    from: u32_at(2)?,
                    to: u32_at(3)?,
                    len: u32_at(4)?,
                }
            }
            "drop-root" => {
                want(1)?;
                Op::DropRoot { root: u32_at(0)? }
            }
            "push-scope" => {
                want(0)?;
                Op::PushScope
            }
            "pop-scope" => {
                want(0)?;
                Op::PopScope
            }
            "minor" => {
                want(0)?;
                Op::Minor
            }
            "major" => {
                want(0)?;
                Op::Major
            }
            "pin" => {
                want(1)?;
                Op::Pin { root: u32_at(0)? }
            }
            "unpin" => {
                want(1)?;
                Op::Unpin { pin: u32_at(0)? }
            }
            "drop-pin" => {
                want(1)?;
                Op::DropPin { pin: u32_at(0)? }
            }
            "foreign-unpin" => {
                want(1)?;
                Op::ForeignUnpin { pin: u32_at(0)? }
            }
            "pinned-write" => {
                want(3)?;
                let value = u8::try_from(num(2)?).map_err(|_| err("a byte is 0..=255"))?;
                Op::PinnedWrite {
                    pin: u32_at(0)?,
                    offset: u32_at(1)?,
                    value,
                }
            }
            "ffi" => {
                want(3)?;
                let value = u8::try_from(num(2)?).map_err(|_| err("a byte is 0..=255"))?;
                Op::Ffi {
                    root: u32_at(0)?,
                    offset: u32_at(1)?,
                    value,
                }
            }
            "c-fill" => {
                want(2)?;
                let value = u8::try_from(num(1)?).map_err(|_| err("a byte is 0..=255"))?;
                Op::CFill {
                    pin: u32_at(0)?,
                    value,
                }
            }
            "persist" => {
                want(1)?;
                Op::Persist { root: u32_at(0)? }
            }
            "unpersist" => {
                want(1)?;
                Op::Unpersist {
                    persistent: u32_at(0)?,
                }
            }
            "persist-read" => {
                want(1)?;
                Op::PersistRead {
                    persistent: u32_at(0)?,
                }
            }
            "weak" => {
                want(1)?;
                Op::Weak { root: u32_at(0)? }
            }
            "weak-read" => {
                want(1)?;
                Op::WeakRead { weak: u32_at(0)? }
            }
            "hash" => {
                want(1)?;
                Op::Hash { root: u32_at(0)? }
            }
            "freeze" => {
                want(0)?;
                Op::Freeze
            }
            "unfreeze" => {
                want(0)?;
                Op::Unfreeze
            }
            "hooks" => {
                want(1)?;
                Op::Hooks { kind: u32_at(0)? }
            }
            "corrupt" => {
                want(1)?;
                Op::Corrupt { root: u32_at(0)? }
            }
            _ => return Err(err("unknown operation")),
        };
        Ok(op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_round_trips_through_text() {
        let ops = [
            Op::AllocNode { payload: 7 },
            Op::AllocDrop { payload: 1 },
            Op::AllocBig { payload: u64::MAX },
            Op::AllocBytes { len: 3, seed: 9 },
            Op::AllocArray { len: 0 },
            Op::AllocInit {
                payload: 3,
                left: Some(1),
                right: None,
                old: false,
            },
            Op::AllocInit {
                payload: 4,
                left: None,
                right: Some(0),
                old: true,
            },
            Op::Write {
                src: 1,
                slot: 2,
                dst: Some(3),
            },
            Op::Write {
                src: 1,
                slot: 2,
                dst: None,
            },
            Op::AllocVec { capacity: 3 },
            Op::AllocTuple {
                len: 2,
                elem: ElemSpec::Num(9),
            },
            Op::VecPush {
                vec: 0,
                elem: ElemSpec::Node(4),
            },
            Op::VecInsert {
                vec: 1,
                index: 2,
                elem: ElemSpec::Nil,
            },
            Op::VecSet {
                vec: 1,
                index: 2,
                elem: ElemSpec::Num(u64::MAX),
            },
            Op::VecPop { vec: 3 },
            Op::VecRemove { vec: 3, index: 1 },
            Op::VecTruncate { vec: 0, len: 5 },
            Op::VecCopy {
                vec: 0,
                src: 1,
                dst: 2,
                count: 3,
            },
            Op::TupleSet {
                tuple: 0,
                index: 1,
                elem: ElemSpec::Node(0),
            },
            Op::WriteBytes {
                root: 0,
                offset: 5,
                value: 255,
            },
            Op::DropRoot { root: 4 },
            Op::PushScope,
            Op::PopScope,
            Op::Minor,
            Op::Major,
            Op::Pin { root: 3 },
            Op::Unpin { pin: 1 },
            Op::DropPin { pin: 0 },
            Op::ForeignUnpin { pin: 7 },
            Op::PinnedWrite {
                pin: 2,
                offset: 9,
                value: 4,
            },
            Op::Ffi {
                root: 1,
                offset: 3,
                value: 200,
            },
            Op::CFill { pin: 5, value: 17 },
            Op::Hooks { kind: 3 },
            Op::Freeze,
            Op::Unfreeze,
            Op::Weak { root: 4 },
            Op::Persist { root: 2 },
            Op::Unpersist { persistent: 1 },
            Op::PersistRead { persistent: 0 },
            Op::WeakRead { weak: 1 },
            Op::Hash { root: 0 },
            Op::CopyRange {
                src: 1,
                dst: 2,
                from: 3,
                to: 4,
                len: 5,
            },
            Op::Corrupt { root: 2 },
        ];
        for op in ops {
            assert_eq!(op.to_string().parse::<Op>(), Ok(op));
        }
    }

    #[test]
    fn bad_lines_are_errors_not_panics() {
        for line in [
            "",
            "alloc-node",
            "alloc-node x",
            "write 1 2",
            "write-bytes 0 0 256",
            "alloc-bytes 4294967295 1",
            "alloc-array 4294967295",
            "alloc-vec 99999999",
            "vec-push 0 x",
            "vec-push 0 #",
            "fly 1",
        ] {
            assert!(line.parse::<Op>().is_err(), "{line}");
        }
    }
}
