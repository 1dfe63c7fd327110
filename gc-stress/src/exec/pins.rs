//! Pins: pinning a root, ending a pin (explicitly, by dropping its guard, or refused through
//! another heap's scope), writing through a pinned byte string's raw pointer, the FFI helper, and
//! handing a pinned byte string to the C thread. Every pin is a root in the heap and in the
//! model until it ends; operations that touch pinned bytes first wait for the C thread.

use gc_core::{GcError, Heap, Scope};

use super::{pick, pick_of_kind, Executor, Failure, Level, MAX_PINS};
use crate::cthread::{checksum, CThread};
use crate::objects::{AnyHandle, Kind};
use crate::ops::Op;

impl Executor<'_> {
    /// Runs a pin operation.
    pub(super) fn apply_pin<'s>(
        &mut self,
        s: &mut Scope<'s>,
        level: &mut Level<'s>,
        op: Op,
        at: usize,
    ) -> Result<(), Failure> {
        match op {
            Op::Pin { root } => {
                let Some(&(id, h)) = pick(&level.view, root) else {
                    return Ok(());
                };
                if h.kind() == Kind::Vec {
                    // A vector's pin holds its storage, not the vector, which the model does
                    // not represent; vector pinning is tested in gc-core's `tests/inline.rs`.
                    return Ok(());
                }
                let pinned = crate::with_handle!(h, h => s.pin(h));
                match pinned {
                    Ok(guard) => {
                        if self.pins.len() >= MAX_PINS {
                            self.wait_c(at)?;
                            self.pins.remove(0);
                        }
                        self.pins.push((id, h.kind(), guard));
                    }
                    Err(GcError::PinLimitReached { .. } | GcError::PinningDisabled) => {}
                    Err(e) => return Err(self.fail(at, format!("pin failed: {e}"))),
                }
            }
            Op::Unpin { pin } | Op::DropPin { pin } | Op::ForeignUnpin { pin } => {
                if self.pins.is_empty() {
                    return Ok(());
                }
                self.wait_c(at)?;
                let i = pin as usize % self.pins.len();
                let (_, _, guard) = self.pins.remove(i);
                match op {
                    Op::Unpin { .. } => s
                        .unpin(guard)
                        .map_err(|e| self.fail(at, format!("unpin failed: {e}")))?,
                    Op::ForeignUnpin { .. } => {
                        // Refused, and the guard, dropped by the refused call, ends the pin on
                        // its own heap: the model forgets the pin as for `drop-pin`.
                        let other = match &mut self.foreign {
                            Some(h) => h,
                            None => self.foreign.insert(
                                Heap::new(gc_core::Config::default())
                                    .map_err(|e| self.fail(at, format!("second heap: {e}")))?,
                            ),
                        };
                        let refused = other.scope(|o| o.unpin(guard));
                        if refused != Err(GcError::NotPinned) {
                            return Err(self.fail(
                                at,
                                format!("another heap's scope ended a pin: {refused:?}"),
                            ));
                        }
                    }
                    _ => drop(guard),
                }
            }
            Op::PinnedWrite { pin, offset, value } => {
                self.wait_c(at)?;
                let Some(i) = self.pinned_bytes(pin) else {
                    return Ok(());
                };
                let (id, _, guard) = &self.pins[i];
                if guard.is_empty() {
                    return Ok(());
                }
                let offset = offset as usize % guard.len();
                // SAFETY: the guard keeps the byte string alive and in place, and nothing else
                // touches its bytes now (the C thread is idle).
                unsafe { guard.as_ptr().add(offset).write(value) };
                let id = *id;
                self.model.get_mut(id).bytes[offset] = value;
            }
            Op::Ffi {
                root,
                offset,
                value,
            } => {
                self.wait_c(at)?;
                let Some((id, AnyHandle::Bytes(h))) = pick_of_kind(&level.view, Kind::Bytes, root)
                else {
                    return Ok(());
                };
                let written = s.with_nonmoving_buffer(h, |bytes| {
                    if bytes.is_empty() {
                        return None;
                    }
                    let i = offset as usize % bytes.len();
                    bytes[i] = value;
                    Some(i)
                });
                if let Some(i) = written {
                    self.model.get_mut(id).bytes[i] = value;
                }
            }
            Op::CFill { pin, value } => {
                let Some(i) = self.pinned_bytes(pin) else {
                    return Ok(());
                };
                let (id, _, guard) = &self.pins[i];
                let (id, ptr, len) = (*id, guard.as_ptr(), guard.len());
                let bytes = &mut self.model.get_mut(id).bytes;
                let expect = checksum(bytes);
                bytes.fill(value);
                self.cthread
                    .get_or_insert_with(CThread::spawn)
                    .submit(ptr, len, expect, value, id);
            }
            _ => unreachable!("not a pin operation: {op}"),
        }
        Ok(())
    }

    /// The index of the pin selected among the pinned byte strings.
    fn pinned_bytes(&self, pin: u32) -> Option<usize> {
        let candidates: Vec<usize> = (0..self.pins.len())
            .filter(|&i| self.pins[i].1 == Kind::Bytes)
            .collect();
        pick(&candidates, pin).copied()
    }

    /// Waits for the C thread's outstanding jobs.
    pub(super) fn wait_c(&mut self, at: usize) -> Result<(), Failure> {
        match &mut self.cthread {
            Some(c) if c.busy() => c.wait_all().map_err(|m| Failure {
                op_index: at,
                message: m,
            }),
            _ => Ok(()),
        }
    }
}
