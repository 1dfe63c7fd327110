//! Map writes of a value copied from anywhere (`map_replace_copy`, `map_put_copy`,
//! `map_set_copy`, `map_update_copy`): an interpreter's assignment of a global or a field, from
//! its stack or another object, without a mirror and, where the entry exists, without
//! allocating. Making maps, inserting (a mirror or a copy) and removing are in `map.rs`.

use super::map_table::parts;
use super::*;
use crate::map::{GcMap, MapHint, MapKey, MapView};

/// What [`Scope::put_copy_in_room`] did, or what it needs before it can.
enum PutInRoom {
    /// The value was written: over an existing entry (`true`) or as a new one.
    Written(bool),
    /// `locate` found nothing (or a null key).
    NotFound,
    /// The key is not in the map, and `locate` did not allow a new entry.
    NotAllowed,
    /// The key has no identity hash yet (giving it one may allocate in the side table).
    NeedsHash(ObjPtr),
    /// The table of this map must grow to hold this many entries first.
    NeedsGrowth(ObjPtr, usize),
}

/// A locator's find, allowed to insert (the locators of [`Scope::map_put_copy`] and
/// [`Scope::map_set_copy`] always are).
#[inline(always)]
fn allowed<A, B, C>(found: Option<(A, B, C)>) -> Option<(A, B, C, bool)> {
    found.map(|(map, key, value)| (map, key, value, true))
}

