//! `compare`: Pinion against the peers on one workload, side by side in one run.
//!
//! ```text
//! cargo run --release -p benches --bin compare -- binary-trees --size 21 --peers pinion,box
//! ```
//!
//! Each run is its own process (so that its peak resident memory and page faults, from
//! `wait4`, are its own); the peers are interleaved round by round (A B A B …) so that machine
//! noise falls on all of them alike. Every child reports its own in-process time of the
//! workload (`seconds=`; process start-up is not counted, for any peer). The table gives each
//! peer's median time, peak memory, minor page faults and ratios to Pinion; then each round's
//! time ratios; the last line is `ratio: box/pinion=X …` (medians) for every peer that ran.
//!
//! Children run with every `PINION_GC_*` variable cleared, so that Pinion runs with its
//! defaults; `pinion-4m` is Pinion with `PINION_GC_NURSERY=4MB` set for that child only (the
//! JVM's `-Xmn4m`). The JVM peers (`java-serial`: `-XX:+UseSerialGC` with default sizing;
//! `java-serial-4m`: also `-Xmn4m`; `java-serial-boxrss`: `-Xmx` set to the peak resident
//! memory of the `box` peer's run just before it in the same round, rounded up to a megabyte,
//! so the JVM's heap gets no more memory than `Box` needed for the whole process) run the same
//! algorithm from `benches/java/`, compiled with `javac` into the target directory on first
//! use (see `benches::jvm`). `java-serial-boxrss` needs a `box` run (it comes before the JVM
//! peers in every round); a JVM whose heap runs out under that cap is reported
//! `n/a (out of memory under -XmxNm)`.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Instant;

use benches::jvm;
use benches::process::{median, reap, TIMED_OUT};
use benches::workloads::{self, PEERS, WORKLOADS};
use clap::Parser;

/// Peers the driver runs itself rather than through `workloads::run`: Pinion with a fixed
/// 4 MB nursery, and the JVM's serial collector with default sizing, with a 4 MB young
/// generation, and with its heap capped at `box`'s peak resident memory.
const DRIVER_PEERS: [&str; 4] = [
    "pinion-4m",
    "java-serial",
    "java-serial-4m",
    JAVA_AT_BOX_RSS,
];

/// The JVM peer whose `-Xmx` is the `box` peer's peak resident memory in the same round.
const JAVA_AT_BOX_RSS: &str = "java-serial-boxrss";

/// Every peer, in the order the table prints them.
fn all_peers() -> Vec<&'static str> {
    let mut peers: Vec<&str> = PEERS.to_vec();
    peers.insert(1, DRIVER_PEERS[0]);
    let json = peers
        .iter()
        .position(|p| *p == "serde_json")
        .unwrap_or(peers.len());
    peers.insert(json, DRIVER_PEERS[1]);
    peers.insert(json + 1, DRIVER_PEERS[2]);
    peers.insert(json + 2, DRIVER_PEERS[3]);
    peers
}

#[derive(Parser)]
#[command(about = "Pinion against peer allocators and collectors, side by side")]
struct Args {
    /// The workload: binary-trees, gcbench, splay, list, array or json.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(WORKLOADS))]
    workload: String,
    /// Workload size (binary-trees: the depth, default 21; gcbench: the long-lived depth, default
    /// 16; splay: runs, default 2000; list: nodes, default 10000000; array: slots, default
    /// 1000000; json: the document's megabytes, default 50).
    #[arg(long)]
    size: Option<u64>,
    /// Comma-separated peers (default: all).
    #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(all_peers()))]
    peers: Vec<String>,
    /// Rounds: each peer runs once per round.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Seconds a run may take; a peer that exceeds it is killed and reported `n/a (timed out)`.
    #[arg(long, default_value_t = 120.0)]
    timeout: f64,
    /// Another build of `compare` (say, of the base commit, built in its own target
    /// directory): adds the peer `pinion-base`, Pinion as that build runs it, interleaved with
    /// the others.
    #[arg(long)]
    baseline: Option<std::path::PathBuf>,
    /// Internal: run one peer in this process and report (used by the driver).
    #[arg(long, hide = true)]
    child: Option<String>,
}

/// The peer that runs Pinion from the `--baseline` build.
const BASELINE_PEER: &str = "pinion-base";

/// One run of one peer, as the child reported it.
struct Run {
    seconds: f64,
    peak_rss_mb: f64,
    minor_faults: u64,
    /// Extra figures the workload reported on `stat: name=value` lines (splay's run times).
    stats: Vec<(String, f64)>,
}

