//! SOBA and SABA (Dagréou, Ablin, Vaiter & Moreau, NeurIPS 2022) and SRBA (Dagréou, Moreau, Vaiter & Ablin,
//! AISTATS 2024): single-loop stochastic methods that move `y`, the linear-system variable `v` and `x` together at
//! every step, on batches of samples. They differ only in how the batch products become directions
//! ([`Estimator`]).

use std::ops::ControlFlow;

use crate::algorithm::Iterate;
use crate::batch::Batch;
use crate::driver::{check_steps, run, upper_step, Metrics, Schedule, Step, Stop};
use crate::error::{SolveError, SolveResult};
use crate::matrix_free::vector::{axpy, norm, Buf};
use crate::matrix_free::Vector;
use crate::matrix_free::{LowerStep, MatrixFreeProblem};

use super::sampler::{Batches, Draw, Drawn, Sampler};
use super::{counts, samplers};

/// How a stochastic single-loop method turns the products on its batches into directions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Estimator {
    /// The batch estimates as they are (SOBA).
    Batch,
    /// SAGA: a memory of each block's last products (SABA).
    Saga,
    /// SARAH: recursive directions, `D ← D + P(point) − P(previous point)` on the same batches, refreshed with
    /// the full products every `⌊period · (N_G + N_F) / b⌋` steps (SRBA; `period` is a fraction of an epoch).
    Sarah {
        /// The refresh period, as a fraction of an epoch.
        period: f64,
    },
}

/// SOBA, SABA and SRBA: for lower levels strongly convex in `y`, whose objectives are means over samples.
///
/// At step `t = 0, 1, …` with batches `B` of `G`'s samples and `B'` of `F`'s (each derivative below the batch's
/// mean, see [`crate::batch`]):
/// ```text
/// ρ = s / (t + 1)^a,   γ = (s / r) / (t + 1)^a
/// D_y = ∇y G_B(x, y),  D_v = ∇²yy G_B(x, y) v + ∇y F_B'(x, y),  D_x = ∇²xy G_B(x, y) v + ∇x F_B'(x, y)
/// y ← y − ρ D_y,   v ← v − ρ D_v,   x ← Π_X(x − γ D_x)
/// ```
/// all at the same `(x, y, v)`, `v` from 0. `v` tracks `−H⁻¹ ∇y F` (the sign of the reference benchmark's code;
/// the paper's `v` is its opposite), so `D_x` estimates the hypergradient `∇x F + B v`. SOBA uses the batch
/// estimates as they are, with decreasing steps (`a = ½`). SABA (`Estimator::Saga`) replaces each by its SAGA estimate: a
/// memory of every block of samples' last value, the direction `D − memory[block] + mean(memory)`, then the
/// memory updated; the memories start at zero, and the steps are constant (`a = 0`), the paper's claim being that
/// SABA converges with constant steps. SABA needs [`Draw::Shuffled`] batches (one memory per block). SRBA
/// (`Estimator::Sarah`) sets the three directions from the full products at its refresh steps (no batch drawn)
/// and otherwise adds to them the difference of the batch products at the point and at the previous point (twice
/// the products a step), with constant steps.
///
/// The metrics of the field are the records' (off the clock): `upper_at_solution` is `h(x) = F(x, y*(x))` with
/// `y*` solved accurately, in every record with [`Metrics::Solved`] (`--eval-every`). Each record also has the cumulative counts of
/// per-sample evaluations, `oracle_grad` (gradients of `G` and `F`: `|B| + |B'|` a step) and `oracle_hvp`
/// (products with `∇²G`: `|B|` a step).
///
/// ```
/// use bilevel_runtime::{Algorithm, Soba};
/// assert_eq!((Soba::default().name(), Soba::saba().name(), Soba::srba().name()), ("soba".into(), "saba".into(), "srba".into()));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Soba {
    /// Steps `K`.
    pub iters: usize,
    /// The step `s` of `y` and `v` (`None`, the default: `1/L_G` estimated at the start for SOBA, `1/(2 L_G)` for
    /// SABA and SRBA).
    pub step: Option<f64>,
    /// The ratio `r` of the steps of `y` and `x`: `x` moves by `s / r`.
    pub outer_ratio: f64,
    /// The exponent `a` of the decreasing steps `s / (t + 1)^a` (0: constant steps).
    pub decay: f64,
    /// How batch products become directions.
    pub estimator: Estimator,
    /// The batches of `G` and of `F`.
    pub batches: Batches,
    /// When to stop besides the step count.
    pub stop: Stop,
    /// Which iterates the trace keeps.
    pub metrics: Metrics,
}

