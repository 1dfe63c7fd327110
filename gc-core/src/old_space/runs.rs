//! Promotion at bump-pointer speed: runs of free slots, claimed whole.
//!
//! A minor collection copies every survivor into the old space, so slot allocation is on its
//! hot path. Instead of searching a page's bitmap for each object, promotion claims a *run*,
//! the consecutive free slots of one page from the first free one (a whole page when the page
//! is fresh or was emptied by a sweep: PyPy's free-block idea), sets their allocation bits at
//! once, and then hands the slots out by bumping a cursor. The page layout and its side tables
//! stay as they are, for the heap limit's accounting, `freeze`, and marking.
//!
//! Invariant: outside a minor collection every run is empty. While one is open, its slots not
//! yet handed out have their bits set without holding an object; [`OldSpace::end_runs`], called
//! when promotion ends, clears those bits, corrects the counts and lists the page again, so the
//! bitmaps describe exactly the allocated objects whenever anything else reads them.

use super::{class_of, OldSpace, PageId, PageMeta, MAX_SMALL, PAGE_SIZE};
use crate::object::ObjPtr;

/// How far ahead of the cursor promotion prefetches (bytes): four cache lines, a few objects'
/// copies ahead of the one being made, far enough for a line to arrive from memory while they
/// are copied. Past the run's end it fetches whatever memory follows, which costs a wasted
/// fetch at most (a prefetch never faults).
const PROMOTION_PREFETCH: usize = 256;

/// Slots of one page claimed for promotion and not yet handed out.
#[derive(Clone, Copy, Debug)]
pub(super) struct Run {
    /// The next slot.
    cursor: *mut u8,
    /// Slots left from the cursor.
    left: u32,
    /// The class's slot size, kept here so that the bump reads one cache line.
    slot_size: u32,
    page: PageId,
    /// Whether the page left its class's list when the run made it full.
    unlisted: bool,
}

impl Run {
    pub(super) const EMPTY: Run = Run {
        cursor: std::ptr::null_mut(),
        left: 0,
        slot_size: 0,
        page: PageId { arena: 0, page: 0 },
        unlisted: false,
    };
}

impl OldSpace {
    /// Allocates a slot for a promoted object of `size` bytes (at most `MAX_SMALL`), which has
    /// drop glue when `drops`, from the class's run, claiming a new run when it is used up.
    /// `None` when the OS refuses a new arena. Only inside a minor collection, which ends with
    /// [`OldSpace::end_runs`].
    ///
    /// Inlined into the evacuator's visit, which every type's minor scan entry inlines: the
    /// bump is a few instructions, and a call (with the register saves that claiming a run
    /// needs) had cost about as many again per promoted object.
    #[inline(always)]
    pub(crate) fn alloc_promoted(&mut self, size: usize, drops: bool) -> Option<ObjPtr> {
        debug_assert!(size <= MAX_SMALL);
        self.alloc_promoted_in(class_of(size), drops)
    }

    /// [`OldSpace::alloc_promoted`] for an object whose size class is known: `class_of` of its
    /// size.
    #[inline(always)]
    pub(crate) fn alloc_promoted_in(&mut self, class: usize, drops: bool) -> Option<ObjPtr> {
        match self.take_from_run(class, drops) {
            Some(slot) => Some(slot),
            None => self.alloc_promoted_in_new_run(class, drops),
        }
    }

    /// The next slot of the class's run, if it has one left.
    #[inline(always)]
    fn take_from_run(&mut self, class: usize, drops: bool) -> Option<ObjPtr> {
        let run = &mut self.runs[class];
        if run.left == 0 {
            return None;
        }
        let slot = run.cursor;
        // The slots a few promotions from now, fetched while this one is copied: a copy
        // written to a line still in memory waited for it (see `PROMOTION_PREFETCH`).
        crate::scan::prefetch_for_write(slot.wrapping_add(PROMOTION_PREFETCH));
        run.left -= 1;
        // SAFETY: the run's slots lie in one page of one arena; after the last one the cursor
        // is at most one past the page's end, still inside the arena's region.
        run.cursor = unsafe { slot.add(run.slot_size as usize) };
        if drops {
            let page = run.page;
            self.arenas[page.arena as usize].pages[page.page as usize].drops = true;
        }
        // SAFETY: `left` was not zero, so `slot` is the start of a free slot of the run, at
        // least `MIN_OBJECT_SIZE` bytes.
        Some(unsafe { ObjPtr::from_start(slot) })
    }

    /// [`OldSpace::alloc_promoted`] once the class's run is used up: claims the next run, then
    /// takes its first slot.
    #[cold]
    #[inline(never)]
    fn alloc_promoted_in_new_run(&mut self, class: usize, drops: bool) -> Option<ObjPtr> {
        self.claim_run(class)?;
        let slot = self.take_from_run(class, drops);
        debug_assert!(slot.is_some(), "a claimed run has a free slot");
        slot
    }

    /// Ends the class's run, if any, and claims the next free run of the class (from a listed
    /// page, else from a fresh one).
    fn claim_run(&mut self, class: usize) -> Option<()> {
        self.end_run(class);
        loop {
            if let Some(&id) = self.available[class].last() {
                let meta = &mut self.arenas[id.arena as usize].pages[id.page as usize];
                if let Some((first, count)) = meta.take_run() {
                    self.bytes_in_use += count * meta.slot_size as usize;
                    let unlisted = meta.is_full();
                    let slot_size = meta.slot_size;
                    if unlisted {
                        self.available[class].pop();
                    }
                    self.runs[class] = Run {
                        cursor: self.slot_ptr(id, first).start(),
                        left: count as u32,
                        slot_size,
                        page: id,
                        unlisted,
                    };
                    return Some(());
                }
                self.available[class].pop();
                continue;
            }
            let id = self.take_page()?;
            self.start_page(id, class);
        }
    }

    /// Gives a fresh page to `class` and lists it.
    pub(super) fn start_page(&mut self, id: PageId, class: usize) {
        self.arenas[id.arena as usize].pages[id.page as usize] = PageMeta::for_class(class);
        self.available[class].push(id);
    }

    /// Ends every run (see the module comment): promotion is over.
    pub(crate) fn end_runs(&mut self) {
        for class in 0..self.runs.len() {
            self.end_run(class);
        }
    }

    /// Whether every run is empty (the invariant outside a minor collection).
    pub(super) fn runs_ended(&self) -> bool {
        self.runs.iter().all(|r| r.left == 0)
    }

    fn end_run(&mut self, class: usize) {
        let run = std::mem::replace(&mut self.runs[class], Run::EMPTY);
        if run.left == 0 {
            return;
        }
        let arena = &mut self.arenas[run.page.arena as usize];
        let page_start = arena.region.start().addr() + run.page.page as usize * PAGE_SIZE;
        let meta = &mut arena.pages[run.page.page as usize];
        let first = meta.slot_at(run.cursor.addr() - page_start);
        let left = run.left as usize;
        meta.set_bits(first, first + left, false);
        meta.live -= run.left;
        meta.hint = meta.hint.min((first / 64) as u32);
        self.bytes_in_use -= left * meta.slot_size as usize;
        if run.unlisted {
            self.available[class].push(run.page);
        }
    }
}
