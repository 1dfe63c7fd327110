//! splay, after Octane's Splay: a splay tree of 8,000 nodes, each holding a payload tree of depth
//! 5 (63 nodes), then `size` runs of 80 modifications (insert a node with a fresh random key,
//! then remove the greatest key below it, or the new node itself). Octane measures latency, so
//! each run is timed: the child reports the mean, 99th percentile and maximum run time, and for
//! Pinion its longest collection pause.
//!
//! The algorithm is written once, over `SplayOps`; each peer supplies node operations. Keys
//! are integers from a fixed-seed xorshift, so every peer builds the same tree. Payload leaves
//! are plain nodes (Octane's leaves also carry a ten-element array and a string).

/// Nodes in the tree.
pub const TREE_SIZE: u64 = 8_000;
/// Modifications per run.
pub const MODIFICATIONS: u64 = 80;
/// Depth of each node's payload tree.
pub const PAYLOAD_DEPTH: u32 = 5;

/// One peer's node operations. `Ref` is a reference to a node: a pointer, a counted reference or
/// a rooted handle.
pub(crate) trait SplayOps {
    /// A reference to a node.
    type Ref: Clone;
    /// A new node with `key`, no children and no payload.
    fn node(&mut self, key: u64) -> Self::Ref;
    /// The node's key.
    fn key(&self, n: &Self::Ref) -> u64;
    /// The node's left child.
    fn left(&mut self, n: &Self::Ref) -> Option<Self::Ref>;
    /// The node's right child.
    fn right(&mut self, n: &Self::Ref) -> Option<Self::Ref>;
    /// The node's payload.
    fn payload(&mut self, n: &Self::Ref) -> Option<Self::Ref>;
    /// Sets the left child.
    fn set_left(&mut self, n: &Self::Ref, v: Option<&Self::Ref>);
    /// Sets the right child.
    fn set_right(&mut self, n: &Self::Ref, v: Option<&Self::Ref>);
    /// Sets the payload.
    fn set_payload(&mut self, n: &Self::Ref, v: Option<&Self::Ref>);
}

/// The fixed-seed key generator (Octane uses `Math.random()`).
#[derive(Clone)]
pub(crate) struct Keys(u64);

impl Keys {
    pub(crate) fn new() -> Keys {
        Keys(0x2545_F491_4F6C_DD1D)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 >> 11
    }
}

fn payload_tree<O: SplayOps>(ops: &mut O, depth: u32, tag: u64) -> O::Ref {
    let node = ops.node(tag);
    if depth > 0 {
        let left = payload_tree(ops, depth - 1, tag);
        ops.set_left(&node, Some(&left));
        let right = payload_tree(ops, depth - 1, tag);
        ops.set_right(&node, Some(&right));
    }
    node
}

/// Top-down splay (Sleator and Tarjan) of `root` around `key`; returns the new root.
fn splay<O: SplayOps>(ops: &mut O, root: O::Ref, key: u64) -> O::Ref {
    let dummy = ops.node(0);
    let (mut left, mut right) = (dummy.clone(), dummy.clone());
    let mut current = root;
    loop {
        let current_key = ops.key(&current);
        if key < current_key {
            let Some(mut next) = ops.left(&current) else {
                break;
            };
            if key < ops.key(&next) {
                // Rotate right.
                let moved = ops.right(&next);
                ops.set_left(&current, moved.as_ref());
                ops.set_right(&next, Some(&current));
                current = next;
                match ops.left(&current) {
                    Some(n) => next = n,
                    None => break,
                }
            }
            // Link right.
            ops.set_left(&right, Some(&current));
            right = current;
            current = next;
        } else if key > current_key {
            let Some(mut next) = ops.right(&current) else {
                break;
            };
            if key > ops.key(&next) {
                // Rotate left.
                let moved = ops.left(&next);
                ops.set_right(&current, moved.as_ref());
                ops.set_left(&next, Some(&current));
                current = next;
                match ops.right(&current) {
                    Some(n) => next = n,
                    None => break,
                }
            }
            // Link left.
            ops.set_right(&left, Some(&current));
            left = current;
            current = next;
        } else {
            break;
        }
    }
    // Assemble.
    let (cl, cr) = (ops.left(&current), ops.right(&current));
    ops.set_right(&left, cl.as_ref());
    ops.set_left(&right, cr.as_ref());
    let (dl, dr) = (ops.left(&dummy), ops.right(&dummy));
    ops.set_left(&current, dr.as_ref());
    ops.set_right(&current, dl.as_ref());
    current
}