impl Default for Soba {
    /// SOBA: batches of 64, `r = 1`, steps decreasing as `1/√(t + 1)`, 1000 steps.
    fn default() -> Soba {
        Soba {
            iters: 1000,
            step: None,
            outer_ratio: 1.0,
            decay: 0.5,
            estimator: Estimator::Batch,
            batches: Batches::default(),
            stop: Stop::default(),
            metrics: Metrics::default(),
        }
    }
}

impl Soba {
    /// SABA: SOBA's settings with SAGA memories and constant steps.
    pub fn saba() -> Soba {
        Soba { decay: 0.0, estimator: Estimator::Saga, ..Soba::default() }
    }

    /// SRBA: SOBA's settings with SARAH directions refreshed every half epoch and constant steps.
    pub fn srba() -> Soba {
        Soba { decay: 0.0, estimator: Estimator::Sarah { period: 0.5 }, ..Soba::default() }
    }

    fn check(&self) -> Result<(), SolveError> {
        check_steps(&[("step", self.step.unwrap_or(f64::NAN)), ("outer_ratio", self.outer_ratio)])?;
        if !(self.decay.is_finite() && self.decay >= 0.0) {
            return Err(SolveError::Options(format!("decay must be finite and ≥ 0, not {}", self.decay)));
        }
        if self.batches.batch == 0 {
            return Err(SolveError::Options("the batch size must be at least 1".into()));
        }
        if let Estimator::Sarah { period } = self.estimator {
            if !(period.is_finite() && period > 0.0) {
                return Err(SolveError::Options(format!("the period must be finite and positive, not {period}")));
            }
        }
        if self.estimator == Estimator::Saga && self.batches.draw != Draw::Shuffled {
            let why = "saba keeps a memory per block of samples: it needs shuffled batches (sampler shuffled)";
            return Err(SolveError::Options(why.into()));
        }
        Ok(())
    }
}

/// The products of one step at one point: `∇y G`, `H v`, `B v` on `G`'s batch, `∇y F`, `∇x F` on `F`'s.
struct Products<X, Y> {
    dy: Buf<Y>,
    hv: Buf<Y>,
    bv: Buf<X>,
    fy: Buf<Y>,
    fx: Buf<X>,
}

impl<X: Vector, Y: Vector> Products<X, Y> {
    fn new(n: usize, m: usize) -> Self {
        Products { dy: Buf::zeros(m), hv: Buf::zeros(m), bv: Buf::zeros(n), fy: Buf::zeros(m), fx: Buf::zeros(n) }
    }

    /// The products at `(x, y, v)` on the batches `(g, f)` (`gx` is scratch for `∇x G`).
    fn at<P: MatrixFreeProblem>(&mut self, p: &P, (g, f): (Batch, Batch), (x, y, v): Point, gx: &mut [f64]) {
        p.lower_grad_batch(g, x, y, gx, &mut self.dy);
        p.lower_hvp_y_batch(g, x, y, v, &mut self.bv, &mut self.hv);
        p.upper_grad_batch(f, x, y, &mut self.fx, &mut self.fy);
    }

