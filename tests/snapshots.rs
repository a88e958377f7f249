//! Snapshot tests of the code `bilevel!` generates for the reference problems P1–P4. The problem text is taken
//! from the `bilevel!` invocation in each example, so the snapshot is of exactly what the example compiles.
//! The code is formatted with prettyplease so that a change shows as a readable diff (`cargo insta review`).

use proc_macro2::TokenStream;

fn macro_input(example: &str) -> TokenStream {
    let path = format!("{}/examples/{example}.rs", env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(&path).expect("the example exists");
    let file = syn::parse_file(&source).expect("the example parses");
    file.items
        .into_iter()
        .find_map(|item| match item {
            syn::Item::Macro(m) if m.mac.path.is_ident("bilevel") => Some(m.mac.tokens),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{path} has a `bilevel! {{ ... }}` item"))
}

fn generated(example: &str) -> String {
    let tokens = bilevel_dsl::expand(macro_input(example));
    let file = syn::parse2(tokens).expect("the generated code is valid Rust");
    prettyplease::unparse(&file)
}

#[test]
fn counter_example() {
    insta::assert_snapshot!(generated("counter_example"));
}

#[test]
fn mexican_hat() {
    insta::assert_snapshot!(generated("mexican_hat"));
}

#[test]
fn galet_example() {
    insta::assert_snapshot!(generated("galet_example"));
}

#[test]
fn huber_bilevel() {
    insta::assert_snapshot!(generated("huber_bilevel"));
}

/// The generated code of a problem with data in `tests/bl/`, formatted.
fn products_of(name: &str) -> String {
    let path = format!("{}/tests/bl/{name}.bl", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).expect("the problem file exists");
    let model = bilevel_dsl::compile(&text).expect("the problem is valid");
    let krate: TokenStream = "::bilevel".parse().expect("a path");
    let file =
        syn::parse2(bilevel_dsl::data_loops::generate(&model, &krate)).expect("the generated code is valid Rust");
    prettyplease::unparse(&file)
}

/// A problem with data: loops over samples and derivative products, the same code for any data size.
#[test]
fn logistic_regression_with_data() {
    insta::assert_snapshot!(products_of("logistic_regression"));
}

/// A matrix variable, `X[i] * W`, `log_softmax` (shifted by a maximum held constant in derivatives) and one-hot
/// labels: each product is one pass over the samples with loops over features and classes inside.
#[test]
fn hyper_cleaning_with_data() {
    insta::assert_snapshot!(products_of("hyper_cleaning"));
}

/// The deepest nesting of `for` loops in `tokens`.
fn loop_depth(tokens: TokenStream) -> usize {
    let mut deepest = 0;
    let mut after_for = false;
    for tree in tokens {
        match tree {
            proc_macro2::TokenTree::Ident(i) if i == "for" => after_for = true,
            proc_macro2::TokenTree::Group(g) if g.delimiter() == proc_macro2::Delimiter::Brace => {
                deepest = deepest.max(loop_depth(g.stream()) + usize::from(after_for));
                after_for = false;
            }
            proc_macro2::TokenTree::Group(g) => deepest = deepest.max(loop_depth(g.stream())),
            _ => {}
        }
    }
    deepest
}

/// How the cost of each generated method grows with the data: loops nest only as deep as the indices of the
/// problem (samples, features, classes), so every method of logistic regression is O(N·p) and every method of
/// softmax hyper-cleaning O(N·p·C), never a loop over features inside a loop over features.
#[test]
fn loops_nest_no_deeper_than_the_problem_indices() {
    for (name, depth) in [("logistic_regression", 2), ("hyper_cleaning", 3)] {
        let text = std::fs::read_to_string(format!("{}/tests/bl/{name}.bl", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let model = bilevel_dsl::compile(&text).expect("the problem is valid");
        let krate: TokenStream = "::bilevel".parse().expect("a path");
        let file: syn::File = syn::parse2(bilevel_dsl::data_loops::generate(&model, &krate)).expect("valid Rust");
        let methods = file.items.iter().filter_map(|item| match item {
            syn::Item::Impl(i) if i.trait_.is_some() => Some(&i.items),
            _ => None,
        });
        for item in methods.flatten() {
            if let syn::ImplItem::Fn(f) = item {
                let found = loop_depth(quote::ToTokens::to_token_stream(&f.block));
                assert!(found <= depth, "{name}::{}: loops nest {found} deep, at most {depth} expected", f.sig.ident);
            }
        }
    }
}
