//! The tape evaluator against the compiled code: every reference problem's `.bl` file (`examples/problems/`),
//! run through [`TapeProblem`], gives what the `bilevel!` example compiles, in every method of `Problem`, at
//! points around the start (1e-12, relative).

use bilevel::nalgebra::{DVector, DefaultAllocator, Dim, OMatrix, OVector};
use bilevel::tape::{Slices, TapeError, TapeProblem};
use bilevel::{Alloc, Problem};

mod problems;
use problems::{counter_example, galet_example, huber_bilevel, mexican_hat};

fn tape(name: &str) -> TapeProblem {
    let path = format!("{}/examples/problems/{name}.bl", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    TapeProblem::from_text(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Numbers uniform in [−2, 2) from `seed` (the runtime's generator: the same points on every machine).
fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut lcg = bilevel::data::Lcg::new(seed);
    move || lcg.unit() * 4.0 - 2.0
}

/// The largest relative difference between two lists of numbers.
fn gap(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(p, q)| (p - q).abs() / (1.0 + p.abs().max(q.abs()))).fold(0.0, f64::max)
}

fn flat<R: Dim, C: Dim>(m: &OMatrix<f64, R, C>) -> Vec<f64>
where
    DefaultAllocator: bilevel::nalgebra::allocator::Allocator<R, C>,
{
    m.iter().copied().collect()
}

/// Every method of the compiled problem and the tape at `(x, y)` agree.
fn agree<P: Problem>(compiled: &P, tape: &TapeProblem, x: &[f64], y: &[f64]) -> f64
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    let (n, m) = compiled.dims();
    let (cx, cy) = (
        OVector::<f64, P::N>::from_row_slice_generic(n, bilevel::nalgebra::U1, x),
        OVector::<f64, P::M>::from_row_slice_generic(m, bilevel::nalgebra::U1, y),
    );
    let (tx, ty) = (DVector::from_row_slice(x), DVector::from_row_slice(y));
    let mut worst = 0.0f64;
    worst = worst.max(gap(&[compiled.upper(&cx, &cy)], &[tape.upper(&tx, &ty)]));
    worst = worst.max(gap(&[compiled.lower(&cx, &cy)], &[tape.lower(&tx, &ty)]));
    for (c, t) in [
        (compiled.upper_grad(&cx, &cy), tape.upper_grad(&tx, &ty)),
        (compiled.lower_grad(&cx, &cy), tape.lower_grad(&tx, &ty)),
    ] {
        worst = worst
            .max(gap(&[c.value], &[t.value]))
            .max(gap(&flat(&c.x), &flat(&t.x)))
            .max(gap(&flat(&c.y), &flat(&t.y)));
    }
    for (c, t) in [
        (compiled.upper_hess(&cx, &cy), tape.upper_hess(&tx, &ty)),
        (compiled.lower_hess(&cx, &cy), tape.lower_hess(&tx, &ty)),
    ] {
        worst = worst
            .max(gap(&[c.value], &[t.value]))
            .max(gap(&flat(&c.grad_x), &flat(&t.grad_x)))
            .max(gap(&flat(&c.grad_y), &flat(&t.grad_y)))
            .max(gap(&flat(&c.yy), &flat(&t.yy)))
            .max(gap(&flat(&c.xy), &flat(&t.xy)));
    }
    worst = worst.max(gap(&flat(&compiled.upper_hess_xx(&cx, &cy)), &flat(&tape.upper_hess_xx(&tx, &ty))));
    worst.max(gap(&flat(&compiled.lower_hess_xx(&cx, &cy)), &flat(&tape.lower_hess_xx(&tx, &ty))))
}

/// The start, the box and the name of the tape are the compiled ones; then every method at 20 points.
fn same_problem<P: Problem>(compiled: &P, name: &str)
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    let tape = tape(name);
    assert_eq!(tape.name(), compiled.name());
    let ((cx, cy), (tx, ty)) = (compiled.start(), tape.start());
    assert_eq!((cx.as_slice(), cy.as_slice()), (tx.as_slice(), ty.as_slice()), "{name}: start");
    let bounds = |b: Option<(Vec<f64>, Vec<f64>)>| b;
    assert_eq!(
        bounds(compiled.bounds().map(|b| (b.lo.as_slice().to_vec(), b.hi.as_slice().to_vec()))),
        bounds(tape.bounds().map(|b| (b.lo.as_slice().to_vec(), b.hi.as_slice().to_vec()))),
        "{name}: box"
    );
    let mut next = uniform(17);
    for _ in 0..20 {
        let x: Vec<f64> = cx.iter().map(|v| v + next()).collect();
        let y: Vec<f64> = cy.iter().map(|v| v + next()).collect();
        let worst = agree(compiled, &tape, &x, &y);
        assert!(worst <= 1e-12, "{name} at x = {x:?}, y = {y:?}: tape and compiled differ by {worst:e}");
    }
}

