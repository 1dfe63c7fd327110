//! `lox [FILE]`: runs a Lox program, or a REPL when no file is given.
//!
//! Exit codes follow clox: 64 usage, 65 compile error, 70 runtime error, 74 unreadable file;
//! 78 for a bad `PINION_GC_*` variable (the message names it).

use std::io::{BufRead, Write};
use std::process::ExitCode;

use lox::Lox;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match gc_core::Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("lox: {e}");
            return ExitCode::from(78);
        }
    };
    let mut lox = match Lox::new(config) {
        Ok(lox) => lox,
        Err(e) => {
            eprintln!("lox: cannot make the heap: {e}");
            return ExitCode::from(78);
        }
    };
    match args.as_slice() {
        [] => repl(&mut lox),
        [path] => run_file(&mut lox, path),
        _ => {
            eprintln!("Usage: lox [path]");
            ExitCode::from(64)
        }
    }
}

fn run_file(lox: &mut Lox, path: &str) -> ExitCode {
    let source = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            eprintln!("Could not open file \"{path}\": {e}.");
            return ExitCode::from(74);
        }
    };
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    match lox.interpret(&source, &mut stdout, &mut std::io::stderr().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(e.exit_code() as u8),
    }
}

fn repl(lox: &mut Lox) -> ExitCode {
    let stdin = std::io::stdin();
    let mut line = String::new();
    loop {
        print!("> ");
        let _ = std::io::stdout().flush();
        line.clear();
        match stdin.lock().read_line(&mut line) {
            Ok(0) | Err(_) => {
                println!();
                return ExitCode::SUCCESS;
            }
            Ok(_) => {
                let (stdout, stderr) = (std::io::stdout(), std::io::stderr());
                // Errors are reported; the REPL goes on with the globals it has.
                let _ = lox.interpret(&line, &mut stdout.lock(), &mut stderr.lock());
            }
        }
    }
}
