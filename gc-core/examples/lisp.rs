//! A tiny Lisp on Pinion: how an interpreter author uses the safe API.
//!
//! Every Lisp value is a heap object (`Value`), integers included, so the program below
//! allocates millions of short-lived objects. The interpreter holds values only in handles:
//! `eval` opens a nested scope per call (escaping its result), and its tail-call loop
//! *rebinds* a few handles instead of creating new ones, so the handle stack stays as deep as
//! the Lisp call stack. Environments are lists of frames, frames are association lists, and
//! `define` mutates a frame through the write barrier. Each top-level form runs in a scope of
//! its own, like a REPL's lines: the global environment and the constants live in persistent
//! roots between them. Pairs and closures are built in one step (`alloc_init`).
//!
//! Run: `cargo run --release -p gc-core --example lisp [FILE]` (without FILE, a built-in
//! benchmark program runs). Set `PINION_EXAMPLE_ITERATIONS` to change its size.

use gc_core::{Config, GcError, Handle, Heap, Member, Persistent, Scope, Trace};

#[derive(Trace)]
enum Value {
    Nil,
    True,
    Int(i64),
    Sym(Box<str>),
    Cons(Member<Value>, Member<Value>),
    Lambda {
        params: Member<Value>,
        body: Member<Value>,
        env: Member<Value>,
    },
    Builtin(Builtin),
}

#[derive(Clone, Copy, Debug, PartialEq, Trace)]
enum Builtin {
    Add,
    Sub,
    Mul,
    Lt,
    NumEq,
    Cons,
    Car,
    Cdr,
    IsNull,
    Display,
}

const BUILTINS: [(&str, Builtin); 10] = [
    ("+", Builtin::Add),
    ("-", Builtin::Sub),
    ("*", Builtin::Mul),
    ("<", Builtin::Lt),
    ("=", Builtin::NumEq),
    ("cons", Builtin::Cons),
    ("car", Builtin::Car),
    ("cdr", Builtin::Cdr),
    ("null?", Builtin::IsNull),
    ("display", Builtin::Display),
];

#[derive(Debug)]
enum LispError {
    Gc(GcError),
    Parse(String),
    Unbound(String),
    Type(&'static str),
}

impl std::fmt::Display for LispError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LispError::Gc(e) => write!(f, "heap: {e}"),
            LispError::Parse(m) => write!(f, "parse error: {m}"),
            LispError::Unbound(name) => write!(f, "unbound variable: {name}"),
            LispError::Type(m) => write!(f, "type error: {m}"),
        }
    }
}

impl From<GcError> for LispError {
    fn from(e: GcError) -> Self {
        LispError::Gc(e)
    }
}

type V<'s> = Handle<'s, Value>;
type Result<T> = std::result::Result<T, LispError>;

/// Handles every part of the interpreter shares, from the outermost scope.
struct Ctx<'g> {
    nil: V<'g>,
    truth: V<'g>,
}

fn is_pair(s: &Scope<'_>, v: V<'_>) -> bool {
    matches!(s.get(v), Value::Cons(..))
}

fn car<'s>(s: &Scope<'s>, v: V<'_>) -> Result<V<'s>> {
    if !is_pair(s, v) {
        return Err(LispError::Type("car of a non-pair"));
    }
    Ok(s.load_variant(v, Value::cons_0)
        .expect("pairs are built whole"))
}

fn cdr<'s>(s: &Scope<'s>, v: V<'_>) -> Result<V<'s>> {
    if !is_pair(s, v) {
        return Err(LispError::Type("cdr of a non-pair"));
    }
    Ok(s.load_variant(v, Value::cons_1)
        .expect("pairs are built whole"))
}

fn cons<'s>(s: &mut Scope<'s>, a: V<'_>, d: V<'_>) -> Result<V<'s>> {
    Ok(s.alloc_init(ValueInit::Cons(Some(a), Some(d)))?)
}

