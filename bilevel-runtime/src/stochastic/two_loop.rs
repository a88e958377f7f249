//! StocBiO (Ji, Yang & Liang, ICML 2021) and AmIGO (Arbel & Mairal, ICLR 2022): stochastic methods with inner
//! loops — stochastic gradient steps on `y` and a stochastic solve of the linear system for `v` — between the
//! steps on `x`, on batches of samples.

use std::ops::ControlFlow;

use crate::algorithm::Iterate;
use crate::driver::{check_steps, run, upper_step, Metrics, Schedule, Step, Stop};
use crate::error::{SolveError, SolveResult};
use crate::matrix_free::vector::{axpy, norm, Buf};
use crate::matrix_free::{LowerStep, MatrixFreeProblem};

use super::sampler::{Batches, Sampler};
use super::{counts, samplers};

/// How a two-loop method solves `H v = −∇y F` on batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Linear {
    /// StocBiO's truncated Neumann series from scratch: `v = η Σ_{q=0..Q} Π_{j≤q} (I − η H_{B_j}) b` with
    /// `b = −∇y F` and a new batch for each factor.
    Neumann {
        /// The terms `Q`.
        terms: usize,
    },
    /// AmIGO's warm-started stochastic gradient steps `v ← v − η (H_B v + ∇y F)`.
    Sgd {
        /// The steps.
        steps: usize,
    },
}

/// StocBiO and AmIGO: for lower levels strongly convex in `y`, whose objectives are means over samples.
///
/// Before the first step `y` takes `T` stochastic gradient steps; then each step, with constant steps `s` for `y`
/// and `v` and `s / r` for `x`, each derivative on a batch of its own:
/// ```text
/// v ≈ −H⁻¹ ∇y F_B'(x, y)               (Linear: Neumann from scratch, or warm SGD)
/// x ← Π_X(x − (s/r) (∇x F_B'(x, y) + ∇²xy G_B(x, y) v))
/// y ← T steps of y − s ∇y G_B(x, y)     (at the new x)
/// ```
/// (the reference benchmark's order; its `v` is the opposite of ours). Each record has the cumulative counts
/// `oracle_grad` and `oracle_hvp` as SOBA's ([`crate::Soba`]).
///
/// ```
/// use bilevel_runtime::{Algorithm, TwoLoop};
/// assert_eq!((TwoLoop::stocbio().name(), TwoLoop::amigo().name()), ("stocbio".into(), "amigo".into()));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TwoLoop {
    /// Steps on `x`, `K`.
    pub iters: usize,
    /// The step `s` of `y` and `v` (`None`: `1/(2 L_G)` at the start).
    pub step: Option<f64>,
    /// The ratio `r`: `x` moves by `s / r`.
    pub outer_ratio: f64,
    /// Stochastic gradient steps `T` on `y` per step on `x`.
    pub inner_steps: usize,
    /// How `v` is computed.
    pub linear: Linear,
    /// The batches of `G` and of `F`.
    pub batches: Batches,
    /// When to stop besides the step count.
    pub stop: Stop,
    /// Which iterates the trace keeps.
    pub metrics: Metrics,
}

impl TwoLoop {
    /// StocBiO: `T = 10` steps on `y`, a Neumann series of `Q = 10` terms, `r = 1`, batches of 64, 1000 steps.
    pub fn stocbio() -> TwoLoop {
        TwoLoop {
            iters: 1000,
            step: None,
            outer_ratio: 1.0,
            inner_steps: 10,
            linear: Linear::Neumann { terms: 10 },
            batches: Batches::default(),
            stop: Stop::default(),
            metrics: Metrics::default(),
        }
    }

    /// AmIGO: StocBiO's settings with 10 warm-started SGD steps on `v`.
    pub fn amigo() -> TwoLoop {
        TwoLoop { linear: Linear::Sgd { steps: 10 }, ..TwoLoop::stocbio() }
    }

    fn check(&self) -> Result<(), SolveError> {
        check_steps(&[("step", self.step.unwrap_or(f64::NAN)), ("outer_ratio", self.outer_ratio)])?;
        if self.batches.batch == 0 {
            return Err(SolveError::Options("the batch size must be at least 1".into()));
        }
        Ok(())
    }
}

impl Iterate for TwoLoop {
    const LOWER_STEP: &'static str = "s";

    fn name(&self) -> String {
        match self.linear {
            Linear::Neumann { .. } => "stocbio",
            Linear::Sgd { .. } => "amigo",
        }
        .into()
    }

