//! User hooks and built-in sinks: events with correct figures, hooks that use the heap,
//! out-of-memory, statistics read from another thread, the event log, and the PyPy issue 4899
//! regression. When events arrive (accumulation, removal, panics): `hook_delivery.rs`.

use gc_core::{Config, GcError, GcHooks, Heap, Member, Pinned, Scope, Trace};
use gc_hooks::{
    Accumulated, MajorEvent, MajorState, MajorStepEvent, MinorEvent, OutOfMemoryEvent, PinRefusal,
};

#[path = "common/recording.rs"]
mod recording;

use recording::{verified, Node, Recording};

#[test]
fn a_minor_collection_event_has_the_right_figures() {
    let rec = Recording::default();
    let mut heap = verified(Config::default().with_nursery_size(64 * 1024));
    heap.set_hooks(rec.clone());
    heap.scope(|s| {
        let keep = s
            .alloc(Node {
                value: 1,
                next: Member::null(),
            })
            .unwrap(); // 24 bytes
        let buf = s.alloc_bytes(&[0; 100]).unwrap();
        let _pin = s.pin(buf).unwrap();
        for _ in 0..100 {
            s.alloc(Node {
                value: 0,
                next: Member::null(),
            })
            .unwrap();
        }
        s.collect_minor();
        let seen = rec.seen();
        assert_eq!(seen.minor.len(), 1);
        let m = seen.minor[0];
        assert_eq!(m.count, 1);
        assert_eq!(m.last.number, 1);
        assert_eq!(
            m.last.promoted_bytes,
            101 * 24,
            "keep plus the 100 nodes still rooted by handles"
        );
        assert_eq!(
            m.last.surviving_bytes,
            m.last.promoted_bytes + 120,
            "plus the pinned 120-byte buffer"
        );
        assert_eq!(m.last.pinned_objects, 1);
        assert!(m.last.memory_before > m.last.memory_after);
        assert_eq!(m.total_duration, m.last.duration);
        assert_eq!(s.stats().bytes_promoted, m.last.promoted_bytes);
        let _ = keep;
    });
}

#[test]
fn a_major_collection_reports_a_step_and_its_figures() {
    let rec = Recording::default();
    let mut heap = verified(Config::default().with_nursery_size(64 * 1024));
    heap.set_hooks(rec.clone());
    heap.scope(|s| {
        s.scope(|s| {
            for _ in 0..1000 {
                s.alloc(Node {
                    value: 0,
                    next: Member::null(),
                })
                .unwrap();
            }
            s.alloc_bytes(&[0; 50_000]).unwrap();
            s.collect_minor(); // promote 1000 nodes and keep the large object
        });
        let keep = s
            .alloc(Node {
                value: 2,
                next: Member::null(),
            })
            .unwrap();
        s.collect_major();
        let seen = rec.seen();
        let step = seen.step.last().unwrap();
        assert_eq!(
            (
                step.count,
                step.last.old_state,
                step.last.new_state,
                step.last.done
            ),
            (1, MajorState::Idle, MajorState::Done, true)
        );
        let major = seen.major.last().unwrap().last;
        assert_eq!(major.number, 1);
        assert_eq!(major.arena_bytes_before, 1000 * 24);
        assert_eq!(
            major.arena_bytes_after, 24,
            "only `keep`, promoted by the opening minor collection"
        );
        assert_eq!(major.large_bytes_before, 53_248);
        assert_eq!(major.large_bytes_after, 0);
        assert_eq!(major.bytes_freed, 1000 * 24 + 53_248);
        assert_eq!((major.arenas_before, major.arenas_after), (1, 1));
        assert_eq!(s.stats().major_pause.last, major.duration);
        let _ = keep;
    });
}

#[test]
fn refused_pins_and_out_of_memory_are_events() {
    let rec = Recording::default();
    let mut heap = verified(
        Config::default()
            .with_nursery_size(64 * 1024)
            .with_max_pinned(1)
            // Room for the nursery's worst-case promotion (see `docs/tuning.md`, MAX).
            .with_max_heap(Some(4 << 20)),
    );
    heap.set_hooks(rec.clone());
    heap.scope(|s| {
        let a = s.alloc_bytes(b"a").unwrap();
        let b = s.alloc_bytes(b"b").unwrap();
        let _p = s.pin(a).unwrap();
        assert!(s.pin(b).is_err());
        let refused = rec.seen().refused;
        assert_eq!(refused.len(), 1, "delivered before the error returned");
        assert_eq!(
            (
                refused[0].last.reason,
                refused[0].last.limit,
                refused[0].last.pinned_objects
            ),
            (PinRefusal::Limit, 1, 1)
        );
        let err = s.alloc_bytes(&[0; 5 << 20]).unwrap_err();
        assert!(matches!(err, GcError::OutOfMemory { .. }));
        let oom = rec.seen().oom;
        assert_eq!(oom.len(), 1);
        assert!(oom[0].last.requested > 5 << 20);
        assert_eq!(oom[0].last.limit, 4 << 20);
    });
}

