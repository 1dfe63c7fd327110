//! `lox-compare`: the Lox programs of `lox/bench/` under Pinion's Lox VM and under **clox**, the
//! C VM of *Crafting Interpreters* with its simple mark-sweep collector, side by side.
//!
//! ```text
//! cargo run --release -p benches --bin lox-compare -- --rounds 3
//! ```
//!
//! clox is built from its sources (`../shared/clox` beside the workspace, or `--clox-src`) with
//! `cc -O2` into the target directory, its `DEBUG_*` macros undefined as shipped; the command
//! is printed. Each run is its own process, the two VMs interleaved program by program and
//! round by round, so that machine noise falls on both alike; wall time and peak resident
//! memory (`wait4`) are measured from outside, the same way for both. Both must print the same
//! output. `PINION_GC_*` variables are cleared for the children: the figures are those of the
//! default configuration.
//!
//! The table gives medians, the ratio Pinion/clox and the target of each program: at most 1.0
//! for the allocation-heavy programs (each must allocate at least 1 GB under Pinion, printed,
//! and run at least 1 s under clox for the comparison to count), at most 1.5 for the others.
//! Without clox's sources or a C compiler every target counts as not met.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use benches::process::{median, wait_with_peak_rss, TIMED_OUT};
use clap::Parser;

#[derive(Parser)]
#[command(about = "Pinion's Lox VM against clox on the programs of lox/bench")]
struct Args {
    /// Comma-separated programs (file names without `.lox`; default: all of the table).
    #[arg(long, value_delimiter = ',')]
    programs: Vec<String>,
    /// Rounds: each VM runs each program once per round.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Seconds a run may take before it is killed.
    #[arg(long, default_value_t = 300.0)]
    timeout: f64,
    /// The folder of Lox programs.
    #[arg(long)]
    bench_dir: Option<PathBuf>,
    /// clox's C sources (default: `$CLOX_SRC`, else `../shared/clox` beside the workspace).
    #[arg(long)]
    clox_src: Option<PathBuf>,
    /// Internal: run one program on Pinion's VM in this process and report (used by the driver).
    #[arg(long, hide = true)]
    child: Option<PathBuf>,
}

/// What a program stands for, and so its target.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Allocation-heavy: Pinion's VM at most clox's time.
    Allocating,
    /// Calls and closures: within 1.5x of clox.
    Other,
}

impl Kind {
    fn target(self) -> f64 {
        match self {
            Kind::Allocating => 1.0,
            Kind::Other => 1.5,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Allocating => "allocating",
            Kind::Other => "calls",
        }
    }
}

/// The programs, in `lox/bench/`.
const PROGRAMS: [(&str, Kind); 5] = [
    ("trees", Kind::Allocating),
    ("instantiation", Kind::Allocating),
    ("strings", Kind::Allocating),
    ("closures", Kind::Other),
    ("methods", Kind::Other),
];

/// Bytes an allocation-heavy program must allocate under Pinion.
const MIN_ALLOCATED: u64 = 1 << 30;
/// Seconds an allocation-heavy program must run under clox.
const MIN_CLOX_SECONDS: f64 = 1.0;

/// The marker of the statistics line a child writes to its standard error.
const STAT_PREFIX: &str = "lox-compare: allocated_bytes=";

struct Run {
    seconds: f64,
    peak_rss_mb: f64,
    output: Vec<u8>,
    allocated: Option<u64>,
}