fn int(s: &Scope<'_>, v: V<'_>) -> Result<i64> {
    match s.get(v) {
        Value::Int(n) => Ok(*n),
        _ => Err(LispError::Type("expected a number")),
    }
}

// ----- reader ---------------------------------------------------------------------------

fn tokenize(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ';' => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    chars.next();
                }
            }
            '(' | ')' | '\'' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                out.push(c.to_string());
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn parse<'s>(s: &mut Scope<'s>, cx: &Ctx<'_>, toks: &[String], pos: &mut usize) -> Result<V<'s>> {
    let tok = toks
        .get(*pos)
        .ok_or_else(|| LispError::Parse("unexpected end".into()))?;
    *pos += 1;
    match tok.as_str() {
        "(" => s.try_escape(|s| {
            let mut items = Vec::new();
            while toks.get(*pos).map(String::as_str) != Some(")") {
                if *pos >= toks.len() {
                    return Err(LispError::Parse("missing )".into()));
                }
                items.push(parse(s, cx, toks, pos)?);
            }
            *pos += 1;
            let list = s.dup(cx.nil);
            for &item in items.iter().rev() {
                s.scope(|t| -> Result<()> {
                    let cell = cons(t, item, list)?;
                    t.rebind(list, cell);
                    Ok(())
                })?;
            }
            Ok(list)
        }),
        ")" => Err(LispError::Parse("unexpected )".into())),
        "'" => s.try_escape(|s| {
            let quoted = parse(s, cx, toks, pos)?;
            let tail = cons(s, quoted, cx.nil)?;
            let q = s.alloc(Value::Sym("quote".into()))?;
            cons(s, q, tail)
        }),
        "nil" => Ok(s.dup(cx.nil)),
        "#t" => Ok(s.dup(cx.truth)),
        t => match t.parse::<i64>() {
            Ok(n) => Ok(s.alloc(Value::Int(n))?),
            Err(_) => Ok(s.alloc(Value::Sym(t.into()))?),
        },
    }
}

// ----- environments ---------------------------------------------------------------------

/// Finds `name` in the environment (a list of frames of (symbol . value) pairs).
fn lookup<'s>(s: &Scope<'s>, env: V<'_>, name: &str) -> Result<V<'s>> {
    let mut frames = Some(s.get(env));
    while let Some(Value::Cons(frame, rest)) = frames {
        let mut bindings = s.deref(frame);
        while let Some(Value::Cons(binding, next)) = bindings {
            if let Some(Value::Cons(sym, val)) = s.deref(binding) {
                if matches!(s.deref(sym), Some(Value::Sym(n)) if &**n == name) {
                    return Ok(s.root(val).expect("bindings are complete"));
                }
            }
            bindings = s.deref(next);
        }
        frames = s.deref(rest);
    }
    Err(LispError::Unbound(name.to_string()))
}

/// Adds a binding to the first frame of `env`.
fn define(s: &mut Scope<'_>, env: V<'_>, sym: V<'_>, val: V<'_>) -> Result<()> {
    let binding = cons(s, sym, val)?;
    let frame = car(s, env)?;
    let frame = cons(s, binding, frame)?;
    s.set_variant(env, Value::cons_0, Some(frame));
    Ok(())
}

// ----- evaluation -----------------------------------------------------------------------

enum Form {
    SelfEvaluating,
    Symbol(String),
    Quote,
    If,
    Define,
    Lambda,
    Begin,
    Apply,
}

fn classify(s: &Scope<'_>, expr: V<'_>) -> Form {
    match s.get(expr) {
        Value::Sym(name) => Form::Symbol(name.to_string()),
        Value::Cons(head, _) => match s.deref(head) {
            Some(Value::Sym(n)) => match &**n {
                "quote" => Form::Quote,
                "if" => Form::If,
                "define" => Form::Define,
                "lambda" => Form::Lambda,
                "begin" => Form::Begin,
                _ => Form::Apply,
            },
            _ => Form::Apply,
        },
        _ => Form::SelfEvaluating,
    }
}

