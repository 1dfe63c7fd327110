//! `#[derive(Trace)]` for Pinion's `gc_core::Trace` (and its one-step construction,
//! `gc_core::Init`).
//!
//! The derive is the reason interpreter authors never write `unsafe` for ordinary types. It
//! upholds the `Trace` contract (see `gc_core::Trace`) mechanically:
//!
//! 1. `trace` visits every field, so every `Member` the value holds inline is reported to the
//!    collector (owning containers such as `Box` and `Vec` refuse `Member`s in their own `Trace`
//!    impls);
//! 2. `NEEDS_TRACE` is the OR of the fields' `NEEDS_TRACE`, so leaf types cost nothing;
//! 3. a type that derives `Trace` may not implement `Drop`: a destructor gets `&mut self` and
//!    could move a `Member` out of a dead object into the outside world. The derive emits an
//!    impl that conflicts with any `Drop` impl, so such code fails to compile;
//! 4. `#[pinion(drop)]` lifts rule 3 for types that hold no references at all, and turns
//!    "holds no references" into a compile-time assertion.
//!
//! It also generates the type's **mirror** for one-step construction (`Scope::alloc_init`): a
//! struct (or enum) `NameInit<'h>` of the same shape whose every field has the type
//! `<FieldType as gc_core::Init>::Init<'h>`, so a `Member<U>` field becomes an
//! `Option<Handle<'h, U>>` and a leaf field stays what it is. Each field is converted through
//! that trait, never by looking at its type's name. A type without fields is its own mirror,
//! and so is a type marked `#[pinion(leaf)]` (or `#[pinion(drop)]`), for which the derive
//! asserts at compile time that it holds no references. `#[pinion(init = OtherName)]` renames
//! the mirror.
//!
//! For enums it generates **accessors**, so that a projection never needs a hand-written
//! `match`: `value.{variant}_{field}()` returns `Option<&FieldType>` (fields of tuple variants
//! are numbered), and a variant with a single unnamed field also gets `value.as_{variant}()`.
//! Use them with `Scope::set_variant` and `Scope::load_variant`. `#[pinion(no_accessors)]`
//! turns them off.
//!
//! Unions are rejected: the derive cannot know which field is live.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote};
use syn::{
    parse_macro_input, parse_quote, Data, DeriveInput, Fields, GenericParam, Ident, Lifetime,
    LifetimeParam, Type, Visibility,
};

/// Derives `gc_core::Trace` and `gc_core::Init` for a struct or enum whose fields all implement
/// `Trace`, with the type's mirror `NameInit<'h>` and, for enums, variant accessors.
///
/// Attributes on the type: `#[pinion(drop)]` allows a `Drop` impl and asserts at compile time
/// that the type holds no GC references; `#[pinion(leaf)]` asserts the same and makes the type
/// its own mirror; `#[pinion(init = Name)]` names the mirror; `#[pinion(no_accessors)]` omits
/// the enum accessors.
#[proc_macro_derive(Trace, attributes(pinion))]
pub fn derive_trace(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(input) {
        Ok(tokens) => tokens.into(),
        Err(err) => err.to_compile_error().into(),
    }
}

/// The `#[pinion(...)]` options of a type.
struct Options {
    allow_drop: bool,
    leaf: bool,
    mirror: Option<Ident>,
    accessors: bool,
}

fn options(input: &DeriveInput) -> syn::Result<Options> {
    let mut o = Options {
        allow_drop: false,
        leaf: false,
        mirror: None,
        accessors: true,
    };
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("pinion")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("drop") {
                o.allow_drop = true;
                Ok(())
            } else if meta.path.is_ident("leaf") {
                o.leaf = true;
                Ok(())
            } else if meta.path.is_ident("init") {
                o.mirror = Some(meta.value()?.parse()?);
                Ok(())
            } else if meta.path.is_ident("no_accessors") {
                o.accessors = false;
                Ok(())
            } else {
                Err(meta.error(
                    "unknown pinion attribute; expected `drop`, `leaf`, `init = Name` or \
                     `no_accessors`",
                ))
            }
        })?;
    }
    Ok(o)
}