    /// The directions they make: `D_y = ∇y G`, `D_v = H v + ∇y F`, `D_x = B v + ∇x F`.
    fn directions(&self, d: &mut Directions<X, Y>) {
        d.y.copy_from_slice(&self.dy);
        d.v.iter_mut().zip(self.hv.iter().zip(self.fy.iter())).for_each(|(o, (a, b))| *o = a + b);
        d.x.iter_mut().zip(self.bv.iter().zip(self.fx.iter())).for_each(|(o, (a, b))| *o = a + b);
    }

    /// `D ← D + directions(self) − directions(old)` (SARAH).
    fn add_change(&self, old: &Self, d: &mut Directions<X, Y>) {
        d.y.iter_mut().zip(self.dy.iter().zip(old.dy.iter())).for_each(|(o, (a, b))| *o += a - b);
        let change = |o: &mut [f64], new: (&[f64], &[f64]), before: (&[f64], &[f64])| {
            for (i, o) in o.iter_mut().enumerate() {
                *o += (new.0[i] - before.0[i]) + (new.1[i] - before.1[i]);
            }
        };
        change(&mut d.v, (&self.hv, &self.fy), (&old.hv, &old.fy));
        change(&mut d.x, (&self.bv, &self.fx), (&old.bv, &old.fx));
    }
}

/// A point `(x, y, v)`.
type Point<'a> = (&'a [f64], &'a [f64], &'a [f64]);

/// The directions `D_y`, `D_v`, `D_x` of a step.
struct Directions<X, Y> {
    y: Buf<Y>,
    v: Buf<Y>,
    x: Buf<X>,
}

/// SAGA memories of one direction: each block's last value and their mean weighted by the blocks' shares.
struct Memory {
    table: Vec<f64>,
    mean: Vec<f64>,
}

impl Memory {
    fn new(blocks: usize, len: usize) -> Memory {
        Memory { table: vec![0.0; blocks * len], mean: vec![0.0; len] }
    }

    /// `d ← d − memory[block] + mean`, the mean and the block's memory updated to the new value of `d`.
    fn reduce(&mut self, block: usize, weight: f64, d: &mut [f64]) {
        let len = d.len();
        let kept = &mut self.table[block * len..(block + 1) * len];
        for ((di, ki), mi) in d.iter_mut().zip(kept).zip(&mut self.mean) {
            let diff = *di - *ki;
            *ki = *di;
            *di = diff + *mi;
            *mi += weight * diff;
        }
    }
}

impl Iterate for Soba {
    const LOWER_STEP: &'static str = "s";

    fn name(&self) -> String {
        match self.estimator {
            Estimator::Batch => "soba",
            Estimator::Saga => "saba",
            Estimator::Sarah { .. } => "srba",
        }
        .into()
    }

    fn settings(&self) -> String {
        let draw = self.batches.draw.name();
        format!(
            "s={} r={} a={} b={} {draw} seed={} K={}",
            self.step.map_or_else(|| format!("{}/L_G", self.curvature_fraction()), |s| s.to_string()),
            self.outer_ratio,
            self.decay,
            self.batches.batch,
            self.batches.seed,
            self.iters
        )
    }

    fn lower_step(&self) -> Option<f64> {
        self.step
    }

    /// SABA's and SRBA's constant steps take half of `1/L_G` when none is given (`1/L_G` diverged on a
    /// least-squares problem where `1/(2 L_G)` converges linearly; SOBA's decreasing steps start at `1/L_G`).
    fn curvature_fraction(&self) -> f64 {
        match self.estimator {
            Estimator::Batch => 1.0,
            Estimator::Saga | Estimator::Sarah { .. } => 0.5,
        }
    }

    fn with_lower_step(&self, value: f64) -> Self {
        Soba { step: Some(value), ..self.clone() }
    }

