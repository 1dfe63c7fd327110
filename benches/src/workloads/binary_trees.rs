//! binary-trees, by the Benchmarks Game rules: a stretch tree of depth `max + 1`, a long-lived
//! tree of depth `max` kept for the whole run, then `2^(max - d + 4)` trees of each depth
//! `d = 4, 6, …, max`, each built top-down and checked (the check is the node count).
//!
//! Each depth's trees take their own time (`stat: depth_D_s=…` lines, which `compare` reports
//! per peer): every depth allocates the same number of nodes, so the lines show where a
//! collector's cost grows with the size of what is live (a tree larger than the nursery is
//! promoted whole).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::{box_check, box_tree, bump_check, bump_tree, pinion_check, pinion_tree};

const MIN_DEPTH: u32 = 4;

/// The depths the benchmark uses for the requested size.
fn max_depth(n: u32) -> u32 {
    n.max(MIN_DEPTH + 2)
}

fn nodes(depth: u32) -> u64 {
    (1u64 << (depth + 1)) - 1
}

fn iterations(max: u32, depth: u32) -> u64 {
    1u64 << (max - depth + MIN_DEPTH)
}

/// Runs the benchmark's schedule with `one_tree(depth)` building, checking and freeing a
/// short-lived tree, while the long-lived tree is held by `long_lived` (built by the caller
/// before `schedule` and checked by `check_long_lived` after it).
pub(crate) fn schedule(
    n: u32,
    mut one_tree: impl FnMut(u32) -> u64,
    build_long_lived: impl FnOnce(u32, &mut dyn FnMut(u32) -> u64) -> u64,
) -> Vec<String> {
    let max = max_depth(n);
    let mut lines = vec![format!(
        "stretch tree of depth {}\t check: {}",
        max + 1,
        one_tree(max + 1)
    )];
    let mut stats = Vec::new();
    let long_check = build_long_lived(max, &mut |depth| {
        let start = Instant::now();
        let mut check = 0;
        let count = iterations(max, depth);
        for _ in 0..count {
            check += one_tree(depth);
        }
        stats.push(depth_stat(depth, start.elapsed()));
        lines.push(format!("{count}\t trees of depth {depth}\t check: {check}"));
        check
    });
    lines.push(format!(
        "long lived tree of depth {max}\t check: {long_check}"
    ));
    lines.extend(stats);
    lines
}

/// The `stat:` line of the time one depth's trees took.
fn depth_stat(depth: u32, took: Duration) -> String {
    format!("stat: depth_{depth}_s={:.4}", took.as_secs_f64())
}

/// The output every peer must print.
pub fn expected(n: u32) -> Vec<String> {
    let max = max_depth(n);
    let mut lines = vec![format!(
        "stretch tree of depth {}\t check: {}",
        max + 1,
        nodes(max + 1)
    )];
    for depth in (MIN_DEPTH..=max).step_by(2) {
        let count = iterations(max, depth);
        lines.push(format!(
            "{count}\t trees of depth {depth}\t check: {}",
            count * nodes(depth)
        ));
    }
    lines.push(format!(
        "long lived tree of depth {max}\t check: {}",
        nodes(max)
    ));
    lines
}

/// Runs every depth of the schedule through `iterate` (which runs one depth's trees).
pub(crate) fn all_depths(max: u32, iterate: &mut dyn FnMut(u32) -> u64) {
    for depth in (MIN_DEPTH..=max).step_by(2) {
        iterate(depth);
    }
}

/// Runs binary-trees of size `n` for `peer`.
pub fn run(peer: &str, n: u32) -> Result<Vec<String>, String> {
    match peer {
        "pinion" => pinion(n),
        "box" => Ok(schedule(
            n,
            |d| box_check(&box_tree(d)),
            |max, iterate| {
                let long = box_tree(max);
                all_depths(max, iterate);
                box_check(&long)
            },
        )),
        "rc" => Ok(schedule(
            n,
            |d| rc_check(&rc_tree(d)),
            |max, iterate| {
                let long = rc_tree(max);
                all_depths(max, iterate);
                rc_check(&long)
            },
        )),
        "bumpalo" => Ok(bumpalo(n)),
        "gc" => Ok(super::peer_gc::binary_trees(n)),
        "dumpster" => Ok(super::peer_dumpster::binary_trees(n)),
        "gc-arena" => Ok(super::peer_gc_arena::binary_trees(n)),
        "bdwgc" => super::peer_bdwgc::binary_trees(n),
        other => Err(super::unknown_peer(other)),
    }
}

