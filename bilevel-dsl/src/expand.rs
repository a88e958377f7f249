//! The `bilevel!` macro's expansion: problem tokens (or a `.bl` file) in, generated code or errors out.

use std::path::PathBuf;

use proc_macro2::{Literal, Punct, Spacing, Span, TokenStream, TokenTree};
use quote::{format_ident, quote};

use crate::ast::ItemKind;
use crate::diag::Diagnostic;
use crate::model::Model;
use crate::tokens::SourceText;
use crate::{compile, data_loops, fixed_size};

/// The most generated code a problem may have, in bytes of Rust tokens (unformatted). Measured on two cores: a
/// dense Hessian of `real[256]` is 3.2 MB and compiles in 33 s with 1.8 GB (debug); the limit keeps every
/// accepted problem within about a minute and 4 GB. `real[300]` (4.4 MB) is refused.
pub const MAX_CODE_BYTES: usize = 4 << 20;

/// The generated code of a checked problem: loops and derivative products for a problem with data, straight-line
/// code and dense blocks otherwise. An error when the code would be too large to compile ([`MAX_CODE_BYTES`](crate::MAX_CODE_BYTES),
/// [`diff::MAX_NODES`](crate::diff::MAX_NODES)).
pub fn generate(model: &Model, krate: &TokenStream) -> Result<TokenStream, Diagnostic> {
    let code = if model.has_data() { data_loops::generate(model, krate) } else { fixed_size::generate(model, krate)? };
    let bytes = code.to_string().len();
    if bytes > MAX_CODE_BYTES {
        return Err(too_large(model, Some(bytes)));
    }
    Ok(code)
}

/// The error for code too large to compile: of `bytes` once written, or (`None`) found too large while it was
/// being written.
pub(crate) fn too_large(model: &Model, bytes: Option<usize>) -> Diagnostic {
    let mb = |b: usize| b as f64 / f64::from(1 << 20);
    let size = bytes.map_or(String::new(), |b| format!(" {:.1} MB,", mb(b)));
    let msg = format!(
        "the code generated for this problem would be{size} more than the {:.1} MB rustc compiles in reasonable time",
        mb(MAX_CODE_BYTES)
    );
    let hint = "declare large arrays as `data` with `dim` sizes (their code does not grow with them), or nest \
                fewer `if`s";
    Diagnostic::new(model.name_span.clone(), msg).hint(hint)
}

