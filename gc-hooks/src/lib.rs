//! Pinion's collection events, statistics and hook dispatch.
//!
//! This crate will hold the event types, the hook registry and the built-in trace and JSON-lines
//! sinks. Until they land, the statistics every later feature extends are `gc-core`'s, which
//! this crate re-exports so that dependents can already name them from here.
//!
//! ```
//! use gc_hooks::HeapStats;
//! let stats = HeapStats::default();
//! assert_eq!(stats.minor_collections, 0);
//! ```

#![deny(missing_docs)]

pub use gc_core::{HeapStats, PauseStats};
