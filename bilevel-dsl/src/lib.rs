//! The language, symbolic engine and code generator of the `bilevel` crate.
//!
//! A problem text goes through these stages, each in its own module:
//!
//! | stage | module | result |
//! |---|---|---|
//! | parse (pest grammar) | [`parse`] | [`ast::Problem`] with byte spans |
//! | check and expand to scalars | [`check`] | [`model::Model`]: a hash-consed [`dag::Dag`] and the objectives |
//! | differentiate | [`diff`] | gradient and Hessian-block nodes in the same DAG |
//! | (problems with data) build the loops | [`program`] | each derivative method as a [`program::Program`] |
//! | generate Rust | [`fixed_size`] (no data: straight-line code), [`data_loops`] (loops over data), both through [`emit`] | a struct implementing `bilevel::Problem` or `bilevel::MatrixFreeProblem` |
//! | or evaluate | [`eval`] | numbers, without compiling |
//!
//! Nothing here needs a procedural-macro context: [`expand`] takes and returns `proc_macro2::TokenStream`, so the
//! whole pipeline is unit-testable, and [`compile`] works on plain text (for `.bl` files).
#![warn(missing_docs)]

pub mod ast;
pub mod check;
pub mod dag;
pub mod data_loops;
pub mod diag;
pub mod diff;
pub mod emit;
pub mod eval;
mod expand;
pub mod fixed_size;
pub mod math;
pub mod model;
pub mod parse;
pub mod program;
pub mod tokens;

pub use diag::Diagnostic;
pub use expand::{expand, generate, MAX_CODE_BYTES};
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
    // A byte-order mark (editors write one) is read as the three bytes of white space it occupies, so that every
    // position in the text stays where it was.
    let text = match source.strip_prefix('\u{feff}') {
        Some(rest) => format!("   {rest}"),
        None => source.to_string(),
    };
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
