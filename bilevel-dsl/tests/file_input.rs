//! Errors of `bilevel!(file = "...")` name the file, line and column, outside any proc-macro context.

use bilevel_dsl::expand;
use quote::quote;

#[test]
fn errors_in_a_file_name_the_file_line_and_column() {
    let out = expand(quote!(file = "tests/bl/broken.bl")).to_string();
    assert!(out.contains("compile_error"), "{out}");
    assert!(
        out.contains("index 2 is out of range for `y`, which has length 2\\n --> tests/bl/broken.bl:4:28"),
        "{out}"
    );
    assert!(out.contains("struct Broken"), "a stub keeps the type usable: {out}");
    assert!(out.contains("include_bytes"), "the file is tracked for rebuilds: {out}");
}

#[test]
fn a_missing_file_is_an_error_with_a_hint() {
    let out = expand(quote!(file = "tests/bl/missing.bl")).to_string();
    assert!(out.contains("compile_error") && out.contains("cannot read"), "{out}");
    assert!(out.contains("relative to the crate's Cargo.toml"), "{out}");
}
