//! Whole runs through the runtime against a hand-written loop of the same update rule, in the same run.
//!
//! Corrected ITD on the Mexican hat (P2 of REFERENCE.md: `G = (‖y − x‖² − 1)²`, `F = ½‖y − c‖² + ½‖x‖²`,
//! n = m = 2) with T = 10 unrolled steps, α = 0.05, γ = 0.1, warm start, the pseudo-inverse with rtol = 1e-3, for
//! K = 10⁴ outer iterations. The hand-written loop is what a user would write with nalgebra's fixed-size types:
//! the closed-form gradient and Hessian, the forward Jacobian recursion, `SymmetricEigen` for the pseudo-inverse,
//! no metrics. The runtime runs with a full record every iteration (`Metrics::Every(1)`) and with the start and
//! the end only (`Metrics::End`). Before timing, the bench checks that both reach the same x (1e-9).
//!
//! `cargo bench --bench whole_runs`; the ratios are in BENCHMARKS.md.

use bilevel::nalgebra::{Matrix2, Vector2};
use bilevel::{bilevel, Algorithm, BgsOpt, Metrics, XiSolver};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

bilevel! {
    problem MexicanHat {
        upper x: real[2];
        lower y: real[2];
        minimize upper: 0.5 * norm2(y - [2, 1]) + 0.5 * norm2(x);
        minimize lower: (norm2(y - x) - 1)^2;
    }
}

const K: usize = 10_000;
const T: usize = 10;
const ALPHA: f64 = 0.05;
const GAMMA: f64 = 0.1;
const RTOL: f64 = 1e-3;

/// `∇y G` and `H = ∇²yy G` (and `B = ∇²xy G = −H`, since G depends on y − x).
fn lower(x: &Vector2<f64>, y: &Vector2<f64>) -> (Vector2<f64>, Matrix2<f64>) {
    let u = y - x;
    let s = u.norm_squared() - 1.0;
    (u * (4.0 * s), Matrix2::identity() * (4.0 * s) + u * u.transpose() * 8.0)
}

/// `H† v` with eigenvalues `|λ| ≤ rtol · max|λ|` cut.
fn pinv(h: &Matrix2<f64>, v: &Vector2<f64>) -> Vector2<f64> {
    let eig = h.symmetric_eigen();
    let cutoff = RTOL * eig.eigenvalues.amax();
    let mut out = Vector2::zeros();
    for i in 0..2 {
        let lambda = eig.eigenvalues[i];
        if lambda.abs() > cutoff {
            let e = eig.eigenvectors.column(i);
            out += e * (e.dot(v) / lambda);
        }
    }
    out
}

/// The hand-written corrected ITD loop.
fn hand_written(mut x: Vector2<f64>, mut y: Vector2<f64>) -> Vector2<f64> {
    let c = Vector2::new(2.0, 1.0);
    for _ in 0..K {
        let (mut jx, mut jy) = (Matrix2::zeros(), Matrix2::identity());
        for _ in 0..T {
            let (g, h) = lower(&x, &y);
            jx -= (jx * h - h) * ALPHA; // B = −H
            jy -= (jy * h) * ALPHA;
            y -= g * ALPHA;
        }
        let fy = y - c;
        let (_, h) = lower(&x, &y);
        let xi = -pinv(&h, &(jy * fy));
        let d = x + jx * fy - h * xi; // ∇x F + J_x ∇y F + B ξ
        x -= d * GAMMA;
    }
    x
}

fn whole_runs(c: &mut Criterion) {
    let (x0, y0) = (Vector2::new(0.0, 0.0), Vector2::new(0.6, 0.8));
    let run = |metrics: Metrics| BgsOpt {
        lower_step: Some(ALPHA),
        upper_step: GAMMA,
        outer_iters: K,
        metrics,
        ..BgsOpt::corrected_itd(T, XiSolver::Pinv { rtol: RTOL })
    };
    let ours = run(Metrics::End).solve(&MexicanHat, &x0, &y0).unwrap();
    let theirs = hand_written(x0, y0);
    assert!((ours.x() - theirs).norm() < 1e-9, "the same rule: {} vs {}", ours.x(), theirs);

    let mut group = c.benchmark_group("corrected-itd P2 T=10 K=1e4 pinv");
    group.sample_size(10);
    group.bench_function("runtime, metrics every iteration", |b| {
        let opt = run(Metrics::Every(1));
        b.iter(|| opt.solve(&MexicanHat, black_box(&x0), black_box(&y0)).unwrap())
    });
    group.bench_function("runtime, metrics every 100", |b| {
        let opt = run(Metrics::Every(100));
        b.iter(|| opt.solve(&MexicanHat, black_box(&x0), black_box(&y0)).unwrap())
    });
    group.bench_function("runtime, metrics at the end", |b| {
        let opt = run(Metrics::End);
        b.iter(|| opt.solve(&MexicanHat, black_box(&x0), black_box(&y0)).unwrap())
    });
    group.bench_function("hand-written", |b| b.iter(|| hand_written(black_box(x0), black_box(y0))));
    group.finish();
}

criterion_group!(benches, whole_runs);
criterion_main!(benches);
