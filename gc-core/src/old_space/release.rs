//! Memory given back to the OS: free pages released, and arenas left with no object page
//! unmapped whole.
//!
//! How much to keep is the retention policy's decision (`retention.rs`); this module carries it
//! out. A released page stays free but is no longer committed (the kernel has dropped its
//! contents; the next use faults it in again), and the running count of committed pages
//! follows every release. Sealed arenas are never touched: their pages must stay as `freeze`
//! left them.

use super::{bits, OldSpace, PAGE_SIZE};

impl OldSpace {
    /// Gives page `page` of arena `a`, free and committed, back to the OS: it no longer counts
    /// as committed.
    fn release_page(&mut self, a: usize, page: u32) {
        let arena = &mut self.arenas[a];
        debug_assert!(arena.free & arena.committed & (1 << page) != 0);
        arena.region.release(page as usize * PAGE_SIZE, PAGE_SIZE);
        arena.committed &= !(1 << page);
        self.committed_pages -= 1;
        self.bytes_returned += PAGE_SIZE as u64;
    }

    /// Gives the free pages of arena `a` back to the OS (those not given back already).
    fn release_arena_pages(&mut self, a: usize) {
        let arena = &self.arenas[a];
        for page in bits(arena.free & arena.committed) {
            self.release_page(a, page);
        }
    }

    /// Keeps `keep` bytes of committed free pages (those of the fullest arenas, which allocation
    /// uses first) and gives back every other committed free page that has been free for at
    /// least `min_age`; returns the bytes given back. Sealed arenas are left alone.
    pub(crate) fn release_surplus(&mut self, keep: usize, min_age: std::time::Duration) -> u64 {
        let (now, min_age) = (self.now_ms(), min_age.as_millis() as u64);
        // Committed free pages, emptiest arena first, then oldest first: released from the front.
        let mut candidates: Vec<(u32, u64, usize, u32)> = Vec::new();
        for (a, arena) in self.arenas.iter().enumerate().filter(|(_, a)| !a.sealed) {
            for page in bits(arena.free & arena.committed) {
                candidates.push((arena.used, arena.freed_at[page as usize], a, page));
            }
        }
        let kept = keep / PAGE_SIZE;
        let surplus = candidates.len().saturating_sub(kept);
        if surplus == 0 {
            return 0;
        }
        candidates.sort_unstable();
        let before = self.bytes_returned;
        for &(_, freed_at, a, page) in &candidates[..surplus] {
            if now.saturating_sub(freed_at) >= min_age {
                self.release_page(a, page);
            }
        }
        self.retire_empty_arenas();
        self.bytes_returned - before
    }

    /// Unmaps every arena left with no object page committed, and drops its side table, so
    /// that a heap that shrank after a spike keeps nothing of it but the `arenas` vector's
    /// capacity. The last arena takes a retired one's index (its page 0 and `arena_bases`
    /// follow). Skipped while any arena is sealed: renumbering writes page 0, which a sealed
    /// arena's pages must never see after `freeze`.
    fn retire_empty_arenas(&mut self) {
        debug_assert!(self.runs_ended(), "runs name arenas by index");
        if self.arenas.iter().any(|a| a.sealed) {
            return;
        }
        let mut retired = false;
        let mut a = 0;
        while a < self.arenas.len() {
            let arena = &self.arenas[a];
            if arena.used != 0 || arena.committed & !1 != 0 {
                a += 1;
                continue;
            }
            self.arena_bases.remove(&arena.region.start().addr());
            self.committed_pages -= arena.committed.count_ones() as usize;
            self.arenas.swap_remove(a); // drops the region: the mapping goes
            retired = true;
            if let Some(moved) = self.arenas.get(a) {
                // SAFETY: page 0 of an arena is its header, committed for the arena's life and
                // holding nothing but the index, which `locate_trusted` reads.
                unsafe { moved.region.start().cast::<u32>().write(a as u32) };
                self.arena_bases
                    .insert(moved.region.start().addr(), a as u32);
            }
        }
        if retired {
            self.relist();
            crate::page_source::trim_system_allocator();
        }
    }

    /// Gives every free page of every unsealed arena back to the OS; returns the bytes.
    pub(crate) fn release_free_pages(&mut self) -> u64 {
        let before = self.bytes_returned;
        for a in 0..self.arenas.len() {
            if !self.arenas[a].sealed {
                self.release_arena_pages(a);
            }
        }
        self.retire_empty_arenas();
        self.bytes_returned - before
    }
}
