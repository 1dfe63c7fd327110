//! The heap verifier: checks every invariant the other modules write down.
//!
//! It walks the whole heap twice: once over every allocated object (nursery walk, every
//! allocated old slot, every large object) to check headers, and once from the roots over
//! everything reachable to check references. It changes nothing — not even mark bits; it keeps
//! its own visited set — so it can run between any two operations, in release builds too
//! (`Config::with_debug_level`, or `Heap::verify` directly). Like Go's `gccheckmark` and V8's
//! `--verify-heap`, it is how a crash in production gets diagnosed.
//!
//! Checks, by the invariant they come from:
//! - *every reference points to a live object of the right space*: a root or member holds the
//!   payload address of an object (one header past its start, `object.rs`) in the used part of
//!   the nursery, of an allocated slot in the old space, or of a large object; never into free
//!   memory, and never the object's start;
//! - *the handle stack's null slot* (`scope/mod.rs`): slot 0 is null, every other slot holds
//!   an object;
//! - *nothing reachable is forwarded* outside a minor collection;
//! - *old objects that point to young objects are remembered*: such an object lacks
//!   `TRACK_YOUNG` and is in the remembered set;
//! - *remembered-set entries* are old objects without `TRACK_YOUNG`, and every old object
//!   without `TRACK_YOUNG` is in the remembered set;
//! - *the store log and the kept marks* (`sticky.rs`): the log holds exactly the old objects
//!   without `LOG_STORES`, remembered ones included; a kept (marked) object that refers to a
//!   fresh or young one is logged;
//! - *scan entries*: the collectors' scan of a reachable object (its type's scan entries)
//!   visits exactly the slots its `trace` reports;
//! - *a type's own payload*: what its `TypeInfo::check` tests (a map: which table is in use, its
//!   length, the entry and tombstone counts, at most 7/8 full, and every full slot's hash the
//!   identity hash the heap's identity table holds for its key);
//! - *header flags*: a valid type descriptor (magic, and the small shape promotion reads from
//!   it matching the type's size), `NEEDS_DROP` exactly when the type has
//!   drop glue, `LARGE` exactly in the large space, `YOUNG_LARGE` only on large objects and
//!   exactly for those listed as young, `TRACK_YOUNG` and `LOG_STORES` only on old objects, `SURVIVED` and
//!   `FORWARDED` never outside a collection;
//! - *free lists hold no live object*: the allocator's page lists and counts (the running
//!   count of committed pages among them) agree with the bitmaps (a reachable free slot is caught by the first check), and no promotion run is open;
//! - *side lists*: `young_drop` holds exactly the nursery objects with drop glue, and every old
//!   object with drop glue lies on a page the sweep hands over (`PageMeta::drops`);
//! - *frozen roots* (`heap/freeze.rs`): a frozen object that refers to an object not frozen is
//!   listed in `frozen_dirty` (nothing else marks that object);
//! - *switches kept beside the state they stand for*: the allocation fast path's switch, and
//!   the barrier filter (every address while young large objects exist or the heap is frozen,
//!   the nursery's region otherwise);
//! - *identity hashes*: `HASHED` is set exactly on the objects in the identity table, and the
//!   table's young list holds exactly the hashed nursery objects;
//! - *weak references*: every uncleared weak target is a valid object;
//! - *pins*: `PINNED` is set exactly on objects with active pins, the per-object counts match
//!   the active pins, the young pinned count matches and respects `MAX_PINNED`, and every
//!   pinned object is a valid object (pinned nursery objects therefore lie outside the free
//!   gaps);
//! - *the heap limit*: under `MAX`, the nursery's mapping, the committed arena pages and the
//!   large objects' mappings add up to at most `MAX`.

use std::cell::Cell;
use std::collections::HashSet;

use crate::heap::HeapInner;
use crate::object::{HeaderFlags, ObjPtr};
use crate::roots::RootTracer;
use crate::trace::{SlotVisitor, Tracer};

mod report;
mod scan_check;
mod sticky;
mod young;

pub use report::{VerifyReport, Violation};

use scan_check::{payload_broken, scan_disagrees, small_shape_wrong};

/// Collects reference targets without changing them.
struct Collect<'a> {
    out: &'a mut Vec<usize>,
}

impl SlotVisitor for Collect<'_> {
    fn visit(&mut self, slot: &Cell<*mut u8>) {
        self.out.push(ObjPtr::start_addr_of(slot.get()));
    }
}

