//! SOBA and SABA (Dagréou, Ablin, Vaiter & Moreau, NeurIPS 2022): single-loop stochastic methods that move `y`,
//! the linear-system variable `v` and `x` together at every step, on batches of samples.

use std::ops::ControlFlow;

use crate::algorithm::Iterate;
use crate::batch::Sampling;
use crate::driver::{check_steps, run, upper_step, Metrics, Schedule, Step, Stop};
use crate::error::{SolveError, SolveResult};
use crate::matrix_free::vector::{axpy, norm, Buf};
use crate::matrix_free::{LowerStep, MatrixFreeProblem};

use super::sampler::{Batches, Draw, Sampler};

/// SOBA and SABA: for lower levels strongly convex in `y`, whose objectives are means over samples.
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
/// estimates as they are, with decreasing steps (`a = ½`). SABA (`memory`) replaces each by its SAGA estimate: a
/// memory of every block of samples' last value, the direction `D − memory[block] + mean(memory)`, then the
/// memory updated; the memories start at zero, and the steps are constant (`a = 0`), the paper's claim being that
/// SABA converges with constant steps. SABA needs [`Draw::Shuffled`] batches (one memory per block).
///
/// The metrics of the field are the records' (off the clock): `upper_at_solution` is `h(x) = F(x, y*(x))` with
/// `y*` solved accurately, in every record with [`Metrics::Full`]. Each record also has the cumulative counts of
/// per-sample evaluations, `oracle_grad` (gradients of `G` and `F`: `|B| + |B'|` a step) and `oracle_hvp`
/// (products with `∇²G`: `|B|` a step).
///
/// ```
/// use bilevel_runtime::{Algorithm, Soba};
/// assert_eq!((Soba::default().name(), Soba::saba().name()), ("soba".to_string(), "saba".to_string()));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Soba {
    /// Steps `K`.
    pub iters: usize,
    /// The step `s` of `y` and `v` (`None`, the default: `1/L_G` estimated at the start for SOBA, `1/(2 L_G)` for
    /// SABA).
    pub step: Option<f64>,
    /// The ratio `r` of the steps of `y` and `x`: `x` moves by `s / r`.
    pub outer_ratio: f64,
    /// The exponent `a` of the decreasing steps `s / (t + 1)^a` (0: constant steps).
    pub decay: f64,
    /// SAGA memories of the directions (SABA).
    pub memory: bool,
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
            memory: false,
            batches: Batches::default(),
            stop: Stop::default(),
            metrics: Metrics::default(),
        }
    }
}

impl Soba {
    /// SABA: SOBA's settings with SAGA memories and constant steps.
    pub fn saba() -> Soba {
        Soba { decay: 0.0, memory: true, ..Soba::default() }
    }

    fn check(&self) -> Result<(), SolveError> {
        check_steps(&[("step", self.step.unwrap_or(f64::NAN)), ("outer_ratio", self.outer_ratio)])?;
        if !(self.decay.is_finite() && self.decay >= 0.0) {
            return Err(SolveError::Options(format!("decay must be finite and ≥ 0, not {}", self.decay)));
        }
        if self.batches.batch == 0 {
            return Err(SolveError::Options("the batch size must be at least 1".into()));
        }
        if self.memory && self.batches.draw != Draw::Shuffled {
            let why = "saba keeps a memory per block of samples: it needs shuffled batches (sampler shuffled)";
            return Err(SolveError::Options(why.into()));
        }
        Ok(())
    }
}

