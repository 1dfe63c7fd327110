//! The virtual machine: runs a compiled script (clox's `vm.c`).
//!
//! **Where everything lives.** The value stack is a `GcVec<Value>` of fixed capacity (its
//! storage allocated once per run), traced only up to its top; each call frame's closure lies
//! in it, between the frame's parameters and its locals, and where the caller resumes is in a
//! Rust-side list (`calls.rs`); open upvalues a `GcVec` of members sorted by stack slot; the globals a
//! `GcMap<GcBytes, Value>` kept in a persistent root between runs (a REPL's lines). Bytecode is
//! immutable and lives outside the heap (a [`Chunk`] in the interpreter's code table), so the
//! dispatch loop reads it without a scope. Everything the loop holds across an allocation is
//! a handle of the run's scope: the stack, and the constants of each function called in the
//! run (one handle per function, made at its first call; see `calls.rs`).
//!
//! **How the loop touches the heap.** An instruction that allocates nothing works on a
//! `VecView` of the stack (one handle resolution, then plain indexing); values move between
//! stack slots by copy, and into and out of other objects by the copy-from operations, so a
//! member never leaves the heap. An instruction that allocates (string concatenation, closures,
//! classes, instances, bound methods, upvalues) runs in a scope of its own, so the handles it
//! makes are popped when it is done.

use std::io::Write;
use std::time::Instant;

use gc_core::{
    Config, GcBytes, GcError, GcMap, GcSlice, GcVec, Handle, Heap, MapHint, Member, Persistent,
    Scope,
};

use crate::calls::{Caller, FunctionCode};
use crate::object::{Chunk, ClosureInit, Function, Native, Upvalue, Value, ValueInit};
use crate::strings::Strings;

/// Most call frames (clox's `FRAMES_MAX`).
pub const FRAMES_MAX: usize = 64;
/// Value-stack slots: clox's `STACK_MAX` (256 per frame), and one more per frame for its
/// closure.
pub const STACK_MAX: usize = FRAMES_MAX * 257;

/// How a run failed (the messages were written to the error output).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoxError {
    /// The source did not compile (exit code 65).
    Compile,
    /// A runtime error (exit code 70).
    Runtime,
}

impl LoxError {
    /// The process exit code clox uses.
    pub fn exit_code(self) -> i32 {
        match self {
            LoxError::Compile => 65,
            LoxError::Runtime => 70,
        }
    }
}

/// Limits for untrusted programs (the fuzz target): a run stops with a runtime error past them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// Most backward jumps and calls one run may make (every unbounded run makes unboundedly
    /// many).
    pub steps: Option<u64>,
}

/// A Lox interpreter: its heap, its interned strings and its globals, which persist from one
/// [`Lox::interpret`] call to the next (a REPL's lines).
pub struct Lox {
    heap: Heap,
    strings: Strings,
    /// Every function's bytecode (compiled code is never freed).
    code: Vec<Chunk>,
    globals: Persistent<GcMap<GcBytes, Value>>,
    start: Instant,
    limits: Limits,
    /// Classes made so far, in every run: the next class's id (`Class::id`).
    classes_made: u64,
}

impl std::fmt::Debug for Lox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lox").field("heap", &self.heap).finish()
    }
}

impl Lox {
    /// An interpreter on a heap with `config`.
    ///
    /// ```
    /// let mut lox = lox::Lox::new(gc_core::Config::default()).unwrap();
    /// let mut out = Vec::new();
    /// lox.interpret("var a = \"pin\"; print a + \"ion\";", &mut out, &mut Vec::new()).unwrap();
    /// lox.interpret("print a;", &mut out, &mut Vec::new()).unwrap(); // globals persist
    /// assert_eq!(out, b"pinion\npin\n");
    /// ```
    pub fn new(config: Config) -> Result<Lox, GcError> {
        let mut heap = Heap::new(config)?;
        let mut strings = Strings::default();
        let globals = heap.scope(|s| {
            let map = s.alloc_map::<GcBytes, Value>(64)?;
            let clock = strings.intern(s, b"clock")?;
            s.map_insert(map, clock, ValueInit::Native(Native::Clock))?;
            s.persist(map)
        })?;
        Ok(Lox {
            heap,
            strings,
            code: Vec::new(),
            globals,
            start: Instant::now(),
            limits: Limits::default(),
            classes_made: 0,
        })
    }

