//! Shrinking: turning a failing program into a small one that fails the same way.
//!
//! Delta debugging (Zeller's ddmin): remove ever smaller chunks of the program while it still
//! fails, then single operations until no one can go. A candidate "still fails" when it fails
//! with the same kind of message (digits and addresses aside), checked after every operation.
//! Then the shrinker tries again under settings that make collections frequent (a 4 KiB
//! nursery, a minor collection at every allocation): the replay header records the settings, so
//! a reproducer may rely on them instead of on thousands of allocations. The smallest wins.

use std::time::{Duration, Instant};

use crate::exec::{execute, Failure, VerifyMode};
use crate::ops::Op;
use crate::settings::HeapSettings;

/// Limits on the shrinker's work.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Most candidate runs.
    pub runs: usize,
    /// Most time.
    pub time: Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            runs: 4_000,
            time: Duration::from_secs(30),
        }
    }
}

/// A shrunk reproducer.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// Its operations.
    pub ops: Vec<Op>,
    /// Its settings.
    pub settings: HeapSettings,
    /// When to check (every operation).
    pub verify: VerifyMode,
    /// How it fails.
    pub failure: Failure,
}

/// The failure's kind: its message without numbers, so that "object 12" and "object 3" match;
/// for a heap-verifier failure, the kind of its first violation (the rest of the report varies
/// from one candidate to the next).
pub fn signature(message: &str) -> String {
    if let Some(report) = message.strip_prefix("heap verifier: ") {
        let first = report.lines().nth(1).unwrap_or("").trim();
        let kind: String = first.chars().take_while(|c| c.is_alphanumeric()).collect();
        return format!("heap verifier: {kind}");
    }
    let mut out = String::new();
    let mut in_number = false;
    for c in message.chars() {
        let numeric =
            c.is_ascii_hexdigit() && in_number || c.is_ascii_digit() || (in_number && c == 'x');
        if numeric {
            if !in_number {
                out.push('#');
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out
}

struct Search<'a> {
    want: String,
    settings: &'a HeapSettings,
    runs: usize,
    budget: Budget,
    start: Instant,
}

impl Search<'_> {
    fn exhausted(&self) -> bool {
        self.runs >= self.budget.runs || self.start.elapsed() >= self.budget.time
    }

    /// The failure of `ops`, if it fails the way we want.
    fn fails(&mut self, ops: &[Op]) -> Option<Failure> {
        self.runs += 1;
        let (_, result) = execute(ops, self.settings, VerifyMode::EveryOp);
        result.err().filter(|f| signature(&f.message) == self.want)
    }

    /// ddmin, then removal of single operations.
    fn minimise(&mut self, mut ops: Vec<Op>, mut failure: Failure) -> (Vec<Op>, Failure) {
        ops.truncate(failure.op_index + 1);
        let mut chunks = 2;
        while ops.len() >= 2 && !self.exhausted() {
            let size = ops.len().div_ceil(chunks);
            let mut reduced = false;
            for start in (0..ops.len()).step_by(size) {
                let candidate: Vec<Op> = ops[..start]
                    .iter()
                    .chain(&ops[(start + size).min(ops.len())..])
                    .copied()
                    .collect();
                if let Some(f) = self.fails(&candidate) {
                    ops = candidate;
                    ops.truncate(f.op_index + 1);
                    failure = f;
                    chunks = (chunks - 1).max(2);
                    reduced = true;
                    break;
                }
                if self.exhausted() {
                    break;
                }
            }
            if !reduced {
                if chunks >= ops.len() {
                    break;
                }
                chunks = (chunks * 2).min(ops.len());
            }
        }
        let mut i = 0;
        while i < ops.len() && !self.exhausted() {
            let mut candidate = ops.clone();
            candidate.remove(i);
            match self.fails(&candidate) {
                Some(f) => {
                    ops = candidate;
                    ops.truncate(f.op_index + 1);
                    failure = f;
                }
                None => i += 1,
            }
        }
        (ops, failure)
    }
}

/// Settings that make collections frequent, tried after the original ones.
fn aggressive(settings: &HeapSettings) -> Vec<HeapSettings> {
    let mut out = Vec::new();
    for vars in [
        &[("NURSERY", "4096"), ("STRESS", "1")][..],
        &[("NURSERY", "4096")][..],
    ] {
        let mut s = settings.clone();
        if vars.iter().all(|(k, v)| s.apply(k, v).is_ok()) && s.to_config().validate().is_ok() {
            out.push(s);
        }
    }
    out
}

/// Shrinks the failing program `ops` (which failed with `failure` under `settings`).
pub fn shrink(ops: &[Op], settings: &HeapSettings, failure: &Failure, budget: Budget) -> Shrunk {
    let want = signature(&failure.message);
    let start = Instant::now();
    let mut best = Shrunk {
        ops: ops.to_vec(),
        settings: settings.clone(),
        verify: VerifyMode::EveryGc,
        failure: failure.clone(),
    };
    let mut candidates = vec![settings.clone()];
    candidates.extend(aggressive(settings));
    for candidate in candidates {
        let mut search = Search {
            want: want.clone(),
            settings: &candidate,
            runs: 0,
            budget,
            start,
        };
        let Some(first) = search.fails(&best.ops) else {
            continue;
        };
        let (small, f) = search.minimise(best.ops.clone(), first);
        if small.len() < best.ops.len() || best.verify == VerifyMode::EveryGc {
            best = Shrunk {
                ops: small,
                settings: candidate.clone(),
                verify: VerifyMode::EveryOp,
                failure: f,
            };
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_ignore_numbers() {
        assert_eq!(
            signature("object 12 (Node): payload differs"),
            signature("object 3 (Node): payload differs")
        );
        assert_eq!(
            signature("moved from 0x7f00 to 0x7f80"),
            "moved from # to #"
        );
        assert_ne!(
            signature("object 1: drop glue ran twice"),
            signature("object 1: payload differs")
        );
    }
}
