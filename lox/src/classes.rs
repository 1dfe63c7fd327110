//! Classes, instances, properties and methods (clox's `OP_GET_PROPERTY` to `OP_METHOD`,
//! `bindMethod`, `invoke`).
//!
//! Fields and methods live in `GcMap<GcBytes, Value>`s keyed by interned names, so a lookup
//! hashes the name's identity, not its bytes; reads and invocations look the name up by the
//! `Identity` the chunk keeps for it (`Chunk::names`), without reading the constant from the
//! heap, while a store that may define a field needs the name itself (the map keeps the key).
//! Reading a field copies the value straight from the instance's map onto the stack
//! (`VecView::copy_from`); writing one copies it from the stack into the map
//! (`Scope::map_insert_copy`): a value never passes through Rust code that could keep it across
//! a collection.
//!
//! **Invocations skip the fields when nothing can shadow.** `receiver.name(args)` calls a
//! field of that name if the instance has one, else the class's method, so an invocation
//! looked the name up in the instance's fields first, and missed: a fifth of a method call's
//! instructions. A class's methods are all defined before its first instance exists (a class
//! body holds only methods, and `inherit` copies the superclass's first), so whether a field
//! shadows a method is decided when the field is defined. Invariant: *an instance has a field
//! named like one of its class's methods only if the class is marked `shadowed`*. Every
//! definition keeps it: the dispatch loop's `SET_PROPERTY` defines a field
//! (`VecView::map_update_copy`) only on instances of the class whose methods the site last
//! checked for the name (`Chunk::checked_classes`, by class id); any other definition takes
//! the slow path, whose `Vm::check_field_name` checks and marks. An invocation on an instance
//! of an unmarked class goes straight to the method (debug builds check that no field was
//! skipped).

use gc_core::{GcBytes, GcError, GcSlice, Handle, MapHint, MapKey, MapView, Member, Scope};

use crate::calls::Stack;
use crate::object::{BoundMethodInit, Chunk, Class, ClassInit, Value, ValueInit};
use crate::vm::{gc_fault, Fault, Vm};

/// The name string constant `index`.
#[inline]
pub(crate) fn name<'b>(
    sc: &'b Scope<'_>,
    constants: Handle<'_, GcSlice<Value>>,
    index: usize,
) -> Option<&'b Member<GcBytes>> {
    match sc.get(constants).get(index)? {
        Value::Str(m) => Some(m),
        _ => None,
    }
}

/// The class of an instance.
#[inline]
fn class_of<'b>(sc: &'b Scope<'_>, instance: &'b Value) -> Option<&'b Member<Class>> {
    match instance {
        Value::Instance(m) => sc.deref(m).map(|i| &i.class),
        _ => None,
    }
}

/// The field `name` of an instance.
#[inline]
pub(crate) fn field_of<'b, 'k>(
    sc: &'b Scope<'_>,
    instance: &'b Value,
    name: impl Into<MapKey<'k, GcBytes>>,
    hint: &MapHint,
) -> Option<&'b Value> {
    match instance {
        Value::Instance(m) => sc.map_lookup(sc.deref(&sc.deref(m)?.fields)?, name, Some(hint)),
        _ => None,
    }
}

/// The method `name` of a class.
#[inline]
pub(crate) fn method_of<'b, 'k>(
    sc: &'b Scope<'_>,
    class: &'b Member<Class>,
    name: impl Into<MapKey<'k, GcBytes>>,
    hint: &MapHint,
) -> Option<&'b Value> {
    sc.map_lookup(sc.deref(&sc.deref(class)?.methods)?, name, Some(hint))
}

