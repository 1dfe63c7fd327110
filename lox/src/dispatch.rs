//! The dispatch loop (clox's `run`).
//!
//! Most instructions run in [`Vm::run_on_stack`], on one `VecView` of the value stack that
//! stays open from one instruction to the next (the view borrows the scope, so nothing can
//! allocate or collect while it lives): calls and returns, field reads and writes, and the
//! frequent instructions that allocate (calling a class, making a closure, closing upvalues),
//! which lend the view's scope out for that (`VecView::with_scope`) and go on with the same
//! view. The rest (string concatenation, bound methods, definitions, a field table that must
//! grow, and every error) end the view: [`Vm::execute`] runs them with the scope itself and
//! opens a new view after them.

use std::cell::Cell;

use gc_core::{GcError, Scope, VecView};

use crate::calls::{not_callable, FRAME_SLOTS};
use crate::classes::{field_of, name};
use crate::object::{is_falsey, values_equal, write_value, Chunk, Value, NO_CLASS};
use crate::opcode::Op;
use crate::vm::{gc_fault, overflow, Fault, Vm};

impl<'s, 'a> Vm<'s, 'a> {
    /// Runs instructions until the script returns.
    pub(crate) fn execute(&mut self, s: &mut Scope<'s>) -> Result<(), Fault> {
        loop {
            let op = {
                let mut v = s.vec_view(self.stack);
                match self.run_on_stack(&mut v)? {
                    Next::Slow(op) => op,
                    Next::Done => return Ok(()),
                }
            };
            // The instruction's position: its lookup caches are those of its bytes.
            let at = self.ip - 1;
            // An invocation reaches this slow path from the stack loop's, which counted it
            // against the step budget already.
            match op {
                Op::Add => self.concatenate(s)?,
                Op::DefineGlobal => {
                    let index = self.read_byte() as usize;
                    self.define_global(s, index)?;
                    self.pop(s);
                }
                Op::SetGlobal | Op::SetGlobalPop => {
                    let index = self.read_byte() as usize;
                    self.set_global(s, at, index)?;
                    if op == Op::SetGlobalPop {
                        self.pop(s);
                    }
                }
                Op::GetProperty => {
                    let index = self.read_byte() as usize;
                    self.get_method(s, at, index)?;
                }
                Op::SetProperty | Op::SetPropertyPop => {
                    let index = self.read_byte() as usize;
                    self.set_property(s, at, index)?;
                    if op == Op::SetPropertyPop {
                        self.pop(s);
                    }
                }
                Op::GetSuper => {
                    let index = self.read_byte() as usize;
                    self.get_super(s, at, index)?;
                }
                Op::Invoke => {
                    let index = self.read_byte() as usize;
                    let argc = self.read_byte() as usize;
                    self.invoke(s, at, index, argc)?;
                }
                Op::SuperInvoke => {
                    let index = self.read_byte() as usize;
                    let argc = self.read_byte() as usize;
                    self.super_invoke(s, at, index, argc)?;
                }
                Op::Class => {
                    let index = self.read_byte() as usize;
                    self.make_class(s, index)?;
                }
                Op::Inherit => self.inherit(s)?,
                Op::Method => {
                    let index = self.read_byte() as usize;
                    self.define_method(s, index)?;
                }
                _ => unreachable!("{op:?} runs on the stack view"),
            }
        }
    }

    /// Runs instructions on the stack view until one needs the scope itself (returned with its
    /// operands still unread) or the script returns. Calls and returns run here too: a frame
    /// is its closure's slot in the stack and an entry in the list of callers.
    #[inline(never)]
    fn run_on_stack(&mut self, v: &mut VecView<'_, 's, Value>) -> Result<Next, Fault> {
        // The bytecode and the ip in locals (registers), written back when the view ends.
        let mut code = Code::current(self);
        let result = self.stack_loop(v, &mut code);
        self.ip = code.ip;
        result
    }

