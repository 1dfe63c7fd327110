//! Calls, returns and upvalues (clox's `callValue`, `call`, `captureUpvalue`, `closeUpvalues`).
//!
//! **Frames live in the value stack, and their callers in a list.** A call pushes one value
//! above the callee's arguments: a copy of the callee's closure (which roots it while the frame runs; for a method, copied
//! from its class). Nothing already on the stack moves: a call is one push, done on the
//! dispatch loop's view of the stack without leaving it. The callee's bytecode and a handle to
//! its constants become current: both are cached per function (by chunk index) from its first
//! call in the run, the handle rooted then, so a call roots and rebinds nothing. Where the
//! caller resumes (its bytecode, its constants' handle, its base, its closure's slot and its
//! ip) goes into a Rust-side list with one entry per running frame ([`Caller`], clox's
//! `frames` array): it holds no reference into the heap that is not a handle. A return copies
//! the result over the callee's slot 0 and makes the caller's frame current again from that
//! entry, reading no object. A runtime error's stack trace walks the list down, reading each
//! frame's closure from its slot. (The stack held a scalar record of the same facts above each
//! closure until the list was all that read them: one push and two range checks a call.)
//!
//! ```text
//!   … caller's frame … | callee/this | args | closure | locals …
//!                        ^ base                ^ frame
//! ```
//!
//! So slot 0 and the parameters are addressed from the base (`GET_PARAM`), and the locals the
//! body declares from one slot further up (`GET_LOCAL`): the compiler numbers both in one
//! sequence, as clox does, and picks the instruction. Placing the closure below the callee
//! instead, as this VM first did, moved the callee and every argument up on each call.
//!
//! **Upvalues.** An upvalue is a one-element `GcSlice<Value>`. While the variable it captures
//! is on the stack it holds `Value::Open(slot)`, so reads and writes go to the stack slot; the
//! open upvalues are also listed, sorted by slot, in the `open_upvalues` vector, so two closures
//! capturing the same variable share one upvalue. When the stack unwinds past the slot (a block
//! ends, a function returns) the upvalue is closed: the slot's value is copied into it through
//! the store path, and it leaves the list.

use gc_core::{GcError, GcSlice, GcVec, Handle, Member, Scope, VecView};

use crate::classes::initializer_in_methods;
use crate::object::{Chunk, Closure, ClosureInit, InstanceInit, Upvalue, Value, ValueInit};
use crate::vm::{call_native, gc_fault, overflow, Fault, Vm, FRAMES_MAX};

/// The error for calling what is neither a function nor a class.
pub(crate) fn not_callable() -> Fault {
    "Can only call functions and classes.".into()
}

/// Stack slots a frame takes between its parameters and its body's locals: a copy of its
/// closure (which roots it while it runs).
pub(crate) const FRAME_SLOTS: usize = 1;

/// The value stack, viewed.
pub(crate) type Stack<'v, 's> = VecView<'v, 's, Value>;

/// A function's bytecode and a handle to its constants, as the VM caches them (by chunk index)
/// from the function's first call in a run.
#[derive(Clone, Copy)]
pub(crate) struct FunctionCode<'s, 'a> {
    pub(crate) chunk: &'a Chunk,
    pub(crate) constants: Handle<'s, GcSlice<Value>>,
}

/// What a call keeps of its caller for the return: its bytecode, the handle to its constants
/// and its base (which its closure would give, at two dereferences and a rebound handle a
/// return), its closure's slot and where it resumes.
#[derive(Clone, Copy)]
pub(crate) struct Caller<'s, 'a> {
    pub(crate) code: FunctionCode<'s, 'a>,
    pub(crate) base: usize,
    /// The slot of the caller's closure.
    pub(crate) frame: usize,
    /// Where the caller resumes.
    pub(crate) ip: usize,
}

