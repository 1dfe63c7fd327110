//! Replay files: a failing program, written so that it runs again exactly.
//!
//! ```text
//! # pinion gc-stress replay v1
//! # seed=8411620131512341 (program 3 of a campaign with seed 42)
//! # workload=random
//! # verify=every-gc
//! # failure at op 17: object 4 (Node): payload differs from the model
//! # PINION_GC_NURSERY=4194304
//! # PINION_GC_NURSERY_DEBUG=0
//! # ... every heap setting ...
//! alloc-node 77
//! corrupt 0
//! major
//! ```
//!
//! Lines starting with `#` are the header; `# PINION_GC_NAME=value` lines set the heap, a
//! `# verify=` line sets the check frequency; the others are comments. Every other non-empty
//! line is one operation (see [`crate::ops`]).

use std::path::Path;

use crate::exec::VerifyMode;
use crate::ops::{Op, ParseOpError};
use crate::settings::{HeapSettings, SettingError};

/// Marks a replay file.
pub const MAGIC: &str = "# pinion gc-stress replay v1";

/// A program with everything needed to run it again.
#[derive(Clone, Debug, PartialEq)]
pub struct Replay {
    /// The heap settings.
    pub settings: HeapSettings,
    /// When to check.
    pub verify: VerifyMode,
    /// Header comment lines (seed, workload, failure), without the leading `# `.
    pub notes: Vec<String>,
    /// The operations.
    pub ops: Vec<Op>,
}

/// Why a replay file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The first line is not the replay header.
    #[error("{path} is not a replay file (its first line is not `{MAGIC}`)")]
    NotAReplay {
        /// The file.
        path: String,
    },
    /// A line is not an operation.
    #[error("{path}:{line}: {source}")]
    Op {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        source: ParseOpError,
    },
    /// A header setting is invalid.
    #[error("{path}:{line}: {source}")]
    Setting {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        source: SettingError,
    },
}

impl Replay {
    /// Renders the file's text.
    pub fn to_text(&self) -> String {
        let mut out = String::from(MAGIC);
        out.push('\n');
        for note in &self.notes {
            out.push_str(&format!("# {}\n", note.replace('\n', " ")));
        }
        out.push_str(&format!("# verify={}\n", self.verify.name()));
        for (name, value) in self.settings.pairs() {
            out.push_str(&format!("# PINION_GC_{name}={value}\n"));
        }
        for op in &self.ops {
            out.push_str(&format!("{op}\n"));
        }
        out
    }

    /// Parses a file's text; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<Replay, ReplayError> {
        let mut lines = text.lines();
        if lines.next().map(str::trim) != Some(MAGIC) {
            return Err(ReplayError::NotAReplay { path: path.into() });
        }
        let mut replay = Replay {
            settings: HeapSettings::default(),
            verify: VerifyMode::EveryGc,
            notes: Vec::new(),
            ops: Vec::new(),
        };
        for (i, line) in lines.enumerate() {
            let line_no = i + 2;
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(header) = line.strip_prefix('#') {
                let header = header.trim();
                if let Some(setting) = header.strip_prefix("PINION_GC_") {
                    let (name, value) = setting.split_once('=').unwrap_or((setting, ""));
                    replay
                        .settings
                        .apply(name, value)
                        .map_err(|source| ReplayError::Setting {
                            path: path.into(),
                            line: line_no,
                            source,
                        })?;
                } else if let Some(mode) = header.strip_prefix("verify=") {
                    replay.verify = if mode == "every-op" {
                        VerifyMode::EveryOp
                    } else {
                        VerifyMode::EveryGc
                    };
                } else {
                    replay.notes.push(header.to_string());
                }
                continue;
            }
            let op = line.parse().map_err(|source| ReplayError::Op {
                path: path.into(),
                line: line_no,
                source,
            })?;
            replay.ops.push(op);
        }
        Ok(replay)
    }

    /// Reads a replay file.
    pub fn read(path: &Path) -> Result<Replay, ReplayError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ReplayError::Io {
            path: shown.clone(),
            source,
        })?;
        Replay::parse(&text, &shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_round_trips_through_text() {
        let replay = Replay {
            settings: HeapSettings::from_config(gc_core::Config::default().with_nursery_size(1024)),
            verify: VerifyMode::EveryOp,
            notes: vec!["seed=5".into()],
            ops: vec![
                Op::AllocNode { payload: 1 },
                Op::Minor,
                Op::Write {
                    src: 0,
                    slot: 0,
                    dst: None,
                },
            ],
        };
        let parsed = Replay::parse(&replay.to_text(), "mem").unwrap();
        assert_eq!(parsed, replay);
        assert!(matches!(
            Replay::parse("hello", "mem"),
            Err(ReplayError::NotAReplay { .. })
        ));
        let bad = format!("{MAGIC}\nalloc-node x\n");
        assert!(matches!(
            Replay::parse(&bad, "mem"),
            Err(ReplayError::Op { line: 2, .. })
        ));
    }
}
