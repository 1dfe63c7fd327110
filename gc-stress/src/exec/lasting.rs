//! References that outlive the scope that made them: persistent roots (roots in the heap and
//! the model until dropped), weak references (never upgraded once seen cleared, never cleared
//! while the object is reachable) and identity hashes (the same for an object's whole life).

use gc_core::Scope;

use super::{pick, Executor, Failure, Level, MAX_PERSISTENT};
use crate::objects::{AnyPersistent, AnyWeak};
use crate::ops::Op;

impl Executor<'_> {
    /// Runs an operation on persistent roots, weak references or identity hashes.
    pub(super) fn apply_lasting<'s>(
        &mut self,
        s: &mut Scope<'s>,
        level: &mut Level<'s>,
        op: Op,
        at: usize,
    ) -> Result<(), Failure> {
        match op {
            Op::Persist { root } => {
                let Some(&(id, h)) = pick(&level.view, root) else {
                    return Ok(());
                };
                let p = AnyPersistent::new(s, h)
                    .map_err(|e| self.fail(at, format!("persist failed: {e}")))?;
                if self.persistents.len() >= MAX_PERSISTENT {
                    self.persistents.remove(0);
                }
                self.persistents.push((id, p));
            }
            Op::Unpersist { persistent } => {
                if !self.persistents.is_empty() {
                    let i =
                        self.persistents.len() - 1 - persistent as usize % self.persistents.len();
                    self.persistents.remove(i);
                }
            }
            Op::PersistRead { persistent } => {
                let Some((id, p)) = pick(&self.persistents, persistent) else {
                    return Ok(());
                };
                let id = *id;
                let h = p
                    .read(s)
                    .map_err(|e| self.fail(at, format!("persistent root unreadable: {e}")))?;
                self.root(s, level, id, h);
            }
            Op::Weak { root } => {
                let Some(&(id, h)) = pick(&level.view, root) else {
                    return Ok(());
                };
                if self.weaks.len() >= 64 {
                    self.weaks.remove(0);
                }
                self.weaks.push((id, AnyWeak::new(s, h), false));
            }
            Op::WeakRead { weak } => {
                if self.weaks.is_empty() {
                    return Ok(());
                }
                let i = weak as usize % self.weaks.len();
                let (id, upgraded, cleared) = {
                    let (id, w, cleared) = &self.weaks[i];
                    (*id, w.upgrade(s), *cleared)
                };
                match upgraded {
                    Some(h) if cleared => {
                        let _ = h;
                        return Err(self.fail(
                            at,
                            format!("object {id}: a cleared weak reference came back"),
                        ));
                    }
                    Some(h) => self.root(s, level, id, h), // reachable again, through a new root
                    None => {
                        if self.live_ids(&level.view).contains(&id) {
                            return Err(self.fail(
                                at,
                                format!("object {id}: weak reference cleared while reachable"),
                            ));
                        }
                        self.weaks[i].2 = true;
                    }
                }
            }
            Op::Hash { root } => {
                let Some(&(id, h)) = pick(&level.view, root) else {
                    return Ok(());
                };
                let hash = h.identity_hash(s);
                match self.hashes.get(&id) {
                    Some(&first) if first != hash => {
                        return Err(self.fail(
                            at,
                            format!(
                                "object {id}: identity hash changed from {first:#x} to {hash:#x}"
                            ),
                        ))
                    }
                    _ => {
                        self.hashes.insert(id, hash);
                    }
                }
            }
            _ => unreachable!("not a lasting-reference operation: {op}"),
        }
        Ok(())
    }
}