/// The tree: its root and the operations Octane's benchmark uses.
pub(crate) struct SplayTree<O: SplayOps> {
    /// The root node, if any.
    pub root: Option<O::Ref>,
}

impl<O: SplayOps> SplayTree<O> {
    fn insert(&mut self, ops: &mut O, node: O::Ref) {
        let key = ops.key(&node);
        let Some(root) = self.root.take() else {
            self.root = Some(node);
            return;
        };
        let root = splay(ops, root, key);
        if key > ops.key(&root) {
            let r = ops.right(&root);
            ops.set_right(&node, r.as_ref());
            ops.set_right(&root, None);
            ops.set_left(&node, Some(&root));
        } else {
            let l = ops.left(&root);
            ops.set_left(&node, l.as_ref());
            ops.set_left(&root, None);
            ops.set_right(&node, Some(&root));
        }
        self.root = Some(node);
    }

    fn contains(&mut self, ops: &mut O, key: u64) -> bool {
        let Some(root) = self.root.take() else {
            return false;
        };
        let root = splay(ops, root, key);
        let found = ops.key(&root) == key;
        self.root = Some(root);
        found
    }

    fn remove(&mut self, ops: &mut O, key: u64) {
        let root = splay(ops, self.root.take().expect("non-empty"), key);
        assert_eq!(ops.key(&root), key, "removing a key that is present");
        self.root = match ops.left(&root) {
            None => ops.right(&root),
            Some(left) => {
                let right = ops.right(&root);
                let left = splay(ops, left, key);
                ops.set_right(&left, right.as_ref());
                Some(left)
            }
        };
    }

    /// The greatest key less than `key`, if any.
    fn greatest_less_than(&mut self, ops: &mut O, key: u64) -> Option<u64> {
        let root = splay(ops, self.root.take()?, key);
        let result = if ops.key(&root) < key {
            Some(ops.key(&root))
        } else {
            let mut current = ops.left(&root);
            while let Some(c) = current.clone().and_then(|c| ops.right(&c)) {
                current = Some(c);
            }
            current.map(|c| ops.key(&c))
        };
        self.root = Some(root);
        result
    }

    pub(crate) fn insert_new(&mut self, ops: &mut O, keys: &mut Keys) -> u64 {
        let key = loop {
            let key = keys.next();
            if !self.contains(ops, key) {
                break key;
            }
        };
        let payload = payload_tree(ops, PAYLOAD_DEPTH, key);
        let node = ops.node(key);
        ops.set_payload(&node, Some(&payload));
        self.insert(ops, node);
        key
    }

    /// Octane's setup: fill the tree.
    pub(crate) fn setup(&mut self, ops: &mut O, keys: &mut Keys) {
        for _ in 0..TREE_SIZE {
            self.insert_new(ops, keys);
        }
    }

    /// One Octane run: 80 modifications.
    pub(crate) fn run(&mut self, ops: &mut O, keys: &mut Keys) {
        for _ in 0..MODIFICATIONS {
            let key = self.insert_new(ops, keys);
            match self.greatest_less_than(ops, key) {
                Some(greatest) => self.remove(ops, greatest),
                None => self.remove(ops, key),
            }
        }
    }

    /// Nodes in the tree and nodes in the root's payload (the check line).
    pub(crate) fn check(&mut self, ops: &mut O) -> (u64, u64) {
        fn count<O: SplayOps>(ops: &mut O, n: Option<O::Ref>) -> u64 {
            match n {
                None => 0,
                Some(n) => {
                    let (l, r) = (ops.left(&n), ops.right(&n));
                    1 + count(ops, l) + count(ops, r)
                }
            }
        }
        let root = self.root.clone();
        let payload = root.as_ref().and_then(|r| ops.payload(r));
        (count(ops, root), count(ops, payload))
    }
}

