//! `gc-stress fork-cow`: what a prefork server's workers pay when they collect.
//!
//! The parent builds a live set; a child is forked and runs full collections; the child
//! reports how much memory it had to copy (the growth of its `Private_Dirty` in
//! `/proc/self/smaps_rollup` while it collected), relative to the heap's size. Run once
//! without and once with `freeze` (CPython's `gc.freeze`, the fix Instagram adopted: before
//! it, collections in the workers wrote to every object and copied the parent's heap).

use gc_core::{Config, GcArray, Heap, Member, Trace};

#[derive(Trace)]
struct Cell {
    value: u64,
    next: Member<Cell>,
}

/// One measurement.
#[derive(Clone, Copy, Debug)]
pub struct Measurement {
    /// Heap bytes (old generation and large objects) when the child was forked.
    pub heap_bytes: u64,
    /// Bytes the child's collections made private (copied).
    pub child_dirty: u64,
}

impl Measurement {
    /// The copied bytes as a fraction of the heap.
    pub fn ratio(&self) -> f64 {
        self.child_dirty as f64 / self.heap_bytes.max(1) as f64
    }
}

/// Private dirty bytes of this process.
fn private_dirty() -> u64 {
    let text = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("Private_Dirty:"))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum::<u64>()
        * 1024
}

/// Forks a child that runs `collections` full collections and reports the growth of its
/// private dirty memory through a pipe.
fn measure_child(s: &mut gc_core::Scope<'_>, collections: u32) -> std::io::Result<u64> {
    let mut fds = [0i32; 2];
    // SAFETY: pipe() writes two descriptors into the array.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the process is single-threaded here (no C thread was started), so the child may
    // run ordinary code before it exits.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if pid == 0 {
        let before = private_dirty();
        for _ in 0..collections {
            s.collect_major();
        }
        let grown = private_dirty().saturating_sub(before).to_le_bytes();
        // SAFETY: fds[1] is the pipe's write end; the child exits right after, without
        // running destructors that could touch the parent's state.
        unsafe {
            libc::write(fds[1], grown.as_ptr().cast(), grown.len());
            libc::_exit(0);
        }
    }
    let mut buf = [0u8; 8];
    // SAFETY: fds[0] is the read end; buf has room for the 8 bytes the child writes.
    let n = unsafe {
        libc::close(fds[1]);
        let n = libc::read(fds[0], buf.as_mut_ptr().cast(), buf.len());
        libc::close(fds[0]);
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        n
    };
    if n != 8 {
        return Err(std::io::Error::other("the child did not report"));
    }
    Ok(u64::from_le_bytes(buf))
}

/// Builds a live set of about `mb` MB, then measures a child's collections without and with
/// `freeze`.
pub fn fork_cow(
    config: Config,
    mb: usize,
    collections: u32,
) -> std::io::Result<(Measurement, Measurement)> {
    let mut heap = Heap::new(config).map_err(std::io::Error::other)?;
    let mut result = Ok((
        Measurement {
            heap_bytes: 0,
            child_dirty: 0,
        },
        Measurement {
            heap_bytes: 0,
            child_dirty: 0,
        },
    ));
    heap.scope(|s| {
        let cells_per_chunk = 4096;
        let chunks = (mb << 20) / (cells_per_chunk * 32);
        let root = s.alloc_array::<GcArray<Cell>>(chunks).unwrap();
        for c in 0..chunks {
            s.scope(|s| {
                let chunk = s.alloc_array::<Cell>(cells_per_chunk).unwrap();
                s.array_set(root, c, Some(chunk));
                for i in 0..cells_per_chunk {
                    s.scope(|s| {
                        let cell = s
                            .alloc(Cell {
                                value: i as u64,
                                next: Member::null(),
                            })
                            .unwrap();
                        s.array_set(chunk, i, Some(cell));
                    });
                }
            });
        }
        s.collect_major();
        let heap_bytes = |s: &gc_core::Scope<'_>| {
            let st = s.stats();
            (st.old_bytes + st.large_object_bytes) as u64
        };
        result = (|| {
            let before = Measurement {
                heap_bytes: heap_bytes(s),
                child_dirty: measure_child(s, collections)?,
            };
            s.freeze();
            let after = Measurement {
                heap_bytes: s.stats().frozen_bytes as u64,
                child_dirty: measure_child(s, collections)?,
            };
            Ok((before, after))
        })();
    });
    result
}
