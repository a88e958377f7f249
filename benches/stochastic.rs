//! A step of SOBA (batches of 64) on the reference benchmark's regularization-selection problem
//! (`examples/problems/stochastic_logistic.bl`, p = 22 features like ijcnn1) against a hand-written step of the
//! same rule, in the same run, at N = 10⁴ and N = 2·10⁵ training samples (and as many validation samples): a step
//! reads its batches only, so its cost must not grow with N.
//!
//! The generated side is the algorithm itself (`Soba`, the time its steps take as its `Run::seconds` report, the
//! start's and the end's metrics off the clock); the hand-written side does the same three products by hand over
//! the same kind of batches (contiguous blocks of 64 in a shuffled order) with the same updates:
//! `∇z G_B` with `∇x G_B`, `(∇²xz G_B v, ∇²zz G_B v)` and `∇z F_B'`, each one pass over the batch's rows.
//!
//! Run with `cargo bench --bench stochastic`; the ratios are in BENCHMARKS.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bilevel::data::{numbers, Array, Lcg};
use bilevel::{bilevel, Algorithm, Metrics, Soba};
use criterion::{criterion_group, criterion_main, Criterion};

bilevel!(file = "examples/problems/stochastic_logistic.bl");

const P: usize = 22;
const BATCH: usize = 64;
/// The step `s` (r = 1, decreasing as 1/√(t+1)).
const STEP: f64 = 0.5;

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum()
}

/// Samples and labels.
struct Split {
    x: Vec<f64>,
    t: Vec<f64>,
}

fn split(n: usize, seed: u64) -> Split {
    Split { x: numbers(n * P, seed), t: numbers(n, seed + 1).iter().map(|v| v.signum()).collect() }
}

/// The blocks of `n` samples in the order of docs/algorithms.md's shuffled batches: the first epoch in order,
/// each later one shuffled (Fisher–Yates on the seeded generator of stream `stream` of seed 1).
struct Order {
    blocks: Vec<usize>,
    next: usize,
    rng: Lcg,
}

impl Order {
    fn new(n: usize, stream: u64) -> Order {
        let seed = 1u64.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(stream);
        Order { blocks: (0..n.div_ceil(BATCH)).collect(), next: 0, rng: Lcg::new(seed) }
    }

    fn block(&mut self) -> usize {
        if self.next == self.blocks.len() {
            for i in (1..self.blocks.len()).rev() {
                let j = ((self.rng.unit() * (i + 1) as f64) as usize).min(i);
                self.blocks.swap(i, j);
            }
            self.next = 0;
        }
        self.next += 1;
        self.blocks[self.next - 1]
    }
}

/// The rows of block `b`.
fn rows(s: &Split, b: usize) -> (&[f64], &[f64]) {
    let n = s.t.len();
    let (start, end) = (b * BATCH, ((b + 1) * BATCH).min(n));
    (&s.x[start * P..end * P], &s.t[start..end])
}

/// The state of a hand-written run.
struct State {
    x: Vec<f64>,
    z: Vec<f64>,
    v: Vec<f64>,
    gx: Vec<f64>,
    gz: Vec<f64>,
    hx: Vec<f64>,
    hz: Vec<f64>,
    fz: Vec<f64>,
}