/// The number of samples an objective's means run over (0 without a mean over a dim).
fn samples(sampling: &Sampling, level: &str) -> Result<usize, SolveError> {
    match sampling {
        Sampling::None => Ok(0),
        Sampling::Dim { size, .. } => Ok(*size),
        Sampling::Several(dims) => Err(SolveError::Options(format!(
            "{level} takes means over several dims ({}): a stochastic method samples one; write the others as \
             sum(...) / n",
            dims.join(", ")
        ))),
    }
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
        if self.memory { "saba" } else { "soba" }.into()
    }

    fn settings(&self) -> String {
        let draw = match self.batches.draw {
            Draw::Shuffled => "shuffled",
            Draw::Uniform => "uniform",
        };
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

    /// SABA's constant steps take half of `1/L_G` when none is given (`1/L_G` diverged on a least-squares
    /// problem where `1/(2 L_G)` converges linearly; SOBA's decreasing steps start at `1/L_G`).
    fn curvature_fraction(&self) -> f64 {
        if self.memory {
            0.5
        } else {
            1.0
        }
    }

    fn with_lower_step(&self, value: f64) -> Self {
        Soba { step: Some(value), ..self.clone() }
    }

    /// The run from `(x0, y0)` with the step given: three batch products a step (`∇G` and `(B v, H v)` on `B`,
    /// `∇F` on `B'`). Buffers, samplers and memories are allocated once per run.
    fn iterate<P: MatrixFreeProblem>(
        &self,
        problem: &P,
        (x0, y0): (&[f64], &[f64]),
        lower: LowerStep,
        observer: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
    ) -> SolveResult {
        self.check()?;
        let s = problem.samples();
        let (n_g, n_f) = (samples(&s.lower, "G")?, samples(&s.upper, "F")?);
        let (n, m) = problem.dims();
        let (xs, ys) = (Buf::<P::X>::zeros, Buf::<P::Y>::zeros);
        let (mut gx, mut dy, mut v, mut hv, mut bv) = (xs(n), ys(m), ys(m), ys(m), xs(n));
        let (mut fx, mut fy, mut old) = (xs(n), ys(m), xs(n));
        let (mut on_g, mut on_f) = (Sampler::new(n_g, &self.batches, 0), Sampler::new(n_f, &self.batches, 1));
        let blocks = |sampler: &Sampler| if self.memory { sampler.blocks() } else { 0 };
        let (bg, bf) = (blocks(&on_g), blocks(&on_f));
        let mut memories = [(bg, m), (bg, m), (bg, n), (bf, m), (bf, n)].map(|(b, len)| Memory::new(b, len));
        let (mut grads, mut hvps) = (0.0, 0.0);
        let bounds = problem.bounds();
        let (step, ratio, decay) = (lower.value, self.outer_ratio, self.decay);
        let schedule = Schedule { iters: self.iters, stop: self.stop, lower, metrics: self.metrics };
        let counts = |grads: f64, hvps: f64| vec![("oracle_grad".into(), grads), ("oracle_hvp".into(), hvps)];
        run(problem, (x0, y0), schedule, counts(0.0, 0.0), observer, |k, x, y, kept| {
            let rho = step / (k as f64).powf(decay);
            let g = on_g.draw();
            problem.lower_grad_batch(g.batch, x, y, &mut gx, &mut dy);
            problem.lower_hvp_y_batch(g.batch, x, y, &v, &mut bv, &mut hv);
            let f = on_f.draw();
            problem.upper_grad_batch(f.batch, x, y, &mut fx, &mut fy);
            (grads, hvps) = (grads + (g.len + f.len) as f64, hvps + g.len as f64);
            if self.memory {
                let [my, mh, mb, mfy, mfx] = &mut memories;
                my.reduce(g.block, g.weight, &mut dy);
                mh.reduce(g.block, g.weight, &mut hv);
                mb.reduce(g.block, g.weight, &mut bv);
                mfy.reduce(f.block, f.weight, &mut fy);
                mfx.reduce(f.block, f.weight, &mut fx);
            }
            axpy(y, -rho, &dy);
            axpy(&mut hv, 1.0, &fy); // D_v = H v + ∇y F
            axpy(&mut v, -rho, &hv);
            axpy(&mut fx, 1.0, &bv); // D_x = B v + ∇x F
            let moved = upper_step(bounds.as_ref(), x, &fx, rho / ratio, &mut old);
            Step { dir_norm: norm(&fx), moved, extras: if kept { counts(grads, hvps) } else { Vec::new() } }
        })
    }
}