fn truthy(s: &Scope<'_>, v: V<'_>) -> bool {
    !matches!(s.get(v), Value::Nil)
}

fn eval<'s>(s: &mut Scope<'s>, cx: &Ctx<'_>, expr: V<'_>, env: V<'_>) -> Result<V<'s>> {
    s.try_escape(|s| {
        let expr = s.dup(expr);
        let env = s.dup(env);
        let result = s.dup(cx.nil);
        // Tail calls rebind `expr` and `env` and go round again instead of recursing.
        loop {
            let done = s.scope(|t| step(t, cx, expr, env, result))?;
            if done {
                return Ok(result);
            }
        }
    })
}

/// One evaluation step. Returns `true` with the value in `result`, or `false` after
/// rebinding `expr`/`env` to a tail call.
fn step(t: &mut Scope<'_>, cx: &Ctx<'_>, expr: V<'_>, env: V<'_>, result: V<'_>) -> Result<bool> {
    match classify(t, expr) {
        Form::SelfEvaluating => t.rebind(result, expr),
        Form::Symbol(name) => {
            let v = lookup(t, env, &name)?;
            t.rebind(result, v);
        }
        Form::Quote => {
            let rest = cdr(t, expr)?;
            let v = car(t, rest)?;
            t.rebind(result, v);
        }
        Form::If => {
            let rest = cdr(t, expr)?;
            let cond = car(t, rest)?;
            let c = eval(t, cx, cond, env)?;
            let branches = cdr(t, rest)?;
            let chosen = if truthy(t, c) {
                car(t, branches)?
            } else {
                cdr(t, branches)?
            };
            let next = if truthy(t, c) || !is_pair(t, chosen) {
                chosen
            } else {
                car(t, chosen)?
            };
            t.rebind(expr, next);
            return Ok(false);
        }
        Form::Define => {
            let rest = cdr(t, expr)?;
            let target = car(t, rest)?;
            let body = cdr(t, rest)?;
            if is_pair(t, target) {
                // (define (name params...) body...)
                let name = car(t, target)?;
                let params = cdr(t, target)?;
                let lambda = make_lambda(t, params, body, env)?;
                define(t, env, name, lambda)?;
            } else {
                let init = car(t, body)?;
                let v = eval(t, cx, init, env)?;
                define(t, env, target, v)?;
            }
            t.rebind(result, cx.nil);
        }
        Form::Lambda => {
            let rest = cdr(t, expr)?;
            let params = car(t, rest)?;
            let body = cdr(t, rest)?;
            let lambda = make_lambda(t, params, body, env)?;
            t.rebind(result, lambda);
        }
        Form::Begin => {
            let body = cdr(t, expr)?;
            return eval_body(t, cx, body, env, expr);
        }
        Form::Apply => {
            let head = car(t, expr)?;
            let f = eval(t, cx, head, env)?;
            let mut args = Vec::new();
            let mut rest = cdr(t, expr)?;
            while is_pair(t, rest) {
                let a = car(t, rest)?;
                args.push(eval(t, cx, a, env)?);
                rest = cdr(t, rest)?;
            }
            match t.get(f) {
                Value::Builtin(b) => {
                    let b = *b;
                    let v = apply_builtin(t, cx, b, &args)?;
                    t.rebind(result, v);
                }
                Value::Lambda { .. } => {
                    let mut params = t.load(f, |v| match v {
                        Value::Lambda { params, .. } => params,
                        _ => unreachable!(),
                    });
                    let closure_env = t.load(f, |v| match v {
                        Value::Lambda { env, .. } => env,
                        _ => unreachable!(),
                    });
                    let body = t.load(f, |v| match v {
                        Value::Lambda { body, .. } => body,
                        _ => unreachable!(),
                    });
                    let mut frame = t.dup(cx.nil);
                    for &arg in &args {
                        let p = params.ok_or(LispError::Type("too many arguments"))?;
                        if !is_pair(t, p) {
                            return Err(LispError::Type("too many arguments"));
                        }
                        let sym = car(t, p)?;
                        let binding = cons(t, sym, arg)?;
                        frame = cons(t, binding, frame)?;
                        params = Some(cdr(t, p)?);
                    }
                    let new_env = cons(t, frame, closure_env.expect("closures have an env"))?;
                    t.rebind(env, new_env);
                    return eval_body(t, cx, body.expect("closures have a body"), env, expr);
                }
                _ => return Err(LispError::Type("not a function")),
            }
        }
    }
    Ok(true)
}