/// One set of fields (a struct's, or a variant's): their types, the names they are bound to,
/// and their visibilities.
struct FieldSet {
    types: Vec<Type>,
    bindings: Vec<Ident>,
    vis: Vec<Visibility>,
}

fn field_set(fields: &Fields) -> FieldSet {
    let mut set = FieldSet {
        types: Vec::new(),
        bindings: Vec::new(),
        vis: Vec::new(),
    };
    for (i, field) in fields.iter().enumerate() {
        set.types.push(field.ty.clone());
        set.bindings.push(match &field.ident {
            Some(ident) => format_ident!("__f_{}", ident),
            None => format_ident!("__f_{}", i),
        });
        set.vis.push(field.vis.clone());
    }
    set
}

/// `{ a: __f_a, b: __f_b }`, `(__f_0, __f_1)` or nothing.
fn pattern(fields: &Fields, names: &[Ident]) -> TokenStream2 {
    match fields {
        Fields::Named(named) => {
            let idents = named
                .named
                .iter()
                .map(|f| f.ident.as_ref().expect("named field"));
            quote! { { #( #idents: #names ),* } }
        }
        Fields::Unnamed(_) => quote! { ( #( #names ),* ) },
        Fields::Unit => quote! {},
    }
}

/// The mirror's fields: the same names (or positions) with the types' mirrors.
fn mirror_fields(
    fields: &Fields,
    set: &FieldSet,
    lifetime: &Lifetime,
    in_enum: bool,
) -> TokenStream2 {
    let types = &set.types;
    let vis: Vec<TokenStream2> = set
        .vis
        .iter()
        .map(|v| {
            if in_enum {
                quote! {}
            } else {
                quote! { #v }
            }
        })
        .collect();
    match fields {
        Fields::Named(named) => {
            let idents: Vec<&Ident> = named
                .named
                .iter()
                .map(|f| f.ident.as_ref().expect("named field"))
                .collect();
            let docs = idents
                .iter()
                .map(|i| format!("The mirror of `{i}`: what it is built from."));
            quote! { { #( #[doc = #docs] #vis #idents: <#types as ::gc_core::Init>::Init<#lifetime> ),* } }
        }
        Fields::Unnamed(_) => {
            quote! { ( #( #vis <#types as ::gc_core::Init>::Init<#lifetime> ),* ) }
        }
        Fields::Unit => quote! {},
    }
}

/// `JsonArray` -> `json_array`.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn expand(mut input: DeriveInput) -> syn::Result<TokenStream2> {
    let opts = options(&input)?;
    let name = input.ident.clone();
    let vis = input.vis.clone();
    let mirror = opts
        .mirror
        .clone()
        .unwrap_or_else(|| format_ident!("{}Init", name));
    let lifetime = Lifetime::new("'__pinion_h", Span::call_site());

    // Every type parameter must itself be traceable.
    for param in input.generics.params.iter_mut() {
        if let GenericParam::Type(ty) = param {
            ty.bounds.push(parse_quote!(::gc_core::Trace));
        }
    }
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut mirror_generics = input.generics.clone();
    mirror_generics.params.insert(
        0,
        GenericParam::Lifetime(LifetimeParam::new(lifetime.clone())),
    );
    let (mirror_impl_generics, mirror_ty_generics, _) = mirror_generics.split_for_impl();

    let mut all_types: Vec<Type> = Vec::new();
    let trace_body;
    let mirror_def;
    let check_body;
    let build_body;
    let mut accessors = Vec::new();
    let mut has_fields = false;
    // Structs describe their reference words; enums keep the default (the variant decides).
    let mut ref_words = None;
    match &input.data {
        Data::Struct(data) => {
            let set = field_set(&data.fields);
            has_fields = !set.types.is_empty();
            all_types.extend(set.types.iter().cloned());
            let names = &set.bindings;
            let types = &set.types;
            let pat = pattern(&data.fields, names);
            // Where the references lie: each field's reference words at its offset.
            let accessors: Vec<TokenStream2> = data
                .fields
                .iter()
                .enumerate()
                .map(|(i, f)| match &f.ident {
                    Some(ident) => quote! { #ident },
                    None => {
                        let index = syn::Index::from(i);
                        quote! { #index }
                    }
                })
                .collect();
            ref_words = Some(quote! {
                const REF_WORDS: ::core::option::Option<u64> =
                    ::gc_core::__derive::ref_words_of_fields(
                        &[ #( (
                            ::core::mem::offset_of!(Self, #accessors),
                            <#types as ::gc_core::Trace>::REF_WORDS,
                        ) ),* ],
                        ::core::mem::size_of::<Self>(),
                    );
            });
            trace_body = quote! {
                let #name #pat = self;
                #( ::gc_core::Trace::trace(#names, tracer); )*
            };
            let fields = mirror_fields(&data.fields, &set, &lifetime, false);
            let doc = format!(
                "The mirror of [`{name}`] for one-step construction (`Scope::alloc_init`): \
                 its members as optional handles, its other fields as they are."
            );
            // A tuple struct's where clause follows its fields.
            let body = if matches!(data.fields, Fields::Named(_)) {
                quote! { #where_clause #fields }
            } else {
                quote! { #fields #where_clause ; }
            };
            mirror_def = quote! {
                #[doc = #doc]
                #[allow(dead_code)]
                #vis struct #mirror #mirror_generics #body
            };
            check_body = quote! {
                let #mirror #pat = init;
                #( <#types as ::gc_core::Init>::check_heap(#names, heap)?; )*
                ::core::result::Result::Ok(())
            };
            let built: Vec<TokenStream2> = names
                .iter()
                .zip(types)
                .map(|(n, t)| {
                    quote! {
                        // SAFETY: forwarded from the caller of `build`.
                        unsafe { <#t as ::gc_core::Init>::build(#n, resolver) }
                    }
                })
                .collect();
            let rebuilt = match &data.fields {
                Fields::Named(named) => {
                    let idents = named.named.iter().map(|f| f.ident.as_ref().expect("named"));
                    quote! { #name { #( #idents: #built ),* } }
                }
                Fields::Unnamed(_) => quote! { #name ( #( #built ),* ) },
                Fields::Unit => quote! { #name },
            };
            build_body = quote! {
                let #mirror #pat = init;
                #rebuilt
            };
        }
        Data::Enum(data) => {
            let mut trace_arms = Vec::new();
            let mut check_arms = Vec::new();
            let mut build_arms = Vec::new();
            let mut variants = Vec::new();
            for variant in &data.variants {
                let set = field_set(&variant.fields);
                has_fields |= !set.types.is_empty();
                all_types.extend(set.types.iter().cloned());
                let names = &set.bindings;
                let types = &set.types;
                let pat = pattern(&variant.fields, names);
                let vname = &variant.ident;
                trace_arms.push(quote! {
                    #name::#vname #pat => { #( ::gc_core::Trace::trace(#names, tracer); )* }
                });
                check_arms.push(quote! {
                    #mirror::#vname #pat => {
                        #( <#types as ::gc_core::Init>::check_heap(#names, heap)?; )*
                    }
                });
                let built: Vec<TokenStream2> = names
                    .iter()
                    .zip(types)
                    .map(|(n, t)| {
                        quote! {
                            // SAFETY: forwarded from the caller of `build`.
                            unsafe { <#t as ::gc_core::Init>::build(#n, resolver) }
                        }
                    })
                    .collect();
                let rebuilt = match &variant.fields {
                    Fields::Named(named) => {
                        let idents = named.named.iter().map(|f| f.ident.as_ref().expect("named"));
                        quote! { #name::#vname { #( #idents: #built ),* } }
                    }
                    Fields::Unnamed(_) => quote! { #name::#vname ( #( #built ),* ) },
                    Fields::Unit => quote! { #name::#vname },
                };
                build_arms.push(quote! { #mirror::#vname #pat => #rebuilt, });
                let fields = mirror_fields(&variant.fields, &set, &lifetime, true);
                let doc = format!("The mirror of `{name}::{vname}`.");
                variants.push(quote! { #[doc = #doc] #vname #fields });
                if opts.accessors {
                    accessors.extend(variant_accessors(&name, variant, &set));
                }
            }
            trace_body = if trace_arms.is_empty() {
                quote! {}
            } else {
                quote! { match self { #( #trace_arms )* } }
            };
            let doc = format!(
                "The mirror of [`{name}`] for one-step construction (`Scope::alloc_init`): \
                 every variant with its members as optional handles."
            );
            mirror_def = quote! {
                #[doc = #doc]
                #[allow(dead_code)]
                #vis enum #mirror #mirror_generics #where_clause { #( #variants ),* }
            };
            check_body = if check_arms.is_empty() {
                quote! { match *init {} }
            } else {
                quote! {
                    match init { #( #check_arms )* }
                    ::core::result::Result::Ok(())
                }
            };
            build_body = if build_arms.is_empty() {
                quote! { match init {} }
            } else {
                quote! { match init { #( #build_arms )* } }
            };
        }
        Data::Union(u) => {
            return Err(syn::Error::new(
                u.union_token.span,
                "Trace cannot be derived for unions: the collector cannot know which field is live",
            ))
        }
    }

    let needs_trace = quote! { false #( || <#all_types as ::gc_core::Trace>::NEEDS_TRACE )* };
    let needs_trace_const = if opts.allow_drop || opts.leaf {
        let msg = if opts.allow_drop {
            format!(
                "`{name}` is marked #[pinion(drop)] but holds GC references: a destructor \
                 could leak a Member out of a dead object"
            )
        } else {
            format!("`{name}` is marked #[pinion(leaf)] but holds GC references")
        };
        quote! {
            const NEEDS_TRACE: bool = {
                ::core::assert!(!(#needs_trace), #msg);
                false
            };
        }
    } else {
        quote! {
            const NEEDS_TRACE: bool = #needs_trace;
            #ref_words
        }
    };

    let drop_guard = if opts.allow_drop {
        quote! {}
    } else {
        // A type that derives Trace must not implement Drop (rule 3 above). The blanket impl
        // for every `Drop` type conflicts with the impl for this type exactly when this type
        // implements Drop, which turns the rule into a compile error.
        let guard = format_ident!("__PinionMustNotImplDropFor{}", name);
        quote! {
            const _: () = {
                #[allow(non_camel_case_types, dead_code)]
                trait #guard {}
                #[allow(drop_bounds)]
                impl<T: ::core::ops::Drop> #guard for T {}
                impl #impl_generics #guard for #name #ty_generics #where_clause {}
            };
        }
    };

    // A type without fields, or one asserted to hold no references (`leaf`, `drop`), is its
    // own mirror.
    let own_mirror = !has_fields || opts.leaf || opts.allow_drop;
    let init_impl = if !own_mirror {
        quote! {
            #mirror_def

            // SAFETY: generated by #[derive(Trace)]: `check_heap` checks every field's mirror
            // and `build` builds every field from its mirror, through the fields' own `Init`
            // impls, and does nothing else.
            unsafe impl #impl_generics ::gc_core::Init for #name #ty_generics #where_clause {
                type Init<#lifetime> = #mirror #mirror_ty_generics;
                #[inline(always)]
                #[allow(unused_variables)]
                fn check_heap(
                    init: &Self::Init<'_>,
                    heap: u32,
                ) -> ::core::result::Result<(), ::gc_core::GcError> {
                    #check_body
                }
                #[inline(always)]
                #[allow(unused_variables)]
                unsafe fn build(init: Self::Init<'_>, resolver: &::gc_core::Resolver<'_>) -> Self {
                    #build_body
                }
            }

            impl #mirror_impl_generics ::gc_core::Mirror<#lifetime> for #mirror #mirror_ty_generics
                #where_clause
            {
                type Target = #name #ty_generics;
            }
        }
    } else {
        quote! {
            // SAFETY: a type without fields holds no Member: it is its own mirror.
            unsafe impl #impl_generics ::gc_core::Init for #name #ty_generics #where_clause {
                type Init<#lifetime> = Self;
                #[inline(always)]
                fn check_heap(
                    _: &Self,
                    _: u32,
                ) -> ::core::result::Result<(), ::gc_core::GcError> {
                    ::core::result::Result::Ok(())
                }
                #[inline(always)]
                unsafe fn build(init: Self, _: &::gc_core::Resolver<'_>) -> Self {
                    init
                }
            }

            impl #mirror_impl_generics ::gc_core::Mirror<#lifetime> for #name #ty_generics
                #where_clause
            {
                type Target = Self;
            }
        }
    };

    let accessors_impl = if accessors.is_empty() {
        quote! {}
    } else {
        quote! {
            #[allow(dead_code)]
            impl #impl_generics #name #ty_generics #where_clause {
                #( #accessors )*
            }
        }
    };

    Ok(quote! {
        // SAFETY: generated by #[derive(Trace)]: `trace` visits every field, NEEDS_TRACE is the
        // OR of the fields' NEEDS_TRACE, and the drop guard (or the #[pinion(drop)] assertion)
        // keeps destructors away from Members.
        unsafe impl #impl_generics ::gc_core::Trace for #name #ty_generics #where_clause {
            #needs_trace_const
            #[inline]
            #[allow(unused_variables)]
            fn trace(&self, tracer: &mut ::gc_core::Tracer<'_>) {
                #trace_body
            }
        }
        #drop_guard
        #init_impl
        #accessors_impl
    })
}

/// `{variant}_{field}()` for every field of `variant`, and `as_{variant}()` when it has a
/// single unnamed field.
fn variant_accessors(
    enum_name: &Ident,
    variant: &syn::Variant,
    set: &FieldSet,
) -> Vec<TokenStream2> {
    let vname = &variant.ident;
    let snake = snake_case(&vname.to_string());
    let mut out = Vec::new();
    let count = set.types.len();
    for (i, (ty, field)) in set.types.iter().zip(variant.fields.iter()).enumerate() {
        let (method, pat) = match &field.ident {
            Some(ident) => (
                format_ident!("{}_{}", snake, ident),
                quote! { #enum_name::#vname { #ident: __field, .. } },
            ),
            None => {
                let slots = (0..count).map(|j| {
                    if j == i {
                        quote! { __field }
                    } else {
                        quote! { _ }
                    }
                });
                (
                    format_ident!("{}_{}", snake, i),
                    quote! { #enum_name::#vname ( #( #slots ),* ) },
                )
            }
        };
        let doc = format!(
            "The field `{}` of the variant `{enum_name}::{vname}`, or `None` for another \
             variant (a projection for `Scope::set_variant` and `Scope::load_variant`).",
            field
                .ident
                .as_ref()
                .map_or(i.to_string(), |f| f.to_string())
        );
        out.push(quote! {
            #[doc = #doc]
            #[inline]
            pub fn #method(&self) -> ::core::option::Option<&#ty> {
                #[allow(unreachable_patterns)]
                match self {
                    #pat => ::core::option::Option::Some(__field),
                    _ => ::core::option::Option::None,
                }
            }
        });
    }
    if count == 1 && matches!(variant.fields, Fields::Unnamed(_)) {
        let ty = &set.types[0];
        let method = format_ident!("as_{}", snake);
        let doc = format!(
            "The single field of the variant `{enum_name}::{vname}`, or `None` for another \
             variant."
        );
        out.push(quote! {
            #[doc = #doc]
            #[inline]
            pub fn #method(&self) -> ::core::option::Option<&#ty> {
                #[allow(unreachable_patterns)]
                match self {
                    #enum_name::#vname(__field) => ::core::option::Option::Some(__field),
                    _ => ::core::option::Option::None,
                }
            }
        });
    }
    out
}
