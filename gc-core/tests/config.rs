//! Configuration: every PINION_GC_* variable, the runtime controls, and the heap limit.

use gc_core::{Config, GcError, Heap, Member, Scope, Trace, DEFAULT_NURSERY_SIZE, VARIABLES};

const P: &str = "PINION_GC_";

fn read(vars: &[(&str, &str)]) -> Result<Config, gc_core::ConfigError> {
    Config::from_vars(
        P,
        vars.iter().map(|(k, v)| (format!("{P}{k}"), v.to_string())),
    )
}

fn problems(vars: &[(&str, &str)]) -> Vec<String> {
    read(vars)
        .unwrap_err()
        .problems
        .into_iter()
        .map(|p| p.to_string())
        .collect()
}

#[test]
fn defaults_when_nothing_is_set() {
    let c = read(&[]).unwrap();
    assert_eq!(c, Config::default());
    assert_eq!(c.nursery_size(), DEFAULT_NURSERY_SIZE);
    assert!(!c.nursery_debug());
    assert_eq!(c.major_collect(), 1.82);
    assert_eq!(c.growth(), 1.4);
    assert_eq!(c.min_major(), 8 * DEFAULT_NURSERY_SIZE);
    assert_eq!(c.max_heap(), None);
    assert!(c.max_delta() > 0, "1/8 of physical memory");
    assert_eq!(
        c.max_pinned(),
        DEFAULT_NURSERY_SIZE / (2 * gc_core::LARGE_OBJECT_THRESHOLD)
    );
    assert_eq!(c.debug_level(), 0);
    assert_eq!(c.stress(), None);
    assert!(!c.trace());
    assert_eq!(c.log(), None);
}

#[test]
fn every_variable_accepts_its_syntax() {
    let c = read(&[
        ("NURSERY", "1.5MB"),
        ("NURSERY_DEBUG", "1"),
        ("MAJOR_COLLECT", "2.5"),
        ("GROWTH", "1.1"),
        ("MIN", "64M"),
        ("MAX", "2G"),
        ("MAX_DELTA", "512KB"),
        ("MAX_PINNED", "0"),
        ("DEBUG", "2"),
        ("STRESS", "100"),
        ("TRACE", "1"),
        ("LOG", "/tmp/pinion.jsonl"),
    ])
    .unwrap();
    assert_eq!(c.nursery_size(), 1536 * 1024);
    assert!(c.nursery_debug());
    assert_eq!(c.major_collect(), 2.5);
    assert_eq!(c.growth(), 1.1);
    assert_eq!(c.min_major(), 64 << 20);
    assert_eq!(c.max_heap(), Some(2 << 30));
    assert_eq!(c.max_delta(), 512 << 10);
    assert_eq!(c.max_pinned(), 0);
    assert_eq!(c.debug_level(), 2);
    assert_eq!(c.stress(), Some(100));
    assert!(c.trace());
    assert_eq!(c.log(), Some(std::path::Path::new("/tmp/pinion.jsonl")));
    // Other spellings of sizes and the special values.
    assert_eq!(read(&[("NURSERY", "4M")]).unwrap().nursery_size(), 4 << 20);
    assert_eq!(read(&[("NURSERY", "1234B")]).unwrap().nursery_size(), 1234);
    assert_eq!(read(&[("NURSERY", "65536")]).unwrap().nursery_size(), 65536);
    assert_eq!(
        read(&[("NURSERY", "auto")]).unwrap().nursery_size(),
        gc_core::auto_nursery_size()
    );
    assert!(gc_core::auto_nursery_size() >= DEFAULT_NURSERY_SIZE);
    assert_eq!(
        read(&[("MAJOR_COLLECT", "0")]).unwrap().major_collect(),
        0.0
    );
    assert_eq!(
        read(&[("MAX", "0")]).unwrap().max_heap(),
        None,
        "0 means no limit"
    );
    assert_eq!(
        read(&[("STRESS", "0")]).unwrap().stress(),
        None,
        "0 means off"
    );
    // A nursery below the minimum is allowed: "collect almost every allocation".
    assert_eq!(read(&[("NURSERY", "1K")]).unwrap().nursery_size(), 1024);
    // MIN no longer follows the nursery; MAX_PINNED's default does, whatever the order.
    let c = read(&[("MAX_PINNED", "3"), ("NURSERY", "1M")]).unwrap();
    assert_eq!(c.min_major(), gc_core::DEFAULT_MIN_MAJOR);
    assert_eq!(read(&[("NURSERY", "128M")]).unwrap().min_major(), 32 << 20);
    assert_eq!(c.max_pinned(), 3);
    assert_eq!(read(&[("NURSERY", "1M")]).unwrap().max_pinned(), 64);
    // The adaptive nursery's knobs.
    let c = read(&[
        ("NURSERY_MIN", "1M"),
        ("NURSERY_MAX", "32MB"),
        ("MINOR_PAUSE", "500us"),
        ("RELEASE_AFTER", "2.5s"),
    ])
    .unwrap();
    assert!(c.nursery_adaptive());
    assert_eq!((c.nursery_min(), c.nursery_max()), (1 << 20, 32 << 20));
    assert_eq!(c.minor_pause(), std::time::Duration::from_micros(500));
    assert_eq!(c.release_after(), std::time::Duration::from_millis(2500));
    assert_eq!(
        c.nursery_size(),
        DEFAULT_NURSERY_SIZE,
        "starts at 4 MB, within the bounds"
    );
    let c = read(&[("NURSERY_MIN", "8M")]).unwrap();
    assert_eq!(
        c.nursery_size(),
        8 << 20,
        "the initial size is clamped into the bounds"
    );
    for (text, ms) in [
        ("2ms", 2.0),
        ("0.5ms", 0.5),
        ("0.002s", 2.0),
        ("1500us", 1.5),
        ("0", 0.0),
    ] {
        let c = read(&[("MINOR_PAUSE", text)]).unwrap();
        assert_eq!(c.minor_pause().as_secs_f64() * 1e3, ms, "{text}");
    }
    assert!(!read(&[("NURSERY", "1M")]).unwrap().nursery_adaptive());
}