/// `steps` hand-written SOBA steps.
fn hand_written(train: &Split, val: &Split, steps: usize) -> State {
    let mut s = State {
        x: vec![0.0; P],
        z: vec![0.0; P],
        v: vec![0.0; P],
        gx: vec![0.0; P],
        gz: vec![0.0; P],
        hx: vec![0.0; P],
        hz: vec![0.0; P],
        fz: vec![0.0; P],
    };
    let (mut og, mut of) = (Order::new(train.t.len(), 0), Order::new(val.t.len(), 1));
    for k in 0..steps {
        let rho = STEP / ((k + 1) as f64).sqrt();
        let (xb, tb) = rows(train, og.block());
        let b = tb.len() as f64;
        // ∇z G_B and ∇x G_B.
        for j in 0..P {
            let e = s.x[j].exp();
            s.gx[j] = 0.5 * e * s.z[j] * s.z[j];
            s.gz[j] = e * s.z[j];
        }
        for (row, &ti) in xb.chunks_exact(P).zip(tb) {
            let c = -ti * sigmoid(-ti * dot(row, &s.z)) / b;
            s.gz.iter_mut().zip(row).for_each(|(g, r)| *g += c * r);
        }
        // ∇²xz G_B v and ∇²zz G_B v.
        for j in 0..P {
            let e = s.x[j].exp();
            s.hx[j] = e * s.z[j] * s.v[j];
            s.hz[j] = e * s.v[j];
        }
        for (row, &ti) in xb.chunks_exact(P).zip(tb) {
            let (mut xz, mut xv) = (0.0, 0.0);
            for ((r, zj), vj) in row.iter().zip(&s.z).zip(&s.v) {
                xz += r * zj;
                xv += r * vj;
            }
            let sg = sigmoid(ti * xz);
            let c = ti * ti * sg * (1.0 - sg) * xv / b;
            s.hz.iter_mut().zip(row).for_each(|(h, r)| *h += c * r);
        }
        // ∇z F_B' (F does not depend on x).
        let (xb, tb) = rows(val, of.block());
        let b = tb.len() as f64;
        s.fz.iter_mut().for_each(|g| *g = 0.0);
        for (row, &ti) in xb.chunks_exact(P).zip(tb) {
            let c = -ti * sigmoid(-ti * dot(row, &s.z)) / b;
            s.fz.iter_mut().zip(row).for_each(|(g, r)| *g += c * r);
        }
        for j in 0..P {
            s.z[j] -= rho * s.gz[j];
            s.v[j] -= rho * (s.hz[j] + s.fz[j]);
            s.x[j] -= rho * s.hx[j];
        }
    }
    s
}

fn problem(train: &Split, val: &Split) -> RidgeLogistic {
    let n = |s: &Split| s.t.len();
    RidgeLogistic::new(RidgeLogisticData {
        X: Array::matrix(n(train), P, train.x.clone()).unwrap(),
        t: Array::vector(train.t.clone()),
        Xv: Array::matrix(n(val), P, val.x.clone()).unwrap(),
        tv: Array::vector(val.t.clone()),
    })
    .unwrap()
}

fn soba_step(c: &mut Criterion) {
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let mut group = c.benchmark_group("soba step, batch 64, p = 22");
    group.sample_size(10);
    for n in [10_000, 200_000] {
        let (train, val) = (split(n, 1), split(n, 3));
        let p = problem(&train, &val);
        let soba = |steps: usize| Soba { iters: steps, step: Some(STEP), metrics: Metrics::End, ..Soba::default() };
        // The two sides run the same rule on the same batches: after 1000 steps (several epochs at N = 10⁴) they
        // agree to rounding.
        let (run, hand) = (soba(1000).solve(&p, &[0.0; P], &[0.0; P]).unwrap(), hand_written(&train, &val, 1000));
        let gap = run.x().iter().zip(&hand.x).chain(run.last().y.iter().zip(&hand.z)).map(|(a, b)| (a - b).abs());
        let gap = gap.fold(0.0, f64::max);
        assert!(gap < 1e-12, "generated and hand-written SOBA differ by {gap:e}");
        // Each call runs at least 20 000 steps and reports the time of `iters` of them at their average: a run's
        // start (the curvature, the start's record) and end (its final metrics) are full-data work off the clock,
        // after which the first few steps read cold caches; criterion's few short calls measured mostly that.
        let generated = |iters: u64| {
            let steps = iters.max(20_000);
            let run = soba(steps as usize).solve(&p, &[0.0; P], &[0.0; P]).unwrap();
            Duration::from_secs_f64(run.seconds.last().unwrap() * iters as f64 / steps as f64)
        };
        group.bench_function(format!("generated N={n}"), |b| b.iter_custom(generated));
        group.bench_function(format!("generated, 1 thread N={n}"), |b| {
            b.iter_custom(|iters| one_thread.install(|| generated(iters)))
        });
        group.bench_function(format!("hand-written N={n}"), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                black_box(hand_written(&train, &val, iters as usize));
                start.elapsed()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, soba_step);
criterion_main!(benches);