fn main() {
    let args = Args::parse();
    let size = args
        .size
        .unwrap_or_else(|| workloads::default_size(&args.workload));
    if let Some(peer) = &args.child {
        std::process::exit(child(&args.workload, peer, size));
    }
    let mut peers: Vec<String> = if args.peers.is_empty() {
        all_peers().iter().map(|p| p.to_string()).collect()
    } else {
        args.peers.clone()
    };
    if args.baseline.is_some() {
        peers.insert(1, BASELINE_PEER.to_string());
    }
    raise_stack_limit();
    let expected = workloads::expected(&args.workload, size);
    let mut runs: Vec<Vec<Run>> = peers.iter().map(|_| Vec::new()).collect();
    let mut unavailable: Vec<Option<String>> = vec![None; peers.len()];
    println!(
        "compare: {} size {size}, {} rounds, peers {}",
        args.workload,
        args.rounds,
        peers.join(",")
    );
    let jvm = peers
        .iter()
        .any(|p| p.starts_with("java-"))
        .then(|| jvm::prepare(&args.workload));
    if let Some(Ok(jvm)) = &jvm {
        println!("compare: JVM peers: {}", jvm.describe());
    }
    let box_index = peers.iter().position(|p| p == "box");
    for round in 0..args.rounds.max(1) {
        for (i, peer) in peers.iter().enumerate() {
            if unavailable[i].is_some() {
                continue;
            }
            // `box`'s peak memory in this round, when it ran before this peer.
            let box_rss = box_index
                .filter(|&b| b < i)
                .and_then(|b| runs[b].get(round))
                .map(|run| run.peak_rss_mb);
            let launch = match launch(peer, args.baseline.as_deref(), jvm.as_ref(), box_rss) {
                Ok(launch) => launch,
                Err(reason) => {
                    unavailable[i] = Some(reason);
                    continue;
                }
            };
            match spawn(&args.workload, launch, size, &expected, args.timeout) {
                Ok(run) => runs[i].push(run),
                Err(reason) => unavailable[i] = Some(reason),
            }
        }
        eprintln!("compare: round {} of {} done", round + 1, args.rounds);
    }
    report(&peers, &runs, &unavailable);
}

/// How to start one peer's child process.
enum Launch {
    /// This binary (or the baseline's) running `peer` in a child, with an extra variable.
    Rust {
        exe: std::path::PathBuf,
        peer: &'static str,
        env: Option<(&'static str, &'static str)>,
    },
    /// The JVM running the workload's Java class with these options; `heap_cap` is its `-Xmx`
    /// option when it has one (named when the heap runs out).
    Java {
        command: Command,
        heap_cap: Option<String>,
    },
}

/// How `peer` starts, or why it cannot.
fn launch(
    peer: &str,
    baseline: Option<&std::path::Path>,
    jvm: Option<&Result<jvm::Jvm, String>>,
    box_rss_mb: Option<f64>,
) -> Result<Launch, String> {
    let this = || std::env::current_exe().map_err(|e| e.to_string());
    Ok(match peer {
        BASELINE_PEER => Launch::Rust {
            exe: baseline.ok_or("no --baseline given")?.to_path_buf(),
            peer: "pinion",
            env: None,
        },
        "pinion-4m" => Launch::Rust {
            exe: this()?,
            peer: "pinion",
            env: Some(("PINION_GC_NURSERY", "4MB")),
        },
        "java-serial" | "java-serial-4m" | JAVA_AT_BOX_RSS => {
            let jvm = match jvm {
                Some(Ok(jvm)) => jvm,
                Some(Err(reason)) => return Err(reason.clone()),
                None => return Err("the JVM was not prepared".into()),
            };
            let cap = match peer {
                JAVA_AT_BOX_RSS => Some(heap_cap(box_rss_mb)?),
                _ => None,
            };
            let sizing: Vec<&str> = match (peer, &cap) {
                ("java-serial-4m", _) => vec!["-Xmn4m"],
                (_, Some(cap)) => vec![cap.as_str()],
                _ => Vec::new(),
            };
            Launch::Java {
                command: jvm.command(&["-XX:+UseSerialGC"], &sizing),
                heap_cap: cap,
            }
        }
        other => Launch::Rust {
            exe: this()?,
            peer: PEERS
                .iter()
                .find(|p| **p == other)
                .ok_or_else(|| format!("{other} is not a peer compare knows"))?,
            env: None,
        },
    })
}

