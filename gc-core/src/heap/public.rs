//! [`Heap`]: the type an embedder holds, one per thread. A thin public face over the
//! collector's state (`HeapInner`, this module's parent): scopes are entered, collections
//! requested, settings changed, hooks and root providers registered here; everything else goes
//! through a [`Scope`].

use std::marker::PhantomData;

use super::HeapInner;
use crate::config::Config;
use crate::error::GcError;
use crate::hooks::GcHooks;
use crate::pacer::Pacer;
use crate::roots::{ProviderId, RootProvider};
use crate::scope::Scope;
use crate::stats::HeapStats;
use crate::verify::VerifyReport;

/// A garbage-collected heap. One per thread: `Send`, not `Sync`.
///
/// ```
/// use gc_core::{Config, Heap};
/// let mut heap = Heap::new(Config::default()).unwrap();
/// let sum = heap.scope(|s| {
///     let a = s.alloc(20u64).unwrap();
///     let b = s.alloc(22u64).unwrap();
///     *s.get(a) + *s.get(b)
/// });
/// assert_eq!(sum, 42);
/// assert!(heap.verify().is_ok());
/// ```
pub struct Heap {
    pub(crate) inner: HeapInner,
    _not_sync: PhantomData<std::cell::Cell<()>>,
}

// SAFETY: everything a heap owns moves with it: its memory regions, its objects (all `Send`
// by the `Trace` bound), its root providers (`Send` by the `RootProvider` bound). The raw
// pointers inside point only into memory the heap owns. Handles and scopes borrow the heap
// and are not `Send`, so no part of it stays behind on the old thread. It is not `Sync`.
unsafe impl Send for Heap {}

