//! The `lox` binary and library beyond the suite: the REPL, collector settings from the
//! environment, untrusted input (the fuzz corpus, replayed on stable) and limits.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use lox::{Limits, Lox, LoxError};

fn run(source: &str) -> (Result<(), LoxError>, String, String) {
    let mut lox = Lox::new(gc_core::Config::default()).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let result = lox.interpret(source, &mut out, &mut err);
    (
        result,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

/// Runs `lines` one after the other in `lox` (a REPL's lines), each expected to succeed, and
/// returns what they printed.
fn run_lines(lox: &mut Lox, lines: &[&str]) -> String {
    let mut out = Vec::new();
    for line in lines {
        let mut err = Vec::new();
        let result = lox.interpret(line, &mut out, &mut err);
        assert_eq!(result, Ok(()), "{line}: {}", String::from_utf8_lossy(&err));
    }
    String::from_utf8(out).unwrap()
}

fn lox_file(source: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("program.lox");
    std::fs::write(&path, source).unwrap();
    (dir, path)
}

#[test]
fn the_repl_keeps_globals_from_line_to_line() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lox"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = "var greeting = \"hello\";\nfun twice(x) { return x + x; }\nprint twice(greeting);\nprint nope;\nprint greeting;\n";
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout, "> > > hellohello\n> > hello\n> \n");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("Undefined variable 'nope'.\n[line 1] in script"),
        "{stderr}"
    );
}

#[test]
fn interned_strings_and_classes_survive_from_one_run_to_the_next() {
    let mut lox = Lox::new(gc_core::Config::default().with_nursery_size(4096)).unwrap();
    let lines = [
        "class Box { init(v) { this.v = v; } get() { return this.v; } }",
        "var boxes = nil; for (var i = 0; i < 2000; i = i + 1) { var b = Box(\"x\" + \"y\"); boxes = b; }",
        "print boxes.get() == \"xy\";",
        "print Box(\"z\").get();",
    ];
    assert_eq!(run_lines(&mut lox, &lines), "true\nz\n");
    assert!(lox.heap_mut().stats().minor_collections > 0);
    assert!(lox.heap_mut().verify().violations.is_empty());
}

#[test]
fn the_trace_variable_shows_the_collections() {
    let (_dir, path) = lox_file(
        "class P {} var keep = nil; for (var i = 0; i < 20000; i = i + 1) { keep = P(); } print keep;",
    );
    let output = Command::new(env!("CARGO_BIN_EXE_lox"))
        .arg(&path)
        .env("PINION_GC_TRACE", "1")
        .env("PINION_GC_NURSERY", "64KB")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "P instance\n");
    let trace = String::from_utf8(output.stderr).unwrap();
    assert!(
        trace.lines().any(|l| l.starts_with("pinion: heap ")),
        "{trace}"
    );
}

#[test]
fn a_bad_collector_variable_is_a_clear_error() {
    let (_dir, path) = lox_file("print 1;");
    let output = Command::new(env!("CARGO_BIN_EXE_lox"))
        .arg(&path)
        .env("PINION_GC_NURSERY", "lots")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(78));
    let message = String::from_utf8(output.stderr).unwrap();
    assert!(
        message.contains("PINION_GC_NURSERY") && message.contains("lots"),
        "{message}"
    );
}

#[test]
fn exit_codes_follow_clox() {
    let (_dir, path) = lox_file("print 1 +;");
    let status = Command::new(env!("CARGO_BIN_EXE_lox"))
        .arg(&path)
        .output()
        .unwrap()
        .status;
    assert_eq!(status.code(), Some(65));
    let (_dir, path) = lox_file("print -\"a\";");
    let status = Command::new(env!("CARGO_BIN_EXE_lox"))
        .arg(&path)
        .output()
        .unwrap()
        .status;
    assert_eq!(status.code(), Some(70));
    let status = Command::new(env!("CARGO_BIN_EXE_lox"))
        .arg("/nonexistent/program.lox")
        .output()
        .unwrap()
        .status;
    assert_eq!(status.code(), Some(74));
    let status = Command::new(env!("CARGO_BIN_EXE_lox"))
        .args(["a.lox", "b.lox"])
        .output()
        .unwrap()
        .status;
    assert_eq!(status.code(), Some(64));
}