fn pinion(n: u32) -> Result<Vec<String>, String> {
    let mut heap = super::pinion_heap()?;
    // The long-lived tree lives in the outer scope; each short-lived tree in its own scope.
    let lines = heap.scope(|outer| {
        let max = max_depth(n);
        let stretch = outer.scope(|s| {
            let t = pinion_tree(s, max + 1);
            pinion_check(s, s.get(t))
        });
        let long = pinion_tree(outer, max);
        let mut lines = vec![format!(
            "stretch tree of depth {}\t check: {stretch}",
            max + 1
        )];
        let mut stats = Vec::new();
        for depth in (MIN_DEPTH..=max).step_by(2) {
            let start = Instant::now();
            let count = iterations(max, depth);
            let mut check = 0;
            for _ in 0..count {
                check += outer.scope(|s| {
                    let t = pinion_tree(s, depth);
                    pinion_check(s, s.get(t))
                });
            }
            stats.push(depth_stat(depth, start.elapsed()));
            lines.push(format!("{count}\t trees of depth {depth}\t check: {check}"));
        }
        let long_check = pinion_check(outer, outer.get(long));
        lines.push(format!(
            "long lived tree of depth {max}\t check: {long_check}"
        ));
        lines.extend(stats);
        lines
    });
    Ok(lines)
}

fn bumpalo(n: u32) -> Vec<String> {
    // An arena frees only all at once: short-lived trees get one arena reset per tree, the
    // long-lived tree its own arena.
    let long_arena = bumpalo::Bump::new();
    let mut scratch = bumpalo::Bump::new();
    schedule(
        n,
        |d| {
            let check = bump_check(bump_tree(&scratch, d));
            scratch.reset();
            check
        },
        |max, iterate| {
            let long = bump_tree(&long_arena, max);
            all_depths(max, iterate);
            bump_check(long)
        },
    )
}

/// A binary-trees node behind `Rc<RefCell<…>>`, the way safe Rust shares mutable graphs.
struct RcTree {
    children: Option<(RcNode, RcNode)>,
}

type RcNode = Rc<RefCell<RcTree>>;

fn rc_tree(depth: u32) -> RcNode {
    Rc::new(RefCell::new(RcTree {
        children: (depth > 0).then(|| (rc_tree(depth - 1), rc_tree(depth - 1))),
    }))
}

fn rc_check(t: &RcNode) -> u64 {
    match &t.borrow().children {
        Some((l, r)) => 1 + rc_check(l) + rc_check(r),
        None => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_available_peer_prints_the_expected_lines() {
        for peer in [
            "pinion", "box", "rc", "bumpalo", "gc", "dumpster", "gc-arena",
        ] {
            assert_prints_the_expected_lines(peer, run(peer, 8).unwrap());
        }
    }

    /// Size 8's lines, and a time for each of its depths on `stat:` lines.
    fn assert_prints_the_expected_lines(peer: &str, output: Vec<String>) {
        let (stats, lines): (Vec<String>, Vec<String>) =
            output.into_iter().partition(|l| l.starts_with("stat: "));
        assert_eq!(lines, expected(8), "{peer}");
        let depths: Vec<&str> = stats
            .iter()
            .filter_map(|l| l.strip_prefix("stat: depth_")?.split_once("_s="))
            .map(|(depth, _)| depth)
            .collect();
        assert_eq!(depths, ["4", "6", "8"], "{peer}: {stats:?}");
    }

    #[test]
    fn the_expected_output_matches_the_benchmarks_game_for_depth_10() {
        let lines = expected(10);
        assert_eq!(lines[0], "stretch tree of depth 11\t check: 4095");
        assert_eq!(lines[1], "1024\t trees of depth 4\t check: 31744");
        assert_eq!(
            lines.last().unwrap(),
            "long lived tree of depth 10\t check: 2047"
        );
    }

    #[test]
    fn unknown_peers_say_why() {
        assert!(run("boehm", 6).unwrap_err().contains("boehm"));
    }

    #[test]
    fn bdwgc_runs_where_libgc_is_installed_and_says_why_where_not() {
        match run("bdwgc", 8) {
            Ok(output) => assert_prints_the_expected_lines("bdwgc", output),
            Err(reason) => assert!(reason.contains("libgc1"), "{reason}"),
        }
    }
}