impl std::fmt::Debug for Heap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Heap")
            .field("id", &self.inner.id)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Heap {
    /// Creates a heap with the given settings.
    ///
    /// # Errors
    /// [`GcError::InvalidConfig`] for settings that do not validate or an event log that cannot
    /// be opened, [`GcError::OutOfMemory`] when the OS refuses the nursery, and
    /// [`GcError::HeapIdsExhausted`] once every heap id of the process has been given out
    /// (after about four billion heaps: ids are never reused).
    pub fn new(config: Config) -> Result<Heap, GcError> {
        Ok(Heap {
            inner: HeapInner::new(config)?,
            _not_sync: PhantomData,
        })
    }

    /// Runs `f` with a fresh handle scope; its handles are popped when `f` returns.
    pub fn scope<R>(&mut self, f: impl for<'s> FnOnce(&mut Scope<'s>) -> R) -> R {
        f(&mut Scope::enter(&mut self.inner))
    }

    /// Runs a minor collection now (then delivers the hooks).
    pub fn collect_minor(&mut self) {
        self.scope(|s| s.collect_minor());
    }

    /// Runs a complete major collection now (then delivers the hooks).
    pub fn collect_major(&mut self) {
        self.scope(|s| s.collect_major());
    }

    /// Stops automatic major collections; minor collections still run when the nursery is
    /// full, explicit [`Heap::collect_major`] still works, and the heap limit still holds.
    pub fn disable(&mut self) {
        self.inner.pacer.disable();
    }

    /// Undoes [`Heap::disable`]. It does not undo threshold-zero
    /// ([`Heap::set_major_collect`]`(0.0)` or `MAJOR_COLLECT=0`), so a library calling
    /// `enable()` cannot silently turn automatic collection back on.
    pub fn enable(&mut self) {
        self.inner.pacer.enable();
    }

    /// Whether [`Heap::disable`] is in force.
    pub fn is_disabled(&self) -> bool {
        self.inner.pacer.is_disabled()
    }

    /// Whether automatic major collections can happen (neither disabled nor threshold-zero).
    pub fn automatic_major_collections(&self) -> bool {
        self.inner.pacer.automatic()
    }

    /// Sets the major-collection factor at run time; `0.0` is threshold-zero. Values in
    /// (0, 1] are refused.
    ///
    /// ```
    /// # use gc_core::{Config, Heap};
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// heap.set_major_collect(0.0).unwrap(); // threshold-zero
    /// heap.enable(); // a library trying to turn collection back on...
    /// assert!(!heap.automatic_major_collections()); // ...cannot
    /// assert!(heap.set_major_collect(0.9).is_err());
    /// ```
    pub fn set_major_collect(&mut self, factor: f64) -> Result<(), GcError> {
        self.inner
            .pacer
            .set_factor(factor)
            .map_err(|e| GcError::InvalidConfig(e.to_string()))
    }

    /// For prefork servers (CPython's `gc.freeze`): runs a complete major collection, then
    /// seals every old-generation arena and large object that exists. Later allocation goes to
    /// fresh arenas, and later collections neither mark, sweep, nor write into sealed memory,
    /// so a forked child that collects does not copy those pages. Stores into frozen objects
    /// are recorded by the barrier and treated as roots, so nothing reachable from a frozen
    /// object is freed. Pinned young objects stay young (they are not frozen). Frozen objects
    /// are never freed until [`Heap::unfreeze`].
    ///
    /// ```
    /// # use gc_core::{Config, Heap};
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// heap.scope(|s| {
    ///     let table = s.alloc_array::<u64>(1000).unwrap();
    ///     for i in 0..1000u64 {
    ///         let v = s.alloc(i).unwrap();
    ///         s.array_set(table, i as usize, Some(v));
    ///     }
    ///     s.freeze(); // what a prefork server does before forking its workers
    /// });
    /// assert!(heap.stats().frozen_bytes > 16_000);
    /// heap.collect_major(); // the frozen objects are neither marked nor swept...
    /// assert!(heap.stats().old_bytes > 16_000); // ...so they survive, though unreachable now
    /// heap.unfreeze();
    /// heap.collect_major();
    /// assert_eq!(heap.stats().old_bytes, 0);
    /// ```
    pub fn freeze(&mut self) {
        self.inner.freeze();
    }

    /// A checksum of every page of the sealed (frozen) arenas, by page address: tests use it
    /// to show that collections leave frozen memory alone.
    #[doc(hidden)]
    pub fn sealed_page_checksums(&self) -> Vec<(usize, u64)> {
        self.inner.old.sealed_page_checksums()
    }

    /// Returns the frozen memory to normal collection.
    pub fn unfreeze(&mut self) {
        self.inner.unfreeze();
    }

    /// Whether the heap is frozen.
    pub fn is_frozen(&self) -> bool {
        self.inner.frozen
    }

    /// Runs a major collection and gives every free old-generation page back to the OS (a
    /// major collection already gives back the arenas it empties); returns the bytes given
    /// back.
    pub fn release_memory(&mut self) -> u64 {
        self.inner.release_memory()
    }

    /// Counts `bytes` the embedder allocated outside the heap (a buffer a heap object owns)
    /// towards the next major collection, so that many small objects holding large outside
    /// memory still trigger collections.
    pub fn add_memory_pressure(&mut self, bytes: usize) {
        self.inner.pressure = self.inner.pressure.saturating_add(bytes);
    }

    /// Removes memory counted by [`Heap::add_memory_pressure`].
    pub fn remove_memory_pressure(&mut self, bytes: usize) {
        self.inner.pressure = self.inner.pressure.saturating_sub(bytes);
    }

    /// The major-collection trigger's state.
    pub fn pacer(&self) -> &Pacer {
        &self.inner.pacer
    }

    /// A snapshot of the heap's statistics.
    pub fn stats(&self) -> HeapStats {
        self.inner.snapshot_stats()
    }

    /// Runs the heap verifier (works in release builds). It walks every object twice (headers,
    /// then everything reachable) with hash sets of addresses: about a second per 1.2 million
    /// objects. See [`Heap::verify_young`] for a check whose cost does not grow with the old
    /// generation.
    pub fn verify(&mut self) -> VerifyReport {
        self.inner.verify()
    }

    /// Runs the young verifier: roots, young objects, remembered objects and the heap limit,
    /// at a cost proportional to them rather than to the whole heap (what `DEBUG=2` runs after
    /// every minor collection). It cannot see an old object missing from the remembered set;
    /// [`Heap::verify`] can.
    ///
    /// ```
    /// # use gc_core::{Config, Heap};
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// heap.scope(|s| {
    ///     s.alloc(1u64).unwrap();
    /// });
    /// assert!(heap.verify_young().is_ok());
    /// ```
    pub fn verify_young(&mut self) -> VerifyReport {
        self.inner.verify_young()
    }

    /// This heap's id (unique within the process; handles record it).
    pub fn id(&self) -> u32 {
        self.inner.id.get()
    }

    /// The heap's settings.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Installs collection hooks (replacing any); returns the previous ones. See [`GcHooks`].
    pub fn set_hooks(&mut self, hooks: impl GcHooks) -> Option<Box<dyn GcHooks>> {
        self.scope(|s| s.set_hooks(hooks))
    }

    /// Removes the hooks and returns them.
    pub fn remove_hooks(&mut self) -> Option<Box<dyn GcHooks>> {
        self.scope(|s| s.remove_hooks())
    }

    /// A reader of this heap's counters for another thread (a metrics exporter): lock-free
    /// for the heap, refreshed after every collection.
    ///
    /// ```
    /// # use gc_core::{Config, Heap};
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// let reader = heap.stats_reader();
    /// heap.collect_major();
    /// let seen = std::thread::spawn(move || reader.read()).join().unwrap();
    /// assert_eq!((seen.minor_collections, seen.major_collections), (1, 1));
    /// ```
    pub fn stats_reader(&self) -> gc_hooks::StatsReader {
        self.inner.recorder.reader()
    }

    /// Registers the embedder's root set (see [`RootProvider`]).
    pub fn add_root_provider<P: RootProvider>(&mut self, provider: P) -> ProviderId {
        self.inner.providers.push(Some(Box::new(provider)));
        ProviderId(self.inner.providers.len() - 1)
    }

    /// The registered root provider `id`, if it has type `P`.
    pub fn root_provider_mut<P: RootProvider>(&mut self, id: ProviderId) -> Option<&mut P> {
        let provider: &mut dyn std::any::Any =
            self.inner.providers.get_mut(id.0)?.as_mut()?.as_mut();
        provider.downcast_mut::<P>()
    }

    /// Unregisters a root provider and returns it, if it has type `P`.
    pub fn remove_root_provider<P: RootProvider>(&mut self, id: ProviderId) -> Option<P> {
        let slot = self.inner.providers.get_mut(id.0)?;
        if !(slot.as_mut()?.as_mut() as &mut dyn std::any::Any).is::<P>() {
            return None;
        }
        let boxed: Box<dyn std::any::Any> = slot.take()?;
        boxed.downcast::<P>().ok().map(|b| *b)
    }
}
