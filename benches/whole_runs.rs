//! Whole runs through the runtime against a hand-written loop of the same update rule, in the same run: the three
//! cases of issue 8 — corrected ITD on P2, BDA on P1, GALET on P3.
//!
//! Corrected ITD on the Mexican hat (P2 of docs/algorithms.md: `G = (‖y − x‖² − 1)²`, `F = ½‖y − c‖² + ½‖x‖²`,
//! n = m = 2) with T = 10 unrolled steps, α = 0.05, γ = 0.1, warm start, the pseudo-inverse with rtol = 1e-3, for
//! K = 10⁴ outer iterations. The hand-written loop is what a user would write with nalgebra's fixed-size types:
//! the closed-form gradient and Hessian, the forward Jacobian recursion, `SymmetricEigen` for the pseudo-inverse,
//! no metrics. The runtime runs with a full record every iteration (`Metrics::Every(1)`) and with the start and
//! the end only (`Metrics::End`). Before timing, the bench checks that both reach the same x (1e-9).
//!
//! BDA on BDA's Example 1 (P1: `F = ½(x − y₁)² + ½(y₀ − 1)²`, `G = ½y₀² − x y₀`, x ∈ [−100, 100]) with K = 64
//! inner steps (s_u = 0.7, s_l = 0.2, μ = 0.5) and L = 2000 outer ones (γ = 0.5), from y₀ = (2, 2); GALET on
//! GALET's example (P3: `F = x² + y₀ − sin y₁`, `G = ½(x + y₀ − sin y₁)²`) with the paper's steps (α = 0.3,
//! β = 1, N = 1, ρ = 0.1, T = 1, warm w) for K = 10⁴. Each hand-written loop uses the closed-form derivatives.
//!
//! `cargo bench --bench whole_runs`; the ratios are in BENCHMARKS.md.

use bilevel::nalgebra::{Matrix2, RowVector2, Vector1, Vector2};
use bilevel::{Algorithm, Bda, BgsOpt, Galet, Metrics, XiSolver};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

// The problems as the examples define them.
#[path = "../tests/problems/mod.rs"]
mod problems;
use problems::{counter_example, galet_example, mexican_hat};

use counter_example::CounterExample;
use galet_example::GaletExample;
use mexican_hat::MexicanHat;

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

/// BDA on P1, by hand: `y` restarts from `y0` at every outer step; `J` is the 1 × 2 Jacobian of `y` in `x`.
fn hand_bda(a: &Bda, mut x: f64, y0: Vector2<f64>) -> f64 {
    let (su, sl) = (a.upper_inner_step, a.lower_inner_step.expect("given"));
    // Constant blocks: ∇²yy F = I, ∇²xy F = (0, −1), ∇²yy G = diag(1, 0), ∇²xy G = (−1, 0).
    let (fyy, fxy) = (Matrix2::identity(), RowVector2::new(0.0, -1.0));
    let (gyy, gxy) = (Matrix2::new(1.0, 0.0, 0.0, 0.0), RowVector2::new(-1.0, 0.0));
    for _ in 0..a.outer_iters {
        let (mut y, mut j) = (y0, RowVector2::zeros());
        for k in 1..=a.inner_iters {
            let w = a.mu / k as f64;
            let (wf, wg) = (w * su, (1.0 - w) * sl);
            let fy = Vector2::new(y[0] - 1.0, y[1] - x);
            let gy = Vector2::new(y[0] - x, 0.0);
            j = j - j * (fyy * wf + gyy * wg) - (fxy * wf + gxy * wg);
            y -= fy * wf + gy * wg;
        }
        let d = (x - y[1]) + (j * Vector2::new(y[0] - 1.0, y[1] - x))[0];
        x = (x - a.upper_step * d).clamp(-100.0, 100.0);
    }
    x
}

/// GALET on P3, by hand.
fn hand_galet(a: &Galet, mut x: f64, mut y: Vector2<f64>) -> f64 {
    let beta = a.lower_step.expect("given");
    let mut w = Vector2::zeros();
    for _ in 0..a.outer_iters {
        for _ in 0..a.lower_iters {
            let r = x + y[0] - y[1].sin();
            y -= Vector2::new(r, -y[1].cos() * r) * beta;
        }
        let (r, c, s) = (x + y[0] - y[1].sin(), y[1].cos(), y[1].sin());
        let h = Matrix2::new(1.0, -c, -c, c * c + s * r);
        let fy = Vector2::new(1.0, -c);
        for _ in 0..a.w_iters {
            w -= h * (fy + h * w) * a.w_step;
        }
        let d = 2.0 * x + RowVector2::new(1.0, -c).dot(&w.transpose());
        x -= a.upper_step * d;
    }
    x
}

