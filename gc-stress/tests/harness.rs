//! The harness can pass, can fail, and reproduces what it finds.

use std::process::Command;

use gc_stress::{execute, run, Campaign, HeapSettings, Op, Replay, VerifyMode};

fn campaign(dir: &std::path::Path, seed: u64, ops: u64) -> Campaign {
    Campaign {
        duration: None,
        max_ops: Some(ops),
        seed,
        workload: "random".into(),
        verify: VerifyMode::EveryGc,
        program_ops: 5_000,
        settings: HeapSettings::default(),
        out_dir: dir.to_path_buf(),
        inject_corruption: None,
        configs: Vec::new(),
        shrink: true,
    }
}

#[test]
fn clean_campaigns_pass_for_several_seeds() {
    let dir = tempfile::tempdir().unwrap();
    for seed in [1, 2, 3] {
        let summary = run(&campaign(dir.path(), seed, 30_000), |_| {});
        assert_eq!(summary.failures, 0, "seed {seed}: {:?}", summary.failure);
        assert_eq!(summary.ops, 30_000);
        assert!(summary.minor > 0 && summary.major > 0 && summary.verified > 0);
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no replay written"
    );
}

#[test]
fn a_payload_flipped_behind_the_models_back_is_detected() {
    let ops = [
        Op::AllocNode { payload: 1 },
        Op::Corrupt { root: 0 },
        Op::Minor,
    ];
    let (_, result) = execute(&ops, &HeapSettings::default(), VerifyMode::EveryGc);
    let failure = result.unwrap_err();
    assert_eq!(failure.op_index, 2);
    assert!(
        failure.message.contains("payload differs"),
        "{}",
        failure.message
    );
    // Without the corruption the same program passes.
    let clean = [Op::AllocNode { payload: 1 }, Op::Minor];
    assert!(
        execute(&clean, &HeapSettings::default(), VerifyMode::EveryGc)
            .1
            .is_ok()
    );
}

