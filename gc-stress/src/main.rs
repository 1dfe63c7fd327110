//! `gc-stress`: the command line of Pinion's stress harness.
//!
//! Exit codes: 0 no failure; 1 a failure was found (reproducer written) or a replay
//! reproduced one; 2 usage or configuration error.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use gc_stress::{execute, run, Campaign, HeapSettings, Replay, Summary, VerifyMode};

#[derive(Parser, Debug)]
#[command(
    name = "gc-stress",
    version,
    about = "Model-based stress harness for the Pinion garbage collector"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run random mutator programs against the heap and a reference model.
    Run(RunArgs),
    /// Re-run a replay file; exits 1 when it reproduces a failure.
    Replay {
        /// The replay file.
        file: PathBuf,
    },
    /// A long-running day-and-night workload: samples resident memory, live and committed
    /// bytes, writes CSV and SVG, and compares each night's resident memory with the level
    /// before the first day (after a quiet dawn).
    Soak {
        /// How long to run.
        #[arg(long, default_value_t = 2.0)]
        minutes: f64,
        /// Length of one day-and-night cycle, in seconds.
        #[arg(long, default_value_t = 20.0)]
        cycle_seconds: f64,
        /// Size of the day's live set, in MB.
        #[arg(long, default_value_t = 150)]
        live_mb: usize,
        /// Where the CSV and SVG go.
        #[arg(long, default_value = "soak")]
        out: PathBuf,
        /// Largest accepted ratio of a night's resident memory to the level before the first
        /// day.
        #[arg(long, default_value_t = 1.25)]
        max_ratio: f64,
    },
    /// Builds a live set, forks a child that runs full collections, and reports the memory the
    /// child copied, without and with `freeze`.
    ForkCow {
        /// Size of the live set, in MB.
        #[arg(long, default_value_t = 200)]
        mb: usize,
        /// Full collections the child runs.
        #[arg(long, default_value_t = 3)]
        collections: u32,
        /// Largest accepted fraction of the frozen heap the child may copy with freeze.
        #[arg(long, default_value_t = 0.02)]
        max_ratio: f64,
    },
    /// List the injectable faults, one per line (needs the `fault-injection` feature).
    #[cfg(feature = "fault-injection")]
    Faults,
    /// Run the harness with each fault switched on until it fails; exits 0 only when every
    /// requested fault that can trigger was detected (needs the `fault-injection` feature).
    #[cfg(feature = "fault-injection")]
    Hunt {
        /// A fault's name, or `all`.
        #[arg(long, default_value = "all")]
        fault: String,
        /// Seconds per fault.
        #[arg(long, default_value_t = 60.0)]
        seconds: f64,
        /// Campaign seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Directory for the reproducers.
        #[arg(long, default_value = "stress-failures")]
        out: PathBuf,
    },
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Stop after this many seconds (default 30 when --ops is not given).
    #[arg(long, conflicts_with = "ops")]
    seconds: Option<f64>,
    /// Stop after this many operations.
    #[arg(long)]
    ops: Option<u64>,
    /// Campaign seed (default: from the clock; always printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Workload.
    #[arg(long, default_value = "random")]
    workload: String,
    /// When to compare the heap with the model.
    #[arg(long, value_enum, default_value = "every-gc")]
    verify: VerifyMode,
    /// Print exactly one JSON object on stdout (everything else goes to stderr).
    #[arg(long)]
    json: bool,
    /// Operations per program (each program runs on a fresh heap).
    #[arg(long, default_value_t = 20_000)]
    program_ops: usize,
    /// Directory for replay files.
    #[arg(long, default_value = "stress-failures")]
    out: PathBuf,
    /// Stress configurations to cycle through: `all`, or names separated by commas (see
    /// `docs/stress.md`); applied on top of the PINION_GC_* settings.
    #[arg(long)]
    configs: Option<String>,
    /// Write a failing program's replay without shrinking it first.
    #[arg(long)]
    no_shrink: bool,
    /// Test only: insert a `corrupt` operation at this index of every program.
    #[arg(long, hide = true)]
    inject_corruption: Option<usize>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run_command(args),
        Command::Replay { file } => replay_command(&file),
        Command::Soak {
            minutes,
            cycle_seconds,
            live_mb,
            out,
            max_ratio,
        } => soak_command(minutes, cycle_seconds, live_mb, &out, max_ratio),
        Command::ForkCow {
            mb,
            collections,
            max_ratio,
        } => fork_cow_command(mb, collections, max_ratio),
        #[cfg(feature = "fault-injection")]
        Command::Faults => {
            for (_, name, pinning, what) in gc_core::faults::CATALOGUE {
                println!(
                    "{name:<28} {:<8} {what}",
                    if *pinning { "pinning" } else { "-" }
                );
            }
            ExitCode::SUCCESS
        }
        #[cfg(feature = "fault-injection")]
        Command::Hunt {
            fault,
            seconds,
            seed,
            out,
        } => hunt_command(&fault, seconds, seed, out),
    }
}

fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("gc-stress: {message}");
    ExitCode::from(2)
}

/// A length of time given in seconds on the command line: finite, not negative, and
/// representable (so `1e30` or `inf` is a usage error, not a panic).
fn seconds_arg(option: &str, seconds: f64) -> Result<Duration, ExitCode> {
    if !(seconds.is_finite() && seconds >= 0.0) {
        return Err(usage_error(format!(
            "{option} takes a finite, non-negative number of seconds, not {seconds}"
        )));
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| {
        usage_error(format!(
            "{option}: {seconds} seconds is too long to represent"
        ))
    })
}

/// Builds a heap with every configuration a command will use, so that settings the heap
/// refuses (a nursery the OS will not map, say) are reported as a configuration error (exit 2)
/// before any program runs, never as a collector failure.
fn check_heaps(settings: &[HeapSettings]) -> Result<(), ExitCode> {
    for s in settings {
        if let Err(e) = gc_core::Heap::new(s.to_config()) {
            let pairs: Vec<String> = s.pairs().iter().map(|(k, v)| format!("{k}={v}")).collect();
            return Err(usage_error(format!(
                "cannot create a heap with these settings ({}): {e}",
                pairs.join(" ")
            )));
        }
    }
    Ok(())
}

fn run_command(args: RunArgs) -> ExitCode {
    let names = gc_stress::workloads::names();
    if !names.contains(&args.workload.as_str()) {
        return usage_error(format!(
            "unknown workload `{}`; known workloads: {}",
            args.workload,
            names.join(", ")
        ));
    }
    let configs = match args
        .configs
        .as_deref()
        .map(gc_stress::configs::select)
        .transpose()
    {
        Ok(c) => c.unwrap_or_default(),
        Err(e) => return usage_error(e),
    };
    let seconds = match args
        .seconds
        .map(|s| seconds_arg("--seconds", s))
        .transpose()
    {
        Ok(d) => d,
        Err(code) => return code,
    };
    if args.program_ops == 0 {
        return usage_error("--program-ops must be at least 1");
    }
    let settings = match HeapSettings::from_env() {
        Ok(s) => s,
        Err(e) => return usage_error(e),
    };
    let mut heaps = vec![settings.clone()];
    for c in &configs {
        match c.apply(&settings) {
            Ok(applied) => heaps.push(applied),
            Err(e) => return usage_error(e),
        }
    }
    if let Err(code) = check_heaps(&heaps) {
        return code;
    }
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    let duration = match (seconds, args.ops) {
        (Some(s), _) => Some(s),
        (None, Some(_)) => None,
        (None, None) => Some(Duration::from_secs(30)),
    };
    let campaign = Campaign {
        duration,
        max_ops: args.ops,
        seed,
        workload: args.workload.clone(),
        verify: args.verify,
        program_ops: args.program_ops,
        settings,
        configs,
        out_dir: args.out.clone(),
        inject_corruption: args.inject_corruption,
        shrink: !args.no_shrink,
    };
    eprintln!(
        "gc-stress: workload={} verify={} seed={} settings: {}",
        campaign.workload,
        campaign.verify.name(),
        seed,
        campaign
            .settings
            .pairs()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    if !campaign.configs.is_empty() {
        eprintln!(
            "gc-stress: configurations: {}",
            campaign
                .configs
                .iter()
                .map(|c| {
                    let vars: Vec<String> =
                        c.vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    format!("{} [{}]", c.name, vars.join(" "))
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    let summary = run_with_progress(&campaign);

    if let Some(failure) = &summary.failure {
        eprintln!("gc-stress: FAILURE {failure}");
        if let Some((before, after)) = summary.shrunk {
            eprintln!("gc-stress: shrunk the failing program from {before} to {after} operations");
        }
        eprintln!(
            "gc-stress: reproducer written to {}",
            summary.replay.as_deref().unwrap_or("?")
        );
        eprintln!(
            "gc-stress: replay it with: gc-stress replay {}",
            summary.replay.as_deref().unwrap_or("?")
        );
    }
    if args.json {
        match serde_json::to_string(&summary) {
            Ok(json) => println!("{json}"),
            Err(e) => return usage_error(format!("cannot encode the summary: {e}")),
        }
    } else {
        eprintln!(
            "gc-stress: {} programs, {:.0} ops/s with checks after {}",
            summary.programs,
            summary.ops_per_sec,
            if campaign.verify == VerifyMode::EveryOp {
                "every operation"
            } else {
                "every collection"
            }
        );
        for b in &summary.breakdown {
            eprintln!(
                "gc-stress: {:>10} {:>16}: {:>6} programs {:>11} ops {:>10.0} ops/s",
                b.workload, b.config, b.programs, b.ops, b.ops_per_sec
            );
        }
        println!("{}", summary.line());
    }
    if summary.failures > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs the campaign with a progress bar on a terminal, plain lines otherwise.
fn run_with_progress(campaign: &Campaign) -> Summary {
    if std::io::stderr().is_terminal() {
        let bar = match campaign.duration {
            Some(d) => indicatif::ProgressBar::new(d.as_secs().max(1)),
            None => indicatif::ProgressBar::new(campaign.max_ops.unwrap_or(0)),
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let start = Instant::now();
        let summary = run(campaign, |s| {
            bar.set_position(if campaign.duration.is_some() {
                start.elapsed().as_secs()
            } else {
                s.ops
            });
            bar.set_message(format!(
                "ops={} minor={} major={} verified={}",
                s.ops, s.minor, s.major, s.verified
            ));
        });
        bar.finish_and_clear();
        summary
    } else {
        let mut last = Instant::now();
        run(campaign, |s| {
            if last.elapsed() >= Duration::from_secs(5) {
                last = Instant::now();
                eprintln!(
                    "progress: {:.0}s ops={} minor={} major={} verified={} programs={}",
                    s.seconds, s.ops, s.minor, s.major, s.verified, s.programs
                );
            }
        })
    }
}

#[cfg(feature = "fault-injection")]
fn hunt_command(fault: &str, seconds: f64, seed: u64, out: PathBuf) -> ExitCode {
    use gc_core::faults::{Fault, CATALOGUE};
    use gc_stress::hunt::{hunt, line, Outcome};
    let faults: Vec<Fault> = if fault == "all" {
        CATALOGUE.iter().map(|(f, ..)| *f).collect()
    } else {
        match Fault::from_name(fault) {
            Some(f) => vec![f],
            None => {
                let names: Vec<&str> = CATALOGUE.iter().map(|(_, n, ..)| *n).collect();
                return usage_error(format!(
                    "unknown fault `{fault}`; known: all, {}",
                    names.join(", ")
                ));
            }
        }
    };
    match seconds_arg("--seconds", seconds) {
        Ok(d) if !d.is_zero() => {}
        Ok(_) => return usage_error("--seconds takes a positive number"),
        Err(code) => return code,
    }
    let settings = match HeapSettings::from_env() {
        Ok(s) => s,
        Err(e) => return usage_error(e),
    };
    if let Err(code) = check_heaps(std::slice::from_ref(&settings)) {
        return code;
    }
    eprintln!(
        "gc-stress: hunting {} fault(s), {seconds}s each, seed {seed}",
        faults.len()
    );
    // A fault's panics (the verifier's, inside a collection) are its detections: each is
    // caught, and the failure is reported and saved with its reproducer. The default hook would
    // print every one with a backtrace, hundreds while a failure shrinks.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut all_found = true;
    for f in faults {
        let outcome = hunt(f, seconds, seed, &settings, out.clone());
        println!("{}", line(f, &outcome));
        all_found &= !matches!(
            outcome,
            Outcome::Missed { .. }
                | Outcome::Detected {
                    clean_passes: false,
                    ..
                }
        );
    }
    std::panic::set_hook(default_hook);
    if all_found {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn soak_command(
    minutes: f64,
    cycle_seconds: f64,
    live_mb: usize,
    out: &std::path::Path,
    max_ratio: f64,
) -> ExitCode {
    let (length, cycle) = match (
        seconds_arg("--minutes (in seconds)", minutes * 60.0),
        seconds_arg("--cycle-seconds", cycle_seconds),
    ) {
        (Ok(l), Ok(c)) if !l.is_zero() && !c.is_zero() => (l, c),
        (Err(code), _) | (_, Err(code)) => return code,
        _ => return usage_error("--minutes and --cycle-seconds take positive numbers"),
    };
    if cycle > length {
        // One whole cycle always runs, so a longer cycle would outlast the soak.
        return usage_error(format!(
            "--cycle-seconds ({cycle_seconds}) must not exceed the soak's length ({} s)",
            length.as_secs_f64()
        ));
    }
    let settings = match HeapSettings::from_env() {
        Ok(s) => s,
        Err(e) => return usage_error(e),
    };
    if let Err(code) = check_heaps(std::slice::from_ref(&settings)) {
        return code;
    }
    eprintln!(
        "gc-stress: soak for {minutes} min, {cycle_seconds}s cycles, {live_mb} MB live by day"
    );
    let report = match gc_stress::soak::soak(settings.to_config(), length, cycle, live_mb, out, 1) {
        Ok(r) => r,
        Err(e) => return usage_error(format!("soak failed: {e}")),
    };
    let first = report.before_spike.max(1) as f64;
    let ratios: Vec<f64> = report.nights.iter().map(|&n| n as f64 / first).collect();
    let peak = report.samples.iter().map(|s| s.resident).max().unwrap_or(0);
    println!("csv: {}", report.csv.display());
    println!("plot: {}", report.svg.display());
    for (i, (&n, r)) in report.nights.iter().zip(&ratios).enumerate() {
        println!(
            "night {}: resident {:.1} MB ({r:.2}x the level before the first day)",
            i + 1,
            n as f64 / 1_048_576.0
        );
    }
    let worst = ratios.iter().copied().fold(0.0, f64::max);
    println!(
        "summary: nights={} before_spike_mb={:.1} peak_mb={:.1} worst_ratio={worst:.2} max_ratio={max_ratio}",
        report.nights.len(),
        first / 1_048_576.0,
        peak as f64 / 1_048_576.0
    );
    if worst <= max_ratio {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn fork_cow_command(mb: usize, collections: u32, max_ratio: f64) -> ExitCode {
    let settings = match HeapSettings::from_env() {
        Ok(s) => s,
        Err(e) => return usage_error(e),
    };
    if let Err(code) = check_heaps(std::slice::from_ref(&settings)) {
        return code;
    }
    let (without, with) = match gc_stress::forkcow::fork_cow(settings.to_config(), mb, collections)
    {
        Ok(r) => r,
        Err(e) => return usage_error(format!("fork-cow failed: {e}")),
    };
    let show = |name: &str, m: &gc_stress::forkcow::Measurement| {
        println!(
            "{name}: heap {:.1} MB, the child's {collections} full collections copied {:.2} MB ({:.2}% of the heap)",
            m.heap_bytes as f64 / 1_048_576.0,
            m.child_dirty as f64 / 1_048_576.0,
            m.ratio() * 100.0
        );
    };
    show("without freeze", &without);
    show("with freeze", &with);
    println!(
        "summary: without_freeze_pct={:.2} with_freeze_pct={:.2} max_pct={:.2}",
        without.ratio() * 100.0,
        with.ratio() * 100.0,
        max_ratio * 100.0
    );
    if with.ratio() <= max_ratio {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn replay_command(file: &std::path::Path) -> ExitCode {
    let replay = match Replay::read(file) {
        Ok(r) => r,
        Err(e) => return usage_error(e),
    };
    for note in &replay.notes {
        eprintln!("# {note}");
    }
    if let Err(code) = check_heaps(std::slice::from_ref(&replay.settings)) {
        return code;
    }
    let (stats, result) = execute(&replay.ops, &replay.settings, replay.verify);
    match result {
        Ok(()) => {
            println!(
                "replay passed: ops={} minor={} major={} verified={}",
                stats.ops, stats.minor, stats.major, stats.verified
            );
            ExitCode::SUCCESS
        }
        Err(failure) => {
            println!(
                "replay reproduced a failure at op {}: {}",
                failure.op_index, failure.message
            );
            ExitCode::from(1)
        }
    }
}