impl<'s> Scope<'s> {
    /// Replaces the value of an **existing** entry with a copy of another value, both found
    /// by `locate` (the map, the key and the value, reached through the scope); never
    /// allocates, so an interpreter assigns a global or an instance's field without rooting
    /// anything. Returns `false`, writing nothing, when `locate` finds nothing or the key is
    /// not in the map (see [`Scope::map_put_copy`], which inserts). `hint` works as in
    /// [`Scope::map_lookup`], and the key is a member or an identity ([`MapKey`]: since the
    /// store never inserts, the key object itself is not needed). For value types without drop
    /// glue.
    ///
    /// ```
    /// use gc_core::{Config, GcBytes, GcMap, Heap, Member, Trace};
    ///
    /// #[derive(Trace)]
    /// struct Assign { target: Member<GcBytes>, value: f64 } // `target = value`
    ///
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// heap.scope(|s| {
    ///     let globals = s.alloc_map::<GcBytes, f64>(0).unwrap();
    ///     let a = s.alloc_bytes(b"a").unwrap();
    ///     let stmt = s.alloc_init(AssignInit { target: Some(a), value: 2.5 }).unwrap();
    ///     let assign = |s: &mut gc_core::Scope<'_>| {
    ///         s.map_replace_copy(None, |s| {
    ///             let stmt = s.get(stmt);
    ///             Some((s.get(globals), (&stmt.target).into(), &stmt.value))
    ///         })
    ///     };
    ///     assert_eq!(assign(s), Ok(false)); // `a` is not defined yet
    ///     s.map_insert(globals, a, 1.0).unwrap();
    ///     assert_eq!(assign(s), Ok(true));
    ///     assert_eq!(s.map_get(globals, a), Some(&2.5));
    /// });
    /// ```
    ///
    /// Errors: [`GcError::ForeignMember`] when the map or the value belongs to another heap
    /// (nothing is written).
    #[inline]
    pub fn map_replace_copy<K: ?Sized + 'static, V: Trace>(
        &mut self,
        hint: Option<&MapHint>,
        locate: impl for<'a> FnOnce(&'a Scope<'s>) -> Option<(MapView<'a, K, V>, MapKey<'a, K>, &'a V)>,
    ) -> Result<bool, GcError> {
        let Some((map, key, value)) = locate(self) else {
            return Ok(false);
        };
        let Some(i) = self.slot_of_key(map.slots(), key, hint) else {
            return Ok(false);
        };
        self.replace_at(&map, i, value)?;
        Ok(true)
    }

    /// Stores a copy of a value under a key, both found by `locate` with the map (reached
    /// through the scope): the value of an existing entry is replaced in place, otherwise the
    /// entry is inserted, the table growing if it must (which may collect: `locate` then runs
    /// again, so it must find the same map, key and value each time). Returns `None` when
    /// `locate` finds nothing, else whether the key was there already. An interpreter defines
    /// a field or a global this way without rooting anything; `hint` works as in
    /// [`Scope::map_lookup`]. For value types without drop glue.
    ///
    /// ```
    /// use gc_core::{Config, GcBytes, GcMap, Heap, Member, Trace};
    ///
    /// #[derive(Trace)]
    /// struct Instance { fields: Member<GcMap<GcBytes, f64>> }
    /// #[derive(Trace)]
    /// struct SetField { target: Member<Instance>, name: Member<GcBytes>, value: f64 }
    ///
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// heap.scope(|s| {
    ///     let fields = s.alloc_map(0).unwrap();
    ///     let point = s.alloc_init(InstanceInit { fields: Some(fields) }).unwrap();
    ///     let mut names = Vec::new();
    ///     for i in 0..100 {
    ///         let name = s.alloc_bytes(format!("f{i}").as_bytes()).unwrap();
    ///         names.push(name);
    ///         let op = s.alloc_init(SetFieldInit {
    ///             target: Some(point), name: Some(name), value: i as f64,
    ///         }).unwrap();
    ///         let put = s.map_put_copy(None, |s| {
    ///             let op = s.get(op);
    ///             let fields = s.deref(&s.deref(&op.target)?.fields)?;
    ///             Some((fields, &op.name, &op.value))
    ///         });
    ///         assert_eq!(put, Ok(Some(false))); // inserted (the table grew several times)
    ///     }
    ///     assert_eq!(s.map_get(fields, names[42]), Some(&42.0));
    /// });
    /// ```
    ///
    /// Errors: [`GcError::ForeignMember`] when the map, the key or the value belongs to another
    /// heap, [`GcError::OutOfMemory`]; nothing is written then.
    pub fn map_put_copy<K: ?Sized + 'static, V: Trace>(
        &mut self,
        hint: Option<&MapHint>,
        locate: impl for<'a> Fn(&'a Scope<'s>) -> Option<(MapView<'a, K, V>, &'a Member<K>, &'a V)>,
    ) -> Result<Option<bool>, GcError> {
        // Normally one pass, or two when the table grows; a `locate` that finds a different
        // full map after every growth is stopped after a few.
        for _ in 0..4 {
            match self.put_copy_in_room(hint, &|s| allowed(locate(s)))? {
                PutInRoom::Written(replaced) => return Ok(Some(replaced)),
                PutInRoom::NotFound | PutInRoom::NotAllowed => return Ok(None),
                PutInRoom::NeedsHash(key) => {
                    // SAFETY: key is a live, unforwarded object of this heap (nothing ran
                    // since it was found).
                    unsafe {
                        let young = self.heap.nursery.contains(key.addr());
                        self.heap.identity.hash(key, young);
                    }
                }
                PutInRoom::NeedsGrowth(map, entries) => {
                    // The map is rooted while its table grows; everything is found again after.
                    self.scope(|t| {
                        let m: Handle<'_, GcMap<K, V>> = t.push(map);
                        t.rehash::<K, V>(m, entries)
                    })?;
                }
            }
        }
        Err(GcError::SizeOverflow(
            "map_put_copy: `locate` found a different full map after every growth",
        ))
    }

    /// [`Scope::map_put_copy`] without allocating: replaces an existing entry, or inserts a new
    /// one when the table has room and the key already has an identity hash (an interned
    /// name that was ever a key has one); returns whether it wrote. `Ok(false)`, writing
    /// nothing, when `locate` finds nothing, the table is full or the key was never hashed:
    /// then [`Scope::map_put_copy`] (which may allocate) does it. An interpreter's dispatch
    /// loop defines an instance's fields this way while its stack view stays open.
    ///
    /// ```
    /// use gc_core::{Config, GcBytes, GcMap, Heap, Member, Trace};
    ///
    /// #[derive(Trace)]
    /// struct Set { fields: Member<GcMap<GcBytes, f64>>, name: Member<GcBytes>, value: f64 }
    ///
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// heap.scope(|s| {
    ///     let fields = s.alloc_map(0).unwrap();
    ///     let x = s.alloc_bytes(b"x").unwrap();
    ///     let op = s.alloc_init(SetInit { fields: Some(fields), name: Some(x), value: 1.0 }).unwrap();
    ///     let set = |s: &mut gc_core::Scope<'_>| {
    ///         s.map_set_copy(None, |s| {
    ///             let op = s.get(op);
    ///             Some((s.deref(&op.fields)?, &op.name, &op.value))
    ///         })
    ///     };
    ///     assert_eq!(set(s), Ok(false)); // `x` was never a key: it has no identity hash yet
    ///     s.map_insert(fields, x, 0.0).unwrap();
    ///     s.map_remove(fields, x);
    ///     assert_eq!(set(s), Ok(true)); // inserted, without allocating
    ///     assert_eq!(s.map_get(fields, x), Some(&1.0));
    /// });
    /// ```
    ///
    /// Errors: [`GcError::ForeignMember`] when the map, the key or the value belongs to another
    /// heap (nothing is written).
    #[inline]
    pub fn map_set_copy<K: ?Sized + 'static, V: Trace>(
        &mut self,
        hint: Option<&MapHint>,
        locate: impl for<'a> Fn(&'a Scope<'s>) -> Option<(MapView<'a, K, V>, &'a Member<K>, &'a V)>,
    ) -> Result<bool, GcError> {
        Ok(matches!(
            self.put_copy_in_room(hint, &|s| allowed(locate(s)))?,
            PutInRoom::Written(_)
        ))
    }

    /// [`Scope::map_set_copy`] whose locator also says whether a key new to the map may be
    /// inserted (its fourth element): an entry that exists is replaced either way. An
    /// interpreter stores into a field on every assignment, but has something to check only
    /// when the assignment defines one (the key is new: a field named like a method, say);
    /// this tells the two apart with the one lookup the store makes anyway. `Ok(false)`,
    /// writing nothing, also when the key is absent and the locator did not allow it.
    ///
    /// ```
    /// use gc_core::{Config, GcBytes, GcMap, Heap, Member, Trace};
    ///
    /// #[derive(Trace)]
    /// struct Set { fields: Member<GcMap<GcBytes, f64>>, name: Member<GcBytes>, value: f64 }
    ///
    /// let mut heap = Heap::new(Config::default()).unwrap();
    /// heap.scope(|s| {
    ///     let fields = s.alloc_map(0).unwrap();
    ///     let x = s.alloc_bytes(b"x").unwrap();
    ///     let op = s.alloc_init(SetInit { fields: Some(fields), name: Some(x), value: 1.0 }).unwrap();
    ///     let update = |s: &mut gc_core::Scope<'_>, insert: bool| {
    ///         s.map_update_copy(None, |s| {
    ///             let op = s.get(op);
    ///             Some((s.deref(&op.fields)?, &op.name, &op.value, insert))
    ///         })
    ///     };
    ///     s.map_insert(fields, x, 0.0).unwrap();
    ///     assert_eq!(update(s, false), Ok(true)); // replaced: `x` is a key
    ///     assert_eq!(s.map_get(fields, x), Some(&1.0));
    ///     s.map_remove(fields, x);
    ///     assert_eq!(update(s, false), Ok(false)); // `x` is new, and not allowed
    ///     assert_eq!(s.map_get(fields, x), None);
    ///     assert_eq!(update(s, true), Ok(true)); // inserted
    ///     assert_eq!(s.map_get(fields, x), Some(&1.0));
    /// });
    /// ```
    ///
    /// Errors: [`GcError::ForeignMember`] when the map, the key or the value belongs to another
    /// heap (nothing is written).
    #[inline]
    pub fn map_update_copy<K: ?Sized + 'static, V: Trace>(
        &mut self,
        hint: Option<&MapHint>,
        locate: impl for<'a> Fn(
            &'a Scope<'s>,
        ) -> Option<(MapView<'a, K, V>, &'a Member<K>, &'a V, bool)>,
    ) -> Result<bool, GcError> {
        Ok(matches!(
            self.put_copy_in_room(hint, &locate)?,
            PutInRoom::Written(_)
        ))
    }

    /// One attempt at [`Scope::map_put_copy`] that allocates nothing: what it wrote, or what
    /// it needs first.
    #[inline]
    fn put_copy_in_room<K: ?Sized + 'static, V: Trace>(
        &mut self,
        hint: Option<&MapHint>,
        locate: &impl for<'a> Fn(
            &'a Scope<'s>,
        ) -> Option<(MapView<'a, K, V>, &'a Member<K>, &'a V, bool)>,
    ) -> Result<PutInRoom, GcError> {
        let (map, key, hash, vacant, source) = {
            let Some((map, key, value, may_insert)) = locate(self) else {
                return Ok(PutInRoom::NotFound);
            };
            let (at, hash) = self.find_slot(&map, key, hint);
            if let Some(i) = at.found {
                self.replace_at(&map, i, value)?;
                return Ok(PutInRoom::Written(true));
            }
            if !may_insert {
                return Ok(PutInRoom::NotAllowed);
            }
            let Some(key) = ObjPtr::from_ref(key.slot().get()) else {
                return Ok(PutInRoom::NotFound);
            };
            if !self.heap.owns_referent(map.map()) || !self.heap.owns_referent(key) {
                return Err(GcError::ForeignMember);
            }
            let Some(hash) = hash else {
                return Ok(PutInRoom::NeedsHash(key));
            };
            // SAFETY: the map is live (its view was borrowed a moment ago).
            let (count, tombstones, capacity) = unsafe {
                let (header, _, _, capacity) = parts::<K, V>(map.map());
                ((*header).count, (*header).tombstones, capacity)
            };
            if (count + tombstones + 1) * 8 > capacity * 7 {
                return Ok(PutInRoom::NeedsGrowth(map.map(), count + 1));
            }
            self.check_members(value)?;
            // The value is read where it is stored, not copied out here: a copy held in this
            // function's frame in an `Ok` was written in narrow pieces and read back whole a
            // moment later, a store the processor cannot forward.
            // The probe that missed also found where the key goes (nothing changed since).
            let vacant = at
                .vacant
                .expect("a probe that misses ends at a vacant slot");
            (map.map(), key, hash, vacant, value as *const V)
        };
        // SAFETY: the map and key are live objects of this heap found with the value, with
        // nothing allocated since; the key is not in the table, whose slot `vacant` is where it
        // goes (the probe's), its identity hash is `hash`, the table has room and the value's
        // members are this heap's. `source` still points to that value: nothing ran since that
        // writes a value. The value has no drop glue, so a bitwise copy owns nothing twice.
        unsafe {
            let value = std::ptr::read(source);
            drop(self.put_at::<K, V>(map, vacant, false, hash, key.to_ref(), value));
        }
        if let Some(hint) = hint {
            hint.set(vacant);
        }
        Ok(PutInRoom::Written(false))
    }

    /// Copies `value` over the value in full slot `i` of `map` (found a moment ago).
    ///
    /// Always inlined: left out of line in the Lox VM's dispatch loop, its call saved and
    /// restored six registers at every field or global assignment (`p.x = i;` ran 297
    /// instructions against 267 inlined).
    #[inline(always)]
    fn replace_at<K: ?Sized + 'static, V: Trace>(
        &self,
        map: &MapView<'_, K, V>,
        i: usize,
        value: &V,
    ) -> Result<(), GcError> {
        const {
            assert!(
                !std::mem::needs_drop::<V>(),
                "copying values bitwise needs a value type without drop glue"
            )
        };
        let table = map.table();
        if !self.heap.owns_referent(table) {
            return Err(GcError::ForeignMember);
        }
        self.check_members(value)?;
        assert!(i < map.slots().len(), "slot {i} is outside the table");
        // SAFETY: `value` is a live V with no drop glue: a bitwise copy owns nothing twice (and
        // is taken before anything is written, in case it is the slot's own value).
        let value = unsafe { std::ptr::read(value) };
        // SAFETY: slot `i` is a full slot of the live table `table` of this heap (found a moment
        // ago, nothing ran since). Only its value is replaced, through the store path, by a
        // value whose members are this heap's: the key and the hash stay, so the barrier looks
        // at the one reference the store makes (the key's was recorded when it was inserted).
        // The view is not used again.
        unsafe {
            let slots = map.slots().as_ptr().cast_mut();
            let value_field = &raw mut (*slots.add(i)).value;
            let _old = self.heap.replace_value(table, value_field, Some(value));
        }
        Ok(())
    }
}
