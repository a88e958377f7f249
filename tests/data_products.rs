//! Problems with data: the same problem written with `dim`/`data` (loops, derivative products) and with literal
//! data (straight-line code, dense blocks). Values and gradients must agree, every Hessian–vector product must
//! equal the dense block times the vector (relative 1e-12) and central differences of the gradient; data that
//! do not fit the declared sizes are rejected with a message naming the data items.
#![allow(clippy::needless_range_loop)]

mod common;

use bilevel::data::{Array, DataError};
use bilevel::nalgebra::SVector;
use bilevel::{bilevel, MatrixFreeProblem, Problem};
use common::{assert_close, numbers};

bilevel! {
    /// Weighted logistic regression: one weight logit per training sample.
    problem Weighted {
        dim N, p;
        data X: real[N, p];
        data t: real[N];
        upper s: real[N];
        lower w: real[p];
        param lam = 0.1;
        let r = X * w - t;
        minimize lower: mean(i in 0..N: sigmoid(s[i]) * softplus(-t[i] * dot(X[i], w))) + lam * norm2(w)
            + norm2(r) / N + 0.1 * sum(i in 0..N: s[i]^2 * tanh(dot(X[i], w)));
        minimize upper: mean(i in 0..N: (dot(X[i], w) - t[i])^2) + 0.05 * dot(s, X * w) + 0.01 * norm2(s);
    }
}

bilevel! {
    /// The same problem with its data written out.
    problem WeightedDense {
        upper s: real[4];
        lower w: real[3];
        param lam = 0.1;
        const X = [[0.5, -1.0, 0.25], [1.5, 0.3, -0.7], [-0.2, 0.8, 1.1], [0.9, -0.4, 0.6]];
        const t = [1, -1, 1, -1];
        let r = X * w - t;
        minimize lower: mean(i in 0..4: sigmoid(s[i]) * softplus(-t[i] * dot(X[i], w))) + lam * norm2(w)
            + norm2(r) / 4 + 0.1 * sum(i in 0..4: s[i]^2 * tanh(dot(X[i], w)));
        minimize upper: mean(i in 0..4: (dot(X[i], w) - t[i])^2) + 0.05 * dot(s, X * w) + 0.01 * norm2(s);
    }
}

const X: [[f64; 3]; 4] = [[0.5, -1.0, 0.25], [1.5, 0.3, -0.7], [-0.2, 0.8, 1.1], [0.9, -0.4, 0.6]];
const T: [f64; 4] = [1.0, -1.0, 1.0, -1.0];

fn data_problem() -> Weighted {
    let rows: Vec<Vec<f64>> = X.iter().map(|r| r.to_vec()).collect();
    Weighted::new(WeightedData { X: Array::from_rows(&rows).unwrap(), t: Array::vector(T.to_vec()) }).unwrap()
}

#[test]
fn sizes_come_from_the_data() {
    let p = data_problem();
    assert_eq!(p.dims(), (4, 3));
    assert_eq!(MatrixFreeProblem::name(&p), "Weighted");
    let (x0, y0) = p.start();
    assert_eq!((x0.len(), y0.len()), (4, 3));
    assert!(p.bounds().is_none());
}

#[test]
fn values_gradients_and_products_equal_the_dense_path() {
    common::agrees_with_dense(&data_problem(), &WeightedDense::default());
}

#[test]
fn products_match_finite_differences_of_the_gradients() {
    common::agrees_with_differences(&data_problem());
}

#[test]
fn params_change_the_data_problem_like_the_dense_one() {
    let (mut p, mut dense) = (data_problem(), WeightedDense::default());
    p.lam = 2.5;
    dense.lam = 2.5;
    let v = numbers(7, 99);
    let (sx, sy) = (SVector::<f64, 4>::from_column_slice(&v[..4]), SVector::<f64, 3>::from_column_slice(&v[4..]));
    assert_close(&[p.lower(&v[..4], &v[4..])], &[Problem::lower(&dense, &sx, &sy)], 1e-13, "G with lam = 2.5");
}