fn main() {
    let args = Args::parse();
    if let Some(file) = &args.child {
        std::process::exit(child(file));
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let bench_dir = args
        .bench_dir
        .clone()
        .unwrap_or_else(|| workspace.join("lox/bench"));
    let programs: Vec<(&str, Kind)> = if args.programs.is_empty() {
        PROGRAMS.to_vec()
    } else {
        args.programs
            .iter()
            .map(|p| match PROGRAMS.iter().find(|(name, _)| name == p) {
                Some(&entry) => entry,
                None => {
                    eprintln!("lox-compare: unknown program {p:?}");
                    std::process::exit(2);
                }
            })
            .collect()
    };
    let clox = build_clox(&args, &workspace);
    match &clox {
        Ok(path) => println!("lox-compare: clox at {}", path.display()),
        Err(reason) => println!("lox-compare: clox n/a ({reason}): every target counts as not met"),
    }
    let mut pinion_runs: Vec<Vec<Run>> = programs.iter().map(|_| Vec::new()).collect();
    let mut clox_runs: Vec<Vec<Run>> = programs.iter().map(|_| Vec::new()).collect();
    let mut failed = false;
    for round in 0..args.rounds.max(1) {
        for (i, (name, _)) in programs.iter().enumerate() {
            let file = bench_dir.join(format!("{name}.lox"));
            let me = std::env::current_exe().expect("the running binary");
            let pinion = run(Command::new(&me).arg("--child").arg(&file), args.timeout);
            let theirs = clox
                .as_ref()
                .ok()
                .map(|clox| run(Command::new(clox).arg(&file), args.timeout));
            match pinion {
                Ok(run) => pinion_runs[i].push(run),
                Err(e) => {
                    println!("{name}: Pinion's VM failed: {e}");
                    failed = true;
                }
            }
            match theirs {
                Some(Ok(run)) => clox_runs[i].push(run),
                Some(Err(e)) => {
                    println!("{name}: clox failed: {e}");
                    failed = true;
                }
                None => {}
            }
            if let (Some(a), Some(b)) = (pinion_runs[i].last(), clox_runs[i].last()) {
                if a.output != b.output {
                    println!(
                        "{name}: wrong output: Pinion's VM printed {:?}, clox {:?}",
                        String::from_utf8_lossy(&a.output),
                        String::from_utf8_lossy(&b.output)
                    );
                    failed = true;
                }
            }
        }
        eprintln!("lox-compare: round {} of {} done", round + 1, args.rounds);
    }
    let met = report(&programs, &pinion_runs, &clox_runs);
    println!("targets: {met} of {} met", programs.len());
    if failed {
        std::process::exit(1);
    }
}

/// Runs one program on Pinion's VM (the child side) and reports the bytes it allocated.
fn child(file: &Path) -> i32 {
    let source = match std::fs::read_to_string(file) {
        Ok(source) => source,
        Err(e) => {
            eprintln!("lox-compare: cannot read {}: {e}", file.display());
            return 74;
        }
    };
    let mut lox = match lox::Lox::new(gc_core::Config::default()) {
        Ok(lox) => lox,
        Err(e) => {
            eprintln!("lox-compare: cannot make the heap: {e}");
            return 70;
        }
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let result = lox.interpret(&source, &mut out, &mut std::io::stderr());
    drop(out);
    let stats = lox.heap_mut().stats();
    eprintln!("{STAT_PREFIX}{}", stats.bytes_allocated);
    match result {
        Ok(()) => 0,
        Err(e) => e.exit_code(),
    }
}

/// Builds clox from its sources into the target directory, printing the command.
fn build_clox(args: &Args, workspace: &Path) -> Result<PathBuf, String> {
    let source = args
        .clox_src
        .clone()
        .or_else(|| std::env::var_os("CLOX_SRC").map(PathBuf::from))
        .unwrap_or_else(|| workspace.join("../shared/clox"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&source)
        .map_err(|e| format!("no sources at {}: {e}", source.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "c"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no C files in {}", source.display()));
    }
    let out_dir = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .parent()
        .ok_or("no target directory")?
        .join("clox");
    std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
    let exe = out_dir.join("clox");
    let mut command = Command::new("cc");
    command
        .arg("-O2")
        .arg("-o")
        .arg(&exe)
        .args(&files)
        .arg("-lm");
    println!(
        "lox-compare: building clox: cc -O2 -o {} {}/*.c -lm (DEBUG_* macros undefined as shipped)",
        exe.display(),
        source.display()
    );
    let status = command
        .status()
        .map_err(|e| format!("cannot run cc: {e}"))?;
    if !status.success() {
        return Err(format!("cc failed: {status}"));
    }
    Ok(exe)
}

/// Runs a command to completion, timing it and reading its peak memory.
fn run(command: &mut Command, timeout: f64) -> Result<Run, String> {
    for (key, _) in std::env::vars() {
        if key.starts_with("PINION_GC_") {
            command.env_remove(key);
        }
    }
    let start = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out_reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        stdout.read_to_end(&mut out).map(|_| out)
    });
    let err_reader = std::thread::spawn(move || {
        let mut err = String::new();
        stderr.read_to_string(&mut err).map(|_| err)
    });
    let (status, peak_rss_mb) = wait_with_peak_rss(child.id(), timeout)?;
    let seconds = start.elapsed().as_secs_f64();
    let output = out_reader
        .join()
        .expect("reader")
        .map_err(|e| e.to_string())?;
    let errors = err_reader
        .join()
        .expect("reader")
        .map_err(|e| e.to_string())?;
    if status == TIMED_OUT {
        return Err(format!("timed out after {timeout} s"));
    }
    let allocated = errors
        .lines()
        .find_map(|l| l.strip_prefix(STAT_PREFIX))
        .and_then(|n| n.parse().ok());
    if status != 0 {
        return Err(format!("exit status {status}: {}", errors.trim()));
    }
    Ok(Run {
        seconds,
        peak_rss_mb,
        output,
        allocated,
    })
}

/// Prints the table; returns how many targets were met.
fn report(programs: &[(&str, Kind)], pinion: &[Vec<Run>], clox: &[Vec<Run>]) -> usize {
    println!(
        "{:<14} {:>10} {:>10} {:>10} {:>11} {:>8} {:>12} {:>12} {:>13}  met",
        "program",
        "kind",
        "pinion s",
        "clox s",
        "pinion/clox",
        "target",
        "pinion MB",
        "clox MB",
        "allocated GB",
    );
    let mut met = 0;
    for (i, (name, kind)) in programs.iter().enumerate() {
        let summary = |runs: &[Run]| {
            (!runs.is_empty()).then(|| {
                (
                    median(runs.iter().map(|r| r.seconds).collect()),
                    median(runs.iter().map(|r| r.peak_rss_mb).collect()),
                )
            })
        };
        let (ours, theirs) = (summary(&pinion[i]), summary(&clox[i]));
        let allocated = pinion[i].iter().filter_map(|r| r.allocated).max();
        let show = |x: Option<(f64, f64)>, f: fn((f64, f64)) -> f64, digits: usize| {
            x.map_or("n/a".to_string(), |x| format!("{:.*}", digits, f(x)))
        };
        let ratio = ours.zip(theirs).map(|(a, b)| a.0 / b.0);
        let mut reasons = Vec::new();
        if *kind == Kind::Allocating {
            if allocated.is_none_or(|a| a < MIN_ALLOCATED) {
                reasons.push("allocates under 1 GB");
            }
            if theirs.is_none_or(|t| t.0 < MIN_CLOX_SECONDS) {
                reasons.push("clox under 1 s");
            }
        }
        let verdict = match ratio {
            None => "no (no comparison)".to_string(),
            Some(r) if r <= kind.target() && reasons.is_empty() => {
                met += 1;
                "yes".to_string()
            }
            Some(r) if r <= kind.target() => format!("no ({})", reasons.join(", ")),
            Some(_) => "no".to_string(),
        };
        println!(
            "{:<14} {:>10} {:>10} {:>10} {:>11} {:>8} {:>12} {:>12} {:>13}  {}",
            name,
            kind.name(),
            show(ours, |x| x.0, 3),
            show(theirs, |x| x.0, 3),
            ratio.map_or("n/a".into(), |r| format!("{r:.2}")),
            format!("<= {:.1}", kind.target()),
            show(ours, |x| x.1, 1),
            show(theirs, |x| x.1, 1),
            allocated.map_or("n/a".into(), |a| format!("{:.2}", a as f64 / 1e9)),
            verdict
        );
    }
    met
}