#[test]
fn a_failing_campaign_writes_a_replay_that_reproduces_the_failure() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = campaign(dir.path(), 11, 200_000);
    c.inject_corruption = Some(50);
    let summary = run(&c, |_| {});
    assert_eq!(summary.failures, 1);
    let path = std::path::PathBuf::from(summary.replay.clone().expect("a replay path"));
    assert!(path.exists(), "{}", path.display());
    let replay = Replay::read(&path).unwrap();
    assert!(replay.ops.contains(&Op::Corrupt { root: 0 }));
    assert!(replay.notes.iter().any(|n| n.starts_with("seed=")));
    let (_, result) = execute(&replay.ops, &replay.settings, replay.verify);
    let failure = result.unwrap_err();
    // The shrunk replay fails the same way (ids and positions aside).
    let found = summary.failure.clone().unwrap();
    assert_eq!(
        gc_stress::shrink::signature(&failure.message),
        gc_stress::shrink::signature(
            found
                .split_once(": ")
                .unwrap()
                .1
                .split(" (workload")
                .next()
                .unwrap()
        )
    );

    // The command line agrees: `replay` exits 1 on a reproduced failure.
    let out = Command::new(env!("CARGO_BIN_EXE_gc-stress"))
        .arg("replay")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("reproduced a failure"));

    // Removing the corruption from the replay makes it pass (exit 0).
    let mut fixed = replay.clone();
    fixed.ops.retain(|op| !matches!(op, Op::Corrupt { .. }));
    let fixed_path = dir.path().join("fixed.replay");
    std::fs::write(&fixed_path, fixed.to_text()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gc-stress"))
        .arg("replay")
        .arg(&fixed_path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn stress_settings_in_a_replay_header_are_honoured() {
    let settings = HeapSettings::from_config(
        gc_core::Config::default()
            .with_nursery_size(2048)
            .with_stress(Some(2)),
    );
    let ops: Vec<Op> = (0..200).map(|i| Op::AllocNode { payload: i }).collect();
    let (stats, result) = execute(&ops, &settings, VerifyMode::EveryGc);
    assert!(result.is_ok());
    assert!(
        stats.minor >= 100,
        "stress mode collects every 2 allocations: {}",
        stats.minor
    );
    let replay = Replay {
        settings: settings.clone(),
        verify: VerifyMode::EveryOp,
        notes: vec![],
        ops,
    };
    let parsed = Replay::parse(&replay.to_text(), "mem").unwrap();
    assert_eq!(parsed.settings, settings);
}

#[test]
fn pin_operations_keep_objects_in_place_and_the_c_thread_sees_the_model() {
    let ops = [
        Op::AllocBytes { len: 64, seed: 1 },
        Op::Pin { root: 0 },
        Op::CFill { pin: 0, value: 7 },
        Op::AllocNode { payload: 2 },
        Op::Minor,
        Op::CFill { pin: 0, value: 9 },
        Op::Major,
        Op::PinnedWrite {
            pin: 0,
            offset: 3,
            value: 1,
        },
        Op::Ffi {
            root: 0,
            offset: 4,
            value: 2,
        },
        Op::Minor,
        Op::DropRoot { root: 0 }, // only the pin keeps the byte string now
        Op::Minor,
        Op::Unpin { pin: 0 },
        Op::Minor,
    ];
    let (stats, result) = execute(&ops, &HeapSettings::default(), VerifyMode::EveryOp);
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(
        stats.pins, 1,
        "the pin op; the FFI helper hands the pinned object over in place"
    );
    // With pinning disabled the same program passes, refusing the pin op; the FFI helper
    // hands the (promoted, so non-moving) object over in place without asking for a pin.
    let settings = HeapSettings::from_config(gc_core::Config::default().with_max_pinned(0));
    let (stats, result) = execute(&ops, &settings, VerifyMode::EveryOp);
    assert!(result.is_ok(), "{result:?}");
    assert_eq!((stats.pins, stats.refused), (0, 1));
}

#[test]
fn weak_references_and_identity_hashes_follow_the_model() {
    let ops = [
        Op::AllocNode { payload: 1 },
        Op::Hash { root: 0 },
        Op::Weak { root: 0 },
        Op::PushScope,
        Op::AllocNode { payload: 2 },
        Op::Weak { root: 1 }, // the inner level's own node
        Op::Hash { root: 1 },
        Op::PopScope, // the node of payload 2 is unreachable now
        Op::Minor,
        Op::WeakRead { weak: 1 }, // cleared: a young object died
        Op::WeakRead { weak: 0 }, // alive, moved: becomes a root again
        Op::Major,
        Op::Hash { root: 0 },
    ];
    let (stats, result) = execute(&ops, &HeapSettings::default(), VerifyMode::EveryOp);
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(stats.major, 1);
}

#[test]
fn a_detected_corruption_is_shrunk_to_a_few_operations_that_reproduce_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = campaign(dir.path(), 11, 200_000);
    c.inject_corruption = Some(50);
    let summary = run(&c, |_| {});
    assert_eq!(summary.failures, 1);
    let (before, after) = summary.shrunk.expect("shrunk");
    assert!(before > 50, "the failing program had {before} operations");
    assert!(after <= 10, "shrunk to {after} operations");
    let replay = Replay::read(std::path::Path::new(summary.replay.as_ref().unwrap())).unwrap();
    assert_eq!(replay.ops.len(), after);
    assert!(replay.notes.iter().any(|n| n.starts_with("shrunk from")));
    let (_, result) = execute(&replay.ops, &replay.settings, replay.verify);
    assert!(
        result.unwrap_err().message.contains("payload differs"),
        "the same failure"
    );
}

#[test]
fn configurations_and_workloads_cycle_through_every_pair() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = campaign(dir.path(), 2, 0);
    c.max_ops = None;
    c.workload = "all".into();
    c.configs = gc_stress::configs::select("default,tiny-nursery").unwrap();
    let programs: Vec<_> = (0..12)
        .map(|i| gc_stress::campaign::program(&c, i, 10))
        .collect();
    let pairs: std::collections::HashSet<_> =
        programs.iter().map(|p| (p.workload, p.config)).collect();
    assert_eq!(pairs.len(), 12, "6 workloads x 2 configurations");
    assert_eq!(programs[1].settings.to_config().nursery_size(), 4096);
}
