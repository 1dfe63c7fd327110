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

mod expressions;
mod statements;
mod variables;

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
    /// Where the last instruction (not operand) was emitted.
    last_op: Option<usize>,
    /// The latest position a forward jump was patched to land on.
    jump_target: Option<usize>,
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
        let at = self.code_len();
        self.function().last_op = Some(at);
        self.emit(op as u8);
    }

    fn emit_op_arg(&mut self, op: Op, arg: u8) {
        self.emit_op(op);
        self.emit(arg);
    }

    /// Pops the value of an expression statement. When the expression ended with a store (into
    /// a parameter, a local, a global, an upvalue or a field) and no jump lands after that
    /// store, the store and the pop become one instruction (`SetLocal` + `Pop` =
    /// `SetLocalPop`): an assignment statement is then one dispatch, not two.
    fn emit_pop(&mut self) {
        let len = self.code_len();
        let f = self.function();
        if len >= 2 && f.last_op == Some(len - 2) && f.jump_target != Some(len) {
            let fused = match Op::from_byte(f.chunk.code[len - 2]) {
                Op::SetParam => Some(Op::SetParamPop),
                Op::SetLocal => Some(Op::SetLocalPop),
                Op::SetGlobal => Some(Op::SetGlobalPop),
                Op::SetUpvalue => Some(Op::SetUpvaluePop),
                Op::SetProperty => Some(Op::SetPropertyPop),
                _ => None,
            };
            if let Some(fused) = fused {
                f.chunk.code[len - 2] = fused as u8;
                return;
            }
        }
        self.emit_op(Op::Pop);
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
        let target = self.code_len();
        self.function().jump_target = Some(target);
        let jump = target - at - 2;
        if jump > u16::MAX as usize {
            self.error("Too much code to jump over.");
        }
        let code = &mut self.function().chunk.code;
        code[at] = (jump >> 8) as u8;
        code[at + 1] = jump as u8;
    }

    fn emit_return(&mut self) {
        if self.function().kind == FunctionKind::Initializer {
            self.emit_op_arg(Op::GetParam, 0);
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
            last_op: None,
            jump_target: None,
        });
    }

    /// Ends the innermost function: builds it in the heap (after its constants) and returns it
    /// with its upvalue descriptions; `None` when the heap is out of memory (reported).
    fn end_function(&mut self) -> Option<(Handle<'s, Function>, Vec<UpvalueRef>)> {
        self.emit_return();
        let mut f = self.functions.pop().expect("a function is being compiled");
        let names: Vec<_> = f
            .constants
            .iter()
            .map(|c| match c {
                ValueInit::Str(Some(name)) => Some(self.s.identity(*name)),
                _ => None,
            })
            .collect();
        f.chunk.finish(
            f.constants.iter().map(|c| match c {
                ValueInit::Number(n) => Some(*n),
                _ => None,
            }),
            names,
        );
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
}

#[cfg(test)]
mod tests {
    use gc_core::{Config, Heap};

    use super::compile;
    use crate::object::Chunk;
    use crate::opcode::Op;
    use crate::strings::Strings;

    /// The instructions of the script `source` compiles to (operands skipped).
    fn script_ops(source: &str) -> Vec<Op> {
        let mut heap = Heap::new(Config::default()).unwrap();
        let mut strings = Strings::default();
        let mut code: Vec<Chunk> = Vec::new();
        heap.scope(|s| {
            let compiled = compile(s, &mut strings, &mut code, source, &mut Vec::new());
            assert!(compiled.is_some(), "{source} compiles");
        });
        let script = &code
            .last()
            .expect("the script is the last function ended")
            .code;
        let mut ops = Vec::new();
        let mut at = 0;
        while at < script.len() {
            let op = Op::from_byte(script[at]);
            ops.push(op);
            at += 1 + match op {
                Op::Jump | Op::JumpIfFalse | Op::PopJumpIfFalse | Op::Loop | Op::Invoke => 2,
                Op::SuperInvoke => 2,
                Op::Constant
                | Op::GetParam
                | Op::SetParam
                | Op::GetLocal
                | Op::SetLocal
                | Op::SetParamPop
                | Op::SetLocalPop
                | Op::GetGlobal
                | Op::DefineGlobal
                | Op::SetGlobal
                | Op::SetGlobalPop
                | Op::GetUpvalue
                | Op::SetUpvalue
                | Op::SetUpvaluePop
                | Op::GetProperty
                | Op::SetProperty
                | Op::SetPropertyPop
                | Op::GetSuper
                | Op::Call
                | Op::Class
                | Op::Method => 1,
                _ => 0,
            };
        }
        ops
    }

    #[test]
    fn an_assignment_statement_is_one_instruction_with_its_pop() {
        use Op::*;
        assert_eq!(
            script_ops("{ var a = 1; a = 2; }"),
            [Constant, Constant, SetLocalPop, Pop, Nil, Return]
        );
        assert_eq!(
            script_ops("var g; g = 1; g = g;"),
            [
                Nil,
                DefineGlobal,
                Constant,
                SetGlobalPop,
                GetGlobal,
                SetGlobalPop,
                Nil,
                Return
            ]
        );
        // An assignment used as a value is not fused; neither is a call statement.
        assert_eq!(
            script_ops("var g; print g = 1; g;"),
            [
                Nil,
                DefineGlobal,
                Constant,
                SetGlobal,
                Print,
                GetGlobal,
                Pop,
                Nil,
                Return
            ]
        );
    }

    #[test]
    fn statement_conditions_pop_as_they_jump_and_expressions_keep_theirs() {
        use Op::*;
        assert_eq!(
            script_ops("if (true) nil; else false;"),
            [
                True,
                PopJumpIfFalse,
                Nil,
                Pop,
                Jump,
                False,
                Pop,
                Nil,
                Return
            ]
        );
        assert_eq!(
            script_ops("while (false) nil;"),
            [False, PopJumpIfFalse, Nil, Pop, Loop, Nil, Return]
        );
        // `and` leaves its left operand when it is false: a plain jump, then a pop.
        assert_eq!(
            script_ops("true and false;"),
            [True, JumpIfFalse, Pop, False, Pop, Nil, Return]
        );
    }
}
