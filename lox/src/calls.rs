//! Calls, returns and upvalues (clox's `callValue`, `call`, `captureUpvalue`, `closeUpvalues`).
//!
//! **Frames live in the value stack.** A call makes room just below the callee's slot for two
//! values: a copy of the callee's closure (which roots it while the frame runs; for a method,
//! copied from its class) and a frame record (`Value::Frame`) saying where the caller resumes
//! (its ip, and how far below the new base its base is). So calls and returns are stack
//! operations, done on the dispatch loop's view of the stack without leaving it and without a
//! handle; only the VM's `constants` handle is rebound to the callee's constants
//! (`Scope::rebind_to`, which roots nothing new), and its bytecode is cached. A return copies
//! the result over the callee's closure and makes the caller's frame current again. A runtime
//! error's stack trace walks the records down.
//!
//! ```text
//!   … caller's slots … | closure | Frame(back, return ip) | callee/this | args | locals …
//!                                                          ^ base
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

/// Stack slots a frame takes below its base: a copy of its closure (which roots it while it
/// runs) and its record.
pub(crate) const FRAME_SLOTS: usize = 2;

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
            Value::Closure(_) => self.enter_closure(v, slot, argc),
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
                // by its frame now).
                let base = self.base;
                v.copy_from(base, |sc, values| match &values[base] {
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

    /// Enters the closure `locate` finds (a `Value::Closure` anywhere in the heap, given the
    /// value in slot `slot`: the callee, or the receiver of a method), with `argc` arguments
    /// above that slot: the closure and a frame record go in below that slot, which becomes
    /// the new frame's base, and the callee becomes current. `Ok(false)`, leaving the stack as
    /// it was, when `locate` finds none.
    #[inline]
    pub(crate) fn enter_frame(
        &mut self,
        v: &mut Stack<'_, 's>,
        slot: usize,
        argc: usize,
        locate: impl for<'b> Fn(&'b Scope<'s>, &'b Value) -> Option<&'b Value>,
    ) -> Result<bool, Fault> {
        self.enter_frame_of(v, slot, argc, Some(locate))
    }

    /// [`Vm::enter_frame`] for a callee that is itself the closure in slot `slot`.
    #[inline]
    pub(crate) fn enter_closure(
        &mut self,
        v: &mut Stack<'_, 's>,
        slot: usize,
        argc: usize,
    ) -> Result<bool, Fault> {
        type Locate = for<'b> fn(&'b Scope<'_>, &'b Value) -> Option<&'b Value>;
        self.enter_frame_of(v, slot, argc, None::<Locate>)
    }

    /// [`Vm::enter_frame`], with the callee in slot `slot` when `locate` is `None`.
    ///
    /// The callee and its arguments move up first, and `locate` runs once, on the moved
    /// receiver, copying what it finds straight into the closure's slot (a method lookup is a
    /// hash probe: doing it once before the move, to check, and again after it, to copy,
    /// cost a tenth of a method call). When it finds nothing, the move is undone, which only
    /// the rare paths take (a class without an initialiser, a missing method).
    #[inline(always)]
    fn enter_frame_of(
        &mut self,
        v: &mut Stack<'_, 's>,
        slot: usize,
        argc: usize,
        locate: Option<impl for<'b> Fn(&'b Scope<'s>, &'b Value) -> Option<&'b Value>>,
    ) -> Result<bool, Fault> {
        let base = slot + FRAME_SLOTS;
        let len = v.len();
        // Room for the closure and the record: the callee and its arguments move up.
        for _ in 0..FRAME_SLOTS {
            if v.push(Value::Nil).is_err() {
                v.truncate(len);
                // The stack is full: an overflow only if there is something to call.
                let callable = locate.as_ref().is_none_or(|locate| {
                    matches!(locate(v.scope(), &v[slot]), Some(Value::Closure(_)))
                });
                return if callable { Err(overflow()) } else { Ok(false) };
            }
        }
        for i in (slot..len).rev() {
            v.copy(i, i + FRAME_SLOTS).map_err(gc_fault)?;
        }
        let found = match &locate {
            Some(locate) => v
                .copy_from(slot, |sc, values| {
                    locate(sc, &values[base]).filter(|c| matches!(c, Value::Closure(_)))
                })
                .map_err(gc_fault)?,
            None => v.copy(base, slot).map(|()| true).map_err(gc_fault)?,
        };
        if !found {
            // Nothing to call: the callee and its arguments go back down.
            for i in slot..len {
                v.copy(i + FRAME_SLOTS, i).map_err(gc_fault)?;
            }
            v.truncate(len);
            return Ok(false);
        }
        // From here an error ends the run, whose trace walks the frames below (the current
        // frame is still the caller's), so what the slots above hold no longer matters.
        let back = u16::try_from(base - self.base).map_err(|_| overflow())?;
        let return_ip = u32::try_from(self.ip).map_err(|_| overflow())?;
        v.set(slot + 1, Value::Frame(back, return_ip))
            .map_err(gc_fault)?;
        let sc = v.scope();
        let function = match &v[slot] {
            Value::Closure(m) => sc.deref(m).and_then(|c| sc.deref(&c.function)),
            _ => None,
        };
        let function = function.expect("the closure was copied a moment ago");
        let arity = function.arity as usize;
        if arity != argc {
            return Err(format!("Expected {arity} arguments but got {argc}."));
        }
        if self.depth == FRAMES_MAX {
            return Err(overflow());
        }
        self.depth += 1;
        sc.rebind_to(self.constants, &function.constants);
        self.chunk = &self.code[function.chunk as usize];
        self.ip = 0;
        self.base = base;
        Ok(true)
    }

    /// Makes the frame at `base` current, at `ip`: its closure's constants and bytecode are
    /// cached.
    #[inline]
    fn enter(&mut self, v: &Stack<'_, 's>, ip: usize, base: usize) {
        let sc = v.scope();
        let function = match &v[base - FRAME_SLOTS] {
            Value::Closure(m) => sc.deref(m).and_then(|c| sc.deref(&c.function)),
            _ => None,
        };
        let function = function.expect("a frame's closure lies below its record");
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
    /// frame's closure, record and slots, and the caller resumes. `Ok(true)` when the script
    /// itself returned.
    #[inline]
    pub(crate) fn leave_frame(&mut self, v: &mut Stack<'_, 's>) -> Result<bool, Fault> {
        let base = self.base;
        let Value::Frame(back, return_ip) = v[base - 1] else {
            unreachable!("a frame record lies below every frame's base");
        };
        let top = v.len() - 1;
        let slot = base - FRAME_SLOTS;
        v.copy(top, slot).map_err(gc_fault)?;
        v.truncate(slot + 1);
        self.depth -= 1;
        if self.depth == 0 {
            v.truncate(0);
            return Ok(true);
        }
        self.enter(v, return_ip as usize, base - back as usize);
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
        let (stack, constants, open, base) =
            (self.stack, self.constants, self.open_upvalues, self.base);
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
                    current_closure(t, t.get(stack), base)
                        .and_then(|enclosing| t.deref(&enclosing.upvalues))
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

    /// Closes every open upvalue that captures slot `from` or above: the slot's value is copied
    /// into the upvalue, which leaves the open list.
    pub(crate) fn close_upvalues(&mut self, s: &mut Scope<'s>, from: usize) -> Result<(), Fault> {
        let (open, stack) = (self.open_upvalues, self.stack);
        while let Some(slot) = s.get(open).last().and_then(|m| open_slot(s, m)) {
            if slot < from {
                break;
            }
            s.slice_replace_copy(|sc| {
                let upvalue = sc.get(open).last()?;
                Some((upvalue, 0, sc.get(stack).get(slot)?))
            })
            .map_err(gc_fault)?;
            s.vec_pop(open);
        }
        Ok(())
    }
}

/// The closure of the frame at `base` (the stack's values given).
#[inline]
pub(crate) fn current_closure<'b>(
    sc: &'b Scope<'_>,
    values: &'b [Value],
    base: usize,
) -> Option<&'b Closure> {
    match values.get(base.checked_sub(FRAME_SLOTS)?)? {
        Value::Closure(m) => sc.deref(m),
        _ => None,
    }
}

/// The value (or `Open(slot)`) of upvalue `index` of the closure of the frame at `base`.
#[inline]
pub(crate) fn upvalue<'b>(
    sc: &'b Scope<'_>,
    values: &'b [Value],
    base: usize,
    index: usize,
) -> Option<&'b Value> {
    let upvalues = sc.deref(&current_closure(sc, values, base)?.upvalues)?;
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
