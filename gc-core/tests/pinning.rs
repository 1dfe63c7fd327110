//! Pinning, tested on the corner cases that broke PyPy. Every heap here runs the verifier after
//! every collection (`debug_level(2)`), so a broken invariant fails the test where it happens.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use gc_core::{Config, GcBytes, GcError, Handle, Heap, Member, Pinned, Scope, Trace};

#[derive(Trace)]
struct Node {
    value: u64,
    next: Member<Node>,
    buf: Member<GcBytes>,
}

fn node(value: u64) -> Node {
    Node {
        value,
        next: Member::null(),
        buf: Member::null(),
    }
}

#[path = "common/counted.rs"]
mod counted;
use counted::Counted;

fn scaled(n: usize) -> usize {
    if cfg!(miri) {
        (n / 200).max(10)
    } else {
        n
    }
}

fn heap_with(config: Config) -> Heap {
    Heap::new(config.with_debug_level(2).with_nursery_debug(true)).unwrap()
}

fn small_heap() -> Heap {
    heap_with(Config::default().with_nursery_size(64 * 1024))
}

fn addr(p: &Pinned) -> usize {
    p.as_ptr() as usize
}

#[test]
fn a_pinned_object_stays_in_place_and_its_pointer_stays_valid() {
    // Referenced only from a root (its handle) and its pin.
    let mut heap = small_heap();
    heap.scope(|s| {
        let buf = s.alloc_bytes(b"pinned bytes").unwrap();
        let pin = s.pin(buf).unwrap();
        assert_eq!(pin.len(), 12);
        let at = addr(&pin);
        s.collect_minor();
        s.collect_major();
        assert_eq!(s.bytes(buf).as_ptr() as usize, at, "not moved");
        assert!(!s.can_move(buf));
        // SAFETY: the pin keeps the 12 bytes alive and in place.
        unsafe { pin.as_ptr().add(7).write(b'B') };
        assert_eq!(s.bytes(buf), b"pinned Bytes");
        assert_eq!(s.stats().pinning.pinned_young, 1);
        drop(pin);
        s.collect_minor(); // the pin ended: now it moves
        assert_ne!(s.bytes(buf).as_ptr() as usize, at);
        assert_eq!(s.bytes(buf), b"pinned Bytes");
        assert_eq!(s.stats().pinning.pinned_young, 0);
    });
}

#[test]
fn a_pinned_object_held_only_by_its_pin_stays_alive() {
    let mut heap = small_heap();
    let pin = heap.scope(|s| {
        let buf = s.alloc_bytes(&[9; 100]).unwrap();
        s.pin(buf).unwrap()
    });
    heap.collect_minor();
    heap.collect_major();
    // SAFETY: the pin keeps the 100 bytes alive and in place.
    let bytes = unsafe { std::slice::from_raw_parts(pin.as_ptr(), pin.len()) };
    assert!(bytes.iter().all(|&b| b == 9));
    drop(pin);
    heap.collect_minor(); // the release is processed and the object dies
    assert_eq!(heap.stats().pinning.pinned_objects, 0);
}

#[test]
fn pin_twice() {
    // Pin twice: the object counts once against MAX_PINNED and stays pinned until both end.
    let mut heap = heap_with(
        Config::default()
            .with_nursery_size(64 * 1024)
            .with_max_pinned(1),
    );
    heap.scope(|s| {
        let buf = s.alloc_bytes(b"x").unwrap();
        let a = s.pin(buf).unwrap();
        let b = s.pin(buf).unwrap();
        assert_eq!(addr(&a), addr(&b));
        assert_eq!(s.stats().pinning.pinned_young, 1);
        s.unpin(a).unwrap();
        assert!(s.is_pinned(buf));
        s.collect_minor();
        assert_eq!(
            s.bytes(buf).as_ptr() as usize,
            addr(&b),
            "still pinned by the second pin"
        );
        s.unpin(b).unwrap();
        assert!(!s.is_pinned(buf));
        assert_eq!(s.stats().pinning.pins, 2);
    });
}

