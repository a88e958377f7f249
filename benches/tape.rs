//! The tape evaluator (`bilevel::tape`, what the command-line tool runs) against the compiled code of the same
//! problem text, in the same run: the fused `lower_hess` and `upper_grad` of P1–P3, and a whole corrected-ITD
//! run on P1 (T = 5, K = 3000), through the tape's `Problem` and into slices (as `bilevel solve` runs it). The tape works on `Dyn` vectors (its results are heap
//! vectors); the compiled code on fixed-size ones. The bench first checks that both give the same numbers.
//!
//! `cargo bench --bench tape`; the ratios are in BENCHMARKS.md.

use bilevel::nalgebra::{DVector, Vector1, Vector2};
use bilevel::tape::{Slices, TapeProblem};
use bilevel::{Algorithm, BgsOpt, MatrixFreeProblem, Problem, XiSolver};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

#[path = "../tests/problems/mod.rs"]
mod problems;
use problems::{counter_example, galet_example, mexican_hat};

// The README's logistic regression (compiled from tests/bl/logistic_regression.bl) and the tests' number generator.
#[path = "../tests/common/mod.rs"]
mod common;

use common::logistic::{LogisticRegression, LogisticRegressionData};
use common::numbers;

/// The README's logistic regression with N = 10⁴ samples of p = 100 features: `lower_hvp_y` compiled (one
/// thread, as the tape runs) and through the loop tape.
fn data_problem(c: &mut Criterion) {
    use bilevel::data::Array;
    use bilevel::tape::DataTapeProblem;

    let (n, p, nv) = (10_000, 100, 100);
    let x = Array::matrix(n, p, numbers(n * p, 1)).unwrap();
    let t = Array::vector(numbers(n, 2).iter().map(|v| v.signum()).collect());
    let xv = Array::matrix(nv, p, numbers(nv * p, 3)).unwrap();
    let tv = Array::vector(numbers(nv, 4).iter().map(|v| v.signum()).collect());
    let data = vec![
        ("X".to_string(), x.clone()),
        ("t".into(), t.clone()),
        ("Xv".into(), xv.clone()),
        ("tv".into(), tv.clone()),
    ];
    let compiled = LogisticRegression::new(LogisticRegressionData { X: x, t, Xv: xv, tv }).unwrap();
    let text =
        std::fs::read_to_string(format!("{}/tests/bl/logistic_regression.bl", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let tape = DataTapeProblem::new(&bilevel_dsl::compile(&text).unwrap(), data).unwrap();
    let (lam, w, v) = (numbers(p, 5), numbers(p, 6), numbers(p, 7));
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let product = |problem: &dyn Fn(&mut [f64], &mut [f64])| {
        let (mut hx, mut hy) = (vec![0.0; p], vec![0.0; p]);
        problem(&mut hx, &mut hy);
        hx.into_iter().chain(hy).collect::<Vec<f64>>()
    };
    let a = one.install(|| product(&|hx, hy| compiled.lower_hvp_y(&lam, &w, &v, hx, hy)));
    let b = product(&|hx, hy| tape.lower_hvp_y(&lam, &w, &v, hx, hy));
    assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() <= 1e-12 * (1.0 + p.abs())), "the same product");
    let mut group = c.benchmark_group("logistic N=1e4 p=100 lower_hvp_y");
    group.sample_size(20);
    let (mut hx, mut hy) = (vec![0.0; p], vec![0.0; p]);
    group.bench_function("compiled, 1 thread", |bch| {
        one.install(|| bch.iter(|| compiled.lower_hvp_y(black_box(&lam), &w, &v, &mut hx, &mut hy)))
    });
    group.bench_function("tape", |bch| bch.iter(|| tape.lower_hvp_y(black_box(&lam), &w, &v, &mut hx, &mut hy)));
    group.finish();
}