    /// Sets the limits of later runs.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The heap (for statistics and verification).
    pub fn heap_mut(&mut self) -> &mut Heap {
        &mut self.heap
    }

    /// Compiles and runs `source`: `print` writes to `out`, errors to `err`.
    pub fn interpret(
        &mut self,
        source: &str,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Result<(), LoxError> {
        let Lox {
            heap,
            strings,
            code,
            globals,
            start,
            limits,
            classes_made,
        } = self;
        // Errors are collected and written at the end (after the output the program made);
        // `print` writes as it runs.
        let mut errors = Vec::new();
        let result = heap.scope(|s| {
            let Some(script) = crate::compiler::compile(s, strings, code, source, &mut errors)
            else {
                return Err(LoxError::Compile);
            };
            let globals = s.persistent(globals).expect("the globals are this heap's");
            let outside = Outside {
                strings,
                code,
                start: *start,
                limits: *limits,
                classes_made,
                out,
                err: &mut errors,
            };
            let mut vm = match Vm::new(s, outside, globals, script) {
                Ok(vm) => vm,
                Err((e, errors)) => {
                    errors.extend_from_slice(format!("{e}\n").as_bytes());
                    return Err(LoxError::Runtime);
                }
            };
            vm.run(s, script)
        });
        let _ = out.flush();
        let _ = err.write_all(&errors);
        result
    }
}

/// Why the loop stopped with an error: the message (the stack trace is added by `runtime_error`).
///
/// Boxed, so that it is one pointer: every instruction that can fail returns a `Result` with
/// it, and a `Result<bool, Fault>` or `Result<(), Fault>` then comes back in registers rather
/// than through memory (a `String` made each call's result three words, written and read back
/// on every call). Errors are rare; the box costs only them.
// A thin pointer on purpose: `Box<str>` would be two words.
#[allow(clippy::box_collection)]
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Fault(Box<String>);

impl From<String> for Fault {
    #[cold]
    fn from(message: String) -> Fault {
        Fault(Box::new(message))
    }
}

impl From<&str> for Fault {
    #[cold]
    fn from(message: &str) -> Fault {
        Fault(Box::new(message.to_owned()))
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a run uses outside the heap.
struct Outside<'a> {
    strings: &'a mut Strings,
    code: &'a [Chunk],
    start: Instant,
    limits: Limits,
    classes_made: &'a mut u64,
    out: &'a mut dyn Write,
    err: &'a mut Vec<u8>,
}

/// The state of one run: handles of the run's scope, and the current frame's cache.
pub(crate) struct Vm<'s, 'a> {
    pub(crate) strings: &'a mut Strings,
    /// The interpreter's code table.
    pub(crate) code: &'a [Chunk],
    pub(crate) out: &'a mut dyn Write,
    /// A byte buffer reused by `print` (the line it formats) and by string concatenation.
    pub(crate) line: Vec<u8>,
    pub(crate) err: &'a mut Vec<u8>,
    pub(crate) start: Instant,
    pub(crate) steps: Option<u64>,
    /// The interpreter's count of classes made (the next class's id).
    pub(crate) classes_made: &'a mut u64,
    pub(crate) stack: Handle<'s, GcVec<Value>>,
    /// One entry per running frame: what its caller resumes with (clox's `frames`).
    pub(crate) callers: Vec<Caller<'s, 'a>>,
    /// Each function's bytecode and constants, by chunk index, from its first call in the
    /// run: a call takes a handle it has instead of rebinding one.
    pub(crate) functions: Vec<Option<FunctionCode<'s, 'a>>>,
    pub(crate) open_upvalues: Handle<'s, GcVec<Member<Upvalue>>>,
    /// One past the highest stack slot an open upvalue captures (0 when none is open): kept
    /// with the open list, so that a return tests it without reading the list.
    pub(crate) open_top: usize,
    pub(crate) globals: Handle<'s, GcMap<GcBytes, Value>>,
    /// `[Str("init")]`: the initialiser's name, as a member that map lookups can take.
    pub(crate) init: Handle<'s, GcSlice<Value>>,
    /// The current frame's constants (one of `function_constants`).
    pub(crate) constants: Handle<'s, GcSlice<Value>>,
    /// The current function's code.
    pub(crate) chunk: &'a Chunk,
    pub(crate) ip: usize,
    /// The current frame's slot 0 (the callee, or `this`).
    pub(crate) base: usize,
    /// The slot of the current frame's closure.
    pub(crate) frame: usize,
}

impl<'s, 'a> Vm<'s, 'a> {
    /// The VM for a run of `script`; a heap error comes back with the error output.
    fn new(
        s: &mut Scope<'s>,
        outside: Outside<'a>,
        globals: Handle<'s, GcMap<GcBytes, Value>>,
        script: Handle<'_, Function>,
    ) -> Result<Vm<'s, 'a>, (GcError, &'a mut Vec<u8>)> {
        let Outside {
            strings,
            code,
            start,
            limits,
            classes_made,
            out,
            err,
        } = outside;
        let mut handles = || -> Result<_, GcError> {
            let stack = s.alloc_vec::<Value>(STACK_MAX)?;
            let open_upvalues = s.alloc_vec(16)?;
            let init = strings.intern(s, b"init")?;
            let init = s.alloc_slice([ValueInit::Str(Some(init))])?;
            // Empty until the script's frame is entered.
            let constants = s.alloc_slice::<ValueInit<'_>>([])?;
            Ok((stack, open_upvalues, init, constants))
        };
        let (stack, open_upvalues, init, constants) = match handles() {
            Ok(handles) => handles,
            Err(e) => return Err((e, err)),
        };
        Ok(Vm {
            strings,
            code,
            out,
            line: Vec::new(),
            err,
            start,
            steps: limits.steps,
            classes_made,
            stack,
            callers: Vec::with_capacity(FRAMES_MAX),
            functions: vec![None; code.len()],
            open_upvalues,
            open_top: 0,
            globals,
            init,
            constants,
            chunk: &code[s.get(script).chunk as usize],
            ip: 0,
            base: 0,
            frame: 0,
        })
    }