#[test]
fn unpin_what_is_not_pinned() {
    // Unpinning a released pin, or another heap's pin, is an error, not a crash.
    let mut heap = small_heap();
    let mut other = small_heap();
    heap.scope(|s| {
        let buf = s.alloc_bytes(b"x").unwrap();
        let id = s.pin_raw(buf).unwrap();
        assert!(s.is_pin_active(id));
        s.unpin_raw(id).unwrap();
        assert_eq!(s.unpin_raw(id), Err(GcError::NotPinned));
        let foreign = other.scope(|o| {
            let b = o.alloc_bytes(b"y").unwrap();
            o.pin_raw(b).unwrap()
        });
        assert_eq!(s.unpin_raw(foreign), Err(GcError::NotPinned));
        // A slot reused by a later pin is not released by the stale id.
        let id2 = s.pin_raw(buf).unwrap();
        assert_eq!(s.unpin_raw(id), Err(GcError::NotPinned));
        assert!(s.is_pinned(buf));
        s.unpin_raw(id2).unwrap();
    });
}

#[test]
fn pin_an_old_object() {
    // Old objects never move; pinning one keeps it alive and does not count against MAX_PINNED.
    let mut heap = heap_with(
        Config::default()
            .with_nursery_size(64 * 1024)
            .with_max_pinned(1),
    );
    heap.scope(|s| {
        let old = s.alloc_bytes(b"old").unwrap();
        s.collect_minor();
        let young = s.alloc_bytes(b"young").unwrap();
        let p_young = s.pin(young).unwrap();
        let p_old = s.pin(old).unwrap();
        assert_eq!(s.stats().pinning.pinned_young, 1);
        assert_eq!(s.stats().pinning.pinned_objects, 2);
        let young2 = s.alloc_bytes(b"young2").unwrap();
        assert_eq!(
            s.pin(young2).err(),
            Some(GcError::PinLimitReached { limit: 1 })
        );
        s.collect_major();
        assert_eq!(s.bytes(old).as_ptr() as usize, addr(&p_old));
        drop((p_young, p_old));
    });
}

#[test]
fn a_pinned_object_referenced_from_an_old_object() {
    // The old parent must stay remembered while the pinned child stays young, so that once
    // the pin ends the next minor collection finds the child through it.
    let mut heap = small_heap();
    heap.scope(|s| {
        let parent = s.alloc(node(1)).unwrap();
        s.collect_minor(); // parent is old
        let pin = s.scope(|s| {
            let child = s.alloc(node(2)).unwrap();
            s.set(parent, |p| &p.next, Some(child));
            s.pin(child).unwrap()
        });
        s.collect_minor(); // child stays (pinned); parent must stay remembered
        s.collect_minor();
        assert!(s.verify().is_ok());
        drop(pin); // now only the old parent refers to the child
        s.collect_minor(); // the child moves; the parent's field follows
        let child = s.load(parent, |p| &p.next).unwrap();
        assert_eq!(s.get(child).value, 2);
        assert_ne!(s.get(child) as *const Node as usize, 0);
        s.collect_major();
        assert_eq!(s.get(s.load(parent, |p| &p.next).unwrap()).value, 2);
    });
}

#[test]
fn a_pinned_object_referenced_from_two_old_objects_one_of_which_dies() {
    // Every old parent stays recorded, not only the first; the dead one leaves the
    // remembered set at the major collection instead of dangling in it.
    let mut heap = small_heap();
    heap.scope(|s| {
        let keep = s.alloc(node(1)).unwrap();
        let pin = s.scope(|s| {
            let doomed = s.alloc(node(99)).unwrap();
            s.collect_minor(); // both parents are old
            let child = s.alloc(node(2)).unwrap();
            s.set(keep, |p| &p.next, Some(child));
            s.set(doomed, |p| &p.next, Some(child));
            s.pin(child).unwrap()
        });
        s.collect_minor();
        s.collect_major(); // `doomed` dies here; it was remembered
        drop(pin);
        s.collect_minor(); // the child moves; only `keep` is updated, `doomed` is gone
        assert_eq!(s.get(s.load(keep, |p| &p.next).unwrap()).value, 2);
        s.collect_major();
        assert_eq!(s.stats().old_bytes, 2 * 32, "keep and the child");
    });
}

