//! The `bdwgc` peer: the Boehm-Demers-Weiser conservative collector, loaded at run time from
//! Debian's `libgc1` (`libgc.so.1`) so that building never needs it. Objects are plain C structs
//! from `GC_malloc` (zeroed memory); the collector finds them by scanning the stack and heap
//! conservatively. All unsafe code of this peer is here.

use std::ffi::c_void;

use libloading::Library;

use super::binary_trees::schedule;

/// The loaded library and the two entry points the workloads use.
struct Bdwgc {
    malloc: unsafe extern "C" fn(usize) -> *mut c_void,
    malloc_atomic: unsafe extern "C" fn(usize) -> *mut c_void,
    _library: Library,
}

impl Bdwgc {
    fn load() -> Result<Bdwgc, String> {
        // SAFETY: libgc's initialisers are safe to run; we keep the library loaded as long as
        // any function pointer taken from it (both live in the returned value).
        unsafe {
            let library = Library::new("libgc.so.1")
                .map_err(|e| format!("libgc.so.1 not found ({e}); install Debian's libgc1"))?;
            let init: unsafe extern "C" fn() =
                *library.get(b"GC_init\0").map_err(|e| e.to_string())?;
            let malloc = *library.get(b"GC_malloc\0").map_err(|e| e.to_string())?;
            let malloc_atomic = *library
                .get(b"GC_malloc_atomic\0")
                .map_err(|e| e.to_string())?;
            init();
            Ok(Bdwgc {
                malloc,
                malloc_atomic,
                _library: library,
            })
        }
    }

    /// A zeroed, collected object of type `T` (plain pointers and integers only).
    fn alloc<T>(&self) -> *mut T {
        // SAFETY: GC_malloc has no preconditions; it returns zeroed memory or null.
        let ptr = unsafe { (self.malloc)(std::mem::size_of::<T>()) } as *mut T;
        assert!(!ptr.is_null(), "GC_malloc: out of memory");
        ptr
    }
}

#[repr(C)]
struct Tree {
    left: *mut Tree,
    right: *mut Tree,
}

fn tree(gc: &Bdwgc, depth: u32) -> *mut Tree {
    let node = gc.alloc::<Tree>();
    if depth > 0 {
        let left = tree(gc, depth - 1);
        // SAFETY: `node` is a live GC_malloc object of type Tree; it stays reachable from this
        // stack frame, which the collector scans.
        unsafe { (*node).left = left };
        let right = tree(gc, depth - 1);
        // SAFETY: as above.
        unsafe { (*node).right = right };
    }
    node
}

fn check(t: *const Tree) -> u64 {
    // SAFETY: `t` is a live tree node, reachable from the caller's stack.
    let (left, right) = unsafe { ((*t).left, (*t).right) };
    if left.is_null() {
        1
    } else {
        1 + check(left) + check(right)
    }
}

/// binary-trees of size `n`.
pub(super) fn binary_trees(n: u32) -> Result<Vec<String>, String> {
    let gc = Bdwgc::load()?;
    Ok(schedule(
        n,
        |d| check(tree(&gc, d)),
        |max, iterate| {
            let long = tree(&gc, max);
            super::binary_trees::all_depths(max, iterate);
            let checked = check(long);
            std::hint::black_box(long); // keep the long-lived tree on the stack until here
            checked
        },
    ))
}

#[repr(C)]
struct Node {
    value: u64,
    next: *mut Node,
}

/// The list workload: returns the sum of the values.
pub(super) fn list(n: u64) -> Result<u64, String> {
    let gc = Bdwgc::load()?;
    let mut head: *mut Node = std::ptr::null_mut();
    for value in 0..n {
        let node = gc.alloc::<Node>();
        // SAFETY: `node` is a fresh, live Node; `head` is on the stack and so stays reachable.
        unsafe { node.write(Node { value, next: head }) };
        head = node;
    }
    let mut sum = 0;
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: every node is reachable from `head`, which is live on the stack.
        unsafe {
            sum += (*cur).value;
            cur = (*cur).next;
        }
    }
    std::hint::black_box(head);
    Ok(sum)
}

/// gcbench of size `size` (the float array comes from `GC_malloc_atomic`, never scanned).
pub(super) fn gcbench(size: u32) -> Result<Vec<String>, String> {
    use super::gcbench::{fill, schedule, Ops, ARRAY_LEN};
    let gc = Bdwgc::load()?;
    let populate = |node: *mut Tree, depth: u32| populate(&gc, node, depth);
    Ok(schedule(
        size,
        Ops {
            top_down: &mut |d| {
                let root = gc.alloc::<Tree>();
                populate(root, d);
                check(root)
            },
            bottom_up: &mut |d| check(tree(&gc, d)),
        },
        |size, run| {
            let long = gc.alloc::<Tree>();
            populate(long, size);
            // SAFETY: GC_malloc_atomic has no preconditions; it returns uninitialised memory
            // (which we fill before reading) or null.
            let array = unsafe { (gc.malloc_atomic)(ARRAY_LEN * 8) } as *mut f64;
            assert!(!array.is_null(), "GC_malloc_atomic: out of memory");
            // SAFETY: `array` holds ARRAY_LEN f64s, is written here before any read, and stays
            // reachable from this frame until the end of the closure.
            let floats = unsafe {
                array.write_bytes(0, ARRAY_LEN);
                std::slice::from_raw_parts_mut(array, ARRAY_LEN)
            };
            fill(floats);
            run();
            let result = (check(long), floats[1000]);
            std::hint::black_box((long, array));
            result
        },
    ))
}

