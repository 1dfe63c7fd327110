//! The classic GC workloads, written once per peer with the same algorithm, for the `compare`
//! binary. Each workload returns the lines it prints, so the driver can check that every peer
//! computed the same answer.

pub mod array;
pub mod binary_trees;
pub mod gcbench;
pub mod json;
pub mod list;
mod peer_bdwgc;
mod peer_dumpster;
mod peer_gc;
mod peer_gc_arena;
mod shared_pointer;
pub mod splay;
mod splay_peers;

/// The peers, in the order `compare` prints them (`serde_json` runs only `json`).
pub const PEERS: [&str; 9] = [
    "pinion",
    "box",
    "rc",
    "bumpalo",
    "gc",
    "gc-arena",
    "dumpster",
    "bdwgc",
    "serde_json",
];

/// The workloads `compare` runs.
pub const WORKLOADS: [&str; 6] = ["binary-trees", "gcbench", "splay", "list", "array", "json"];

/// Why a peer did not run a workload (printed as `n/a (reason)`).
pub type NotAvailable = String;

/// Runs `workload` of size `size` for `peer` in this process, returning its output lines, or why
/// the peer cannot run it.
pub fn run(workload: &str, peer: &str, size: u64) -> Result<Vec<String>, NotAvailable> {
    if peer == "serde_json" && workload != "json" {
        return Err("serde_json is a JSON library: it runs only the json workload".into());
    }
    match workload {
        "binary-trees" => binary_trees::run(peer, size as u32),
        "gcbench" => gcbench::run(peer, size as u32),
        "splay" => splay::run(peer, size),
        "list" => list::run(peer, size),
        "array" => array::run(peer, size),
        "json" => json::run(peer, size),
        other => Err(format!("unknown workload {other}")),
    }
}

/// The output every peer must print for `workload` of size `size`.
pub fn expected(workload: &str, size: u64) -> Vec<String> {
    match workload {
        "binary-trees" => binary_trees::expected(size as u32),
        "gcbench" => gcbench::expected((size as u32).max(4)),
        "splay" => splay::expected(size),
        "list" => list::expected(size),
        "array" => array::expected(size),
        "json" => json::expected(size),
        _ => Vec::new(),
    }
}

/// The default size of `workload` (the standard size where one exists).
pub fn default_size(workload: &str) -> u64 {
    match workload {
        "binary-trees" => 21,
        "gcbench" => 16,
        "array" => 1_000_000,
        "splay" => 2_000,
        "json" => 50,
        _ => 10_000_000,
    }
}

/// The reason given for a peer name `compare` does not know.
pub(crate) fn unknown_peer(peer: &str) -> NotAvailable {
    format!("{peer} is not a peer compare knows")
}

/// A Pinion heap configured from the `PINION_GC_*` variables, as an embedder would create it.
pub(crate) fn pinion_heap() -> Result<gc_core::Heap, NotAvailable> {
    let config = gc_core::Config::from_env().map_err(|e| e.to_string())?;
    gc_core::Heap::new(config).map_err(|e| e.to_string())
}
