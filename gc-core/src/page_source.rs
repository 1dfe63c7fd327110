//! Where the heap's memory comes from.
//!
//! Every byte the collector manages (the nursery, old-generation arenas, large objects) is a
//! [`Region`]: one zero-filled, writable block obtained from the operating system and given back
//! whole when the region is dropped. Two backends sit behind the same type:
//!
//! - **mmap** (normal builds): an anonymous private mapping through `memmap2`. Pages are
//!   committed lazily by the kernel, so a 4 MB nursery that is never filled costs little, and
//!   unmapping returns the memory to the OS at once. A range about to be written whole (an
//!   old-space page the collector starts filling) is committed in one call instead
//!   ([`Region::populate`], `MADV_POPULATE_WRITE`): one system call for a 32 KiB page instead of
//!   eight page faults.
//! - **global allocator** (under Miri): Miri supports only whole-region anonymous mappings and
//!   nothing that trims or advises them, so the Miri build takes zeroed blocks from
//!   `std::alloc` with the requested alignment. The collector above cannot tell the difference.
//!
//! Alignment: arenas must start at a multiple of their size so that an object's arena is found by
//! masking its address. The mmap backend over-maps by the alignment and uses the aligned middle;
//! the excess is never touched, so it costs address space, not memory.
//!
//! Invariants:
//! - `Region::start()` is aligned to the alignment requested and `len()` bytes from it are
//!   readable and writable for the region's whole life;
//! - the memory is zero-filled when the region is created;
//! - nothing else refers to the memory after the region is dropped.

use std::ptr::NonNull;

/// One block of memory owned by the heap.
pub(crate) struct Region {
    start: NonNull<u8>,
    len: usize,
    backing: Backing,
}

enum Backing {
    #[cfg(not(miri))]
    Mapped(#[allow(dead_code)] memmap2::MmapMut),
    #[cfg_attr(not(miri), allow(dead_code))]
    Allocated(std::alloc::Layout),
}

impl std::fmt::Debug for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Region")
            .field("start", &self.start)
            .field("len", &self.len)
            .finish()
    }
}

// SAFETY: a Region exclusively owns its block; the raw pointer is only an address into memory
// nobody else references, so moving the owner to another thread is sound.
unsafe impl Send for Region {}

impl Region {
    /// Obtains `len` zeroed bytes aligned to `align` (a power of two). `None` when the OS
    /// refuses.
    pub(crate) fn new(len: usize, align: usize) -> Option<Region> {
        debug_assert!(align.is_power_of_two() && len > 0);
        #[cfg(miri)]
        {
            Self::allocate(len, align)
        }
        #[cfg(not(miri))]
        {
            Self::map(len, align)
        }
    }

    #[cfg(not(miri))]
    fn map(len: usize, align: usize) -> Option<Region> {
        // Page alignment comes for free from mmap; larger alignments need slack to slide into.
        let slack = if align > 4096 { align } else { 0 };
        let mut map = memmap2::MmapMut::map_anon(len.checked_add(slack)?).ok()?;
        let base = map.as_mut_ptr();
        let offset = base.align_offset(align);
        if offset > slack {
            return None;
        }
        // SAFETY: offset <= slack, so [base + offset, base + offset + len) lies inside the
        // mapping of len + slack bytes.
        let start = unsafe { base.add(offset) };
        Some(Region {
            start: NonNull::new(start)?,
            len,
            backing: Backing::Mapped(map),
        })
    }

    #[cfg_attr(not(miri), allow(dead_code))]
    fn allocate(len: usize, align: usize) -> Option<Region> {
        let layout = std::alloc::Layout::from_size_align(len, align).ok()?;
        // SAFETY: layout has a non-zero size (checked by the caller's debug assertion and by
        // every call site passing a positive constant or object size).
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        Some(Region {
            start: NonNull::new(ptr)?,
            len,
            backing: Backing::Allocated(layout),
        })
    }

    /// First byte of the region.
    #[inline]
    pub(crate) fn start(&self) -> *mut u8 {
        self.start.as_ptr()
    }