#[test]
fn deep_nesting_is_a_compile_error_not_a_crash() {
    let deep = |open: &str, middle: &str, close: &str, depth: usize| {
        format!("{}{middle}{}", open.repeat(depth), close.repeat(depth))
    };
    let cases = [
        ("print ", "(", "1", ")", ";"),
        ("", "{", "print 1;", "}", ""),
        ("print ", "-", "1", "", ";"),
        ("", "if (true) ", "print 1;", "", ""),
        ("", "fun f() {", "", "}", ""),
        ("var a; ", "a = ", "1", "", ";"),
    ];
    for (before, open, middle, close, after) in cases {
        let source = format!("{before}{}{after}", deep(open, middle, close, 100_000));
        let (result, _, err) = run(&source);
        assert_eq!(result, Err(LoxError::Compile), "{open}");
        assert!(err.contains("Too much nesting."), "{open}: {err}");
        // Within the limit, the same program runs.
        let source = format!("{before}{}{after}", deep(open, middle, close, 40));
        let (result, _, err) = run(&source);
        assert_eq!(result, Ok(()), "{open}: {err}");
    }
}

/// Slot 0 and the parameters lie below a frame's closure, the body's locals above it: a
/// function with every local slot in use reads, writes and captures both kinds, and a
/// runtime error in a method called through `super` and a bound method traces every frame.
#[test]
fn parameters_and_locals_on_either_side_of_the_frames_closure() {
    let locals: String = (0..250).map(|i| format!("var l{i} = {i};\n")).collect();
    let source = format!(
        "fun f(a, b, c) {{\n var first = a;\n{locals} l249 = l249 + b;\n a = a + 1;\n\
         fun g() {{ return a + c + l249 + first; }}\n return g;\n}}\nprint f(1, 2, 3)();"
    );
    let (result, out, err) = run(&source);
    assert_eq!((result, err.as_str()), (Ok(()), ""));
    assert_eq!(out, "257\n"); // 2 + 3 + 251 + 1

    let (result, _, err) = run("class A { m(x) { return x.nope; } }\n\
         class B < A { m(x) { var y = x; return super.m(y); } }\n\
         var bound = B().m;\n\
         bound(1);");
    assert_eq!(result, Err(LoxError::Runtime));
    assert_eq!(
        err,
        "Only instances have properties.\n[line 1] in m()\n[line 2] in m()\n[line 4] in script\n"
    );
}

/// A return resumes the caller with its own bytecode and constants (cached by the call, not
/// looked up again): the caller's string constants are used after callees that collect, in
/// functions compiled by earlier runs (REPL lines), in a method and an initialiser.
#[test]
fn a_return_resumes_with_the_callers_constants_across_collections_and_runs() {
    let mut lox = Lox::new(gc_core::Config::default().with_nursery_size(4096)).unwrap();
    let lines = [
        "fun outer(n) { var s = \"<\" + inner(n); return s + \">\"; }",
        "class Junk {} fun inner(n) { var t = \"\"; for (var i = 0; i < n; i = i + 1) { t = t + \"i\"; } \
         for (var j = 0; j < 500; j = j + 1) { Junk().field = t; } return t; }",
        "print outer(3); print outer(1);",
        "class C { init(n) { this.s = \"[\" + outer(n) + \"]\"; } get() { return \"(\" + this.s + \")\"; } }",
        "print C(2).get(); print outer(0);",
    ];
    assert_eq!(run_lines(&mut lox, &lines), "<iii>\n<i>\n([<ii>])\n<>\n");
    assert!(lox.heap_mut().stats().minor_collections > 0);
}