/// The JVM option capping its heap at `box`'s peak resident memory, rounded up to a megabyte.
fn heap_cap(box_rss_mb: Option<f64>) -> Result<String, String> {
    match box_rss_mb {
        Some(mb) if mb > 0.0 => Ok(format!("-Xmx{}m", mb.ceil() as u64)),
        _ => Err(format!(
            "{JAVA_AT_BOX_RSS} needs the peak memory of a box run earlier in the same round \
             (box among --peers, and able to run this workload)"
        )),
    }
}

/// Raises the soft stack limit, which the children inherit, to 4 GiB (or the hard limit): the
/// peers whose pointers free what they point to recursively (`gc` and `dumpster` dropping a
/// 10-million-node list) would otherwise overflow an 8 MB main stack. The workload runs on the child's
/// main thread, which the `bdwgc` peer's conservative stack scan requires.
fn raise_stack_limit() {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_STACK, &mut limit) == 0 {
            let wanted = (4u64 << 30).min(limit.rlim_max as u64);
            if (limit.rlim_cur as u64) < wanted {
                limit.rlim_cur = wanted as libc::rlim_t;
                libc::setrlimit(libc::RLIMIT_STACK, &limit);
            }
        }
    }
}

/// Runs the workload here and prints its lines and then `seconds=…`; exit 3 means "n/a".
fn child(workload: &str, peer: &str, size: u64) -> i32 {
    let start = Instant::now();
    match workloads::run(workload, peer, size) {
        Ok(lines) => {
            let seconds = start.elapsed().as_secs_f64();
            for line in lines {
                println!("{line}");
            }
            println!("seconds={seconds}");
            0
        }
        Err(reason) => {
            println!("n/a: {reason}");
            3
        }
    }
}

/// Runs one peer in a child process; checks its output and reads its peak memory and page
/// faults.
fn spawn(
    workload: &str,
    launch: Launch,
    size: u64,
    expected: &[String],
    timeout: f64,
) -> Result<Run, String> {
    let mut heap_cap = None;
    let mut command = match launch {
        Launch::Rust { exe, peer, env } => {
            let mut command = Command::new(exe);
            command.args([workload, "--size", &size.to_string(), "--child", peer]);
            // Pinion runs with its defaults: the driver's own settings do not leak in.
            for (name, _) in std::env::vars_os() {
                if name.to_string_lossy().starts_with("PINION_GC_") {
                    command.env_remove(name);
                }
            }
            if let Some((name, value)) = env {
                command.env(name, value);
            }
            command
        }
        Launch::Java {
            mut command,
            heap_cap: cap,
        } => {
            command.arg(size.to_string());
            if cap.is_some() {
                // A capped heap may run out: its error is read to say so.
                command.stderr(Stdio::piped());
            }
            heap_cap = cap;
            command
        }
    };
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        stdout.read_to_string(&mut out).map(|_| out)
    });
    // A capped JVM's error output, passed on as it is, kept to tell an exhausted heap.
    let errors = child.stderr.take().map(|mut stderr| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            eprint!("{text}");
            text
        })
    });
    let reaped = reap(child.id(), timeout)?;
    let out = reader
        .join()
        .expect("reader thread")
        .map_err(|e| e.to_string())?;
    let errors = errors.map(|e| e.join().expect("error reader thread"));
    if reaped.status == TIMED_OUT {
        return Err(format!("timed out after {timeout} s"));
    }
    if let (Some(cap), Some(errors)) = (&heap_cap, &errors) {
        if reaped.status != 0 && errors.contains("java.lang.OutOfMemoryError") {
            return Err(format!("out of memory under {cap}"));
        }
    }
    let (stat_lines, lines): (Vec<&str>, Vec<&str>) =
        out.lines().partition(|l| l.starts_with("stat: "));
    let stats = stat_lines
        .iter()
        .filter_map(|l| {
            let (name, value) = l.strip_prefix("stat: ")?.split_once('=')?;
            Some((name.to_string(), value.parse().ok()?))
        })
        .collect();
    if let Some(reason) = lines.first().and_then(|l| l.strip_prefix("n/a: ")) {
        return Err(reason.to_string());
    }
    if reaped.status != 0 {
        return Err(format!("failed: exit status {}", reaped.status));
    }
    let (seconds, output) = lines
        .split_last()
        .and_then(|(last, rest)| Some((last.strip_prefix("seconds=")?.parse().ok()?, rest)))
        .ok_or_else(|| format!("malformed output: {out}"))?;
    if output != expected {
        return Err(format!("wrong output: {output:?}, expected {expected:?}"));
    }
    Ok(Run {
        seconds,
        peak_rss_mb: reaped.peak_rss_mb,
        minor_faults: reaped.minor_faults,
        stats,
    })
}