fn whole_runs(c: &mut Criterion) {
    let (x0, y0) = (Vector2::new(0.0, 0.0), Vector2::new(0.6, 0.8));
    let hat = MexicanHat::default(); // c = (2, 1), λ = 1, as in `hand_written`
    let run = |metrics: Metrics| BgsOpt {
        lower_step: Some(ALPHA),
        upper_step: GAMMA,
        outer_iters: K,
        metrics,
        ..BgsOpt::corrected_itd(T, XiSolver::Pinv { rtol: RTOL })
    };
    let ours = run(Metrics::End).solve(&hat, &x0, &y0).unwrap();
    let theirs = hand_written(x0, y0);
    assert!((ours.x() - theirs).norm() < 1e-9, "the same rule: {} vs {}", ours.x(), theirs);

    let mut group = c.benchmark_group("corrected-itd P2 T=10 K=1e4 pinv");
    group.sample_size(10);
    group.bench_function("runtime, metrics every iteration", |b| {
        let opt = run(Metrics::Every(1));
        b.iter(|| opt.solve(&hat, black_box(&x0), black_box(&y0)).unwrap())
    });
    group.bench_function("runtime, metrics every 100", |b| {
        let opt = run(Metrics::Every(100));
        b.iter(|| opt.solve(&hat, black_box(&x0), black_box(&y0)).unwrap())
    });
    group.bench_function("runtime, metrics at the end", |b| {
        let opt = run(Metrics::End);
        b.iter(|| opt.solve(&hat, black_box(&x0), black_box(&y0)).unwrap())
    });
    group.bench_function("hand-written", |b| b.iter(|| hand_written(black_box(x0), black_box(y0))));
    group.finish();

    let bda = |metrics| Bda { inner_iters: 64, lower_inner_step: Some(0.2), metrics, ..Bda::default() };
    let (x0, y0) = (Vector1::new(0.0), Vector2::new(2.0, 2.0));
    let ours = bda(Metrics::End).solve(&CounterExample, &x0, &y0).unwrap();
    let theirs = hand_bda(&bda(Metrics::End), 0.0, y0);
    assert!((ours.x()[0] - theirs).abs() < 1e-9, "the same rule: {} vs {theirs}", ours.x()[0]);
    let mut group = c.benchmark_group("bda P1 K=64 L=2000");
    group.sample_size(10);
    for (name, metrics) in [("every iteration", Metrics::Every(1)), ("at the end", Metrics::End)] {
        let opt = bda(metrics);
        group.bench_function(format!("runtime, metrics {name}"), |b| {
            b.iter(|| opt.solve(&CounterExample, black_box(&x0), black_box(&y0)).unwrap())
        });
    }
    let opt = bda(Metrics::End);
    group.bench_function("hand-written", |b| b.iter(|| hand_bda(&opt, black_box(0.0), black_box(y0))));
    group.finish();

    let galet = |metrics| Galet { outer_iters: K, lower_step: Some(1.0), metrics, ..Galet::default() };
    let (x0, y0) = (Vector1::new(1.0), Vector2::new(1.0, 1.0));
    let ours = galet(Metrics::End).solve(&GaletExample, &x0, &y0).unwrap();
    let theirs = hand_galet(&galet(Metrics::End), 1.0, y0);
    assert!((ours.x()[0] - theirs).abs() < 1e-9, "the same rule: {} vs {theirs}", ours.x()[0]);
    let mut group = c.benchmark_group("galet P3 K=1e4");
    group.sample_size(10);
    for (name, metrics) in [("every iteration", Metrics::Every(1)), ("at the end", Metrics::End)] {
        let opt = galet(metrics);
        group.bench_function(format!("runtime, metrics {name}"), |b| {
            b.iter(|| opt.solve(&GaletExample, black_box(&x0), black_box(&y0)).unwrap())
        });
    }
    let opt = galet(Metrics::End);
    group.bench_function("hand-written", |b| b.iter(|| hand_galet(&opt, black_box(1.0), black_box(y0))));
    group.finish();
}

criterion_group!(benches, whole_runs);
criterion_main!(benches);
