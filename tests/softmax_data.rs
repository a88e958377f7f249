//! Multi-class problems: a matrix variable `W[p, C]`, rows times it (`X[i] * W`), `logsumexp`, `log_softmax`
//! and one-hot labels. The data problem (loops, products) against the same problem with literal data (dense
//! blocks), and `logsumexp` against overflow.
#![allow(clippy::needless_range_loop)]

use bilevel::data::Array;
use bilevel::nalgebra::SVector;
use bilevel::{bilevel, MatrixFreeProblem, Problem};

bilevel! {
    /// Softmax regression with one weight logit per training sample; labels are one-hot rows.
    problem Softmax {
        dim N, p, C;
        data X: real[N, p];
        data Y: real[N, C];
        upper s: real[N];
        lower W: real[p, C];
        minimize lower: mean(i in 0..N: -sigmoid(s[i]) * dot(Y[i], log_softmax(X[i] * W))) + 0.05 * norm2(W);
        minimize upper: mean(i in 0..N: logsumexp(X[i] * W) - dot(Y[i], X[i] * W)) + 0.1 * dot(s, s)
            + 0.01 * sum(i in 0..N: s[i] * dot(softmax(X[i] * W), Y[i]));
    }
}

bilevel! {
    /// The same problem with its data written out; `w` is `W` row by row.
    problem SoftmaxDense {
        upper s: real[4];
        lower w: real[6];
        const X = [[0.5, -1.0, 0.25], [1.5, 0.3, -0.7], [-0.2, 0.8, 1.1], [0.9, -0.4, 0.6]];
        const Y = [[1, 0], [0, 1], [0, 1], [1, 0]];
        let W0 = [w[0], w[2], w[4]];
        let W1 = [w[1], w[3], w[5]];
        minimize lower: mean(i in 0..4: -sigmoid(s[i]) * dot(Y[i], log_softmax([dot(X[i], W0), dot(X[i], W1)])))
            + 0.05 * norm2(w);
        minimize upper: mean(i in 0..4: logsumexp([dot(X[i], W0), dot(X[i], W1)]) - dot(Y[i], [dot(X[i], W0), dot(X[i], W1)]))
            + 0.1 * dot(s, s) + 0.01 * sum(i in 0..4: s[i] * dot(softmax([dot(X[i], W0), dot(X[i], W1)]), Y[i]));
    }
}

mod common;

const X: [[f64; 3]; 4] = [[0.5, -1.0, 0.25], [1.5, 0.3, -0.7], [-0.2, 0.8, 1.1], [0.9, -0.4, 0.6]];
const LABELS: [f64; 4] = [0.0, 1.0, 1.0, 0.0];

fn data_problem() -> Softmax {
    let x = Array::from_rows(&X.iter().map(|r| r.to_vec()).collect::<Vec<_>>()).unwrap();
    let y = Array::one_hot(&Array::vector(LABELS.to_vec()), 2).unwrap();
    Softmax::new(SoftmaxData { X: x, Y: y }).unwrap()
}

#[test]
fn sizes_come_from_the_data() {
    // n = N = 4 sample logits, m = p·C = 6 weights stored row by row.
    assert_eq!(data_problem().dims(), (4, 6));
}

#[test]
fn values_gradients_and_products_equal_the_dense_path() {
    common::agrees_with_dense(&data_problem(), &SoftmaxDense);
}

#[test]
fn products_match_finite_differences_of_the_gradients() {
    common::agrees_with_differences(&data_problem());
}

bilevel! {
    problem Shifted {
        dim C;
        data a: real[C];
        upper x: real[C];
        lower y: real[C];
        minimize lower: logsumexp(a + y) + sum(j in 0..C: log_softmax(y)[j] * x[j]);
        minimize upper: norm2(x);
    }
}

bilevel! {
    problem ShiftedDense {
        upper x: real[3];
        lower y: real[3];
        const a = [1000, 999, -1000];
        minimize lower: logsumexp(a + y) + sum(j in 0..3: log_softmax(y)[j] * x[j]);
        minimize upper: norm2(x);
    }
}

/// `log Σ exp` by hand, shifted by the largest term.
fn logsumexp(v: &[f64]) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + v.iter().map(|t| (t - m).exp()).sum::<f64>().ln()
}

#[test]
fn logsumexp_does_not_overflow_and_its_gradient_is_the_softmax() {
    let p = Shifted::new(ShiftedData { a: Array::vector(vec![1000.0, 999.0, -1000.0]) }).unwrap();
    let (x, y) = ([0.0; 3], [0.5, -0.25, 2.0]);
    let shifted: Vec<f64> = [1000.0, 999.0, -1000.0].iter().zip(&y).map(|(a, b)| a + b).collect();
    let want = logsumexp(&shifted);
    let (mut gx, mut gy) = ([0.0; 3], [0.0; 3]);
    assert!((p.lower_grad(&x, &y, &mut gx, &mut gy) - want).abs() <= 1e-12 * want);
    let total: f64 = shifted.iter().map(|t| (t - 1000.5).exp()).sum();
    let softmax: Vec<f64> = shifted.iter().map(|t| (t - 1000.5).exp() / total).collect();
    common::assert_close(&gy, &softmax, 1e-15, "∇y logsumexp");
    let dense = ShiftedDense;
    let g = Problem::lower_grad(&dense, &SVector::from(x), &SVector::from(y));
    common::assert_close(&[g.value], &[want], 1e-15, "dense logsumexp");
    common::assert_close(g.y.as_slice(), &softmax, 1e-15, "dense ∇y");
    common::agrees_with_dense(&p, &dense);
}

#[test]
fn digit_labels_become_one_hot_rows() {
    let table = bilevel::data::Table::read_csv(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/digits_hc.csv"))
        .unwrap()
        .rows_where("split", "train")
        .unwrap();
    let labels = table.vector("train_label").unwrap();
    let y = Array::one_hot(&labels, 10).unwrap();
    assert_eq!(y.shape(), vec![600, 10]);
    for i in 0..600 {
        assert_eq!(y.row(i).iter().sum::<f64>(), 1.0);
        assert_eq!(y[(i, labels[i] as usize)], 1.0);
    }
    let err = Array::one_hot(&labels, 9).unwrap_err();
    assert!(err.to_string().starts_with("label 9 at ["), "{err}");
    assert_eq!(
        Array::one_hot(&Array::vector(vec![0.5]), 2).unwrap_err().to_string(),
        "label 0.5 at [0] is not a class in 0..2"
    );
}