/// A class keeps its initialiser beside its methods (`Class::initializer`): inherited through
/// any depth, replaced by a subclass's own `init`, defined again in a later class of the same
/// name (the REPL), with a collection at every allocation so that each instantiation (made
/// with the dispatch loop's scope lent out) moves the class, the instance and the stack.
#[test]
fn initialisers_are_inherited_replaced_and_survive_collections() {
    let config = gc_core::Config::default()
        .with_nursery_size(4096)
        .with_stress(Some(1))
        .with_debug_level(2);
    let mut lox = Lox::new(config).unwrap();
    let lines = [
        "class A { init(x) { this.x = x; } show() { return this.x; } }",
        "class B < A {} class C < B {} class D < C { init() { super.init(\"d\"); this.y = 1; } }",
        "class E < D {} class F < E { show() { return \"f\" + this.x; } }",
        "print A(1).show(); print B(2).show(); print C(3).show(); print D().show(); print E().y; print F().show();",
        "class A { plain() { return \"no init\"; } }",
        "print A().plain(); print B(4).show();",
        "var made = nil; for (var i = 0; i < 300; i = i + 1) { made = C(i); made = E(); } print made.x;",
        "print A(1);",
    ];
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for line in lines {
        let mut err = Vec::new();
        let result = lox.interpret(line, &mut out, &mut err);
        errors.push((result, String::from_utf8(err).unwrap()));
    }
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "1\n2\n3\nd\n1\nfd\nno init\n4\nd\n"
    );
    assert!(
        errors[..7].iter().all(|(r, e)| r.is_ok() && e.is_empty()),
        "{errors:?}"
    );
    assert_eq!(errors[7].0, Err(LoxError::Runtime));
    assert!(
        errors[7].1.starts_with("Expected 0 arguments but got 1."),
        "{}",
        errors[7].1
    );
    assert!(lox.heap_mut().stats().minor_collections > 600);
}

/// Assignment statements run as one instruction with their pop, and conditions pop as they
/// jump (`compiler/mod.rs`, `emit_pop`): every kind of store, on its fast and slow paths (a
/// field table that must grow, an open and a closed upvalue), in loops long enough that a
/// pop too many or too few would underflow or overflow the stack.
#[test]
fn fused_stores_and_popping_jumps_keep_the_stack_balanced() {
    let (result, out, err) = run("var g = 0;\n\
         g = g + 1;\n\
         class P {}\n\
         var p = P();\n\
         p.a = 1; p.b = 2; p.c = 3; p.d = 4; p.e = 5;\n\
         print p.a + p.b + p.c + p.d + p.e;\n\
         fun counter() { var n = 0; fun inc() { n = n + 1; return n; } inc(); n = n + 10; return inc; }\n\
         var c = counter(); c();\n\
         print c();\n\
         fun f(x) { x = x * 2; return x; }\n\
         print f(21);\n\
         for (var i = 0; i < 3; i = i + 1) { if (i == 1) g = g + 10; else g = g + 100; }\n\
         print g;\n\
         var w = 0; while (w < 5) w = w + 1;\n\
         print w;\n\
         for (var k = 0; k < 100000; k = k + 1) { var local = k; local = local + 1; p.a = local; g = k; if (k < 0) print \"never\"; }\n\
         print p.a + g;");
    assert_eq!((result, err.as_str()), (Ok(()), ""));
    assert_eq!(out, "15\n13\n42\n211\n5\n199999\n");
}

#[test]
fn deep_recursion_is_a_stack_overflow_with_a_trace() {
    let (result, _, err) = run("fun f(n) { return f(n + 1); }\nf(0);");
    assert_eq!(result, Err(LoxError::Runtime));
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines[0], "Stack overflow.");
    assert_eq!(lines.len(), 1 + lox::FRAMES_MAX);
    assert!(lines[1..lox::FRAMES_MAX]
        .iter()
        .all(|l| *l == "[line 1] in f()"));
    assert_eq!(lines[lox::FRAMES_MAX], "[line 2] in script");
}

#[test]
fn running_out_of_memory_is_a_runtime_error() {
    let config = gc_core::Config::default()
        .with_nursery_size(64 << 10)
        .with_max_heap(Some(8 << 20));
    let mut lox = Lox::new(config).unwrap();
    let source = "class Node { init(next) { this.next = next; } }\n\
                  { var list = nil; while (true) list = Node(list); }";
    let mut err = Vec::new();
    let result = lox.interpret(source, &mut std::io::sink(), &mut err);
    assert_eq!(result, Err(LoxError::Runtime));
    let err = String::from_utf8(err).unwrap();
    assert!(err.starts_with("Out of memory.\n[line 2] in "), "{err}");
    // The interpreter is still usable: the list is garbage now.
    let mut out = Vec::new();
    lox.interpret("print \"after\";", &mut out, &mut std::io::sink())
        .unwrap();
    assert_eq!(out, b"after\n");
}

#[test]
fn every_lox_fuzz_corpus_file_runs_to_an_end() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/lox");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the lox corpus is committed")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() > 200, "the corpus holds the suite");
    for path in files {
        let source = std::fs::read(&path).unwrap();
        // Panics (failing the test) on a broken heap; any Lox outcome is fine.
        let _ = lox::fuzzing::run_untrusted(&source);
    }
}

