//! The command-line contract later issues rely on.

use std::process::Command;

fn gc_stress(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gc-stress"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn run_prints_the_summary_line_last_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let out = gc_stress(&["run", "--ops", "20000", "--seed", "5"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let last = stdout.lines().last().unwrap();
    let keys: Vec<&str> = last
        .strip_prefix("summary: ")
        .expect("summary line")
        .split(' ')
        .map(|kv| kv.split('=').next().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["ops", "minor", "major", "verified", "pins", "refused", "failures", "seed"]
    );
    assert!(last.contains("ops=20000") && last.contains("failures=0") && last.ends_with("seed=5"));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("seed=5"),
        "the seed is printed"
    );
}

#[test]
fn json_puts_exactly_one_object_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = gc_stress(
        &[
            "run", "--ops", "5000", "--seed", "9", "--json", "--verify", "every-op",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let value: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    for key in [
        "ops",
        "minor",
        "major",
        "verified",
        "pins",
        "refused",
        "failures",
        "seed",
        "ops_per_sec",
    ] {
        assert!(value.get(key).is_some(), "missing {key}");
    }
    assert_eq!(value["ops"], 5000);
    assert_eq!(value["verify"], "every-op");
    assert_eq!(stdout.trim().lines().count(), 1);
}

#[test]
fn a_failure_exits_one_and_names_the_reproducer() {
    let dir = tempfile::tempdir().unwrap();
    let out = gc_stress(
        &[
            "run",
            "--ops",
            "200000",
            "--seed",
            "11",
            "--inject-corruption",
            "50",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("reproducer written to stress-failures/"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("failures=1"));
}

#[test]
fn usage_errors_exit_two_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = gc_stress(&["run", "--workload", "nope"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown workload `nope`"));
    let out = gc_stress(&["run", "--verify", "sometimes"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let out = gc_stress(&["replay", "missing.replay"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read missing.replay"));
    std::fs::write(
        dir.path().join("bad.replay"),
        "# pinion gc-stress replay v1\nfly 3\n",
    )
    .unwrap();
    let out = gc_stress(&["replay", "bad.replay"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.replay:2"));
}

#[test]
fn a_bad_or_unknown_environment_variable_exits_two_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gc-stress"))
        .args(["run", "--ops", "100"])
        .env("PINION_GC_NURSERY", "lots")
        .env("PINION_GC_NURSRY", "4M")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("PINION_GC_NURSERY=\"lots\": expected a size"),
        "{stderr}"
    );
    assert!(
        stderr.contains("PINION_GC_NURSRY=\"4M\": expected a known variable"),
        "{stderr}"
    );
}

#[test]
fn environment_settings_reach_the_heap_and_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gc-stress"))
        .args(["run", "--ops", "3000", "--seed", "2", "--json"])
        .env("PINION_GC_NURSERY", "16K")
        .env("PINION_GC_STRESS", "50")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["settings"]["PINION_GC_NURSERY"], "16384");
    assert_eq!(v["settings"]["PINION_GC_STRESS"], "50");
    assert!(
        v["minor"].as_u64().unwrap() > 20,
        "stress mode collects: {}",
        v["minor"]
    );
}

#[test]
fn pinned_ffi_pins_by_default_and_refuses_everything_with_max_pinned_zero() {
    let dir = tempfile::tempdir().unwrap();
    let run = |max_pinned: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gc-stress"));
        cmd.args([
            "run",
            "--workload",
            "pinned-ffi",
            "--ops",
            "30000",
            "--seed",
            "4",
            "--json",
        ]);
        if let Some(v) = max_pinned {
            cmd.env("PINION_GC_MAX_PINNED", v);
        }
        let out = cmd.current_dir(dir.path()).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let default = run(None);
    assert!(default["pins"].as_u64().unwrap() > 0, "{default}");
    assert_eq!(default["failures"], 0);
    let disabled = run(Some("0"));
    assert_eq!(disabled["pins"], 0, "{disabled}");
    assert!(disabled["refused"].as_u64().unwrap() > 0, "{disabled}");
    assert_eq!(disabled["settings"]["PINION_GC_MAX_PINNED"], "0");
}

#[test]
fn trace_prints_a_line_per_collection_and_log_writes_a_json_line_per_event() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_gc-stress"))
        .args(["run", "--ops", "40000", "--seed", "8", "--json"])
        .env("PINION_GC_TRACE", "1")
        .env("PINION_GC_LOG", &log)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let collections = summary["minor"].as_u64().unwrap() + summary["major"].as_u64().unwrap();
    assert!(collections > 0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let traces: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("pinion: heap "))
        .collect();
    assert_eq!(
        traces.len() as u64,
        collections,
        "one trace line per collection"
    );
    // The documented format: heap H gc N @Ts kind pause Xms heap A->B KB live L KB pinned P.
    let fields: Vec<&str> = traces[0].split_whitespace().collect();
    assert_eq!((fields[1], fields[3], fields[7]), ("heap", "gc", "pause"));
    assert!(fields[5].starts_with('@') && fields[5].ends_with('s'));
    assert!(["minor", "major"].contains(&fields[6]));
    let text = std::fs::read_to_string(&log).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("valid JSON"))
        .collect();
    let logged = events
        .iter()
        .filter(|e| e["event"] == "minor" || e["event"] == "major")
        .count() as u64;
    assert_eq!(logged, collections, "one JSON line per collection");
}

fn gc_stress_env(
    args: &[&str],
    env: &[(&str, &str)],
    dir: &std::path::Path,
) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gc-stress"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Issue 14: bad input from the command line, the environment or a hand-written replay is a
/// usage or configuration error (exit 2, a message, no panic and no reproducer), never a crash
/// or a reported collector failure.
#[test]
fn bad_input_is_a_clear_error_with_exit_code_two() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case<'_>] = &[
        (&["run", "--seconds", "1e30"], &[], "--seconds"),
        (&["run", "--seconds", "inf"], &[], "--seconds"),
        (
            &["run", "--seconds", "1"],
            &[("PINION_GC_NURSERY", "9999999999G")],
            "PINION_GC_NURSERY",
        ),
        (
            &["run", "--seconds", "1"],
            &[("PINION_GC_NURSERY", "0")],
            "PINION_GC_NURSERY",
        ),
        (&["soak", "--minutes", "inf"], &[], "--minutes"),
        (&["soak", "--minutes", "1e30"], &[], "--minutes"),
        (
            &["soak", "--minutes", "1", "--cycle-seconds", "1e30"],
            &[],
            "--cycle-seconds",
        ),
        (
            &["soak", "--minutes", "1", "--cycle-seconds", "1e15"],
            &[],
            "--cycle-seconds",
        ),
        (
            &["replay", "huge-bytes.replay"],
            &[],
            "at most 16777216 bytes",
        ),
    ];
    std::fs::write(
        d.join("huge-bytes.replay"),
        "# pinion gc-stress replay v1\nalloc-bytes 4294967295 1\n",
    )
    .unwrap();
    for (args, env, expected) in cases {
        let out = gc_stress_env(args, env, d);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?} {env:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    assert!(
        !d.join("stress-failures").exists(),
        "a configuration error writes no reproducer"
    );
}
