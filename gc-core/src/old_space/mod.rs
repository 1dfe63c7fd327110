//! The old generation's small-object space: size-classed pages in aligned arenas.
//!
//! ```text
//! arena (1 MiB, aligned to 1 MiB)
//! ┌────────────┬────────────┬────────────┬─────┬────────────┐
//! │ page 0:    │ page 1:    │ page 2:    │ ... │ page 31    │   pages are 32 KiB
//! │ arena index│ class 48 B │ class 16 B │     │ (free)     │
//! └────────────┴────────────┴────────────┴─────┴────────────┘
//!      side table (ordinary Rust memory, one PageMeta per page):
//!      size class, slot count, live count, allocation bitmap, mark bitmap
//! ```
//!
//! Objects never move once here. A page holds slots of one size class; a slot is free when its
//! bit in the allocation bitmap is clear, so the per-class "free lists" are the pages listed as
//! having a clear bit, and finding a free slot is a scan for a zero bit.
//!
//! **Returning memory.** A page with no live object goes back to its arena's free list, noting
//! the sweep that freed it. New pages come from the *fullest* arena that has one (a page still
//! committed before one given back), and the per-class lists hand out slots in fuller arenas
//! first (PyPy's rule), so emptier arenas drain. Free pages stay committed, so a steady program
//! refills them without faulting them in again; after each major collection the heap's
//! retention policy (`retention.rs`) says how many bytes of them to keep and how long the others
//! must have stayed free, and [`OldSpace::release_surplus`] gives those back to the OS
//! (`madvise(MADV_DONTNEED)`: the mapping stays, the memory goes), emptiest arenas first.
//! An arena left with no committed object page is unmapped whole, side table included (and the
//! system allocator is asked to return what the side tables freed), and the last arena takes
//! its index. `release_free_pages` gives back every free page on demand (the
//! heap limit). A released page is committed again when it is next used. What counts as committed (and so against the heap
//! limit) is in `accounting.rs`.
//!
//! **Sweeping** works on the bitmaps a word at a time (`alloc &= mark`); a dead object is read
//! only on a page where an object with drop glue was allocated (`PageMeta::drops`), to run that
//! glue. Identity hashes of dead objects are forgotten from the identity table's side, so no
//! other dead object's header is touched.
//!
//! **Promotion** allocates through *runs* of free slots claimed whole and handed out by bumping
//! a cursor (`runs.rs`); direct old-generation allocation searches the bitmap for one slot.
//!
//! **Sealing** (`Heap::freeze`). A sealed arena is left alone by allocation and by every later
//! collection: no slot is allocated in it, its mark bits are neither cleared nor set, and the
//! sweep skips it, so a forked child that collects never copies its pages. Marking sets a bit in
//! the page's mark bitmap, which lives in the side table: a major collection only *reads* the
//! pages of the objects it marks, so it does not dirty them (the copy-on-write lesson behind
//! CPython's `gc.freeze`). The only write the collector makes to an arena's own memory is the
//! arena index in page 0, once, when the arena is created.
//!
//! Invariants:
//! - an object's arena is found by masking its address with `!(ARENA_SIZE - 1)`, and the first
//!   word of page 0 holds that arena's index in `arenas` (rewritten when a retired arena's index
//!   is taken over), as does `arena_bases`;
//! - a page with `class == NO_CLASS` holds no allocated slot;
//! - outside a minor collection, an allocated slot (bit set in `alloc`) starts with a valid,
//!   unforwarded header, and every promotion run is empty (`runs.rs`);
//! - every page in `available[c]` has class `c`; outside a collection, every page of class `c`
//!   with a free slot is either in `available[c]` or became non-full at the last sweep and was
//!   listed then (so no free slot is unreachable by the allocator for long);
//! - outside a major collection a mark bit is set only on an allocated slot, and (while the
//!   heap keeps its marks: `collect/major.rs`) exactly on the objects the last major collection
//!   that kept its survivors found live (a full one, or a sticky one in a growing heap; other
//!   sticky ones put the bits back: `SavedMarks`); a slot that is allocated
//!   later starts with its bit clear, since the sweep frees exactly the unmarked slots;
//! - `bytes_in_use` is the sum of slot sizes over allocated slots.

use crate::object::ObjPtr;
use crate::page_source::Region;

