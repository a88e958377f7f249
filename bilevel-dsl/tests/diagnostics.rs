//! Diagnostics on plain problem text (the `.bl` path): positions, several errors at once, and no panic on any
//! damaged input.

use bilevel_dsl::compile;

const P1: &str = "/// BDA paper, Example 1
problem CounterExample {
    upper x: real in [-100, 100];
    lower y: real[2];
    let r = y[0] - 1;
    minimize upper: 0.5 * (x - y[1])^2 + 0.5 * r^2;
    minimize lower: 0.5 * y[0]^2 - x * y[0];
    start x = 0, y = [0, 0];
}
";

#[test]
fn the_reference_text_compiles() {
    let m = compile(P1).unwrap();
    assert_eq!(m.docs, vec!["BDA paper, Example 1".to_string()]);
    assert_eq!(m.bounds, Some((vec![-100.0], vec![100.0])));
    assert_eq!(m.start, (vec![0.0], vec![0.0, 0.0]));
}

#[test]
fn errors_render_with_file_line_and_column() {
    let text = P1.replace("y[1])^2", "z[1])^2");
    let errors = compile(&text).unwrap_err();
    assert_eq!(errors.len(), 1);
    let shown = errors[0].render("p1.bl", &text);
    assert!(shown.starts_with("error: cannot find `z` in this problem\n --> p1.bl:6:32\n"), "{shown}");
    assert!(
        shown.contains("6 |     minimize upper: 0.5 * (x - z[1])^2 + 0.5 * r^2;\n  |                                ^"),
        "{shown}"
    );
    assert!(shown.contains("= help: declare it"), "{shown}");
}

#[test]
fn several_errors_are_reported_together_in_source_order() {
    let text = P1.replace("y[1])^2", "y[7])^2").replace("x * y[0]", "x * q").replace("[-100, 100]", "[5, 1]");
    let errors = compile(&text).unwrap_err();
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages[0].starts_with("invalid box"), "{messages:?}");
    assert!(messages[1].starts_with("index 7 is out of range"), "{messages:?}");
    assert!(messages[2].starts_with("cannot find `q`"), "{messages:?}");
}

#[test]
fn a_let_used_before_its_declaration_gets_a_hint() {
    let text = P1.replace("    let r = y[0] - 1;\n", "").replace("    start", "    let r = y[0] - 1;\n    start");
    let errors = compile(&text).unwrap_err();
    assert_eq!(
        errors[0].hint.as_deref(),
        Some("`r` is declared by a `let` further down; move that `let` above this use")
    );
}

/// Every one-character deletion and a few insertions of the reference text: compile must return, never panic.
#[test]
fn damaged_text_never_panics() {
    let chars: Vec<char> = P1.chars().collect();
    for i in 0..chars.len() {
        let deleted: String = chars.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, c)| c).collect();
        let _ = compile(&deleted);
        for insert in ["[", "(", "^", "..", "1e999", "if", "sum(", "99999999999999999999", "ü"] {
            let mut damaged: String = chars[..i].iter().collect();
            damaged.push_str(insert);
            damaged.extend(&chars[i..]);
            let _ = compile(&damaged);
        }
    }
}

fn with_objective(upper: &str) -> String {
    format!("problem P {{ upper x: real; lower y: real; minimize upper: {upper}; minimize lower: (y - x)^2; }}")
}

#[test]
fn not_binds_looser_than_a_comparison() {
    let m = compile(&with_objective("if not y > 0 then x else 2 * x")).unwrap();
    let v = bilevel_dsl::eval::eval(&m.dag, &[m.upper], &[3.0], &[1.0], &[]);
    assert_eq!(v, vec![6.0], "not (y > 0) is false at y = 1");
}

#[test]
fn too_deep_or_too_long_expressions_are_errors_not_crashes() {
    let deep = format!("{}x{}", "(".repeat(300), ")".repeat(300));
    let errors = compile(&with_objective(&deep)).unwrap_err();
    assert!(errors[0].message.contains("nest deeper than 256"), "{:?}", errors[0]);
    let long = vec!["x"; 6000].join(" + ");
    let errors = compile(&with_objective(&long)).unwrap_err();
    assert!(errors[0].message.contains("more than 5000 operators"), "{:?}", errors[0]);
    // Just inside the limits, both compile and generate code.
    for upper in [
        format!("{}x{}", "(".repeat(250), ")".repeat(250)),
        vec!["x^2"; 2000].join(" + "),
        format!("x{}", "^x".repeat(2000)),
    ] {
        let model = compile(&with_objective(&upper)).expect("within the limits");
        assert!(!bilevel_dsl::fixed_size::generate(&model, &quote::quote!(::bilevel)).unwrap().is_empty());
    }
}

