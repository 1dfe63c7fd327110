//! The `gc` peer: the rust-gc crate (`Gc<T>`, reference-counted roots, mark-sweep).

// gc 0.5's derive emits its impls inside a constant, which this lint flags; the code is theirs.
#![allow(non_local_definitions)]

use gc::{Finalize, Gc, GcCell, Trace};

super::shared_pointer::shared_pointer_peer!(derive(Trace, Finalize), cell = GcCell);