    /// Usable length in bytes.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Gives the pages of `[offset, offset + len)` back to the OS; they read as zeros
    /// afterwards and are committed again when next written. `offset` and `len` are multiples
    /// of the OS page size.
    pub(crate) fn release(&self, offset: usize, len: usize) {
        debug_assert!(offset + len <= self.len);
        #[cfg(not(miri))]
        {
            // SAFETY: the range lies inside this private anonymous mapping (or, for the
            // allocator backend, inside the allocation); MADV_DONTNEED only drops the pages'
            // contents, which the caller no longer needs.
            let rc = unsafe {
                libc::madvise(
                    self.start.as_ptr().add(offset).cast(),
                    len,
                    libc::MADV_DONTNEED,
                )
            };
            debug_assert_eq!(rc, 0);
        }
        #[cfg(miri)]
        {
            // SAFETY: the range lies inside the allocation; zeroing is what DONTNEED looks
            // like to the program.
            unsafe { std::ptr::write_bytes(self.start.as_ptr().add(offset), 0, len) };
        }
    }

    /// Commits the pages of `[offset, offset + len)` now, in one system call, instead of one
    /// page fault per 4 KiB page at their first writes: for a range about to be written whole
    /// (a page the old space starts filling). The contents do not change (a committed page
    /// reads as zeros, as before). Where the kernel lacks `MADV_POPULATE_WRITE` (before Linux
    /// 5.14), or elsewhere, nothing happens and the pages fault in as before.
    pub(crate) fn populate(&self, offset: usize, len: usize) {
        debug_assert!(offset + len <= self.len);
        #[cfg(all(target_os = "linux", not(miri)))]
        {
            // SAFETY: the range lies inside this private anonymous, writable mapping;
            // MADV_POPULATE_WRITE faults its pages in as a write would, without writing, so
            // what the region holds is unchanged. A failure (an old kernel: EINVAL) only
            // leaves the pages to fault in later.
            unsafe {
                libc::madvise(
                    self.start.as_ptr().add(offset).cast(),
                    len,
                    libc::MADV_POPULATE_WRITE,
                )
            };
        }
        #[cfg(not(all(target_os = "linux", not(miri))))]
        let _ = (offset, len);
    }

    /// Whether `addr` lies inside the region.
    #[inline]
    pub(crate) fn contains(&self, addr: usize) -> bool {
        addr.wrapping_sub(self.start.as_ptr().addr()) < self.len
    }
}

/// Asks the system allocator to give the memory it holds free back to the OS. The collector's
/// side tables (page metadata, bitmaps, work stacks) are ordinary Rust allocations, and glibc
/// keeps what they free for reuse; after the old space unmaps arenas that a shrinking heap no
/// longer needs, their side tables are a few percent of the memory that went, which a
/// long-running server would otherwise keep at its peak. (HotSpot trims the native heap the
/// same way, `-XX:TrimNativeHeapInterval`.) Elsewhere, and under Miri, nothing to do.
pub(crate) fn trim_system_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu", not(miri)))]
    {
        // SAFETY: malloc_trim only releases free memory held by the allocator; it is
        // thread-safe and touches no live allocation.
        unsafe { libc::malloc_trim(0) };
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        match &self.backing {
            #[cfg(not(miri))]
            Backing::Mapped(_) => {} // memmap2 unmaps on drop
            Backing::Allocated(layout) => {
                // SAFETY: `start` came from `alloc_zeroed(layout)` and is freed exactly once.
                unsafe { std::alloc::dealloc(self.start.as_ptr(), *layout) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_aligned_zeroed_and_writable() {
        for &(len, align) in &[(4096, 4096), (1 << 16, 1 << 16), (100, 8)] {
            let r = Region::new(len, align).expect("region");
            assert_eq!(r.start().addr() % align, 0);
            assert_eq!(r.len(), len);
            // SAFETY: the region owns len writable bytes from start.
            let bytes = unsafe { std::slice::from_raw_parts_mut(r.start(), len) };
            assert!(bytes.iter().all(|&b| b == 0));
            bytes[len - 1] = 7;
            assert!(r.contains(r.start().addr() + len - 1));
            assert!(!r.contains(r.start().addr() + len));
        }
    }

    #[test]
    fn populating_pages_keeps_what_they_hold() {
        let len = 4 * 4096;
        let r = Region::new(len, 4096).expect("region");
        // SAFETY: the region owns len writable bytes from start; the slice is dropped before
        // the region.
        let bytes = unsafe { std::slice::from_raw_parts_mut(r.start(), len) };
        bytes[5] = 9; // the first page is written before, the others are not
        r.populate(0, len);
        assert_eq!(bytes[5], 9);
        assert!(bytes
            .iter()
            .enumerate()
            .all(|(i, &b)| b == if i == 5 { 9 } else { 0 }));
        bytes[len - 1] = 3; // and writable after
        r.populate(4096, 4096);
        assert_eq!(bytes[len - 1], 3);
    }
}
