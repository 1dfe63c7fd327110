//! The pacer's unit tests: long allocation patterns simulated on the state machine alone.

use super::*;

const MB: usize = 1 << 20;

/// Simulates a program whose old generation grows by `promoted` bytes per minor
/// collection, of which a `survival` fraction stays live at each major collection.
/// Returns the thresholds after each major collection.
fn simulate(p: &mut Pacer, minors: usize, promoted: usize, survival: f64) -> Vec<usize> {
    let mut old = 0usize;
    let mut live = 0usize;
    let mut thresholds = Vec::new();
    for _ in 0..minors {
        old += promoted;
        if p.major_due(old) {
            live = live + ((old - live) as f64 * survival) as usize;
            old = live;
            p.after_major(live);
            thresholds.push(p.threshold());
        }
    }
    thresholds
}

#[test]
fn nothing_happens_below_min() {
    let mut p = Pacer::new(1.82, 1.4, 32 * MB, usize::MAX, None);
    assert!(
        simulate(&mut p, 7, 4 * MB, 1.0).is_empty(),
        "28 MB stays under MIN"
    );
    assert!(p.major_due(33 * MB));
}

#[test]
fn thresholds_grow_by_at_most_the_growth_factor() {
    let mut p = Pacer::new(1.82, 1.4, 8 * MB, usize::MAX, None);
    let t = simulate(&mut p, 2_000, 4 * MB, 1.0); // everything survives: a growing heap
    assert!(t.len() > 5);
    let mut prev = 8 * MB;
    for &next in &t {
        assert!(next as f64 <= prev as f64 * 1.4 + 1.0, "{prev} -> {next}");
        assert!(next >= 8 * MB);
        prev = next;
    }
}

#[test]
fn threshold_follows_the_factor_when_the_heap_is_steady() {
    let mut p = Pacer::new(2.0, 1.4, MB, usize::MAX, None);
    // 10 MB live, steady: the threshold converges on 2 x live.
    for _ in 0..20 {
        p.after_major(10 * MB);
    }
    assert_eq!(p.threshold(), 20 * MB);
}

#[test]
fn max_delta_bounds_the_headroom_on_big_heaps() {
    let mut p = Pacer::new(1.82, 100.0, MB, 64 * MB, None);
    for _ in 0..10 {
        p.after_major(4096 * MB);
    }
    assert_eq!(p.threshold(), 4096 * MB + 64 * MB);
}

#[test]
fn the_heap_limit_caps_the_threshold() {
    let mut p = Pacer::new(1.82, 10.0, 100 * MB, usize::MAX, Some(50 * MB));
    assert_eq!(p.threshold(), 50 * MB);
    p.after_major(40 * MB);
    assert_eq!(p.threshold(), 50 * MB);
}

#[test]
fn threshold_zero_survives_enable_and_disable_does_not_stick() {
    let mut p = Pacer::new(0.0, 1.4, MB, usize::MAX, None);
    assert!(!p.major_due(usize::MAX));
    p.enable();
    assert!(
        !p.major_due(usize::MAX),
        "enable() does not undo threshold-zero"
    );
    p.set_factor(1.82).unwrap();
    assert!(p.major_due(2 * MB));
    p.disable();
    assert!(!p.major_due(usize::MAX));
    p.enable();
    assert!(p.major_due(2 * MB));
    assert!(p.set_factor(0.5).is_err());
    assert_eq!(p.factor(), 1.82);
}

/// A default pacer after enough full collections of `live` bytes for its threshold to
/// settle at `live × 1.82`.
fn steady_at(live: usize) -> Pacer {
    let mut p = Pacer::new(1.82, 1.4, MB, usize::MAX, None);
    for _ in 0..30 {
        p.after_major(live);
    }
    p
}

/// Runs full collections of `live` bytes until the next automatic one may be sticky again;
/// returns how many ran before the last (the backoff's length).
fn backoff(p: &mut Pacer, live: usize) -> u32 {
    let mut fulls = 0;
    loop {
        p.after_major(live);
        if p.next_major_sticky() {
            return fulls;
        }
        fulls += 1;
    }
}

#[test]
fn sticky_collections_never_move_the_threshold_and_give_way_to_full_ones() {
    let mut p = Pacer::new(1.82, 1.4, MB, usize::MAX, None);
    assert!(!p.next_major_sticky(), "never before the first full one");
    for _ in 0..30 {
        p.after_major(100 * MB);
    }
    assert_eq!(p.threshold(), 182 * MB);
    assert!(p.next_major_sticky());
    // Steady: 80 MB promoted, 10 MB of it live. The threshold stays.
    p.after_sticky(110 * MB, 80 * MB, 10 * MB);
    assert_eq!(p.threshold(), 182 * MB);
    assert!(
        p.next_major_sticky(),
        "10 MB kept is under half of 82 MB headroom"
    );
    // 40 MB more kept of 100 MB promoted (50 MB above the full one's 100): full next.
    p.after_sticky(150 * MB, 100 * MB, 40 * MB);
    assert!(!p.next_major_sticky());
    assert_eq!(p.threshold(), 182 * MB);
    p.after_major(100 * MB);
    assert!(
        p.next_major_sticky(),
        "a full collection allows sticky ones again"
    );
    // A growing heap: what was promoted stays. The threshold still does not follow.
    p.after_sticky(160 * MB, 70 * MB, 60 * MB);
    assert_eq!(p.threshold(), 182 * MB);
    assert!(!p.next_major_sticky());
}