#[test]
fn a_pinned_object_referenced_from_another_young_object() {
    // The young referrer is promoted while the pinned object stays young: the promoted copy
    // must be remembered.
    let mut heap = small_heap();
    heap.scope(|s| {
        let referrer = s.alloc(node(1)).unwrap();
        let pin = s.scope(|s| {
            let child = s.alloc(node(2)).unwrap();
            s.set(referrer, |p| &p.next, Some(child));
            s.pin(child).unwrap()
        });
        s.collect_minor();
        assert!(s.verify().is_ok());
        drop(pin);
        s.collect_minor();
        assert_eq!(s.get(s.load(referrer, |p| &p.next).unwrap()).value, 2);
    });
}

#[test]
fn a_pinned_object_with_references_has_them_traced_and_updated() {
    let mut heap = small_heap();
    heap.scope(|s| {
        let holder = s.alloc(node(1)).unwrap();
        let pin = s.pin(holder).unwrap();
        s.scope(|s| {
            let young = s.alloc(node(7)).unwrap();
            let buf = s.alloc_bytes(b"payload").unwrap();
            s.set(holder, |h| &h.next, Some(young));
            s.set(holder, |h| &h.buf, Some(buf));
        });
        s.collect_minor(); // the referents move out of the nursery; holder stays
        s.collect_major();
        let h = s.get(holder);
        assert_eq!(h as *const Node as usize, addr(&pin));
        assert_eq!(s.deref(&h.next).unwrap().value, 7);
        assert_eq!(s.deref_bytes(&h.buf).unwrap(), b"payload");
        drop(pin);
    });
}

#[test]
fn a_pinned_object_whose_pin_ended_and_that_is_unreachable_is_reclaimed() {
    let drops = Arc::new(AtomicUsize::new(0));
    let mut heap = heap_with(Config::default().with_nursery_size(16 * 1024));
    heap.scope(|s| {
        let (pin, at) = s.scope(|s| {
            s.alloc(Counted {
                drops: drops.clone(),
            })
            .unwrap(); // young, unpinned
            let c2 = s
                .alloc(Counted {
                    drops: drops.clone(),
                })
                .unwrap();
            let pin = s.pin(c2).unwrap();
            let at = addr(&pin);
            (pin, at)
        });
        s.collect_minor();
        assert_eq!(drops.load(Ordering::SeqCst), 1, "the unpinned one died");
        assert!(s.stats().pinning.fragmentation_bytes > 0);
        drop(pin);
        s.collect_minor();
        assert_eq!(
            drops.load(Ordering::SeqCst),
            2,
            "its drop glue ran once its pin ended"
        );
        assert_eq!(
            s.stats().pinning.fragmentation_bytes,
            0,
            "no pins, no fragmentation"
        );
        // Its slot is free: allocation reuses the whole nursery, including its address.
        let mut reused = false;
        s.scope(|s| {
            for _ in 0..(16 * 1024 / 32) {
                let n = s.alloc(node(0)).unwrap();
                let payload = s.get(n) as *const Node as usize;
                // The new object's memory covers the old one's header.
                reused |= (payload - 8..payload + 24).contains(&(at - 8));
            }
        });
        assert!(reused, "an allocation covers where the pinned object was");
    });
}

/// Fills the nursery with nodes until a minor collection happens; returns the nodes'
/// addresses.
fn fill_nursery(s: &mut Scope<'_>) -> Vec<(usize, usize)> {
    let before = s.collection_count();
    let mut spans = Vec::new();
    s.scope(|s| {
        while s.collection_count() == before {
            let n = s.alloc(node(5)).unwrap();
            let a = s.get(n) as *const Node as usize;
            spans.push((a - 8, a + 24));
        }
    });
    spans.pop(); // the last one was allocated after the collection
    spans
}

