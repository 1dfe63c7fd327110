//! Pinion's collection events, statistics and built-in sinks.
//!
//! `gc-core` records an [`Event`] for every minor collection, major-collection step, completed
//! major collection, refused pin and out-of-memory error through a [`Recorder`], which touches
//! only preallocated memory. After the collection the built-in sinks (trace lines, JSON-lines
//! log) write every event out, and the user hooks registered on the heap (`gc_core::GcHooks`)
//! receive the events merged since their last delivery ([`Pending`], [`Accumulated`]).
//!
//! ```
//! use gc_hooks::{Accumulated, MinorEvent};
//! use std::time::Duration;
//!
//! let mut minors = Accumulated::default();
//! minors.add(MinorEvent { number: 1, duration: Duration::from_micros(40), ..Default::default() });
//! minors.add(MinorEvent { number: 2, duration: Duration::from_micros(10), ..Default::default() });
//! assert_eq!((minors.count, minors.last.number), (2, 2));
//! assert_eq!(minors.min_duration, Duration::from_micros(10));
//! ```
//!
//! Other threads read a heap's counters through a [`StatsReader`] (a lock-free sequence lock,
//! checked with loom), and every heap keeps a [`PauseSummary`] from a fixed-size histogram.

#![deny(missing_docs)]

mod event;
mod histogram;
mod recorder;
mod ring;
pub mod sinks;
mod snapshot;
mod sync;

pub use event::{
    Accumulated, Event, HasDuration, MajorEvent, MajorState, MajorStepEvent, MinorEvent,
    OutOfMemoryEvent, Pending, PinRefusal, PinRefusedEvent,
};
pub use histogram::{PauseHistogram, PauseSummary};
pub use recorder::Recorder;
pub use ring::{EventRing, CAPACITY as RING_CAPACITY};
pub use sinks::{event_json, trace_line, EventLog};
pub use snapshot::{SeqLock, StatsPublisher, StatsReader, StatsSnapshot};