/// What kind of object starts at an address, if any.
enum Space {
    Nursery,
    Old,
    Large,
}

struct Checker<'h> {
    heap: &'h HeapInner,
    nursery_objects: HashSet<usize>,
    young_large: HashSet<usize>,
    /// Objects whose header is unusable: never traced.
    bad: HashSet<usize>,
    report: VerifyReport,
}

impl Checker<'_> {
    fn classify(&self, addr: usize) -> Result<Space, &'static str> {
        if self.heap.nursery.contains(addr) {
            return if self.nursery_objects.contains(&addr) {
                Ok(Space::Nursery)
            } else if self.heap.nursery.in_used_part(addr) {
                Err("the middle of a nursery object")
            } else {
                Err("free nursery memory")
            };
        }
        if self.heap.large.contains(addr) {
            return Ok(Space::Large);
        }
        match self.heap.old.locate(addr) {
            Some(loc) if loc.allocated => Ok(Space::Old),
            Some(loc) if loc.slot_start => Err("a free old-space slot"),
            Some(loc) if loc.page_has_class => Err("the middle of an old-space slot"),
            Some(_) => Err("an unused old-space page"),
            None => Err("memory outside this heap"),
        }
    }

    /// Every block of the handle stack up to the top's records this heap's id and its own
    /// position (see `handle_stack.rs`): the check that refuses another heap's handle reads
    /// the id, and a push past a full block reads the position.
    fn check_handle_blocks(&mut self) {
        for (block, header) in self.heap.mutator().handles.bad_headers() {
            self.report.push(Violation::BadSideList {
                problem: format!(
                    "block {block} of the handle stack has the header {header:#x}, not this \
                     heap's id ({}) and its position",
                    self.heap.id
                ),
            });
        }
    }

    /// Checks one object's header against the space it lives in.
    fn check_header(&mut self, obj: ObjPtr, space: &Space) {
        let at = obj.addr();
        // SAFETY: obj is the start of an object of this heap (classified by the caller).
        let word = unsafe { obj.header() };
        // SAFETY: as above.
        let flags = unsafe { obj.flags() };
        if flags.contains(HeaderFlags::FORWARDED) {
            self.report.push(Violation::ForwardedObject { at });
            self.bad.insert(at);
            return;
        }
        // SAFETY: as above; the descriptor is checked before it is read.
        if !unsafe { obj.has_valid_type() } {
            self.report.push(Violation::BadHeader {
                at,
                problem: format!(
                    "corrupt header {:#x}: no valid type descriptor",
                    word.addr()
                ),
            });
            self.bad.insert(at);
            return;
        }
        let mut bad = |problem: String| {
            self.report.push(Violation::BadHeader { at, problem });
        };
        // SAFETY: the descriptor was validated above.
        let info = unsafe { obj.type_info() };
        if flags.contains(HeaderFlags::NEEDS_DROP) != info.drop.is_some() {
            bad(format!(
                "NEEDS_DROP is {} for {}",
                flags.contains(HeaderFlags::NEEDS_DROP),
                info.name()
            ));
        }
        if let Some(problem) = small_shape_wrong(info) {
            bad(problem);
        }
        if flags.contains(HeaderFlags::SURVIVED) {
            bad("SURVIVED outside a minor collection".into());
        }
        let large = matches!(space, Space::Large);
        if flags.contains(HeaderFlags::LARGE) != large {
            bad(format!(
                "LARGE flag is {} in the {} space",
                !large,
                if large { "large" } else { "small" }
            ));
        }
        if flags.contains(HeaderFlags::YOUNG_LARGE) && !large {
            bad("YOUNG_LARGE on an object outside the large space".into());
        }
        let young = matches!(space, Space::Nursery) || flags.contains(HeaderFlags::YOUNG_LARGE);
        if young && flags.contains(HeaderFlags::TRACK_YOUNG) {
            bad("TRACK_YOUNG on a young object".into());
        }
        if young && flags.contains(HeaderFlags::LOG_STORES) {
            bad("LOG_STORES on a young object".into());
        }
    }

    fn is_young(&self, addr: usize) -> bool {
        self.heap.nursery.contains(addr) || self.young_large.contains(&addr)
    }
}

