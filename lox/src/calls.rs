//! Calls, returns and upvalues (clox's `callValue`, `call`, `captureUpvalue`, `closeUpvalues`).
//!
//! **Frames live in the value stack.** A call makes room just below the callee's slot and
//! writes a frame record there (`Value::Frame`): the callee's closure, which the record roots
//! while the frame runs, and where the caller resumes (its ip, and how far below the new base
//! its base is). So calls and returns are stack operations, done on the dispatch loop's view
//! of the stack without leaving it; the VM's `closure` and `constants` handles are rebound to
//! the callee (`Scope::rebind_to`, which roots nothing new) and its bytecode is cached. A
//! return copies the result over the record and rebinds the handles to the caller's closure,
//! read from the caller's record. A runtime error's stack trace walks the records down.
//!
//! ```text
//!   … caller's slots … | Frame(back, return ip, closure) | callee/this | args | locals …
//!                                                         ^ base
//! ```
//!
//! **Upvalues.** An upvalue is a one-element `GcSlice<Value>`. While the variable it captures
//! is on the stack it holds `Value::Open(slot)`, so reads and writes go to the stack slot; the
//! open upvalues are also listed, sorted by slot, in the `open_upvalues` vector, so two closures
//! capturing the same variable share one upvalue. When the stack unwinds past the slot (a block
//! ends, a function returns) the upvalue is closed: the slot's value is copied into it through
//! the store path, and it leaves the list.

use gc_core::{GcError, GcVec, Handle, Member, Scope, VecView};

use crate::object::{Closure, ClosureInit, InstanceInit, Upvalue, Value, ValueInit};
use crate::vm::{call_native, gc_fault, overflow, Fault, Vm, FRAMES_MAX};

/// The value stack, viewed.
pub(crate) type Stack<'v, 's> = VecView<'v, 's, Value>;