/// Evaluates all but the last expression of `body`; the last becomes the tail call.
fn eval_body(
    t: &mut Scope<'_>,
    cx: &Ctx<'_>,
    body: V<'_>,
    env: V<'_>,
    expr: V<'_>,
) -> Result<bool> {
    let mut body = body;
    loop {
        let first = car(t, body)?;
        let rest = cdr(t, body)?;
        if !is_pair(t, rest) {
            t.rebind(expr, first);
            return Ok(false);
        }
        eval(t, cx, first, env)?;
        body = rest;
    }
}

fn make_lambda<'s>(s: &mut Scope<'s>, params: V<'_>, body: V<'_>, env: V<'_>) -> Result<V<'s>> {
    Ok(s.alloc_init(ValueInit::Lambda {
        params: Some(params),
        body: Some(body),
        env: Some(env),
    })?)
}

fn apply_builtin<'s>(s: &mut Scope<'s>, cx: &Ctx<'_>, b: Builtin, args: &[V<'_>]) -> Result<V<'s>> {
    let arg = |i: usize| {
        args.get(i)
            .copied()
            .ok_or(LispError::Type("missing argument"))
    };
    let boolean = |s: &Scope<'s>, c: bool| if c { s.dup(cx.truth) } else { s.dup(cx.nil) };
    Ok(match b {
        Builtin::Add => {
            let mut sum = 0i64;
            for &a in args {
                sum = sum.wrapping_add(int(s, a)?);
            }
            s.alloc(Value::Int(sum))?
        }
        Builtin::Mul => {
            let mut p = 1i64;
            for &a in args {
                p = p.wrapping_mul(int(s, a)?);
            }
            s.alloc(Value::Int(p))?
        }
        Builtin::Sub => {
            let first = int(s, arg(0)?)?;
            let v = if args.len() == 1 {
                -first
            } else {
                args[1..]
                    .iter()
                    .try_fold(first, |acc, &a| int(s, a).map(|n| acc.wrapping_sub(n)))?
            };
            s.alloc(Value::Int(v))?
        }
        Builtin::Lt => {
            let c = int(s, arg(0)?)? < int(s, arg(1)?)?;
            boolean(s, c)
        }
        Builtin::NumEq => {
            let c = int(s, arg(0)?)? == int(s, arg(1)?)?;
            boolean(s, c)
        }
        Builtin::Cons => cons(s, arg(0)?, arg(1)?)?,
        Builtin::Car => car(s, arg(0)?)?,
        Builtin::Cdr => cdr(s, arg(0)?)?,
        Builtin::IsNull => {
            let c = matches!(s.get(arg(0)?), Value::Nil);
            boolean(s, c)
        }
        Builtin::Display => {
            println!("{}", show(s, arg(0)?));
            s.dup(cx.nil)
        }
    })
}

fn show(s: &Scope<'_>, v: V<'_>) -> String {
    fn go(s: &Scope<'_>, v: &Value, out: &mut String) {
        match v {
            Value::Nil => out.push_str("nil"),
            Value::True => out.push_str("#t"),
            Value::Int(n) => out.push_str(&n.to_string()),
            Value::Sym(n) => out.push_str(n),
            Value::Lambda { .. } => out.push_str("#<lambda>"),
            Value::Builtin(b) => out.push_str(&format!("#<builtin {b:?}>")),
            Value::Cons(..) => {
                out.push('(');
                let mut cur = v;
                let mut first = true;
                while let Value::Cons(a, d) = cur {
                    if !first {
                        out.push(' ');
                    }
                    first = false;
                    go(s, s.deref(a).expect("complete pair"), out);
                    cur = s.deref(d).expect("complete pair");
                }
                if !matches!(cur, Value::Nil) {
                    out.push_str(" . ");
                    go(s, cur, out);
                }
                out.push(')');
            }
        }
    }
    let mut out = String::new();
    go(s, s.get(v), &mut out);
    out
}