/// Size of an arena, and its alignment.
pub const ARENA_SIZE: usize = 1 << 20;
/// Size of a page; every page holds objects of one size class.
pub const PAGE_SIZE: usize = 32 << 10;
const PAGES_PER_ARENA: usize = ARENA_SIZE / PAGE_SIZE;

mod accounting;
mod check;
mod classes;
mod marking;
mod page;
mod release;
mod runs;
#[cfg(test)]
mod tests;

pub use classes::SIZE_CLASSES;
pub(crate) use classes::{class_of, MAX_SMALL};
pub(crate) use marking::{MarkCursor, SavedMarks};
use page::{PageId, PageMeta, NO_CLASS};

/// The pages whose bits are set in `mask`, lowest first.
pub(super) fn bits(mut mask: u32) -> impl Iterator<Item = u32> {
    std::iter::from_fn(move || {
        (mask != 0).then(|| {
            let page = mask.trailing_zeros();
            mask &= mask - 1;
            page
        })
    })
}

struct Arena {
    region: Region,
    pages: Box<[PageMeta]>,
    /// Object pages with no size class, ready for any class (bit `p` for page `p`).
    free: u32,
    /// Object pages with a size class.
    used: u32,
    /// Pages the heap counts as committed (bit `p` for page `p`): the header page from the
    /// arena's creation, an object page from its first use until it is given back to the OS.
    /// What the heap limit counts (see `accounting.rs`).
    committed: u32,
    /// Frozen: no allocation, no marking, no sweeping.
    sealed: bool,
    /// For each free page, when the sweep that freed it ran (`OldSpace::now_ms`).
    freed_at: [u64; PAGES_PER_ARENA],
}

/// Where an address lies in the small-object space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlotLocation {
    pub(crate) slot_start: bool,
    pub(crate) allocated: bool,
    pub(crate) page_has_class: bool,
}

pub(crate) struct OldSpace {
    arenas: Vec<Arena>,
    /// Arena base address -> index, to answer "is this address ours?" in O(1).
    arena_bases: crate::addr_map::AddrMap<u32>,
    available: Vec<Vec<PageId>>,
    bytes_in_use: usize,
    /// Bytes given back to the OS so far.
    bytes_returned: u64,
    /// The clock of `Arena::freed_at`.
    epoch: std::time::Instant,
    /// Milliseconds added to the clock (tests make time pass with it).
    #[cfg(test)]
    skew_ms: u64,
    /// Promotion's open run of each size class (see `runs.rs`). (An array here, inline in the
    /// struct, made splay's major collections twice as slow, for a reason not found; the
    /// vector costs a load of its length.)
    runs: Vec<runs::Run>,
    /// The committed bits of every arena, counted (see `accounting.rs`): kept as pages change
    /// so that reading the footprint after each minor collection costs nothing per arena.
    committed_pages: usize,
}

/// What a sweep found.
#[derive(Default, Debug)]
pub(crate) struct SweepOutcome {
    pub(crate) objects_freed: u64,
    pub(crate) bytes_freed: usize,
}

impl OldSpace {
    pub(crate) fn new() -> OldSpace {
        OldSpace {
            arenas: Vec::new(),
            arena_bases: crate::addr_map::AddrMap::default(),
            available: (0..SIZE_CLASSES.len()).map(|_| Vec::new()).collect(),
            bytes_in_use: 0,
            bytes_returned: 0,
            epoch: std::time::Instant::now(),
            #[cfg(test)]
            skew_ms: 0,
            runs: vec![runs::Run::EMPTY; classes::CLASSES],
            committed_pages: 0,
        }
    }

    pub(crate) fn bytes_in_use(&self) -> usize {
        self.bytes_in_use
    }

    /// Bytes given back to the OS so far.
    pub(crate) fn bytes_returned(&self) -> u64 {
        self.bytes_returned
    }

    /// Bytes in use in sealed arenas.
    pub(crate) fn sealed_bytes(&self) -> usize {
        self.arenas
            .iter()
            .filter(|a| a.sealed)
            .flat_map(|a| a.pages.iter())
            .map(|m| m.live as usize * m.slot_size as usize)
            .sum()
    }

