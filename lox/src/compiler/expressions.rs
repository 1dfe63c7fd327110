//! Expressions: the Pratt parser's precedence table and rules, and the code each expression
//! emits.

use super::Compiler;
use crate::object::ValueInit;
use crate::opcode::Op;
use crate::scanner::{Kind, Token};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    None,
    Assignment,
    Or,
    And,
    Equality,
    Comparison,
    Term,
    Factor,
    Unary,
    Call,
    Primary,
}

impl Prec {
    fn next(self) -> Prec {
        match self {
            Prec::None => Prec::Assignment,
            Prec::Assignment => Prec::Or,
            Prec::Or => Prec::And,
            Prec::And => Prec::Equality,
            Prec::Equality => Prec::Comparison,
            Prec::Comparison => Prec::Term,
            Prec::Term => Prec::Factor,
            Prec::Factor => Prec::Unary,
            Prec::Unary => Prec::Call,
            Prec::Call | Prec::Primary => Prec::Primary,
        }
    }
}

#[derive(Clone, Copy)]
enum Prefix {
    Grouping,
    Unary,
    Number,
    String,
    Literal,
    Variable,
    This,
    Super,
}

#[derive(Clone, Copy)]
enum Infix {
    Call,
    Dot,
    Binary,
    And,
    Or,
}

fn rule(kind: Kind) -> (Option<Prefix>, Option<Infix>, Prec) {
    use Kind as K;
    match kind {
        K::LeftParen => (Some(Prefix::Grouping), Some(Infix::Call), Prec::Call),
        K::Dot => (None, Some(Infix::Dot), Prec::Call),
        K::Minus => (Some(Prefix::Unary), Some(Infix::Binary), Prec::Term),
        K::Plus => (None, Some(Infix::Binary), Prec::Term),
        K::Slash | K::Star => (None, Some(Infix::Binary), Prec::Factor),
        K::Bang => (Some(Prefix::Unary), None, Prec::None),
        K::BangEqual | K::EqualEqual => (None, Some(Infix::Binary), Prec::Equality),
        K::Greater | K::GreaterEqual | K::Less | K::LessEqual => {
            (None, Some(Infix::Binary), Prec::Comparison)
        }
        K::Identifier => (Some(Prefix::Variable), None, Prec::None),
        K::String => (Some(Prefix::String), None, Prec::None),
        K::Number => (Some(Prefix::Number), None, Prec::None),
        K::And => (None, Some(Infix::And), Prec::And),
        K::Or => (None, Some(Infix::Or), Prec::Or),
        K::False | K::Nil | K::True => (Some(Prefix::Literal), None, Prec::None),
        K::Super => (Some(Prefix::Super), None, Prec::None),
        K::This => (Some(Prefix::This), None, Prec::None),
        _ => (None, None, Prec::None),
    }
}