impl HeapInner {
    /// Every root slot's address, named: the handles and the root providers' slots (pinned
    /// objects are checked with the pins).
    fn gather_roots(&mut self) -> Vec<(String, usize)> {
        let mut roots: Vec<(String, usize)> = Vec::new();
        // Every live handle slot holds an object (a null one is reported: `Scope::resolve`
        // reads a slot without testing it).
        for (i, slot) in self.mutator.get_mut().handles.live_slots().enumerate() {
            roots.push((format!("handle {i}"), ObjPtr::start_addr_of(slot.get())));
        }
        let mut provided = Vec::new();
        let mut collect = Collect { out: &mut provided };
        let mut tracer = Tracer::new(&mut collect);
        for provider in self.providers.iter_mut().flatten() {
            provider.trace_roots(&mut RootTracer::new(&mut tracer));
        }
        roots.extend(
            provided
                .into_iter()
                .map(|a| ("root provider".to_string(), a)),
        );
        roots.extend(
            self.persistent
                .targets()
                .into_iter()
                .map(|(a, _)| ("persistent root".to_string(), a)),
        );
        roots
    }

    /// The persistent roots' side list: every root to a young object is listed for the minor
    /// collection.
    fn check_persistent_young(&self, report: &mut VerifyReport, is_young: impl Fn(usize) -> bool) {
        for (addr, listed) in self.persistent.targets() {
            if is_young(addr) && !listed {
                report.push(Violation::BadSideList {
                    problem: format!(
                        "a persistent root to the young object {addr:#x} is not listed young"
                    ),
                });
            }
        }
    }

