//! Compile-fail tests of `bilevel!`: one `tests/ui/<mistake>.rs` per kind of error, whose `.stderr` shows the
//! message at the offending token. Regenerate the expected output with `TRYBUILD=overwrite cargo test --test ui`
//! and review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}

/// `docs/errors.md` shows every kind of mistake: each compile-fail case, with its first message as printed.
#[test]
fn the_catalogue_of_mistakes_shows_every_case() {
    let catalogue = std::fs::read_to_string("docs/errors.md").unwrap();
    let mut cases = 0;
    for entry in std::fs::read_dir("tests/ui").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            cases += 1;
            let name = path.display().to_string();
            assert!(catalogue.contains(&format!("`{name}`")), "{name} is not in docs/errors.md");
            let stderr = std::fs::read_to_string(path.with_extension("stderr")).unwrap();
            let first = stderr.lines().next().unwrap();
            assert!(catalogue.contains(first), "docs/errors.md does not show `{first}` of {name}");
        }
    }
    assert!(cases >= 25, "{cases} kinds of mistakes");
}