/// GCBench's `Populate`: give `node` two fresh children, then populate them.
fn populate(gc: &Bdwgc, node: *mut Tree, depth: u32) {
    if depth > 0 {
        let left = gc.alloc::<Tree>();
        // SAFETY: `node` is a live Tree reachable from the caller's frame; `left` is fresh.
        unsafe { (*node).left = left };
        let right = gc.alloc::<Tree>();
        // SAFETY: as above.
        unsafe { (*node).right = right };
        populate(gc, left, depth - 1);
        populate(gc, right, depth - 1);
    }
}

/// The array workload: returns the sum over the slots.
pub(super) fn array(slots: u64) -> Result<u64, String> {
    let gc = Bdwgc::load()?;
    // SAFETY: GC_malloc returns zeroed memory (null pointers) for `slots` pointers, or null.
    let array = unsafe { (gc.malloc)(slots as usize * 8) } as *mut *mut u64;
    assert!(!array.is_null(), "GC_malloc: out of memory");
    for (slot, value) in super::array::Stores::new(slots) {
        let object = gc.alloc::<u64>();
        // SAFETY: `object` is a fresh u64 cell; `slot < slots`, inside the live array, which
        // this frame keeps reachable.
        unsafe {
            object.write(value);
            array.add(slot).write(object);
        }
    }
    // SAFETY: the array holds `slots` pointers, each null or a live u64 it keeps reachable.
    let sum = unsafe { std::slice::from_raw_parts(array, slots as usize) }
        .iter()
        .filter(|p| !p.is_null())
        // SAFETY: non-null slots point to live u64 cells.
        .map(|&p| unsafe { *p })
        .sum();
    std::hint::black_box(array);
    Ok(sum)
}

/// A splay node for bdwgc.
#[repr(C)]
struct SplayNode {
    key: u64,
    left: *mut SplayNode,
    right: *mut SplayNode,
    payload: *mut SplayNode,
}

struct SplayBdwgc<'a>(&'a Bdwgc);

/// Reads a field of a live node.
fn field(
    n: *mut SplayNode,
    f: impl FnOnce(&SplayNode) -> *mut SplayNode,
) -> Option<*mut SplayNode> {
    // SAFETY: `n` is a live node: reachable from the tree (whose root is on the stack) or from a
    // local the splay algorithm holds.
    let p = f(unsafe { &*n });
    (!p.is_null()).then_some(p)
}

fn store(v: Option<&*mut SplayNode>) -> *mut SplayNode {
    v.copied().unwrap_or(std::ptr::null_mut())
}

impl super::splay::SplayOps for SplayBdwgc<'_> {
    type Ref = *mut SplayNode;

    fn node(&mut self, key: u64) -> Self::Ref {
        let n = self.0.alloc::<SplayNode>();
        // SAFETY: a fresh, zeroed node.
        unsafe { (*n).key = key };
        n
    }
    fn key(&self, n: &Self::Ref) -> u64 {
        // SAFETY: as in `field`.
        unsafe { (**n).key }
    }
    fn left(&mut self, n: &Self::Ref) -> Option<Self::Ref> {
        field(*n, |x| x.left)
    }
    fn right(&mut self, n: &Self::Ref) -> Option<Self::Ref> {
        field(*n, |x| x.right)
    }
    fn payload(&mut self, n: &Self::Ref) -> Option<Self::Ref> {
        field(*n, |x| x.payload)
    }
    fn set_left(&mut self, n: &Self::Ref, v: Option<&Self::Ref>) {
        // SAFETY: as in `field`; the stored node stays reachable through `n`.
        unsafe { (**n).left = store(v) };
    }
    fn set_right(&mut self, n: &Self::Ref, v: Option<&Self::Ref>) {
        // SAFETY: as above.
        unsafe { (**n).right = store(v) };
    }
    fn set_payload(&mut self, n: &Self::Ref, v: Option<&Self::Ref>) {
        // SAFETY: as above.
        unsafe { (**n).payload = store(v) };
    }
}

/// splay with `runs` runs.
pub(super) fn splay(runs: u64) -> Result<Vec<String>, String> {
    let gc = Bdwgc::load()?;
    Ok(super::splay::run_simple(&mut SplayBdwgc(&gc), runs))
}