#[test]
fn rust_keywords_cannot_name_generated_items() {
    let text = "problem match { upper x: real; lower y: real; param type = 1; minimize upper: type * x^2; minimize lower: (y - x)^2; }";
    let errors = compile(text).unwrap_err();
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        ["`match` is a Rust keyword and cannot name a problem", "`type` is a Rust keyword and cannot name a `param`"]
    );
}

#[test]
fn literals_an_f64_cannot_hold_are_errors_at_the_literal_and_a_bom_is_skipped() {
    let text = |objective: &str, size: &str| {
        format!("problem P {{ upper x: real; lower y: real[{size}]; minimize upper: {objective}; minimize lower: y[0]^2; }}")
    };
    let first = |source: String| bilevel_dsl::compile(&source).unwrap_err().remove(0);
    let e = first(text("x^2 + 1e999 * y[0]", "2"));
    assert_eq!(e.message, "the number `1e999` is too large for a 64-bit float");
    assert_eq!(&text("x^2 + 1e999 * y[0]", "2")[e.span.clone()], "1e999");
    let e = first(text("x * 1e-400 + y[0]", "2"));
    assert_eq!(e.message, "the number `1e-400` is too small for a 64-bit float: it would be 0");
    let digits = "9".repeat(100_000);
    let e = first(text(&format!("x * {digits} + y[0]"), "2"));
    assert!(
        e.message.starts_with("the number `9999999999999999…99999999 (100000 characters)` is too large"),
        "{}",
        e.message
    );
    let e = first(text("x + y[0]", "99999999999999999999999999"));
    assert_eq!(e.message, "the size `99999999999999999999999999` is too large");
    // Exact zeros, ordinary long literals and a byte-order mark are fine.
    assert!(bilevel_dsl::compile(&text("x * 0.0e-999 + 3.14159265358979323846 * y[0]", "2")).is_ok());
    let with_bom = format!("\u{feff}{}", text("x + z", "2"));
    let e = first(with_bom.clone());
    assert_eq!(&with_bom[e.span.clone()], "z", "positions count the mark's bytes");
}

#[test]
fn names_the_generated_code_cannot_use_are_errors_at_the_name() {
    let problem = |name: &str, param: &str| {
        format!("problem {name} {{ upper x: real; lower y: real; param {param} = 1; minimize upper: x; minimize lower: y^2; }}")
    };
    for name in ["y", "x", "t0", "f64", "hess"] {
        let source = problem(name, "c");
        let errors = bilevel_dsl::compile(&source).unwrap_err();
        assert_eq!(errors[0].message, format!("the problem name `{name}` does not start with a capital letter"));
        assert_eq!(&source[errors[0].span.clone()], name);
        assert!(errors[0].hint.as_deref().unwrap().contains("e.g. `"), "{:?}", errors[0].hint);
    }
    let errors = bilevel_dsl::compile(&problem("_", "c")).unwrap_err();
    assert_eq!(errors[0].message, "`_` cannot name a problem");
    let errors = bilevel_dsl::compile(&problem("P", "_")).unwrap_err();
    assert_eq!(errors[0].message, "`_` cannot name a `param`");
    assert!(bilevel_dsl::compile(&problem("P", "c")).is_ok());
}

#[test]
fn limits_count_word_operators_and_ignore_comments() {
    let problem = |lower: &str| {
        format!("problem P {{\n    upper x: real;\n    lower y: real;\n    minimize upper: x;\n    minimize lower: {lower};\n}}")
    };
    // Brackets and rulers in comments are not expressions.
    let commented = format!("// {}\n// {}\n{}", "(".repeat(300), "=".repeat(6000), problem("y^2"));
    assert!(bilevel_dsl::compile(&commented).is_ok());
    // A long chain of `not` is refused with the limit (it used to overflow the stack of the checker).
    let source = problem(&format!("if {}x > 0 then y^2 else y^4", "not ".repeat(400_000)));
    let errors = bilevel_dsl::compile(&source).unwrap_err();
    assert_eq!(errors[0].message, "this statement has more than 5000 operators");
    assert!(source[errors[0].span.clone()].starts_with("minimize lower: if not"), "the statement, from its first word");
}

