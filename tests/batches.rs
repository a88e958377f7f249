//! Evaluations on a batch of samples (`MatrixFreeProblem::*_batch`), what the stochastic methods run on: on
//! logistic regression (`mean`s over two sample dims, a regularizer outside them) and hyper-cleaning (an upper
//! variable indexed by the samples, arrays of logits per sample), compiled and on the tape:
//! - the full batch is the full evaluation, bit for bit;
//! - batches that partition the samples, weighted by their sizes, add up to the full evaluation (1e-12), as a
//!   sample listed twice counts twice;
//! - each batch product agrees with central differences of the batch gradient, each batch gradient with
//!   central differences of the batch value;
//! - the tape gives the compiled code's numbers on every batch (1e-12);
//! - an objective with means over two dims reports them, and a batch leaves it whole.

mod common;

use bilevel::data::{numbers, Array};
use bilevel::tape::DataTapeProblem;
use bilevel::{bilevel, Batch, MatrixFreeProblem, Sampling};
use common::assert_close;

bilevel!(file = "tests/bl/logistic_regression.bl");
bilevel!(file = "tests/bl/hyper_cleaning.bl");

bilevel! {
    /// Means over two dims in one objective: a batch cannot say which it samples.
    problem TwoMeans {
        dim N, p;
        data X: real[N, p];
        upper lam: real[p];
        lower w: real[p];
        minimize lower: mean(i in 0..N: (dot(X[i], w) - 1)^2) + mean(j in 0..p: exp(lam[j]) * w[j]^2);
        minimize upper: norm2(w - lam);
    }
}

/// What is evaluated: one of the methods of one objective.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Value,
    Grad,
    HvpY,
    HvpX,
}

const KINDS: [Kind; 4] = [Kind::Value, Kind::Grad, Kind::HvpY, Kind::HvpX];

/// The point and directions of one evaluation.
#[derive(Clone, Copy)]
struct At<'a> {
    x: &'a [f64],
    y: &'a [f64],
    u: &'a [f64],
    v: &'a [f64],
}

/// The numbers `kind` of `F` (`upper`) or `G` writes on `batch` (`None`: the full method), concatenated: the
/// value, then the slices.
fn eval<P: MatrixFreeProblem>(p: &P, upper: bool, kind: Kind, batch: Option<Batch>, a: &At) -> Vec<f64> {
    let (n, m) = p.dims();
    let (mut ox, mut oy) = (vec![0.0; n], vec![0.0; m]);
    let (x, y) = (a.x, a.y);
    let value = match (kind, upper, batch) {
        (Kind::Value, true, None) => p.upper(x, y),
        (Kind::Value, true, Some(b)) => p.upper_batch(b, x, y),
        (Kind::Value, false, None) => p.lower(x, y),
        (Kind::Value, false, Some(b)) => p.lower_batch(b, x, y),
        (Kind::Grad, true, None) => p.upper_grad(x, y, &mut ox, &mut oy),
        (Kind::Grad, true, Some(b)) => p.upper_grad_batch(b, x, y, &mut ox, &mut oy),
        (Kind::Grad, false, None) => p.lower_grad(x, y, &mut ox, &mut oy),
        (Kind::Grad, false, Some(b)) => p.lower_grad_batch(b, x, y, &mut ox, &mut oy),
        (Kind::HvpY, true, None) => (p.upper_hvp_y(x, y, a.v, &mut ox, &mut oy), 0.0).1,
        (Kind::HvpY, true, Some(b)) => (p.upper_hvp_y_batch(b, x, y, a.v, &mut ox, &mut oy), 0.0).1,
        (Kind::HvpY, false, None) => (p.lower_hvp_y(x, y, a.v, &mut ox, &mut oy), 0.0).1,
        (Kind::HvpY, false, Some(b)) => (p.lower_hvp_y_batch(b, x, y, a.v, &mut ox, &mut oy), 0.0).1,
        (Kind::HvpX, true, None) => (p.upper_hvp_x(x, y, a.u, &mut ox, &mut oy), 0.0).1,
        (Kind::HvpX, true, Some(b)) => (p.upper_hvp_x_batch(b, x, y, a.u, &mut ox, &mut oy), 0.0).1,
        (Kind::HvpX, false, None) => (p.lower_hvp_x(x, y, a.u, &mut ox, &mut oy), 0.0).1,
        (Kind::HvpX, false, Some(b)) => (p.lower_hvp_x_batch(b, x, y, a.u, &mut ox, &mut oy), 0.0).1,
    };
    [vec![value], ox, oy].concat()
}

/// `Σ w_b · e_b`.
fn combine(parts: &[(f64, Vec<f64>)]) -> Vec<f64> {
    let mut out = vec![0.0; parts[0].1.len()];
    for (w, e) in parts {
        out.iter_mut().zip(e).for_each(|(o, v)| *o += w * v);
    }
    out
}

/// `0..n` in a fixed shuffled order.
fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let keys = numbers(n, seed);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| keys[*a].total_cmp(&keys[*b]));
    order
}

