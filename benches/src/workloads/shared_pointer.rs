//! The workloads for the peers built like `Rc<RefCell<T>>`: a cloneable, counted pointer `Gc<T>`
//! and a cell for what changes after allocation. rust-gc (`Gc`, `GcCell`) and dumpster
//! (`unsync::Gc`, `RefCell`) differ only in those two names and in their derives, so both peers
//! expand this one macro, in a module that has imported its `Gc`, its cell and its derives.

/// Expands to `binary_trees`, `list`, `gcbench`, `array` and the splay operations `SplayPeer`.
macro_rules! shared_pointer_peer {
    (derive($($derive:ident),*), cell = $Cell:ident) => {
        use super::binary_trees::{all_depths, schedule};

        #[derive($($derive),*)]
        struct Tree {
            children: Option<(Gc<Tree>, Gc<Tree>)>,
        }

        fn tree(depth: u32) -> Gc<Tree> {
            Gc::new(Tree {
                children: (depth > 0).then(|| (tree(depth - 1), tree(depth - 1))),
            })
        }

        fn check(t: &Tree) -> u64 {
            match &t.children {
                Some((l, r)) => 1 + check(l) + check(r),
                None => 1,
            }
        }

        /// binary-trees of size `n`.
        pub(super) fn binary_trees(n: u32) -> Vec<String> {
            schedule(
                n,
                |d| check(&tree(d)),
                |max, iterate| {
                    let long = tree(max);
                    all_depths(max, iterate);
                    check(&long)
                },
            )
        }

        #[derive($($derive),*)]
        struct Node {
            value: u64,
            next: Option<Gc<Node>>,
        }

        /// The list workload: returns the sum of the values.
        pub(super) fn list(n: u64) -> u64 {
            let mut head: Option<Gc<Node>> = None;
            for value in 0..n {
                head = Some(Gc::new(Node { value, next: head }));
            }
            let mut sum = 0;
            let mut cur = head.as_deref();
            while let Some(node) = cur {
                sum += node.value;
                cur = node.next.as_deref();
            }
            sum
        }

        /// A GCBench node: children set after allocation, so behind a cell.
        #[derive($($derive,)* Default)]
        struct BenchNode {
            left: $Cell<Option<Gc<BenchNode>>>,
            right: $Cell<Option<Gc<BenchNode>>>,
        }

        fn populate(node: &BenchNode, depth: u32) {
            if depth > 0 {
                let (left, right) = (Gc::new(BenchNode::default()), Gc::new(BenchNode::default()));
                *node.left.borrow_mut() = Some(left.clone());
                *node.right.borrow_mut() = Some(right.clone());
                populate(&left, depth - 1);
                populate(&right, depth - 1);
            }
        }

        fn make(depth: u32) -> Gc<BenchNode> {
            if depth == 0 {
                return Gc::new(BenchNode::default());
            }
            Gc::new(BenchNode {
                left: $Cell::new(Some(make(depth - 1))),
                right: $Cell::new(Some(make(depth - 1))),
            })
        }

        fn count(node: &BenchNode) -> u64 {
            match (&*node.left.borrow(), &*node.right.borrow()) {
                (Some(l), Some(r)) => 1 + count(l) + count(r),
                _ => 1,
            }
        }

        /// gcbench of size `size`.
        pub(super) fn gcbench(size: u32) -> Vec<String> {
            use super::gcbench::{fill, schedule, Ops, ARRAY_LEN};
            schedule(
                size,
                Ops {
                    top_down: &mut |d| {
                        let root = Gc::new(BenchNode::default());
                        populate(&root, d);
                        count(&root)
                    },
                    bottom_up: &mut |d| count(&make(d)),
                },
                |size, run| {
                    let long = Gc::new(BenchNode::default());
                    populate(&long, size);
                    let mut floats = vec![0.0; ARRAY_LEN];
                    fill(&mut floats);
                    let array = Gc::new(floats);
                    run();
                    (count(&long), array[1000])
                },
            )
        }

        /// The array workload: returns the sum over the slots.
        pub(super) fn array(slots: u64) -> u64 {
            let array: Gc<$Cell<Vec<Option<Gc<u64>>>>> = Gc::new($Cell::new(vec![None; slots as usize]));
            for (slot, value) in super::array::Stores::new(slots) {
                array.borrow_mut()[slot] = Some(Gc::new(value));
            }
            let sum = array.borrow().iter().flatten().map(|o| **o).sum();
            sum
        }

        /// A splay node.
        #[derive($($derive),*)]
        pub(crate) struct SplayNode {
            key: u64,
            left: Option<SplayRef>,
            right: Option<SplayRef>,
            payload: Option<SplayRef>,
        }

        type SplayRef = Gc<$Cell<SplayNode>>;

        /// [`SplayOps`](super::splay::SplayOps) for this peer.
        pub(crate) struct SplayPeer;

        impl super::splay::SplayOps for SplayPeer {
            type Ref = SplayRef;

            fn node(&mut self, key: u64) -> SplayRef {
                Gc::new($Cell::new(SplayNode {
                    key,
                    left: None,
                    right: None,
                    payload: None,
                }))
            }
            fn key(&self, n: &SplayRef) -> u64 {
                n.borrow().key
            }
            fn left(&mut self, n: &SplayRef) -> Option<SplayRef> {
                n.borrow().left.clone()
            }
            fn right(&mut self, n: &SplayRef) -> Option<SplayRef> {
                n.borrow().right.clone()
            }
            fn payload(&mut self, n: &SplayRef) -> Option<SplayRef> {
                n.borrow().payload.clone()
            }
            fn set_left(&mut self, n: &SplayRef, v: Option<&SplayRef>) {
                n.borrow_mut().left = v.cloned();
            }
            fn set_right(&mut self, n: &SplayRef, v: Option<&SplayRef>) {
                n.borrow_mut().right = v.cloned();
            }
            fn set_payload(&mut self, n: &SplayRef, v: Option<&SplayRef>) {
                n.borrow_mut().payload = v.cloned();
            }
        }
    };
}

pub(super) use shared_pointer_peer;
