//! Macro expansion (parse, check, differentiate, generate: `bilevel_dsl::expand`, what `bilevel!` runs) of two
//! families of problems, with the size of the code each generates:
//!
//! - separable: `G = Σ_i (y_i − x_i)² + 0.1 y_i⁴` (diagonal H and B: code linear in m);
//! - dense: `G = ½‖y − x‖² + log(1 + ‖y‖²)` (every entry of H is its own expression: code quadratic in m).
//!
//! Expansion time should follow the size of the generated code. The baseline of each family is its smallest
//! member: the bench prints, for each m, the generated size and (with the criterion times) gives the time per
//! generated kilobyte. In this process the dsl crate is optimized, as `[profile.dev.build-override] opt-level = 3`
//! makes the proc macro.
//!
//! `cargo bench --bench expansion`; the table is in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion};
use proc_macro2::TokenStream;
use std::hint::black_box;

/// The problem text of `family` at size `m`.
fn problem(family: &str, m: usize) -> String {
    let lower = match family {
        "separable" => format!("sum(i in 0..{m}: (y[i] - x[i])^2 + 0.1 * y[i]^4)"),
        _ => "0.5 * norm2(y - x) + log(1 + norm2(y))".to_string(),
    };
    format!(
        "problem S {{ upper x: real[{m}]; lower y: real[{m}]; minimize upper: norm2(y) + 0.1 * norm2(x); \
         minimize lower: {lower}; }}"
    )
}

fn expansion(c: &mut Criterion) {
    for family in ["separable", "dense"] {
        let mut group = c.benchmark_group(format!("expand {family}"));
        group.sample_size(10);
        for m in [8, 32, 128, 256] {
            let input: TokenStream = problem(family, m).parse().expect("the problem text is valid tokens");
            let code = bilevel_dsl::expand(input.clone()).to_string();
            assert!(!code.contains("compile_error"), "{family} m = {m} expands without errors");
            eprintln!("{family} m = {m}: {} KB of generated code", code.len() / 1000);
            group.bench_function(format!("m={m}"), |b| b.iter(|| bilevel_dsl::expand(black_box(input.clone()))));
        }
        group.finish();
    }
}

criterion_group!(benches, expansion);
criterion_main!(benches);
