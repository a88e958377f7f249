//! The outer loop of the matrix-free algorithms: the same trace, stopping rules and fault handling as the dense
//! driver, on slices.

use nalgebra::{DVector, Dyn};

use super::krylov::Krylov;
use super::lower::{lower_lipschitz, step_from_curvature, step_warning, upper_at_solution};
use super::vector::{axpy, finite, norm};
use super::MatrixFreeProblem;
use crate::driver::{accept, iterate_fault, keep_last, Clock, End, Schedule};
use crate::error::{SolveError, SolveResult};
use crate::trace::{Extra, Record, Run, Status};

/// Iterations of LSQR for the BGS residual of matrix-free runs (see [`bgs_residual`]).
pub const BGS_RESIDUAL_ITERS: usize = 200;

/// What one outer iteration produced: the new point is in the driver's `x` and `y`.
pub(crate) struct Step {
    /// `‖d_k‖`.
    pub dir_norm: f64,
    /// `‖(x_{k-1} − x_k)/γ‖`, which the stopping tolerance tests.
    pub moved: f64,
    /// Algorithm-specific metrics.
    pub extras: Vec<Extra>,
}

/// `‖∇x F(x, y) − B H† ∇y F(x, y)‖` by products: `H† ∇y F` by [`BGS_RESIDUAL_ITERS`] iterations of LSQR from 0
/// (which converges to the minimum-norm least-squares solution; eigenvalues of `H` far below the largest are
/// reached last, as a cutoff), then `B` times it by one product. Costs about `2·BGS_RESIDUAL_ITERS + 2` products,
/// so matrix-free runs compute it at the start and at the final iterate only (other records hold NaN). With a
/// box on `x`, the norm of the projected step `x − Π_X(x − d)` instead.
pub fn bgs_residual<P: MatrixFreeProblem>(problem: &P, x: &[f64], y: &[f64]) -> f64 {
    let (n, m) = problem.dims();
    let (mut fx, mut fy, mut z, mut bx, mut hy) =
        (vec![0.0; n], vec![0.0; m], vec![0.0; m], vec![0.0; n], vec![0.0; m]);
    problem.upper_grad(x, y, &mut fx, &mut fy);
    let mut scratch = vec![0.0; n];
    let mut h = |v: &[f64], out: &mut [f64]| problem.lower_hvp_y(x, y, v, &mut scratch, out);
    Krylov::new(m).lsqr(&mut h, &fy, &mut z, BGS_RESIDUAL_ITERS, 1e-12);
    problem.lower_hvp_y(x, y, &z, &mut bx, &mut hy);
    axpy(&mut fx, -1.0, &bx);
    if problem.bounds().is_some() {
        // The projected step x − Π_X(x − d), zero at a constrained equilibrium.
        let mut stepped = x.to_vec();
        axpy(&mut stepped, -1.0, &fx);
        project(problem, &mut stepped);
        axpy(&mut stepped, -1.0, x);
        return norm(&stepped);
    }
    norm(&fx)
}

/// Checks that the start has the problem's lengths.
pub(crate) fn check_start<P: MatrixFreeProblem, N: nalgebra::Dim, M: nalgebra::Dim>(
    problem: &P,
    x0: &[f64],
    y0: &[f64],
) -> Result<(), SolveError<N, M>>
where
    nalgebra::DefaultAllocator: crate::Alloc<N, M>,
{
    let (n, m) = problem.dims();
    if x0.len() != n || y0.len() != m {
        let why =
            format!("the start has lengths ({}, {}), but the problem's data make them ({n}, {m})", x0.len(), y0.len());
        return Err(SolveError::Options(why));
    }
    Ok(())
}

/// Projects `x` onto the problem's box, if it has one.
pub(crate) fn project<P: MatrixFreeProblem>(problem: &P, x: &mut [f64]) {
    if let Some(b) = problem.bounds() {
        x.iter_mut().zip(b.lo.iter().zip(b.hi.iter())).for_each(|(v, (lo, hi))| *v = v.max(*lo).min(*hi));
    }
}

/// `x ← Π_X(x − γ d)`; returns `‖(x_old − x_new)/γ‖`.
pub(crate) fn upper_step<P: MatrixFreeProblem>(
    problem: &P,
    x: &mut [f64],
    d: &[f64],
    gamma: f64,
    old: &mut [f64],
) -> f64 {
    old.copy_from_slice(x);
    axpy(x, -gamma, d);
    project(problem, x);
    axpy(old, -1.0, x);
    norm(old) / gamma
}

/// The metrics of `(x, y)` (the BGS residual only when `residual`), with `gx`, `gy` as scratch.
fn record<P: MatrixFreeProblem>(
    problem: &P,
    (x, y): (&[f64], &[f64]),
    (iteration, step): (usize, Step),
    residual: bool,
    (gx, gy): (&mut [f64], &mut [f64]),
) -> Record<Dyn, Dyn> {
    let lower = problem.lower_grad(x, y, gx, gy);
    Record {
        iteration,
        x: DVector::from_column_slice(x),
        y: DVector::from_column_slice(y),
        upper: problem.upper(x, y),
        lower,
        lower_grad_norm: norm(gy),
        dir_norm: step.dir_norm,
        bgs_residual: if residual { bgs_residual(problem, x, y) } else { f64::NAN },
        upper_at_solution: None,
        extras: step.extras,
    }
}