impl<'s> Vm<'s, '_> {
    /// Calls the value `argc` slots below the top with the `argc` arguments above it, on the
    /// stack view: closures and natives. `Ok(false)` when the callee needs the slow path
    /// ([`Vm::call_value`]: classes and bound methods allocate or reshuffle, anything else is
    /// an error).
    #[inline]
    pub(crate) fn call_on_stack(
        &mut self,
        v: &mut Stack<'_, 's>,
        argc: usize,
    ) -> Result<bool, Fault> {
        let slot = v.len() - 1 - argc;
        match &v[slot] {
            Value::Closure(_) => self.enter_frame(v, slot, argc, |_, callee| match callee {
                Value::Closure(m) => Some(m),
                _ => None,
            }),
            Value::Native(native) => {
                let result = call_native(*native, self.start);
                v.truncate(slot);
                v.push(result).map_err(|_| overflow())?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Calls the value `argc` slots below the top: every kind of callee, with the scope (a
    /// class allocates its instance); the instruction at `at` caches where a class keeps its
    /// initialiser.
    pub(crate) fn call_value(
        &mut self,
        s: &mut Scope<'s>,
        at: usize,
        argc: usize,
    ) -> Result<(), Fault> {
        let stack = self.stack;
        let slot = s.vec_len(stack) - 1 - argc;
        match &s.get(stack)[slot] {
            Value::Class(_) => self.instantiate(s, at, slot, argc),
            Value::BoundMethod(_) => {
                let mut v = s.vec_view(stack);
                self.enter_frame(&mut v, slot, argc, |sc, callee| match callee {
                    Value::BoundMethod(m) => sc.deref(m).map(|b| &b.method),
                    _ => None,
                })?;
                // The receiver takes the bound method's slot, as `this` (the method is rooted
                // by the frame record now).
                let base = self.base;
                v.copy_from(base, |sc| match &sc.get(stack)[base] {
                    Value::BoundMethod(m) => sc.deref(m).map(|b| &b.receiver),
                    _ => None,
                })
                .map_err(gc_fault)?;
                Ok(())
            }
            Value::Closure(_) | Value::Native(_) => {
                let mut v = s.vec_view(stack);
                self.call_on_stack(&mut v, argc).map(|_| ())
            }
            _ => Err("Can only call functions and classes.".into()),
        }
    }

    /// Calling a class: a new instance takes the class's slot, then its initialiser runs
    /// (with the arguments) if it has one.
    fn instantiate(
        &mut self,
        s: &mut Scope<'s>,
        at: usize,
        slot: usize,
        argc: usize,
    ) -> Result<(), Fault> {
        let stack = self.stack;
        s.scope(|t| -> Result<(), GcError> {
            let class = match &t.get(stack)[slot] {
                Value::Class(m) => t.root(m),
                _ => None,
            };
            let fields = t.alloc_map(0)?;
            let instance = t.alloc_init(InstanceInit {
                class,
                fields: Some(fields),
            })?;
            t.vec_view(stack)
                .set_init(slot, ValueInit::Instance(Some(instance)))
        })
        .map_err(gc_fault)?;
        let (init, hint) = (self.init, self.hint(at));
        let mut v = s.vec_view(stack);
        let called = self.enter_frame(&mut v, slot, argc, |sc, receiver| {
            let Value::Instance(instance) = receiver else {
                return None;
            };
            let Value::Str(name) = &sc.get(init)[0] else {
                return None;
            };
            crate::classes::method_of(sc, &sc.deref(instance)?.class, name, hint)
        })?;
        if !called && argc != 0 {
            return Err(format!("Expected 0 arguments but got {argc}."));
        }
        Ok(())
    }

    /// Enters the closure `locate` finds (given the value in slot `slot`: the callee, or the
    /// receiver of a method), with `argc` arguments above that slot: a frame record goes in
    /// below it and the callee becomes current. `Ok(false)`, changing nothing, when `locate`
    /// finds none.
    #[inline]
    pub(crate) fn enter_frame(
        &mut self,
        v: &mut Stack<'_, 's>,
        slot: usize,
        argc: usize,
        locate: impl for<'b> FnOnce(&'b Scope<'s>, &'b Value) -> Option<&'b Member<Closure>>,
    ) -> Result<bool, Fault> {
        let sc = v.scope();
        let Some(callee) = locate(sc, &v[slot]) else {
            return Ok(false);
        };
        let arity = sc
            .deref(callee)
            .and_then(|c| sc.deref(&c.function))
            .map_or(0, |f| f.arity as usize);
        if arity != argc {
            return Err(format!("Expected {arity} arguments but got {argc}."));
        }
        if self.depth == FRAMES_MAX {
            return Err(overflow());
        }
        let base = slot + 1;
        let back = u16::try_from(base - self.base).map_err(|_| overflow())?;
        let return_ip = u32::try_from(self.ip).map_err(|_| overflow())?;
        // The record (written below) roots the callee from now on; until then the handle does.
        sc.rebind_to(self.closure, callee);
        // Room for the record: the callee and its arguments move up one slot.
        let len = v.len();
        v.push_copy(len - 1).map_err(gc_fault)?;
        for i in (slot..len - 1).rev() {
            v.copy(i, i + 1).map_err(gc_fault)?;
        }
        v.set_init(slot, ValueInit::Frame(back, return_ip, Some(self.closure)))
            .map_err(gc_fault)?;
        self.depth += 1;
        self.enter(v.scope(), 0, base);
        Ok(true)
    }

    /// Makes the closure in the VM's `closure` handle current, at `ip` with its slots from
    /// `base`: its constants and bytecode are cached.
    #[inline]
    fn enter(&mut self, sc: &Scope<'s>, ip: usize, base: usize) {
        let closure = sc.get(self.closure);
        let function = sc
            .deref(&closure.function)
            .expect("a closure has a function");
        sc.rebind_to(self.constants, &function.constants);
        self.chunk = &self.code[function.chunk as usize];
        self.ip = ip;
        self.base = base;
    }

    /// Whether returning from the current frame must close upvalues first (it captured
    /// variables that are still open).
    #[inline]
    pub(crate) fn frame_has_open_upvalues(&self, sc: &Scope<'s>) -> bool {
        sc.get(self.open_upvalues)
            .last()
            .and_then(|m| open_slot(sc, m))
            .is_some_and(|slot| slot >= self.base)
    }

    /// Returns from the current frame, whose upvalues are closed: the result replaces the
    /// frame's record and slots, and the caller resumes. `Ok(true)` when the script itself
    /// returned.
    #[inline]
    pub(crate) fn leave_frame(&mut self, v: &mut Stack<'_, 's>) -> Result<bool, Fault> {
        let base = self.base;
        let Value::Frame(back, return_ip, _) = v[base - 1] else {
            unreachable!("a frame record lies below every frame's base");
        };
        let top = v.len() - 1;
        v.copy(top, base - 1).map_err(gc_fault)?;
        v.truncate(base);
        self.depth -= 1;
        if self.depth == 0 {
            v.truncate(0);
            return Ok(true);
        }
        let caller_base = base - back as usize;
        let sc = v.scope();
        let Value::Frame(_, _, caller) = &v[caller_base - 1] else {
            unreachable!("a frame record lies below every frame's base");
        };
        sc.rebind_to(self.closure, caller);
        self.enter(sc, return_ip as usize, caller_base);
        Ok(false)
    }

    /// `return`, with the scope: closes the frame's upvalues, then leaves it.
    pub(crate) fn return_from_frame(&mut self, s: &mut Scope<'s>) -> Result<bool, Fault> {
        let base = self.base;
        self.close_upvalues(s, base)?;
        let mut v = s.vec_view(self.stack);
        self.leave_frame(&mut v)
    }

    /// Pushes the closure of function constant `index`, capturing the upvalues its operands
    /// describe (a local slot of this frame, or an upvalue of this closure).
    pub(crate) fn make_closure(&mut self, s: &mut Scope<'s>, index: usize) -> Result<(), Fault> {
        let (stack, constants, current, open) =
            (self.stack, self.constants, self.closure, self.open_upvalues);
        s.scope(|t| -> Result<(), GcError> {
            let function = match &t.get(constants)[index] {
                Value::Function(m) => t.root(m),
                _ => None,
            };
            let count = function.map_or(0, |f| t.get(f).upvalue_count as usize);
            let mut upvalues = Vec::with_capacity(count);
            for _ in 0..count {
                let is_local = self.read_byte() == 1;
                let index = self.read_byte() as usize;
                let upvalue = if is_local {
                    capture_upvalue(t, open, self.base + index)?
                } else {
                    let enclosing = t.get(current);
                    t.deref(&enclosing.upvalues)
                        .and_then(|ups| t.root(&ups[index]))
                        .expect("an enclosing closure's upvalue")
                };
                upvalues.push(Some(upvalue));
            }
            let upvalues = t.alloc_slice(upvalues)?;
            let closure = t.alloc_init(ClosureInit {
                function,
                upvalues: Some(upvalues),
            })?;
            t.vec_view(stack)
                .push_init(ValueInit::Closure(Some(closure)))
        })
        .map_err(gc_fault)
    }

    /// Closes every open upvalue that captures slot `from` or above.
    pub(crate) fn close_upvalues(&mut self, s: &mut Scope<'s>, from: usize) -> Result<(), Fault> {
        let (open, stack) = (self.open_upvalues, self.stack);
        if s.vec_len(open) == 0 {
            return Ok(());
        }
        s.scope(|t| -> Result<(), GcError> {
            while let Some(slot) = t.get(open).last().and_then(|m| open_slot(t, m)) {
                if slot < from {
                    break;
                }
                let upvalue = t
                    .root(t.get(open).last().expect("checked"))
                    .expect("non-null");
                t.slice_set_copy(upvalue, 0, |sc| sc.get(stack).get(slot))?;
                t.vec_pop(open);
            }
            Ok(())
        })
        .map_err(gc_fault)
    }

    /// Stores the top of the stack (left there) into the current closure's upvalue `index`.
    pub(crate) fn set_upvalue(&mut self, s: &mut Scope<'s>, index: usize) -> Result<(), Fault> {
        let (closure, stack) = (self.closure, self.stack);
        let open = match upvalue(s, closure, index) {
            Some(Value::Open(slot)) => Some(*slot as usize),
            _ => None,
        };
        let result = match open {
            Some(slot) => {
                let mut v = s.vec_view(stack);
                let top = v.len() - 1;
                v.copy(top, slot)
            }
            None => s.scope(|t| {
                let ups = t.deref(&t.get(closure).upvalues);
                let upvalue = ups.and_then(|ups| t.root(&ups[index]));
                let upvalue = upvalue.expect("a closure's upvalue");
                t.slice_set_copy(upvalue, 0, |sc| sc.get(stack).last())
                    .map(|_| ())
            }),
        };
        result.map_err(gc_fault)
    }
}

/// The value (or `Open(slot)`) of upvalue `index` of `closure`.
pub(crate) fn upvalue<'b>(
    sc: &'b Scope<'_>,
    closure: Handle<'_, Closure>,
    index: usize,
) -> Option<&'b Value> {
    let upvalues = sc.deref(&sc.get(closure).upvalues)?;
    sc.deref(upvalues.get(index)?)?.first()
}

/// The stack slot an open upvalue captures.
fn open_slot(sc: &Scope<'_>, upvalue: &Member<Upvalue>) -> Option<usize> {
    match sc.deref(upvalue)?.first()? {
        Value::Open(slot) => Some(*slot as usize),
        _ => None,
    }
}

/// The open upvalue capturing `slot`: the one already listed, or a new one inserted in slot
/// order.
fn capture_upvalue<'i>(
    t: &mut Scope<'i>,
    open: Handle<'_, GcVec<Member<Upvalue>>>,
    slot: usize,
) -> Result<Handle<'i, Upvalue>, GcError> {
    let mut position = t.vec_len(open);
    for (i, m) in t.get(open).iter().enumerate().rev() {
        match open_slot(t, m) {
            Some(s) if s == slot => return Ok(t.root(m).expect("non-null")),
            Some(s) if s < slot => break,
            _ => position = i,
        }
    }
    let upvalue = t.alloc_slice([ValueInit::Open(slot as u32)])?;
    t.try_vec_insert(open, position, Some(upvalue))?;
    Ok(upvalue)
}
