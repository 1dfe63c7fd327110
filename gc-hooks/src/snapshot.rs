//! A statistics snapshot that other threads read while the heap's thread works.
//!
//! A metrics exporter on another thread must not take a lock the collector needs, so the
//! heap publishes its counters through a *sequence lock* built from atomics: the writer (the
//! heap's thread, after each collection) makes the sequence odd, stores every field, and makes
//! it even again; a reader reads the sequence, the fields, and the sequence again, and retries
//! if it changed or was odd. The writer never waits; a reader retries at most while a publish
//! is under way. Every field is an atomic, so there is no data race to reason about, only
//! ordering, which the loom models in `tests/loom.rs` check (`--cfg loom`).
//!
//! Invariants: the sequence is odd exactly while a publish is under way; a snapshot returned
//! by [`StatsReader::read`] holds the fields of one publish, never a mix of two.

use crate::sync::{fence, relax, Arc, AtomicU64, Ordering};

/// The counters another thread can read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Minor collections so far.
    pub minor_collections: u64,
    /// Major collections so far.
    pub major_collections: u64,
    /// Bytes allocated so far (as of the last collection).
    pub bytes_allocated: u64,
    /// Bytes promoted so far.
    pub bytes_promoted: u64,
    /// Live bytes after the last major collection.
    pub live_bytes_after_major: u64,
    /// Old-generation slot bytes in use.
    pub old_bytes: u64,
    /// Large-object bytes.
    pub large_object_bytes: u64,
    /// Memory committed from the OS.
    pub committed_bytes: u64,
    /// Objects pinned now.
    pub pinned_objects: u64,
    /// Sum of all pauses, in nanoseconds.
    pub total_pause_ns: u64,
    /// Longest pause, in nanoseconds.
    pub max_pause_ns: u64,
}

const FIELDS: usize = 11;

impl StatsSnapshot {
    fn to_array(self) -> [u64; FIELDS] {
        [
            self.minor_collections,
            self.major_collections,
            self.bytes_allocated,
            self.bytes_promoted,
            self.live_bytes_after_major,
            self.old_bytes,
            self.large_object_bytes,
            self.committed_bytes,
            self.pinned_objects,
            self.total_pause_ns,
            self.max_pause_ns,
        ]
    }

    fn from_array(a: [u64; FIELDS]) -> StatsSnapshot {
        StatsSnapshot {
            minor_collections: a[0],
            major_collections: a[1],
            bytes_allocated: a[2],
            bytes_promoted: a[3],
            live_bytes_after_major: a[4],
            old_bytes: a[5],
            large_object_bytes: a[6],
            committed_bytes: a[7],
            pinned_objects: a[8],
            total_pause_ns: a[9],
            max_pause_ns: a[10],
        }
    }
}

/// A sequence lock over `N` words: one writer, any number of readers, no waiting for the
/// writer. The heap's statistics use it with 11 words; the loom models check the same code
/// with 2, which keeps the model checker's search finite.
#[derive(Debug)]
pub struct SeqLock<const N: usize> {
    seq: AtomicU64,
    fields: [AtomicU64; N],
}

impl<const N: usize> Default for SeqLock<N> {
    fn default() -> Self {
        SeqLock {
            seq: AtomicU64::new(0),
            fields: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl<const N: usize> SeqLock<N> {
    /// Stores `values` (never blocks). Only one thread may write.
    pub fn write(&self, values: [u64; N]) {
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        // Readers that see any field store below also see the odd sequence.
        fence(Ordering::Release);
        for (slot, value) in self.fields.iter().zip(values) {
            slot.store(value, Ordering::Relaxed);
        }
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// The values of the latest complete write.
    pub fn read(&self) -> [u64; N] {
        loop {
            let before = self.seq.load(Ordering::Acquire);
            if before % 2 == 1 {
                relax();
                continue;
            }
            let values: [u64; N] = std::array::from_fn(|i| self.fields[i].load(Ordering::Relaxed));
            // The field loads above happen before the second sequence load.
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == before {
                return values;
            }
            relax();
        }
    }
}

/// The writing side, owned by the heap.
#[derive(Debug, Default)]
pub struct StatsPublisher {
    lock: Arc<SeqLock<FIELDS>>,
}

/// The reading side: cheap to clone, `Send + Sync`, usable from any thread.
#[derive(Clone, Debug)]
pub struct StatsReader {
    lock: Arc<SeqLock<FIELDS>>,
}

impl StatsPublisher {
    /// Publishes a snapshot (never blocks). Only one thread may publish.
    pub fn publish(&self, snapshot: StatsSnapshot) {
        self.lock.write(snapshot.to_array());
    }

    /// A reader for other threads.
    pub fn reader(&self) -> StatsReader {
        StatsReader {
            lock: Arc::clone(&self.lock),
        }
    }
}

impl StatsReader {
    /// The latest complete snapshot.
    pub fn read(&self) -> StatsSnapshot {
        StatsSnapshot::from_array(self.lock.read())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_reader_sees_what_was_published() {
        let publisher = StatsPublisher::default();
        let reader = publisher.reader();
        assert_eq!(reader.read(), StatsSnapshot::default());
        let snap = StatsSnapshot {
            minor_collections: 3,
            max_pause_ns: 7,
            ..StatsSnapshot::default()
        };
        publisher.publish(snap);
        assert_eq!(reader.read(), snap);
    }

    #[test]
    fn readers_on_other_threads_never_see_a_torn_snapshot() {
        let publisher = StatsPublisher::default();
        let reader = publisher.reader();
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let reads = std::sync::Arc::new(AtomicU64::new(0));
        let (stop2, reads2) = (stop.clone(), reads.clone());
        let t = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                let s = reader.read().to_array();
                assert!(s.iter().all(|&v| v == s[0]), "torn snapshot: {s:?}");
                reads2.fetch_add(1, Ordering::Relaxed);
            }
        });
        // Publishes until the reader has overlapped many of them: on a loaded machine the
        // reader may not even start before a fixed number of publishes is over.
        let mut k = 0u64;
        while k < 200_000 || reads.load(Ordering::Relaxed) < 10_000 {
            publisher.publish(StatsSnapshot::from_array([k; FIELDS]));
            k += 1;
        }
        stop.store(true, Ordering::Relaxed);
        t.join().unwrap();
        assert!(reads.load(Ordering::Relaxed) >= 10_000);
    }
}
