//! A bytecode virtual machine for Lox, the language of Robert Nystrom's *Crafting
//! Interpreters*, built on Pinion: a port of the book's C VM (clox) whose values, stack, call
//! frames, globals, strings and objects all live in a Pinion heap, written in safe Rust the way
//! the embedding guide (`docs/embedding.md`) tells interpreter authors to write theirs.
//!
//! ```
//! let mut lox = lox::Lox::new(gc_core::Config::default()).unwrap();
//! let (mut out, mut err) = (Vec::new(), Vec::new());
//! let program = r#"
//!     class Counter {
//!         init() { this.n = 0; }
//!         inc() { this.n = this.n + 1; return this; }
//!     }
//!     print Counter().inc().inc().n;
//! "#;
//! lox.interpret(program, &mut out, &mut err).unwrap();
//! assert_eq!(out, b"2\n");
//! assert_eq!(lox.interpret("print nope;", &mut out, &mut err), Err(lox::LoxError::Runtime));
//! assert!(String::from_utf8_lossy(&err).starts_with("Undefined variable 'nope'."));
//! ```
//!
//! How the pieces map onto Pinion:
//! - [`object`]: every Lox value is a [`object::Value`], stored inline; heap objects are
//!   derived `Trace` types and are built in one step from their mirrors.
//! - `vm`: the value stack and the frames are `GcVec`s, rooted by handles of the run's scope;
//!   the globals a `GcMap` held by a persistent root between runs.
//! - `strings`: interning through a `WeakInterner`, so unused strings are collected.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod calls;
mod classes;
mod compiler;
mod dispatch;
pub mod fuzzing;
pub mod object;
mod opcode;
mod scanner;
mod strings;
mod vm;

pub use vm::{Limits, Lox, LoxError, FRAMES_MAX, STACK_MAX};