impl<'s> Vm<'s, '_> {
    /// Calls the value `argc` slots below the top with the `argc` arguments above it, on the
    /// stack view: every kind of callee. A class allocates its instance with the view's scope
    /// lent out ([`VecView::with_scope`]), so no call leaves the dispatch loop. `Ok(false)`
    /// when the value cannot be called.
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
            Value::Class(_) => self.instantiate(v, slot, argc).map(|()| true),
            Value::BoundMethod(_) => {
                self.enter_frame(v, slot, argc, |sc, callee| match callee {
                    Value::BoundMethod(m) => sc.deref(m).map(|b| &b.method),
                    _ => None,
                })?;
                // The receiver takes the bound method's slot, as `this` (the method is rooted
                // by its frame now).
                v.copy_from(slot, |sc, values| match &values[slot] {
                    Value::BoundMethod(m) => sc.deref(m).map(|b| &b.receiver),
                    _ => None,
                })
                .map_err(gc_fault)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Calls the value `argc` slots below the top, through a view of its own.
    pub(crate) fn call_value(&mut self, s: &mut Scope<'s>, argc: usize) -> Result<(), Fault> {
        let mut v = s.vec_view(self.stack);
        if self.call_on_stack(&mut v, argc)? {
            Ok(())
        } else {
            Err(not_callable())
        }
    }

    /// Calling a class: a new instance takes the class's slot, then its initialiser runs
    /// (with the arguments) if it has one.
    #[inline(never)]
    fn instantiate(
        &mut self,
        v: &mut Stack<'_, 's>,
        slot: usize,
        argc: usize,
    ) -> Result<(), Fault> {
        let stack = self.stack;
        debug_assert!(
            match &v[slot] {
                Value::Class(c) => {
                    let sc = v.scope();
                    let cached = sc.deref(c).map(|c| &c.initializer);
                    let method = initializer_in_methods(sc, c, self.init);
                    match (cached, method) {
                        (Some(Value::Closure(a)), Some(Value::Closure(b))) => a.ptr_eq(b),
                        (Some(Value::Nil), None) => true,
                        _ => false,
                    }
                }
                _ => true,
            },
            "the class's cached initialiser disagrees with its methods"
        );
        v.with_scope(|s| {
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
                t.try_vec_set(stack, slot, ValueInit::Instance(Some(instance)))
            })
        })
        .map_err(gc_fault)?;
        let called = self.enter_frame(v, slot, argc, |sc, receiver| match receiver {
            Value::Instance(instance) => Some(&sc.deref(&sc.deref(instance)?.class)?.initializer),
            _ => None,
        })?;
        if !called && argc != 0 {
            return Err(format!("Expected 0 arguments but got {argc}.").into());
        }
        Ok(())
    }

    /// Enters the closure `locate` finds (a `Value::Closure` anywhere in the heap, given the
    /// value in slot `slot`: the callee, or the receiver of a method), with the `argc`
    /// arguments above that slot, which becomes the new frame's base: a copy of the closure is
    /// pushed, and the callee becomes current. `Ok(false)`, leaving the
    /// stack as it was, when `locate` finds none.
    #[inline]
    pub(crate) fn enter_frame(
        &mut self,
        v: &mut Stack<'_, 's>,
        slot: usize,
        argc: usize,
        locate: impl for<'b> Fn(&'b Scope<'s>, &'b Value) -> Option<&'b Value>,
    ) -> Result<bool, Fault> {
        // A full stack is an overflow only if there is something to call: the view searches
        // first, then reports that it is full.
        let found = v
            .push_copy_from(|sc, values| {
                locate(sc, &values[slot]).filter(|c| matches!(c, Value::Closure(_)))
            })
            .map_err(|e| match e {
                GcError::IndexOutOfBounds { .. } => overflow(),
                e => gc_fault(e),
            })?;
        if !found {
            return Ok(false);
        }
        self.enter_pushed(v, slot, v.len() - 1, argc)?;
        Ok(true)
    }

    /// [`Vm::enter_frame`] for a callee that is itself the closure in slot `slot`.
    #[inline]
    pub(crate) fn enter_closure(
        &mut self,
        v: &mut Stack<'_, 's>,
        slot: usize,
        argc: usize,
    ) -> Result<bool, Fault> {
        v.push_copy(slot).map_err(|_| overflow())?;
        // The callee is read where it was, not from the copy just stored.
        self.enter_pushed(v, slot, slot, argc)?;
        Ok(true)
    }

    /// Enters the closure on top of the stack (a copy of the one in slot `callee`), called with
    /// the `argc` arguments above slot `slot` (the new frame's base) and below the closure: the
    /// caller is listed and the callee becomes current.
    #[inline(always)]
    pub(crate) fn enter_pushed(
        &mut self,
        v: &mut Stack<'_, 's>,
        slot: usize,
        callee: usize,
        argc: usize,
    ) -> Result<(), Fault> {
        let frame = v.len() - 1;
        // From here an error ends the run, whose trace walks the frames below (the current
        // frame is still the caller's), so what the slots above hold no longer matters.
        let sc = v.scope();
        let closure = match &v[callee] {
            Value::Closure(m) => sc.deref(m),
            _ => None,
        };
        let closure = closure.expect("the closure was pushed a moment ago");
        debug_assert!(
            sc.deref(&closure.function)
                .is_some_and(|f| f.arity == closure.arity && f.chunk == closure.chunk),
            "a closure's copies of its function's arity and chunk disagree with the function"
        );
        let arity = closure.arity as usize;
        if arity != argc {
            return Err(format!("Expected {arity} arguments but got {argc}.").into());
        }
        if self.callers.len() == FRAMES_MAX {
            return Err(overflow());
        }
        // The callee's bytecode and constants: cached at its first call in this run, the
        // constants with a handle of their own (a function's constants never change, so one
        // handle serves all its frames).
        let index = closure.chunk as usize;
        let entered = match self.functions[index] {
            Some(entered) => entered,
            None => {
                let function = sc
                    .deref(&closure.function)
                    .expect("a closure has a function");
                let entered = FunctionCode {
                    chunk: &self.code[index],
                    constants: sc
                        .root(&function.constants)
                        .expect("a function has constants"),
                };
                self.functions[index] = Some(entered);
                entered
            }
        };
        self.callers.push(Caller {
            code: FunctionCode {
                chunk: self.chunk,
                constants: self.constants,
            },
            base: self.base,
            frame: self.frame,
            ip: self.ip,
        });
        self.chunk = entered.chunk;
        self.constants = entered.constants;
        self.ip = 0;
        self.base = slot;
        self.frame = frame;
        Ok(())
    }

    /// The stack slot of the current frame's local `index`, as the compiler numbers locals
    /// (slot 0, the parameters, then the body's locals: the latter lie above the closure).
    pub(crate) fn local_slot(&self, index: u8) -> usize {
        let arity = self.frame - self.base - 1;
        self.slot_of(usize::from(index) > arity, index)
    }

    /// Whether returning from the current frame must close upvalues first (it captured
    /// variables that are still open).
    #[inline]
    pub(crate) fn frame_has_open_upvalues(&self) -> bool {
        self.open_top > self.base
    }

    /// What `open_top` caches, from the open list itself (for debug builds' checks).
    pub(crate) fn open_top_of_list(&self, sc: &Scope<'s>) -> usize {
        sc.get(self.open_upvalues)
            .last()
            .and_then(|m| open_slot(sc, m))
            .map_or(0, |slot| slot + 1)
    }

    /// Returns from the current frame, whose upvalues are closed: the result replaces the
    /// frame's closure and slots, and the caller resumes. `Ok(true)` when the script
    /// itself returned.
    #[inline(always)]
    pub(crate) fn leave_frame(&mut self, v: &mut Stack<'_, 's>) -> Result<bool, Fault> {
        let base = self.base;
        let top = v.len() - 1;
        v.copy(top, base).map_err(gc_fault)?;
        v.truncate(base + 1);
        let caller = self.callers.pop().expect("a running frame has a caller");
        if self.callers.is_empty() {
            v.truncate(0);
            return Ok(true);
        }
        // Where the caller's closure lies and where it resumes, and what its closure would
        // give (bytecode, constants, base), as the call listed them.
        self.chunk = caller.code.chunk;
        self.constants = caller.code.constants;
        self.base = caller.base;
        self.frame = caller.frame;
        self.ip = caller.ip;
        Ok(false)
    }

    /// Pushes the closure of function constant `index`, capturing the upvalues its operands
    /// describe (a local slot of this frame, or an upvalue of this closure).
    pub(crate) fn make_closure(&mut self, s: &mut Scope<'s>, index: usize) -> Result<(), Fault> {
        let (stack, constants, open, frame) =
            (self.stack, self.constants, self.open_upvalues, self.frame);
        s.scope(|t| -> Result<(), GcError> {
            let function = match &t.get(constants)[index] {
                Value::Function(m) => t.root(m),
                _ => None,
            };
            let (count, arity, chunk) = function.map_or((0, 0, 0), |f| {
                let f = t.get(f);
                (f.upvalue_count as usize, f.arity, f.chunk)
            });
            // Filled in place as the upvalues are captured (each capture may allocate).
            let upvalues = t.alloc_slice(std::iter::repeat_n(None, count))?;
            for i in 0..count {
                let is_local = self.read_byte() == 1;
                let index = self.read_byte();
                let upvalue = if is_local {
                    let slot = self.local_slot(index);
                    self.open_top = self.open_top.max(slot + 1);
                    capture_upvalue(t, open, slot)?
                } else {
                    current_closure(t, t.get(stack), frame)
                        .and_then(|enclosing| t.deref(&enclosing.upvalues))
                        .and_then(|ups| t.root(&ups[usize::from(index)]))
                        .expect("an enclosing closure's upvalue")
                };
                t.try_slice_set(upvalues, i, Some(upvalue))?;
            }
            let closure = t.alloc_init(ClosureInit {
                function,
                upvalues: Some(upvalues),
                arity,
                chunk,
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
                self.open_top = slot + 1;
                return Ok(());
            }
            s.slice_replace_copy(|sc| {
                let upvalue = sc.get(open).last()?;
                Some((upvalue, 0, sc.get(stack).get(slot)?))
            })
            .map_err(gc_fault)?;
            s.vec_pop(open);
        }
        self.open_top = 0;
        Ok(())
    }
}

/// The closure of the frame whose closure is in slot `frame` (the stack's values given).
#[inline]
pub(crate) fn current_closure<'b>(
    sc: &'b Scope<'_>,
    values: &'b [Value],
    frame: usize,
) -> Option<&'b Closure> {
    match values.get(frame)? {
        Value::Closure(m) => sc.deref(m),
        _ => None,
    }
}

/// The value (or `Open(slot)`) of upvalue `index` of the closure in slot `frame`.
#[inline]
pub(crate) fn upvalue<'b>(
    sc: &'b Scope<'_>,
    values: &'b [Value],
    frame: usize,
    index: usize,
) -> Option<&'b Value> {
    let upvalues = sc.deref(&current_closure(sc, values, frame)?.upvalues)?;
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
