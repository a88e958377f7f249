//! The `bilevel!` procedural macro. A thin shim: everything happens in `bilevel_dsl::expand`, which is a plain
//! library function over `proc_macro2` tokens. Use the macro through the `bilevel` crate, which documents it.

/// Compiles a bilevel problem written in the `bilevel` language into a struct that implements
/// `bilevel::Problem`, with every gradient and Hessian block derived symbolically.
///
/// ```ignore
/// bilevel::bilevel! {
///     problem CounterExample {
///         upper x: real in [-100, 100];
///         lower y: real[2];
///         minimize upper: 0.5 * (x - y[1])^2 + 0.5 * (y[0] - 1)^2;
///         minimize lower: 0.5 * y[0]^2 - x * y[0];
///     }
/// }
/// ```
///
/// Mistakes in the problem are reported as compile errors at the offending tokens, several at once.
#[proc_macro]
pub fn bilevel(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    bilevel_dsl::expand(input.into()).into()
}
