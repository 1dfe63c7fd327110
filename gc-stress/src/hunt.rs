//! Hunting injected faults: proof that the harness finds the bugs that hurt real collectors.
//!
//! For each fault of `gc_core::faults` the hunt switches it on, runs a campaign across every
//! workload and every stress configuration until a check fails (or the time runs out), shrinks
//! the failing program, and replays the reproducer with the fault switched off to confirm that
//! the fault, not the harness, made it fail. When the environment sets `MAX_PINNED=0`, the
//! faults that need pinning cannot trigger (nothing is ever pinned) and are reported as
//! unreachable, which is what PyPy's users saw when they turned pinning off.

use std::path::PathBuf;
use std::time::Duration;

use gc_core::faults::{self, Fault};

use crate::campaign::{run, Campaign};
use crate::configs::{self, StressConfig};
use crate::exec::{execute, VerifyMode};
use crate::replay::Replay;
use crate::settings::HeapSettings;

/// What hunting one fault found.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The harness failed with the fault on.
    Detected {
        /// Seconds until the failure was found (shrinking not included).
        seconds: f64,
        /// Operations in the shrunk reproducer.
        ops: usize,
        /// The reproducer.
        replay: String,
        /// Whether the reproducer, and the original failing program (same seed, workload and
        /// configuration), both pass with the fault off.
        clean_passes: bool,
    },
    /// No failure within the time.
    Missed {
        /// Seconds spent.
        seconds: f64,
    },
    /// The fault cannot trigger under these settings.
    Unreachable {
        /// Why.
        reason: &'static str,
    },
}

/// The result line of one fault.
pub fn line(fault: Fault, outcome: &Outcome) -> String {
    match outcome {
        Outcome::Detected {
            seconds,
            ops,
            replay,
            clean_passes,
        } => format!(
            "{:<28} detected     {:>6.2}s  {:>3} ops  {replay}{}",
            fault.name(),
            seconds,
            ops,
            if *clean_passes {
                ""
            } else {
                "  (WARNING: also fails without the fault)"
            }
        ),
        Outcome::Missed { seconds } => {
            format!("{:<28} NOT DETECTED {:>6.2}s", fault.name(), seconds)
        }
        Outcome::Unreachable { reason } => format!("{:<28} unreachable  ({reason})", fault.name()),
    }
}

/// Detections collected per fault: the smallest shrunk reproducer among them is kept.
const ATTEMPTS: u64 = 8;

/// Hunts one fault for at most `seconds`: the first detection gives the time to detection;
/// then further campaigns (new seeds, within the same time) look for failing programs whose
/// layout shrinks further, and the smallest reproducer wins.
pub fn hunt(
    fault: Fault,
    seconds: f64,
    seed: u64,
    settings: &HeapSettings,
    out_dir: PathBuf,
) -> Outcome {
    let pinning_off = settings.to_config().max_pinned() == 0;
    if fault.needs_pinning() && pinning_off {
        return Outcome::Unreachable {
            reason: "MAX_PINNED=0: nothing is ever pinned",
        };
    }
    // Configurations that would turn pinning back on are left out when the user turned it off.
    let configs: Vec<StressConfig> = configs::CONFIGS
        .iter()
        .filter(|c| !pinning_off || !c.vars.iter().any(|(k, _)| *k == "MAX_PINNED"))
        .copied()
        .collect();
    let start = std::time::Instant::now();
    let mut first: Option<f64> = None;
    let mut best: Option<(usize, String, bool)> = None;
    for attempt in 0..ATTEMPTS {
        let left = seconds - start.elapsed().as_secs_f64();
        if left <= 0.0 || best.as_ref().is_some_and(|b| b.0 <= 6) {
            break;
        }
        let campaign = Campaign {
            duration: Some(Duration::from_secs_f64(left)),
            max_ops: None,
            seed: seed.wrapping_add(attempt * 1_000_003),
            workload: "all".into(),
            // Checking after every operation catches a corrupted heap before the next
            // collection walks into it.
            verify: VerifyMode::EveryOp,
            // Short programs: checking after every operation costs time proportional to the
            // heap, so it grows with a program's length; the bugs show within a few hundred
            // operations, and short programs visit more workloads and configurations.
            program_ops: 1_000,
            settings: settings.clone(),
            configs: configs.clone(),
            out_dir: out_dir
                .join(fault.name())
                .join(format!("attempt-{attempt}")),
            inject_corruption: None,
            shrink: true,
        };
        faults::set(Some(fault));
        let summary = run(&campaign, |_| {});
        faults::set(None);
        let Some(replay) = summary.replay.clone().filter(|_| summary.failures > 0) else {
            break; // the time ran out without a (further) detection
        };
        first.get_or_insert(
            start.elapsed().as_secs_f64() - summary.seconds + summary.found_after.unwrap_or(0.0),
        );
        // With the fault off, the same program and the reproducer must pass.
        let original = summary
            .failed_program
            .map(|i| crate::campaign::program(&campaign, i, campaign.program_ops));
        let original_passes =
            original.is_some_and(|p| execute(&p.ops, &p.settings, campaign.verify).1.is_ok());
        if let Ok(r) = Replay::read(std::path::Path::new(&replay)) {
            let clean = original_passes && execute(&r.ops, &r.settings, r.verify).1.is_ok();
            if best.as_ref().is_none_or(|b| r.ops.len() < b.0) {
                best = Some((r.ops.len(), replay, clean));
            }
        }
    }
    match (first, best) {
        (Some(seconds), Some((ops, replay, clean_passes))) => Outcome::Detected {
            seconds,
            ops,
            replay,
            clean_passes,
        },
        _ => Outcome::Missed {
            seconds: start.elapsed().as_secs_f64(),
        },
    }
}