    /// Runs the script.
    fn run(&mut self, s: &mut Scope<'s>, script: Handle<'_, Function>) -> Result<(), LoxError> {
        let started = s.scope(|s| -> Result<(), GcError> {
            let upvalues = s.alloc_slice::<Option<Handle<'_, Upvalue>>>([])?;
            let (arity, chunk) = (s.get(script).arity, s.get(script).chunk);
            let closure = s.alloc_init(ClosureInit {
                function: Some(script),
                upvalues: Some(upvalues),
                arity,
                chunk,
            })?;
            s.vec_push(self.stack, ValueInit::Closure(Some(closure)));
            Ok(())
        });
        if let Err(e) = started {
            self.err.extend_from_slice(format!("{e}\n").as_bytes());
            return Err(LoxError::Runtime);
        }
        let result = self.call_value(s, 0).and_then(|()| self.execute(s));
        match result {
            Ok(()) => Ok(()),
            Err(message) => {
                self.runtime_error(s, &message.0);
                Err(LoxError::Runtime)
            }
        }
    }

    /// Reports a runtime error with clox's stack trace, innermost frame first.
    fn runtime_error(&mut self, s: &mut Scope<'s>, message: &str) {
        self.err.extend_from_slice(message.as_bytes());
        self.err.push(b'\n');
        let stack = s.get(self.stack);
        // The running frame, then each caller down to the script's frame (the list's first
        // entry stands for the run's start, below the script).
        let callers = self.callers.iter().skip(1).rev();
        let frames = std::iter::once((self.frame, self.ip)).chain(callers.map(|c| (c.frame, c.ip)));
        for (frame, frame_ip) in frames {
            let Some(Value::Closure(closure)) = stack.get(frame) else {
                break;
            };
            let Some(closure) = s.deref(closure) else {
                continue;
            };
            let Some(function) = s.deref(&closure.function) else {
                continue;
            };
            let lines = &self.code[function.chunk as usize].lines;
            let line = lines.get(frame_ip.saturating_sub(1)).copied().unwrap_or(0);
            let place = match s.deref(&function.name) {
                Some(name) => format!("{}()", String::from_utf8_lossy(name)),
                None => "script".to_string(),
            };
            self.err
                .extend_from_slice(format!("[line {line}] in {place}\n").as_bytes());
        }
    }

    #[inline]
    pub(crate) fn read_byte(&mut self) -> u8 {
        let b = self.chunk.code[self.ip];
        self.ip += 1;
        b
    }

    /// The lookup cache of the instruction byte at `at`.
    #[inline]
    pub(crate) fn hint(&self, at: usize) -> &'a MapHint {
        let chunk: &'a Chunk = self.chunk;
        &chunk.hints[at]
    }

