//! Sparse data: a `sparse real[N, p]` item given as a `Sparse` matrix gives the same values, gradients and
//! products as the same problem with the matrix dense (relative 1e-12), the generated code reads it along the
//! stored entries of its rows (O(nnz)), and LIBSVM files read into it.

mod common;

use bilevel::data::{Array, DataError, Sparse};
use bilevel::{bilevel, Algorithm, Batch, BgsOpt, MatrixFreeProblem, Method, XiSolver};
use common::{agrees_with_differences, assert_close, numbers};

bilevel! {
    /// Weighted logistic regression on sparse samples, with a column sum (entries read
    /// outside a loop over a row).
    problem SparseWeighted {
        dim N, p;
        data X: sparse real[N, p];
        data t: real[N];
        upper s: real[N];
        lower w: real[p];
        let r = X * w - t;
        minimize lower: mean(i in 0..N: sigmoid(s[i]) * softplus(-t[i] * dot(X[i], w))) + 0.1 * norm2(w)
            + norm2(r) / N + 0.1 * sum(i in 0..N: s[i]^2 * tanh(dot(X[i], w)));
        minimize upper: mean(i in 0..N: (dot(X[i], w) - t[i])^2) + 0.05 * dot(s, X * w) + 0.01 * norm2(s)
            + 0.02 * sum(j in 0..p: w[j] * sum(i in 0..N: X[i][j])^2) + 0.03 * sum(i in 0..N: s[i]^2 * sum(j in 0..p: X[i][j]^2));
    }
}

bilevel! {
    /// [`SparseWeighted`] with the matrix dense.
    problem DenseWeighted {
        dim N, p;
        data X: real[N, p];
        data t: real[N];
        upper s: real[N];
        lower w: real[p];
        let r = X * w - t;
        minimize lower: mean(i in 0..N: sigmoid(s[i]) * softplus(-t[i] * dot(X[i], w))) + 0.1 * norm2(w)
            + norm2(r) / N + 0.1 * sum(i in 0..N: s[i]^2 * tanh(dot(X[i], w)));
        minimize upper: mean(i in 0..N: (dot(X[i], w) - t[i])^2) + 0.05 * dot(s, X * w) + 0.01 * norm2(s)
            + 0.02 * sum(j in 0..p: w[j] * sum(i in 0..N: X[i][j])^2) + 0.03 * sum(i in 0..N: s[i]^2 * sum(j in 0..p: X[i][j]^2));
    }
}

bilevel! {
    /// Softmax regression with a matrix variable on sparse samples: `X[i] * W` reads row `i`'s entries.
    problem SparseSoftmax {
        dim N, p, C;
        data X: sparse real[N, p];
        data Y: real[N, C];
        upper lam: real[p];
        lower W: real[p, C];
        minimize lower: -mean(i in 0..N: dot(Y[i], log_softmax(X[i] * W)))
            + 0.5 * sum(j in 0..p: exp(lam[j]) * norm2(W[j]));
        minimize upper: -mean(i in 0..N: dot(Y[i], log_softmax(X[i] * W))) + 0.01 * norm2(lam);
    }
}

bilevel! {
    /// [`SparseSoftmax`] with the matrix dense.
    problem DenseSoftmax {
        dim N, p, C;
        data X: real[N, p];
        data Y: real[N, C];
        upper lam: real[p];
        lower W: real[p, C];
        minimize lower: -mean(i in 0..N: dot(Y[i], log_softmax(X[i] * W)))
            + 0.5 * sum(j in 0..p: exp(lam[j]) * norm2(W[j]));
        minimize upper: -mean(i in 0..N: dot(Y[i], log_softmax(X[i] * W))) + 0.01 * norm2(lam);
    }
}

/// An `rows × cols` matrix with about two entries in three zero, and a whole zero row.
fn sparse_matrix(rows: usize, cols: usize, seed: u64) -> Array {
    let mut values = numbers(rows * cols, seed);
    for (k, v) in values.iter_mut().enumerate() {
        if *v < 0.35 || k / cols == 1 {
            *v = 0.0;
        }
    }
    Array::matrix(rows, cols, values).unwrap()
}

