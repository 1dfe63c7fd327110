//! Built-in sinks: a trace line per collection on stderr, and a JSON-lines event log.
//!
//! Unlike user hooks they see every event, unmerged: the collector records events into the
//! preallocated ring and the heap writes them out after the collection.
//!
//! **Trace line** (`PINION_GC_TRACE=1`), one per collection, modelled on Go's
//! `GODEBUG=gctrace=1`:
//!
//! ```text
//! pinion: heap 1 gc 12 @3.512s minor pause 0.215ms heap 4096->1024 KB live 980 KB pinned 0 nursery 8192 KB
//! ```
//!
//! Fields: heap id; collection number (minor and major collections counted together); time
//! since the heap was created; `minor` or `major`; the pause; heap memory in use before ->
//! after (nursery used + old generation + large objects, KB = 1024 bytes); live: for a major
//! collection what survived it, for a minor one the old generation after it; pinned objects;
//! for a minor collection, the nursery size the young generation's sizing policy chose for the
//! next cycle.
//!
//! **Event log** (`PINION_GC_LOG=path`): one JSON object per event, appended to a file opened
//! once per process and shared by every heap that names it (each line carries the heap id).
//! Writes go through a lock held only while one line is written, after the collection.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde_json::{json, Value};

use crate::event::{Event, MajorState, PinRefusal};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The trace line of a collection event (`None` for other events); `number` counts minor and
/// major collections together.
pub fn trace_line(heap: u32, number: u64, event: &Event) -> Option<String> {
    let (kind, at, pause, before, after, live, pinned) = match event {
        Event::Minor(e) => (
            "minor",
            e.at,
            e.duration,
            e.memory_before,
            e.memory_after,
            e.memory_after,
            e.pinned_objects,
        ),
        Event::Major(e) => (
            "major",
            e.at,
            e.duration,
            e.memory_before,
            e.memory_after,
            e.arena_bytes_after + e.large_bytes_after,
            e.pinned_objects,
        ),
        _ => return None,
    };
    let nursery = match event {
        Event::Minor(e) => format!(" nursery {} KB", e.nursery_size / 1024),
        Event::Major(e) if e.sticky => " sticky".to_string(),
        _ => String::new(),
    };
    Some(format!(
        "pinion: heap {heap} gc {number} @{:.3}s {kind} pause {:.3}ms heap {}->{} KB live {} KB pinned {pinned}{nursery}",
        at.as_secs_f64(),
        ms(pause),
        before / 1024,
        after / 1024,
        live / 1024,
    ))
}

/// The JSON object of an event.
pub fn event_json(heap: u32, event: &Event) -> Value {
    let state = |s: MajorState| match s {
        MajorState::Idle => "idle",
        MajorState::Done => "done",
    };
    match event {
        Event::Minor(e) => json!({
            "heap": heap, "event": "minor", "number": e.number, "at_s": e.at.as_secs_f64(),
            "pause_ms": ms(e.duration), "memory_before": e.memory_before, "memory_after": e.memory_after,
            "surviving_bytes": e.surviving_bytes, "promoted_bytes": e.promoted_bytes,
            "pinned_objects": e.pinned_objects, "nursery_size": e.nursery_size,
        }),
        Event::MajorStep(e) => json!({
            "heap": heap, "event": "major-step", "old_state": state(e.old_state),
            "new_state": state(e.new_state), "done": e.done, "duration_ms": ms(e.duration),
        }),
        Event::Major(e) => json!({
            "heap": heap, "event": "major", "number": e.number, "at_s": e.at.as_secs_f64(),
            "pause_ms": ms(e.duration), "arenas_before": e.arenas_before, "arenas_after": e.arenas_after,
            "arena_bytes_before": e.arena_bytes_before, "arena_bytes_after": e.arena_bytes_after,
            "large_bytes_before": e.large_bytes_before, "large_bytes_after": e.large_bytes_after,
            "bytes_freed": e.bytes_freed, "pinned_objects": e.pinned_objects,
            "memory_before": e.memory_before, "memory_after": e.memory_after, "sticky": e.sticky,
        }),
        Event::PinRefused(e) => json!({
            "heap": heap, "event": "pin-refused",
            "reason": match e.reason { PinRefusal::Limit => "limit", PinRefusal::Disabled => "disabled" },
            "limit": e.limit, "pinned_objects": e.pinned_objects,
        }),
        Event::OutOfMemory(e) => json!({
            "heap": heap, "event": "out-of-memory", "requested": e.requested, "in_use": e.in_use,
            "limit": e.limit,
        }),
    }
}

/// A JSON-lines event log shared by every heap of the process that names the same file.
#[derive(Clone, Debug)]
pub struct EventLog {
    file: std::sync::Arc<Mutex<File>>,
    path: PathBuf,
}

fn registry() -> &'static Mutex<HashMap<PathBuf, std::sync::Arc<Mutex<File>>>> {
    static LOGS: OnceLock<Mutex<HashMap<PathBuf, std::sync::Arc<Mutex<File>>>>> = OnceLock::new();
    LOGS.get_or_init(|| Mutex::new(HashMap::new()))
}

impl EventLog {
    /// Opens (once per process) the log at `path`, appending.
    pub fn open(path: &Path) -> std::io::Result<EventLog> {
        let mut logs = registry().lock().unwrap_or_else(|e| e.into_inner());
        if let Some(file) = logs.get(path) {
            return Ok(EventLog {
                file: file.clone(),
                path: path.to_path_buf(),
            });
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let file = std::sync::Arc::new(Mutex::new(file));
        logs.insert(path.to_path_buf(), file.clone());
        Ok(EventLog {
            file,
            path: path.to_path_buf(),
        })
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one event as one line. Errors are reported once per log on stderr, not
    /// returned: a full disk must not break the program being observed.
    pub fn write(&self, heap: u32, event: &Event) {
        let mut line = event_json(heap, event).to_string();
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = file.write_all(line.as_bytes()) {
            static WARNED: std::sync::Once = std::sync::Once::new();
            WARNED.call_once(|| {
                eprintln!(
                    "pinion: cannot write the event log {}: {e}",
                    self.path.display()
                )
            });
        }
    }
}
