//! Operations as text: each `Op` prints as one line of a replay file and parses back from it;
//! a line that is not an operation is a [`ParseOpError`] naming the line and what was wrong.

use std::fmt;
use std::str::FromStr;

use super::{ElemSpec, Op, MAX_ARRAY_LEN, MAX_BYTES_LEN, MAX_TUPLE_LEN, MAX_VEC_CAPACITY};

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
            Op::ViewPushCopy { vec, src } => write!(f, "view-push-copy {vec} {src}"),
            Op::ViewCopy { vec, src, dst } => write!(f, "view-copy {vec} {src} {dst}"),
            Op::ViewSet { vec, index, value } => write!(f, "view-set {vec} {index} {value}"),
            Op::ViewLentPush { vec, elem, dst } => write!(f, "view-lent-push {vec} {elem} {dst}"),
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
            "view-push-copy" => {
                want(2)?;
                Op::ViewPushCopy {
                    vec: u32_at(0)?,
                    src: u32_at(1)?,
                }
            }
            "view-copy" => {
                want(3)?;
                Op::ViewCopy {
                    vec: u32_at(0)?,
                    src: u32_at(1)?,
                    dst: u32_at(2)?,
                }
            }
            "view-set" => {
                want(3)?;
                Op::ViewSet {
                    vec: u32_at(0)?,
                    index: u32_at(1)?,
                    value: num(2)?,
                }
            }
            "view-lent-push" => {
                want(3)?;
                Op::ViewLentPush {
                    vec: u32_at(0)?,
                    elem: elem(1)?,
                    dst: u32_at(2)?,
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
