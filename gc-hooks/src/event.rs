//! Collection events, as the collector records them, and their merged form for user hooks.
//!
//! Every event is a small `Copy` record (no heap memory), so the collector can record one
//! without allocating. Built-in sinks see each event as it happened; user hooks see the
//! [`Accumulated`] form, in which events that happened while a hook was running are merged:
//! counts and durations are summed, the minimum and maximum durations kept, and every other
//! field comes from the last event.

use std::time::Duration;

/// A completed minor collection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MinorEvent {
    /// Minor collections so far on this heap, this one included.
    pub number: u64,
    /// Time since the heap was created, when the collection started.
    pub at: Duration,
    /// How long it took.
    pub duration: Duration,
    /// Heap memory in use before (nursery used + old generation + large objects).
    pub memory_before: u64,
    /// Heap memory in use after.
    pub memory_after: u64,
    /// Bytes of young objects that survived (promoted, plus pinned ones kept in place).
    pub surviving_bytes: u64,
    /// Bytes copied into the old generation.
    pub promoted_bytes: u64,
    /// Nursery objects pinned after the collection.
    pub pinned_objects: u64,
    /// The nursery's size for the next cycle, as the young generation's sizing policy chose it.
    pub nursery_size: u64,
}

/// The state of the major-collection cycle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MajorState {
    /// No major collection in progress.
    #[default]
    Idle,
    /// The cycle is complete.
    Done,
}

/// One step of a major collection. Major collections are stop-the-world for now, so a single
/// step always goes from [`MajorState::Idle`] to [`MajorState::Done`]; incremental marking
/// will split the cycle into many steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MajorStepEvent {
    /// State before the step.
    pub old_state: MajorState,
    /// State after the step.
    pub new_state: MajorState,
    /// Whether the cycle is done.
    pub done: bool,
    /// How long the step took.
    pub duration: Duration,
}

/// A completed major collection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MajorEvent {
    /// Major collections so far on this heap, this one included.
    pub number: u64,
    /// Time since the heap was created, when the collection started.
    pub at: Duration,
    /// The pause (the whole stop-the-world collection, its opening minor one included).
    pub duration: Duration,
    /// Old-generation arenas before and after.
    pub arenas_before: u64,
    /// Old-generation arenas after.
    pub arenas_after: u64,
    /// Bytes in use in arenas (small-object slots) before.
    pub arena_bytes_before: u64,
    /// Bytes in use in arenas after.
    pub arena_bytes_after: u64,
    /// Large-object bytes before.
    pub large_bytes_before: u64,
    /// Large-object bytes after.
    pub large_bytes_after: u64,
    /// Bytes freed by the sweep.
    pub bytes_freed: u64,
    /// Objects pinned after the collection.
    pub pinned_objects: u64,
    /// Heap memory in use before.
    pub memory_before: u64,
    /// Heap memory in use after.
    pub memory_after: u64,
    /// Whether the collection was sticky: it marked only the objects that reached the old
    /// generation since the last full major collection and kept the others.
    pub sticky: bool,
}

/// Why a pin was refused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PinRefusal {
    /// `MAX_PINNED` nursery objects were pinned already.
    #[default]
    Limit,
    /// Pinning is disabled (`MAX_PINNED=0`).
    Disabled,
}

/// A refused pin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PinRefusedEvent {
    /// Why.
    pub reason: PinRefusal,
    /// The limit in force.
    pub limit: u64,
    /// Nursery objects pinned at the time.
    pub pinned_objects: u64,
}

/// An allocation that failed with out-of-memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutOfMemoryEvent {
    /// Bytes requested.
    pub requested: u64,
    /// Heap footprint at the time.
    pub in_use: u64,
    /// The heap limit, 0 when none.
    pub limit: u64,
}

/// Any event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A minor collection.
    Minor(MinorEvent),
    /// A major-collection step.
    MajorStep(MajorStepEvent),
    /// A completed major collection.
    Major(MajorEvent),
    /// A refused pin.
    PinRefused(PinRefusedEvent),
    /// An out-of-memory error.
    OutOfMemory(OutOfMemoryEvent),
}

/// Events of one kind merged for delivery to a user hook.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Accumulated<E> {
    /// How many events were merged (0: nothing to deliver).
    pub count: u64,
    /// Sum of their durations.
    pub total_duration: Duration,
    /// Shortest duration.
    pub min_duration: Duration,
    /// Longest duration.
    pub max_duration: Duration,
    /// The last event; its other fields are the merged event's.
    pub last: E,
}

/// What every event kind has for merging.
pub trait HasDuration {
    /// The event's duration (zero when it has none).
    fn duration(&self) -> Duration;
}

impl HasDuration for MinorEvent {
    fn duration(&self) -> Duration {
        self.duration
    }
}
impl HasDuration for MajorStepEvent {
    fn duration(&self) -> Duration {
        self.duration
    }
}
impl HasDuration for MajorEvent {
    fn duration(&self) -> Duration {
        self.duration
    }
}
impl HasDuration for PinRefusedEvent {
    fn duration(&self) -> Duration {
        Duration::ZERO
    }
}
impl HasDuration for OutOfMemoryEvent {
    fn duration(&self) -> Duration {
        Duration::ZERO
    }
}

impl<E: HasDuration + Copy> Accumulated<E> {
    /// Merges one more event.
    pub fn add(&mut self, event: E) {
        let d = event.duration();
        if self.count == 0 {
            self.min_duration = d;
            self.max_duration = d;
        } else {
            self.min_duration = self.min_duration.min(d);
            self.max_duration = self.max_duration.max(d);
        }
        self.count += 1;
        self.total_duration += d;
        self.last = event;
    }

    /// Whether anything was merged.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Everything waiting for delivery to the user hooks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pending {
    /// Minor collections.
    pub minor: Accumulated<MinorEvent>,
    /// Major-collection steps.
    pub major_step: Accumulated<MajorStepEvent>,
    /// Completed major collections.
    pub major: Accumulated<MajorEvent>,
    /// Refused pins.
    pub pin_refused: Accumulated<PinRefusedEvent>,
    /// Out-of-memory errors.
    pub out_of_memory: Accumulated<OutOfMemoryEvent>,
}

impl Pending {
    /// Merges an event.
    pub fn add(&mut self, event: Event) {
        match event {
            Event::Minor(e) => self.minor.add(e),
            Event::MajorStep(e) => self.major_step.add(e),
            Event::Major(e) => self.major.add(e),
            Event::PinRefused(e) => self.pin_refused.add(e),
            Event::OutOfMemory(e) => self.out_of_memory.add(e),
        }
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.minor.is_empty()
            && self.major_step.is_empty()
            && self.major.is_empty()
            && self.pin_refused.is_empty()
            && self.out_of_memory.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_sums_counts_and_durations_and_keeps_the_last_event() {
        let mut acc = Accumulated::default();
        for (n, ms) in [(1, 5), (2, 1), (3, 9)] {
            acc.add(MinorEvent {
                number: n,
                duration: Duration::from_millis(ms),
                ..MinorEvent::default()
            });
        }
        assert_eq!(acc.count, 3);
        assert_eq!(acc.total_duration, Duration::from_millis(15));
        assert_eq!(acc.min_duration, Duration::from_millis(1));
        assert_eq!(acc.max_duration, Duration::from_millis(9));
        assert_eq!(acc.last.number, 3);
    }
}
