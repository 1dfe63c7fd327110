//! `#[derive(Trace)]` for Pinion's `gc_core::Trace`.
//!
//! The derive is the reason interpreter authors never write `unsafe` for ordinary types. It
//! upholds the `Trace` contract (see `gc_core::Trace`) mechanically:
//!
//! 1. `trace` visits every field, so every `Member` the value holds inline or in memory it owns
//!    (`Box`, `Vec`, `Option`, …) is reported to the collector;
//! 2. `NEEDS_TRACE` is the OR of the fields' `NEEDS_TRACE`, so leaf types cost nothing;
//! 3. a type that derives `Trace` may not implement `Drop`: a destructor gets `&mut self` and
//!    could move a `Member` out of a dead object into the outside world. The derive emits an
//!    impl that conflicts with any `Drop` impl, so such code fails to compile;
//! 4. `#[pinion(drop)]` lifts rule 3 for types that hold no references at all, and turns
//!    "holds no references" into a compile-time assertion.
//!
//! Unions are rejected: the derive cannot know which field is live.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{format_ident, quote};
use syn::{parse_macro_input, parse_quote, Data, DeriveInput, Fields, GenericParam, Type};

/// Derives `gc_core::Trace` for a struct or enum whose fields all implement `Trace`.
///
/// Attributes: `#[pinion(drop)]` on the type allows a `Drop` impl and asserts at compile time
/// that the type holds no GC references.
#[proc_macro_derive(Trace, attributes(pinion))]
pub fn derive_trace(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(input) {
        Ok(tokens) => tokens.into(),
        Err(err) => err.to_compile_error().into(),
    }
}

fn allows_drop(input: &DeriveInput) -> syn::Result<bool> {
    let mut allow = false;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("pinion")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("drop") {
                allow = true;
                Ok(())
            } else {
                Err(meta.error("unknown pinion attribute; expected `drop`"))
            }
        })?;
    }
    Ok(allow)
}

/// Field types and the statements that trace them, for one set of fields bound by `bindings`.
fn trace_fields(fields: &Fields, prefix: &str) -> (Vec<Type>, Vec<proc_macro2::Ident>) {
    let mut types = Vec::new();
    let mut names = Vec::new();
    for (i, field) in fields.iter().enumerate() {
        types.push(field.ty.clone());
        names.push(match &field.ident {
            Some(ident) => format_ident!("{}{}", prefix, ident),
            None => format_ident!("{}{}", prefix, i),
        });
    }
    (types, names)
}

fn pattern(fields: &Fields, names: &[proc_macro2::Ident]) -> TokenStream2 {
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

fn expand(mut input: DeriveInput) -> syn::Result<TokenStream2> {
    let allow_drop = allows_drop(&input)?;
    let name = input.ident.clone();
    let mut all_types: Vec<Type> = Vec::new();
    let body =
        match &input.data {
            Data::Struct(data) => {
                let (types, names) = trace_fields(&data.fields, "__f_");
                all_types.extend(types);
                let pat = pattern(&data.fields, &names);
                quote! {
                    let #name #pat = self;
                    #( ::gc_core::Trace::trace(#names, tracer); )*
                }
            }
            Data::Enum(data) => {
                let mut arms = Vec::new();
                for variant in &data.variants {
                    let (types, names) = trace_fields(&variant.fields, "__f_");
                    all_types.extend(types);
                    let pat = pattern(&variant.fields, &names);
                    let vname = &variant.ident;
                    arms.push(quote! {
                        #name::#vname #pat => { #( ::gc_core::Trace::trace(#names, tracer); )* }
                    });
                }
                if arms.is_empty() {
                    quote! {}
                } else {
                    quote! { match self { #( #arms )* } }
                }
            }
            Data::Union(u) => return Err(syn::Error::new(
                u.union_token.span,
                "Trace cannot be derived for unions: the collector cannot know which field is live",
            )),
        };

    // Every type parameter must itself be traceable.
    for param in input.generics.params.iter_mut() {
        if let GenericParam::Type(ty) = param {
            ty.bounds.push(parse_quote!(::gc_core::Trace));
        }
    }
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();

    let needs_trace = quote! { false #( || <#all_types as ::gc_core::Trace>::NEEDS_TRACE )* };
    let needs_trace_const = if allow_drop {
        let msg = format!(
            "`{name}` is marked #[pinion(drop)] but holds GC references: a destructor could \
             leak a Member out of a dead object"
        );
        quote! {
            const NEEDS_TRACE: bool = {
                ::core::assert!(!(#needs_trace), #msg);
                false
            };
        }
    } else {
        quote! { const NEEDS_TRACE: bool = #needs_trace; }
    };

    let drop_guard = if allow_drop {
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

    Ok(quote! {
        // SAFETY: generated by #[derive(Trace)]: `trace` visits every field, NEEDS_TRACE is the
        // OR of the fields' NEEDS_TRACE, and the drop guard (or the #[pinion(drop)] assertion)
        // keeps destructors away from Members.
        unsafe impl #impl_generics ::gc_core::Trace for #name #ty_generics #where_clause {
            #needs_trace_const
            #[inline]
            #[allow(unused_variables)]
            fn trace(&self, tracer: &mut ::gc_core::Tracer<'_>) {
                #body
            }
        }
        #drop_guard
    })
}
