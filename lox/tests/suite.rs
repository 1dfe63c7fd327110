//! The Crafting Interpreters test suite, run against the `lox` binary as its README describes:
//! every file's stdout, stderr and exit code are checked against the expectations written in its
//! comments. The suite lives beside the project (`../shared/lox-suite/test`) or where
//! `LOX_SUITE` points; without it the tests say so and pass vacuously (CI always has it and
//! fails when the count printed is zero).
//!
//! `suite_passes` runs with the environment this test inherits (so `PINION_GC_*` variables set
//! outside apply); the other tests run the whole suite again under one collector configuration
//! each: a collection at every allocation, a 64 KB nursery, the verifier after every
//! collection, and pinning disabled.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The folders that test the book's early chapters (a scanner and an expression evaluator),
/// not a complete VM.
const EXCLUDED: [&str; 2] = ["scanning", "expressions"];

fn suite_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("LOX_SUITE") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/lox-suite/test"),
    };
    dir.is_dir().then_some(dir)
}

fn collect(dir: &Path, root: &Path, files: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("a readable suite folder")
        .map(|e| e.expect("a readable entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            let relative = path.strip_prefix(root).expect("inside the suite");
            if !EXCLUDED.iter().any(|e| relative == Path::new(e)) {
                collect(&path, root, files);
            }
        } else if path.extension().is_some_and(|e| e == "lox") {
            files.push(path);
        }
    }
}

/// What one test file expects.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    output: Vec<String>,
    /// Compile errors, `[line N] Error...`, in order.
    compile_errors: Vec<String>,
    /// A runtime error's message and line.
    runtime_error: Option<(String, usize)>,
    exit_code: i32,
    nontest: bool,
}

fn parse_expectations(source: &str) -> Expected {
    let mut expected = Expected::default();
    for (i, line) in source.lines().enumerate() {
        let number = i + 1;
        if line.contains("// nontest") {
            expected.nontest = true;
        }
        if let Some(text) = after(line, "// expect: ") {
            expected.output.push(text.to_string());
        } else if let Some(message) = after(line, "// expect runtime error: ") {
            expected.runtime_error = Some((message.to_string(), number));
        } else if let Some(error) = after(line, "// [") {
            // `// [line N] Error...`, `// [c line N] Error...` (this VM's),
            // `// [java line N] Error...` (the tree-walker's: skipped).
            let Some((place, rest)) = error.split_once("] ") else {
                continue;
            };
            let line_number = match place.split_once(' ') {
                Some(("line", n)) | Some(("c", n)) => n.strip_prefix("line ").unwrap_or(n),
                _ => continue,
            };
            if rest.starts_with("Error") {
                expected
                    .compile_errors
                    .push(format!("[line {line_number}] {rest}"));
            }
        } else if let Some(rest) = after(line, "// Error") {
            expected
                .compile_errors
                .push(format!("[line {number}] Error{rest}"));
        }
    }
    expected.exit_code = if !expected.compile_errors.is_empty() {
        65
    } else if expected.runtime_error.is_some() {
        70
    } else {
        0
    };
    expected
}

fn after<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    line.find(marker).map(|i| &line[i + marker.len()..])
}

