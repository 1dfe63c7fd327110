//! Unit tests of the old space: allocation, sweeping, returning pages, sealing.

use super::*;
use std::time::Duration;

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn alloc_mark_sweep_reuses_slots() {
    let mut old = OldSpace::new();
    let objs: Vec<ObjPtr> = (0..100).map(|_| old.alloc(24, false).unwrap()).collect();
    assert_eq!(old.bytes_in_use(), 100 * 24);
    old.clear_marks();
    let mut cursor = MarkCursor::default();
    for o in objs.iter().step_by(2) {
        // SAFETY: o came from this space's alloc and is allocated.
        assert!(unsafe { old.mark_if_here(*o, &mut cursor).unwrap() });
        // SAFETY: as above.
        assert!(!unsafe { old.mark_if_here(*o, &mut cursor).unwrap() });
    }
    let out = old.sweep(|_| {});
    assert_eq!(out.objects_freed, 50);
    assert_eq!(old.bytes_in_use(), 50 * 24);
    assert!(old.check_free_lists().is_empty());
    let again = old.alloc(24, false).unwrap();
    assert!(objs.contains(&again), "a freed slot is reused");
    assert!(old.locate(again.addr()).unwrap().allocated);
}

#[test]
fn new_pages_come_from_the_fullest_arena_and_sealed_arenas_are_left_alone() {
    let mut old = OldSpace::new();
    // Fill two arenas with 8 KiB objects (4 per page).
    let objs: Vec<ObjPtr> = (0..2 * 31 * 4)
        .map(|_| old.alloc(8000, false).unwrap())
        .collect();
    assert_eq!(old.arenas.len(), 2);
    // Free most of arena 0 and a little of arena 1.
    old.clear_marks();
    for (i, o) in objs.iter().enumerate() {
        // Arena 0 keeps one object in 4 pages; arena 1 keeps its first 20 pages.
        let keep = if i < 124 { i % 31 == 0 } else { i - 124 < 80 };
        if keep {
            // SAFETY: o is an allocated slot of this space.
            unsafe { old.mark_if_here(*o, &mut MarkCursor::default()).unwrap() };
        }
    }
    old.sweep(|_| {});
    let (used0, used1) = (old.arenas[0].used, old.arenas[1].used);
    assert!(used1 > used0);
    let page = old.take_page().unwrap();
    assert_eq!(page.arena, 1, "the fuller arena gives the page");
    old.arenas[1].free |= 1 << page.page;
    old.arenas[1].used -= 1;
    old.seal_all();
    assert!(old.available.iter().all(|l| l.is_empty()));
    let fresh = old.alloc(24, false).unwrap();
    assert_eq!(old.locate(fresh.addr()).map(|l| l.allocated), Some(true));
    assert_eq!(old.arenas.len(), 3, "sealed arenas get no new objects");
    old.clear_marks();
    // SAFETY: fresh is an allocated slot of this space.
    unsafe { old.mark_if_here(fresh, &mut MarkCursor::default()).unwrap() };
    old.sweep(|_| panic!("nothing in a sealed arena may be swept"));
    // SAFETY: fresh is an allocated slot.
    assert!(!unsafe { old.is_sealed(fresh) });
    old.unseal_all();
    assert!(old.check_free_lists().is_empty());
}

