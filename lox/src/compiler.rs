//! The single-pass compiler: source to bytecode (clox's `compiler.c`), a Pratt parser that
//! emits as it parses.
//!
//! Each function being compiled collects its bytecode in a [`Chunk`] and its constants as
//! mirrors (`ValueInit`: numbers, and handles to interned strings and to the functions nested
//! in it). When the function ends, its constants become a `GcSlice<Value>` and the function a
//! heap object, both built in one step; the enclosing function gets a handle to it as a
//! constant. Errors go to the error output in clox's format, `[line N] Error at 'x': message`,
//! and the compiler recovers at the next statement.

use gc_core::{GcBytes, Handle, Scope};

use crate::object::{Chunk, Function, FunctionInit, ValueInit};
use crate::opcode::Op;
use crate::scanner::{Kind, Scanner, Token};
use crate::strings::Strings;

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

#[derive(Clone, Copy, PartialEq, Eq)]
enum FunctionKind {
    Function,
    Initializer,
    Method,
    Script,
}

struct Local<'src> {
    name: Token<'src>,
    /// `None` while the variable's initializer is being compiled.
    depth: Option<u32>,
    captured: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct UpvalueRef {
    index: u8,
    is_local: bool,
}

/// One function being compiled.
struct FunctionState<'src, 's> {
    kind: FunctionKind,
    name: Option<Handle<'s, GcBytes>>,
    arity: u32,
    chunk: Chunk,
    constants: Vec<ValueInit<'s>>,
    locals: Vec<Local<'src>>,
    upvalues: Vec<UpvalueRef>,
    scope_depth: u32,
}

const MAX_LOCALS: usize = 256;
/// How deeply expressions and statements may nest: the parser recurses, and untrusted source
/// must not exhaust the native stack (clox has no such limit and crashes instead).
const MAX_NESTING: usize = 128;
const MAX_UPVALUES: usize = 256;

/// Compiles `source`, adding its functions' bytecode to `code`; on success the script's
/// function, otherwise the errors were written to `errors` (and `code` is left as it was).
pub(crate) fn compile<'s>(
    s: &mut Scope<'s>,
    strings: &mut Strings,
    code: &mut Vec<Chunk>,
    source: &str,
    errors: &mut Vec<u8>,
) -> Option<Handle<'s, Function>> {
    let first_chunk = code.len();
    let mut c = Compiler {
        s,
        strings,
        code,
        scanner: Scanner::new(source),
        current: Token::synthetic(""),
        previous: Token::synthetic(""),
        had_error: false,
        panic_mode: false,
        functions: Vec::new(),
        classes: Vec::new(),
        errors,
        nesting: 0,
    };
    c.begin_function(FunctionKind::Script);
    c.advance();
    while !c.matches(Kind::Eof) {
        c.declaration();
    }
    let function = c.end_function();
    if c.had_error {
        c.code.truncate(first_chunk);
        return None;
    }
    function.map(|(f, _)| f)
}

struct Compiler<'a, 'src, 's> {
    s: &'a mut Scope<'s>,
    strings: &'a mut Strings,
    /// The interpreter's code table.
    code: &'a mut Vec<Chunk>,
    /// Expressions and statements being parsed, one inside the other.
    nesting: usize,
    scanner: Scanner<'src>,
    current: Token<'src>,
    previous: Token<'src>,
    had_error: bool,
    panic_mode: bool,
    functions: Vec<FunctionState<'src, 's>>,
    /// Per enclosing class: whether it has a superclass.
    classes: Vec<bool>,
    errors: &'a mut Vec<u8>,
}

impl<'a, 'src, 's> Compiler<'a, 'src, 's> {
    // ----- tokens and errors --------------------------------------------------------

    fn error_at(&mut self, token: Token<'src>, message: &str) {
        if self.panic_mode {
            return;
        }
        self.panic_mode = true;
        let place = match token.kind {
            Kind::Eof => " at end".to_string(),
            Kind::Error => String::new(),
            _ => format!(" at '{}'", token.lexeme),
        };
        self.errors.extend_from_slice(
            format!("[line {}] Error{place}: {message}\n", token.line).as_bytes(),
        );
        self.had_error = true;
    }

    fn error(&mut self, message: &str) {
        self.error_at(self.previous, message);
    }

    fn error_at_current(&mut self, message: &str) {
        self.error_at(self.current, message);
    }

    fn advance(&mut self) {
        self.previous = self.current;
        loop {
            self.current = self.scanner.scan();
            if self.current.kind != Kind::Error {
                break;
            }
            let message = self.current.lexeme;
            self.error_at_current(message);
        }
    }