/// Runs one file; the reasons it failed, if any.
fn check(file: &Path, env: &[(&str, &str)]) -> Vec<String> {
    let source = std::fs::read_to_string(file).expect("a readable test file");
    let expected = parse_expectations(&source);
    if expected.nontest {
        return Vec::new();
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_lox"));
    command.arg(file);
    for (key, _) in std::env::vars() {
        if key.starts_with("PINION_GC_") && !env.is_empty() {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().copied());
    let output = command.output().expect("the lox binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut failures = Vec::new();
    let code = output.status.code().unwrap_or(-1);
    if code != expected.exit_code {
        failures.push(format!("exit code {code}, expected {}", expected.exit_code));
    }
    let printed: Vec<&str> = stdout.lines().collect();
    if printed != expected.output {
        failures.push(format!(
            "stdout {printed:?}, expected {:?}",
            expected.output
        ));
    }
    let errors: Vec<&str> = stderr.lines().collect();
    if let Some((message, line)) = &expected.runtime_error {
        let trace = format!("[line {line}]");
        if errors.first() != Some(&message.as_str()) {
            failures.push(format!(
                "stderr {errors:?}, expected the runtime error {message:?}"
            ));
        } else if !errors.get(1).is_some_and(|l| l.starts_with(&trace)) {
            failures.push(format!(
                "stderr {errors:?}, expected a trace starting {trace}"
            ));
        }
    } else if errors != expected.compile_errors {
        failures.push(format!(
            "stderr {errors:?}, expected {:?}",
            expected.compile_errors
        ));
    }
    failures
}

/// Runs every file of the suite (on every core) with `env`; the number of files checked.
fn run_suite(name: &str, env: &[(&str, &str)]) -> usize {
    let Some(dir) = suite_dir() else {
        println!(
            "lox suite ({name}): the suite folder is absent (../shared/lox-suite/test, or set \
             LOX_SUITE); 0 files checked"
        );
        return 0;
    };
    let mut files = Vec::new();
    collect(&dir, &dir, &mut files);
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(file) = files.get(i) else { break };
                let reasons = check(file, env);
                if !reasons.is_empty() {
                    let relative = file
                        .strip_prefix(&dir)
                        .unwrap_or(file)
                        .display()
                        .to_string();
                    failures.lock().unwrap().push((relative, reasons));
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    for (file, reasons) in &failures {
        println!("FAIL {file}");
        for reason in reasons {
            println!("    {reason}");
        }
    }
    println!(
        "lox suite ({name}): {} files checked, {} passed, {} failed (excluded: {})",
        files.len(),
        files.len() - failures.len(),
        failures.len(),
        EXCLUDED.join("/, ") + "/"
    );
    assert!(
        failures.is_empty(),
        "{} suite files failed ({name})",
        failures.len()
    );
    files.len()
}

#[test]
fn suite_passes() {
    let inherited: Vec<String> = std::env::vars()
        .filter(|(key, _)| key.starts_with("PINION_GC_"))
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    let name = if inherited.is_empty() {
        "default settings".to_string()
    } else {
        format!("inherited {}", inherited.join(" "))
    };
    run_suite(&name, &[]);
}

#[test]
fn suite_passes_with_a_collection_at_every_allocation() {
    run_suite("PINION_GC_STRESS=1", &[("PINION_GC_STRESS", "1")]);
}

#[test]
fn suite_passes_with_a_64_kb_nursery() {
    run_suite("PINION_GC_NURSERY=64KB", &[("PINION_GC_NURSERY", "64KB")]);
}

#[test]
fn suite_passes_with_the_verifier_after_every_collection() {
    run_suite("PINION_GC_DEBUG=2", &[("PINION_GC_DEBUG", "2")]);
}

#[test]
fn suite_passes_with_pinning_disabled() {
    run_suite("PINION_GC_MAX_PINNED=0", &[("PINION_GC_MAX_PINNED", "0")]);
}

#[test]
fn expectations_are_read_as_the_suite_readme_says() {
    let source = "print 1; // expect: 1\n\
                  a b; // Error at 'b': Expect ';'.\n\
                  // [line 7] Error at end: Oops.\n\
                  // [java line 9] Error: only the tree-walker.\n\
                  // [c line 8] Error: only the bytecode VM.\n";
    let expected = parse_expectations(source);
    assert_eq!(expected.output, ["1"]);
    assert_eq!(
        expected.compile_errors,
        [
            "[line 2] Error at 'b': Expect ';'.",
            "[line 7] Error at end: Oops.",
            "[line 8] Error: only the bytecode VM.",
        ]
    );
    assert_eq!(expected.exit_code, 65);
    let runtime = parse_expectations(
        "\n\nnil(); // expect runtime error: Can only call functions and classes.",
    );
    assert_eq!(
        runtime.runtime_error,
        Some(("Can only call functions and classes.".to_string(), 3))
    );
    assert_eq!(runtime.exit_code, 70);
    assert!(parse_expectations("// nontest\n").nontest);
    assert_eq!(parse_expectations("").exit_code, 0);
}
