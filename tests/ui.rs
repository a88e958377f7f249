//! Compile-fail tests of `bilevel!`: one `tests/ui/<mistake>.rs` per kind of error, whose `.stderr` shows the
//! message at the offending token. Regenerate the expected output with `TRYBUILD=overwrite cargo test --test ui`
//! and review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