#[test]
fn the_tape_computes_what_the_compiled_code_computes_on_every_reference_problem() {
    same_problem(&counter_example::CounterExample, "counter_example");
    same_problem(&mexican_hat::MexicanHat::default(), "mexican_hat");
    same_problem(&galet_example::GaletExample, "galet_example");
    same_problem(&huber_bilevel::HuberBilevel::default(), "huber_bilevel");
}

/// The tape behind the matrix-free trait ([`Slices`]: results into slices, no allocation) gives what the
/// compiled problem gives (its products from its blocks), in every method, at 20 points with random directions.
fn same_products<P: Problem>(compiled: &P, name: &str)
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    let tape = tape(name);
    let (x0, y0) = tape.start();
    let mut next = uniform(29);
    let mut shifted = |v: &DVector<f64>| v.iter().map(|a| a + next()).collect::<Vec<f64>>();
    for _ in 0..20 {
        let (x, y, u, v) = (shifted(&x0), shifted(&y0), shifted(&x0), shifted(&y0));
        let worst = matrix_free_gap(compiled, &Slices(&tape), (&x, &y), (&u, &v), true);
        assert!(worst <= 1e-12, "{name} at x = {x:?}, y = {y:?}: slices and compiled differ by {worst:e}");
    }
}

#[test]
fn the_tape_behind_slices_computes_the_compiled_products() {
    same_products(&counter_example::CounterExample, "counter_example");
    same_products(&mexican_hat::MexicanHat::default(), "mexican_hat");
    same_products(&galet_example::GaletExample, "galet_example");
}

bilevel::bilevel!(file = "tests/bl/separable_large.bl");

