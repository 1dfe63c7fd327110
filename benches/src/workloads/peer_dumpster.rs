//! The `dumpster` peer: reference counting with cycle detection (`dumpster::unsync::Gc`).

use std::cell::RefCell;

use dumpster::{unsync::Gc, Trace};

super::shared_pointer::shared_pointer_peer!(derive(Trace), cell = RefCell);
