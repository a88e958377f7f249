//! The generated derivative products of a data problem against hand-written Rust, in the same run.
//!
//! Lower level of ℓ2-regularized logistic regression with one weight per feature, N = 10⁵ samples and p = 100
//! features of synthetic data:
//! `G(λ, w) = mean_i softplus(−t_i·X_i·w) + ½ Σ_j exp(λ_j) w_j²`.
//! The hand-written baselines compute the same quantities in the same number of passes over `X`: the gradient
//! `−Xᵀ(t ⊙ σ(−t ⊙ Xw))/N + e^λ ⊙ w` and the Hessian–vector product `Xᵀ(d ⊙ Xv)/N + e^λ ⊙ v` with
//! `d = σ'(t ⊙ Xw)`, each in one fused pass over the rows of `X` (the product needs `d` at the current `w`, so
//! it computes it, as the generated code does). The generated code runs its loop over samples on the threads rayon
//! gives (all cores by default) and, for the fair ratio, on one thread.
//!
//! The same product on sparse samples (`data X: sparse real[N, p]`): N = 10⁵ samples with 20 nonzero features
//! each, against a hand-written loop over the same compressed rows, at p = 10³ and p = 10⁵ features: the cost
//! follows the nonzeros (2·10⁶), not N·p.
//!
//! Run with `cargo bench --bench data_products`; the ratios are in BENCHMARKS.md.

use bilevel::data::{numbers, Array, Sparse};
use bilevel::{bilevel, MatrixFreeProblem};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

bilevel! {
    problem Logistic {
        dim N, p;
        data X: real[N, p];
        data t: real[N];
        upper lam: real[p];
        lower w: real[p];
        minimize lower: mean(i in 0..N: softplus(-t[i] * dot(X[i], w))) + 0.5 * sum(j in 0..p: exp(lam[j]) * w[j]^2);
        minimize upper: norm2(w);
    }
}

bilevel! {
    problem SparseLogistic {
        dim N, p;
        data X: sparse real[N, p];
        data t: real[N];
        upper lam: real[p];
        lower w: real[p];
        minimize lower: mean(i in 0..N: softplus(-t[i] * dot(X[i], w))) + 0.5 * sum(j in 0..p: exp(lam[j]) * w[j]^2);
        minimize upper: norm2(w);
    }
}

const SAMPLES: usize = 100_000;
/// Nonzero features per sample in the sparse case.
const PER_ROW: usize = 20;
const FEATURES: usize = 100;

struct Data {
    x: Vec<f64>,
    t: Vec<f64>,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum()
}

/// The hand-written gradient: `gx`, `gy` and the value in one pass over the rows.
fn hand_grad(d: &Data, lam: &[f64], w: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
    let n = d.t.len() as f64;
    let mut value = 0.0;
    for ((gxj, gyj), (&l, &wj)) in gx.iter_mut().zip(gy.iter_mut()).zip(lam.iter().zip(w)) {
        let e = l.exp();
        value += 0.5 * e * wj * wj;
        *gxj = 0.5 * e * wj * wj;
        *gyj = e * wj;
    }
    for (row, &ti) in d.x.chunks_exact(w.len()).zip(&d.t) {
        let z = -ti * dot(row, w);
        value += softplus(z) / n;
        let c = -ti * sigmoid(z) / n;
        gy.iter_mut().zip(row).for_each(|(g, r)| *g += c * r);
    }
    value
}

/// The hand-written product `Xᵀ(d ⊙ Xv)/N + e^λ ⊙ v` (and `∇²xy G·v = e^λ ⊙ w ⊙ v`).
fn hand_hvp(d: &Data, lam: &[f64], w: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
    let n = d.t.len() as f64;
    for j in 0..w.len() {
        let e = lam[j].exp();
        hx[j] = e * w[j] * v[j];
        hy[j] = e * v[j];
    }
    for (row, &ti) in d.x.chunks_exact(w.len()).zip(&d.t) {
        let (mut xw, mut xv) = (0.0, 0.0);
        for ((r, wj), vj) in row.iter().zip(w).zip(v) {
            xw += r * wj;
            xv += r * vj;
        }
        let s = sigmoid(ti * xw);
        let c = ti * ti * s * (1.0 - s) * xv / n;
        hy.iter_mut().zip(row).for_each(|(h, r)| *h += c * r);
    }
}

/// The hand-written sparse product: the same formula, one pass over the stored entries of each row.
fn hand_sparse_hvp(x: &Sparse, t: &[f64], lam: &[f64], w: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
    let n = t.len() as f64;
    for j in 0..w.len() {
        let e = lam[j].exp();
        hx[j] = e * w[j] * v[j];
        hy[j] = e * v[j];
    }
    for (i, &ti) in t.iter().enumerate() {
        let (mut xw, mut xv) = (0.0, 0.0);
        for (j, r) in x.row(i) {
            xw += r * w[j];
            xv += r * v[j];
        }
        let s = sigmoid(ti * xw);
        let c = ti * ti * s * (1.0 - s) * xv / n;
        x.row(i).for_each(|(j, r)| hy[j] += c * r);
    }
}