    fn consume(&mut self, kind: Kind, message: &str) {
        if self.current.kind == kind {
            self.advance();
        } else {
            self.error_at_current(message);
        }
    }

    fn check(&self, kind: Kind) -> bool {
        self.current.kind == kind
    }

    fn matches(&mut self, kind: Kind) -> bool {
        if !self.check(kind) {
            return false;
        }
        self.advance();
        true
    }

    // ----- emitting -----------------------------------------------------------------

    fn function(&mut self) -> &mut FunctionState<'src, 's> {
        self.functions
            .last_mut()
            .expect("a function is being compiled")
    }

    fn code_len(&mut self) -> usize {
        self.function().chunk.code.len()
    }

    fn emit(&mut self, byte: u8) {
        let line = self.previous.line;
        let chunk = &mut self.function().chunk;
        chunk.code.push(byte);
        chunk.lines.push(line);
    }

    fn emit_op(&mut self, op: Op) {
        self.emit(op as u8);
    }

    fn emit_op_arg(&mut self, op: Op, arg: u8) {
        self.emit(op as u8);
        self.emit(arg);
    }

    fn emit_loop(&mut self, start: usize) {
        self.emit_op(Op::Loop);
        let offset = self.code_len() - start + 2;
        if offset > u16::MAX as usize {
            self.error("Loop body too large.");
        }
        self.emit((offset >> 8) as u8);
        self.emit(offset as u8);
    }

    fn emit_jump(&mut self, op: Op) -> usize {
        self.emit_op(op);
        self.emit(0xff);
        self.emit(0xff);
        self.code_len() - 2
    }

    fn patch_jump(&mut self, at: usize) {
        let jump = self.code_len() - at - 2;
        if jump > u16::MAX as usize {
            self.error("Too much code to jump over.");
        }
        let code = &mut self.function().chunk.code;
        code[at] = (jump >> 8) as u8;
        code[at + 1] = jump as u8;
    }

    fn emit_return(&mut self) {
        if self.function().kind == FunctionKind::Initializer {
            self.emit_op_arg(Op::GetLocal, 0);
        } else {
            self.emit_op(Op::Nil);
        }
        self.emit_op(Op::Return);
    }

    fn make_constant(&mut self, value: ValueInit<'s>) -> u8 {
        let constants = &mut self.function().constants;
        constants.push(value);
        if constants.len() > 256 {
            self.error("Too many constants in one chunk.");
            return 0;
        }
        (constants.len() - 1) as u8
    }

    fn emit_constant(&mut self, value: ValueInit<'s>) {
        let index = self.make_constant(value);
        self.emit_op_arg(Op::Constant, index);
    }

    fn string_constant(&mut self, text: &str) -> u8 {
        let handle = self.intern(text);
        self.make_constant(ValueInit::Str(handle))
    }

    // ----- functions and scopes -----------------------------------------------------

    fn begin_function(&mut self, kind: FunctionKind) {
        let name = match kind {
            FunctionKind::Script => None,
            _ => {
                let text = self.previous.lexeme;
                self.intern(text)
            }
        };
        let slot_zero = if kind == FunctionKind::Function {
            Token::synthetic("")
        } else {
            Token::synthetic("this")
        };
        self.functions.push(FunctionState {
            kind,
            name,
            arity: 0,
            chunk: Chunk::default(),
            constants: Vec::new(),
            locals: vec![Local {
                name: slot_zero,
                depth: Some(0),
                captured: false,
            }],
            upvalues: Vec::new(),
            scope_depth: 0,
        });
    }

    /// Ends the innermost function: builds it in the heap (after its constants) and returns it
    /// with its upvalue descriptions; `None` when the heap is out of memory (reported).
    fn end_function(&mut self) -> Option<(Handle<'s, Function>, Vec<UpvalueRef>)> {
        self.emit_return();
        let mut f = self.functions.pop().expect("a function is being compiled");
        f.chunk.finish(f.constants.iter().map(|c| match c {
            ValueInit::Number(n) => Some(*n),
            _ => None,
        }));
        let chunk = self.code.len() as u32;
        self.code.push(f.chunk);
        let built = self.s.alloc_slice(f.constants).and_then(|constants| {
            self.s.alloc_init(FunctionInit {
                arity: f.arity,
                upvalue_count: f.upvalues.len() as u32,
                name: f.name,
                chunk,
                constants: Some(constants),
            })
        });
        match built {
            Ok(function) => Some((function, f.upvalues)),
            Err(_) => {
                self.out_of_memory();
                None
            }
        }
    }