type Product<P> = fn(&P, &[f64], &[f64], &[f64], &mut [f64], &mut [f64]);
type Gradient<P> = fn(&P, &[f64], &[f64], &mut [f64], &mut [f64]) -> f64;

/// Every value, gradient and product of `a` equals `b`'s at five random points (relative 1e-12).
fn same_problem<A: MatrixFreeProblem, B: MatrixFreeProblem>(a: &A, b: &B) {
    let (n, m) = a.dims();
    assert_eq!(b.dims(), (n, m));
    for seed in 1..=5 {
        let v = numbers(2 * (n + m), seed);
        let (x, y, d) = (&v[..n], &v[n..n + m], &v[n + m..]);
        assert_close(&[a.upper(x, y), a.lower(x, y)], &[b.upper(x, y), b.lower(x, y)], 1e-12, "F, G");
        let grads = |g: Gradient<A>, h: Gradient<B>| {
            let (mut ax, mut ay, mut bx, mut by) = (vec![0.0; n], vec![0.0; m], vec![0.0; n], vec![0.0; m]);
            let (va, vb) = (g(a, x, y, &mut ax, &mut ay), h(b, x, y, &mut bx, &mut by));
            assert_close(&[[va].as_slice(), &ax, &ay].concat(), &[[vb].as_slice(), &bx, &by].concat(), 1e-12, "grad");
        };
        grads(A::upper_grad, B::upper_grad);
        grads(A::lower_grad, B::lower_grad);
        let products: [(Product<A>, Product<B>, usize); 4] = [
            (A::upper_hvp_y, B::upper_hvp_y, m),
            (A::upper_hvp_x, B::upper_hvp_x, n),
            (A::lower_hvp_y, B::lower_hvp_y, m),
            (A::lower_hvp_x, B::lower_hvp_x, n),
        ];
        for (k, (f, g, len)) in products.into_iter().enumerate() {
            let (mut ax, mut ay, mut bx, mut by) = (vec![0.0; n], vec![0.0; m], vec![0.0; n], vec![0.0; m]);
            f(a, x, y, &d[..len], &mut ax, &mut ay);
            g(b, x, y, &d[..len], &mut bx, &mut by);
            assert_close(&[ax, ay].concat(), &[bx, by].concat(), 1e-12, &format!("product {k}"));
        }
    }
}

/// On batches (a range, and a list with a repeat): every value, gradient and product of `a` equals `b`'s
/// (relative 1e-12), so the loops over a sparse row inside a loop over a batch's samples read the right rows.
fn same_on_batches<A: MatrixFreeProblem, B: MatrixFreeProblem>(a: &A, b: &B) {
    let (n, m) = a.dims();
    let v = numbers(2 * (n + m), 9);
    let (x, y, d) = (&v[..n], &v[n..n + m], &v[n + m..]);
    for batch in [Batch::Range { start: 1, end: 5 }, Batch::Indices(&[5, 0, 0, 3])] {
        let what = format!("{batch:?}");
        assert_close(&[a.upper_batch(batch, x, y)], &[b.upper_batch(batch, x, y)], 1e-12, &what);
        let (mut ax, mut ay, mut bx, mut by) = (vec![0.0; n], vec![0.0; m], vec![0.0; n], vec![0.0; m]);
        let (va, vb) =
            (a.lower_grad_batch(batch, x, y, &mut ax, &mut ay), b.lower_grad_batch(batch, x, y, &mut bx, &mut by));
        assert_close(&[[va].as_slice(), &ax, &ay].concat(), &[[vb].as_slice(), &bx, &by].concat(), 1e-12, &what);
        a.upper_grad_batch(batch, x, y, &mut ax, &mut ay);
        b.upper_grad_batch(batch, x, y, &mut bx, &mut by);
        assert_close(&[&ax[..], &ay].concat(), &[&bx[..], &by].concat(), 1e-12, &what);
        a.lower_hvp_y_batch(batch, x, y, &d[..m], &mut ax, &mut ay);
        b.lower_hvp_y_batch(batch, x, y, &d[..m], &mut bx, &mut by);
        assert_close(&[&ax[..], &ay].concat(), &[&bx[..], &by].concat(), 1e-12, &what);
        a.lower_hvp_x_batch(batch, x, y, &d[..n], &mut ax, &mut ay);
        b.lower_hvp_x_batch(batch, x, y, &d[..n], &mut bx, &mut by);
        assert_close(&[&ax[..], &ay].concat(), &[&bx[..], &by].concat(), 1e-12, &what);
    }
}

