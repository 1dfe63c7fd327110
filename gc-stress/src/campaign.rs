//! A campaign: many seeded programs, run until the time or operation budget is spent or a
//! check fails.
//!
//! Program `i` of a campaign with seed `S` uses the seed `mix(S, i)`, printed in the replay
//! header, so a failure can be reproduced from the replay file or from the campaign seed. With
//! several configurations and workloads, program `i` runs configuration `i mod C` and workload
//! `(i div C) mod W`, so every pair comes round within `C × W` programs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::configs::StressConfig;
use crate::exec::{execute, Failure, VerifyMode};
use crate::ops::Op;
use crate::replay::Replay;
use crate::settings::HeapSettings;
use crate::shrink::{shrink, Budget};
use crate::workloads;

/// What to run.
#[derive(Clone, Debug)]
pub struct Campaign {
    /// Stop after this long (checked between programs).
    pub duration: Option<Duration>,
    /// Stop after this many operations.
    pub max_ops: Option<u64>,
    /// Campaign seed.
    pub seed: u64,
    /// Workload name (or `all`).
    pub workload: String,
    /// When to check.
    pub verify: VerifyMode,
    /// Operations per program (each program gets a fresh heap).
    pub program_ops: usize,
    /// Heap settings (from the environment); configurations apply on top.
    pub settings: HeapSettings,
    /// Stress configurations to cycle through; none means the settings alone.
    pub configs: Vec<StressConfig>,
    /// Where replay files go.
    pub out_dir: PathBuf,
    /// Test only: insert `corrupt` operations at this index of every program.
    pub inject_corruption: Option<usize>,
    /// Shrink a failing program before writing its replay.
    pub shrink: bool,
}

/// Throughput of one workload under one configuration.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Breakdown {
    /// Workload.
    pub workload: String,
    /// Configuration.
    pub config: String,
    /// Programs run.
    pub programs: u64,
    /// Operations run.
    pub ops: u64,
    /// Seconds spent.
    pub seconds: f64,
    /// Operations per second.
    pub ops_per_sec: f64,
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
    /// Heap settings from the environment, as `PINION_GC_*` values.
    pub settings: BTreeMap<String, String>,
    /// Configurations cycled through.
    pub configs: Vec<String>,
    /// Throughput per workload and configuration.
    pub breakdown: Vec<Breakdown>,
    /// The reproducer, when a failure was found.
    pub replay: Option<String>,
    /// The failure, when one was found.
    pub failure: Option<String>,
    /// Operations in the failing program before and after shrinking.
    pub shrunk: Option<(usize, usize)>,
    /// Seconds from the start until the failure was found (before shrinking).
    pub found_after: Option<f64>,
    /// Index of the failing program (see [`program`]).
    pub failed_program: Option<u64>,
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

/// One program of a campaign: which workload, which configuration, which operations.
#[derive(Clone, Debug)]
pub struct Program {
    /// Workload name.
    pub workload: &'static str,
    /// Configuration name.
    pub config: &'static str,
    /// Heap settings (environment plus configuration).
    pub settings: HeapSettings,
    /// The program's seed.
    pub seed: u64,
    /// Its operations.
    pub ops: Vec<Op>,
}

