//! The option tables of docs/algorithms.md are the option table's own listing (`bilevel::options::markdown`):
//! each block between `<!-- options: algo … -->` and `<!-- end options -->` must be what it prints for those
//! algorithms. `BILEVEL_UPDATE_DOCS=1 cargo test --test docs` rewrites the blocks after a change of the table.

use bilevel::options::{markdown, ALGORITHMS};

const DOC: &str = "docs/algorithms.md";
const OPEN: &str = "<!-- options: ";
const CLOSE: &str = "<!-- end options -->";

/// The text with every option block regenerated, and the algorithms of each block.
fn regenerated(text: &str) -> (String, Vec<Vec<String>>) {
    let (mut out, mut rest, mut blocks) = (String::new(), text, Vec::new());
    while let Some(start) = rest.find(OPEN) {
        let line_end = start + rest[start..].find('\n').expect("the marker ends its line");
        let algos: Vec<String> =
            rest[start + OPEN.len()..line_end].trim_end_matches("-->").split_whitespace().map(String::from).collect();
        let end = rest[line_end..].find(CLOSE).map(|e| line_end + e).expect("every block is closed");
        let names: Vec<&str> = algos.iter().map(String::as_str).collect();
        let table = markdown(&names).unwrap_or_else(|e| panic!("{DOC}: {e}"));
        out += &rest[..=line_end];
        out += &table;
        out += CLOSE;
        rest = &rest[end + CLOSE.len()..];
        blocks.push(algos);
    }
    out += rest;
    (out, blocks)
}

#[test]
fn the_docs_option_tables_are_the_option_tables() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(DOC);
    let text = std::fs::read_to_string(&path).expect("docs/algorithms.md is in the repository");
    let (expected, blocks) = regenerated(&text);
    if std::env::var_os("BILEVEL_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &expected).expect("docs/algorithms.md is writable");
    }
    assert!(
        text == expected,
        "{DOC}: an option table differs from `bilevel::options::markdown`; run \
         `BILEVEL_UPDATE_DOCS=1 cargo test --all-features --test docs` and commit the change"
    );
    // Every algorithm's options are listed somewhere.
    for algo in ALGORITHMS {
        assert!(blocks.iter().any(|b| b.iter().any(|a| a == algo)), "{DOC} lists no options of {algo}");
    }
}
