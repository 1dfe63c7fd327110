//! `gc-stress`: a model-based stress harness for the Pinion collector.
//!
//! A *program* is a sequence of [`Op`]s applied both to a real heap and to a plain-Rust model
//! of the object graph. After every collection (or every operation) the harness checks that
//! what is reachable in the heap matches the model exactly, that drop glue ran at most once and
//! never for a reachable object, and that the heap verifier finds nothing wrong. A failing
//! program is written to a [replay file](replay) that `gc-stress replay` runs again
//! deterministically.
//!
//! ```
//! use gc_stress::{execute, HeapSettings, Op, VerifyMode};
//!
//! let ops = [Op::AllocNode { payload: 7 }, Op::Minor, Op::Major];
//! let (stats, result) = execute(&ops, &HeapSettings::default(), VerifyMode::EveryOp);
//! assert!(result.is_ok());
//! assert_eq!(stats.major, 1);
//! ```

#![deny(missing_docs)]

pub mod campaign;
pub mod configs;
pub mod cthread;
pub mod exec;
pub mod forkcow;
pub mod fuzzing;
pub mod hooks;
#[cfg(feature = "fault-injection")]
pub mod hunt;
pub mod model;
pub mod objects;
pub mod ops;
pub mod replay;
pub mod settings;
pub mod shrink;
pub mod soak;
pub mod workloads;

pub use campaign::{run, Campaign, Summary};
pub use exec::{execute, Failure, ProgramStats, VerifyMode};
pub use ops::Op;
pub use replay::Replay;
pub use settings::HeapSettings;
