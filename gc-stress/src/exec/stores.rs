//! Stores: a reference into a slot (through the barrier, a target of the wrong kind stores
//! null), a range of one reference array into another (one bulk copy through the store path),
//! and a byte into a byte string.

use gc_core::Scope;

use super::{pick, pick_of_kind, Executor, Failure, Level};
use crate::objects::{AnyHandle, Kind};
use crate::ops::Op;

impl Executor<'_> {
    /// Runs a store.
    pub(super) fn apply_store<'s>(
        &mut self,
        s: &mut Scope<'s>,
        level: &mut Level<'s>,
        op: Op,
        at: usize,
    ) -> Result<(), Failure> {
        match op {
            Op::Write { src, slot, dst } => {
                let view = &level.view;
                let Some(&(src_id, src_h)) = pick(view, src) else {
                    return Ok(());
                };
                let n = self.model.get(src_id).slots.len();
                if n == 0 {
                    return Ok(());
                }
                let slot = slot as usize % n;
                let want = src_h.kind().slot_kinds(n)[slot];
                let target = dst.and_then(|d| pick_of_kind(view, want, d));
                store(s, src_h, slot, target.map(|t| t.1))
                    .map_err(|e| self.fail(at, format!("write failed: {e}")))?;
                self.model.get_mut(src_id).slots[slot] = target.map(|t| t.0);
            }
            Op::CopyRange {
                src,
                dst,
                from,
                to,
                len,
            } => {
                let arrays: Vec<(u64, AnyHandle<'s>)> = level
                    .view
                    .iter()
                    .copied()
                    .filter(|(_, h)| h.kind() == Kind::Array)
                    .collect();
                let (Some(&(sid, AnyHandle::Array(sh))), Some(&(did, AnyHandle::Array(dh)))) =
                    (pick(&arrays, src), pick(&arrays, dst))
                else {
                    return Ok(());
                };
                let (slen, dlen) = (s.array_len(sh), s.array_len(dh));
                if slen == 0 || dlen == 0 {
                    return Ok(());
                }
                let (from, to) = (from as usize % slen, to as usize % dlen);
                let n = (len as usize).min(slen - from).min(dlen - to);
                // One bulk copy through the store path (the ranges may overlap).
                s.try_array_copy(sh, from, dh, to, n)
                    .map_err(|e| self.fail(at, format!("array copy failed: {e}")))?;
                let copied: Vec<Option<u64>> = self.model.get(sid).slots[from..from + n].to_vec();
                self.model.get_mut(did).slots[to..to + n].copy_from_slice(&copied);
            }
            Op::WriteBytes {
                root,
                offset,
                value,
            } => {
                self.wait_c(at)?;
                let Some((id, AnyHandle::Bytes(h))) = pick_of_kind(&level.view, Kind::Bytes, root)
                else {
                    return Ok(());
                };
                let bytes = s.bytes_mut(h);
                if bytes.is_empty() {
                    return Ok(());
                }
                let i = offset as usize % bytes.len();
                bytes[i] = value;
                self.model.get_mut(id).bytes[i] = value;
            }
            _ => unreachable!("not a store operation: {op}"),
        }
        Ok(())
    }
}

/// Stores `target` into slot `slot` of `src` through the barrier (a target of the wrong kind
/// stores null).
fn store(
    s: &Scope<'_>,
    src: AnyHandle<'_>,
    slot: usize,
    target: Option<AnyHandle<'_>>,
) -> Result<(), gc_core::GcError> {
    let node = target.and_then(AnyHandle::as_node);
    match src {
        AnyHandle::Node(h) => match slot {
            0 | 1 => s.try_set(h, |n| &n.refs[slot], node),
            2 => s.try_set(h, |n| &n.bytes, target.and_then(AnyHandle::as_bytes)),
            3 => s.try_set(h, |n| &n.array, target.and_then(AnyHandle::as_array)),
            4 => s.try_set(h, |n| &n.dropper, target.and_then(AnyHandle::as_drop)),
            _ => s.try_set(h, |n| &n.big, target.and_then(AnyHandle::as_big)),
        },
        AnyHandle::Drop(h) => s.try_set(h, |d| &d.refs[slot], node),
        AnyHandle::Big(h) => s.try_set(h, |b| &b.refs[slot], node),
        AnyHandle::Array(h) => s.try_array_set(h, slot, node),
        AnyHandle::Bytes(_) | AnyHandle::Vec(_) | AnyHandle::Tuple(_) => Ok(()),
    }
}