#[test]
fn a_likely_typo_gets_a_did_you_mean() {
    let problem = |upper: &str| {
        format!("problem P {{ upper x: real; lower y: real; param bias = 1; minimize upper: {upper}; minimize lower: y^2; }}")
    };
    let hint = |upper: &str| bilevel_dsl::compile(&problem(upper)).unwrap_err().remove(0).hint.unwrap_or_default();
    assert_eq!(hint("x + bais"), "did you mean `bias`?");
    assert_eq!(hint("x + yy"), "did you mean `y`?");
    assert!(hint("sofplus(x)").starts_with("did you mean `softplus`? The functions are"), "{}", hint("sofplus(x)"));
    assert!(hint("x + zeta").starts_with("declare it with"), "nothing close: no guess");
}

#[test]
fn keywords_end_at_a_word_boundary() {
    let problem = |body: &str| format!("problem P {{ upper x: real; lower y: real; {body} }}");
    let objectives = "minimize upper: x^2; minimize lower: (y - x)^2;";
    assert!(compile(&problem(&format!("let z = x; {objectives}"))).is_ok());
    let errors = compile(&problem(&format!("letz = x; {objectives}"))).unwrap_err();
    assert_eq!(errors[0].hint.as_deref(), Some("a keyword is a word of its own: did you mean `let z`?"));
    for glued in ["ifx > 0 then y^2 else y^4", "if x > 0 theny^2 else y^4", "if x > 0 then y^2 elsey", "x orz"] {
        let text = problem(&format!("minimize upper: x; minimize lower: {glued};"));
        assert!(compile(&text).is_err(), "`{glued}` was accepted");
    }
    // Names that merely start with a keyword are names.
    assert!(
        compile(&problem("let iffy = x; let lettuce = iffy; minimize upper: lettuce; minimize lower: y^2;")).is_ok()
    );
}

#[test]
fn a_missing_semicolon_is_reported_after_the_previous_token() {
    let text = "problem P {\n    upper x: real // the upper variable\n    /// doc\n    lower y: real;\n    \
                minimize upper: x^2;\n    minimize lower: (y - x)^2\n}\n";
    let errors = compile(text).unwrap_err();
    assert_eq!(errors[0].message, "expected `;`, found `///`");
    assert_eq!(&text[errors[0].span.clone()], "l", "the last letter of `real` on line 2");
    assert_eq!(errors[0].span.end, text.find("real").unwrap() + 4);
    let fixed = text.replacen("real //", "real; //", 1);
    let errors = compile(&fixed).unwrap_err();
    assert_eq!(errors[0].message, "expected `;`, found `}`");
    assert_eq!(errors[0].span.end, fixed.find("^2\n}").unwrap() + 2);
    assert!(compile(&fixed.replace("^2\n}", "^2;\n}")).is_ok());
}

#[test]
fn expansion_work_is_bounded_and_reported_at_the_outer_sum() {
    let problem = |lower: &str| {
        format!("problem P {{ upper x: real; lower y: real[1000]; minimize upper: x^2; minimize lower: {lower}; }}")
    };
    // 10¹⁰ terms, each a node found again: the work is counted, not only the new nodes.
    let text = problem("sum(i in 0..100000: sum(j in 0..100000: (y[0] - x)^2))");
    let errors = compile(&text).unwrap_err();
    assert_eq!(errors.len(), 1, "reported once: {errors:?}");
    assert_eq!(errors[0].message, "expanding this to scalars takes more than 4000000 operations");
    assert!(text[errors[0].span.clone()].starts_with("sum(i in 0..100000: sum(j"), "at the outer sum");
    // What stays under the budget compiles.
    assert!(compile(&problem("norm2(sum(i in 0..100: y * x))")).is_ok());
}