    /// A free page: one still committed if any arena has one (a released page costs faults to
    /// use again), from the fullest unsealed arena that has one; else any free page of the
    /// fullest arena; else a page of a new arena.
    fn take_page(&mut self) -> Option<PageId> {
        let fullest = |pages: &dyn Fn(&Arena) -> u32| {
            self.arenas
                .iter()
                .enumerate()
                .filter(|(_, a)| !a.sealed && pages(a) != 0)
                .max_by_key(|(i, a)| (a.used, std::cmp::Reverse(*i)))
                .map(|(i, _)| i)
        };
        let best = fullest(&|a| a.free & a.committed).or_else(|| fullest(&|a| a.free));
        let Some(a) = best else {
            return self.new_arena();
        };
        let arena = &mut self.arenas[a];
        let committed_free = arena.free & arena.committed;
        let choice = if committed_free != 0 {
            committed_free
        } else {
            arena.free
        };
        let page = choice.trailing_zeros(); // low pages first
        arena.free &= !(1 << page);
        arena.used += 1;
        if arena.committed & (1 << page) == 0 {
            // Committed (again) now, in one call: the page is about to be filled (promotion
            // writes it from its first slot on), and eight page faults cost more.
            arena.region.populate(page as usize * PAGE_SIZE, PAGE_SIZE);
            arena.committed |= 1 << page;
            self.committed_pages += 1;
        }
        Some(PageId {
            arena: a as u32,
            page,
        })
    }

    /// Milliseconds since this space was created.
    pub(super) fn now_ms(&self) -> u64 {
        let now = self.epoch.elapsed().as_millis() as u64;
        #[cfg(test)]
        let now = now + self.skew_ms;
        now
    }

    /// Seals every arena (see the module comment).
    pub(crate) fn seal_all(&mut self) {
        for arena in &mut self.arenas {
            arena.sealed = true;
        }
        self.relist();
    }

    /// Returns sealed arenas to normal collection.
    pub(crate) fn unseal_all(&mut self) {
        for arena in &mut self.arenas {
            arena.sealed = false;
        }
        self.relist();
    }

    /// Rebuilds the per-class lists: every non-full page of an unsealed arena, pages of fuller
    /// arenas last (allocation takes from the end).
    fn relist(&mut self) {
        for list in &mut self.available {
            list.clear();
        }
        for (a, arena) in self.arenas.iter().enumerate().filter(|(_, a)| !a.sealed) {
            for (p, meta) in arena.pages.iter().enumerate() {
                if meta.class != NO_CLASS && !meta.is_full() {
                    self.available[meta.class as usize].push(PageId {
                        arena: a as u32,
                        page: p as u32,
                    });
                }
            }
        }
        let arenas = &self.arenas;
        for list in &mut self.available {
            list.sort_by_key(|id| arenas[id.arena as usize].used);
        }
    }