/// Runs `iters` iterations of `step` from `(x0, y0)` (x0 projected first; `extras0` are the start's extra
/// metrics). `step(k, x, y, kept)` updates `x` and `y` in place from iteration `k − 1` to `k`; `kept` says whether
/// the iterate's record is kept (so whether its extra metrics are wanted). Iterations whose record is not kept
/// allocate nothing here.
pub(crate) fn run<P: MatrixFreeProblem>(
    problem: &P,
    (x0, y0): (&[f64], &[f64]),
    schedule: Schedule,
    extras0: Vec<Extra>,
    mut step: impl FnMut(usize, &mut [f64], &mut [f64], bool) -> Step,
) -> SolveResult<Dyn, Dyn> {
    let (n, m) = problem.dims();
    check_start(problem, x0, y0)?;
    crate::driver::check_schedule(&schedule)?;
    let Schedule { iters, stop, lower_step: (name, alpha), metrics } = schedule;
    let (mut x, mut y) = (x0.to_vec(), y0.to_vec());
    project(problem, &mut x);
    let warnings = match step_from_curvature() {
        true => Vec::new(),
        false => step_warning(name, alpha, lower_lipschitz(problem, &x, &y)).into_iter().collect(),
    };
    let (mut gx, mut gy) = (vec![0.0; n], vec![0.0; m]);
    let start = Step { dir_norm: 0.0, moved: 0.0, extras: extras0 };
    let mut trace = Vec::with_capacity(metrics.records(iters));
    trace.push(record(problem, (&x, &y), (0, start), true, (&mut gx, &mut gy)));
    crate::driver::check_start_record(&trace[0], stop.divergence_bound)?;
    if metrics.full() {
        trace[0].upper_at_solution = upper_at_solution(problem, &x, &y);
    }
    let mut clock = Clock::new(metrics.records(iters));
    // The previous iterate, recorded when a fault ends the run before it was.
    let (mut px, mut py, mut last_dir) = (x.clone(), y.clone(), 0.0);
    let previous = |trace: &mut Vec<Record<Dyn, Dyn>>, clock: &mut Clock, (px, py): (&[f64], &[f64]), k, d| {
        clock.pause();
        let step = Step { dir_norm: d, moved: 0.0, extras: Vec::new() };
        let scratch = (&mut vec![0.0; n][..], &mut vec![0.0; m][..]);
        let make = || record(problem, (px, py), (k - 1, step), false, scratch);
        keep_last(trace, k, (stop.divergence_bound, false), make);
        clock.resume(trace.len());
    };
    for k in 1..=iters {
        let kept = metrics.keeps(k, iters);
        px.copy_from_slice(&x);
        py.copy_from_slice(&y);
        let s = step(k, &mut x, &mut y, kept);
        let dir_norm = s.dir_norm;
        if let Some(cause) = iterate_fault(&x, &y, s.dir_norm, stop.divergence_bound) {
            previous(&mut trace, &mut clock, (&px, &py), k, last_dir);
            // A fault already ends the run; a last record whose residual is not finite is dropped too.
            let _ = finish(problem, &mut trace);
            return End::Fault(k, cause).outcome(trace, clock.seconds, warnings);
        }
        let converged = stop.tol.is_some_and(|tol| {
            s.moved < tol && {
                problem.lower_grad(&x, &y, &mut gx, &mut gy);
                norm(&gy) < tol
            }
        });
        if kept || converged {
            clock.pause();
            let moved = s.moved;
            let mut rec = record(problem, (&x, &y), (k, s), metrics.full(), (&mut gx, &mut gy));
            if metrics.full() {
                rec.upper_at_solution = upper_at_solution(problem, &x, &y);
            }
            let end = accept(&mut trace, rec, stop, (moved, metrics.full()), k);
            clock.resume(trace.len());
            if matches!(end, Some(End::Fault(..))) {
                previous(&mut trace, &mut clock, (&px, &py), k, last_dir);
            }
            if let Some(end) = end {
                let end = match (finish(problem, &mut trace), end) {
                    (Err(fault), End::Converged(_)) => fault,
                    (_, end) => end,
                };
                return end.outcome(trace, clock.seconds, warnings);
            }
        }
        last_dir = dir_norm;
        crate::progress::tick(k, iters);
    }
    if let Err(fault) = finish(problem, &mut trace) {
        return fault.outcome(trace, clock.seconds, warnings);
    }
    Ok(Run { status: Status::MaxIterations, trace, warnings, notes: Vec::new(), seconds: clock.seconds })
}

/// The BGS residual of the last record (if it is not the start, whose residual is computed already) and its
/// upper objective at the lower solution. A residual that is not finite (an infinite Hessian–vector product where
/// the gradients are finite) is a fault at that record's iteration: the record is dropped, so that the trace
/// holds finite records only and the run does not end as if nothing happened.
fn finish<P: MatrixFreeProblem>(problem: &P, trace: &mut Vec<Record<Dyn, Dyn>>) -> Result<(), End> {
    let at_start = trace.len() == 1;
    if let Some(last) = trace.last_mut() {
        let (x, y) = (last.x.as_slice(), last.y.as_slice());
        if finite(x) && finite(y) {
            if !at_start && last.bgs_residual.is_nan() {
                last.bgs_residual = bgs_residual(problem, x, y);
                if !last.bgs_residual.is_finite() {
                    let k = last.iteration;
                    trace.pop();
                    return Err(End::Fault(
                        k,
                        "the BGS residual is not finite (an infinite or NaN Hessian product)".into(),
                    ));
                }
            }
            if last.upper_at_solution.is_none() {
                last.upper_at_solution = upper_at_solution(problem, x, y);
            }
        }
    }
    Ok(())
}