/// The `bilevel!` macro: problem tokens in, the generated struct and `Problem` impl out; on error, one
/// `compile_error!` per diagnostic at the offending tokens, plus a stub type so the rest of the crate still
/// type-checks.
///
/// `bilevel!(file = "path/to/problem.bl")` reads the problem from a file instead (relative to the crate's
/// `Cargo.toml`); its errors then name `file:line:col` and show the line, and the crate is rebuilt when the file
/// changes.
pub fn expand(input: TokenStream) -> TokenStream {
    if let Some((path, span)) = file_argument(&input) {
        return expand_file(&path, span);
    }
    let source = SourceText::from_tokens(input);
    match compile(&source.text).and_then(|model| generate(&model, &quote!(::bilevel)).map_err(|d| vec![d])) {
        Ok(code) => code,
        Err(diagnostics) => {
            let (first, more) = crate::diag::shown(&diagnostics);
            let mut errors: Vec<TokenStream> = first
                .iter()
                .map(|d| {
                    let (first, last) = source.spans(d.span.clone());
                    error_between(first, last, &d.text())
                })
                .collect();
            if let (Some(more), Some(last)) = (more, first.last()) {
                let (start, end) = source.spans(last.span.clone());
                errors.push(error_between(start, end, &more));
            }
            let stub = stub(&source.text);
            quote!(#(#errors)* #stub)
        }
    }
}

/// The path of `file = "..."`, and the span of the string.
fn file_argument(input: &TokenStream) -> Option<(String, Span)> {
    let tokens: Vec<TokenTree> = input.clone().into_iter().collect();
    match &tokens[..] {
        [TokenTree::Ident(key), TokenTree::Punct(eq), TokenTree::Literal(lit)]
            if key == "file" && eq.as_char() == '=' =>
        {
            let path: syn::LitStr = syn::parse2(TokenTree::Literal(lit.clone()).into()).ok()?;
            Some((path.value(), lit.span()))
        }
        _ => None,
    }
}

fn expand_file(path: &str, span: Span) -> TokenStream {
    let dir = std::env::var("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_default();
    let full = dir.join(path);
    let text = match std::fs::read_to_string(&full) {
        Ok(text) => text,
        Err(e) => {
            let msg = format!(
                "cannot read `{}`: {e}\n  = help: the path is relative to the crate's Cargo.toml",
                full.display()
            );
            return error_between(span, span, &msg);
        }
    };
    // Cargo rebuilds the crate when a file it includes changes.
    let tracked = Literal::string(&full.to_string_lossy());
    let track = quote!(
        const _: &[u8] = include_bytes!(#tracked);
    );
    match compile(&text).and_then(|model| generate(&model, &quote!(::bilevel)).map_err(|d| vec![d])) {
        Ok(code) => quote!(#code #track),
        Err(diagnostics) => {
            let (first, more) = crate::diag::shown(&diagnostics);
            let errors = first.iter().map(|d| d.located(path, &text)).chain(more);
            let errors = errors.map(|message| error_between(span, span, &message));
            let stub = stub(&text);
            quote!(#(#errors)* #stub #track)
        }
    }
}

/// A `compile_error!` that covers the tokens from `first` to `last`.
fn error_between(first: Span, last: Span, message: &str) -> TokenStream {
    let mut ends = TokenStream::new();
    for span in [first, last] {
        let mut p = Punct::new('#', Spacing::Alone);
        p.set_span(span);
        ends.extend([TokenTree::Punct(p)]);
    }
    syn::Error::new_spanned(ends, message).to_compile_error()
}

/// The name after `problem`, if the text has one.
fn problem_name(text: &str) -> Option<String> {
    let mut words = text.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty());
    words.find(|w| *w == "problem")?;
    words.next().filter(|w| w.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')).map(String::from)
}

/// A struct named after the problem (if the name can be found) that implements `Problem` with dynamic
/// dimensions and no bodies, so that uses of the type do not add errors of their own to the real ones. It is only
/// ever emitted next to a `compile_error!`, so its bodies can never run. A name the language refuses (one that
/// does not start with a capital letter: `y`, `f64`) gets no stub, since a type of that name would clash with the
/// stub's own parameters and types and add errors of its own.
fn stub(text: &str) -> TokenStream {
    let usable = |n: &String| crate::check::is_type_name(n);
    let Some(name) = problem_name(text).filter(usable).and_then(|n| syn::parse_str::<syn::Ident>(&n).ok()) else {
        return TokenStream::new();
    };
    let name = format_ident!("{}", name);
    if let Some(items) = data_items(text) {
        return data_stub(&name, &items);
    }
    quote! {
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
    }
}

/// The names of the `data` items with whether each is sparse, if the text parses and declares sizes or data (a
/// problem with data).
fn data_items(text: &str) -> Option<Vec<(syn::Ident, bool)>> {
    let problem = crate::parse::parse(text).ok()?;
    let mut names = Vec::new();
    let mut has_data = false;
    for item in &problem.items {
        match &item.kind {
            ItemKind::Dim(_) => has_data = true,
            ItemKind::Data { name, sparse, .. } => {
                has_data = true;
                names.extend(syn::parse_str::<syn::Ident>(&name.name).ok().map(|n| (n, *sparse)));
            }
            _ => {}
        }
    }
    has_data.then_some(names)
}

/// The stub of a problem with data: the struct, its `{Name}Data` with one field per data item, `new`, and
/// `MatrixFreeProblem`, none of which can run.
fn data_stub(name: &syn::Ident, items: &[(syn::Ident, bool)]) -> TokenStream {
    let data = format_ident!("{}Data", name);
    let types = items.iter().map(|(_, sparse)| if *sparse { quote!(Sparse) } else { quote!(Array) });
    let items = items.iter().map(|(item, _)| item);
    let slice = quote!(&[f64]);
    let out = quote!(&mut [f64]);
    quote! {
        #[derive(Clone, Debug)]
        pub struct #name;

        #[allow(non_snake_case)]
        #[derive(Clone, Debug)]
        pub struct #data { #(pub #items: ::bilevel::data::#types,)* }

        #[allow(unused_variables)]
        impl #name {
            pub fn new(data: #data) -> ::core::result::Result<Self, ::bilevel::data::DataError> { unreachable!() }
        }

        #[allow(unused_variables)]
        impl ::bilevel::MatrixFreeProblem for #name {
            type X = ::std::vec::Vec<f64>;
            type Y = ::std::vec::Vec<f64>;
            type YY = ::std::vec::Vec<f64>;
            type XY = ::std::vec::Vec<f64>;
            fn name(&self) -> &str { unreachable!() }
            fn dims(&self) -> (usize, usize) { unreachable!() }
            fn start(&self) -> (::bilevel::nalgebra::DVector<f64>, ::bilevel::nalgebra::DVector<f64>) { unreachable!() }
            fn bounds(&self) -> ::core::option::Option<::bilevel::Bounds<::bilevel::nalgebra::Dyn>> { unreachable!() }
            fn upper(&self, x: #slice, y: #slice) -> f64 { unreachable!() }
            fn lower(&self, x: #slice, y: #slice) -> f64 { unreachable!() }
            fn upper_grad(&self, x: #slice, y: #slice, gx: #out, gy: #out) -> f64 { unreachable!() }
            fn lower_grad(&self, x: #slice, y: #slice, gx: #out, gy: #out) -> f64 { unreachable!() }
            fn upper_hvp_y(&self, x: #slice, y: #slice, v: #slice, hx: #out, hy: #out) { unreachable!() }
            fn upper_hvp_x(&self, x: #slice, y: #slice, u: #slice, hx: #out, hy: #out) { unreachable!() }
            fn lower_hvp_y(&self, x: #slice, y: #slice, v: #slice, hx: #out, hy: #out) { unreachable!() }
            fn lower_hvp_x(&self, x: #slice, y: #slice, u: #slice, hx: #out, hy: #out) { unreachable!() }
        }
    }
}