const PROGRAM: &str = "
(define (range a b) (if (< a b) (cons a (range (+ a 1) b)) nil))
(define (map f xs) (if (null? xs) nil (cons (f (car xs)) (map f (cdr xs)))))
(define (sum xs)
  (define (go xs acc) (if (null? xs) acc (go (cdr xs) (+ acc (car xs)))))
  (go xs 0))
(define (make-adder n) (lambda (x) (+ x n)))
(define (loop i acc)
  (if (= i 0) acc (loop (- i 1) (+ acc (sum (map (make-adder i) (range 0 100)))))))
(display (map (make-adder 10) (range 0 5)))
(display (loop ITERATIONS 0))
";

/// What the interpreter keeps between top-level forms: persistent roots, which outlive the
/// scope of each form (as a REPL keeps its globals from one line to the next).
struct Globals {
    nil: Persistent<Value>,
    truth: Persistent<Value>,
    /// The global environment: one frame holding the builtins and every top-level `define`.
    env: Persistent<Value>,
}

fn run(heap: &mut Heap, src: &str) -> Result<()> {
    let globals = heap.scope(|s| -> Result<Globals> {
        let nil = s.alloc(Value::Nil)?;
        let truth = s.alloc(Value::True)?;
        let env = cons(s, nil, nil)?;
        for (name, b) in BUILTINS {
            s.scope(|t| -> Result<()> {
                let sym = t.alloc(Value::Sym(name.into()))?;
                let f = t.alloc(Value::Builtin(b))?;
                define(t, env, sym, f)
            })?;
        }
        Ok(Globals {
            nil: s.persist(nil)?,
            truth: s.persist(truth)?,
            env: s.persist(env)?,
        })
    })?;
    let toks = tokenize(src);
    let mut pos = 0;
    // Each top-level form runs in a scope of its own; only the persistent roots connect them.
    while pos < toks.len() {
        heap.scope(|s| -> Result<()> {
            let cx = Ctx {
                nil: s.persistent(&globals.nil)?,
                truth: s.persistent(&globals.truth)?,
            };
            let env = s.persistent(&globals.env)?;
            let form = parse(s, &cx, &toks, &mut pos)?;
            eval(s, &cx, form, env)?;
            Ok(())
        })?;
    }
    Ok(())
}

fn main() {
    let iterations: u64 = std::env::var("PINION_EXAMPLE_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let src = match std::env::args().nth(1) {
        Some(path) => std::fs::read_to_string(&path).unwrap_or_else(|e| {
            eprintln!("cannot read {path}: {e}");
            std::process::exit(2);
        }),
        None => PROGRAM.replace("ITERATIONS", &iterations.to_string()),
    };
    // Operators tune the heap with PINION_GC_* variables; a bad one is reported, not ignored.
    let config = Config::from_env().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2);
    });
    let mut heap = Heap::new(config).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2);
    });
    let start = std::time::Instant::now();
    if let Err(e) = run(&mut heap, &src) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    let elapsed = start.elapsed();
    let stats = heap.stats();
    let report = heap.verify();
    println!(
        "ran in {:.2?}: {} MB allocated, {} minor / {} major collections, max pause {:.2?}, verifier: {}",
        elapsed,
        stats.bytes_allocated / 1_000_000,
        stats.minor_collections,
        stats.major_collections,
        stats.minor_pause.max.max(stats.major_pause.max),
        if report.is_ok() { "ok" } else { "FAILED" }
    );
    if !report.is_ok() {
        eprintln!("{report}");
        std::process::exit(1);
    }
}
