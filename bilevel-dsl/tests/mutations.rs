//! Damaged problem texts never crash the front end: the reference problems, mutated (a span deleted, a token of
//! the language inserted, a span repeated, a character replaced, several times over), go through parse → check →
//! differentiate → generate and come out as code or as diagnostics inside the text. A bounded property test that
//! runs with `cargo test`; `fuzz/` holds the open-ended fuzz target.

use proptest::prelude::*;

const PROBLEMS: [&str; 8] = [
    include_str!("../../examples/problems/counter_example.bl"),
    include_str!("../../examples/problems/mexican_hat.bl"),
    include_str!("../../examples/problems/galet_example.bl"),
    include_str!("../../examples/problems/huber_bilevel.bl"),
    include_str!("../../examples/problems/arbel_quadratic.bl"),
    include_str!("../../examples/problems/hyper_cleaning.bl"),
    include_str!("../../examples/problems/ridge_diabetes.bl"),
    include_str!("../../tests/bl/logistic_regression.bl"),
];

/// Pieces of the language (and of mistakes) to insert.
const TOKENS: [&str; 24] = [
    "problem ",
    "upper ",
    "lower ",
    "let ",
    "param ",
    "dim ",
    "data ",
    "minimize ",
    "start ",
    "real[3]",
    " in ",
    "if ",
    " then ",
    " else ",
    "sum(i in 0..3: ",
    "(",
    ")",
    "[",
    "]",
    ";",
    "^",
    "1e308",
    "not ",
    "//",
];

/// One edit of a text held as characters, so that every cut falls between characters.
#[derive(Clone, Debug)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, usize),
    Repeat(usize, usize),
    Replace(usize, char),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1..40usize).prop_map(|(at, len)| Edit::Delete(at, len)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, t)| Edit::Insert(at, t)),
        (any::<usize>(), 1..60usize).prop_map(|(at, len)| Edit::Repeat(at, len)),
        (any::<usize>(), prop::sample::select(vec!['(', ')', ';', ',', '.', '0', 'x', ' ', '\n', 'é', '\u{feff}']))
            .prop_map(|(at, c)| Edit::Replace(at, c)),
    ]
}

fn apply(text: &mut Vec<char>, e: &Edit) {
    let n = text.len().max(1);
    match *e {
        Edit::Delete(at, len) => {
            let at = at % n;
            let end = (at + len).min(text.len());
            text.drain(at.min(end)..end);
        }
        Edit::Insert(at, t) => {
            let at = at % (text.len() + 1);
            text.splice(at..at, TOKENS[t].chars());
        }
        Edit::Repeat(at, len) => {
            let at = at % n;
            let end = (at + len).min(text.len());
            let piece: Vec<char> = text[at.min(end)..end].to_vec();
            text.splice(end..end, piece);
        }
        Edit::Replace(at, c) => {
            if !text.is_empty() {
                let at = at % text.len();
                text[at] = c;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_damaged_reference_problem_gives_code_or_diagnostics_inside_the_text(
        which in 0..PROBLEMS.len(),
        edits in prop::collection::vec(edit(), 1..5),
    ) {
        let mut chars: Vec<char> = PROBLEMS[which].chars().collect();
        for e in &edits {
            apply(&mut chars, e);
        }
        let text: String = chars.into_iter().collect();
        match bilevel_dsl::compile(&text) {
            Ok(model) => {
                if let Err(d) = bilevel_dsl::generate(&model, &"::bilevel".parse().unwrap()) {
                    prop_assert!(d.span.end <= text.len(), "{:?}", d);
                }
            }
            Err(diagnostics) => {
                prop_assert!(!diagnostics.is_empty());
                for d in &diagnostics {
                    prop_assert!(d.span.start <= d.span.end && d.span.end <= text.len(), "{:?} in\n{}", d, text);
                    prop_assert!(text.is_char_boundary(d.span.start) && text.is_char_boundary(d.span.end), "{:?}", d);
                    prop_assert!(!d.message.contains("internal error"), "{} in\n{}", d.message, text);
                    prop_assert!(!d.message.is_empty());
                }
            }
        }
    }
}