#[test]
fn at_most_max_sticky_run_sticky_collections_come_in_a_row() {
    let mut p = steady_at(100 * MB);
    // Everything promoted dies young: only the run's cap brings a full collection, which
    // finds the kept objects that died (a dropped structure).
    let mut run = 0;
    while p.next_major_sticky() {
        run += 1;
        p.after_sticky(100 * MB, 80 * MB, 0);
    }
    assert_eq!(run, MAX_STICKY_RUN);
    p.after_major(40 * MB);
    assert!(p.next_major_sticky());
}

#[test]
fn a_sticky_collection_that_bought_little_among_useful_ones_does_not_back_off() {
    // Short-lived structures larger than the nursery (binary-trees' deep trees): what a sticky
    // collection finds live depends on how far the structure being built had come, so one
    // among useful ones may find much of its fresh objects live.
    let mut p = steady_at(100 * MB); // 100 MB live per 82 MB of headroom
    p.after_sticky(110 * MB, 80 * MB, 10 * MB);
    p.after_sticky(115 * MB, 80 * MB, 15 * MB);
    assert!(p.next_major_sticky());
    // Alone it marked 45 MB to free 25 (1.8 per byte, against the full one's 1.2)...
    p.after_sticky(135 * MB, 70 * MB, 45 * MB);
    assert!(
        p.next_major_sticky(),
        "judged with the two before, it is useful"
    );
    // ...but a second one like it in a row is a phase, not a moment: the backoff starts.
    p.after_sticky(140 * MB, 70 * MB, 60 * MB);
    assert!(!p.next_major_sticky());
    assert_eq!(backoff(&mut p, 100 * MB), 4);
    // Back from the backoff, a sticky collection is judged afresh: the record was dropped.
    p.after_sticky(135 * MB, 70 * MB, 45 * MB);
    assert!(!p.next_major_sticky());
}

#[test]
fn a_full_collection_that_ends_a_phase_drops_the_sticky_record() {
    let mut p = steady_at(100 * MB);
    // Two sticky collections that freed nearly everything they looked at...
    p.after_sticky(105 * MB, 80 * MB, 5 * MB);
    p.after_sticky(110 * MB, 80 * MB, 5 * MB);
    // ...then the heap halves: a new phase, whose sticky collections are judged on their own.
    p.after_major(40 * MB);
    assert!(p.next_major_sticky());
    // Alone it marked 15 MB to free 5 (3 per byte, against the full one's 1.2): useless, where
    // the record of the phase before would have called it useful.
    p.after_sticky(50 * MB, 20 * MB, 15 * MB);
    assert!(!p.next_major_sticky());
    assert_eq!(backoff(&mut p, 40 * MB), 4);
}

#[test]
fn sticky_collections_whose_fresh_objects_survive_back_off_exponentially() {
    let mut p = steady_at(20 * MB);
    // Splay-like: fresh nodes survive through dead kept ones; the full one frees them.
    let mut stickies = 0;
    for _ in 0..200 {
        if p.next_major_sticky() {
            stickies += 1;
            p.after_sticky(37 * MB, 17 * MB, 16 * MB);
        }
        p.after_major(20 * MB);
    }
    // Probes after 4, 8, 16, 32, 64 and 64 full collections.
    assert!((5..=7).contains(&stickies), "{stickies} sticky collections");
    // A useful one (most fresh objects died) resets the backoff.
    while !p.next_major_sticky() {
        p.after_major(20 * MB);
    }
    p.after_sticky(22 * MB, 17 * MB, 2 * MB);
    assert!(p.next_major_sticky());
    p.after_sticky(37 * MB, 15 * MB, 14 * MB);
    assert_eq!(backoff(&mut p, 20 * MB), 4, "the backoff starts again at 4");
}

#[test]
fn a_full_collection_that_finds_the_heap_halved_ends_the_backoff() {
    let mut p = Pacer::new(2.0, 100.0, MB, usize::MAX, None);
    // A structure being built: two useless sticky collections in a row (backoff 4, then 8).
    p.after_major(40 * MB);
    p.after_sticky(60 * MB, 20 * MB, 20 * MB);
    for _ in 0..4 {
        p.after_major(56 * MB);
        assert!(!p.next_major_sticky());
    }
    p.after_major(56 * MB);
    assert!(p.next_major_sticky());
    p.after_sticky(80 * MB, 24 * MB, 24 * MB);
    assert!(!p.next_major_sticky());
    // Growth continues: the backoff holds...
    p.after_major(80 * MB);
    assert!(!p.next_major_sticky());
    // ...until a full collection finds the live bytes halved (the builder's data dropped).
    p.after_major(40 * MB);
    assert!(p.next_major_sticky(), "sticky collections may come again");
    // A later useless one starts the backoff again from 4, not from where it was (8).
    p.after_sticky(60 * MB, 20 * MB, 20 * MB);
    let mut fulls = 0;
    while !p.next_major_sticky() {
        fulls += 1;
        p.after_major(40 * MB);
    }
    assert_eq!(
        fulls, 5,
        "four full ones run back to back, then a sticky one may follow"
    );
    // A heap whose live bytes shrink by less than half keeps its backoff.
    p.after_sticky(60 * MB, 20 * MB, 20 * MB);
    p.after_major(30 * MB);
    assert!(!p.next_major_sticky());
}

