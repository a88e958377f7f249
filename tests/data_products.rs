//! Problems with data: the same problem written with `dim`/`data` (loops, derivative products) and with literal
//! data (straight-line code, dense blocks). Values and gradients must agree, every Hessian–vector product must
//! equal the dense block times the vector (relative 1e-12) and central differences of the gradient; data that
//! do not fit the declared sizes are rejected with a message naming the data items.
#![allow(clippy::needless_range_loop)]

use bilevel::data::{Array, DataError};
use bilevel::nalgebra::{SMatrix, SVector};
use bilevel::{bilevel, MatrixFreeProblem, Problem};

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

/// Deterministic points in [-1, 1] (a linear congruential generator).
fn numbers(count: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

fn assert_close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (p, q)) in a.iter().zip(b).enumerate() {
        assert!((p - q).abs() <= tol * (1.0 + p.abs().max(q.abs())), "{what}[{i}]: {p} vs {q}");
    }
}

type Products = fn(&Weighted, &[f64], &[f64], &[f64], &mut [f64], &mut [f64]);

/// `(hx, hy)` of one product method.
fn product(f: Products, p: &Weighted, x: &[f64], y: &[f64], d: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (mut hx, mut hy) = (vec![0.0; 4], vec![0.0; 3]);
    f(p, x, y, d, &mut hx, &mut hy);
    (hx, hy)
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
fn values_and_gradients_equal_the_dense_path() {
    let (p, dense) = (data_problem(), WeightedDense::default());
    for seed in 1..=10 {
        let v = numbers(7, seed);
        let (x, y) = (&v[..4], &v[4..]);
        let (sx, sy) = (SVector::<f64, 4>::from_column_slice(x), SVector::<f64, 3>::from_column_slice(y));
        for upper in [false, true] {
            let (mut gx, mut gy) = (vec![0.0; 4], vec![0.0; 3]);
            let (value, want) = if upper {
                (p.upper_grad(x, y, &mut gx, &mut gy), dense.upper_grad(&sx, &sy))
            } else {
                (p.lower_grad(x, y, &mut gx, &mut gy), dense.lower_grad(&sx, &sy))
            };
            assert_close(&[value], &[want.value], 1e-13, "value");
            let direct = if upper { p.upper(x, y) } else { p.lower(x, y) };
            assert_close(&[direct], &[want.value], 1e-13, "value without gradient");
            assert_close(&gx, want.x.as_slice(), 1e-12, "∇x");
            assert_close(&gy, want.y.as_slice(), 1e-12, "∇y");
        }
    }
}

#[test]
fn hessian_vector_products_equal_the_dense_blocks() {
    let (p, dense) = (data_problem(), WeightedDense::default());
    for seed in 11..=20 {
        let v = numbers(14, seed);
        let (x, y, u, d) = (&v[..4], &v[4..7], &v[7..11], &v[11..]);
        let (sx, sy) = (SVector::<f64, 4>::from_column_slice(x), SVector::<f64, 3>::from_column_slice(y));
        let (su, sd) = (SVector::<f64, 4>::from_column_slice(u), SVector::<f64, 3>::from_column_slice(d));
        for upper in [false, true] {
            let (hess, xx): (_, SMatrix<f64, 4, 4>) = if upper {
                (dense.upper_hess(&sx, &sy), dense.upper_hess_xx(&sx, &sy))
            } else {
                (dense.lower_hess(&sx, &sy), dense.lower_hess_xx(&sx, &sy))
            };
            let (fy, fx): (Products, Products) = if upper {
                (Weighted::upper_hvp_y, Weighted::upper_hvp_x)
            } else {
                (Weighted::lower_hvp_y, Weighted::lower_hvp_x)
            };
            let (hx, hy) = product(fy, &p, x, y, d);
            assert_close(&hx, (hess.xy * sd).as_slice(), 1e-12, "∇²xy·v");
            assert_close(&hy, (hess.yy * sd).as_slice(), 1e-12, "∇²yy·v");
            let (hx, hy) = product(fx, &p, x, y, u);
            assert_close(&hx, (xx * su).as_slice(), 1e-12, "∇²xx·u");
            assert_close(&hy, (hess.xy.transpose() * su).as_slice(), 1e-12, "∇²yx·u");
        }
    }
}

#[test]
fn hessian_vector_products_match_finite_differences_of_the_gradient() {
    let p = data_problem();
    let h = 1e-6;
    for seed in 21..=25 {
        let v = numbers(14, seed);
        let (x, y, u, d) = (v[..4].to_vec(), v[4..7].to_vec(), &v[7..11], &v[11..]);
        let grad = |x: &[f64], y: &[f64]| {
            let (mut gx, mut gy) = (vec![0.0; 4], vec![0.0; 3]);
            p.lower_grad(x, y, &mut gx, &mut gy);
            [gx, gy].concat()
        };
        let shifted = |dx: &[f64], dy: &[f64], s: f64| {
            let xs: Vec<f64> = x.iter().zip(dx).map(|(a, b)| a + s * b).collect();
            let ys: Vec<f64> = y.iter().zip(dy).map(|(a, b)| a + s * b).collect();
            grad(&xs, &ys)
        };
        let fd = |dx: &[f64], dy: &[f64]| -> Vec<f64> {
            let (plus, minus) = (shifted(dx, dy, h), shifted(dx, dy, -h));
            plus.iter().zip(&minus).map(|(a, b)| (a - b) / (2.0 * h)).collect()
        };
        let (hx, hy) = product(Weighted::lower_hvp_y, &p, &x, &y, d);
        assert_close(&[hx, hy].concat(), &fd(&[0.0; 4], d), 1e-7, "H·v by differences");
        let (hx, hy) = product(Weighted::lower_hvp_x, &p, &x, &y, u);
        assert_close(&[hx, hy].concat(), &fd(u, &[0.0; 3]), 1e-7, "∇²·u by differences");
    }
}

#[test]
fn params_change_the_data_problem_like_the_dense_one() {
    let (mut p, mut dense) = (data_problem(), WeightedDense::default());
    p.lam = 2.5;
    dense.lam = 2.5;
    let v = numbers(7, 99);
    let (sx, sy) = (SVector::<f64, 4>::from_column_slice(&v[..4]), SVector::<f64, 3>::from_column_slice(&v[4..]));
    assert_close(&[p.lower(&v[..4], &v[4..])], &[dense.lower(&sx, &sy)], 1e-13, "G with lam = 2.5");
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

bilevel!(file = "tests/bl/logistic_regression.bl");

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