fn report(peers: &[String], runs: &[Vec<Run>], unavailable: &[Option<String>]) {
    let medians: Vec<Option<(f64, f64, f64)>> = runs
        .iter()
        .map(|r| {
            (!r.is_empty()).then(|| {
                (
                    median(r.iter().map(|x| x.seconds).collect()),
                    median(r.iter().map(|x| x.peak_rss_mb).collect()),
                    median(r.iter().map(|x| x.minor_faults as f64).collect()),
                )
            })
        })
        .collect();
    let pinion_index = peers.iter().position(|p| p == "pinion");
    let pinion = pinion_index.and_then(|i| medians[i]);
    println!(
        "{:<18} {:>10} {:>12} {:>13} {:>12} {:>14}",
        "peer", "median s", "peak RSS MB", "minor faults", "time/pinion", "memory/pinion"
    );
    let mut ratios = Vec::new();
    for (i, peer) in peers.iter().enumerate() {
        match (medians[i], &unavailable[i]) {
            (Some((secs, mb, faults)), None) => {
                let (tr, mr) = match pinion {
                    Some((ps, pm, _)) => (format!("{:.2}", secs / ps), format!("{:.2}", mb / pm)),
                    None => ("-".into(), "-".into()),
                };
                println!("{peer:<18} {secs:>10.4} {mb:>12.1} {faults:>13.0} {tr:>12} {mr:>14}");
                if peer != "pinion" && pinion.is_some() {
                    ratios.push(format!("{peer}/pinion={tr}"));
                }
            }
            (_, reason) => {
                let reason = reason.as_deref().unwrap_or("no run completed");
                println!("{peer:<18} n/a ({reason})");
            }
        }
    }
    println!(
        "(seconds: each child's in-process time of the workload, start-up excluded; for the JVM \
         peers their first, cold run: `warm_s` below is a second run after it)"
    );
    if let Some(p) = pinion_index {
        // Each round's time ratios, so that the spread behind each median is visible.
        for (round, pinion_run) in runs[p].iter().enumerate() {
            let line: Vec<String> = peers
                .iter()
                .zip(runs)
                .filter(|(peer, _)| *peer != "pinion")
                .filter_map(|(peer, r)| {
                    let run = r.get(round)?;
                    Some(format!(
                        "{peer}/pinion={:.2}",
                        run.seconds / pinion_run.seconds
                    ))
                })
                .collect();
            println!("round {}: {}", round + 1, line.join(" "));
        }
    }
    report_stats(peers, runs);
    println!("ratio: {}", ratios.join(" "));
}

/// The workload's own figures (splay's per-run latencies, Pinion's longest pause): for each peer,
/// the median over the rounds of each figure.
fn report_stats(peers: &[String], runs: &[Vec<Run>]) {
    let mut names: Vec<&str> = Vec::new();
    for run in runs.iter().flatten() {
        for (name, _) in &run.stats {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
    }
    if names.is_empty() {
        return;
    }
    print!("{:<18}", "peer");
    for name in &names {
        print!(" {name:>16}");
    }
    println!("   (medians over the rounds)");
    for (peer, runs) in peers.iter().zip(runs) {
        if runs.is_empty() {
            continue;
        }
        print!("{peer:<18}");
        for name in &names {
            let values: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.stats.iter().find(|(n, _)| n == name).map(|(_, v)| *v))
                .collect();
            if values.is_empty() {
                print!(" {:>16}", "-");
            } else {
                print!(" {:>16.3}", median(values));
            }
        }
        println!();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jvm_heap_cap_is_box_s_peak_memory_rounded_up_to_a_megabyte() {
        assert_eq!(heap_cap(Some(258.7)).unwrap(), "-Xmx259m");
        assert_eq!(heap_cap(Some(259.0)).unwrap(), "-Xmx259m");
        let missing = heap_cap(None).unwrap_err();
        assert!(missing.contains("box among --peers"), "{missing}");
        assert!(heap_cap(Some(0.0)).is_err(), "no run measured nothing");
    }

    #[test]
    fn every_driver_peer_is_offered_once() {
        let peers = all_peers();
        for peer in DRIVER_PEERS {
            assert_eq!(peers.iter().filter(|p| **p == peer).count(), 1, "{peer}");
        }
        let position = |name: &str| peers.iter().position(|p| *p == name).unwrap();
        assert!(
            position("box") < position(JAVA_AT_BOX_RSS),
            "box runs before the peer that reads its memory"
        );
    }
}