#[test]
fn a_sparse_matrix_gives_what_the_dense_one_gives() {
    let (rows, cols) = (7, 5);
    let x = sparse_matrix(rows, cols, 3);
    let t = Array::vector(numbers(rows, 4).iter().map(|v| v.signum()).collect());
    let sparse = SparseWeighted::new(SparseWeightedData { X: Sparse::from_dense(&x), t: t.clone() }).unwrap();
    assert!(Sparse::from_dense(&x).nnz() < rows * cols / 2, "the test matrix is sparse");
    let dense = DenseWeighted::new(DenseWeightedData { X: x, t }).unwrap();
    same_problem(&sparse, &dense);
    same_on_batches(&sparse, &dense);
    agrees_with_differences(&sparse);
}

#[test]
fn a_matrix_variable_times_sparse_rows_gives_what_dense_rows_give() {
    let (rows, cols, classes) = (6, 4, 3);
    let x = sparse_matrix(rows, cols, 5);
    let labels = Array::vector((0..rows).map(|i| (i % classes) as f64).collect());
    let y = Array::one_hot(&labels, classes).unwrap();
    let sparse = SparseSoftmax::new(SparseSoftmaxData { X: Sparse::from_dense(&x), Y: y.clone() }).unwrap();
    let dense = DenseSoftmax::new(DenseSoftmaxData { X: x, Y: y }).unwrap();
    same_problem(&sparse, &dense);
    same_on_batches(&sparse, &dense);
}

/// The generated products of a problem text.
fn generated(text: &str) -> String {
    let model = bilevel_dsl::compile(text).expect("the problem is valid");
    bilevel_dsl::data_loops::generate(&model, &quote::quote!(::bilevel)).to_string()
}

#[test]
fn the_generated_code_reads_sparse_rows_by_their_stored_entries() {
    let text = include_str!("bl/logistic_regression.bl")
        .replace("data X: real[N, p]", "data X: sparse real[N, p]")
        .replace("data Xv: real[Nv, p]", "data Xv: sparse real[Nv, p]");
    let code = generated(&text);
    // Every read of the samples is a loop over a row's entries: no search for single entries, no loop 0..p
    // over a row.
    assert!(code.matches(". row (").count() >= 10, "{code}");
    assert!(!code.replace("sizes . get", "").contains(". get ("), "{code}");
    assert!(!code.contains("data_X [") && !code.contains("self . X ["), "{code}");
    // A column sum reads single entries (a search in each row): still correct (tested above), slower.
    let code = generated(
        "problem C { dim N, p; data X: sparse real[N, p]; upper s: real[N]; lower w: real[p];
         minimize lower: norm2(w) + sum(j in 0..p: w[j] * sum(i in 0..N: s[i] * X[i][j]));
         minimize upper: norm2(s); }",
    );
    assert!(code.contains("X . get (i"), "{code}");
}

#[test]
fn sparse_data_are_checked_against_the_declared_sizes() {
    let x = Sparse::from_triplets(3, 2, &[(0, 1, 1.0), (2, 0, f64::NAN)]).unwrap();
    let err = SparseWeighted::new(SparseWeightedData { X: x, t: Array::vector(vec![1.0; 3]) }).unwrap_err();
    assert_eq!(err, DataError::NonFinite { item: "X", at: vec![2, 0] });
    let x = Sparse::from_triplets(3, 2, &[(0, 1, 1.0)]).unwrap();
    let err = SparseWeighted::new(SparseWeightedData { X: x, t: Array::vector(vec![1.0; 4]) }).unwrap_err();
    assert_eq!(err.to_string(), "data item `t` has N = 4 rows, but `X` has N = 3");
}

