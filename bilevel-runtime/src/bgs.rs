//! BGS-Opt (Arbel & Mairal 2022, Algorithm 1): the family `itd`, `rhg` and `truncated-itd`.

use nalgebra::{DefaultAllocator, OMatrix, OVector};

use crate::dims::Alloc;
use crate::error::{SolveError, SolveResult};
use crate::problem::Problem;
use crate::trace::{Record, Run, Status};

/// BGS-Opt without correction: unrolled (ITD) hypergradient descent, optionally truncated and cold-started.
///
/// With `S(x, y) = y − α ∇y G(x, y)` and `φ_T = S^T`, each outer iteration `k = 1..K` does
/// ```text
/// y_init = warm ? y_{k-1} : y_0
/// ỹ_k    = φ_M(x_{k-1}, y_init)                  # warm-up steps, not differentiated
/// y_k    = φ_T(x_{k-1}, ỹ_k)                     # unrolled, with J_x ← J_x (I − α H_t) − α B_t, J_x⁰ = 0
/// d_k    = ∇x F(x_{k-1}, y_k) + J_x ∇y F(x_{k-1}, y_k)
/// x_k    = Π_X(x_{k-1} − γ d_k)
/// ```
/// Presets: [`BgsOpt::itd`] (M = 0, warm; this is also Bolte et al.'s SMBG with k = T), [`BgsOpt::rhg`]
/// (cold start from `y_0` at every outer step, the baseline of the BDA paper) and [`BgsOpt::truncated_itd`] (M > 0).
///
/// On a lower level with many solutions these methods do not reach the optimistic solution: warm `itd` settles
/// where its unrolled `T`-step map is stationary, which depends on `T` and `α` (on the BDA paper's Example 1,
/// `x → c/(1+c)` with `c = 1 − (1−α)^T`), and `rhg` where the cold-started map is (`x → c/(1+c²)`).
///
/// ```
/// use bilevel_runtime::BgsOpt;
/// let itd = BgsOpt { lower_step: 0.2, upper_step: 0.5, outer_iters: 3000, ..BgsOpt::itd(5) };
/// assert!(itd.warm && itd.warm_steps == 0 && itd.unrolled_steps == 5);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct BgsOpt {
    /// Outer iterations `K`.
    pub outer_iters: usize,
    /// Unrolled (differentiated) lower steps `T`.
    pub unrolled_steps: usize,
    /// Warm-up lower steps `M` before the unrolled ones (not differentiated).
    pub warm_steps: usize,
    /// Lower step `α`.
    pub lower_step: f64,
    /// Upper step `γ`.
    pub upper_step: f64,
    /// Start the lower steps of iteration `k` from `y_{k-1}` (true) or from `y_0` (false).
    pub warm: bool,
    /// Stop once `‖d_k‖` and `‖∇y G(x_k, y_k)‖` are both below this tolerance (never when `None`).
    pub tol: Option<f64>,
    /// Stop with a fault once `‖x_k‖` or `‖y_k‖` exceeds this bound.
    pub divergence_bound: f64,
}

impl Default for BgsOpt {
    /// `itd` with `T = 10`, `α = 0.1`, `γ = 0.1`, `K = 1000`.
    fn default() -> Self {
        BgsOpt {
            outer_iters: 1000,
            unrolled_steps: 10,
            warm_steps: 0,
            lower_step: 0.1,
            upper_step: 0.1,
            warm: true,
            tol: None,
            divergence_bound: 1e12,
        }
    }
}

impl BgsOpt {
    /// `itd`: `T` unrolled steps, warm start, no truncation.
    pub fn itd(unrolled_steps: usize) -> Self {
        BgsOpt { unrolled_steps, ..BgsOpt::default() }
    }

    /// `rhg`: `itd` with a cold start from `y_0` at every outer iteration.
    pub fn rhg(unrolled_steps: usize) -> Self {
        BgsOpt { warm: false, ..BgsOpt::itd(unrolled_steps) }
    }

    /// `truncated-itd`: `M` undifferentiated warm-up steps, then `T` unrolled ones.
    pub fn truncated_itd(unrolled_steps: usize, warm_steps: usize) -> Self {
        BgsOpt { warm_steps, ..BgsOpt::itd(unrolled_steps) }
    }