fn attach(x: Array, t: Array) -> Result<Weighted, DataError> {
    Weighted::new(WeightedData { X: x, t })
}

#[test]
fn data_that_do_not_fit_are_rejected_with_the_items_named() {
    let x = || Array::matrix(4, 3, vec![0.5; 12]).unwrap();
    let message = |r: Result<Weighted, DataError>| r.map(|_| ()).unwrap_err().to_string();
    assert_eq!(message(attach(x(), Array::vector(vec![1.0; 5]))), "data item `t` has N = 5 rows, but `X` has N = 4");
    assert_eq!(
        message(attach(Array::vector(vec![1.0; 4]), Array::vector(vec![1.0; 4]))),
        "data item `X` is declared as a matrix, but a vector was given"
    );
    let mut values = vec![0.5; 12];
    values[7] = f64::NAN;
    let nan = Array::matrix(4, 3, values).unwrap();
    assert_eq!(
        message(attach(nan, Array::vector(vec![1.0; 4]))),
        "data item `X` has a NaN or infinite value at X[2][1]"
    );
    assert_eq!(
        message(attach(Array::matrix(0, 3, vec![]).unwrap(), Array::vector(vec![]))),
        "data item `X` has no rows"
    );
    assert_eq!(
        Array::matrix(2, 3, vec![0.0; 5]).unwrap_err().to_string(),
        "a 2×3 matrix needs 6 values, but 5 were given"
    );
    assert_eq!(
        Array::from_rows(&[vec![1.0, 2.0], vec![3.0]]).unwrap_err().to_string(),
        "row 1 has 1 values, but row 0 has 2"
    );
}

#[test]
#[should_panic(expected = "Weighted: `y` has length 2, but the problem's data make it 3")]
fn a_slice_of_the_wrong_length_is_a_clear_panic() {
    data_problem().lower(&[0.0; 4], &[0.0; 2]);
}

use common::logistic::{LogisticRegression, LogisticRegressionData};

/// `rows` copies of two samples, as training and validation data.
fn replicated(rows: usize) -> LogisticRegressionData {
    let x: Vec<f64> = (0..rows).flat_map(|i| if i % 2 == 0 { [1.0, 0.5, -0.3] } else { [-0.4, 1.2, 0.8] }).collect();
    let t: Vec<f64> = (0..rows).map(|i| if i % 2 == 0 { 1.0 } else { -1.0 }).collect();
    LogisticRegressionData {
        X: Array::matrix(rows, 3, x.clone()).unwrap(),
        t: Array::vector(t.clone()),
        Xv: Array::matrix(rows, 3, x).unwrap(),
        tv: Array::vector(t),
    }
}

/// The code does not depend on the data's size: the same compiled problem runs on 10 samples and on 10⁶, and
/// means over copies of the same samples give the same values, gradients and products.
#[test]
fn one_compiled_problem_serves_any_number_of_samples() {
    let (small, large) =
        (LogisticRegression::new(replicated(10)).unwrap(), LogisticRegression::new(replicated(1_000_000)).unwrap());
    let (x, y, v) = ([0.1, -0.2, 0.3], [0.4, -0.5, 0.6], [1.0, 2.0, -1.0]);
    let run = |p: &LogisticRegression| {
        let (mut gx, mut gy, mut hx, mut hy) = ([0.0; 3], [0.0; 3], [0.0; 3], [0.0; 3]);
        let value = p.lower_grad(&x, &y, &mut gx, &mut gy);
        p.lower_hvp_y(&x, &y, &v, &mut hx, &mut hy);
        [vec![value, p.upper(&x, &y)], gx.to_vec(), gy.to_vec(), hx.to_vec(), hy.to_vec()].concat()
    };
    assert_close(&run(&large), &run(&small), 1e-9, "10⁶ samples against 10");
}

/// The problem of the README, on data attached at run time, against the dense path and finite differences.
#[test]
fn logistic_regression_equals_the_dense_path() {
    let problem = common::logistic::small();
    common::agrees_with_dense(&problem, &common::logistic::LogisticDense);
    common::agrees_with_differences(&problem);
}
