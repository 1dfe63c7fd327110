//! list: build a singly linked list of `n` nodes by pushing at the head (node `i` holds `i`),
//! then traverse it and sum the values. Every node stays live until the traversal ends, so a
//! generational collector promotes the whole list.

use std::cell::RefCell;
use std::rc::Rc;

/// Runs the list workload of `n` nodes for `peer`.
pub fn run(peer: &str, n: u64) -> Result<Vec<String>, String> {
    let sum = match peer {
        "pinion" => pinion(n)?,
        "box" => boxed(n),
        "rc" => rc(n),
        "bumpalo" => bump(n),
        "gc" => super::peer_gc::list(n),
        "dumpster" => super::peer_dumpster::list(n),
        "gc-arena" => super::peer_gc_arena::list(n),
        "bdwgc" => super::peer_bdwgc::list(n)?,
        other => return Err(super::unknown_peer(other)),
    };
    Ok(vec![line(n, sum)])
}

/// The output every peer must print.
pub fn expected(n: u64) -> Vec<String> {
    vec![line(n, n * n.saturating_sub(1) / 2)]
}

fn line(n: u64, sum: u64) -> String {
    format!("list of {n} nodes\t sum: {sum}")
}

fn pinion(n: u64) -> Result<u64, String> {
    let mut heap = super::pinion_heap()?;
    Ok(heap.scope(|s| {
        let head = crate::pinion_list(s, n);
        let mut sum = 0;
        let mut cur = Some(s.get(head));
        while let Some(node) = cur {
            sum += node.value;
            cur = s.deref(&node.next);
        }
        sum
    }))
}

struct BoxNode {
    value: u64,
    next: Option<Box<BoxNode>>,
}

/// A list of boxes; dropped iteratively (the default recursive drop overflows the stack).
struct BoxList(Option<Box<BoxNode>>);

impl Drop for BoxList {
    fn drop(&mut self) {
        let mut cur = self.0.take();
        while let Some(mut node) = cur {
            cur = node.next.take();
        }
    }
}

fn boxed(n: u64) -> u64 {
    let mut list = BoxList(None);
    for value in 0..n {
        list.0 = Some(Box::new(BoxNode {
            value,
            next: list.0.take(),
        }));
    }
    let mut sum = 0;
    let mut cur = list.0.as_deref();
    while let Some(node) = cur {
        sum += node.value;
        cur = node.next.as_deref();
    }
    sum
}

type RcLink = Option<Rc<RefCell<RcNode>>>;

struct RcNode {
    value: u64,
    next: RcLink,
}

/// A list of shared cells; dropped iteratively, like [`BoxList`].
struct RcList(RcLink);

impl Drop for RcList {
    fn drop(&mut self) {
        let mut cur = self.0.take();
        while let Some(node) = cur {
            cur = match Rc::try_unwrap(node) {
                Ok(cell) => cell.into_inner().next,
                Err(_) => None, // shared elsewhere: the other owner frees the rest
            };
        }
    }
}

fn rc(n: u64) -> u64 {
    let mut list = RcList(None);
    for value in 0..n {
        list.0 = Some(Rc::new(RefCell::new(RcNode {
            value,
            next: list.0.take(),
        })));
    }
    let mut sum = 0;
    let mut cur = list.0.clone();
    while let Some(node) = cur {
        let node = node.borrow();
        sum += node.value;
        cur = node.next.clone();
    }
    sum
}

struct BumpNode<'a> {
    value: u64,
    next: Option<&'a BumpNode<'a>>,
}

fn bump(n: u64) -> u64 {
    let arena = bumpalo::Bump::new();
    let mut head: Option<&BumpNode<'_>> = None;
    for value in 0..n {
        head = Some(arena.alloc(BumpNode { value, next: head }));
    }
    let mut sum = 0;
    let mut cur = head;
    while let Some(node) = cur {
        sum += node.value;
        cur = node.next;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_available_peer_sums_the_list() {
        // gc and dumpster free a list recursively: give them the stack `compare` gives them.
        let big_stack = std::thread::Builder::new().stack_size(1 << 30);
        let test = big_stack.spawn(|| {
            let peers = [
                "pinion", "box", "rc", "bumpalo", "gc", "dumpster", "gc-arena",
            ];
            for peer in peers {
                assert_eq!(run(peer, 100_000).unwrap(), expected(100_000), "{peer}");
            }
        });
        test.unwrap().join().unwrap();
    }
}