#[test]
fn empty_pages_stay_committed_until_the_retention_policy_releases_them() {
    let mut old = OldSpace::new();
    for _ in 0..10 {
        old.alloc(8000, false).unwrap();
    }
    old.clear_marks();
    let out = old.sweep(|_| {});
    assert_eq!(out.objects_freed, 10);
    assert_eq!(old.bytes_in_use(), 0);
    assert_eq!(
        old.arenas[0].free.count_ones() as usize,
        PAGES_PER_ARENA - 1
    );
    assert_eq!(old.arenas[0].used, 0);
    // Ten 8,000-byte objects, four to a page: three pages used, freed, still committed.
    assert_eq!(old.committed(), 4 * PAGE_SIZE);
    assert_eq!(old.bytes_returned(), 0);
    // Too young to go back: freed just now, and the policy asks for a second of age.
    assert_eq!(old.release_surplus(0, SECOND), 0);
    // A free page is reused before a fresh one: nothing is committed anew.
    let reused = old.alloc(8000, false).unwrap();
    assert_eq!(old.committed(), 4 * PAGE_SIZE);
    old.clear_marks();
    // SAFETY: reused is an allocated slot of this space.
    unsafe {
        old.mark_if_here(reused, &mut MarkCursor::default())
            .unwrap()
    };
    old.sweep(|_| panic!("the marked object is live"));
    // Time passes. One page's worth is kept; the other free page is old enough and goes back.
    old.skew_ms += 1500;
    assert_eq!(old.release_surplus(PAGE_SIZE, SECOND), PAGE_SIZE as u64);
    assert_eq!(old.committed(), 3 * PAGE_SIZE);
    // Nothing kept, any age: the last free committed page goes too.
    assert_eq!(old.release_surplus(0, Duration::ZERO), PAGE_SIZE as u64);
    assert_eq!(old.committed(), 2 * PAGE_SIZE);
    assert_eq!(old.bytes_returned(), 2 * PAGE_SIZE as u64);
    // Using the arena again commits a page again.
    old.alloc(8000, false).unwrap();
    old.alloc(8000, false).unwrap();
    old.alloc(8000, false).unwrap();
    old.alloc(8000, false).unwrap();
    assert_eq!(old.committed(), 3 * PAGE_SIZE);
    assert!(old.check_free_lists().is_empty());
}

#[test]
fn an_arena_emptied_and_released_is_unmapped_and_the_last_takes_its_index() {
    let mut old = OldSpace::new();
    // Fill the first arena's 31 object pages with one 8,000-byte object per slot (four a page),
    // then put a survivor in a second arena.
    let first: Vec<ObjPtr> = (0..31 * 4)
        .map(|_| old.alloc(8000, false).unwrap())
        .collect();
    let survivor = old.alloc(8000, false).unwrap();
    assert_eq!(old.arenas.len(), 2);
    assert!(first.iter().all(|o| old.locate(o.addr()).is_some()));
    old.clear_marks();
    // SAFETY: survivor is an allocated slot of this space.
    unsafe {
        old.mark_if_here(survivor, &mut MarkCursor::default())
            .unwrap()
    };
    old.sweep(|_| {});
    assert_eq!(
        old.release_surplus(0, Duration::ZERO),
        32 * PAGE_SIZE as u64 - PAGE_SIZE as u64
    );
    assert_eq!(old.arenas.len(), 1, "the empty arena is gone");
    assert_eq!(
        old.committed(),
        2 * PAGE_SIZE,
        "the survivor's arena: header and one page"
    );
    // The survivor's arena now has index 0, in its header and in the address map.
    let found = old.locate(survivor.addr()).expect("still found");
    assert!(found.allocated && found.slot_start);
    // Its mark bit is found through the address map.
    assert!(old.survives_at(survivor.addr(), false));
    assert!(first.iter().all(|o| old.locate(o.addr()).is_none()));
    assert!(!old.owns_arena_of(first[0].addr()));
    assert!(old.check_free_lists().is_empty());
    // New allocations fill the remaining arena, then map a new one.
    for _ in 0..200 {
        old.alloc(8000, false).unwrap();
    }
    assert_eq!(old.arenas.len(), 2);
    assert!(old.check_free_lists().is_empty());
}

#[test]
fn the_sweep_reads_dead_objects_only_on_pages_with_drop_glue() {
    let mut old = OldSpace::new();
    // Two size classes, so the objects land on two pages.
    let plain: Vec<ObjPtr> = (0..10).map(|_| old.alloc(24, false).unwrap()).collect();
    let dropping: Vec<ObjPtr> = (0..10).map(|_| old.alloc(48, true).unwrap()).collect();
    old.clear_marks();
    let mut handed = Vec::new();
    let out = old.sweep(|o| handed.push(o.addr()));
    // Every dead object is freed, but only those on the page with drop glue are handed over.
    assert_eq!(out.objects_freed, 20);
    assert_eq!(old.bytes_in_use(), 0);
    let mut expected: Vec<usize> = dropping.iter().map(|o| o.addr()).collect();
    expected.sort_unstable();
    handed.sort_unstable();
    assert_eq!(handed, expected);
    assert!(plain
        .iter()
        .all(|o| old.locate(o.addr()).is_some_and(|l| !l.allocated)));
    // An emptied page forgets that it held drop glue.
    let again = old.alloc(48, false).unwrap();
    // SAFETY: again is an allocated slot of this space.
    assert!(!unsafe { old.death_noticed(again) });
}