/// N samples with PER_ROW distinct features each among `features`.
fn sparse_samples(features: usize) -> Sparse {
    let u = numbers(SAMPLES * PER_ROW, 6);
    let values = numbers(SAMPLES * PER_ROW, 7);
    let entries: Vec<(usize, usize, f64)> = (0..SAMPLES * PER_ROW)
        .map(|k| {
            // Distinct columns within a row: one per stripe of features / PER_ROW.
            let (i, slot) = (k / PER_ROW, k % PER_ROW);
            let stripe = features / PER_ROW;
            (i, slot * stripe + ((u[k] + 1.0) * 0.5 * (stripe - 1) as f64) as usize, values[k])
        })
        .collect();
    Sparse::from_triplets(SAMPLES, features, &entries).unwrap()
}

fn sparse_products(c: &mut Criterion) {
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let t: Vec<f64> = numbers(SAMPLES, 2).iter().map(|v| v.signum()).collect();
    let mut group = c.benchmark_group("sparse logistic N=1e5 nnz=2e6");
    group.sample_size(20);
    for features in [1_000, 100_000] {
        let x = sparse_samples(features);
        let problem = SparseLogistic::new(SparseLogisticData { X: x.clone(), t: Array::vector(t.clone()) }).unwrap();
        let lam: Vec<f64> = numbers(features, 3).iter().map(|v| 0.5 * v).collect();
        let (w, v) = (numbers(features, 4), numbers(features, 5));
        let (mut hx, mut hy) = (vec![0.0; features], vec![0.0; features]);
        group.bench_function(format!("hvp/generated p={features}"), |b| {
            b.iter(|| problem.lower_hvp_y(black_box(&lam), black_box(&w), black_box(&v), &mut hx, &mut hy))
        });
        group.bench_function(format!("hvp/generated, 1 thread p={features}"), |b| {
            one_thread.install(|| {
                b.iter(|| problem.lower_hvp_y(black_box(&lam), black_box(&w), black_box(&v), &mut hx, &mut hy))
            })
        });
        group.bench_function(format!("hvp/hand-written p={features}"), |b| {
            b.iter(|| hand_sparse_hvp(&x, &t, black_box(&lam), black_box(&w), black_box(&v), &mut hx, &mut hy))
        });
    }
    group.finish();
}

fn products(c: &mut Criterion) {
    let data = Data { x: numbers(SAMPLES * FEATURES, 1), t: numbers(SAMPLES, 2).iter().map(|v| v.signum()).collect() };
    let problem = Logistic::new(LogisticData {
        X: Array::matrix(SAMPLES, FEATURES, data.x.clone()).unwrap(),
        t: Array::vector(data.t.clone()),
    })
    .unwrap();
    let lam: Vec<f64> = numbers(FEATURES, 3).iter().map(|v| 0.5 * v).collect();
    let w = numbers(FEATURES, 4);
    let v = numbers(FEATURES, 5);
    let (mut hx, mut hy) = (vec![0.0; FEATURES], vec![0.0; FEATURES]);

    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let mut group = c.benchmark_group("logistic N=1e5 p=100");
    group.sample_size(20);
    group.bench_function("hvp/generated", |b| {
        b.iter(|| problem.lower_hvp_y(black_box(&lam), black_box(&w), black_box(&v), &mut hx, &mut hy))
    });
    group.bench_function("hvp/generated, 1 thread", |b| {
        one_thread
            .install(|| b.iter(|| problem.lower_hvp_y(black_box(&lam), black_box(&w), black_box(&v), &mut hx, &mut hy)))
    });
    group.bench_function("hvp/hand-written", |b| {
        b.iter(|| hand_hvp(&data, black_box(&lam), black_box(&w), black_box(&v), &mut hx, &mut hy))
    });
    group.bench_function("grad/generated", |b| {
        b.iter(|| problem.lower_grad(black_box(&lam), black_box(&w), &mut hx, &mut hy))
    });
    group.bench_function("grad/generated, 1 thread", |b| {
        one_thread.install(|| b.iter(|| problem.lower_grad(black_box(&lam), black_box(&w), &mut hx, &mut hy)))
    });
    group.bench_function("grad/hand-written", |b| {
        b.iter(|| hand_grad(&data, black_box(&lam), black_box(&w), &mut hx, &mut hy))
    });
    group.finish();
}

criterion_group!(benches, products, sparse_products);
criterion_main!(benches);