/// A problem above `MAX_STACK_VARIABLES` is generated with `Dyn` sizes: it computes what its tape computes, and
/// the dense algorithms run it on a test thread (2 MB of stack) that its fixed-size blocks used to overflow.
#[test]
fn a_large_fixed_problem_has_heap_sizes_and_runs_on_a_small_stack() {
    let compiled = SeparableLarge;
    let (x0, y0): (DVector<f64>, DVector<f64>) = compiled.start();
    let text = std::fs::read_to_string(format!("{}/tests/bl/separable_large.bl", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let tape = TapeProblem::from_text(&text).unwrap();
    let mut next = uniform(41);
    for _ in 0..3 {
        let x: Vec<f64> = x0.iter().map(|v| v + next()).collect();
        let y: Vec<f64> = y0.iter().map(|v| v + next()).collect();
        let worst = agree(&compiled, &tape, &x, &y);
        assert!(worst <= 1e-12, "compiled and tape differ by {worst:e}");
    }
    use bilevel::{Algorithm, Bda, BgsOpt, Galet, Method, XiSolver};
    let methods: [Method; 3] = [
        BgsOpt { outer_iters: 3, lower_step: Some(0.1), ..BgsOpt::corrected_itd(2, XiSolver::PINV) }.into(),
        Bda { outer_iters: 3, inner_iters: 2, lower_inner_step: Some(0.1), ..Bda::default() }.into(),
        Galet { outer_iters: 3, lower_step: Some(0.1), ..Galet::default() }.into(),
    ];
    for m in methods {
        let run = m.solve(&compiled, &x0, &y0).unwrap_or_else(|e| panic!("{}: {e}", m.name()));
        assert!(run.x().iter().all(|v| v.is_finite()) && run.trace.len() == 2, "{}", m.name());
    }
}

#[test]
fn a_param_set_on_the_tape_is_the_field_set_on_the_compiled_problem() {
    let mut tape = tape("mexican_hat");
    tape.set_param("c", &[-1.0, 0.5]).unwrap();
    tape.set_param("lambda", &[0.25]).unwrap();
    let compiled = mexican_hat::MexicanHat { c: [-1.0, 0.5], lambda: 0.25 };
    assert!(agree(&compiled, &tape, &[0.3, -0.2], &[1.1, 0.4]) <= 1e-12);
    assert_eq!(tape.param_names().collect::<Vec<_>>(), ["c", "lambda"]);
    let wrong = tape.set_param("c", &[1.0]).unwrap_err();
    assert_eq!(wrong, "param `c` has 2 component(s), not 1");
}

#[test]
fn problems_with_data_and_problems_with_mistakes_are_errors() {
    let path = format!("{}/examples/problems/ridge_diabetes.bl", env!("CARGO_MANIFEST_DIR"));
    let err = TapeProblem::from_text(&std::fs::read_to_string(path).unwrap()).unwrap_err();
    assert_eq!(err, TapeError::HasData);
    let err =
        TapeProblem::from_text("problem P { upper x: real; lower y: real; minimize upper: z; minimize lower: y^2; }");
    match err {
        Err(TapeError::Text(d)) => assert!(d[0].message.contains("`z`"), "{:?}", d[0]),
        other => panic!("{other:?}"),
    }
}

mod common;

/// The loop tapes of a problem with data against its compiled code, in every method of `MatrixFreeProblem`.
#[test]
fn the_loop_tape_of_a_problem_with_data_computes_what_the_compiled_code_computes() {
    use bilevel::data::Array;
    use bilevel::tape::DataTapeProblem;
    use bilevel::MatrixFreeProblem;
    let compiled = common::logistic::small();
    let text =
        std::fs::read_to_string(format!("{}/tests/bl/logistic_regression.bl", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let model = bilevel_dsl::compile(&text).unwrap();
    let rows = |r: &[[f64; 3]]| Array::from_rows(&r.iter().map(|r| r.to_vec()).collect::<Vec<_>>()).unwrap();
    let data = vec![
        ("X".to_string(), rows(&[[1.0, 0.5, -0.3], [-0.4, 1.2, 0.8], [0.3, -0.9, 0.2], [0.7, 0.1, -1.1]])),
        ("t".to_string(), Array::vector(vec![1.0, -1.0, -1.0, 1.0])),
        ("Xv".to_string(), rows(&[[0.2, 0.4, -0.6], [-1.0, 0.3, 0.5], [0.8, -0.2, 0.9]])),
        ("tv".to_string(), Array::vector(vec![1.0, 1.0, -1.0])),
    ];
    let tape = DataTapeProblem::new(&model, data.clone()).unwrap();
    assert_eq!((tape.dims(), tape.name()), (compiled.dims(), compiled.name()));
    // The inner loops over the features (X[i]·w, X[i]·v, and hy += X[i] c) run as fused dot products and axpys.
    let shown = format!("{tape:?}");
    assert!(shown.matches("Dot {").count() >= 2 && shown.contains("Axpy {"), "fused loops in the tapes");
    let (x, y, u, v) = ([0.3, -0.2, 0.1], [0.5, -0.7, 1.1], [1.0, 2.0, -0.5], [-0.3, 0.4, 0.9]);
    let worst = matrix_free_gap(&compiled, &tape, (&x, &y), (&u, &v), false);
    assert!(worst <= 1e-12, "tape and compiled differ by {worst:e}");

    // Data that do not fit the problem are errors naming the item.
    let mut short = data.clone();
    short[1].1 = Array::vector(vec![1.0, -1.0]);
    let err = DataTapeProblem::new(&model, short).unwrap_err();
    assert_eq!(err, "data item `t` has 2 rows, but `N` = 4 (bound by `X`)");
    let err = DataTapeProblem::new(&model, data[..3].to_vec()).unwrap_err();
    assert_eq!(err, "data item `tv` is not given: give --data tv=PATH");
}

/// An observer attached to a run sees it progress (what the tool's progress bar shows), every 64 iterations and
/// at the last, and does not change it.
#[test]
fn an_observer_follows_a_run_every_64_iterations() {
    use bilevel::{Algorithm, BgsOpt};
    let p1 = tape("counter_example");
    let (x0, y0) = p1.start();
    let mut seen = Vec::new();
    let itd = BgsOpt { lower_step: Some(0.2), outer_iters: 200, ..BgsOpt::itd(5) };
    let observed = itd.solve_observed(&Slices(&p1), x0.as_slice(), y0.as_slice(), &mut |k, n| {
        seen.push((k, n));
        std::ops::ControlFlow::Continue(())
    });
    assert_eq!(seen, [(64, 200), (128, 200), (192, 200), (200, 200)]);
    // The observer does not change the run.
    let plain = itd.solve(&p1, &x0, &y0).unwrap();
    assert_eq!(observed.unwrap().x().as_slice(), plain.x().as_slice());
    // An observer that breaks ends the run there: the run of 128 iterations, its last iterate recorded.
    let stop =
        |k: usize, _| if k == 128 { std::ops::ControlFlow::Break(()) } else { std::ops::ControlFlow::Continue(()) };
    let stopped = itd.solve_observed(&Slices(&p1), x0.as_slice(), y0.as_slice(), &mut { stop }).unwrap();
    let short = BgsOpt { outer_iters: 128, ..itd.clone() }.solve(&p1, &x0, &y0).unwrap();
    assert_eq!(stopped.status, bilevel::Status::Stopped { iteration: 128 });
    assert_eq!(stopped.last().iteration, 128);
    assert_eq!(stopped.x().as_slice(), short.x().as_slice());
    assert_eq!(stopped.last().bgs_residual, short.last().bgs_residual, "the final metrics of the stopped run");
}

/// The largest relative difference between two matrix-free problems in every method at `(x, y)` with
/// directions `(u, v)`; the products are checked to be not all zero (but `upper_hvp_x` when `f_has_x` is false:
/// an `F` without `x` has no product in `x`).
fn matrix_free_gap<A: bilevel::MatrixFreeProblem, B: bilevel::MatrixFreeProblem>(
    compiled: &A,
    tape: &B,
    (x, y): (&[f64], &[f64]),
    (u, v): (&[f64], &[f64]),
    f_has_x: bool,
) -> f64 {
    let (n, m) = compiled.dims();
    let outputs = |f: &dyn Fn(&mut [f64], &mut [f64]) -> f64| {
        let (mut a, mut b) = (vec![0.0; n], vec![0.0; m]);
        let value = f(&mut a, &mut b);
        [value].into_iter().chain(a).chain(b).collect::<Vec<f64>>()
    };
    let mut worst = gap(&[compiled.upper(x, y), compiled.lower(x, y)], &[tape.upper(x, y), tape.lower(x, y)]);
    worst = worst
        .max(gap(&outputs(&|a, b| compiled.upper_grad(x, y, a, b)), &outputs(&|a, b| tape.upper_grad(x, y, a, b))));
    worst = worst
        .max(gap(&outputs(&|a, b| compiled.lower_grad(x, y, a, b)), &outputs(&|a, b| tape.lower_grad(x, y, a, b))));
    let product = |f: &dyn Fn(&mut [f64], &mut [f64])| {
        outputs(&|a, b| {
            f(a, b);
            0.0
        })
    };
    let pairs = [
        (product(&|a, b| compiled.upper_hvp_y(x, y, v, a, b)), product(&|a, b| tape.upper_hvp_y(x, y, v, a, b))),
        (product(&|a, b| compiled.upper_hvp_x(x, y, u, a, b)), product(&|a, b| tape.upper_hvp_x(x, y, u, a, b))),
        (product(&|a, b| compiled.lower_hvp_y(x, y, v, a, b)), product(&|a, b| tape.lower_hvp_y(x, y, v, a, b))),
        (product(&|a, b| compiled.lower_hvp_x(x, y, u, a, b)), product(&|a, b| tape.lower_hvp_x(x, y, u, a, b))),
    ];
    for (k, (c, t)) in pairs.iter().enumerate() {
        assert!((k == 1 && !f_has_x) || c.iter().any(|v| *v != 0.0), "product {k} is zero: {c:?}");
        worst = worst.max(gap(c, t));
    }
    // The dense blocks (value, gradients, ∇²yy and ∇²xy in one call; built from products without data).
    assert_eq!(compiled.has_blocks(), tape.has_blocks());
    type Blocks<'a> = &'a dyn Fn(&mut [f64], &mut [f64], &mut [f64], &mut [f64]) -> f64;
    let blocks = |f: Blocks| {
        let (mut gx, mut gy, mut h, mut b) = (vec![0.0; n], vec![0.0; m], vec![0.0; m * m], vec![0.0; n * m]);
        let value = f(&mut gx, &mut gy, &mut h, &mut b);
        [value].into_iter().chain(gx).chain(gy).chain(h).chain(b).collect::<Vec<f64>>()
    };
    let lower = blocks(&|gx, gy, h, b| compiled.lower_blocks(x, y, gx, gy, h, b));
    assert!(lower[1 + n + m..].iter().any(|v| *v != 0.0), "the lower blocks are zero");
    worst = worst.max(gap(&lower, &blocks(&|gx, gy, h, b| tape.lower_blocks(x, y, gx, gy, h, b))));
    let upper = blocks(&|gx, gy, h, b| compiled.upper_blocks(x, y, gx, gy, h, b));
    worst.max(gap(&upper, &blocks(&|gx, gy, h, b| tape.upper_blocks(x, y, gx, gy, h, b))))
}

bilevel::bilevel!(file = "tests/bl/hyper_cleaning.bl");

/// Hyper-cleaning (softmax regression with a matrix variable) through the loop tapes: in the gradient of
/// `W[l][c]`, inside the loop over `l`, the scores `Σ_l X[i][l] W[l][c]` sum over `l` again; the tape runs that
/// sum over a variable of its own (it once overwrote the outer loop's index, and the gradient was wrong).
#[test]
fn the_loop_tape_of_hyper_cleaning_computes_what_the_compiled_code_computes() {
    use bilevel::data::{numbers, Array};
    use bilevel::tape::DataTapeProblem;
    let matrix = |rows, cols, seed| Array::matrix(rows, cols, numbers(rows * cols, seed)).unwrap();
    let (x, y, xv, yv) = (matrix(7, 3, 1), matrix(7, 4, 2), matrix(5, 3, 3), matrix(5, 4, 4));
    let compiled =
        HyperCleaning::new(HyperCleaningData { X: x.clone(), Y: y.clone(), Xv: xv.clone(), Yv: yv.clone() }).unwrap();
    let text = std::fs::read_to_string(format!("{}/tests/bl/hyper_cleaning.bl", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let data = [("X", x), ("Y", y), ("Xv", xv), ("Yv", yv)].map(|(n, a)| (n.to_string(), a)).to_vec();
    let tape = DataTapeProblem::new(&bilevel_dsl::compile(&text).unwrap(), data).unwrap();
    let r = numbers(2 * (7 + 12), 5);
    let worst = matrix_free_gap(&compiled, &tape, (&r[..7], &r[7..19]), (&r[19..26], &r[26..]), false);
    assert!(worst <= 1e-12, "tape and compiled differ by {worst:e}");
}

#[allow(dead_code)]
#[path = "../examples/ridge_diabetes.rs"]
mod ridge_diabetes;

/// P7 (ridge regression on the diabetes data) through the loop tapes with the example's data: every method as
/// the compiled example computes it, at the reference optimum.
#[test]
fn p7_through_the_loop_tape_is_the_compiled_p7() {
    use bilevel::data::Table;
    use bilevel::tape::DataTapeProblem;
    let compiled = ridge_diabetes::problem().unwrap();
    let table = Table::read_csv(format!("{}/examples/data/diabetes_split.csv", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let features: Vec<String> = (0..10).map(|k| format!("f{k}")).collect();
    let mut data = Vec::new();
    for (split, (xs, ts)) in [("train", ("X", "t")), ("val", ("Xv", "tv"))] {
        let rows = table.rows_where("split", split).unwrap();
        data.push((xs.to_string(), rows.matrix(&features).unwrap().with_column(1.0)));
        data.push((ts.to_string(), rows.vector("target").unwrap()));
    }
    let text =
        std::fs::read_to_string(format!("{}/examples/problems/ridge_diabetes.bl", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let tape = DataTapeProblem::new(&bilevel_dsl::compile(&text).unwrap(), data).unwrap();
    let y: Vec<f64> = (0..11).map(|j| 0.3 * j as f64 - 1.0).collect();
    let (u, v): (Vec<f64>, Vec<f64>) =
        ((0..10).map(|k| 0.1 * k as f64).collect(), (0..11).map(|j| 1.0 - 0.2 * j as f64).collect());
    let worst = matrix_free_gap(&compiled, &tape, (&ridge_diabetes::X_STAR, &y), (&u, &v), true);
    assert!(worst <= 1e-12, "tape and compiled differ by {worst:e}");
}