    /// The preset's name: `itd`, `rhg` or `truncated-itd`.
    pub fn name(&self) -> &'static str {
        match (self.warm, self.warm_steps) {
            (false, _) => "rhg",
            (true, 0) => "itd",
            (true, _) => "truncated-itd",
        }
    }

    /// Runs from `(x0, y0)`. `y0` is also the cold-start point of `rhg`.
    pub fn solve<P: Problem>(
        &self,
        problem: &P,
        x0: &OVector<f64, P::N>,
        y0: &OVector<f64, P::M>,
    ) -> SolveResult<P::N, P::M>
    where
        DefaultAllocator: Alloc<P::N, P::M>,
    {
        self.check()?;
        let bounds = problem.bounds();
        let project = |x: OVector<f64, P::N>| match &bounds {
            Some(b) => b.project(&x),
            None => x,
        };
        let x0 = project(x0.clone());
        let mut trace = vec![record(problem, x0, y0.clone(), 0.0)];
        for k in 1..=self.outer_iters {
            let prev = trace.last().expect("the trace starts with the start point");
            let y_init = if self.warm { prev.y.clone() } else { y0.clone() };
            let (y, d) = self.direction(problem, &prev.x, y_init);
            let x = project(&prev.x - d.scale(self.upper_step));
            let rec = record(problem, x, y, d.norm());
            if let Some(cause) = fault(&rec, self.divergence_bound) {
                return Err(SolveError::Fault {
                    iteration: k,
                    cause,
                    run: Run { status: Status::MaxIterations, trace },
                });
            }
            let converged = self.tol.is_some_and(|tol| rec.dir_norm < tol && rec.lower_grad_norm < tol);
            trace.push(rec);
            if converged {
                return Ok(Run { status: Status::Converged { iteration: k }, trace });
            }
        }
        Ok(Run { status: Status::MaxIterations, trace })
    }

    /// One hypergradient: the lower steps from `y_init` at `x`, and `d = ∇x F + J_x ∇y F` at the result.
    fn direction<P: Problem>(
        &self,
        problem: &P,
        x: &OVector<f64, P::N>,
        mut y: OVector<f64, P::M>,
    ) -> (OVector<f64, P::M>, OVector<f64, P::N>)
    where
        DefaultAllocator: Alloc<P::N, P::M>,
    {
        let alpha = self.lower_step;
        for _ in 0..self.warm_steps {
            y -= problem.lower_grad(x, &y).y.scale(alpha);
        }
        let (n, m) = problem.dims();
        let mut jx = OMatrix::<f64, P::N, P::M>::zeros_generic(n, m);
        for _ in 0..self.unrolled_steps {
            let h = problem.lower_hess(x, &y);
            // J_x ← J_x (I − α H) − α B = J_x − α (J_x H + B)
            jx -= (&jx * &h.yy + &h.xy).scale(alpha);
            y -= h.grad_y.scale(alpha);
        }
        let f = problem.upper_grad(x, &y);
        (y, f.x + jx * f.y)
    }

    fn check<N: nalgebra::Dim, M: nalgebra::Dim>(&self) -> Result<(), SolveError<N, M>>
    where
        DefaultAllocator: Alloc<N, M>,
    {
        let bad = |why: String| Err(SolveError::Options(why));
        if self.unrolled_steps + self.warm_steps == 0 {
            return bad("BGS-Opt needs T + M > 0 lower steps (both are 0)".into());
        }
        for (name, v) in [("lower_step", self.lower_step), ("upper_step", self.upper_step)] {
            if !(v.is_finite() && v > 0.0) {
                return bad(format!("{name} must be finite and positive, not {v}"));
            }
        }
        Ok(())
    }
}

/// The record of `(x, y)`: the objectives and the lower gradient norm there.
pub(crate) fn record<P: Problem>(
    problem: &P,
    x: OVector<f64, P::N>,
    y: OVector<f64, P::M>,
    dir_norm: f64,
) -> Record<P::N, P::M>
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    let g = problem.lower_grad(&x, &y);
    let upper = problem.upper(&x, &y);
    Record { upper, lower: g.value, lower_grad_norm: g.y.norm(), dir_norm, x, y }
}

/// What is wrong with a record, if anything: a non-finite value or an iterate beyond `bound`.
pub(crate) fn fault<N: nalgebra::Dim, M: nalgebra::Dim>(rec: &Record<N, M>, bound: f64) -> Option<String>
where
    DefaultAllocator: Alloc<N, M>,
{
    let finite = |v: f64| v.is_finite();
    let checks = [
        (rec.x.iter().all(|v| finite(*v)), "x is not finite"),
        (rec.y.iter().all(|v| finite(*v)), "y is not finite"),
        (finite(rec.dir_norm), "the upper direction d is not finite"),
        (finite(rec.upper), "the upper objective F is not finite"),
        (finite(rec.lower), "the lower objective G is not finite"),
        (finite(rec.lower_grad_norm), "the lower gradient ∇y G is not finite"),
    ];
    if let Some((_, what)) = checks.iter().find(|(ok, _)| !ok) {
        return Some(what.to_string());
    }
    let (nx, ny) = (rec.x.norm(), rec.y.norm());
    (nx > bound || ny > bound).then(|| format!("diverged: ‖x‖ = {nx:.3e}, ‖y‖ = {ny:.3e} exceed {bound:.1e}"))
}