#[test]
fn a_growing_heap_moves_the_threshold_with_at_most_two_sticky_collections_in_a_row() {
    let mut p = Pacer::new(1.82, 1.4, 32 * MB, usize::MAX, None);
    // A list being built: every collection finds everything live.
    let mut old = 0;
    let mut kinds = String::new();
    let mut thresholds = Vec::new();
    for _ in 0..400 {
        old += 2 * MB;
        if p.major_due(old) {
            if p.next_major_sticky() {
                kinds.push('s');
                p.after_sticky(old, 2 * MB, 2 * MB);
            } else {
                kinds.push('F');
                p.after_full(old, old);
            }
            thresholds.push(p.threshold());
        }
    }
    assert!(kinds.starts_with("FssFssFss"), "{kinds}");
    // Every collection moves the threshold, by the growth cap at most.
    for pair in thresholds.windows(2) {
        assert!(pair[1] > pair[0], "{thresholds:?}");
        assert!(
            pair[1] as f64 <= pair[0] as f64 * 1.4 + 1.0,
            "{thresholds:?}"
        );
    }
}

#[test]
fn a_full_collection_that_finds_the_heap_growing_ends_the_backoff() {
    let mut p = Pacer::new(2.0, 100.0, MB, usize::MAX, None);
    // A steady heap, then a structure built: its sticky collection is useless...
    p.after_full(100 * MB, 50 * MB);
    p.after_sticky(90 * MB, 40 * MB, 40 * MB);
    assert!(!p.next_major_sticky());
    // ...and the next full collection finds it growing: the backoff ends at once, and
    // the sticky collections that follow move the threshold.
    p.after_full(100 * MB, 95 * MB);
    assert!(p.next_major_sticky());
    let before = p.threshold();
    p.after_sticky(120 * MB, 25 * MB, 25 * MB);
    assert!(p.threshold() > before);
    // Without the size before (`after_major`), the backoff stays.
    let mut p = Pacer::new(2.0, 100.0, MB, usize::MAX, None);
    p.after_full(100 * MB, 50 * MB);
    p.after_sticky(90 * MB, 40 * MB, 40 * MB);
    p.after_major(95 * MB);
    assert!(!p.next_major_sticky());
}

#[test]
fn only_a_full_collection_that_found_the_heap_growing_lets_sticky_ones_move_the_threshold() {
    // A steady heap (splay-like: the full collection frees half of what it looked at): a
    // sticky collection whose fresh objects survive does not move the threshold.
    let mut p = Pacer::new(2.0, 100.0, MB, usize::MAX, None);
    p.after_full(40 * MB, 20 * MB);
    assert_eq!(p.threshold(), 40 * MB);
    p.after_sticky(37 * MB, 17 * MB, 16 * MB);
    assert_eq!(p.threshold(), 40 * MB);
    assert!(!p.next_major_sticky(), "useless: the backoff");
    // A growing heap whose sticky collection finds most fresh objects dead is not growing
    // any more: the usual rules apply (the threshold stays, a useful one may repeat).
    let mut p = Pacer::new(2.0, 100.0, MB, usize::MAX, None);
    p.after_full(20 * MB, 19 * MB);
    assert_eq!(p.threshold(), 38 * MB);
    p.after_sticky(22 * MB, 19 * MB, 3 * MB);
    assert_eq!(p.threshold(), 38 * MB);
    assert!(p.next_major_sticky());
    // `after_major` (the size before unknown) never counts as growing.
    let mut p = Pacer::new(2.0, 100.0, MB, usize::MAX, None);
    p.after_major(20 * MB);
    p.after_sticky(30 * MB, 10 * MB, 10 * MB);
    assert_eq!(p.threshold(), 40 * MB);
}

#[test]
fn sticky_collections_off_means_every_automatic_one_is_full() {
    let mut p = Pacer::new(1.82, 1.4, MB, usize::MAX, None).with_sticky(false);
    p.after_major(10 * MB);
    assert!(!p.next_major_sticky());
    p.after_sticky(11 * MB, 5 * MB, MB);
    assert!(!p.next_major_sticky());
}

#[test]
fn a_shrinking_heap_lowers_the_threshold_but_not_below_min() {
    let mut p = Pacer::new(1.82, 1.4, 8 * MB, usize::MAX, None);
    for _ in 0..30 {
        p.after_major(100 * MB);
    }
    assert_eq!(p.threshold(), 182 * MB);
    p.after_major(MB);
    assert_eq!(p.threshold(), 8 * MB);
}
