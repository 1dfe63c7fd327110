//! Statements and declarations: variables, functions, classes, control flow, and the
//! recovery after an error (`synchronize`).

use super::{Compiler, FunctionKind};
use crate::object::ValueInit;
use crate::opcode::Op;
use crate::scanner::{Kind, Token};

impl<'src, 's> Compiler<'_, 'src, 's> {
    pub(super) fn declaration(&mut self) {
        if !self.nest() {
            return;
        }
        self.declaration_nested();
        self.nesting -= 1;
    }

    /// The body of `if`, `while` or `for`: a statement nested in another.
    fn body(&mut self) {
        if !self.nest() {
            return;
        }
        self.statement();
        self.nesting -= 1;
    }

    fn declaration_nested(&mut self) {
        if self.matches(Kind::Class) {
            self.class_declaration();
        } else if self.matches(Kind::Fun) {
            let global = self.parse_variable("Expect function name.");
            self.mark_initialized();
            self.function_body(FunctionKind::Function);
            self.define_variable(global);
        } else if self.matches(Kind::Var) {
            self.var_declaration();
        } else {
            self.statement();
        }
        if self.panic_mode {
            self.synchronize();
        }
    }

    fn synchronize(&mut self) {
        self.panic_mode = false;
        while self.current.kind != Kind::Eof {
            if self.previous.kind == Kind::Semicolon {
                return;
            }
            match self.current.kind {
                Kind::Class
                | Kind::Fun
                | Kind::Var
                | Kind::For
                | Kind::If
                | Kind::While
                | Kind::Print
                | Kind::Return => return,
                _ => self.advance(),
            }
        }
    }

    fn function_body(&mut self, kind: FunctionKind) {
        self.begin_function(kind);
        self.begin_scope();
        self.consume(Kind::LeftParen, "Expect '(' after function name.");
        if !self.check(Kind::RightParen) {
            loop {
                self.function().arity += 1;
                if self.function().arity > 255 {
                    self.error_at_current("Can't have more than 255 parameters.");
                }
                let constant = self.parse_variable("Expect parameter name.");
                self.define_variable(constant);
                if !self.matches(Kind::Comma) {
                    break;
                }
            }
        }
        self.consume(Kind::RightParen, "Expect ')' after parameters.");
        self.consume(Kind::LeftBrace, "Expect '{' before function body.");
        self.block();
        let Some((function, upvalues)) = self.end_function() else {
            return;
        };
        let index = self.make_constant(ValueInit::Function(Some(function)));
        self.emit_op_arg(Op::Closure, index);
        for u in upvalues {
            self.emit(u8::from(u.is_local));
            self.emit(u.index);
        }
    }

    fn class_declaration(&mut self) {
        self.consume(Kind::Identifier, "Expect class name.");
        let class_name = self.previous;
        let name_constant = self.string_constant(class_name.lexeme);
        self.declare_variable();
        self.emit_op_arg(Op::Class, name_constant);
        self.define_variable(name_constant);
        self.classes.push(false);
        if self.matches(Kind::Less) {
            self.consume(Kind::Identifier, "Expect superclass name.");
            self.named_variable(self.previous, false);
            if class_name.lexeme == self.previous.lexeme {
                self.error("A class can't inherit from itself.");
            }
            self.begin_scope();
            self.add_local(Token::synthetic("super"));
            self.define_variable(0);
            self.named_variable(class_name, false);
            self.emit_op(Op::Inherit);
            *self.classes.last_mut().expect("a class") = true;
        }
        self.named_variable(class_name, false);
        self.consume(Kind::LeftBrace, "Expect '{' before class body.");
        while !self.check(Kind::RightBrace) && !self.check(Kind::Eof) {
            self.consume(Kind::Identifier, "Expect method name.");
            let name = self.previous.lexeme;
            let constant = self.string_constant(name);
            let kind = if name == "init" {
                FunctionKind::Initializer
            } else {
                FunctionKind::Method
            };
            self.function_body(kind);
            self.emit_op_arg(Op::Method, constant);
        }
        self.consume(Kind::RightBrace, "Expect '}' after class body.");
        self.emit_op(Op::Pop);
        if self.classes.pop() == Some(true) {
            self.end_scope();
        }
    }

    fn var_declaration(&mut self) {
        let global = self.parse_variable("Expect variable name.");
        if self.matches(Kind::Equal) {
            self.expression();
        } else {
            self.emit_op(Op::Nil);
        }
        self.consume(Kind::Semicolon, "Expect ';' after variable declaration.");
        self.define_variable(global);
    }

    fn block(&mut self) {
        while !self.check(Kind::RightBrace) && !self.check(Kind::Eof) {
            self.declaration();
        }
        self.consume(Kind::RightBrace, "Expect '}' after block.");
    }

    fn statement(&mut self) {
        if self.matches(Kind::Print) {
            self.expression();
            self.consume(Kind::Semicolon, "Expect ';' after value.");
            self.emit_op(Op::Print);
        } else if self.matches(Kind::For) {
            self.for_statement();
        } else if self.matches(Kind::If) {
            self.if_statement();
        } else if self.matches(Kind::Return) {
            self.return_statement();
        } else if self.matches(Kind::While) {
            self.while_statement();
        } else if self.matches(Kind::LeftBrace) {
            self.begin_scope();
            self.block();
            self.end_scope();
        } else {
            self.expression_statement();
        }
    }

    fn expression_statement(&mut self) {
        self.expression();
        self.consume(Kind::Semicolon, "Expect ';' after expression.");
        self.emit_pop();
    }

    fn for_statement(&mut self) {
        self.begin_scope();
        self.consume(Kind::LeftParen, "Expect '(' after 'for'.");
        if self.matches(Kind::Semicolon) {
            // No initializer.
        } else if self.matches(Kind::Var) {
            self.var_declaration();
        } else {
            self.expression_statement();
        }
        let mut loop_start = self.code_len();
        let mut exit_jump = None;
        if !self.matches(Kind::Semicolon) {
            self.expression();
            self.consume(Kind::Semicolon, "Expect ';' after loop condition.");
            exit_jump = Some(self.emit_jump(Op::PopJumpIfFalse));
        }
        if !self.matches(Kind::RightParen) {
            let body_jump = self.emit_jump(Op::Jump);
            let increment_start = self.code_len();
            self.expression();
            self.emit_pop();
            self.consume(Kind::RightParen, "Expect ')' after for clauses.");
            self.emit_loop(loop_start);
            loop_start = increment_start;
            self.patch_jump(body_jump);
        }
        self.body();
        self.emit_loop(loop_start);
        if let Some(exit) = exit_jump {
            self.patch_jump(exit);
        }
        self.end_scope();
    }

    fn if_statement(&mut self) {
        self.consume(Kind::LeftParen, "Expect '(' after 'if'.");
        self.expression();
        self.consume(Kind::RightParen, "Expect ')' after condition.");
        let then_jump = self.emit_jump(Op::PopJumpIfFalse);
        self.body();
        let else_jump = self.emit_jump(Op::Jump);
        self.patch_jump(then_jump);
        if self.matches(Kind::Else) {
            self.body();
        }
        self.patch_jump(else_jump);
    }

    fn return_statement(&mut self) {
        if self.function().kind == FunctionKind::Script {
            self.error("Can't return from top-level code.");
        }
        if self.matches(Kind::Semicolon) {
            self.emit_return();
        } else {
            if self.function().kind == FunctionKind::Initializer {
                self.error("Can't return a value from an initializer.");
            }
            self.expression();
            self.consume(Kind::Semicolon, "Expect ';' after return value.");
            self.emit_op(Op::Return);
        }
    }

    fn while_statement(&mut self) {
        let loop_start = self.code_len();
        self.consume(Kind::LeftParen, "Expect '(' after 'while'.");
        self.expression();
        self.consume(Kind::RightParen, "Expect ')' after condition.");
        let exit = self.emit_jump(Op::PopJumpIfFalse);
        self.body();
        self.emit_loop(loop_start);
        self.patch_jump(exit);
    }
}
