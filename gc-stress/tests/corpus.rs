//! Replays, on stable, everything the fuzzers and campaigns have kept: every file of the fuzz
//! corpora (`fuzz/corpus/*`) and every replay file in `gc-stress/replays/`. CI thus covers them
//! without nightly.

use std::path::{Path, PathBuf};

use gc_stress::{execute, fuzzing, Replay, VerifyMode};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn every_ops_corpus_file_passes() {
    let corpus = files(&root().join("fuzz/corpus/ops"));
    assert!(!corpus.is_empty(), "the ops corpus is committed");
    for path in corpus {
        let data = std::fs::read(&path).unwrap();
        let (settings, ops) = fuzzing::decode(&data);
        let (_, result) = execute(&ops, &settings, VerifyMode::EveryOp);
        assert!(result.is_ok(), "{}: {result:?}", path.display());
    }
}

#[test]
fn every_config_corpus_file_passes() {
    let corpus = files(&root().join("fuzz/corpus/config"));
    assert!(!corpus.is_empty(), "the config corpus is committed");
    for path in corpus {
        let data = std::fs::read(&path).unwrap();
        if let Ok(text) = std::str::from_utf8(&data) {
            let _ = gc_core::parse_size(text);
            let _ = gc_core::parse_factor(text);
            fuzzing::check_config_text(text);
        }
    }
}

#[test]
fn every_kept_replay_passes() {
    let replays: Vec<PathBuf> = files(&root().join("gc-stress/replays"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "replay"))
        .collect();
    assert!(!replays.is_empty());
    for path in replays {
        let replay = Replay::read(&path).unwrap();
        let (_, result) = execute(&replay.ops, &replay.settings, replay.verify);
        assert!(result.is_ok(), "{}: {result:?}", path.display());
    }
}