#[test]
fn allocation_fills_the_nursery_around_pinned_objects_at_the_start_the_end_and_adjacent() {
    let mut heap = heap_with(
        Config::default()
            .with_nursery_size(16 * 1024)
            .with_max_pinned(10),
    );
    heap.scope(|s| {
        // Lay out the nursery: 500 nodes of 32 bytes, 16,000 of its 16,384 bytes.
        let nodes: Vec<Handle<'_, Node>> = (0..500).map(|i| s.alloc(node(i)).unwrap()).collect();
        let chosen = [0usize, 200, 201, 202, 499]; // the start, adjacent ones, near the end
        let pins: Vec<Pinned> = chosen.iter().map(|&i| s.pin(nodes[i]).unwrap()).collect();
        let pinned: Vec<(usize, usize)> =
            pins.iter().map(|p| (addr(p) - 8, addr(p) + 24)).collect();
        s.collect_minor();
        for _ in 0..if cfg!(miri) { 1 } else { 3 } {
            let spans = fill_nursery(s);
            assert!(spans.len() > 300, "the gaps are used: {}", spans.len());
            for &(a, b) in &spans {
                for &(p, q) in &pinned {
                    assert!(
                        b <= p || a >= q,
                        "allocation [{a:#x},{b:#x}) overlaps a pinned object"
                    );
                }
            }
            for (&i, p) in chosen.iter().zip(&pins) {
                assert_eq!(s.get(nodes[i]).value, i as u64);
                assert_eq!(s.get(nodes[i]) as *const Node as usize, addr(p));
            }
        }
        drop(pins);
    });
}

#[test]
fn a_nursery_full_of_pins_still_allocates() {
    let mut heap = heap_with(
        Config::default()
            .with_nursery_size(4096)
            .with_max_pinned(10_000),
    );
    heap.scope(|s| {
        let mut pins = Vec::new();
        while s.collection_count() == 0 {
            let n = s.alloc(node(1)).unwrap();
            pins.push(s.pin(n).unwrap());
        }
        s.collect_minor(); // every slot of the nursery is pinned
        assert!(s.stats().pinning.fragmentation_bytes > 4096 - 256);
        let n = scaled(1_000) as u64;
        for i in 0..n {
            let node = s.alloc(node(i)).unwrap(); // no gap: born old, never a loop
            assert_eq!(s.get(node).value, i);
        }
        assert!(s.stats().old_bytes as u64 >= n * 32);
        drop(pins);
    });
}

#[test]
fn the_limit_is_reached_exactly_at_n_and_refused_at_n_plus_one() {
    for n in [1usize, 3, 8] {
        let mut heap = heap_with(
            Config::default()
                .with_nursery_size(64 * 1024)
                .with_max_pinned(n),
        );
        heap.scope(|s| {
            let bufs: Vec<_> = (0..=n).map(|_| s.alloc_bytes(b"b").unwrap()).collect();
            let mut pins: Vec<Pinned> = bufs[..n].iter().map(|&b| s.pin(b).unwrap()).collect();
            assert_eq!(s.stats().pinning.pinned_young, n);
            assert_eq!(
                s.pin(bufs[n]).err(),
                Some(GcError::PinLimitReached { limit: n })
            );
            assert_eq!(s.stats().pinning.refused_limit, 1);
            s.unpin(pins.pop().unwrap()).unwrap();
            pins.push(s.pin(bufs[n]).unwrap());
            // A dropped guard frees its place too (at the next pin operation).
            drop(pins.pop());
            pins.push(s.pin(bufs[n - 1]).unwrap());
            assert_eq!(s.stats().pinning.pinned_young, n);
        });
    }
}

