//! The operations on arrays of inline values: growable (`GcVec<Elem>`) and fixed-length
//! (`GcSlice<Elem>`). Every change is made to the heap and to the model's `values` alike; an
//! index operand is taken modulo the length (plus one where the end is a valid position), so
//! any program is valid.

use gc_core::{GcError, Handle, Scope};

use super::{pick_of_kind, Executor, Failure, Level};
use crate::model::Value;
use crate::objects::{AnyHandle, Elem, ElemInit, Kind, Node};
use crate::ops::{ElemSpec, Op};

impl Executor<'_> {
    /// The model value and the mirror for a value operand (`@R` with no node root is nil).
    fn elem<'s>(&self, level: &Level<'s>, spec: ElemSpec) -> (Value, ElemInit<'s>) {
        match spec {
            ElemSpec::Nil => (Value::Nil, ElemInit::Nil),
            ElemSpec::Num(n) => (Value::Num(n), ElemInit::Num(n)),
            ElemSpec::Node(r) => match pick_of_kind(&level.view, Kind::Node, r) {
                Some((id, h)) => (
                    Value::Node(id),
                    ElemInit::Node(Some(h.as_node().expect("a node root"))),
                ),
                None => (Value::Nil, ElemInit::Nil),
            },
        }
    }

    /// The growable-array root `index` selects, with its model id.
    fn vec_root<'s>(
        &self,
        level: &Level<'s>,
        index: u32,
    ) -> Option<(u64, Handle<'s, gc_core::GcVec<Elem>>)> {
        match pick_of_kind(&level.view, Kind::Vec, index)? {
            (id, AnyHandle::Vec(h)) => Some((id, h)),
            _ => None,
        }
    }

    /// The growable-array root `index` selects and its model's values, when it has any (the
    /// operations that pick an element by index do nothing on an empty vector).
    fn nonempty_vec<'s>(
        &mut self,
        level: &Level<'s>,
        index: u32,
    ) -> Option<(Handle<'s, gc_core::GcVec<Elem>>, &mut Vec<Value>)> {
        let (id, h) = self.vec_root(level, index)?;
        let values = &mut self.model.get_mut(id).values;
        (!values.is_empty()).then_some((h, values))
    }

    pub(super) fn apply_inline<'s>(
        &mut self,
        s: &mut Scope<'s>,
        level: &mut Level<'s>,
        op: Op,
        at: usize,
    ) -> Result<(), Failure> {
        let failed = |what: &str, e: GcError| Failure {
            op_index: at,
            message: format!("{what} failed: {e}"),
        };
        match op {
            Op::AllocVec { capacity } => {
                let h = s
                    .alloc_vec::<Elem>(capacity as usize)
                    .map_err(|e| failed("allocation", e))?;
                let id = self.model.add(Kind::Vec, 0, Vec::new(), 0);
                self.root(s, level, id, AnyHandle::Vec(h));
            }
            Op::AllocTuple { len, elem } => {
                let (value, _) = self.elem(level, elem);
                let items: Vec<ElemInit<'s>> = (0..len).map(|_| self.elem(level, elem).1).collect();
                let h = s.alloc_slice(items).map_err(|e| failed("allocation", e))?;
                let id = self.model.add(Kind::Tuple, 0, Vec::new(), 0);
                self.model.get_mut(id).values = vec![value; len as usize];
                self.root(s, level, id, AnyHandle::Tuple(h));
            }
            Op::VecPush { vec, elem } | Op::VecInsert { vec, elem, .. } => {
                let Some((id, h)) = self.vec_root(level, vec) else {
                    return Ok(());
                };
                let len = self.model.get(id).values.len();
                let index = match op {
                    Op::VecInsert { index, .. } => index as usize % (len + 1),
                    _ => len,
                };
                let (value, init) = self.elem(level, elem);
                s.try_vec_insert(h, index, init)
                    .map_err(|e| failed("vector insert", e))?;
                self.model.get_mut(id).values.insert(index, value);
            }
            Op::VecSet { vec, index, elem } => {
                let Some((id, h)) = self.vec_root(level, vec) else {
                    return Ok(());
                };
                let len = self.model.get(id).values.len();
                if len == 0 {
                    return Ok(());
                }
                let index = index as usize % len;
                let (value, init) = self.elem(level, elem);
                s.try_vec_set(h, index, init)
                    .map_err(|e| failed("vector set", e))?;
                self.model.get_mut(id).values[index] = value;
            }
            Op::VecPop { vec } => {
                let Some((id, h)) = self.vec_root(level, vec) else {
                    return Ok(());
                };
                let popped = self.model.get_mut(id).values.pop().is_some();
                if s.vec_pop(h) != popped {
                    return Err(self.fail(at, format!("vector {id}: pop disagrees with the model")));
                }
            }
            Op::VecRemove { vec, index } => {
                let Some((h, values)) = self.nonempty_vec(level, vec) else {
                    return Ok(());
                };
                let index = index as usize % values.len();
                values.remove(index);
                s.try_vec_remove(h, index)
                    .map_err(|e| failed("vector remove", e))?;
            }
            Op::VecTruncate { vec, len } => {
                let Some((id, h)) = self.vec_root(level, vec) else {
                    return Ok(());
                };
                let values = &mut self.model.get_mut(id).values;
                let len = len as usize % (values.len() + 1);
                values.truncate(len);
                s.vec_truncate(h, len);
            }
            Op::VecCopy {
                vec,
                src,
                dst,
                count,
            } => {
                let Some((h, values)) = self.nonempty_vec(level, vec) else {
                    return Ok(());
                };
                let len = values.len();
                let (src, dst) = (src as usize % len, dst as usize % len);
                let count = (count as usize).min(len - src).min(len - dst);
                values.copy_within(src..src + count, dst);
                s.vec_copy_within(h, src, dst, count);
            }
            Op::ViewPushCopy { vec, src } => {
                let Some((h, values)) = self.nonempty_vec(level, vec) else {
                    return Ok(());
                };
                let src = src as usize % values.len();
                // A view never grows its vector: a full one refuses, and the model keeps it.
                if s.vec_view(h).push_copy(src).is_ok() {
                    values.push(values[src]);
                }
            }
            Op::ViewCopy { vec, src, dst } => {
                let Some((h, values)) = self.nonempty_vec(level, vec) else {
                    return Ok(());
                };
                let len = values.len();
                let (src, dst) = (src as usize % len, dst as usize % len);
                values[dst] = values[src];
                s.vec_view(h)
                    .copy(src, dst)
                    .map_err(|e| failed("view copy", e))?;
            }
            Op::ViewSet { vec, index, value } => {
                let Some((h, values)) = self.nonempty_vec(level, vec) else {
                    return Ok(());
                };
                let index = index as usize % values.len();
                values[index] = Value::Num(value);
                s.vec_view(h)
                    .set(index, Elem::Num(value))
                    .map_err(|e| failed("view set", e))?;
            }
            Op::ViewLentPush { vec, elem, dst } => {
                let Some((id, h)) = self.vec_root(level, vec) else {
                    return Ok(());
                };
                let (value, init) = self.elem(level, elem);
                let mut v = s.vec_view(h);
                v.with_scope(|s| s.try_vec_push(h, init))
                    .map_err(|e| failed("vector push with the view's scope lent out", e))?;
                // The view goes on over the storage the push left (grown, or moved by a
                // collection): its length and contents are the vector's.
                let len = v.len();
                let dst = dst as usize % len;
                v.copy(len - 1, dst)
                    .map_err(|e| failed("view copy after lending", e))?;
                drop(v);
                let values = &mut self.model.get_mut(id).values;
                values.push(value);
                values[dst] = value;
                let modelled = values.len();
                if modelled != len {
                    let message =
                        format!("vector {id}: the view sees {len} elements, the model {modelled}");
                    return Err(self.fail(at, message));
                }
            }
            Op::TupleSet { tuple, index, elem } => {
                let Some((id, AnyHandle::Tuple(h))) = pick_of_kind(&level.view, Kind::Tuple, tuple)
                else {
                    return Ok(());
                };
                let len = self.model.get(id).values.len();
                if len == 0 {
                    return Ok(());
                }
                let index = index as usize % len;
                let (value, init) = self.elem(level, elem);
                s.try_slice_set(h, index, init)
                    .map_err(|e| failed("tuple set", e))?;
                self.model.get_mut(id).values[index] = value;
            }
            _ => unreachable!("only the inline-array operations come here"),
        }
        Ok(())
    }
}

/// What the heap holds at one element, compared with the model's value: `Ok(Some(node))` when
/// it refers to a node (whose id the model gives), `Ok(None)` when it matches a scalar.
pub(super) fn compare_elem<'a>(
    s: &'a Scope<'_>,
    elem: &'a Elem,
    value: Value,
) -> Result<Option<&'a Node>, String> {
    match (elem, value) {
        (Elem::Nil, Value::Nil) => Ok(None),
        (Elem::Num(a), Value::Num(b)) if *a == b => Ok(None),
        (Elem::Node(m), Value::Node(_)) => match s.deref(m) {
            Some(node) => Ok(Some(node)),
            None => Err("a null reference where the model has a node".into()),
        },
        (got, want) => Err(format!("heap {got:?}, model {want:?}")),
    }
}