    /// `Closure` (its operands at the ip) on the stack view, with its scope lent out.
    #[inline(never)]
    fn closure_on_stack(&mut self, v: &mut VecView<'_, 's, Value>) -> Result<(), Fault> {
        let index = self.read_byte() as usize;
        v.with_scope(|s| self.make_closure(s, index))
    }

    /// Closes the upvalues open on slot `from` and above, on the stack view, with its scope
    /// lent out.
    #[inline(never)]
    fn close_on_stack(&mut self, v: &mut VecView<'_, 's, Value>, from: usize) -> Result<(), Fault> {
        v.with_scope(|s| self.close_upvalues(s, from))
    }

    #[inline(always)]
    fn stack_loop(
        &mut self,
        v: &mut VecView<'_, 's, Value>,
        code: &mut Code<'a>,
    ) -> Result<Next, Fault> {
        use crate::opcode::byte as op;
        loop {
            let at = code.ip;
            let instruction = code.byte();
            let len = v.len();
            match instruction {
                op::CONSTANT => {
                    let index = code.byte() as usize;
                    if let Some(Some(n)) = code.chunk.numbers.get(index) {
                        v.push(Value::Number(*n)).map_err(|_| overflow())?;
                    } else {
                        let constants = self.constants;
                        v.push_copy_from(|sc, _| sc.get(constants).get(index))
                            .map_err(gc_fault)?;
                    }
                }
                op::NIL => v.push(Value::Nil).map_err(|_| overflow())?,
                op::TRUE => v.push(Value::Bool(true)).map_err(|_| overflow())?,
                op::FALSE => v.push(Value::Bool(false)).map_err(|_| overflow())?,
                op::POP => v.truncate(len - 1),
                // One arm per instruction, each with its slot's offset as a constant (a shared
                // arm tested the instruction again for it).
                op::GET_PARAM => {
                    let slot = self.slot_of(false, code.byte());
                    v.push_copy(slot).map_err(gc_fault)?;
                }
                op::GET_LOCAL => {
                    let slot = self.slot_of(true, code.byte());
                    v.push_copy(slot).map_err(gc_fault)?;
                }
                op::SET_PARAM => {
                    let slot = self.slot_of(false, code.byte());
                    v.copy(len - 1, slot).map_err(gc_fault)?;
                }
                op::SET_LOCAL => {
                    let slot = self.slot_of(true, code.byte());
                    v.copy(len - 1, slot).map_err(gc_fault)?;
                }
                op::SET_PARAM_POP => {
                    let slot = self.slot_of(false, code.byte());
                    v.copy(len - 1, slot).map_err(gc_fault)?;
                    v.truncate(len - 1);
                }
                op::SET_LOCAL_POP => {
                    let slot = self.slot_of(true, code.byte());
                    v.copy(len - 1, slot).map_err(gc_fault)?;
                    v.truncate(len - 1);
                }
                op::GET_GLOBAL => {
                    let index = code.byte() as usize;
                    let globals = self.globals;
                    let name = self.name(index);
                    let hint = &code.chunk.hints[at];
                    let found = v
                        .push_copy_from(|sc, _| sc.map_lookup(sc.get(globals), name?, Some(hint)))
                        .map_err(gc_fault)?;
                    if !found {
                        let name = self.constant_text(v.scope(), index);
                        return Err(format!("Undefined variable '{name}'.").into());
                    }
                }
                op::GET_PROPERTY => {
                    // A field is read here; a method (which allocates a bound method) is not.
                    let index = code.byte() as usize;
                    let name = self.name(index);
                    let hint = &code.chunk.hints[at];
                    let top = len - 1;
                    let found = v
                        .copy_from(top, |sc, values| field_of(sc, &values[top], name?, hint))
                        .map_err(gc_fault)?;
                    if !found {
                        code.ip = at + 1; // `get_method` reads the operand again
                        return Ok(Next::Slow(Op::GetProperty));
                    }
                }
                op::GET_UPVALUE => {
                    let index = code.byte() as usize;
                    self.get_upvalue(v, index).map_err(gc_fault)?;
                }
                op::SET_UPVALUE | op::SET_UPVALUE_POP => {
                    let index = code.byte() as usize;
                    self.set_upvalue(v, index).map_err(gc_fault)?;
                    if instruction == op::SET_UPVALUE_POP {
                        v.truncate(len - 1);
                    }
                }
                op::SET_GLOBAL | op::SET_GLOBAL_POP => {
                    // Assigns an existing global; an undefined one is the slow path's error.
                    let index = code.byte() as usize;
                    let globals = self.globals;
                    let name = self.name(index);
                    let hint = &code.chunk.hints[at];
                    let assigned = v
                        .map_replace_copy(Some(hint), |sc, values| {
                            Some((sc.get(globals), name?.into(), values.last()?))
                        })
                        .map_err(gc_fault)?;
                    if !assigned {
                        code.ip = at + 1;
                        return Ok(Next::Slow(Op::from_byte(instruction)));
                    }
                    if instruction == op::SET_GLOBAL_POP {
                        v.truncate(len - 1);
                    }
                }
                op::SET_PROPERTY | op::SET_PROPERTY_POP => {
                    // A field is defined here only on instances of the class whose methods the
                    // site last checked for the name (the slow path checks the others':
                    // `Vm::check_field_name`).
                    let index = code.byte() as usize;
                    let constants = self.constants;
                    let hint = &code.chunk.hints[at];
                    let checked = self
                        .chunk
                        .checked_classes
                        .get(at)
                        .map_or(NO_CLASS, Cell::get);
                    let assigned = len >= 2
                        && v.map_update_copy(Some(hint), |sc, values| {
                            let Value::Instance(instance) = &values[len - 2] else {
                                return None;
                            };
                            let instance = sc.deref(instance)?;
                            let may_define = sc.deref(&instance.class)?.id == checked;
                            let fields = sc.deref(&instance.fields)?;
                            let name = name(sc, constants, index)?;
                            Some((fields, name, &values[len - 1], may_define))
                        })
                        .map_err(gc_fault)?;
                    if !assigned {
                        code.ip = at + 1;
                        return Ok(Next::Slow(Op::from_byte(instruction)));
                    }
                    if instruction == op::SET_PROPERTY_POP {
                        v.truncate(len - 2);
                    } else {
                        v.copy(len - 1, len - 2).map_err(gc_fault)?;
                        v.truncate(len - 1);
                    }
                }
                op::EQUAL => {
                    let equal = values_equal(&v[len - 2], &v[len - 1]);
                    v.truncate(len - 1);
                    v.set(len - 2, Value::Bool(equal)).map_err(gc_fault)?;
                }
                op::ADD => {
                    let Some((a, b)) = numbers(v, len) else {
                        return Ok(Next::Slow(Op::Add)); // strings, or an error: `concatenate` decides
                    };
                    binary(v, len, Value::Number(a + b))?;
                }
                op::SUBTRACT => {
                    let (a, b) = numbers(v, len).ok_or_else(not_numbers)?;
                    binary(v, len, Value::Number(a - b))?;
                }
                op::LESS => {
                    let (a, b) = numbers(v, len).ok_or_else(not_numbers)?;
                    binary(v, len, Value::Bool(a < b))?;
                }
                op::GREATER => {
                    let (a, b) = numbers(v, len).ok_or_else(not_numbers)?;
                    binary(v, len, Value::Bool(a > b))?;
                }
                op::MULTIPLY => {
                    let (a, b) = numbers(v, len).ok_or_else(not_numbers)?;
                    binary(v, len, Value::Number(a * b))?;
                }
                op::DIVIDE => {
                    let (a, b) = numbers(v, len).ok_or_else(not_numbers)?;
                    binary(v, len, Value::Number(a / b))?;
                }
                op::NOT => {
                    let result = is_falsey(&v[len - 1]);
                    v.set(len - 1, Value::Bool(result)).map_err(gc_fault)?;
                }
                op::NEGATE => {
                    let Value::Number(n) = v[len - 1] else {
                        return Err("Operand must be a number.".into());
                    };
                    v.set(len - 1, Value::Number(-n)).map_err(gc_fault)?;
                }
                op::PRINT => {
                    self.line.clear();
                    write_value(v.scope(), &v[len - 1], &mut self.line);
                    self.line.push(b'\n');
                    // Like clox's printf, a closed output is not the program's error.
                    let _ = self.out.write_all(&self.line);
                    v.truncate(len - 1);
                }
                op::JUMP => {
                    let offset = code.short();
                    code.ip += offset;
                }
                op::JUMP_IF_FALSE => {
                    let offset = code.short();
                    if is_falsey(&v[len - 1]) {
                        code.ip += offset;
                    }
                }
                op::POP_JUMP_IF_FALSE => {
                    let offset = code.short();
                    let falsey = is_falsey(&v[len - 1]);
                    v.truncate(len - 1);
                    if falsey {
                        code.ip += offset;
                    }
                }
                op::LOOP => {
                    let offset = code.short();
                    code.ip -= offset;
                    self.tick()?;
                }
                op::CALL => {
                    let argc = code.byte() as usize;
                    self.ip = code.ip;
                    self.tick()?;
                    if !self.call_on_stack(v, argc)? {
                        return Err(not_callable());
                    }
                    *code = Code::current(self);
                }
                op::INVOKE => {
                    let index = code.byte() as usize;
                    let argc = code.byte() as usize;
                    self.ip = code.ip;
                    self.tick()?;
                    if !self.invoke_on_stack(v, at, index, argc)? {
                        code.ip = at + 1;
                        return Ok(Next::Slow(Op::Invoke));
                    }
                    *code = Code::current(self);
                }
                op::SUPER_INVOKE => {
                    let index = code.byte() as usize;
                    let argc = code.byte() as usize;
                    self.ip = code.ip;
                    self.tick()?;
                    if !self.super_invoke_on_stack(v, at, index, argc)? {
                        code.ip = at + 1;
                        return Ok(Next::Slow(Op::SuperInvoke));
                    }
                    *code = Code::current(self);
                }
                op::CLOSURE => {
                    // Allocates: the closure, its upvalues' array and the upvalues it opens.
                    self.ip = code.ip;
                    self.closure_on_stack(v)?;
                    code.ip = self.ip; // past the operands
                }
                op::CLOSE_UPVALUE => {
                    self.ip = code.ip;
                    self.close_on_stack(v, len - 1)?;
                    v.truncate(len - 1);
                }
                op::RETURN => {
                    debug_assert_eq!(self.open_top, self.open_top_of_list(v.scope()));
                    if self.frame_has_open_upvalues() {
                        self.ip = code.ip;
                        self.close_on_stack(v, self.base)?;
                    }
                    if self.leave_frame(v)? {
                        return Ok(Next::Done);
                    }
                    *code = Code::current(self);
                }
                other => return Ok(Next::Slow(Op::from_byte(other))),
            }
        }
    }

