//! Lox's values and heap objects, as Pinion types.
//!
//! A [`Value`] is stored inline wherever it lives (the value stack, a function's constants, an
//! instance's fields, a closed upvalue): nil, booleans, numbers and natives are not heap
//! objects; strings, functions, closures, classes, instances and bound methods are, each a
//! `Member` to a heap type below. Strings are byte strings (`GcBytes`), interned, so string
//! equality is identity.
//!
//! | Lox | heap |
//! |---|---|
//! | string | `GcBytes` (interned through a weak table keyed by content) |
//! | function | [`Function`]: arity, name, bytecode (a [`Chunk`] in the interpreter's code table, outside the heap) and constants (`GcSlice<Value>`) |
//! | closure | [`Closure`]: its function and its upvalues (`GcSlice<Member<Upvalue>>`) |
//! | upvalue | [`Upvalue`] = `GcSlice<Value>` of one element: `Open(slot)` or the closed value |
//! | class | [`Class`]: name, methods (`GcMap<GcBytes, Value>`) and initialiser (`init`, also a method) |
//! | instance | [`Instance`]: class and fields (`GcMap<GcBytes, Value>`) |
//! | bound method | [`BoundMethod`]: receiver and method |
//! | call frame | a copy of its closure in the value stack just above the frame's parameters (where the caller resumes is in the VM's list of callers, outside the heap) |

use std::cell::Cell;

use gc_core::{GcBytes, GcMap, GcSlice, Identity, MapHint, Member, Scope, Trace};

/// A Lox value.
///
/// The tag is a whole word (`repr(u64)`), so writing a value writes two whole words, and the
/// next instruction's copy of it (Pinion copies single elements a word at a time) is forwarded
/// from the store buffer; a byte tag made that copy wait for both stores to reach the cache.
#[derive(Trace, Debug)]
#[repr(u64)]
pub enum Value {
    /// `nil`.
    Nil,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(f64),
    /// An interned string.
    Str(Member<GcBytes>),
    /// A function (only as a constant: the VM calls closures).
    Function(Member<Function>),
    /// A native function.
    Native(Native),
    /// A closure.
    Closure(Member<Closure>),
    /// A class.
    Class(Member<Class>),
    /// An instance.
    Instance(Member<Instance>),
    /// A method bound to its receiver.
    BoundMethod(Member<BoundMethod>),
    /// Only in an upvalue, while it is open: the stack slot it captures (never a Lox value).
    Open(u32),
}

// A tag word and a payload word.
const _: () = assert!(std::mem::size_of::<Value>() == 16);

/// The native functions.
#[derive(Trace, Debug, Clone, Copy, PartialEq, Eq)]
#[pinion(leaf)]
pub enum Native {
    /// `clock()`: seconds since the program started.
    Clock,
}

/// A function's bytecode, line table and inline caches: immutable once compiled (but for the
/// caches), so it lives outside the heap, in the interpreter's code table, and the VM reads it
/// without going through a scope. Compiled code lives as long as the interpreter.
#[derive(Debug, Default)]
pub struct Chunk {
    /// The instructions.
    pub code: Vec<u8>,
    /// The source line of each byte of `code`.
    pub lines: Vec<u32>,
    /// One map lookup hint per byte of `code`, used by the instructions that look a name up
    /// (globals, fields, methods) at that position.
    pub hints: Box<[MapHint]>,
    /// The numbers among the function's constants, by constant index (`None` for the others,
    /// which only the heap holds): a numeric constant is pushed without touching the heap.
    pub numbers: Box<[Option<f64>]>,
    /// The identities of the string constants, by constant index (`None` for the others): a
    /// name is looked up in the globals, an instance's fields or a class's methods by its
    /// identity, without reading the name's constant from the heap.
    pub names: Box<[Option<Identity>]>,
    /// One class id per byte of `code`, used by `SET_PROPERTY` at that position: the class whose
    /// methods were last checked for the instruction's field name ([`NO_CLASS`]: none yet).
    /// The instruction defines fields on the stack view only for instances of that class; the
    /// others take the slow path, which checks (`Class::shadowed`).
    pub checked_classes: Box<[Cell<u64>]>,
}

/// [`Chunk::checked_classes`] before any check: no class has this id.
pub const NO_CLASS: u64 = u64::MAX;

impl Chunk {
    /// Makes the inline caches and the tables of numbers and names once the code is complete.
    pub fn finish(
        &mut self,
        numbers: impl IntoIterator<Item = Option<f64>>,
        names: impl IntoIterator<Item = Option<Identity>>,
    ) {
        self.numbers = numbers.into_iter().collect();
        self.names = names.into_iter().collect();
        self.hints = std::iter::repeat_with(MapHint::new)
            .take(self.code.len())
            .collect();
        self.checked_classes = std::iter::repeat_with(|| Cell::new(NO_CLASS))
            .take(self.code.len())
            .collect();
    }
}

/// A compiled function.
#[derive(Trace, Debug)]
pub struct Function {
    /// Parameters.
    pub arity: u32,
    /// Upvalues its closures capture.
    pub upvalue_count: u32,
    /// Its name (null for the top-level script).
    pub name: Member<GcBytes>,
    /// Its bytecode: an index into the interpreter's code table.
    pub chunk: u32,
    /// Its constants.
    pub constants: Member<GcSlice<Value>>,
}

/// An upvalue: a one-element array holding `Value::Open(slot)` while the variable it captures
/// lives on the stack, and the variable's value once it is closed (closing is a store).
pub type Upvalue = GcSlice<Value>;