    /// Checks every invariant; see the module documentation.
    pub(crate) fn verify(&mut self) -> VerifyReport {
        // Gather roots first (providers need &mut), then check with a shared view.
        let roots = self.gather_roots();
        let heap: &HeapInner = self;
        let mut checker = Checker {
            heap,
            nursery_objects: HashSet::new(),
            young_large: heap.young_large.iter().map(|o| o.addr()).collect(),
            bad: HashSet::new(),
            report: VerifyReport::default(),
        };
        checker.check_handle_blocks();

        // Pass 1: every allocated object's header.
        // SAFETY: outside a minor collection no nursery object is forwarded.
        let (nursery_objects, corrupt) = unsafe { heap.nursery.objects() };
        for at in corrupt {
            checker.report.push(Violation::BadHeader {
                at,
                problem: "corrupt header in the nursery (the walk stops here)".into(),
            });
        }
        checker.nursery_objects = nursery_objects.iter().map(|o| o.addr()).collect();
        let mut all: Vec<(ObjPtr, Space)> = nursery_objects
            .into_iter()
            .map(|o| (o, Space::Nursery))
            .collect();
        heap.old.for_each_object(|o| all.push((o, Space::Old)));
        heap.large.for_each_object(|o| all.push((o, Space::Large)));
        checker.report.objects = all.len();
        let mut old_untracked = HashSet::new();
        for (obj, space) in &all {
            checker.check_header(*obj, space);
            if !matches!(space, Space::Nursery) {
                // SAFETY: obj is an allocated object of this heap.
                let flags = unsafe { obj.flags() };
                if !flags.contains(HeaderFlags::YOUNG_LARGE)
                    && !flags.contains(HeaderFlags::TRACK_YOUNG)
                {
                    old_untracked.insert(obj.addr());
                }
            }
        }
        let by_addr: std::collections::HashMap<usize, ObjPtr> =
            all.iter().map(|(o, _)| (o.addr(), *o)).collect();

        // Side lists.
        let remembered: HashSet<usize> =
            heap.mutator().remembered.iter().map(|o| o.addr()).collect();
        if remembered != old_untracked {
            let missing: Vec<_> = old_untracked.difference(&remembered).take(4).collect();
            let extra: Vec<_> = remembered.difference(&old_untracked).take(4).collect();
            checker.report.push(Violation::BadSideList {
                problem: format!(
                    "old objects without TRACK_YOUNG not remembered: {missing:x?}; remembered \
                     entries that are not untracked old objects: {extra:x?}"
                ),
            });
        }
        // The allocation fast path's switch (`heap/mod.rs`): off exactly while a stress tick is
        // due at every allocation or hook events wait, or an allocation would skip their delivery.
        let fast_off = heap.stress_countdown != 0 || heap.recorder.has_pending();
        if heap.nursery.fast_path_on() == fast_off {
            checker.report.push(Violation::BadSideList {
                problem: format!(
                    "the allocation fast path is {} while {}",
                    if fast_off { "on" } else { "off" },
                    if fast_off {
                        "a stress tick is due or hook events wait"
                    } else {
                        "nothing asks for the slow path"
                    }
                ),
            });
        }
        // The barrier's filter (`store.rs`): it must admit every young value, so it is the
        // nursery's region only while no young large object exists and the heap is not frozen.
        if heap.barrier_filter != heap.wanted_barrier_filter() {
            checker.report.push(Violation::BadSideList {
                problem: format!(
                    "the barrier filter is {:?} where the heap calls for {:?} (frozen: {}, \
                     young large objects: {})",
                    heap.barrier_filter,
                    heap.wanted_barrier_filter(),
                    heap.frozen,
                    heap.young_large.len()
                ),
            });
        }
        for (obj, space) in &all {
            // SAFETY: obj is an allocated object of this heap.
            let young_flag = unsafe { obj.flags() }.contains(HeaderFlags::YOUNG_LARGE);
            if matches!(space, Space::Large)
                && young_flag != checker.young_large.contains(&obj.addr())
            {
                checker.report.push(Violation::BadSideList {
                    problem: format!(
                        "young_large disagrees with YOUNG_LARGE at {:#x}",
                        obj.addr()
                    ),
                });
            }
        }
        checker.check_store_log(&all);
        let drops: HashSet<usize> = heap.young_drop.iter().map(|o| o.addr()).collect();
        for (obj, space) in &all {
            if matches!(space, Space::Old) && !checker.bad.contains(&obj.addr()) {
                // SAFETY: obj is an allocated old object with a validated header.
                let needs = unsafe { obj.flags() }.contains(HeaderFlags::NEEDS_DROP);
                // SAFETY: as above.
                if needs && !unsafe { heap.old.death_noticed(*obj) } {
                    checker.report.push(Violation::BadSideList {
                        problem: format!(
                            "an object with drop glue at {:#x} lies on a page the sweep frees \
                             without reading (its page is not marked as holding drop glue)",
                            obj.addr()
                        ),
                    });
                }
            }
            if matches!(space, Space::Nursery) {
                // SAFETY: obj is an allocated nursery object.
                let needs = unsafe { obj.flags() }.contains(HeaderFlags::NEEDS_DROP);
                if needs != drops.contains(&obj.addr()) {
                    checker.report.push(Violation::BadSideList {
                        problem: format!(
                            "young_drop disagrees with NEEDS_DROP at {:#x}",
                            obj.addr()
                        ),
                    });
                }
            }
        }
        if drops.len() > checker.nursery_objects.len()
            || drops.iter().any(|a| !checker.nursery_objects.contains(a))
        {
            checker.report.push(Violation::BadSideList {
                problem: "young_drop lists an address that is no nursery object".into(),
            });
        }
        // Pins.
        let counts = heap.pins.counts();
        if *counts != heap.pins.active_counts() {
            checker.report.push(Violation::BadSideList {
                problem: "per-object pin counts disagree with the active pins".into(),
            });
        }
        for (obj, _) in &all {
            // SAFETY: obj is an allocated object of this heap.
            let flagged = unsafe { obj.flags() }.contains(HeaderFlags::PINNED);
            if flagged != counts.contains_key(&obj.addr()) {
                checker.report.push(Violation::BadHeader {
                    at: obj.addr(),
                    problem: format!(
                        "PINNED is {flagged} but the object has {} pin(s)",
                        heap.pins.count(obj.addr())
                    ),
                });
            }
        }
        let young_pinned = counts.keys().filter(|&&a| heap.nursery.contains(a)).count();
        if young_pinned != heap.pins.young_pinned() || young_pinned > heap.config.max_pinned() {
            checker.report.push(Violation::BadSideList {
                problem: format!(
                    "{young_pinned} nursery objects are pinned, the table counts {} (MAX_PINNED {})",
                    heap.pins.young_pinned(),
                    heap.config.max_pinned()
                ),
            });
        }
        for &addr in counts.keys() {
            if let Err(what) = checker.classify(addr) {
                checker.report.push(Violation::DanglingReference {
                    from: "pin".into(),
                    to: addr,
                    what,
                });
            }
        }
        // Identity hashes and weak references.
        let mut hashed = 0;
        for (obj, space) in &all {
            // SAFETY: obj is an allocated object of this heap.
            let flagged = unsafe { obj.flags() }.contains(HeaderFlags::HASHED);
            hashed += usize::from(flagged);
            if flagged != heap.identity.contains(obj.addr()) {
                checker.report.push(Violation::BadSideList {
                    problem: format!(
                        "HASHED is {flagged} at {:#x} but the identity table disagrees",
                        obj.addr()
                    ),
                });
            }
            let listed = heap.identity.young().iter().any(|o| o.addr() == obj.addr());
            if flagged && matches!(space, Space::Nursery) != listed {
                checker.report.push(Violation::BadSideList {
                    problem: format!("the young identity list disagrees at {:#x}", obj.addr()),
                });
            }
        }
        if let Some((addr, hash)) = heap.identity.stale_cached() {
            checker.report.push(Violation::BadSideList {
                problem: format!(
                    "the identity cache gives {addr:#x} the hash {hash:#x}, the table does not"
                ),
            });
        }
        if hashed != heap.identity.len() {
            checker.report.push(Violation::BadSideList {
                problem: format!(
                    "{} identity entries for {hashed} hashed objects",
                    heap.identity.len()
                ),
            });
        }
        for addr in heap.weak.targets() {
            if let Err(what) = checker.classify(addr) {
                checker.report.push(Violation::DanglingReference {
                    from: "weak reference".into(),
                    to: addr,
                    what,
                });
            }
        }
        for problem in heap.old.check_free_lists() {
            checker.report.push(Violation::BadFreeList { problem });
        }
        heap.check_persistent_young(&mut checker.report, |a| {
            heap.nursery.contains(a) || checker.young_large.contains(&a)
        });
        if let Some(limit) = heap.config.max_heap() {
            let footprint = heap.footprint();
            if footprint > limit {
                checker
                    .report
                    .push(Violation::HeapLimitExceeded { footprint, limit });
            }
        }

        // Pass 2: everything reachable.
        let mut visited = HashSet::new();
        let mut stack = Vec::new();
        for (name, addr) in roots {
            checker.report.roots += 1;
            match checker.classify(addr) {
                Ok(_) => {
                    if visited.insert(addr) {
                        stack.push(addr);
                    }
                }
                Err(what) => checker.report.push(Violation::DanglingReference {
                    from: name,
                    to: addr,
                    what,
                }),
            }
        }
        let mut children = Vec::new();
        while let Some(addr) = stack.pop() {
            let obj = by_addr[&addr];
            checker.report.reachable += 1;
            if checker.bad.contains(&addr) {
                continue; // reported in pass 1; its descriptor cannot be trusted
            }
            // SAFETY: obj is an allocated object of this heap.
            let flags = unsafe { obj.flags() };
            if flags.contains(HeaderFlags::FORWARDED) {
                continue; // reported in pass 1
            }
            children.clear();
            // SAFETY: obj is a live, unforwarded object; Collect only reads slots.
            unsafe { obj.trace(&mut Tracer::new(&mut Collect { out: &mut children })) };
            // SAFETY: as above.
            let problem = unsafe {
                scan_disagrees(obj).or_else(|| {
                    payload_broken(obj, &|key| heap.identity.get(ObjPtr::start_addr_of(key)))
                })
            };
            if let Some(problem) = problem {
                checker
                    .report
                    .push(Violation::BadHeader { at: addr, problem });
            }
            let obj_is_old =
                !heap.nursery.contains(addr) && !flags.contains(HeaderFlags::YOUNG_LARGE);
            // SAFETY: as above.
            let unlisted_frozen =
                unsafe { heap.is_frozen(obj) } && !heap.mutator().frozen_dirty_set.contains(&addr);
            for &child in &children {
                checker.report.references += 1;
                match checker.classify(child) {
                    Ok(_) => {
                        // SAFETY: the child is a valid object of this heap (classified).
                        let thawed = |&c: &ObjPtr| !unsafe { heap.is_frozen(c) };
                        if unlisted_frozen && by_addr.get(&child).is_some_and(thawed) {
                            checker.report.push(Violation::BadSideList {
                                problem: format!(
                                    "frozen object {addr:#x} refers to {child:#x}, which is not \
                                     frozen, and is no frozen root"
                                ),
                            });
                        }
                        if obj_is_old
                            && checker.is_young(child)
                            && flags.contains(HeaderFlags::TRACK_YOUNG)
                        {
                            checker.report.push(Violation::MissingRememberedEntry {
                                old: addr,
                                young: child,
                            });
                        }
                        if visited.insert(child) {
                            stack.push(child);
                        }
                    }
                    Err(what) => checker.report.push(Violation::DanglingReference {
                        from: format!("field of {addr:#x}"),
                        to: child,
                        what,
                    }),
                }
            }
        }
        checker.report
    }
}