    /// The identity of the current function's name constant `index` (`None` for a constant
    /// that is no string).
    #[inline]
    pub(crate) fn name(&self, index: usize) -> Option<gc_core::Identity> {
        let chunk: &'a Chunk = self.chunk;
        chunk.names.get(index).copied().flatten()
    }

    /// The text of string constant `index`.
    pub(crate) fn constant_text(&self, s: &Scope<'_>, index: usize) -> String {
        match s.get(self.constants).get(index) {
            Some(Value::Str(m)) => String::from_utf8_lossy(s.deref(m).unwrap_or_default()).into(),
            _ => String::new(),
        }
    }

    /// `a + b` when the operands are not both numbers: strings concatenate (into an interned
    /// string); anything else is an error.
    pub(crate) fn concatenate(&mut self, s: &mut Scope<'s>) -> Result<(), Fault> {
        // The bytes are joined in a buffer kept from one concatenation to the next.
        let mut joined = std::mem::take(&mut self.line);
        joined.clear();
        let len = {
            let v = s.vec_view(self.stack);
            let len = v.len();
            let (Value::Str(a), Value::Str(b)) = (&v[len - 2], &v[len - 1]) else {
                return Err("Operands must be two numbers or two strings.".into());
            };
            let sc = v.scope();
            joined.extend_from_slice(sc.deref(a).unwrap_or_default());
            joined.extend_from_slice(sc.deref(b).unwrap_or_default());
            len
        };
        let stack = self.stack;
        let strings = &mut *self.strings;
        let result = s.scope(|s| {
            let string = strings.intern(s, &joined).map_err(gc_fault)?;
            let mut v = s.vec_view(stack);
            v.truncate(len - 2);
            v.push_init(ValueInit::Str(Some(string))).map_err(gc_fault)
        });
        self.line = joined;
        result
    }

    /// `var name = value` at the top level: defines (or redefines) a global with the value on
    /// top of the stack (left there).
    pub(crate) fn define_global(&mut self, s: &mut Scope<'s>, index: usize) -> Result<(), Fault> {
        let (constants, globals, stack) = (self.constants, self.globals, self.stack);
        s.map_put_copy(None, |sc| {
            let name = crate::classes::name(sc, constants, index)?;
            Some((sc.get(globals), name, sc.get(stack).last()?))
        })
        .map_err(gc_fault)?;
        Ok(())
    }

    /// `name = value` for a global: overwrites it in place with the value on top of the stack
    /// (left there), the slot cached by the instruction at `at`; an error if it is undefined.
    pub(crate) fn set_global(
        &mut self,
        s: &mut Scope<'s>,
        at: usize,
        index: usize,
    ) -> Result<(), Fault> {
        let (globals, stack, name) = (self.globals, self.stack, self.name(index));
        let assigned = s.map_replace_copy(Some(self.hint(at)), |sc| {
            Some((sc.get(globals), name?.into(), sc.get(stack).last()?))
        });
        match assigned {
            Ok(true) => Ok(()),
            Ok(false) => {
                Err(format!("Undefined variable '{}'.", self.constant_text(s, index)).into())
            }
            Err(e) => Err(gc_fault(e)),
        }
    }
}

pub(crate) fn overflow() -> Fault {
    "Stack overflow.".into()
}

pub(crate) fn out_of_memory() -> Fault {
    "Out of memory.".into()
}

/// A heap error as a runtime error.
pub(crate) fn gc_fault(e: GcError) -> Fault {
    match e {
        GcError::OutOfMemory { .. } => out_of_memory(),
        // The only bounds the VM can reach are the value stack's and the frames' capacity.
        GcError::IndexOutOfBounds { .. } => overflow(),
        other => other.to_string().into(),
    }
}

/// The native functions' results.
pub(crate) fn call_native(native: Native, start: Instant) -> Value {
    match native {
        Native::Clock => Value::Number(start.elapsed().as_secs_f64()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_is_one_pointer_and_a_call_s_result_two_registers() {
        use std::mem::size_of;
        assert_eq!(size_of::<Fault>(), size_of::<usize>());
        assert_eq!(size_of::<Result<(), Fault>>(), size_of::<usize>());
        assert!(size_of::<Result<bool, Fault>>() <= 2 * size_of::<usize>());
        let fault: Fault = format!("Expected {} arguments but got {}.", 1, 2).into();
        assert_eq!(fault.to_string(), "Expected 1 arguments but got 2.");
        assert_eq!(Fault::from("Stack overflow."), overflow());
    }
}