bilevel! {
    /// Logistic regression on sparse samples with one regularization weight per feature.
    problem SparseLogistic {
        dim N, Nv, p;
        data X: sparse real[N, p];
        data t: real[N];
        data Xv: sparse real[Nv, p];
        data tv: real[Nv];
        upper lam: real[p];
        lower w: real[p];
        minimize lower: mean(i in 0..N: softplus(-t[i] * dot(X[i], w))) + 0.5 * sum(j in 0..p: exp(lam[j]) * w[j]^2);
        minimize upper: mean(i in 0..Nv: softplus(-tv[i] * dot(Xv[i], w)));
    }
}

#[test]
fn a_libsvm_file_runs_like_its_dense_matrix() {
    let dir = std::env::temp_dir().join(format!("bilevel-sparse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (train, valid) = (dir.join("train.svm"), dir.join("valid.svm"));
    // Samples with up to three of eight features, labelled by the sign of a linear rule; the validation file
    // never uses feature 8.
    let lines = |seed: u64, count: usize, features: usize| {
        let v = numbers(count * 4, seed);
        (0..count)
            .map(|i| {
                let mut idx: Vec<usize> =
                    (1..4).map(|k| 1 + ((v[4 * i + k] + 1.0) * 100.0) as usize % features).collect();
                idx.sort_unstable();
                idx.dedup();
                let value = |j: usize| v[4 * i] + j as f64 / 10.0;
                let score: f64 = idx.iter().map(|&j| value(j) * (j as f64 - 4.5)).sum();
                let pairs: Vec<String> = idx.iter().map(|&j| format!("{j}:{:.3}", value(j))).collect();
                format!("{} {}\n", if score > 0.0 { "+1" } else { "-1" }, pairs.join(" "))
            })
            .collect::<String>()
    };
    std::fs::write(&train, lines(11, 40, 8) + "+1 8:1\n").unwrap();
    std::fs::write(&valid, lines(12, 20, 7)).unwrap();
    let (tr, va) = (Sparse::read_libsvm(&train).unwrap(), Sparse::read_libsvm(&valid).unwrap());
    std::fs::remove_dir_all(&dir).ok();
    let p = tr.features.shape()[1];
    assert_eq!(p, 8);
    let xv = va.features.with_cols(p).unwrap();
    let sparse = SparseLogistic::new(SparseLogisticData {
        X: tr.features.clone(),
        t: tr.labels.clone(),
        Xv: xv.clone(),
        tv: va.labels.clone(),
    })
    .unwrap();
    let dense = common::logistic::LogisticRegression::new(common::logistic::LogisticRegressionData {
        X: tr.features.to_dense(),
        t: tr.labels,
        Xv: xv.to_dense(),
        tv: va.labels,
    })
    .unwrap();
    let bgs = BgsOpt {
        lower_step: Some(1.0),
        upper_step: 1.0,
        outer_iters: 20,
        ..BgsOpt::corrected_itd(5, XiSolver::Cg { iters: 20 })
    };
    let (a, b) = (
        bgs.solve(&sparse, &vec![0.0; p], &vec![0.0; p]).unwrap(),
        bgs.solve(&dense, &vec![0.0; p], &vec![0.0; p]).unwrap(),
    );
    assert_close(a.x().as_slice(), b.x().as_slice(), 1e-12, "x after 20 iterations");
    let (fa, fb) = (a.trace.last().unwrap().upper, b.trace.last().unwrap().upper);
    assert_close(&[fa], &[fb], 1e-12, "F");
    assert!(fa < a.trace[0].upper, "the upper objective decreased: {} -> {fa}", a.trace[0].upper);
    // A stochastic method on the LIBSVM samples (batches of 8 of the 41 training and 20 validation rows): the
    // same run as on their dense matrices.
    let options = [("iters", "200"), ("batch", "8"), ("lower-step", "0.5"), ("eval-every", "200")];
    let saba = Method::from_options("saba", &options).unwrap();
    let (a, b) = (
        saba.solve(&sparse, &vec![0.0; p], &vec![0.0; p]).unwrap(),
        saba.solve(&dense, &vec![0.0; p], &vec![0.0; p]).unwrap(),
    );
    assert_close(a.x().as_slice(), b.x().as_slice(), 1e-12, "SABA's x after 200 steps");
    let (ha, h0) = (a.last().upper_at_solution.unwrap(), a.trace[0].upper_at_solution.unwrap());
    assert!(ha < h0, "SABA lowered h: {h0} -> {ha}");
}