#[test]
fn max_pinned_zero_disables_pinning_entirely() {
    let config = Config::from_vars("PINION_GC_", [("PINION_GC_MAX_PINNED", "0")]).unwrap();
    let mut heap = heap_with(config.with_nursery_size(64 * 1024));
    heap.scope(|s| {
        let young = s.alloc_bytes(b"young").unwrap();
        let old = s.alloc_bytes_nonmoving(b"old").unwrap();
        assert_eq!(s.pin(young).err(), Some(GcError::PinningDisabled));
        assert_eq!(s.pin(old).err(), Some(GcError::PinningDisabled));
        assert_eq!(s.pin_raw(young).err(), Some(GcError::PinningDisabled));
        // The FFI helper copies a young object instead, and hands an old one over in place;
        // neither is a refused pin.
        s.with_nonmoving_buffer(young, |b| b.copy_from_slice(b"YOUNG"));
        assert_eq!(s.bytes(young), b"YOUNG");
        let at = s.bytes(old).as_ptr() as usize;
        let seen = s.with_nonmoving_buffer(old, |b| {
            b.copy_from_slice(b"OLD");
            b.as_ptr() as usize
        });
        assert_eq!((seen, s.bytes(old)), (at, &b"OLD"[..]));
        let st = s.stats().pinning;
        assert_eq!((st.pins, st.refused_disabled), (0, 3));
        assert_eq!((st.ffi_copied, st.ffi_in_place, st.ffi_pinned), (1, 1, 0));
    });
}

#[test]
fn the_ffi_helper_pins_in_place_when_it_can() {
    let mut heap = small_heap();
    heap.scope(|s| {
        let buf = s.alloc_bytes(b"abc").unwrap();
        let data = s.bytes(buf).as_ptr() as usize;
        let seen = s.with_nonmoving_buffer(buf, |b| {
            b[2] = b'C';
            b.as_ptr() as usize
        });
        assert_eq!(seen, data, "no copy");
        assert_eq!(s.bytes(buf), b"abC");
        assert_eq!(s.stats().pinning.pins, 1);
        assert_eq!(
            s.stats().pinning.pinned_objects,
            0,
            "the helper's pin ended"
        );
    });
}

#[test]
fn pinned_for_life_allocations_never_move_and_do_not_count() {
    let mut heap = heap_with(
        Config::default()
            .with_nursery_size(64 * 1024)
            .with_max_pinned(1),
    );
    heap.scope(|s| {
        let small = s.alloc_bytes_nonmoving(&[1; 100]).unwrap();
        let large = s.alloc_bytes_nonmoving(&[2; 100_000]).unwrap();
        let value = s.alloc_nonmoving(node(3)).unwrap();
        let before = [
            s.bytes(small).as_ptr() as usize,
            s.bytes(large).as_ptr() as usize,
            s.get(value) as *const Node as usize,
        ];
        assert!(!s.can_move(small) && !s.can_move(large) && !s.can_move(value));
        let pins = [
            s.pin(small).unwrap(),
            s.pin(large).unwrap(),
            s.pin(value).unwrap(),
        ];
        let young = s.alloc_bytes(b"y").unwrap();
        let p = s.pin(young).unwrap(); // the one nursery pin MAX_PINNED=1 allows
        s.collect_minor();
        s.collect_major();
        let after = [
            s.bytes(small).as_ptr() as usize,
            s.bytes(large).as_ptr() as usize,
            s.get(value) as *const Node as usize,
        ];
        assert_eq!(before, after);
        assert_eq!(s.stats().pinning.pinned_young, 1);
        drop((pins, p));
    });
}

#[test]
fn a_guard_dropped_on_another_thread_ends_its_pin() {
    let mut heap = small_heap();
    heap.scope(|s| {
        let buf = s.alloc_bytes(&[0; 64]).unwrap();
        let pin = s.pin(buf).unwrap();
        // The "C thread" writes through the pointer, then drops the guard.
        std::thread::spawn(move || {
            // SAFETY: the guard keeps the 64 bytes alive and in place until it is dropped here;
            // the owning thread does not touch them meanwhile.
            unsafe { std::ptr::write_bytes(pin.as_ptr(), 7, 64) };
            drop(pin);
        })
        .join()
        .unwrap();
        assert_eq!(s.bytes(buf), &[7; 64][..]);
        s.release_dropped_pins();
        assert!(!s.is_pinned(buf));
    });
}

