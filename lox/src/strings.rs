//! String interning: one heap string per content, so that string equality is identity and
//! strings can key identity maps (globals, fields, methods).
//!
//! The table maps content to a weak reference (`WeakValueTable`): an entry dies with its string,
//! and is hashed by its content. The table lives outside the heap (in the VM), across scopes, so
//! a REPL's later lines find the strings earlier ones made while they live.

use gc_core::{GcBytes, GcError, Handle, Scope, WeakValueTable};

/// The interned strings.
#[derive(Debug, Default)]
pub(crate) struct Strings {
    table: WeakValueTable<Box<[u8]>, GcBytes>,
}

impl Strings {
    /// The string with these bytes, made if there is none.
    ///
    /// Errors: [`GcError::OutOfMemory`] when the heap is full.
    pub(crate) fn intern<'s>(
        &mut self,
        s: &mut Scope<'s>,
        bytes: &[u8],
    ) -> Result<Handle<'s, GcBytes>, GcError> {
        if let Some(h) = self.table.get(s, bytes) {
            return Ok(h);
        }
        let h = s.alloc_bytes(bytes)?;
        self.table.insert(s, bytes.into(), h);
        Ok(h)
    }
}