/// The size of the dim `sampling` names.
fn sample_count(sampling: &Sampling) -> usize {
    match sampling {
        Sampling::Dim { size, .. } => *size,
        other => panic!("a test problem samples one dim, not {other:?}"),
    }
}

/// Every check of the module's doc on one problem at three random points.
fn batches_add_up<P: MatrixFreeProblem>(p: &P) {
    let (n, m) = p.dims();
    let samples = p.samples();
    for seed in 1..=3 {
        let r = numbers(2 * (n + m), seed);
        let a = At { x: &r[..n], y: &r[n..n + m], u: &r[n + m..2 * n + m], v: &r[2 * n + m..] };
        for upper in [false, true] {
            let count = sample_count(if upper { &samples.upper } else { &samples.lower });
            let order = shuffled(count, seed + 10);
            // Samples 0..k as a range, the others as two lists in shuffled order.
            let k = count / 3;
            let others: Vec<usize> = order.iter().copied().filter(|i| *i >= k).collect();
            let (first, second) = others.split_at(others.len() / 2);
            let parts = [Batch::Range { start: 0, end: k }, Batch::Indices(first), Batch::Indices(second)];
            for kind in KINDS {
                let what = format!("{} {} {kind:?}", p.name(), if upper { "F" } else { "G" });
                let full = eval(p, upper, kind, None, &a);
                assert_eq!(eval(p, upper, kind, Some(Batch::All), &a), full, "{what}: the full batch");
                let weighted: Vec<(f64, Vec<f64>)> = parts
                    .iter()
                    .map(|b| {
                        let len = b.samples("", "", count) as f64;
                        (len / count as f64, eval(p, upper, kind, Some(*b), &a))
                    })
                    .collect();
                assert_close(&combine(&weighted), &full, 1e-12, &format!("{what}: a partition"));
                let (i, j) = (order[0], order[1]);
                let twice = eval(p, upper, kind, Some(Batch::Indices(&[i, j, i])), &a);
                let (pi, pj) = (
                    eval(p, upper, kind, Some(Batch::Indices(&[i])), &a),
                    eval(p, upper, kind, Some(Batch::Indices(&[j])), &a),
                );
                assert_close(
                    &twice,
                    &combine(&[(2.0 / 3.0, pi), (1.0 / 3.0, pj)]),
                    1e-12,
                    &format!("{what}: a repeat"),
                );
            }
            let batch = Batch::Indices(&order[..(count / 2).max(1)]);
            agrees_with_differences(p, upper, batch, &a);
        }
    }
}

/// On `batch`: the gradient against central differences of the value, each product against central
/// differences of the gradient (step 1e-6, relative 1e-6).
fn agrees_with_differences<P: MatrixFreeProblem>(p: &P, upper: bool, batch: Batch, a: &At) {
    let (n, m) = p.dims();
    let h = 1e-6;
    let moved = |dx: &[f64], dy: &[f64], s: f64| -> (Vec<f64>, Vec<f64>) {
        let xs = a.x.iter().zip(dx).map(|(p, q)| p + s * q).collect();
        let ys = a.y.iter().zip(dy).map(|(p, q)| p + s * q).collect();
        (xs, ys)
    };
    let central = |kind: Kind, dx: &[f64], dy: &[f64]| -> Vec<f64> {
        let ((xp, yp), (xm, ym)) = (moved(dx, dy, h), moved(dx, dy, -h));
        let plus = eval(p, upper, kind, Some(batch), &At { x: &xp, y: &yp, ..*a });
        let minus = eval(p, upper, kind, Some(batch), &At { x: &xm, y: &ym, ..*a });
        plus.iter().zip(&minus).map(|(p, q)| (p - q) / (2.0 * h)).collect()
    };
    let what = format!("{} {}", p.name(), if upper { "F" } else { "G" });
    let grad = eval(p, upper, Kind::Grad, Some(batch), a);
    let (zx, zy) = (vec![0.0; n], vec![0.0; m]);
    let slope = central(Kind::Value, a.u, a.v)[0];
    let along: f64 = grad[1..].iter().zip(a.u.iter().chain(a.v)).map(|(g, d)| g * d).sum();
    assert_close(&[along], &[slope], 1e-6, &format!("{what}: batch gradient by differences"));
    let hv = eval(p, upper, Kind::HvpY, Some(batch), a);
    assert_close(&hv[1..], &central(Kind::Grad, &zx, a.v)[1..], 1e-6, &format!("{what}: batch H·v by differences"));
    let hu = eval(p, upper, Kind::HvpX, Some(batch), a);
    assert_close(&hu[1..], &central(Kind::Grad, a.u, &zy)[1..], 1e-6, &format!("{what}: batch ·u by differences"));
}

fn matrix(rows: usize, cols: usize, seed: u64) -> Array {
    Array::matrix(rows, cols, numbers(rows * cols, seed)).unwrap()
}

fn labels(n: usize, seed: u64) -> Array {
    Array::vector(numbers(n, seed).iter().map(|v| if *v < 0.0 { -1.0 } else { 1.0 }).collect())
}

