//! Allocation: every kind of object the model knows, built empty or in one step
//! (`alloc-init`, young or born old) with its links, and rooted in the current level.

use gc_core::{Member, Scope};

use super::{pick_of_kind, Executor, Failure, Level};
use crate::objects::{big_data, bytes_from_seed, AnyHandle, BigNode, DropNode, Kind, Node, Probe};
use crate::ops::Op;

impl Executor<'_> {
    /// Runs an allocation.
    pub(super) fn apply_alloc<'s>(
        &mut self,
        s: &mut Scope<'s>,
        level: &mut Level<'s>,
        op: Op,
        at: usize,
    ) -> Result<(), Failure> {
        let alloc_err = |e: gc_core::GcError| Failure {
            op_index: at,
            message: format!("allocation failed: {e}"),
        };
        match op {
            Op::AllocNode { payload } => {
                let id = self.model.add(Kind::Node, payload, Vec::new(), 0);
                let h = s.alloc(Node::new(id, payload)).map_err(alloc_err)?;
                self.root(s, level, id, AnyHandle::Node(h));
            }
            Op::AllocDrop { payload } => {
                let id = self.model.add(Kind::Drop, payload, Vec::new(), 0);
                let h = s
                    .alloc(DropNode {
                        id,
                        payload,
                        probe: Probe { id },
                        refs: [Member::null(), Member::null()],
                    })
                    .map_err(alloc_err)?;
                self.root(s, level, id, AnyHandle::Drop(h));
            }
            Op::AllocBig { payload } => {
                let id = self.model.add(Kind::Big, payload, Vec::new(), 0);
                let h = s
                    .alloc(BigNode {
                        id,
                        data: big_data(payload),
                        refs: [Member::null(), Member::null()],
                    })
                    .map_err(alloc_err)?;
                self.root(s, level, id, AnyHandle::Big(h));
            }
            Op::AllocBytes { len, seed } => {
                let bytes = bytes_from_seed(len as usize, seed);
                let h = s.alloc_bytes(&bytes).map_err(alloc_err)?;
                let id = self.model.add(Kind::Bytes, 0, bytes, 0);
                self.root(s, level, id, AnyHandle::Bytes(h));
            }
            Op::AllocArray { len } => {
                let h = s.alloc_array::<Node>(len as usize).map_err(alloc_err)?;
                let id = self.model.add(Kind::Array, 0, Vec::new(), len as usize);
                self.root(s, level, id, AnyHandle::Array(h));
            }
            Op::AllocInit {
                payload,
                left,
                right,
                old,
            } => {
                let pick = |r: Option<u32>| {
                    r.and_then(|r| pick_of_kind(&level.view, Kind::Node, r))
                        .map(|(id, h)| (id, h.as_node().expect("a node root")))
                };
                let (l, r) = (pick(left), pick(right));
                let id = self.model.add(Kind::Node, payload, Vec::new(), 0);
                let init = crate::objects::NodeInit {
                    id,
                    payload: std::cell::Cell::new(payload),
                    refs: [l.map(|x| x.1), r.map(|x| x.1)],
                    bytes: None,
                    array: None,
                    dropper: None,
                    big: None,
                };
                let h = if old {
                    s.alloc_init_nonmoving(init)
                } else {
                    s.alloc_init(init)
                }
                .map_err(alloc_err)?;
                let slots = &mut self.model.get_mut(id).slots;
                slots[0] = l.map(|x| x.0);
                slots[1] = r.map(|x| x.0);
                self.root(s, level, id, AnyHandle::Node(h));
            }
            _ => unreachable!("not an allocation operation: {op}"),
        }
        Ok(())
    }
}