/// Program `index` of `campaign`, `len` operations long.
pub fn program(campaign: &Campaign, index: u64, len: usize) -> Program {
    let configs = campaign.configs.len().max(1) as u64;
    let workloads = if campaign.workload == "all" {
        workloads::WORKLOADS.len() as u64
    } else {
        1
    };
    // Workloads take turns program by program, and each round of them moves to the next
    // configurations along a diagonal, so that every pair (workload, configuration) comes up
    // within workloads × configurations programs when the two counts are coprime, and early
    // programs already mix both.
    let round = index / workloads;
    let config_index = (index + round) % configs;
    let (config, settings) = match campaign.configs.get(config_index as usize) {
        Some(c) => (
            c.name,
            c.apply(&campaign.settings)
                .unwrap_or_else(|_| campaign.settings.clone()),
        ),
        None => ("environment", campaign.settings.clone()),
    };
    let workload = workloads::resolve(&campaign.workload, index).unwrap_or("random");
    let seed = mix(campaign.seed, index);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut ops = workloads::generate(workload, &mut rng, len).unwrap_or_default();
    if let Some(at) = campaign.inject_corruption {
        ops.insert(at.min(ops.len()), Op::Corrupt { root: 0 });
    }
    Program {
        workload,
        config,
        settings,
        seed,
        ops,
    }
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
        configs: campaign
            .configs
            .iter()
            .map(|c| c.name.to_string())
            .collect(),
        ..Summary::default()
    };
    let mut breakdown: BTreeMap<(&str, &str), Breakdown> = BTreeMap::new();
    let mut index = 0;
    loop {
        let left = campaign.max_ops.map(|m| m.saturating_sub(summary.ops));
        if left == Some(0) || campaign.duration.is_some_and(|d| start.elapsed() >= d) {
            break;
        }
        let len = left.map_or(campaign.program_ops, |l| {
            (l as usize).min(campaign.program_ops)
        });
        let program = program(campaign, index, len);
        let began = Instant::now();
        let (stats, result) = execute(&program.ops, &program.settings, campaign.verify);
        let b = breakdown
            .entry((program.workload, program.config))
            .or_default();
        b.programs += 1;
        b.ops += stats.ops;
        b.seconds += began.elapsed().as_secs_f64();
        summary.programs += 1;
        summary.ops += stats.ops;
        summary.minor += stats.minor;
        summary.major += stats.major;
        summary.verified += stats.verified;
        summary.pins += stats.pins;
        summary.refused += stats.refused;
        if let Err(failure) = result {
            summary.failures = 1;
            summary.found_after = Some(start.elapsed().as_secs_f64());
            summary.failed_program = Some(index);
            summary.failure = Some(format!(
                "op {}: {} (workload {}, configuration {})",
                failure.op_index, failure.message, program.workload, program.config
            ));
            let (path, sizes) = write_replay(campaign, index, &program, &failure);
            summary.replay = Some(path);
            summary.shrunk = sizes;
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
    summary.breakdown = breakdown
        .into_iter()
        .map(|((w, c), mut b)| {
            b.workload = w.to_string();
            b.config = c.to_string();
            b.ops_per_sec = b.ops as f64 / b.seconds.max(1e-9);
            b
        })
        .collect();
    summary
}

/// Shrinks the failing program (when asked) and writes its replay; returns the path (or a
/// note saying why it could not be written) and the sizes before and after shrinking.
fn write_replay(
    campaign: &Campaign,
    index: u64,
    program: &Program,
    failure: &Failure,
) -> (String, Option<(usize, usize)>) {
    let failing = &program.ops[..=failure.op_index.min(program.ops.len().saturating_sub(1))];
    let mut notes = vec![
        format!(
            "seed={} (program {index} of a campaign with seed {})",
            program.seed, campaign.seed
        ),
        format!("workload={}", program.workload),
        format!("configuration={}", program.config),
    ];
    let (ops, settings, verify, failure, sizes) = if campaign.shrink {
        let shrunk = shrink(failing, &program.settings, failure, Budget::default());
        notes.push(format!(
            "shrunk from {} to {} operations",
            failing.len(),
            shrunk.ops.len()
        ));
        let sizes = Some((failing.len(), shrunk.ops.len()));
        (
            shrunk.ops,
            shrunk.settings,
            shrunk.verify,
            shrunk.failure,
            sizes,
        )
    } else {
        (
            failing.to_vec(),
            program.settings.clone(),
            campaign.verify,
            failure.clone(),
            None,
        )
    };
    notes.push(format!(
        "failure at op {}: {}",
        failure.op_index, failure.message
    ));
    let replay = Replay {
        settings,
        verify,
        notes,
        ops,
    };
    let path = campaign
        .out_dir
        .join(format!("failure-{}-{index}.replay", campaign.seed));
    let written = std::fs::create_dir_all(&campaign.out_dir)
        .and_then(|_| std::fs::write(&path, replay.to_text()));
    match written {
        Ok(()) => (path.display().to_string(), sizes),
        Err(e) => (format!("(could not write {}: {e})", path.display()), sizes),
    }
}
