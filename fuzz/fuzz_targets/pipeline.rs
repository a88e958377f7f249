//! Any text through the whole front end: parse → check → differentiate → generate Rust, and through the tapes the
//! `bilevel` tool runs (every method evaluated at the start; a problem with data gets 3 samples of every `dim`).
//! Every input must give code or diagnostics and finite-or-not numbers; a panic, a stack overflow, a hang
//! (libFuzzer's `-timeout`) or running out of memory (`-rss_limit_mb`) is a finding. Run from the repository root:
//!
//! ```text
//! cargo +nightly fuzz run pipeline fuzz/corpus/pipeline fuzz/seeds -- -timeout=20 -rss_limit_mb=4096 -dict=fuzz/pipeline.dict
//! ```
#![no_main]

use bilevel::data::Array;
use bilevel::tape::{DataTapeProblem, Slices, TapeProblem};
use bilevel::{MatrixFreeProblem, Problem};
use bilevel_dsl::dag::Extent;
use bilevel_dsl::Model;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match bilevel_dsl::compile(text) {
        Ok(model) => {
            let krate: proc_macro2::TokenStream = "::bilevel".parse().expect("a path");
            // Generated code or a diagnostic at a position inside the text; never a panic.
            if let Err(d) = bilevel_dsl::generate(&model, &krate) {
                assert!(d.span.end <= text.len(), "a diagnostic outside the text: {d:?}");
            }
            run_tapes(&model);
        }
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty(), "an error without a diagnostic");
            for d in &diagnostics {
                assert!(d.span.start <= d.span.end && d.span.end <= text.len(), "a span outside the text: {d:?}");
                assert!(!d.message.contains("internal error"), "{}", d.message);
            }
        }
    }
});

/// Every method of the problem's tape at its start (and, for a problem without data, through `Slices`).
fn run_tapes(model: &Model) {
    if model.has_data() {
        let size = |e: &Extent| match e {
            Extent::Fixed(k) => *k,
            Extent::Dim(_) => 3,
        };
        let items = model.data.iter().map(|d| {
            let (rows, cols) = (size(&d.shape[0]), d.shape.get(1).map(size));
            let array = match cols {
                None => Array::vector((0..rows).map(|i| 0.5 - i as f64).collect()),
                Some(c) => Array::matrix(rows, c, (0..rows * c).map(|i| (i % 3) as f64 - 0.7).collect())
                    .expect("rows × cols values"),
            };
            (d.name.clone(), array)
        });
        if let Ok(p) = DataTapeProblem::new(model, items.collect()) {
            every_method(&p);
        }
    } else if let Ok(p) = TapeProblem::from_model(model) {
        let (x, y) = Problem::start(&p);
        let _ = (p.upper_hess(&x, &y), p.lower_hess(&x, &y), p.upper_hess_xx(&x, &y), p.lower_hess_xx(&x, &y));
        every_method(&Slices(&p));
    }
}

fn every_method(p: &impl MatrixFreeProblem) {
    let (n, m) = p.dims();
    let (x, y) = p.start();
    let (x, y) = (x.as_slice(), y.as_slice());
    let (mut a, mut b) = (vec![0.0; n], vec![0.0; m]);
    let (u, v) = (vec![0.5; n], vec![-0.5; m]);
    let _ = (p.upper(x, y), p.lower(x, y));
    p.upper_grad(x, y, &mut a, &mut b);
    p.lower_grad(x, y, &mut a, &mut b);
    p.upper_hvp_y(x, y, &v, &mut a, &mut b);
    p.upper_hvp_x(x, y, &u, &mut a, &mut b);
    p.lower_hvp_y(x, y, &v, &mut a, &mut b);
    p.lower_hvp_x(x, y, &u, &mut a, &mut b);
}