    /// The stack slot of a `GET`/`SET` instruction's operand: from the frame's base for slot 0
    /// and the parameters, from above the frame's closure for a body's `local`.
    #[inline(always)]
    pub(crate) fn slot_of(&self, local: bool, operand: u8) -> usize {
        let above = if local { FRAME_SLOTS } else { 0 };
        self.base + above + operand as usize
    }

    /// Counts one backward jump or call against the run's budget (every unbounded execution
    /// passes through one or the other).
    #[inline(always)]
    pub(crate) fn tick(&mut self) -> Result<(), Fault> {
        if let Some(steps) = &mut self.steps {
            if *steps == 0 {
                return Err("Execution budget exhausted.".into());
            }
            *steps -= 1;
        }
        Ok(())
    }

    /// Drops the top of the stack.
    pub(crate) fn pop(&self, s: &mut Scope<'s>) {
        let mut v = s.vec_view(self.stack);
        let len = v.len();
        v.truncate(len - 1);
    }

    /// Stores the top of the stack (left there) into the current closure's upvalue `index`:
    /// into the upvalue once closed, into the stack slot while it is open. The closed case is
    /// tried first, with one lookup (a closure's upvalues are usually closed: it outlives the
    /// frame that made them); an open one is looked up again for its slot.
    fn set_upvalue(&self, v: &mut VecView<'_, 's, Value>, index: usize) -> Result<(), GcError> {
        let frame = self.frame;
        let closed = v.slice_replace_copy(|sc, values| {
            let closure = crate::calls::current_closure(sc, values, frame)?;
            let upvalue = sc.deref(&closure.upvalues)?.get(index)?;
            if matches!(sc.deref(upvalue)?.first()?, Value::Open(_)) {
                return None;
            }
            Some((upvalue, 0, values.last()?))
        })?;
        if !closed {
            if let Some(Value::Open(slot)) =
                crate::calls::upvalue(v.scope(), v.as_slice(), frame, index)
            {
                let (slot, top) = (*slot as usize, v.len() - 1);
                v.copy(top, slot)?;
            }
        }
        Ok(())
    }