#[test]
fn bad_values_name_the_variable_the_value_and_the_syntax() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "NURSERY",
            "lots",
            "a size from 256 bytes to 1 TiB such as 4MB",
        ),
        (
            "NURSERY",
            "4T",
            "a size from 256 bytes to 1 TiB such as 4MB",
        ),
        (
            "NURSERY",
            "-1M",
            "a size from 256 bytes to 1 TiB such as 4MB",
        ),
        (
            "NURSERY",
            "0",
            "outside the accepted range, 256 bytes to 1 TiB",
        ),
        ("NURSERY", "255", "outside the accepted range"),
        ("NURSERY", "9999999999G", "outside the accepted range"),
        ("NURSERY", "2048G", "outside the accepted range"),
        ("NURSERY_DEBUG", "yes", "0 or 1"),
        ("MAJOR_COLLECT", "0.5", "0 (threshold-zero"),
        ("MAJOR_COLLECT", "1", "0 (threshold-zero"),
        ("MAJOR_COLLECT", "fast", "0 (threshold-zero"),
        ("GROWTH", "1.0", "a decimal factor above 1"),
        ("MIN", "1.2.3", "a size such as 4MB"),
        ("MAX", "big", "or 0 for no limit"),
        ("MAX_DELTA", "-5", "a size such as 4MB"),
        ("MAX_PINNED", "1.5", "a whole number of objects"),
        ("NURSERY_MIN", "small", "a size from 256 bytes to 1 TiB"),
        ("NURSERY_MAX", "2048G", "outside the accepted range"),
        ("NURSERY_MIN", "100", "outside the accepted range"),
        ("MINOR_PAUSE", "2", "a duration such as 2ms"),
        ("MINOR_PAUSE", "fast", "a duration such as 2ms"),
        ("RELEASE_AFTER", "3", "a duration such as 1s"),
        ("DEBUG", "4", "0, 1, 2 or 3"),
        ("STRESS", "often", "a whole number N"),
        ("TRACE", "2", "0 or 1"),
        ("LOG", "", "a file path"),
    ];
    for &(var, value, expected) in cases {
        let p = problems(&[(var, value)]);
        assert_eq!(p.len(), 1, "{var}={value}: {p:?}");
        assert!(
            p[0].starts_with(&format!("{P}{var}=\"{value}\": expected ")),
            "{}",
            p[0]
        );
        assert!(p[0].contains(expected), "{var}={value}: {}", p[0]);
    }
}

#[test]
fn contradictory_nursery_settings_are_refused() {
    let p = problems(&[("NURSERY", "4M"), ("NURSERY_MAX", "64M")]);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].contains("set one or the other"), "{}", p[0]);
    let p = problems(&[("NURSERY_MIN", "8M"), ("NURSERY_MAX", "4M")]);
    assert!(p[0].contains("above NURSERY_MAX"), "{}", p[0]);
    // Under a heap limit the adaptive nursery shrinks down to its lower bound, no further.
    let p = problems(&[("MAX", "256K")]);
    assert!(p[0].contains("NURSERY_MIN"), "{}", p[0]);
    assert!(read(&[("MAX", "2M")]).is_ok());
}

