//! Checks of problems with data: each mistake is reported at its position with a message and a hint; one
//! line per case, as `(replace this, with this, expected message start, text at the reported position)`.

use bilevel_dsl::compile;

const BASE: &str = "problem P {
    dim N, p;
    data X: real[N, p];
    data t: real[N];
    upper s: real[N];
    lower w: real[p];
    minimize lower: mean(i in 0..N: s[i]^2 * (dot(X[i], w) - t[i])^2) + norm2(w);
    minimize upper: sum(i in 0..N: (dot(X[i], w) - t[i])^2);
}
";

const CASES: &[(&str, &str, &str, &str)] = &[
    ("data X: real[N, p]", "data X: real[N, q]", "cannot find the size `q`", "q"),
    ("lower w: real[p]", "lower w: real[q]", "cannot find the size `q`", "q"),
    ("dim N, p;", "dim N, p, C;", "`C` is not the size of any `data` item", "C"),
    ("data t: real[N]", "data t: real", "a `data` item cannot be a number", "real"),
    ("data t: real[N]", "data t: sparse real[N]", "a `sparse` data item must be a matrix", "real[N]"),
    ("(dot(X[i], w) - t[i])^2) + norm2", "(dot(X[i], w) - t[0])^2) + norm2", "a constant index into `t`", "0"),
    ("s[i]^2", "w[i]^2", "the index runs over 0..N but `w` has length p", "i"),
    ("+ norm2(w);", "+ norm2(w) + i;", "`i` is the index of a `sum` and exists only inside it", "i"),
    ("+ norm2(w);", "+ norm2(w + s);", "cannot add a vector of length p and a vector of length N", "w + s"),
    ("+ norm2(w);", "+ dot(X, w);", "`dot` needs two vectors", "dot(X, w)"),
    ("+ norm2(w);", "+ norm2(X * s);", "cannot multiply a N×p matrix by a vector of length N", "X * s"),
    ("+ norm2(w);", "+ X[i];", "`i` is the index of a `sum`", "i"),
    ("mean(i in 0..N:", "mean(i in 1..N:", "a sum over a `dim` must start at 0", "1"),
    ("+ norm2(w);", "+ norm2(w) + i * 2;", "`i` is the index of a `sum`", "i"),
    ("s[i]^2 *", "sum(j in 0..i: 1) *", "a sum bound must be a constant integer, found the index", "i"),
    (
        "+ norm2(w);",
        "+ t;",
        "an objective must be a number, found a vector of length N",
        "mean(i in 0..N: s[i]^2 * (dot(X[i], w) - t[i])^2) + t",
    ),
    ("lower w: real[p];", "lower w: real[p];\n    param q = X;", "the value of a `param` must be a constant", "X"),
    ("dim N, p;", "dim N, fn;", "`fn` is a Rust keyword and cannot name a `dim`", "fn"),
    ("data t: real[N]", "data t: real[N, N, N]", "expected", "N"),
    ("data t: real[N];", "data t: real[N] = 1;", "a `data` item gets its values when the problem is built", "= 1"),
    ("upper s: real[N];", "upper X: real[N];", "duplicate name `X`", "X"),
    ("+ norm2(w);", "+ logsumexp(X);", "`logsumexp` needs a vector, found a N×p matrix", "logsumexp(X)"),
    ("+ norm2(w);", "+ sum(log_softmax(5));", "`log_softmax` needs a vector, found", "log_softmax(5)"),
];

#[test]
fn the_base_problem_is_valid() {
    let m = compile(BASE).unwrap();
    assert!(m.has_data());
    assert_eq!(m.dims, vec!["N".to_string(), "p".to_string()]);
    assert_eq!(m.data.len(), 2);
}

#[test]
fn every_mistake_is_reported_at_its_place() {
    for (from, to, message, at) in CASES {
        assert!(BASE.contains(from), "case text `{from}` is in the base problem");
        let text = BASE.replacen(from, to, 1);
        let errors = compile(&text).expect_err(&format!("`{to}` must be rejected"));
        let e = &errors[0];
        assert!(e.message.starts_with(message), "`{to}`: got `{}`, expected `{message}`", e.message);
        assert_eq!(&text[e.span.clone()], *at, "`{to}`: position of `{}`", e.message);
    }
}

#[test]
fn a_problem_without_data_is_not_a_data_problem() {
    let m = compile("problem Q { upper x: real; lower y: real[2]; minimize upper: x^2; minimize lower: norm2(y); }");
    assert!(!m.unwrap().has_data());
}