#[test]
fn random_pins_never_unpinned_leave_no_pin_behind() {
    // 400,000 iterations of allocation with random pins whose guards are just dropped (never
    // passed to unpin), some kept for a while: afterwards the pin count is back to zero and
    // stays there.
    let mut heap = Heap::new(Config::default().with_nursery_size(64 * 1024)).unwrap();
    let mut kept: Vec<Pinned> = Vec::new();
    let mut x: u64 = 12345;
    let mut pins = 0u64;
    heap.scope(|s| {
        for i in 0..scaled(400_000) {
            s.scope(|s| {
                let buf = s.alloc_bytes(&(i as u32).to_le_bytes()).unwrap();
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                match x >> 61 {
                    0 => {
                        if let Ok(p) = s.pin(buf) {
                            pins += 1;
                            drop(p); // the pin ends with the guard
                        }
                    }
                    1 => {
                        if let Ok(p) = s.pin(buf) {
                            pins += 1;
                            kept.push(p);
                            if kept.len() > 100 {
                                kept.swap_remove((x % 100) as usize);
                            }
                        }
                    }
                    _ => {}
                }
            });
            assert!(s.stats().pinning.pinned_objects <= 101);
        }
    });
    kept.clear();
    for _ in 0..10 {
        heap.collect_minor();
        let st = heap.stats().pinning;
        assert_eq!((st.pinned_young, st.pinned_objects), (0, 0));
    }
    heap.collect_major();
    assert_eq!(heap.stats().pinning.pins, pins);
    assert!(heap.verify().is_ok());
}

/// A minor collection scans a run of promoted copies of one type in one call (a list's
/// nodes, here): a node in the middle of the run that refers to a pinned nursery object
/// must still be remembered (the verifier after every collection checks it), and the run
/// goes on after it.
#[test]
fn a_copy_in_the_middle_of_a_run_that_refers_to_a_pinned_object_is_remembered() {
    let mut heap = heap_with(Config::default().with_nursery_size(256 * 1024));
    heap.scope(|s| {
        let len = scaled(2000) as u64;
        let pinned_at = [3, len / 2, len - 2];
        // A list built in the nursery, each node pushed in front: every node is promoted by
        // the next minor collection, depth first, one run of `Node` copies.
        let head = s.alloc(node(len)).unwrap();
        let mut pins = Vec::new();
        for i in (0..len).rev() {
            let pin = s.scope(|t| {
                let n = t.alloc(node(i)).unwrap();
                let next = t.load(head, |h| &h.next);
                t.set(n, |n| &n.next, next);
                t.set(head, |h| &h.next, Some(n));
                pinned_at.contains(&i).then(|| {
                    let buf = t.alloc_bytes(format!("buf {i}").as_bytes()).unwrap();
                    t.set(n, |n| &n.buf, Some(buf));
                    t.pin(buf).unwrap()
                })
            });
            pins.extend(pin);
        }
        s.collect_minor(); // the list is promoted; three of its nodes keep pinned referents
        s.collect_minor(); // the remembered nodes are scanned again: the pins still hold
        drop(pins);
        s.collect_minor(); // the buffers move now, through the remembered nodes
        let mut at = s.load(head, |h| &h.next);
        let mut seen = Vec::new();
        while let Some(n) = at {
            let (value, buf) = (s.get(n).value, s.load(n, |n| &n.buf));
            if let Some(buf) = buf {
                assert_eq!(s.bytes(buf), format!("buf {value}").as_bytes());
                seen.push(value);
            }
            at = s.load(n, |n| &n.next);
        }
        assert_eq!(seen, pinned_at);
        assert!(s.verify().is_ok());
    });
}
