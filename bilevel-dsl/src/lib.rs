//! The language, symbolic engine and code generator of the `bilevel` crate.
//!
//! A problem text goes through these stages, each in its own module:
//!
//! | stage | module | result |
//! |---|---|---|
//! | parse (pest grammar) | [`parse`] | [`ast::Problem`] with byte spans |
//! | check and expand to scalars | [`check`] | [`model::Model`]: a hash-consed [`dag::Dag`] and the objectives |
//! | differentiate | [`diff`] | gradient and Hessian-block nodes in the same DAG |
//! | generate Rust | [`codegen`], [`emit`] | a struct implementing `bilevel::Problem` |
//! | or evaluate | [`eval`] | numbers, without compiling |
//!
//! Nothing here needs a procedural-macro context: [`expand`] takes and returns `proc_macro2::TokenStream`, so the
//! whole pipeline is unit-testable, and [`compile`] works on plain text (for `.bl` files).
#![warn(missing_docs)]

pub mod ast;
pub mod check;
pub mod codegen;
pub mod dag;
pub mod diag;
pub mod diff;
pub mod emit;
pub mod eval;
pub mod model;
pub mod parse;
pub mod tokens;

use proc_macro2::{Punct, Spacing, TokenStream, TokenTree};
use quote::{format_ident, quote};

pub use diag::Diagnostic;
pub use model::Model;

/// Parses and checks a problem text.
///
/// ```
/// let model = bilevel_dsl::compile("problem P { upper x: real; lower y: real; \
///     minimize upper: (x - y)^2; minimize lower: (y - x)^2; }").unwrap();
/// assert_eq!((model.x.dim, model.y.dim), (1, 1));
/// ```
///
/// Parsing and checking recurse on the nesting of expressions, so they run on a thread with a large stack
/// (the nesting itself is limited by [`parse::MAX_NESTING`] and [`parse::MAX_OPERATORS`]). Should they panic
/// anyway, the panic becomes an "internal error" diagnostic: user input never crashes the caller.
pub fn compile(source: &str) -> Result<Model, Vec<Diagnostic>> {
    let text = source.to_string();
    let worker = std::thread::Builder::new().name("bilevel-compile".into()).stack_size(256 << 20).spawn(move || {
        let problem = parse::parse(&text).map_err(|d| vec![d])?;
        check::check(&problem)
    });
    let internal = |what: &str| {
        let msg = format!("internal error of the bilevel compiler ({what}); please report it with this problem text");
        vec![Diagnostic::new(0..source.len().min(1), msg)]
    };
    match worker {
        Ok(handle) => handle.join().unwrap_or_else(|_| Err(internal("it panicked"))),
        Err(_) => Err(internal("could not start its thread")),
    }
}

/// The `bilevel!` macro: problem tokens in, the generated struct and `Problem` impl out; on error, one
/// `compile_error!` per diagnostic at the offending tokens, plus a stub type so the rest of the crate still
/// type-checks.
pub fn expand(input: TokenStream) -> TokenStream {
    let source = tokens::SourceText::from_tokens(input.clone());
    match compile(&source.text) {
        Ok(model) => codegen::generate(&model, &quote!(::bilevel)),
        Err(diagnostics) => {
            let errors = diagnostics.iter().map(|d| {
                let (first, last) = source.spans(d.span.clone());
                let mut ends = TokenStream::new();
                for span in [first, last] {
                    let mut p = Punct::new('#', Spacing::Alone);
                    p.set_span(span);
                    ends.extend([TokenTree::Punct(p)]);
                }
                syn::Error::new_spanned(ends, d.text()).to_compile_error()
            });
            let stub = stub(input);
            quote!(#(#errors)* #stub)
        }
    }
}

/// A struct named after the problem (if the name can be found) that implements `Problem` with dynamic
/// dimensions and no bodies, so that uses of the type do not add errors of their own to the real ones. It is only
/// ever emitted next to a `compile_error!`, so its bodies can never run.
fn stub(input: TokenStream) -> TokenStream {
    let mut it = input.into_iter();
    while let Some(tt) = it.next() {
        if matches!(&tt, TokenTree::Ident(i) if i == "problem") {
            if let Some(TokenTree::Ident(name)) = it.next() {
                let name = format_ident!("{}", name.to_string());
                return quote! {
                    #[derive(Clone, Copy, Debug, Default, PartialEq)]
                    pub struct #name;

                    #[allow(unused_variables)]
                    impl ::bilevel::Problem for #name {
                        type N = ::bilevel::nalgebra::Dyn;
                        type M = ::bilevel::nalgebra::Dyn;
                        fn name(&self) -> &str { unreachable!() }
                        fn dims(&self) -> (Self::N, Self::M) { unreachable!() }
                        fn start(&self) -> (::bilevel::nalgebra::DVector<f64>, ::bilevel::nalgebra::DVector<f64>) { unreachable!() }
                        fn bounds(&self) -> Option<::bilevel::Bounds<Self::N>> { unreachable!() }
                        fn upper(&self, x: &::bilevel::nalgebra::DVector<f64>, y: &::bilevel::nalgebra::DVector<f64>) -> f64 { unreachable!() }
                        fn lower(&self, x: &::bilevel::nalgebra::DVector<f64>, y: &::bilevel::nalgebra::DVector<f64>) -> f64 { unreachable!() }
                        fn upper_grad(&self, x: &::bilevel::nalgebra::DVector<f64>, y: &::bilevel::nalgebra::DVector<f64>) -> ::bilevel::Grad<Self::N, Self::M> { unreachable!() }
                        fn lower_grad(&self, x: &::bilevel::nalgebra::DVector<f64>, y: &::bilevel::nalgebra::DVector<f64>) -> ::bilevel::Grad<Self::N, Self::M> { unreachable!() }
                        fn upper_hess(&self, x: &::bilevel::nalgebra::DVector<f64>, y: &::bilevel::nalgebra::DVector<f64>) -> ::bilevel::Hess<Self::N, Self::M> { unreachable!() }
                        fn lower_hess(&self, x: &::bilevel::nalgebra::DVector<f64>, y: &::bilevel::nalgebra::DVector<f64>) -> ::bilevel::Hess<Self::N, Self::M> { unreachable!() }
                        fn upper_hess_xx(&self, x: &::bilevel::nalgebra::DVector<f64>, y: &::bilevel::nalgebra::DVector<f64>) -> ::bilevel::nalgebra::DMatrix<f64> { unreachable!() }
                        fn lower_hess_xx(&self, x: &::bilevel::nalgebra::DVector<f64>, y: &::bilevel::nalgebra::DVector<f64>) -> ::bilevel::nalgebra::DMatrix<f64> { unreachable!() }
                    }
                };
            }
        }
    }
    TokenStream::new()
}