#[test]
fn every_call_counts_once_against_the_step_budget() {
    // Ten calls of each kind that leave the stack loop (a class with and without an
    // initialiser, a bound method, a method invoked through a field, a `super` call) and
    // ten plain ones: sixty calls, no backward jump.
    let call_ten = |call: &str| format!("{call}{}", format!(" {call}").repeat(9));
    let source = format!(
        "class A {{ init() {{}} m() {{}} }}\n\
         class B < A {{ m() {{ super.m(); }} }}\n\
         class E {{}}\n\
         fun f() {{}}\n\
         var a = A(); var b = B(); var bound = a.m; a.field = f;\n\
         {}\n{}\n{}\n{}\n{}\n{}\n",
        call_ten("A();"),
        call_ten("E();"),
        call_ten("bound();"),
        call_ten("a.field();"),
        call_ten("f();"),
        call_ten("b.m();"),
    );
    let run_with = |steps: u64| {
        let mut lox = Lox::new(gc_core::Config::default()).unwrap();
        lox.set_limits(Limits { steps: Some(steps) });
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let result = lox.interpret(&source, &mut out, &mut err);
        (result, String::from_utf8(err).unwrap())
    };
    // The setup makes two calls (`A()` twice: `a` and `b`), `b.m()` makes two (its
    // `super.m()`), so the program makes 2 + 60 + 10 = 72 calls in all.
    assert_eq!(run_with(72), (Ok(()), String::new()));
    let (result, err) = run_with(71);
    assert_eq!(result, Err(LoxError::Runtime));
    assert!(err.starts_with("Execution budget exhausted."), "{err}");
}

/// An invocation skips the receiver's fields unless its class is marked as having an instance
/// with a field named like one of its methods; every way a field gets defined must mark it.
#[test]
fn a_field_named_like_a_method_is_called_however_and_wherever_it_was_defined() {
    let program = r#"
        fun field() { return "field"; }
        class A {
          init() { this.x = 1; }
          m() { return "method"; }
          n() { return "method n"; }
        }
        class B < A {}
        class C { m() { return "C method"; } }
        // One site defines `m` on instances of several classes: a check made for one class
        // says nothing about the next.
        fun setM(o) { o.m = field; }
        var a = A();
        print a.m();
        setM(C()); // checked for C first
        setM(a); // then for A, whose method it shadows
        print a.m();
        print A().m(); // another instance keeps the method
        // Defined when the fields' table must grow (the slow path's definition).
        var b = B();
        b.p = 1; b.q = 2; b.r = 3; b.s = 4;
        b.n = field;
        print b.n();
        print B().n();
        // An inherited method shadowed on a subclass's instance, by a site that defined the
        // same name on the superclass's instances before.
        var b2 = B();
        setM(b2);
        print b2.m();
        // Replacing a field keeps it shadowing; a site that replaced first defines later.
        fun setN(o, f) { o.n = f; }
        fun other() { return "other"; }
        setN(b, other);
        print b.n();
        var c = C();
        print c.m();
        setN(c, field); // C has no method `n`: nothing shadowed
        print c.m();
        print c.n();
    "#;
    let (result, out, err) = run(program);
    assert_eq!(result, Ok(()), "{err}");
    assert_eq!(
        out,
        "method\nfield\nmethod\nfield\nmethod n\nfield\nother\nC method\nC method\nfield\n"
    );
}

/// A function compiled before a class exists defines a field named like one of the class's
/// methods in a later run (a REPL's later line): the check is made when the field is defined,
/// against the class the instance has then.
#[test]
fn a_field_defined_by_code_older_than_the_class_still_shadows_its_method() {
    let mut lox = Lox::new(gc_core::Config::default().with_nursery_size(4096)).unwrap();
    let lines = [
        "fun setFoo(o, f) { o.foo = f; } fun field() { return \"field\"; }",
        "class A { foo() { return \"method\"; } }",
        "var a = A(); print a.foo(); setFoo(a, field); print a.foo();",
        "class D { foo() { return \"D method\"; } } var d = D(); print d.foo();",
        "setFoo(d, field); print d.foo(); print A().foo();",
    ];
    assert_eq!(
        run_lines(&mut lox, &lines),
        "method\nfield\nD method\nfield\nmethod\n"
    );
}