/// The check line every peer prints.
pub(crate) fn check_line(runs: u64, (nodes, payload): (u64, u64)) -> String {
    format!("splay tree after {runs} runs\t nodes: {nodes}\t payload nodes: {payload}")
}

/// The output every peer must print.
pub fn expected(runs: u64) -> Vec<String> {
    vec![check_line(
        runs,
        (TREE_SIZE, (1 << (PAYLOAD_DEPTH + 1)) - 1),
    )]
}

/// Run times, reported on `stat:` lines (not compared between peers).
pub(crate) fn stat_lines(mut times: Vec<f64>, max_pause: Option<f64>) -> Vec<String> {
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    // Nearest rank: the smallest time at or above 99% of the runs.
    let rank = (times.len() as f64 * 0.99).ceil() as usize;
    let p99 = times.get(rank.saturating_sub(1)).copied().unwrap_or(0.0);
    let max = times.last().copied().unwrap_or(0.0);
    let mut lines = vec![
        format!("stat: run_mean_ms={:.4}", mean * 1e3),
        format!("stat: run_p99_ms={:.4}", p99 * 1e3),
        format!("stat: run_max_ms={:.4}", max * 1e3),
    ];
    if let Some(pause) = max_pause {
        lines.push(format!("stat: max_pause_ms={:.4}", pause * 1e3));
    }
    lines
}

/// Runs the generic benchmark for peers whose references outlive any call (everything but
/// Pinion and gc-arena, which hold references only inside a scope or a `mutate` call).
pub(crate) fn run_simple<O: SplayOps>(ops: &mut O, runs: u64) -> Vec<String> {
    let mut keys = Keys::new();
    let mut tree = SplayTree::<O> { root: None };
    tree.setup(ops, &mut keys);
    let mut times = Vec::with_capacity(runs as usize);
    for _ in 0..runs {
        let start = std::time::Instant::now();
        tree.run(ops, &mut keys);
        times.push(start.elapsed().as_secs_f64());
    }
    let mut lines = vec![check_line(runs, tree.check(ops))];
    lines.extend(stat_lines(times, None));
    lines
}

/// Runs splay with `runs` runs for `peer`.
pub fn run(peer: &str, runs: u64) -> Result<Vec<String>, String> {
    match peer {
        "pinion" => super::splay_peers::pinion(runs),
        "box" => Err(
            "Box's single ownership cannot hold the links a top-down splay rewires \
                      (it would take unsafe code or a different algorithm)"
                .into(),
        ),
        "rc" => Ok(run_simple(&mut super::splay_peers::RcOps, runs)),
        "bumpalo" => Ok(super::splay_peers::bump(runs)),
        "gc" => Ok(run_simple(&mut super::peer_gc::SplayPeer, runs)),
        "dumpster" => Ok(run_simple(&mut super::peer_dumpster::SplayPeer, runs)),
        "gc-arena" => Ok(super::peer_gc_arena::splay(runs)),
        "bdwgc" => super::peer_bdwgc::splay(runs),
        other => Err(super::unknown_peer(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinion_and_rc_keep_the_tree_size_and_payloads() {
        for peer in ["pinion", "rc"] {
            let lines = run(peer, 3).unwrap();
            assert_eq!(lines[..1], expected(3)[..], "{peer}");
            assert!(
                lines[1..].iter().all(|l| l.starts_with("stat: ")),
                "{lines:?}"
            );
        }
        let pinion = run("pinion", 1).unwrap();
        assert!(pinion.iter().any(|l| l.starts_with("stat: max_pause_ms=")));
    }

    #[test]
    fn box_says_why_it_cannot_run() {
        assert!(run("box", 1).unwrap_err().contains("ownership"));
    }

    #[test]
    fn percentiles_come_from_the_sorted_times() {
        let times: Vec<f64> = (1..=100).rev().map(|i| i as f64 / 1e3).collect();
        let lines = stat_lines(times, Some(0.5));
        assert_eq!(lines[0], "stat: run_mean_ms=50.5000");
        assert_eq!(lines[1], "stat: run_p99_ms=99.0000");
        assert_eq!(lines[2], "stat: run_max_ms=100.0000");
        assert_eq!(lines[3], "stat: max_pause_ms=500.0000");
    }
}
