//! What the verifier reports: the invariants it found broken ([`Violation`]) and what it
//! checked ([`VerifyReport`]).

use std::fmt;

/// One broken invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// A root or reference points to no object of this heap.
    DanglingReference {
        /// Where the reference was found ("handle 3", "field of 0x…").
        from: String,
        /// The address it holds.
        to: usize,
        /// What the address turned out to be.
        what: &'static str,
    },
    /// A reachable object is forwarded.
    ForwardedObject {
        /// Its address.
        at: usize,
    },
    /// An old object points to a young one but is not remembered.
    MissingRememberedEntry {
        /// The old object.
        old: usize,
        /// The young object it refers to.
        young: usize,
    },
    /// An object the last major collection kept (marked) refers to a fresh (unmarked) or
    /// young object but is not in the store log: a sticky major collection would miss it.
    MissingLogEntry {
        /// The kept object.
        kept: usize,
        /// The object it refers to.
        fresh: usize,
    },
    /// A header's flags or type descriptor are inconsistent.
    BadHeader {
        /// The object.
        at: usize,
        /// What is wrong.
        problem: String,
    },
    /// The remembered set or a side list disagrees with the headers.
    BadSideList {
        /// What is wrong.
        problem: String,
    },
    /// The old space's allocator bookkeeping is inconsistent.
    BadFreeList {
        /// What is wrong.
        problem: String,
    },
    /// The heap's mappings exceed the heap limit (`MAX`).
    HeapLimitExceeded {
        /// Nursery + committed arena pages + large objects, in bytes.
        footprint: usize,
        /// The limit.
        limit: usize,
    },
}

/// What the verifier checked and found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Objects whose headers were checked (every allocated object).
    pub objects: usize,
    /// Objects reachable from the roots.
    pub reachable: usize,
    /// Root slots checked.
    pub roots: usize,
    /// References (object fields) checked.
    pub references: usize,
    /// Everything found wrong, at most [`VerifyReport::MAX_VIOLATIONS`].
    pub violations: Vec<Violation>,
}

impl VerifyReport {
    /// The report keeps at most this many violations.
    pub const MAX_VIOLATIONS: usize = 64;

    /// Whether no invariant is broken.
    pub fn is_ok(&self) -> bool {
        self.violations.is_empty()
    }

    pub(super) fn push(&mut self, v: Violation) {
        if self.violations.len() < Self::MAX_VIOLATIONS {
            self.violations.push(v);
        }
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "verified {} objects ({} reachable), {} roots, {} references: {} violation(s)",
            self.objects,
            self.reachable,
            self.roots,
            self.references,
            self.violations.len()
        )?;
        for v in &self.violations {
            writeln!(f, "  {v:?}")?;
        }
        Ok(())
    }
}