    /// Reports that the heap ran out of memory while compiling (once).
    fn out_of_memory(&mut self) {
        if !self.had_error {
            self.errors
                .extend_from_slice(b"Out of memory while compiling.\n");
        }
        self.had_error = true;
        self.panic_mode = true;
    }

    /// The interned string `text`, or `None` (reported) when the heap is out of memory.
    fn intern(&mut self, text: &str) -> Option<Handle<'s, GcBytes>> {
        let handle = self.strings.intern(self.s, text.as_bytes()).ok();
        if handle.is_none() {
            self.out_of_memory();
        }
        handle
    }

    fn begin_scope(&mut self) {
        self.function().scope_depth += 1;
    }

    fn end_scope(&mut self) {
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

    fn resolve_local(&mut self, depth: usize, name: &str) -> Option<u8> {
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

    fn resolve_upvalue(&mut self, depth: usize, name: &str) -> Option<u8> {
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

    fn add_local(&mut self, name: Token<'src>) {
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

    fn declare_variable(&mut self) {
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

    fn parse_variable(&mut self, message: &str) -> u8 {
        self.consume(Kind::Identifier, message);
        self.declare_variable();
        if self.function().scope_depth > 0 {
            return 0;
        }
        let name = self.previous.lexeme;
        self.string_constant(name)
    }

    fn mark_initialized(&mut self) {
        let f = self.function();
        if f.scope_depth == 0 {
            return;
        }
        let depth = f.scope_depth;
        if let Some(local) = f.locals.last_mut() {
            local.depth = Some(depth);
        }
    }

    fn define_variable(&mut self, global: u8) {
        if self.function().scope_depth > 0 {
            self.mark_initialized();
            return;
        }
        self.emit_op_arg(Op::DefineGlobal, global);
    }

    // ----- expressions --------------------------------------------------------------

    fn expression(&mut self) {
        self.parse_precedence(Prec::Assignment);
    }

    fn parse_precedence(&mut self, prec: Prec) {
        if !self.nest() {
            return;
        }
        self.parse_precedence_nested(prec);
        self.nesting -= 1;
    }

    /// Enters one more level of nesting; `false` (an error reported) past the limit.
    fn nest(&mut self) -> bool {
        if self.nesting == MAX_NESTING {
            self.error_at_current("Too much nesting.");
            // Skip the rest: everything after would be as deep.
            while !self.check(Kind::Eof) {
                self.advance();
            }
            return false;
        }
        self.nesting += 1;
        true
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

    fn named_variable(&mut self, name: Token<'src>, can_assign: bool) {
        let depth = self.functions.len() - 1;
        let (get, set, arg) = if let Some(i) = self.resolve_local(depth, name.lexeme) {
            (Op::GetLocal, Op::SetLocal, i)
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

    // ----- statements ---------------------------------------------------------------

    fn declaration(&mut self) {
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
        self.emit_op(Op::Pop);
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
            exit_jump = Some(self.emit_jump(Op::JumpIfFalse));
            self.emit_op(Op::Pop);
        }
        if !self.matches(Kind::RightParen) {
            let body_jump = self.emit_jump(Op::Jump);
            let increment_start = self.code_len();
            self.expression();
            self.emit_op(Op::Pop);
            self.consume(Kind::RightParen, "Expect ')' after for clauses.");
            self.emit_loop(loop_start);
            loop_start = increment_start;
            self.patch_jump(body_jump);
        }
        self.body();
        self.emit_loop(loop_start);
        if let Some(exit) = exit_jump {
            self.patch_jump(exit);
            self.emit_op(Op::Pop);
        }
        self.end_scope();
    }

    fn if_statement(&mut self) {
        self.consume(Kind::LeftParen, "Expect '(' after 'if'.");
        self.expression();
        self.consume(Kind::RightParen, "Expect ')' after condition.");
        let then_jump = self.emit_jump(Op::JumpIfFalse);
        self.emit_op(Op::Pop);
        self.body();
        let else_jump = self.emit_jump(Op::Jump);
        self.patch_jump(then_jump);
        self.emit_op(Op::Pop);
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
        let exit = self.emit_jump(Op::JumpIfFalse);
        self.emit_op(Op::Pop);
        self.body();
        self.emit_loop(loop_start);
        self.patch_jump(exit);
        self.emit_op(Op::Pop);
    }
}