/// One-hot rows of `c` classes.
fn one_hot(n: usize, c: usize, seed: u64) -> Array {
    let picks = numbers(n, seed);
    let rows: Vec<f64> = picks
        .iter()
        .flat_map(|v| {
            let k = (((v + 1.0) / 2.0 * c as f64) as usize).min(c - 1);
            (0..c).map(move |j| f64::from(j == k))
        })
        .collect();
    Array::matrix(n, c, rows).unwrap()
}

fn logistic_data() -> Vec<(&'static str, Array)> {
    vec![("X", matrix(23, 4, 1)), ("t", labels(23, 2)), ("Xv", matrix(17, 4, 3)), ("tv", labels(17, 4))]
}

fn cleaning_data() -> Vec<(&'static str, Array)> {
    vec![("X", matrix(19, 3, 5)), ("Y", one_hot(19, 3, 6)), ("Xv", matrix(11, 3, 7)), ("Yv", one_hot(11, 3, 8))]
}

fn by_name(data: &[(&'static str, Array)], name: &str) -> Array {
    data.iter().find(|(n, _)| *n == name).expect("a data item").1.clone()
}

fn tape(file: &str, data: Vec<(&'static str, Array)>) -> DataTapeProblem {
    tape_text(&std::fs::read_to_string(file).unwrap(), data)
}

fn logistic() -> LogisticRegression {
    let d = logistic_data();
    let item = |n| by_name(&d, n);
    LogisticRegression::new(LogisticRegressionData { X: item("X"), t: item("t"), Xv: item("Xv"), tv: item("tv") })
        .unwrap()
}

fn cleaning() -> HyperCleaning {
    let d = cleaning_data();
    let item = |n| by_name(&d, n);
    HyperCleaning::new(HyperCleaningData { X: item("X"), Y: item("Y"), Xv: item("Xv"), Yv: item("Yv") }).unwrap()
}

#[test]
fn compiled_batches_add_up_to_the_full_evaluation() {
    let p = logistic();
    let dim = |name: &str, size| Sampling::Dim { name: name.to_string(), size };
    assert_eq!((p.samples().upper, p.samples().lower), (dim("Nv", 17), dim("N", 23)));
    batches_add_up(&p);
    batches_add_up(&cleaning());
}

#[test]
fn tape_batches_add_up_to_the_full_evaluation() {
    let p = tape("tests/bl/logistic_regression.bl", logistic_data());
    assert_eq!(p.samples(), logistic().samples());
    batches_add_up(&p);
    batches_add_up(&tape("tests/bl/hyper_cleaning.bl", cleaning_data()));
}

#[test]
fn the_tape_gives_the_compiled_numbers_on_every_batch() {
    let (compiled, taped) = (cleaning(), tape("tests/bl/hyper_cleaning.bl", cleaning_data()));
    let (n, m) = compiled.dims();
    let r = numbers(2 * (n + m), 9);
    let a = At { x: &r[..n], y: &r[n..n + m], u: &r[n + m..2 * n + m], v: &r[2 * n + m..] };
    for (upper, count) in [(false, 19), (true, 11)] {
        let order = shuffled(count, 4);
        let batches =
            [Batch::All, Batch::Range { start: 2, end: 7 }, Batch::Indices(&order[..5]), Batch::Indices(&[3, 3, 0])];
        for batch in batches {
            for kind in KINDS {
                let (c, t) =
                    (eval(&compiled, upper, kind, Some(batch), &a), eval(&taped, upper, kind, Some(batch), &a));
                assert_close(&t, &c, 1e-12, &format!("{kind:?} of {} on {batch:?}", if upper { "F" } else { "G" }));
            }
        }
    }
}

#[test]
fn means_over_two_dims_are_not_sampled() {
    let x = matrix(9, 3, 11);
    let p = TwoMeans::new(TwoMeansData { X: x.clone() }).unwrap();
    let taped = tape_text(
        "problem TwoMeans { dim N, p; data X: real[N, p]; upper lam: real[p]; lower w: real[p];
         minimize lower: mean(i in 0..N: (dot(X[i], w) - 1)^2) + mean(j in 0..p: exp(lam[j]) * w[j]^2);
         minimize upper: norm2(w - lam); }",
        vec![("X", x)],
    );
    let several = Sampling::Several(vec!["N".to_string(), "p".to_string()]);
    assert_eq!((p.samples().lower, p.samples().upper), (several.clone(), Sampling::None));
    assert_eq!(taped.samples().lower, several);
    let (x, y) = ([0.1, 0.2, 0.3], [0.4, -0.5, 0.6]);
    let batch = Batch::Indices(&[1, 2]);
    assert_eq!(p.lower_batch(batch, &x, &y), p.lower(&x, &y));
    assert_eq!(taped.lower_batch(batch, &x, &y), taped.lower(&x, &y));
    assert_close(&[taped.lower(&x, &y)], &[p.lower(&x, &y)], 1e-13, "the tape");
}

fn tape_text(text: &str, data: Vec<(&'static str, Array)>) -> DataTapeProblem {
    let model = bilevel_dsl::compile(text).unwrap();
    DataTapeProblem::new(&model, data.into_iter().map(|(n, a)| (n.to_string(), a)).collect()).unwrap()
}