#[test]
fn the_reciprocal_finds_the_slot_of_every_offset_of_every_class() {
    // Miri checks a stride of offsets (the whole sweep is 1.1 million divisions).
    let step = if cfg!(miri) { 997 } else { 1 };
    for class in 0..SIZE_CLASSES.len() {
        let meta = PageMeta::for_class(class);
        for within in (0..PAGE_SIZE).step_by(step).chain([PAGE_SIZE - 1]) {
            assert_eq!(
                meta.slot_at(within),
                within / meta.slot_size as usize,
                "class {class} ({} bytes), offset {within}",
                meta.slot_size
            );
        }
    }
}

#[test]
fn a_mark_cursor_follows_the_marks_across_pages_and_arenas() {
    let mut old = OldSpace::new();
    // Three size classes interleaved, so consecutive marks hop between pages, and enough
    // objects for more than one arena.
    let objs: Vec<ObjPtr> = (0..3_000)
        .map(|i| old.alloc([24, 48, 2000][i % 3], false).unwrap())
        .collect();
    assert!(old.arena_count() > 1);
    old.clear_marks();
    let mut cursor = MarkCursor::default();
    // Every third object, in an order that revisits pages: forward, then backward.
    let marked: Vec<ObjPtr> = objs.iter().step_by(3).copied().collect();
    for o in marked.iter().chain(marked.iter().rev()) {
        // SAFETY: o is an allocated slot of this space.
        unsafe { old.mark_if_here(*o, &mut cursor).unwrap() };
    }
    for (i, o) in objs.iter().enumerate() {
        assert_eq!(old.survives_at(o.addr(), false), i % 3 == 0, "object {i}");
    }
    let out = old.sweep(|_| {});
    assert_eq!(out.objects_freed, 2_000);
}

#[test]
fn saved_marks_come_back_after_a_sweep_of_what_was_marked_since() {
    // A sticky collection's bookkeeping (`collect/sticky.rs`): the kept objects' bits are
    // saved, more objects are marked and the unmarked swept, and then only the kept objects'
    // bits are set again; the survivors marked since stay allocated, unmarked.
    let mut old = OldSpace::new();
    let objs: Vec<ObjPtr> = (0..300)
        .map(|i| old.alloc([24, 48][i % 2], false).unwrap())
        .collect();
    old.clear_marks();
    let mut cursor = MarkCursor::default();
    let kept: Vec<ObjPtr> = objs.iter().step_by(3).copied().collect();
    for o in &kept {
        // SAFETY: o is an allocated slot of this space.
        unsafe { old.mark_if_here(*o, &mut cursor).unwrap() };
    }
    let mut saved = SavedMarks::default();
    old.save_marks(&mut saved);
    // The sticky collection marks every object at an index ending in 1 (fresh survivors).
    let mut cursor = MarkCursor::default();
    for o in objs.iter().skip(1).step_by(10) {
        // SAFETY: as above.
        unsafe { old.mark_if_here(*o, &mut cursor).unwrap() };
    }
    old.sweep(|_| {});
    old.restore_marks(&saved);
    for (i, o) in objs.iter().enumerate() {
        let location = old.locate(o.addr()).unwrap();
        let kept = i % 3 == 0;
        assert_eq!(
            location.allocated,
            kept || i % 10 == 1,
            "object {i} allocated"
        );
        assert_eq!(old.survives_at(o.addr(), false), kept, "object {i} marked");
    }
    assert!(old.check_free_lists().is_empty());
}