    /// A checksum of every page of every sealed arena, by page address (for tests that prove
    /// collections leave sealed memory alone).
    pub(crate) fn sealed_page_checksums(&self) -> Vec<(usize, u64)> {
        let mut out = Vec::new();
        for arena in self.arenas.iter().filter(|a| a.sealed) {
            for p in 0..PAGES_PER_ARENA {
                // SAFETY: the page lies inside the arena's region, which stays mapped; reading
                // a released page reads zeros.
                let bytes = unsafe {
                    std::slice::from_raw_parts(arena.region.start().add(p * PAGE_SIZE), PAGE_SIZE)
                };
                let sum = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
                    (h ^ u64::from(b)).wrapping_mul(0x1000_0000_01b3)
                });
                out.push((arena.region.start().addr() + p * PAGE_SIZE, sum));
            }
        }
        out
    }

    /// Whether the object lies in a sealed arena.
    ///
    /// # Safety
    /// `obj` is the start of an allocated slot of this space.
    pub(crate) unsafe fn is_sealed(&self, obj: ObjPtr) -> bool {
        // SAFETY: forwarded from the caller.
        let (id, _) = unsafe { self.locate_trusted(obj) };
        self.arenas[id.arena as usize].sealed
    }

    pub(crate) fn arena_count(&self) -> usize {
        self.arenas.len()
    }

    fn slot_ptr(&self, id: PageId, slot: usize) -> ObjPtr {
        let arena = &self.arenas[id.arena as usize];
        let meta = &arena.pages[id.page as usize];
        let offset = id.page as usize * PAGE_SIZE + slot * meta.slot_size as usize;
        // SAFETY: page < PAGES_PER_ARENA and slot < slots, so the offset is inside the arena;
        // a slot is at least `MIN_OBJECT_SIZE` bytes, room for one object.
        unsafe { ObjPtr::from_start(arena.region.start().add(offset)) }
    }

    /// Allocates a slot for an object of `size` bytes (at most `max_small()`), which has drop
    /// glue when `drops`. `None` when the OS refuses a new arena.
    pub(crate) fn alloc(&mut self, size: usize, drops: bool) -> Option<ObjPtr> {
        debug_assert!(size <= MAX_SMALL);
        let class = class_of(size);
        loop {
            if let Some(&id) = self.available[class].last() {
                let meta = &mut self.arenas[id.arena as usize].pages[id.page as usize];
                if let Some(slot) = meta.take_slot() {
                    meta.drops |= drops;
                    self.bytes_in_use += meta.slot_size as usize;
                    if meta.is_full() {
                        self.available[class].pop();
                    }
                    return Some(self.slot_ptr(id, slot));
                }
                self.available[class].pop();
                continue;
            }
            let id = self.take_page()?;
            self.start_page(id, class);
        }
    }

    fn new_arena(&mut self) -> Option<PageId> {
        let region = Region::new(ARENA_SIZE, ARENA_SIZE)?;
        let index = self.arenas.len() as u32;
        // SAFETY: page 0 of a fresh arena is ours and holds nothing else; its first word
        // records the arena's index for `locate_trusted`.
        unsafe { region.start().cast::<u32>().write(index) };
        let pages = (0..PAGES_PER_ARENA).map(|_| PageMeta::EMPTY).collect();
        self.arena_bases.insert(region.start().addr(), index);
        // Page 0 is the arena header; pages 1.. are for objects, handed out low first.
        let free = !0b11;
        self.committed_pages += 2;
        self.arenas.push(Arena {
            region,
            pages,
            free,
            used: 1,
            committed: 0b11, // the header page and page 1, handed out now
            sealed: false,
            freed_at: [0; PAGES_PER_ARENA],
        });
        Some(PageId {
            arena: index,
            page: 1,
        })
    }

    /// Whether the sweep would hand `obj`'s death over (its page is marked as holding objects
    /// with drop glue): the verifier checks it for every object with drop glue.
    ///
    /// # Safety
    /// `obj` is an allocated slot of this space.
    pub(crate) unsafe fn death_noticed(&self, obj: ObjPtr) -> bool {
        // SAFETY: forwarded from the caller.
        let (id, _) = unsafe { self.locate_trusted(obj) };
        self.arenas[id.arena as usize].pages[id.page as usize].drops
    }

    /// Whether `addr` lies in one of this space's arenas.
    pub(crate) fn owns_arena_of(&self, addr: usize) -> bool {
        self.arena_bases.contains_key(&(addr & !(ARENA_SIZE - 1)))
    }

    /// The page and slot of an object known to live here.
    ///
    /// # Safety
    /// `obj` is the start of an allocated slot of this space.
    unsafe fn locate_trusted(&self, obj: ObjPtr) -> (PageId, usize) {
        let base = obj.addr() & !(ARENA_SIZE - 1);
        // SAFETY: obj lies in an arena, whose first word is the arena index (invariant); the
        // pointer keeps the provenance of the arena's region.
        let arena = unsafe { obj.start().with_addr(base).cast::<u32>().read() };
        let offset = obj.addr() - base;
        let page = offset / PAGE_SIZE;
        let meta = &self.arenas[arena as usize].pages[page];
        let slot = meta.slot_at(offset - page * PAGE_SIZE);
        (
            PageId {
                arena,
                page: page as u32,
            },
            slot,
        )
    }

    /// Frees every allocated slot whose mark bit is clear, a bitmap word at a time, calling
    /// `on_dead` first (the object is intact then) on those of pages where objects with drop
    /// glue were allocated (no other dead object is read), returns emptied pages to their arena
    /// (still committed: see [`OldSpace::release_surplus`]), and relists the pages that have
    /// free slots. Sealed arenas are not touched.
    pub(crate) fn sweep(&mut self, mut on_dead: impl FnMut(ObjPtr)) -> SweepOutcome {
        debug_assert!(
            self.runs_ended(),
            "promotion's runs end with the minor collection"
        );
        let mut outcome = SweepOutcome::default();
        let now = self.now_ms();
        self.bytes_in_use = 0;
        for a in 0..self.arenas.len() {
            if self.arenas[a].sealed {
                self.bytes_in_use += self.arenas[a]
                    .pages
                    .iter()
                    .map(|m| m.live as usize * m.slot_size as usize)
                    .sum::<usize>();
                continue;
            }
            for p in 1..PAGES_PER_ARENA {
                let id = PageId {
                    arena: a as u32,
                    page: p as u32,
                };
                let meta = &self.arenas[a].pages[p];
                if meta.class == NO_CLASS {
                    continue;
                }
                for w in 0..meta.words() {
                    if !meta.drops {
                        break;
                    }
                    let mut dead = meta.alloc[w] & !meta.mark[w];
                    while dead != 0 {
                        let bit = dead.trailing_zeros() as usize;
                        dead &= dead - 1;
                        on_dead(self.slot_ptr(id, w * 64 + bit));
                    }
                }
                let meta = &mut self.arenas[a].pages[p];
                let mut live = 0;
                for w in 0..meta.words() {
                    meta.alloc[w] &= meta.mark[w];
                    live += meta.alloc[w].count_ones();
                }
                let freed = meta.live - live;
                outcome.objects_freed += u64::from(freed);
                outcome.bytes_freed += freed as usize * meta.slot_size as usize;
                meta.live = live;
                meta.hint = 0;
                self.bytes_in_use += live as usize * meta.slot_size as usize;
                if live == 0 {
                    *meta = PageMeta::EMPTY;
                    let arena = &mut self.arenas[a];
                    arena.free |= 1 << id.page;
                    arena.freed_at[p] = now;
                    arena.used -= 1;
                }
            }
        }
        self.relist();
        outcome
    }

    /// Every allocated object, in address order within each page.
    pub(crate) fn for_each_object(&self, mut f: impl FnMut(ObjPtr)) {
        for (a, arena) in self.arenas.iter().enumerate() {
            for (p, meta) in arena.pages.iter().enumerate() {
                if meta.class == NO_CLASS {
                    continue;
                }
                for w in 0..meta.words() {
                    let mut bits = meta.alloc[w];
                    while bits != 0 {
                        let bit = bits.trailing_zeros() as usize;
                        bits &= bits - 1;
                        let id = PageId {
                            arena: a as u32,
                            page: p as u32,
                        };
                        f(self.slot_ptr(id, w * 64 + bit));
                    }
                }
            }
        }
    }

    /// Where `addr` lies, or `None` when it is in no arena's object pages. Safe for any
    /// address (the verifier's check).
    /// Whether the object at `addr` is marked, or sealed when `frozen` (false for an address
    /// outside the space), from the side tables alone: nothing is read from the object.
    pub(crate) fn survives_at(&self, addr: usize, frozen: bool) -> bool {
        let Some(&index) = self.arena_bases.get(&(addr & !(ARENA_SIZE - 1))) else {
            return false;
        };
        let arena = &self.arenas[index as usize];
        if frozen && arena.sealed {
            return true;
        }
        let offset = addr - arena.region.start().addr();
        let meta = &arena.pages[offset / PAGE_SIZE];
        if meta.class == NO_CLASS {
            return false;
        }
        let slot = meta.slot_at(offset % PAGE_SIZE);
        meta.mark[slot / 64] & (1 << (slot % 64)) != 0
    }

    pub(crate) fn locate(&self, addr: usize) -> Option<SlotLocation> {
        let index = *self.arena_bases.get(&(addr & !(ARENA_SIZE - 1)))?;
        let arena = &self.arenas[index as usize];
        let offset = addr - arena.region.start().addr();
        let page = offset / PAGE_SIZE;
        if page == 0 {
            return None;
        }
        let meta = &arena.pages[page];
        if meta.class == NO_CLASS {
            return Some(SlotLocation {
                slot_start: false,
                allocated: false,
                page_has_class: false,
            });
        }
        let within = offset - page * PAGE_SIZE;
        let slot = meta.slot_at(within);
        let slot_start =
            within.is_multiple_of(meta.slot_size as usize) && slot < meta.slots as usize;
        let allocated = slot_start && meta.alloc[slot / 64] & (1 << (slot % 64)) != 0;
        Some(SlotLocation {
            slot_start,
            allocated,
            page_has_class: true,
        })
    }
}