#[test]
fn all_problems_are_reported_at_once_and_unknown_variables_are_errors() {
    let err = read(&[
        ("NURSERY", "x"),
        ("GROWTH", "0"),
        ("NURSRY", "4M"),
        ("MAJOR_COLLECT", "1.82"),
    ])
    .unwrap_err();
    let vars: Vec<&str> = err.problems.iter().map(|p| p.variable.as_str()).collect();
    assert_eq!(
        vars,
        ["PINION_GC_GROWTH", "PINION_GC_NURSERY", "PINION_GC_NURSRY"]
    );
    let text = err.to_string();
    assert!(
        text.contains("PINION_GC_NURSRY=\"4M\": expected a known variable"),
        "{text}"
    );
    assert!(text.contains("known suffixes: NURSERY"), "{text}");
    // Every documented variable is known.
    for (suffix, _) in VARIABLES {
        let err = read(&[(suffix, "")]).unwrap_err();
        assert!(!err.problems[0].expected.contains("unknown"), "{suffix}");
    }
}

#[test]
fn combinations_are_checked() {
    let p = problems(&[("NURSERY", "4M"), ("MAX", "2M")]);
    assert_eq!(p.len(), 1);
    assert!(p[0].starts_with("PINION_GC_MAX=\"2M\""), "{}", p[0]);
    assert!(
        p[0].contains("must be larger than the nursery (NURSERY, 4194304 bytes)"),
        "{}",
        p[0]
    );
    assert!(matches!(
        Heap::new(Config::default().with_max_heap(Some(1024))),
        Err(GcError::InvalidConfig(_))
    ));
    assert!(matches!(
        Heap::new(Config::default().with_growth(0.9)),
        Err(GcError::InvalidConfig(_))
    ));
}

#[test]
fn a_huge_nursery_is_refused_without_overflowing_derived_settings() {
    // Issue 14: `NURSERY=9999999999G` overflowed `8 × NURSERY` (the default MIN).
    let huge = Config::default().with_nursery_size(usize::MAX);
    assert_eq!(
        huge.min_major(),
        gc_core::DEFAULT_MIN_MAJOR,
        "MIN is not derived from NURSERY"
    );
    assert!(huge.validate().is_err());
    assert!(matches!(
        Heap::new(Config::default().with_nursery_size(0)),
        Err(GcError::InvalidConfig(_))
    ));
    let err = read(&[("NURSERY", "9999999999G")]).unwrap_err().to_string();
    assert!(err.contains("PINION_GC_NURSERY=\"9999999999G\""), "{err}");
}

#[test]
fn the_prefix_is_the_embedders_choice() {
    let vars = [
        ("MYLANG_GC_NURSERY", "2M"),
        ("PINION_GC_NURSERY", "garbage"),
        ("PYPY_GC_NURSERY", "8M"),
    ];
    assert_eq!(
        Config::from_vars("MYLANG_GC_", vars)
            .unwrap()
            .nursery_size(),
        2 << 20
    );
    assert_eq!(
        Config::from_vars("PYPY_GC_", vars).unwrap().nursery_size(),
        8 << 20
    );
    assert!(Config::from_vars("PINION_GC_", vars).is_err());
    // Unknown variables are only those with the chosen prefix.
    assert!(Config::from_vars("MYLANG_GC_", [("MYLANG_GCX", "1"), ("OTHER_GC_FOO", "1")]).is_ok());
}

// ----- runtime controls -------------------------------------------------------------------

#[derive(Trace)]
struct Cell {
    next: Member<Cell>,
    pad: [u64; 4],
}

/// Promotes garbage: builds lists larger than the nursery (so the minor collections that
/// fill-ups trigger promote them), then drops them.
fn churn(s: &mut Scope<'_>, rounds: usize) {
    for _ in 0..rounds {
        s.scope(|s| {
            let head = s
                .alloc(Cell {
                    next: Member::null(),
                    pad: [0; 4],
                })
                .unwrap();
            for _ in 0..2_000 {
                let c = s
                    .alloc(Cell {
                        next: Member::null(),
                        pad: [1; 4],
                    })
                    .unwrap();
                s.set(c, |c| &c.next, s.load(head, |h| &h.next));
                s.set(head, |h| &h.next, Some(c));
            }
        });
    }
}

fn small_config() -> Config {
    Config::default()
        .with_nursery_size(64 * 1024)
        .with_min_major(256 * 1024)
}