    /// The run from `(x0, y0)` with the step given: three batch products a step (`∇G` and `(B v, H v)` on `B`,
    /// `∇F` on `B'`; twice that for SRBA). Buffers, samplers and memories are allocated once per run.
    fn iterate<P: MatrixFreeProblem>(
        &self,
        problem: &P,
        (x0, y0): (&[f64], &[f64]),
        lower: LowerStep,
        observer: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
    ) -> SolveResult {
        self.check()?;
        let [(mut on_g, n_g), (mut on_f, n_f)] = samplers(problem, &self.batches)?;
        let (n, m) = problem.dims();
        let (mut gx, mut v, mut old) = (Buf::<P::X>::zeros(n), Buf::<P::Y>::zeros(m), Buf::<P::X>::zeros(n));
        let (mut now, mut before) = (Products::<P::X, P::Y>::new(n, m), Products::<P::X, P::Y>::new(n, m));
        let mut d = Directions { y: Buf::<P::Y>::zeros(m), v: Buf::<P::Y>::zeros(m), x: Buf::<P::X>::zeros(n) };
        // SRBA's previous point.
        let (mut px, mut py, mut pv) =
            (Buf::<P::X>::from_slice(x0), Buf::<P::Y>::from_slice(y0), Buf::<P::Y>::zeros(m));
        let blocks = |sampler: &Sampler| if self.estimator == Estimator::Saga { sampler.blocks() } else { 0 };
        let (bg, bf) = (blocks(&on_g), blocks(&on_f));
        let mut memories = [(bg, m), (bg, m), (bg, n), (bf, m), (bf, n)].map(|(b, len)| Memory::new(b, len));
        // SRBA's refresh steps are 1, 1 + q, 1 + 2q, …; the other methods have none.
        let period = match self.estimator {
            Estimator::Sarah { period } => {
                Some((((n_g + n_f) as f64 * period / self.batches.batch as f64) as usize).max(1))
            }
            _ => None,
        };
        let (mut grads, mut hvps) = (0.0, 0.0);
        let bounds = problem.bounds();
        let (step, ratio, decay) = (lower.value, self.outer_ratio, self.decay);
        let schedule = Schedule { iters: self.iters, stop: self.stop, lower, metrics: self.metrics };
        run(problem, (x0, y0), schedule, counts(0.0, 0.0), observer, |k, x, y, kept| {
            let rho = step / (k as f64).powf(decay);
            let refresh = period.is_some_and(|q| (k - 1) % q == 0);
            let (g, f) = match refresh {
                true => (Drawn::all(n_g), Drawn::all(n_f)),
                false => (on_g.draw(), on_f.draw()),
            };
            let batches = (g.batch, f.batch);
            now.at(problem, batches, (x, y, &v), &mut gx);
            (grads, hvps) = (grads + (g.len + f.len) as f64, hvps + g.len as f64);
            match self.estimator {
                Estimator::Batch => now.directions(&mut d),
                Estimator::Saga => {
                    let [my, mh, mb, mfy, mfx] = &mut memories;
                    my.reduce(g.block, g.weight, &mut now.dy);
                    mh.reduce(g.block, g.weight, &mut now.hv);
                    mb.reduce(g.block, g.weight, &mut now.bv);
                    mfy.reduce(f.block, f.weight, &mut now.fy);
                    mfx.reduce(f.block, f.weight, &mut now.fx);
                    now.directions(&mut d);
                }
                Estimator::Sarah { .. } if refresh => now.directions(&mut d),
                Estimator::Sarah { .. } => {
                    before.at(problem, batches, (&px, &py, &pv), &mut gx);
                    (grads, hvps) = (grads + (g.len + f.len) as f64, hvps + g.len as f64);
                    now.add_change(&before, &mut d);
                }
            }
            if let Estimator::Sarah { .. } = self.estimator {
                px.copy_from_slice(x);
                py.copy_from_slice(y);
                pv.copy_from_slice(&v);
            }
            axpy(y, -rho, &d.y);
            axpy(&mut v, -rho, &d.v);
            let moved = upper_step(bounds.as_ref(), x, &d.x, rho / ratio, &mut old);
            Step { dir_norm: norm(&d.x), moved, extras: if kept { counts(grads, hvps) } else { Vec::new() } }
        })
    }
}
