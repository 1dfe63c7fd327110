//! A preallocated ring of events: the collector records into it without allocating, and the
//! built-in sinks drain it after the collection.
//!
//! Invariants: `len <= CAPACITY`; the events in order are `buf[(head + i) % CAPACITY]` for
//! `i < len`; when full, a new event replaces the oldest and `dropped` counts it.

use crate::event::{Event, MinorEvent};

/// Events the ring holds before it starts dropping the oldest.
pub const CAPACITY: usize = 256;

/// A fixed-size event ring.
#[derive(Debug)]
pub struct EventRing {
    buf: Box<[Event; CAPACITY]>,
    head: usize,
    len: usize,
    dropped: u64,
}

impl Default for EventRing {
    fn default() -> Self {
        EventRing {
            buf: Box::new([Event::Minor(MinorEvent::default()); CAPACITY]),
            head: 0,
            len: 0,
            dropped: 0,
        }
    }
}

impl EventRing {
    /// Records an event (no allocation).
    #[inline]
    pub fn push(&mut self, event: Event) {
        if self.len == CAPACITY {
            self.buf[self.head] = event;
            self.head = (self.head + 1) % CAPACITY;
            self.dropped += 1;
        } else {
            self.buf[(self.head + self.len) % CAPACITY] = event;
            self.len += 1;
        }
    }

    /// Hands every event to `f`, oldest first, and empties the ring.
    pub fn drain(&mut self, mut f: impl FnMut(&Event)) {
        for i in 0..self.len {
            f(&self.buf[(self.head + i) % CAPACITY]);
        }
        self.head = 0;
        self.len = 0;
    }

    /// Events replaced before a sink saw them.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no event is waiting.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minor(n: u64) -> Event {
        Event::Minor(MinorEvent {
            number: n,
            ..MinorEvent::default()
        })
    }

    #[test]
    fn keeps_order_and_drops_the_oldest_when_full() {
        let mut ring = EventRing::default();
        for n in 0..(CAPACITY as u64 + 3) {
            ring.push(minor(n));
        }
        assert_eq!(ring.dropped(), 3);
        let mut seen = Vec::new();
        ring.drain(|e| {
            if let Event::Minor(m) = e {
                seen.push(m.number)
            }
        });
        assert_eq!(seen.first(), Some(&3));
        assert_eq!(seen.last(), Some(&(CAPACITY as u64 + 2)));
        assert_eq!(seen.len(), CAPACITY);
        assert!(ring.is_empty());
    }
}
