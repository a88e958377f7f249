//! The README's logistic regression (`tests/bl/logistic_regression.bl`) on a small data set, and the same
//! problem with that data written out (the dense oracle).

use bilevel::bilevel;
use bilevel::data::Array;

bilevel!(file = "tests/bl/logistic_regression.bl");

bilevel! {
    /// `tests/bl/logistic_regression.bl` with the data of [`small`] written out.
    problem LogisticDense {
        upper lam: real[3];
        lower w: real[3];
        const X = [[1.0, 0.5, -0.3], [-0.4, 1.2, 0.8], [0.3, -0.9, 0.2], [0.7, 0.1, -1.1]];
        const t = [1, -1, -1, 1];
        const Xv = [[0.2, 0.4, -0.6], [-1.0, 0.3, 0.5], [0.8, -0.2, 0.9]];
        const tv = [1, 1, -1];
        minimize lower: mean(i in 0..4: softplus(-t[i] * dot(X[i], w))) + 0.5 * sum(j in 0..3: exp(lam[j]) * w[j]^2);
        minimize upper: mean(i in 0..3: softplus(-tv[i] * dot(Xv[i], w)));
    }
}

/// Four training and three validation samples of three features.
pub fn small() -> LogisticRegression {
    let rows = |r: &[[f64; 3]]| Array::from_rows(&r.iter().map(|r| r.to_vec()).collect::<Vec<_>>()).unwrap();
    LogisticRegression::new(LogisticRegressionData {
        X: rows(&[[1.0, 0.5, -0.3], [-0.4, 1.2, 0.8], [0.3, -0.9, 0.2], [0.7, 0.1, -1.1]]),
        t: Array::vector(vec![1.0, -1.0, -1.0, 1.0]),
        Xv: rows(&[[0.2, 0.4, -0.6], [-1.0, 0.3, 0.5], [0.8, -0.2, 0.9]]),
        tv: Array::vector(vec![1.0, 1.0, -1.0]),
    })
    .unwrap()
}