    fn settings(&self) -> String {
        let linear = match self.linear {
            Linear::Neumann { terms } => format!("Q={terms}"),
            Linear::Sgd { steps } => format!("v-steps={steps}"),
        };
        let step = self.step.map_or_else(|| "0.5/L_G".to_string(), |s| s.to_string());
        format!(
            "s={step} r={} T={} {linear} b={} {} seed={} K={}",
            self.outer_ratio,
            self.inner_steps,
            self.batches.batch,
            self.batches.draw.name(),
            self.batches.seed,
            self.iters
        )
    }

    fn lower_step(&self) -> Option<f64> {
        self.step
    }

    /// Constant steps: half of `1/L_G` when none is given, as SABA's.
    fn curvature_fraction(&self) -> f64 {
        0.5
    }

    fn with_lower_step(&self, value: f64) -> Self {
        TwoLoop { step: Some(value), ..self.clone() }
    }

    /// The run from `(x0, y0)` with the step given. Buffers and samplers are allocated once per run.
    fn iterate<P: MatrixFreeProblem>(
        &self,
        problem: &P,
        (x0, y0): (&[f64], &[f64]),
        lower: LowerStep,
        observer: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
    ) -> SolveResult {
        self.check()?;
        let [(mut on_g, _), (mut on_f, _)] = samplers(problem, &self.batches)?;
        let (n, m) = problem.dims();
        let (xs, ys) = (Buf::<P::X>::zeros, Buf::<P::Y>::zeros);
        let (mut gx, mut dy, mut fx, mut fy, mut bv, mut hv) = (xs(n), ys(m), xs(n), ys(m), xs(n), ys(m));
        let (mut v, mut u, mut sum, mut old) = (ys(m), ys(m), ys(m), xs(n));
        let (mut grads, mut hvps) = (0.0, 0.0);
        let bounds = problem.bounds();
        let (step, ratio) = (lower.value, self.outer_ratio);
        let schedule = Schedule { iters: self.iters, stop: self.stop, lower, metrics: self.metrics };
        // `T` stochastic gradient steps on `y` at `x`.
        let mut descend = |on_g: &mut Sampler, x: &[f64], y: &mut [f64], grads: &mut f64| {
            for _ in 0..self.inner_steps {
                let g = on_g.draw();
                problem.lower_grad_batch(g.batch, x, y, &mut gx, &mut dy);
                axpy(y, -step, &dy);
                *grads += g.len as f64;
            }
        };
        run(problem, (x0, y0), schedule, counts(0.0, 0.0), observer, |k, x, y, kept| {
            if k == 1 {
                descend(&mut on_g, x, y, &mut grads);
            }
            let f = on_f.draw();
            problem.upper_grad_batch(f.batch, x, y, &mut fx, &mut fy);
            grads += f.len as f64;
            match self.linear {
                Linear::Neumann { terms } => {
                    // u = b = −∇y F; sum = b; then u ← (I − η H_B) u, sum += u, Q times; v = η sum.
                    u.iter_mut().zip(fy.iter()).for_each(|(a, b)| *a = -b);
                    sum.copy_from_slice(&u);
                    for _ in 0..terms {
                        let g = on_g.draw();
                        problem.lower_hvp_y_batch(g.batch, x, y, &u, &mut bv, &mut hv);
                        axpy(&mut u, -step, &hv);
                        axpy(&mut sum, 1.0, &u);
                        hvps += g.len as f64;
                    }
                    v.iter_mut().zip(sum.iter()).for_each(|(a, b)| *a = step * b);
                }
                Linear::Sgd { steps } => {
                    for _ in 0..steps {
                        let g = on_g.draw();
                        problem.lower_hvp_y_batch(g.batch, x, y, &v, &mut bv, &mut hv);
                        axpy(&mut hv, 1.0, &fy);
                        axpy(&mut v, -step, &hv);
                        hvps += g.len as f64;
                    }
                }
            }
            let g = on_g.draw();
            problem.lower_hvp_y_batch(g.batch, x, y, &v, &mut bv, &mut hv);
            hvps += g.len as f64;
            axpy(&mut fx, 1.0, &bv); // d = ∇x F + B v
            let moved = upper_step(bounds.as_ref(), x, &fx, step / ratio, &mut old);
            descend(&mut on_g, x, y, &mut grads);
            Step { dir_norm: norm(&fx), moved, extras: if kept { counts(grads, hvps) } else { Vec::new() } }
        })
    }
}