/// A hook that uses the heap: allocates, stores an old-to-young reference into an object it
/// keeps pinned, pins, and forces a major collection every `major_every` minors.
struct Busy {
    anchor: Option<Pinned>,
    minors: u64,
    major_every: u64,
}

impl GcHooks for Busy {
    fn on_minor(&mut self, s: &mut Scope<'_>, m: &Accumulated<MinorEvent>) {
        self.minors += m.count;
        // Allocate (a list the anchor keeps alive) ...
        let young = s
            .alloc(Node {
                value: self.minors,
                next: Member::null(),
            })
            .unwrap();
        let garbage = s.alloc_bytes(&[1; 300]).unwrap();
        // ... pin and unpin ...
        if let Ok(p) = s.pin(garbage) {
            s.unpin(p).unwrap();
        }
        // ... store old-to-young through the barrier ...
        match &self.anchor {
            None => {
                let anchor = s
                    .alloc_nonmoving(Node {
                        value: 0,
                        next: Member::null(),
                    })
                    .unwrap();
                self.anchor = Some(s.pin(anchor).unwrap());
                s.set(anchor, |a| &a.next, Some(young));
            }
            Some(pin) => {
                // SAFETY: the pin keeps the anchor (a Node) alive and in place.
                let anchor = unsafe { s.from_raw::<Node>(pin.object()) };
                s.set(young, |y| &y.next, s.load(anchor, |a| &a.next));
                s.set(anchor, |a| &a.next, Some(young));
            }
        }
        // ... and collect.
        if self.minors.is_multiple_of(self.major_every) {
            s.collect_major();
        }
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "20,000 allocations with the verifier after every collection"
)]
fn hooks_may_allocate_store_references_pin_and_collect() {
    let mut heap = verified(Config::default().with_nursery_size(16 * 1024));
    heap.set_hooks(Busy {
        anchor: None,
        minors: 0,
        major_every: 3,
    });
    heap.scope(|s| {
        for i in 0..20_000u64 {
            s.scope(|s| {
                s.alloc(Node {
                    value: i,
                    next: Member::null(),
                })
                .unwrap();
            });
        }
        assert!(s.verify().is_ok());
    });
    let stats = heap.stats();
    assert!(stats.major_collections >= 5, "{}", stats.major_collections);
    let hooks = heap.remove_hooks().unwrap();
    let busy = (hooks as Box<dyn std::any::Any>)
        .downcast::<Busy>()
        .unwrap();
    let anchor = busy.anchor.unwrap();
    // The list the hook built through the barrier is intact: values strictly decreasing.
    heap.scope(|s| {
        // SAFETY: the pin keeps the anchor alive and in place.
        let a = unsafe { s.from_raw::<Node>(anchor.object()) };
        let mut cur = s.deref(&s.get(a).next);
        let mut len = 0;
        let mut last = u64::MAX;
        while let Some(n) = cur {
            assert!(n.value < last);
            last = n.value;
            len += 1;
            cur = s.deref(&n.next);
        }
        assert!(len as u64 >= busy.minors - 5, "{len} of {}", busy.minors);
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "60,000 allocations with the verifier after every collection"
)]
fn no_op_hooks_survive_heavy_string_churn_pypy_issue_4899() {
    // PyPy issue 4899: installing no-op hooks crashed the collector, because delivering a hook
    // wrote a pointer inside the collector and broke a remembered-set invariant. Recreate the
    // sequence: no-op hooks installed, heavy string churn with old objects pointing to young
    // strings, minor and major collections interleaved, the verifier after every collection.
    #[derive(Trace)]
    struct Table {
        slots: Member<gc_core::GcArray<gc_core::GcBytes>>,
    }
    struct NoOp;
    impl GcHooks for NoOp {
        fn on_minor(&mut self, _: &mut Scope<'_>, _: &Accumulated<MinorEvent>) {}
        fn on_major_step(&mut self, _: &mut Scope<'_>, _: &Accumulated<MajorStepEvent>) {}
        fn on_major(&mut self, _: &mut Scope<'_>, _: &Accumulated<MajorEvent>) {}
    }
    let mut heap = verified(
        Config::default()
            .with_nursery_size(32 * 1024)
            .with_min_major(256 * 1024),
    );
    heap.set_hooks(NoOp);
    heap.scope(|s| {
        let table = s
            .alloc(Table {
                slots: Member::null(),
            })
            .unwrap();
        let slots = s.alloc_array(64).unwrap();
        s.set(table, |t| &t.slots, Some(slots));
        s.collect_minor(); // the table and its array are old now
        for i in 0..60_000usize {
            s.scope(|s| {
                let text = format!("string number {i} {}", "x".repeat(i % 97));
                let str_h = s.alloc_bytes(text.as_bytes()).unwrap();
                s.array_set(slots, i % 64, Some(str_h)); // old -> young, through the barrier
            });
            if i % 5_000 == 4_999 {
                s.collect_major();
            }
        }
        for (i, m) in s.array(slots).iter().enumerate() {
            let bytes = s.deref_bytes(m).unwrap();
            let expect = (0..60_000).rev().find(|k| k % 64 == i).unwrap();
            assert!(bytes.starts_with(format!("string number {expect} ").as_bytes()));
        }
    });
    let stats = heap.stats();
    assert!(
        stats.minor_collections > 50 && stats.major_collections >= 12,
        "{stats:?}"
    );
}

/// Holds pins on cache buffers and lets them go when memory runs out.
struct ReleaseCacheOnOom {
    cache: Vec<Pinned>,
}

impl GcHooks for ReleaseCacheOnOom {
    fn on_out_of_memory(&mut self, _: &mut Scope<'_>, _: &Accumulated<OutOfMemoryEvent>) {
        self.cache.clear();
    }
}

#[test]
fn an_out_of_memory_hook_can_free_memory_for_a_retry() {
    let mut heap = verified(
        Config::default()
            .with_nursery_size(64 * 1024)
            .with_max_heap(Some(4 << 20)),
    );
    let cache = heap.scope(|s| {
        (0..3)
            .map(|_| {
                let b = s.alloc_bytes_nonmoving(&[0; 1 << 20]).unwrap();
                s.pin(b).unwrap()
            })
            .collect::<Vec<_>>()
    });
    heap.set_hooks(ReleaseCacheOnOom { cache });
    heap.scope(|s| {
        let first = s.alloc_bytes(&[1; 2 << 20]);
        assert!(matches!(first, Err(GcError::OutOfMemory { .. })));
        // The hook released the cache before the error returned: a retry succeeds.
        let retry = s.alloc_bytes(&[1; 2 << 20]).unwrap();
        assert_eq!(s.bytes(retry).len(), 2 << 20);
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "50,000 allocations; the sequence lock itself is model-checked with loom"
)]
fn another_thread_reads_the_statistics_without_locks() {
    let mut heap = verified(Config::default().with_nursery_size(16 * 1024));
    let reader = heap.stats_reader();
    let watcher = std::thread::spawn(move || {
        let mut last = 0;
        for _ in 0..10_000 {
            let s = reader.read();
            assert!(s.minor_collections >= last, "never goes back");
            last = s.minor_collections;
        }
        last
    });
    heap.scope(|s| {
        for i in 0..50_000u64 {
            s.scope(|s| {
                s.alloc(i).unwrap();
            });
        }
    });
    watcher.join().unwrap();
    let snap = heap.stats_reader().read();
    let stats = heap.stats();
    assert_eq!(snap.minor_collections, stats.minor_collections);
    assert_eq!(snap.bytes_promoted, stats.bytes_promoted);
    assert_eq!(
        stats.pauses.count,
        stats.minor_collections + stats.major_collections
    );
    assert!(stats.pauses.p50 <= stats.pauses.p99 && stats.pauses.p99 <= stats.pauses.max);
}

#[test]
#[cfg_attr(miri, ignore = "Miri's isolation forbids file access")]
fn the_event_log_gets_one_json_line_per_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let config = Config::default()
        .with_nursery_size(16 * 1024)
        .with_log(Some(path.clone()));
    let mut a = Heap::new(config.clone()).unwrap();
    let mut b = Heap::new(config).unwrap(); // a second heap shares the file
    for heap in [&mut a, &mut b] {
        heap.scope(|s| {
            for i in 0..5_000u64 {
                s.scope(|s| {
                    s.alloc(i).unwrap();
                });
            }
        });
        heap.collect_major();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let count = |heap: u32, kind: &str| {
        lines
            .iter()
            .filter(|v| v["heap"] == heap && v["event"] == kind)
            .count() as u64
    };
    for heap in [&a, &b] {
        let st = heap.stats();
        assert_eq!(count(heap.id(), "minor"), st.minor_collections);
        assert_eq!(count(heap.id(), "major"), st.major_collections);
        assert_eq!(count(heap.id(), "major-step"), st.major_collections);
    }
    assert!(lines
        .iter()
        .all(|v| v["heap"].is_u64() && v["event"].is_string()));
}

#[test]
#[cfg_attr(miri, ignore = "Miri's isolation forbids file access")]
fn a_log_path_that_cannot_be_opened_is_a_configuration_error() {
    let config = Config::default().with_log(Some("/nonexistent-dir/x.jsonl".into()));
    assert!(matches!(Heap::new(config), Err(GcError::InvalidConfig(m)) if m.contains("LOG")));
}