impl<'src, 's> Compiler<'_, 'src, 's> {
    pub(super) fn expression(&mut self) {
        self.parse_precedence(Prec::Assignment);
    }

    fn parse_precedence(&mut self, prec: Prec) {
        if !self.nest() {
            return;
        }
        self.parse_precedence_nested(prec);
        self.nesting -= 1;
    }

    fn parse_precedence_nested(&mut self, prec: Prec) {
        self.advance();
        let Some(prefix) = rule(self.previous.kind).0 else {
            self.error("Expect expression.");
            return;
        };
        let can_assign = prec <= Prec::Assignment;
        self.prefix(prefix, can_assign);
        while prec <= rule(self.current.kind).2 {
            self.advance();
            if let Some(infix) = rule(self.previous.kind).1 {
                self.infix(infix, can_assign);
            }
        }
        if can_assign && self.matches(Kind::Equal) {
            self.error("Invalid assignment target.");
        }
    }

    fn prefix(&mut self, prefix: Prefix, can_assign: bool) {
        match prefix {
            Prefix::Grouping => {
                self.expression();
                self.consume(Kind::RightParen, "Expect ')' after expression.");
            }
            Prefix::Unary => {
                let op = self.previous.kind;
                self.parse_precedence(Prec::Unary);
                self.emit_op(if op == Kind::Bang {
                    Op::Not
                } else {
                    Op::Negate
                });
            }
            Prefix::Number => {
                let value: f64 = self.previous.lexeme.parse().unwrap_or(0.0);
                self.emit_constant(ValueInit::Number(value));
            }
            Prefix::String => {
                let lexeme = self.previous.lexeme;
                let handle = self.intern(&lexeme[1..lexeme.len() - 1]);
                self.emit_constant(ValueInit::Str(handle));
            }
            Prefix::Literal => self.emit_op(match self.previous.kind {
                Kind::False => Op::False,
                Kind::True => Op::True,
                _ => Op::Nil,
            }),
            Prefix::Variable => self.named_variable(self.previous, can_assign),
            Prefix::This => {
                if self.classes.is_empty() {
                    self.error("Can't use 'this' outside of a class.");
                    return;
                }
                self.named_variable(self.previous, false);
            }
            Prefix::Super => self.super_(),
        }
    }

    fn infix(&mut self, infix: Infix, can_assign: bool) {
        match infix {
            Infix::Binary => {
                let op = self.previous.kind;
                self.parse_precedence(rule(op).2.next());
                match op {
                    Kind::BangEqual => {
                        self.emit_op(Op::Equal);
                        self.emit_op(Op::Not);
                    }
                    Kind::EqualEqual => self.emit_op(Op::Equal),
                    Kind::Greater => self.emit_op(Op::Greater),
                    Kind::GreaterEqual => {
                        self.emit_op(Op::Less);
                        self.emit_op(Op::Not);
                    }
                    Kind::Less => self.emit_op(Op::Less),
                    Kind::LessEqual => {
                        self.emit_op(Op::Greater);
                        self.emit_op(Op::Not);
                    }
                    Kind::Plus => self.emit_op(Op::Add),
                    Kind::Minus => self.emit_op(Op::Subtract),
                    Kind::Star => self.emit_op(Op::Multiply),
                    _ => self.emit_op(Op::Divide),
                }
            }
            Infix::Call => {
                let args = self.argument_list();
                self.emit_op_arg(Op::Call, args);
            }
            Infix::Dot => {
                self.consume(Kind::Identifier, "Expect property name after '.'.");
                let name = self.previous.lexeme;
                let name = self.string_constant(name);
                if can_assign && self.matches(Kind::Equal) {
                    self.expression();
                    self.emit_op_arg(Op::SetProperty, name);
                } else if self.matches(Kind::LeftParen) {
                    let args = self.argument_list();
                    self.emit_op_arg(Op::Invoke, name);
                    self.emit(args);
                } else {
                    self.emit_op_arg(Op::GetProperty, name);
                }
            }
            Infix::And => {
                let end = self.emit_jump(Op::JumpIfFalse);
                self.emit_op(Op::Pop);
                self.parse_precedence(Prec::And);
                self.patch_jump(end);
            }
            Infix::Or => {
                let else_jump = self.emit_jump(Op::JumpIfFalse);
                let end = self.emit_jump(Op::Jump);
                self.patch_jump(else_jump);
                self.emit_op(Op::Pop);
                self.parse_precedence(Prec::Or);
                self.patch_jump(end);
            }
        }
    }

    fn argument_list(&mut self) -> u8 {
        let mut count: u32 = 0;
        if !self.check(Kind::RightParen) {
            loop {
                self.expression();
                if count == 255 {
                    self.error("Can't have more than 255 arguments.");
                }
                count += 1;
                if !self.matches(Kind::Comma) {
                    break;
                }
            }
        }
        self.consume(Kind::RightParen, "Expect ')' after arguments.");
        count as u8
    }

    pub(super) fn named_variable(&mut self, name: Token<'src>, can_assign: bool) {
        let depth = self.functions.len() - 1;
        let (get, set, arg) = if let Some(i) = self.resolve_local(depth, name.lexeme) {
            // Slot 0 and the parameters lie below the frame's closure, the body's locals above
            // it (`calls.rs`).
            if i as u32 <= self.function().arity {
                (Op::GetParam, Op::SetParam, i)
            } else {
                (Op::GetLocal, Op::SetLocal, i)
            }
        } else if let Some(i) = self.resolve_upvalue(depth, name.lexeme) {
            (Op::GetUpvalue, Op::SetUpvalue, i)
        } else {
            let i = self.string_constant(name.lexeme);
            (Op::GetGlobal, Op::SetGlobal, i)
        };
        if can_assign && self.matches(Kind::Equal) {
            self.expression();
            self.emit_op_arg(set, arg);
        } else {
            self.emit_op_arg(get, arg);
        }
    }

    fn super_(&mut self) {
        match self.classes.last() {
            None => self.error("Can't use 'super' outside of a class."),
            Some(false) => self.error("Can't use 'super' in a class with no superclass."),
            Some(true) => {}
        }
        self.consume(Kind::Dot, "Expect '.' after 'super'.");
        self.consume(Kind::Identifier, "Expect superclass method name.");
        let name = self.previous.lexeme;
        let name = self.string_constant(name);
        self.named_variable(Token::synthetic("this"), false);
        if self.matches(Kind::LeftParen) {
            let args = self.argument_list();
            self.named_variable(Token::synthetic("super"), false);
            self.emit_op_arg(Op::SuperInvoke, name);
            self.emit(args);
        } else {
            self.named_variable(Token::synthetic("super"), false);
            self.emit_op_arg(Op::GetSuper, name);
        }
    }
}
