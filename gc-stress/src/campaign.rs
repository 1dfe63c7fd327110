//! A campaign: many seeded programs, run until the time or operation budget is spent or a
//! check fails.
//!
//! Program `i` of a campaign with seed `S` uses the seed `mix(S, i)`, printed in the replay
//! header, so a failure can be reproduced from the replay file or from the campaign seed.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::exec::{execute, Failure, VerifyMode};
use crate::generate::generate;
use crate::ops::Op;
use crate::replay::Replay;
use crate::settings::HeapSettings;

/// What to run.
#[derive(Clone, Debug)]
pub struct Campaign {
    /// Stop after this long (checked between programs).
    pub duration: Option<Duration>,
    /// Stop after this many operations.
    pub max_ops: Option<u64>,
    /// Campaign seed.
    pub seed: u64,
    /// Workload name.
    pub workload: String,
    /// When to check.
    pub verify: VerifyMode,
    /// Operations per program (each program gets a fresh heap).
    pub program_ops: usize,
    /// Heap settings.
    pub settings: HeapSettings,
    /// Where replay files go.
    pub out_dir: PathBuf,
    /// Test only: insert `corrupt` operations at this index of every program.
    pub inject_corruption: Option<usize>,
}

/// The outcome of a campaign; the summary line and the JSON object print these fields.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Summary {
    /// Operations executed.
    pub ops: u64,
    /// Minor collections.
    pub minor: u64,
    /// Major collections.
    pub major: u64,
    /// Model checks run.
    pub verified: u64,
    /// Successful pin operations.
    pub pins: u64,
    /// Refused pin operations.
    pub refused: u64,
    /// Failures found (0 or 1: the campaign stops at the first).
    pub failures: u64,
    /// Campaign seed.
    pub seed: u64,
    /// Programs run.
    pub programs: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Operations per second, checks included.
    pub ops_per_sec: f64,
    /// Workload name.
    pub workload: String,
    /// Check frequency.
    pub verify: String,
    /// Heap settings, as `PINION_GC_*` values.
    pub settings: std::collections::BTreeMap<String, String>,
    /// The reproducer, when a failure was found.
    pub replay: Option<String>,
    /// The failure, when one was found.
    pub failure: Option<String>,
}

impl Summary {
    /// The plain-text summary line.
    pub fn line(&self) -> String {
        format!(
            "summary: ops={} minor={} major={} verified={} pins={} refused={} failures={} seed={}",
            self.ops,
            self.minor,
            self.major,
            self.verified,
            self.pins,
            self.refused,
            self.failures,
            self.seed
        )
    }
}

/// SplitMix64: derives program seeds from the campaign seed.
pub fn mix(seed: u64, i: u64) -> u64 {
    let mut z = seed.wrapping_add(i.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The operations of program `index` of `campaign`.
pub fn program(campaign: &Campaign, index: u64, len: usize) -> Vec<Op> {
    let mut rng = ChaCha8Rng::seed_from_u64(mix(campaign.seed, index));
    let mut ops = generate(&campaign.workload, &mut rng, len).unwrap_or_default();
    if let Some(at) = campaign.inject_corruption {
        ops.insert(at.min(ops.len()), Op::Corrupt { root: 0 });
    }
    ops
}

/// Runs the campaign, calling `progress` after every program.
pub fn run(campaign: &Campaign, mut progress: impl FnMut(&Summary)) -> Summary {
    let start = Instant::now();
    let mut summary = Summary {
        seed: campaign.seed,
        workload: campaign.workload.clone(),
        verify: campaign.verify.name().to_string(),
        settings: campaign
            .settings
            .pairs()
            .into_iter()
            .map(|(k, v)| (format!("PINION_GC_{k}"), v))
            .collect(),
        ..Summary::default()
    };
    let mut index = 0;
    loop {
        let left = campaign.max_ops.map(|m| m.saturating_sub(summary.ops));
        if left == Some(0) || campaign.duration.is_some_and(|d| start.elapsed() >= d) {
            break;
        }
        let len = left.map_or(campaign.program_ops, |l| {
            (l as usize).min(campaign.program_ops)
        });
        let ops = program(campaign, index, len);
        let (stats, result) = execute(&ops, &campaign.settings, campaign.verify);
        summary.programs += 1;
        summary.ops += stats.ops;
        summary.minor += stats.minor;
        summary.major += stats.major;
        summary.verified += stats.verified;
        summary.pins += stats.pins;
        summary.refused += stats.refused;
        if let Err(failure) = result {
            summary.failures = 1;
            summary.failure = Some(format!("op {}: {}", failure.op_index, failure.message));
            summary.replay = Some(write_replay(campaign, index, &ops, &failure));
        }
        summary.seconds = start.elapsed().as_secs_f64();
        summary.ops_per_sec = summary.ops as f64 / summary.seconds.max(1e-9);
        progress(&summary);
        if summary.failures > 0 {
            break;
        }
        index += 1;
    }
    summary.seconds = start.elapsed().as_secs_f64();
    summary.ops_per_sec = summary.ops as f64 / summary.seconds.max(1e-9);
    summary
}

/// Writes the failing program (up to the failing operation) and returns the path, or a note
/// saying why it could not be written.
fn write_replay(campaign: &Campaign, index: u64, ops: &[Op], failure: &Failure) -> String {
    let replay = Replay {
        settings: campaign.settings.clone(),
        verify: campaign.verify,
        notes: vec![
            format!(
                "seed={} (program {index} of a campaign with seed {})",
                mix(campaign.seed, index),
                campaign.seed
            ),
            format!("workload={}", campaign.workload),
            format!("failure at op {}: {}", failure.op_index, failure.message),
        ],
        ops: ops[..=failure.op_index.min(ops.len().saturating_sub(1))].to_vec(),
    };
    let path = campaign
        .out_dir
        .join(format!("failure-{}-{index}.replay", campaign.seed));
    match std::fs::create_dir_all(&campaign.out_dir)
        .and_then(|_| std::fs::write(&path, replay.to_text()))
    {
        Ok(()) => path.display().to_string(),
        Err(e) => format!("(could not write {}: {e})", path.display()),
    }
}
