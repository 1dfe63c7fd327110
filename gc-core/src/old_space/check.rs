//! The allocator's bookkeeping checked against its bitmaps, for the heap verifier: what the
//! free lists, the live counts, the runs and the committed-page count must agree on.

use super::page::{BITMAP_WORDS, NO_CLASS};
use super::{bits, OldSpace, PAGES_PER_ARENA};

impl OldSpace {
    /// Checks the allocator's own bookkeeping: listed pages belong to their class and have a
    /// free slot, live counts match the bitmaps, no bit is set past a page's last slot.
    pub(crate) fn check_free_lists(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.runs_ended() {
            // Its unused slots would count as allocated objects.
            problems.push("a promotion run is open outside a minor collection".into());
        }
        for (class, list) in self.available.iter().enumerate() {
            for id in list {
                let meta = &self.arenas[id.arena as usize].pages[id.page as usize];
                if meta.class as usize != class {
                    problems.push(format!(
                        "page {id:?} listed for class {class} has class {}",
                        meta.class
                    ));
                }
            }
        }
        let recount: usize = self
            .arenas
            .iter()
            .map(|a| a.committed.count_ones() as usize)
            .sum();
        if recount != self.committed_pages {
            problems.push(format!(
                "{} committed pages counted, but the arenas' bits hold {recount}",
                self.committed_pages
            ));
        }
        let mut bytes = 0;
        for (class, list) in self.available.iter().enumerate() {
            for id in list {
                if self.arenas[id.arena as usize].sealed {
                    problems.push(format!(
                        "page {id:?} of a sealed arena is listed for class {class}"
                    ));
                }
            }
        }
        for arena in &self.arenas {
            let classed = arena
                .pages
                .iter()
                .skip(1)
                .filter(|m| m.class != NO_CLASS)
                .count() as u32;
            if classed != arena.used
                || arena.free.count_ones() + classed != PAGES_PER_ARENA as u32 - 1
            {
                problems.push(format!(
                    "arena counts {} used pages and {} free, but {classed} have a class",
                    arena.used,
                    arena.free.count_ones()
                ));
            }
            if arena.free & 1 != 0
                || bits(arena.free).any(|p| arena.pages[p as usize].class != NO_CLASS)
            {
                problems.push("a page on an arena's free list has a size class".into());
            }
            for meta in arena.pages.iter().filter(|m| m.class != NO_CLASS) {
                let counted: u32 = meta.alloc.iter().map(|w| w.count_ones()).sum();
                if counted != meta.live {
                    problems.push(format!(
                        "page live count {} but {counted} bits set",
                        meta.live
                    ));
                }
                for w in 0..BITMAP_WORDS {
                    let valid = if w < meta.words() { meta.valid(w) } else { 0 };
                    if meta.alloc[w] & !valid != 0 {
                        problems.push("allocation bit set past the page's last slot".into());
                    }
                    if meta.mark[w] & !meta.alloc[w] != 0 && !arena.sealed {
                        // A free slot's bit would make the object allocated there next kept
                        // from birth by the sticky collections (`collect/major.rs`).
                        problems.push("mark bit set on a free slot".into());
                    }
                }
                bytes += meta.live as usize * meta.slot_size as usize;
            }
        }
        if bytes != self.bytes_in_use {
            problems.push(format!(
                "bytes_in_use {} but slots hold {bytes}",
                self.bytes_in_use
            ));
        }
        problems
    }
}
