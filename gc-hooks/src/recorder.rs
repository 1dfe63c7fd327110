//! The heap's event recorder: what the collector calls while it works, and what the heap
//! drains once it has finished.
//!
//! `record` is the collector's only entry point. It touches preallocated memory only (the
//! ring, the merged pending events, the pause histogram): no allocation, no barrier, no user
//! code, no lock. After the collection the heap calls `flush_sinks` (the built-in sinks write
//! out every event) and, once the allocation that triggered the collection is safely rooted,
//! delivers the pending events to the user hooks with `take_pending`.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::event::{Event, Pending};
use crate::histogram::{PauseHistogram, PauseSummary};
use crate::ring::EventRing;
use crate::sinks::{trace_line, EventLog};
use crate::snapshot::{StatsPublisher, StatsReader, StatsSnapshot};

/// Records one heap's events.
#[derive(Debug)]
pub struct Recorder {
    heap: u32,
    start: Instant,
    ring: EventRing,
    pending: Pending,
    pauses: PauseHistogram,
    publisher: StatsPublisher,
    trace: bool,
    log: Option<EventLog>,
    collections: u64,
    delivered: u64,
    /// Whether `pending` holds anything (one load on every allocation).
    any_pending: bool,
}

impl Recorder {
    /// A recorder for heap `heap`, with the built-in sinks asked for.
    pub fn new(heap: u32, trace: bool, log: Option<&Path>) -> std::io::Result<Recorder> {
        Ok(Recorder {
            heap,
            start: Instant::now(),
            ring: EventRing::default(),
            pending: Pending::default(),
            pauses: PauseHistogram::default(),
            publisher: StatsPublisher::default(),
            trace,
            log: log.map(EventLog::open).transpose()?,
            collections: 0,
            delivered: 0,
            any_pending: false,
        })
    }

    /// Time since the heap was created.
    #[inline]
    pub fn since_start(&self) -> Duration {
        self.start.elapsed()
    }

    /// Records an event (called inside the collector: no allocation, no user code).
    #[inline]
    pub fn record(&mut self, event: Event) {
        match event {
            Event::Minor(e) => self.pauses.record(e.duration),
            Event::Major(e) => self.pauses.record(e.duration),
            _ => {}
        }
        if self.trace || self.log.is_some() {
            self.ring.push(event);
        }
        self.pending.add(event);
        self.any_pending = true;
    }

    /// Writes the recorded events to the built-in sinks.
    pub fn flush_sinks(&mut self) {
        if self.ring.is_empty() {
            return;
        }
        let (heap, trace, log) = (self.heap, self.trace, &self.log);
        let collections = &mut self.collections;
        self.ring.drain(|event| {
            if matches!(event, Event::Minor(_) | Event::Major(_)) {
                *collections += 1;
            }
            if trace {
                if let Some(line) = trace_line(heap, *collections, event) {
                    eprintln!("{line}");
                }
            }
            if let Some(log) = log {
                log.write(heap, event);
            }
        });
    }

    /// Whether events wait for the user hooks.
    #[inline]
    pub fn has_pending(&self) -> bool {
        self.any_pending
    }

    /// Takes the events waiting for the user hooks (merged).
    pub fn take_pending(&mut self) -> Pending {
        self.delivered += 1;
        self.any_pending = false;
        std::mem::take(&mut self.pending)
    }

    /// Forgets pending events (no hook is installed to receive them).
    pub fn discard_pending(&mut self) {
        self.pending = Pending::default();
        self.any_pending = false;
    }

    /// Publishes a snapshot for readers on other threads.
    pub fn publish(&self, snapshot: StatsSnapshot) {
        self.publisher.publish(snapshot);
    }

    /// A reader of the published snapshots.
    pub fn reader(&self) -> StatsReader {
        self.publisher.reader()
    }

    /// Count, p50, p99 and maximum of the pauses (minor and major).
    pub fn pause_summary(&self) -> PauseSummary {
        self.pauses.summary()
    }

    /// Deliveries to user hooks so far.
    pub fn deliveries(&self) -> u64 {
        self.delivered
    }

    /// Events the ring dropped because a sink fell behind.
    pub fn dropped_events(&self) -> u64 {
        self.ring.dropped()
    }
}