#[test]
fn derivatives_too_large_to_write_out_are_an_error_at_their_objective() {
    // A dense Hessian of real[k] has k(k+1)/2 entries: real[100] takes over 5 000 nodes, past a lowered limit.
    let text = "problem D { upper x: real; lower y: real[100]; minimize upper: x^2 + norm2(y); \
                minimize lower: norm2(y)^2 + x * sum(y); }";
    let mut model = compile(text).unwrap();
    model.dag.limit_nodes(5_000);
    let Err(error) = bilevel_dsl::generate(&model, &quote::quote!(::bilevel)) else { panic!("generated") };
    assert_eq!(error.message, "the derivatives of this objective take more than 5000 expression nodes");
    assert_eq!(&text[error.span.clone()], "lower", "at `minimize lower`, whose Hessian is dense");
    model.dag.limit_nodes(100_000);
    assert!(bilevel_dsl::generate(&model, &quote::quote!(::bilevel)).is_ok());
}

/// Hostile texts answered at once: a literal of a million entries is refused before it is parsed, and 20 000
/// nested `if`s over a chain of `let`s are refused while their code is written (it was quadratic in the `let`s:
/// 2 000 of them wrote 54 MB before the size check) — each with a positioned error and a hint.
#[test]
fn huge_literals_and_deep_if_chains_are_refused_by_budgets_that_count_work() {
    let entries = vec!["1"; 1_000_000].join(", ");
    let text = format!("problem L {{ upper x: real; lower y: real; const c = [{entries}]; minimize upper: x; minimize lower: (y - x)^2; }}");
    let errors = compile(&text).unwrap_err();
    assert!(errors[0].message.contains("more than 100000 commas"), "{:?}", errors[0]);
    assert!(errors[0].hint.as_deref().unwrap_or("").contains("`data`"));
    let mut lets = vec!["    let t0 = x;".to_string()];
    lets.extend((1..2000).map(|i| format!("    let t{i} = if t{} > 0 then t{} else -t{};", i - 1, i - 1, i - 1)));
    let text = format!(
        "problem Q {{\n    upper x: real;\n    lower y: real;\n{}\n    minimize upper: t1999;\n    minimize lower: (y - x)^2;\n}}",
        lets.join("\n")
    );
    let model = compile(&text).expect("a valid problem");
    let Err(error) = bilevel_dsl::generate(&model, &quote::quote!(::bilevel)) else { panic!("generated") };
    assert!(error.message.starts_with("the code generated for this problem would be more than"), "{error:?}");
    assert_eq!(&text[error.span.clone()], "Q", "at the problem's name");
    // A chain of 100 compiles (at 200 the code itself, 4.8 MB, passes the size limit).
    let short = text.replace("t1999;", "t99;");
    let model = compile(&short).unwrap();
    assert!(bilevel_dsl::generate(&model, &quote::quote!(::bilevel)).is_ok());
}

/// Findings of the fuzz target (`fuzz/`), each once a panic.
#[test]
fn fuzz_findings_are_diagnostics() {
    // A syntax error whose previous token is a multi-byte character at the very start.
    for text in ["±niize//datamize//data", "é problem", "problem P { upper x: real\u{b1}"] {
        let errors = compile(text).unwrap_err();
        assert!(errors.iter().all(|d| text.is_char_boundary(d.span.start) && text.is_char_boundary(d.span.end)));
        assert!(!errors[0].message.contains("internal error"), "{text}: {}", errors[0].message);
    }
}

#[test]
fn bidirectional_control_characters_are_errors_even_in_comments() {
    let problem = |comment: &str| {
        format!("problem P {{\n    upper x: real; // {comment}\n    lower y: real;\n    minimize upper: x;\n    minimize lower: y^2;\n}}")
    };
    assert!(bilevel_dsl::compile(&problem("plain")).is_ok());
    let source = problem("access \u{202E} \u{2066}level\u{2069} check");
    let errors = bilevel_dsl::compile(&source).unwrap_err();
    assert_eq!(errors.len(), 1);
    let e = &errors[0];
    assert!(
        e.message.contains("U+202E (RIGHT-TO-LEFT OVERRIDE)") && e.message.contains("(and 2 more)"),
        "{}",
        e.message
    );
    assert_eq!(&source[e.span.clone()], "\u{202E}");
    assert!(e.hint.as_deref().unwrap().contains("Trojan source"));
}
