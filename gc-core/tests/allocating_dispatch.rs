//! What an interpreter's dispatch loop does when an instruction allocates: it lends its stack
//! view's scope out (`VecView::with_scope`) and goes on with the same view; and what it does
//! to an object's value field after the object was built (`Scope::set_value`, a class's
//! initialiser defined after the class), and how a call finds out that its stack is full
//! (`VecView::push_copy_from` searches first). Each across collections that move everything,
//! with the verifier after every collection.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use gc_core::{GcBytes, GcError, GcVec, Handle, Member, Trace};

#[derive(Trace, Debug)]
enum Value {
    Nil,
    Num(f64),
    Str(Member<GcBytes>),
}

/// A class whose initialiser is set after it is made.
#[derive(Trace)]
struct Class {
    name: Member<GcBytes>,
    initializer: Value,
}

fn text<'a>(s: &'a gc_core::Scope<'_>, value: &'a Value) -> Option<&'a [u8]> {
    match value {
        Value::Str(m) => s.deref(m),
        _ => None,
    }
}

#[test]
fn a_view_lent_out_for_allocations_and_collections_finds_its_moved_storage() {
    let mut heap = common::verified();
    heap.scope(|s| {
        let stack: Handle<'_, GcVec<Value>> = s.alloc_vec(4).unwrap();
        let mut v = s.vec_view(stack);
        v.push(Value::Num(1.0)).unwrap();
        let before = v.capacity();
        // Fewer rounds under Miri (each checks the heap after every collection), enough for
        // the vector to grow and for collections to run.
        let rounds = if cfg!(miri) { 4 } else { 20 };
        for round in 0..rounds {
            let len = v.len();
            let seen = v.with_scope(|s| {
                let seen = s.vec_len(stack); // the view's length, written before `f` runs
                let made = s.alloc_bytes(format!("made {round}").as_bytes()).unwrap();
                for _ in 0..50 {
                    s.alloc_bytes(&[0; 200]).unwrap(); // garbage: a minor collection or two
                }
                s.vec_push(stack, ValueInit::Str(Some(made))); // may grow the storage
                s.vec_push(stack, ValueInit::Nil);
                s.vec_push(stack, ValueInit::Nil);
                seen
            });
            assert_eq!(seen, len);
            assert_eq!(v.len(), len + 3);
            // The view writes into the storage the vector has now.
            v.set(len + 1, Value::Num(round as f64)).unwrap();
            v.copy(len, len + 2).unwrap();
        }
        assert!(v.capacity() > before, "the vector grew while lent out");
        assert_eq!(v.len(), 1 + 3 * rounds);
        drop(v);
        s.collect_minor();
        s.collect_major();
        let values = s.get(stack);
        for round in 0..rounds {
            let want = format!("made {round}");
            for i in [1 + 3 * round, 3 + 3 * round] {
                assert_eq!(text(s, &values[i]), Some(want.as_bytes()));
            }
            assert!(matches!(values[2 + 3 * round], Value::Num(n) if n == round as f64));
        }
        assert!(s.verify().violations.is_empty());
    });
}

#[test]
fn a_panic_while_the_scope_is_lent_out_leaves_a_view_of_the_current_storage() {
    let mut heap = common::verified();
    heap.scope(|s| {
        let stack: Handle<'_, GcVec<Value>> = s.alloc_vec(2).unwrap();
        let kept = s.alloc_bytes(b"kept").unwrap();
        let mut v = s.vec_view(stack);
        v.push_init(ValueInit::Str(Some(kept))).unwrap();
        let result = catch_unwind(AssertUnwindSafe(|| {
            v.with_scope(|s| {
                s.vec_push(stack, ValueInit::Num(2.0));
                s.vec_push(stack, ValueInit::Num(3.0)); // grows: a new storage
                s.collect_minor(); // and moves it
                panic!("an instruction failed");
            })
        }));
        assert!(result.is_err());
        // Writes go to the new storage (writing the old one would be caught by the verifier
        // and by the nursery's poisoning of what it freed).
        assert_eq!(v.len(), 3);
        v.push(Value::Num(4.0)).unwrap();
        drop(v);
        s.collect_minor();
        let values = s.get(stack);
        assert_eq!(text(s, &values[0]), Some(&b"kept"[..]));
        assert!(matches!(values[3], Value::Num(n) if n == 4.0));
        assert!(s.verify().violations.is_empty());
    });
}

#[test]
fn a_young_value_set_into_an_old_objects_field_is_remembered() {
    let mut heap = common::verified();
    heap.scope(|s| {
        let name = s.alloc_bytes(b"Point").unwrap();
        let class = s
            .alloc_init(ClassInit {
                name: Some(name),
                initializer: ValueInit::Nil,
            })
            .unwrap();
        s.collect_major(); // old now
        s.collect_minor(); // and no longer remembered
        s.set_value(class, |c| &c.initializer, ValueInit::Num(1.5));
        assert!(matches!(s.get(class).initializer, Value::Num(n) if n == 1.5));
        let young = s.alloc_bytes(b"init").unwrap();
        s.set_value(class, |c| &c.initializer, ValueInit::Str(Some(young)));
        s.collect_minor(); // only the barrier keeps the young string alive and updated
        s.collect_minor();
        let class_ref = s.get(class);
        assert_eq!(text(s, &class_ref.initializer), Some(&b"init"[..]));
        assert_eq!(s.deref(&class_ref.name), Some(&b"Point"[..]));
        assert!(s.verify().violations.is_empty());
    });
}

#[test]
fn a_value_field_outside_the_object_or_from_another_heap_is_refused_and_nothing_written() {
    let mut heap = common::verified();
    let mut other = common::verified();
    other.scope(|o| {
        let foreign = o.alloc_bytes(b"foreign").unwrap();
        heap.scope(|s| {
            let class = s
                .alloc_init(ClassInit {
                    name: None,
                    initializer: ValueInit::Num(7.0),
                })
                .unwrap();
            // A projection may return any reference: here a constant's, no field of the object.
            let outside = s.try_set_value(class, |_| &Value::Nil, ValueInit::Num(1.0));
            assert_eq!(outside, Err(GcError::MemberOutsideObject));
            let from_other =
                s.try_set_value(class, |c| &c.initializer, ValueInit::Str(Some(foreign)));
            assert!(from_other.is_err());
            assert!(matches!(s.get(class).initializer, Value::Num(n) if n == 7.0));
            assert!(s.verify().violations.is_empty());
        });
    });
}

#[test]
fn a_full_view_searches_first_and_refuses_only_a_value_it_found() {
    let mut heap = common::verified();
    heap.scope(|s| {
        let stack: Handle<'_, GcVec<Value>> = s.alloc_vec(2).unwrap();
        let mut v = s.vec_view(stack);
        v.push(Value::Num(1.0)).unwrap();
        assert_eq!(v.push_copy_from(|_, values| values.first()), Ok(true));
        let searched = std::cell::Cell::new(0);
        let nothing = v.push_copy_from(|_, _| {
            searched.set(searched.get() + 1);
            None
        });
        assert_eq!(nothing, Ok(false)); // nothing to push: no error, though full
        let full = v.push_copy_from(|_, values| {
            searched.set(searched.get() + 1);
            values.first()
        });
        assert!(matches!(
            full,
            Err(GcError::IndexOutOfBounds { index: 2, len: 2 })
        ));
        assert_eq!(searched.get(), 2);
        assert_eq!(v.len(), 2);
    });
}
