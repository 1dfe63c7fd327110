//! Variables: block scopes, locals, upvalues (a local of an enclosing function, captured) and
//! globals; how a name resolves to the slot, upvalue or global the instructions address.

use super::{Compiler, Local, UpvalueRef, MAX_LOCALS, MAX_UPVALUES};
use crate::opcode::Op;
use crate::scanner::{Kind, Token};

impl<'src, 's> Compiler<'_, 'src, 's> {
    pub(super) fn begin_scope(&mut self) {
        self.function().scope_depth += 1;
    }

    pub(super) fn end_scope(&mut self) {
        self.function().scope_depth -= 1;
        loop {
            let f = self.function();
            let Some(local) = f.locals.last() else { break };
            if local.depth.is_none_or(|d| d <= f.scope_depth) {
                break;
            }
            let captured = local.captured;
            f.locals.pop();
            self.emit_op(if captured { Op::CloseUpvalue } else { Op::Pop });
        }
    }

    pub(super) fn resolve_local(&mut self, depth: usize, name: &str) -> Option<u8> {
        let found = self.functions[depth]
            .locals
            .iter()
            .rposition(|l| l.name.lexeme == name);
        let i = found?;
        if self.functions[depth].locals[i].depth.is_none() {
            self.error("Can't read local variable in its own initializer.");
        }
        Some(i as u8)
    }

    fn add_upvalue(&mut self, depth: usize, upvalue: UpvalueRef) -> u8 {
        let upvalues = &self.functions[depth].upvalues;
        if let Some(i) = upvalues.iter().position(|u| *u == upvalue) {
            return i as u8;
        }
        if upvalues.len() == MAX_UPVALUES {
            self.error("Too many closure variables in function.");
            return 0;
        }
        self.functions[depth].upvalues.push(upvalue);
        (self.functions[depth].upvalues.len() - 1) as u8
    }

    pub(super) fn resolve_upvalue(&mut self, depth: usize, name: &str) -> Option<u8> {
        if depth == 0 {
            return None;
        }
        if let Some(local) = self.resolve_local(depth - 1, name) {
            self.functions[depth - 1].locals[local as usize].captured = true;
            return Some(self.add_upvalue(
                depth,
                UpvalueRef {
                    index: local,
                    is_local: true,
                },
            ));
        }
        let upvalue = self.resolve_upvalue(depth - 1, name)?;
        Some(self.add_upvalue(
            depth,
            UpvalueRef {
                index: upvalue,
                is_local: false,
            },
        ))
    }

    pub(super) fn add_local(&mut self, name: Token<'src>) {
        if self.function().locals.len() == MAX_LOCALS {
            self.error("Too many local variables in function.");
            return;
        }
        self.function().locals.push(Local {
            name,
            depth: None,
            captured: false,
        });
    }

    pub(super) fn declare_variable(&mut self) {
        let name = self.previous;
        let f = self.function();
        if f.scope_depth == 0 {
            return;
        }
        let depth = f.scope_depth;
        let clash = f
            .locals
            .iter()
            .rev()
            .take_while(|l| l.depth.is_none_or(|d| d >= depth))
            .any(|l| l.name.lexeme == name.lexeme);
        if clash {
            self.error("Already a variable with this name in this scope.");
        }
        self.add_local(name);
    }

    pub(super) fn parse_variable(&mut self, message: &str) -> u8 {
        self.consume(Kind::Identifier, message);
        self.declare_variable();
        if self.function().scope_depth > 0 {
            return 0;
        }
        let name = self.previous.lexeme;
        self.string_constant(name)
    }

    pub(super) fn mark_initialized(&mut self) {
        let f = self.function();
        if f.scope_depth == 0 {
            return;
        }
        let depth = f.scope_depth;
        if let Some(local) = f.locals.last_mut() {
            local.depth = Some(depth);
        }
    }

    pub(super) fn define_variable(&mut self, global: u8) {
        if self.function().scope_depth > 0 {
            self.mark_initialized();
            return;
        }
        self.emit_op_arg(Op::DefineGlobal, global);
    }
}