/// A closure: a function and its captured variables.
///
/// It repeats what a call reads of its function (`arity`, `chunk`): a call then finds them one
/// load from the stack's closure member instead of two, and that chain of dependent loads, into
/// objects the nursery's allocation keeps evicting from the cache, was where instantiation's
/// frame entry waited (`perf annotate`: a sixth of `instantiate`'s samples on the arity load).
#[derive(Trace, Debug)]
pub struct Closure {
    /// The function.
    pub function: Member<Function>,
    /// One upvalue per variable the function captures.
    pub upvalues: Member<GcSlice<Member<Upvalue>>>,
    /// The function's `arity`.
    pub arity: u32,
    /// The function's `chunk`.
    pub chunk: u32,
}

/// A class.
#[derive(Trace, Debug)]
pub struct Class {
    /// Its name.
    pub name: Member<GcBytes>,
    /// Its methods (closures), by interned name.
    pub methods: Member<GcMap<GcBytes, Value>>,
    /// Its `init` method (also among `methods`; `Nil` when it has none): what every
    /// instantiation calls, kept where a call finds it without a lookup, as `Value`s are kept
    /// elsewhere, so that the call copies it onto the stack as it is.
    pub initializer: Value,
    /// A number no other class of the interpreter has: classes move, so the per-site caches
    /// of the bytecode name a class by it ([`Chunk::checked_classes`]).
    pub id: u64,
    /// Whether an instance of the class has (or had) a field named like one of its methods.
    /// Only then does an invocation look at the receiver's fields before its class's methods
    /// (`classes.rs`): the methods are all defined before the first instance exists, and every
    /// field definition checks its name against them once per site and class.
    pub shadowed: bool,
}

/// An instance.
#[derive(Trace, Debug)]
pub struct Instance {
    /// Its class.
    pub class: Member<Class>,
    /// Its fields, by interned name.
    pub fields: Member<GcMap<GcBytes, Value>>,
}

/// A method bound to its receiver.
#[derive(Trace, Debug)]
pub struct BoundMethod {
    /// The receiver (`this`).
    pub receiver: Value,
    /// The method (a `Value::Closure`, so that a call copies it as it is).
    pub method: Value,
}

/// Formats a number as clox's `printf("%g")` does.
pub fn format_number(n: f64) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if n.is_infinite() {
        return if n < 0.0 { "-inf" } else { "inf" }.into();
    }
    if n == 0.0 {
        return if n.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // %g: six significant digits; scientific when the exponent is below -4 or at least 6;
    // trailing zeros (and a trailing point) removed.
    let sci = format!("{:.5e}", n);
    let (mantissa, exp) = sci.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("integer exponent");
    if !(-4..6).contains(&exp) {
        let mantissa = trim_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (5 - exp).max(0) as usize;
        trim_zeros(&format!("{:.*}", decimals, n)).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Appends the text `print` shows for `value`.
pub fn write_value(s: &Scope<'_>, value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Nil => out.extend_from_slice(b"nil"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => out.extend_from_slice(format_number(*n).as_bytes()),
        Value::Str(m) => out.extend_from_slice(s.deref(m).unwrap_or_default()),
        Value::Function(m) => write_function(s, s.deref(m), out),
        Value::Native(_) => out.extend_from_slice(b"<native fn>"),
        Value::Closure(m) => {
            let function = s.deref(m).and_then(|c| s.deref(&c.function));
            write_function(s, function, out)
        }
        Value::Class(m) => {
            let name = s.deref(m).and_then(|c| s.deref(&c.name));
            out.extend_from_slice(name.unwrap_or_default());
        }
        Value::Instance(m) => {
            let class = s.deref(m).and_then(|i| s.deref(&i.class));
            out.extend_from_slice(class.and_then(|c| s.deref(&c.name)).unwrap_or_default());
            out.extend_from_slice(b" instance");
        }
        Value::BoundMethod(m) => {
            let function = s
                .deref(m)
                .and_then(|b| match &b.method {
                    Value::Closure(m) => s.deref(m),
                    _ => None,
                })
                .and_then(|c| s.deref(&c.function));
            write_function(s, function, out)
        }
        Value::Open(_) => out.extend_from_slice(b"<upvalue>"),
    }
}

fn write_function(s: &Scope<'_>, function: Option<&Function>, out: &mut Vec<u8>) {
    match function.and_then(|f| s.deref(&f.name)) {
        Some(name) => {
            out.extend_from_slice(b"<fn ");
            out.extend_from_slice(name);
            out.push(b'>');
        }
        None => out.extend_from_slice(b"<script>"),
    }
}

/// Whether a value is falsey (`nil` and `false`).
pub fn is_falsey(value: &Value) -> bool {
    matches!(value, Value::Nil | Value::Bool(false))
}

/// Lox equality: numbers by value, objects (interned strings included) by identity.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x.ptr_eq(y),
        (Value::Function(x), Value::Function(y)) => x.ptr_eq(y),
        (Value::Native(x), Value::Native(y)) => x == y,
        (Value::Closure(x), Value::Closure(y)) => x.ptr_eq(y),
        (Value::Class(x), Value::Class(y)) => x.ptr_eq(y),
        (Value::Instance(x), Value::Instance(y)) => x.ptr_eq(y),
        (Value::BoundMethod(x), Value::BoundMethod(y)) => x.ptr_eq(y),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_printf_g_does() {
        for (n, text) in [
            (1.0, "1"),
            (-1.5, "-1.5"),
            (0.1 + 0.2, "0.3"),
            (123456.0, "123456"),
            (1234567.0, "1.23457e+06"),
            (1e20, "1e+20"),
            (0.0001, "0.0001"),
            (0.00001234, "1.234e-05"),
            (1.23456789, "1.23457"),
            (-0.0, "-0"),
            (f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (100.0, "100"),
            (999999.5, "1e+06"),
        ] {
            assert_eq!(format_number(n), text, "{n}");
        }
    }
}