fn tape(name: &str) -> TapeProblem {
    let path = format!("{}/examples/problems/{name}.bl", env!("CARGO_MANIFEST_DIR"));
    TapeProblem::from_text(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Compiled against tape for one problem at `(x, y)`.
fn pair<P: Problem>(c: &mut Criterion, label: &str, compiled: &P, tape: &TapeProblem, x: &[f64], y: &[f64])
where
    bilevel::nalgebra::DefaultAllocator: bilevel::Alloc<P::N, P::M>,
{
    let (n, m) = compiled.dims();
    let cx = bilevel::nalgebra::OVector::<f64, P::N>::from_row_slice_generic(n, bilevel::nalgebra::U1, x);
    let cy = bilevel::nalgebra::OVector::<f64, P::M>::from_row_slice_generic(m, bilevel::nalgebra::U1, y);
    let (tx, ty) = (DVector::from_row_slice(x), DVector::from_row_slice(y));
    let (a, b) = (compiled.lower_hess(&cx, &cy), tape.lower_hess(&tx, &ty));
    assert!((a.value - b.value).abs() < 1e-12 && a.yy.iter().zip(b.yy.iter()).all(|(p, q)| (p - q).abs() < 1e-12));
    let mut group = c.benchmark_group(format!("{label} lower_hess"));
    group.bench_function("compiled", |bch| bch.iter(|| compiled.lower_hess(black_box(&cx), black_box(&cy))));
    group.bench_function("tape", |bch| bch.iter(|| tape.lower_hess(black_box(&tx), black_box(&ty))));
    group.finish();
    let mut group = c.benchmark_group(format!("{label} upper_grad"));
    group.bench_function("compiled", |bch| bch.iter(|| compiled.upper_grad(black_box(&cx), black_box(&cy))));
    group.bench_function("tape", |bch| {
        bch.iter(|| <TapeProblem as Problem>::upper_grad(tape, black_box(&tx), black_box(&ty)))
    });
    // The tape's results into slices (`Slices`, the matrix-free trait): no allocation per call.
    let (mut gx, mut gy) = (vec![0.0; x.len()], vec![0.0; y.len()]);
    group.bench_function("tape into slices", |bch| {
        bch.iter(|| Slices(tape).upper_grad(black_box(x), black_box(y), &mut gx, &mut gy))
    });
    group.finish();
    // A Hessian–vector product: compiled, the fused Hessian blocks times the vector (on the stack); the tape, the
    // blocks' entries times the vector into slices.
    let v: Vec<f64> = (0..y.len()).map(|i| 0.5 - i as f64).collect();
    let (mut hx, mut hy) = (vec![0.0; x.len()], vec![0.0; y.len()]);
    let mut group = c.benchmark_group(format!("{label} lower_hvp_y"));
    group.bench_function("compiled", |bch| {
        bch.iter(|| compiled.lower_hvp_y(black_box(x), black_box(y), &v, &mut hx, &mut hy))
    });
    group.bench_function("tape into slices", |bch| {
        bch.iter(|| Slices(tape).lower_hvp_y(black_box(x), black_box(y), &v, &mut hx, &mut hy))
    });
    group.finish();
}

fn tape_vs_compiled(c: &mut Criterion) {
    pair(c, "P1", &counter_example::CounterExample, &tape("counter_example"), &[0.3], &[0.7, -1.2]);
    pair(c, "P2", &mexican_hat::MexicanHat::default(), &tape("mexican_hat"), &[0.3, -0.4], &[0.7, -1.2]);
    pair(c, "P3", &galet_example::GaletExample, &tape("galet_example"), &[0.3], &[0.7, -1.2]);

    let run = BgsOpt {
        lower_step: Some(0.2),
        upper_step: 0.5,
        outer_iters: 3000,
        ..BgsOpt::corrected_itd(5, XiSolver::PINV)
    };
    let p1 = tape("counter_example");
    let (tx, ty) = Problem::start(&p1);
    let (cx, cy) = (Vector1::new(0.0), Vector2::new(0.0, 0.0));
    let (a, b) = (run.solve(&counter_example::CounterExample, &cx, &cy).unwrap(), run.solve(&p1, &tx, &ty).unwrap());
    assert!((a.x()[0] - b.x()[0]).abs() < 1e-12, "the same run");
    let mut group = c.benchmark_group("P1 corrected-itd T=5 K=3000");
    group.sample_size(20);
    group.bench_function("compiled", |bch| {
        bch.iter(|| run.solve(&counter_example::CounterExample, black_box(&cx), &cy))
    });
    group.bench_function("tape, Problem (heap results)", |bch| bch.iter(|| run.solve(&p1, black_box(&tx), &ty)));
    let slices = Slices(&p1);
    group.bench_function("tape into slices (the tool)", |bch| {
        bch.iter(|| run.solve(&slices, black_box(tx.as_slice()), ty.as_slice()))
    });
    group.finish();
}

criterion_group!(benches, tape_vs_compiled, data_problem);
criterion_main!(benches);