#[test]
#[cfg_attr(
    miri,
    ignore = "hundreds of thousands of allocations: see docs/design.md"
)]
fn automatic_major_collections_run_by_default() {
    let mut heap = Heap::new(small_config()).unwrap();
    heap.scope(|s| churn(s, 100));
    assert!(heap.stats().major_collections > 0);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "hundreds of thousands of allocations: see docs/design.md"
)]
fn disable_stops_automatic_major_collections_while_minor_ones_continue() {
    let mut heap = Heap::new(small_config()).unwrap();
    heap.disable();
    assert!(heap.is_disabled() && !heap.automatic_major_collections());
    heap.scope(|s| churn(s, 100));
    let stats = heap.stats();
    assert_eq!(stats.major_collections, 0);
    assert!(
        stats.minor_collections >= 100,
        "{}",
        stats.minor_collections
    );
    assert!(
        stats.old_bytes > 1 << 20,
        "garbage piles up: {}",
        stats.old_bytes
    );
    heap.collect_major();
    assert_eq!(
        heap.stats().major_collections,
        1,
        "collect_major works while disabled"
    );
    assert_eq!(heap.stats().old_bytes, 0);
    heap.enable();
    heap.scope(|s| churn(s, 100));
    assert!(heap.stats().major_collections > 1);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "hundreds of thousands of allocations: see docs/design.md"
)]
fn threshold_zero_survives_enable() {
    let config = Config::from_vars(P, [(format!("{P}MAJOR_COLLECT"), "0")]).unwrap();
    let mut heap = Heap::new(
        config
            .with_nursery_size(64 * 1024)
            .with_min_major(256 * 1024),
    )
    .unwrap();
    heap.enable(); // what a library might call
    heap.scope(|s| churn(s, 100));
    assert_eq!(heap.stats().major_collections, 0);
    heap.collect_major();
    assert_eq!(
        heap.stats().major_collections,
        1,
        "collect_major works under threshold-zero"
    );
    // The runtime setter turns it on and off again.
    heap.set_major_collect(1.82).unwrap();
    heap.scope(|s| churn(s, 100));
    assert!(heap.stats().major_collections > 1);
    heap.set_major_collect(0.0).unwrap();
    heap.disable();
    heap.enable();
    let before = heap.stats().major_collections;
    heap.scope(|s| churn(s, 100));
    assert_eq!(heap.stats().major_collections, before);
}

// ----- the heap limit ---------------------------------------------------------------------

fn fill_until_oom(heap: &mut Heap) -> GcError {
    heap.scope(|s| {
        let keep = s
            .alloc(Cell {
                next: Member::null(),
                pad: [0; 4],
            })
            .unwrap();
        for i in 0.. {
            let result = if i % 50 == 49 {
                s.alloc_bytes(&[7; 20_000]).map(|_| ())
            } else {
                s.alloc(Cell {
                    next: Member::null(),
                    pad: [2; 4],
                })
                .map(|c| {
                    s.set(c, |c| &c.next, s.load(keep, |k| &k.next));
                    s.set(keep, |k| &k.next, Some(c));
                })
            };
            let st = s.stats();
            let footprint = 64 * 1024 + st.old_bytes + st.large_object_bytes;
            assert!(
                footprint <= 8 << 20,
                "the footprint stays within MAX: {footprint}"
            );
            if let Err(e) = result {
                return e;
            }
        }
        unreachable!()
    })
}

#[test]
#[cfg_attr(
    miri,
    ignore = "hundreds of thousands of allocations: see docs/design.md"
)]
fn the_heap_limit_returns_out_of_memory_and_the_heap_keeps_working() {
    for disabled in [false, true] {
        let config = Config::default()
            .with_nursery_size(64 * 1024)
            .with_max_heap(Some(8 << 20))
            .with_debug_level(1);
        let mut heap = Heap::new(config).unwrap();
        if disabled {
            heap.disable();
        }
        let err = fill_until_oom(&mut heap);
        match err {
            GcError::OutOfMemory {
                requested,
                in_use,
                limit,
                ..
            } => {
                assert!(requested > 0);
                assert_eq!(limit, Some(8 << 20));
                assert!(in_use <= 8 << 20 && in_use > 6 << 20, "{in_use}");
            }
            other => panic!("expected OutOfMemory, got {other:?}"),
        }
        assert!(err.to_string().contains("limit: 8388608 bytes"), "{err}");
        assert!(
            heap.stats().major_collections > 0,
            "a full collection ran before giving up"
        );
        // The scope ended: everything is garbage now, and allocation works again.
        heap.scope(|s| {
            for _ in 0..100_000 {
                s.scope(|s| {
                    s.alloc(Cell {
                        next: Member::null(),
                        pad: [3; 4],
                    })
                    .unwrap();
                });
            }
            s.alloc_bytes(&[1; 100_000]).unwrap();
        });
        assert!(heap.verify().is_ok());
    }
}