    /// Pushes the value of the current closure's upvalue `index`: from the stack slot while it
    /// is open, from the upvalue once closed (one lookup either way).
    fn get_upvalue(&self, v: &mut VecView<'_, 's, Value>, index: usize) -> Result<(), GcError> {
        let frame = self.frame;
        v.push_copy_from(
            |sc, values| match crate::calls::upvalue(sc, values, frame, index)? {
                Value::Open(slot) => values.get(*slot as usize),
                closed => Some(closed),
            },
        )
        .map(|_| ())
    }
}

/// The two numbers on top of the stack, if both are numbers.
#[inline(always)]
fn numbers(v: &VecView<'_, '_, Value>, len: usize) -> Option<(f64, f64)> {
    match (&v[len - 2], &v[len - 1]) {
        (Value::Number(a), Value::Number(b)) => Some((*a, *b)),
        _ => None,
    }
}

/// A binary operator's result replaces its two operands.
#[inline(always)]
fn binary(v: &mut VecView<'_, '_, Value>, len: usize, result: Value) -> Result<(), Fault> {
    v.truncate(len - 1);
    v.set(len - 2, result).map_err(gc_fault)
}

/// The error of an arithmetic or comparison operator given something else than numbers.
#[cold]
fn not_numbers() -> Fault {
    "Operands must be numbers.".into()
}

/// What the stack loop hands over.
enum Next {
    /// An instruction that needs the scope itself.
    Slow(Op),
    /// The script returned.
    Done,
}

/// The current function's bytecode and the ip, in locals for the loop.
struct Code<'c> {
    bytes: &'c [u8],
    chunk: &'c Chunk,
    ip: usize,
}

impl<'c> Code<'c> {
    /// The VM's current function and ip (after a call or a return changed them).
    #[inline(always)]
    fn current(vm: &Vm<'_, 'c>) -> Code<'c> {
        let chunk = vm.chunk;
        Code {
            bytes: &chunk.code,
            chunk,
            ip: vm.ip,
        }
    }
}

impl Code<'_> {
    #[inline(always)]
    fn byte(&mut self) -> u8 {
        let b = self.bytes[self.ip];
        self.ip += 1;
        b
    }

    #[inline(always)]
    fn short(&mut self) -> usize {
        let hi = self.byte() as usize;
        let lo = self.byte() as usize;
        (hi << 8) | lo
    }
}