impl<'s> Vm<'s, '_> {
    fn undefined_property(&self, s: &Scope<'_>, index: usize) -> Fault {
        format!("Undefined property '{}'.", self.constant_text(s, index)).into()
    }

    /// `instance.name` when the instance has no such field (the stack loop reads fields):
    /// the method bound to the instance. The instruction at `at` caches the method's slot.
    pub(crate) fn get_method(
        &mut self,
        s: &mut Scope<'s>,
        at: usize,
        index: usize,
    ) -> Result<(), Fault> {
        let stack = self.stack;
        let top = s.vec_len(stack) - 1;
        if !matches!(s.get(stack)[top], Value::Instance(_)) {
            return Err("Only instances have properties.".into());
        }
        self.bind_method(s, at, top, index, |sc| class_of(sc, &sc.get(stack)[top]))
    }

    /// `instance.name = value`: the value stays on the stack, in the instance's place. An
    /// existing field is overwritten in place (nothing allocated, the slot cached by the
    /// instruction at `at`); a new one is inserted.
    pub(crate) fn set_property(
        &mut self,
        s: &mut Scope<'s>,
        at: usize,
        index: usize,
    ) -> Result<(), Fault> {
        let (stack, constants) = (self.stack, self.constants);
        let len = s.vec_len(stack);
        if !matches!(s.get(stack)[len - 2], Value::Instance(_)) {
            return Err("Only instances have fields.".into());
        }
        self.check_field_name(s, at, index, len - 2)?;
        s.map_put_copy(Some(self.hint(at)), |sc| {
            let values = sc.get(stack);
            let Value::Instance(instance) = &values[len - 2] else {
                return None;
            };
            let fields = sc.deref(&sc.deref(instance)?.fields)?;
            Some((fields, name(sc, constants, index)?, &values[len - 1]))
        })
        .map_err(gc_fault)?;
        let mut v = s.vec_view(stack);
        v.copy(len - 1, len - 2).map_err(gc_fault)?;
        v.truncate(len - 1);
        Ok(())
    }

    /// Before the instance in stack slot `slot` gets the field that `SET_PROPERTY` at `at` names
    /// (constant `index`), when the site has not yet checked that name against the methods of
    /// the instance's class: marks the class `shadowed` if it has a method of that name, and
    /// lets the site define the field on the stack view for that class's instances from now on
    /// (`Chunk::checked_classes`). A class's methods are all defined before its first instance
    /// exists (a class body holds only methods), so a check stays true.
    fn check_field_name(
        &mut self,
        s: &mut Scope<'s>,
        at: usize,
        index: usize,
        slot: usize,
    ) -> Result<(), Fault> {
        let (stack, constants) = (self.stack, self.constants);
        let chunk: &Chunk = self.chunk;
        let checked = &chunk.checked_classes[at];
        s.scope(|t| -> Result<(), GcError> {
            let Value::Instance(instance) = &t.get(stack)[slot] else {
                return Ok(());
            };
            let Some(class) = t.deref(instance).and_then(|i| t.root(&i.class)) else {
                return Ok(());
            };
            let (id, shadowed) = (t.get(class).id, t.get(class).shadowed);
            if id == checked.get() {
                return Ok(());
            }
            let is_method = name(t, constants, index).is_some_and(|name| {
                t.deref(&t.get(class).methods)
                    .is_some_and(|methods| t.map_lookup(methods, name, None).is_some())
            });
            if is_method && !shadowed {
                t.try_set_value(class, |c| &c.shadowed, true)?;
            }
            checked.set(id);
            Ok(())
        })
        .map_err(gc_fault)
    }

    /// `super.name`: the superclass (on top) is popped and the method bound to `this` (below
    /// it).
    pub(crate) fn get_super(
        &mut self,
        s: &mut Scope<'s>,
        at: usize,
        index: usize,
    ) -> Result<(), Fault> {
        let stack = self.stack;
        let top = s.vec_len(stack) - 1;
        self.bind_method(s, at, top - 1, index, |sc| match &sc.get(stack)[top] {
            Value::Class(m) => Some(m),
            _ => None,
        })
    }

    /// Replaces stack slot `slot` (the receiver) and everything above it with the method `name`
    /// of the class `class` finds, bound to the receiver.
    fn bind_method(
        &mut self,
        s: &mut Scope<'s>,
        at: usize,
        slot: usize,
        index: usize,
        class: impl for<'b, 'x> Fn(&'b Scope<'x>) -> Option<&'b Member<Class>>,
    ) -> Result<(), Fault> {
        let (stack, name, hint) = (self.stack, self.name(index), self.hint(at + 1));
        let bound = s.scope(|t| -> Result<bool, GcError> {
            let method = class(t).and_then(|c| method_of(t, c, name?, hint));
            let Some(method) = method.and_then(|m| match m {
                Value::Closure(m) => t.root(m),
                _ => None,
            }) else {
                return Ok(false);
            };
            let receiver = match &t.get(stack)[slot] {
                Value::Instance(m) => t.root(m),
                _ => None,
            };
            let bound = t.alloc_init(BoundMethodInit {
                receiver: ValueInit::Instance(receiver),
                method: ValueInit::Closure(Some(method)),
            })?;
            let mut v = t.vec_view(stack);
            v.truncate(slot);
            v.push_init(ValueInit::BoundMethod(Some(bound)))?;
            Ok(true)
        });
        match bound {
            Ok(true) => Ok(()),
            Ok(false) => Err(self.undefined_property(s, index)),
            Err(e) => Err(gc_fault(e)),
        }
    }

    /// `receiver.name(args)` on the stack view, when the receiver is an instance without a
    /// field of that name whose class has the method: the method runs without a bound method
    /// being made. `Ok(false)` otherwise (the slow path, [`Vm::invoke`], decides).
    #[inline]
    pub(crate) fn invoke_on_stack(
        &mut self,
        v: &mut Stack<'_, 's>,
        at: usize,
        index: usize,
        argc: usize,
    ) -> Result<bool, Fault> {
        let name = self.name(index);
        let (field_hint, method_hint) = (self.hint(at), self.hint(at + 1));
        let slot = v.len() - 1 - argc;
        // A field of that name (or a receiver that is no instance) finds no method here, and
        // the slow path calls the field or reports the error. Only the instances of a class
        // marked `shadowed` can have such a field (`Vm::check_field_name`): the others' fields
        // are not looked at, which saved a fifth of a method call's instructions.
        self.enter_frame(v, slot, argc, |sc, receiver| {
            let name = name?;
            let Value::Instance(instance) = receiver else {
                return None;
            };
            let instance = sc.deref(instance)?;
            let class = sc.deref(&instance.class)?;
            // The fields are reached only when they can shadow.
            if class.shadowed
                && sc
                    .map_lookup(sc.deref(&instance.fields)?, name, Some(field_hint))
                    .is_some()
            {
                return None;
            }
            let method = sc.map_lookup(sc.deref(&class.methods)?, name, Some(method_hint));
            debug_assert!(
                class.shadowed
                    || method.is_none()
                    || sc
                        .deref(&instance.fields)
                        .is_none_or(|fields| sc.map_lookup(fields, name, None).is_none()),
                "a field named like a method of a class not marked shadowed"
            );
            method
        })
    }

    /// `receiver.name(args)`: a field holding a callable is called; otherwise the class's
    /// method runs without a bound method being made.
    pub(crate) fn invoke(
        &mut self,
        s: &mut Scope<'s>,
        at: usize,
        index: usize,
        argc: usize,
    ) -> Result<(), Fault> {
        let (stack, name, field_hint) = (self.stack, self.name(index), self.hint(at));
        let field = {
            let mut v = s.vec_view(stack);
            let slot = v.len() - 1 - argc;
            if !matches!(v[slot], Value::Instance(_)) {
                return Err("Only instances have methods.".into());
            }
            v.copy_from(slot, |sc, values| {
                field_of(sc, &values[slot], name?, field_hint)
            })
            .map_err(gc_fault)?
        };
        if field {
            return self.call_value(s, argc);
        }
        let mut v = s.vec_view(stack);
        if self.invoke_on_stack(&mut v, at, index, argc)? {
            Ok(())
        } else {
            Err(self.undefined_property(v.scope(), index))
        }
    }

    /// `super.name(args)`: the superclass (on top) is popped and its method called on `this`,
    /// on the stack view. `Ok(false)` when the method is missing (the slow path reports it).
    #[inline]
    pub(crate) fn super_invoke_on_stack(
        &mut self,
        v: &mut Stack<'_, 's>,
        at: usize,
        index: usize,
        argc: usize,
    ) -> Result<bool, Fault> {
        let (name, hint) = (self.name(index), self.hint(at));
        let top = v.len() - 1;
        // The method takes the superclass's place on top, above the arguments: the frame
        // roots it from there on.
        let found = v
            .copy_from(top, |sc, values| {
                let Value::Class(class) = &values[top] else {
                    return None;
                };
                method_of(sc, class, name?, hint).filter(|m| matches!(m, Value::Closure(_)))
            })
            .map_err(gc_fault)?;
        if !found {
            return Ok(false);
        }
        self.enter_pushed(v, top - 1 - argc, top, argc)?;
        Ok(true)
    }

    /// `super.name(args)` when the method is missing: the error.
    pub(crate) fn super_invoke(
        &mut self,
        s: &mut Scope<'s>,
        at: usize,
        index: usize,
        argc: usize,
    ) -> Result<(), Fault> {
        let mut v = s.vec_view(self.stack);
        if self.super_invoke_on_stack(&mut v, at, index, argc)? {
            Ok(())
        } else {
            Err(self.undefined_property(v.scope(), index))
        }
    }

    /// `class Name`: pushes a new class without methods.
    pub(crate) fn make_class(&mut self, s: &mut Scope<'s>, index: usize) -> Result<(), Fault> {
        let (stack, constants) = (self.stack, self.constants);
        s.scope(|t| -> Result<(), GcError> {
            let name = name(t, constants, index).and_then(|n| t.root(n));
            let methods = t.alloc_map(0)?;
            let class = t.alloc_init(ClassInit {
                name,
                methods: Some(methods),
                initializer: ValueInit::Nil,
                id: *self.classes_made,
                shadowed: false,
            })?;
            *self.classes_made += 1;
            t.vec_view(stack).push_init(ValueInit::Class(Some(class)))
        })
        .map_err(gc_fault)
    }

    /// `class Sub < Super`: copies the superclass's methods into the subclass (on top, popped).
    pub(crate) fn inherit(&mut self, s: &mut Scope<'s>) -> Result<(), Fault> {
        let stack = self.stack;
        let len = s.vec_len(stack);
        let count = match &s.get(stack)[len - 2] {
            Value::Class(m) => s
                .deref(m)
                .and_then(|c| s.deref(&c.methods))
                .map_or(0, |m| m.len()),
            _ => return Err("Superclass must be a class.".into()),
        };
        for i in 0..count {
            s.map_put_copy(None, |sc| {
                let values = sc.get(stack);
                let (from, to) = (
                    methods_of(sc, &values[len - 2])?,
                    methods_of(sc, &values[len - 1])?,
                );
                let (name, method) = from.iter().nth(i)?;
                Some((to, name, method))
            })
            .map_err(gc_fault)?;
        }
        // The initialiser came with the methods (the subclass's own `init`, defined after
        // this, replaces it).
        self.cache_initializer(s, len - 1)?;
        self.pop(s);
        Ok(())
    }

    /// A method definition: the closure on top goes into the class below it, under constant
    /// `index`'s name.
    pub(crate) fn define_method(&mut self, s: &mut Scope<'s>, index: usize) -> Result<(), Fault> {
        let (stack, constants) = (self.stack, self.constants);
        let len = s.vec_len(stack);
        s.map_put_copy(None, |sc| {
            let values = sc.get(stack);
            let methods = methods_of(sc, &values[len - 2])?;
            Some((methods, name(sc, constants, index)?, &values[len - 1]))
        })
        .map_err(gc_fault)?;
        self.cache_initializer(s, len - 2)?;
        self.pop(s);
        Ok(())
    }

    /// Caches the `init` method of the class in stack slot `class` in its `initializer` (what
    /// an instantiation calls), from its methods: after they change, which happens only while
    /// the class is defined (no instance exists yet).
    fn cache_initializer(&mut self, s: &mut Scope<'s>, class: usize) -> Result<(), Fault> {
        let (stack, init) = (self.stack, self.init);
        s.scope(|t| -> Result<(), GcError> {
            let Value::Class(c) = &t.get(stack)[class] else {
                return Ok(());
            };
            let Some(Value::Closure(m)) = initializer_in_methods(t, c, init) else {
                return Ok(());
            };
            let (Some(closure), Some(class)) = (t.root(m), t.root(c)) else {
                return Ok(());
            };
            t.try_set_value(class, |c| &c.initializer, ValueInit::Closure(Some(closure)))
        })
        .map_err(gc_fault)
    }
}

/// What a class's methods hold under `init` (`init` holds that name), which its
/// `initializer` caches.
pub(crate) fn initializer_in_methods<'b>(
    sc: &'b Scope<'_>,
    class: &'b Member<Class>,
    init: Handle<'_, GcSlice<Value>>,
) -> Option<&'b Value> {
    let Value::Str(name) = &sc.get(init)[0] else {
        return None;
    };
    sc.map_lookup(sc.deref(&sc.deref(class)?.methods)?, name, None)
}

/// The methods of a class value.
fn methods_of<'b>(sc: &'b Scope<'_>, class: &'b Value) -> Option<MapView<'b, GcBytes, Value>> {
    match class {
        Value::Class(m) => sc.deref(&sc.deref(m)?.methods),
        _ => None,
    }
}
