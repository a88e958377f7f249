//! The outer loop every algorithm shares: records the metrics of each iterate, stops on faults and tolerances,
//! and keeps everything computed before a fault.

use std::ops::ControlFlow;

use nalgebra::{DVector, Dyn};

use crate::error::{SolveError, SolveResult};
use crate::matrix_free::vector::{axpy, finite, norm, Buf};
use crate::matrix_free::{step_warning, upper_at_solution, LowerStep, MatrixFreeProblem};
use crate::metrics::bgs_residual;
use crate::problem::Bounds;
use crate::trace::{Extra, Record, Run, Status};

/// When a run stops besides its iteration count; every algorithm has one as its field `stop`.
///
/// ```
/// use bilevel_runtime::{BgsOpt, Stop};
/// let itd = BgsOpt { stop: Stop { tol: Some(1e-10), ..Stop::default() }, ..BgsOpt::itd(5) };
/// assert_eq!(itd.stop.divergence_bound, 1e12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stop {
    /// Stop with [`Status::Converged`] once `‖∇y G(x_k, y_k)‖` and the projected direction
    /// `‖(x_{k-1} − x_k) / γ‖` (which is `‖d_k‖` when the box is not active) are both below this tolerance
    /// (never when `None`, the default).
    ///
    /// [`Status::Converged`]: crate::Status::Converged
    pub tol: Option<f64>,
    /// Stop with a fault once `‖x_k‖` or `‖y_k‖` exceeds this bound (default `1e12`).
    pub divergence_bound: f64,
}

impl Default for Stop {
    fn default() -> Self {
        Stop { tol: None, divergence_bound: 1e12 }
    }
}

/// Which iterates a run keeps in its trace, each with its metrics; every algorithm has one as its field
/// `metrics`. The default, [`Metrics::End`], keeps the start and the last iterate: a run then costs what its
/// iterations cost (measured at 1.0–1.2× a hand-written loop, against 1.4–2× — 6× for the smallest loop — with a
/// record every iteration; see BENCHMARKS.md). Ask for `Every(1)` to follow a run's convergence.
///
/// Every iteration checks that `x`, `y` and the direction are finite and that `x` and `y` stay within the
/// divergence bound, and computes `‖∇y G‖` when a stopping tolerance needs it; the objectives, the extra metrics
/// and the rest of a [`Record`] are computed only for the iterates kept. A run always keeps its start and its last
/// iterate (where it converged, or the last one when it reached its iteration count). With a fault the trace
/// ends at the last finite iterate, the one before the fault (recorded then if it was not kept).
///
/// ```
/// use bilevel_runtime::{BgsOpt, Metrics};
/// let itd = BgsOpt { metrics: Metrics::Every(100), ..BgsOpt::itd(5) };
/// assert!(Metrics::Every(100).keeps(300, 1000) && !Metrics::Every(100).keeps(301, 1000));
/// assert!(Metrics::End.keeps(1000, 1000) && !Metrics::End.keeps(999, 1000));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Metrics {
    /// The start, every `k`-th iterate and the last (`Every(1)`: every iterate).
    Every(usize),
    /// As `Every(k)`, and each of these records also gets the costly metrics that otherwise only the start and
    /// the last record have: `upper_at_solution` (a lower solve by truncated Newton) and, in matrix-free runs,
    /// the BGS residual (about 400 products by LSQR).
    Full(usize),
    /// As `Every(k)`, each record with `upper_at_solution` — `h(x) = F(x, y*(x))`, the measure of progress of
    /// the stochastic methods — but not the BGS residual (tool: `--eval-every k`).
    Solved(usize),
    /// The start and the last iterate only (the default): no per-iteration work beyond the algorithm's own.
    #[default]
    End,
}

impl Metrics {
    /// Whether iterate `k` (from 1) of a run of `iters` iterations is kept.
    pub fn keeps(self, k: usize, iters: usize) -> bool {
        k == iters
            || match self {
                Metrics::Every(every) | Metrics::Full(every) | Metrics::Solved(every) => {
                    every > 0 && k.is_multiple_of(every)
                }
                Metrics::End => false,
            }
    }

    /// How many records a run of `iters` iterations keeps if it runs to the end (the start included), at most
    /// 2¹⁶: what a trace reserves up front so that keeping records does not copy the trace as it grows.
    ///
    /// ```
    /// use bilevel_runtime::Metrics;
    /// assert_eq!((Metrics::End.records(1000), Metrics::Every(100).records(1000)), (2, 11));
    /// assert_eq!(Metrics::Every(1).records(1 << 30), 1 << 16);
    /// ```
    pub fn records(self, iters: usize) -> usize {
        let kept = match self {
            Metrics::Every(every) | Metrics::Full(every) | Metrics::Solved(every) if every > 0 => iters.div_ceil(every),
            _ => usize::from(iters > 0),
        };
        (1 + kept).min(1 << 16)
    }

    /// Whether every record kept gets the costly metrics too.
    pub fn full(self) -> bool {
        matches!(self, Metrics::Full(_))
    }

    /// Whether every record kept gets `upper_at_solution`.
    pub fn solved(self) -> bool {
        matches!(self, Metrics::Full(_) | Metrics::Solved(_))
    }
}

/// How long a run goes and which lower step it checks against the curvature at the start.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Schedule {
    /// Outer iterations.
    pub iters: usize,
    /// When to stop early.
    pub stop: Stop,
    /// The step of the lower gradient steps, checked against the curvature at the start unless chosen from it.
    pub lower: LowerStep,
    /// Which iterates the trace keeps.
    pub metrics: Metrics,
}

/// Why a run ends before its iteration count.
pub(crate) enum End {
    /// The tolerance was met at this iteration.
    Converged(usize),
    /// This iteration produced a fault.
    Fault(usize, String),
    /// The observer asked to stop after this iteration.
    Stopped(usize),
}

impl End {
    /// The run's result, from the trace kept so far.
    pub fn outcome(self, trace: Vec<Record>, seconds: Vec<f64>, warnings: Vec<String>) -> SolveResult {
        let run = |status| Run { status, trace, warnings, notes: Vec::new(), seconds };
        match self {
            End::Converged(iteration) => Ok(run(Status::Converged { iteration })),
            End::Stopped(iteration) => Ok(run(Status::Stopped { iteration })),
            End::Fault(iteration, cause) => {
                Err(SolveError::Fault { iteration, cause, run: Box::new(run(Status::MaxIterations)) })
            }
        }
    }
}

/// The time the iterations of a run take, and its value at each record kept. The clock runs from the start of
/// the iterations and stops while a record's metrics are computed (read only when a record is made, so an
/// iteration whose record is not kept costs no clock reading).
pub(crate) struct Clock {
    elapsed: std::time::Duration,
    since: std::time::Instant,
    /// One entry per record of the trace (0 for the start).
    pub seconds: Vec<f64>,
}

impl Clock {
    /// The clock started, the start's record at 0.
    pub fn new(records: usize) -> Clock {
        let mut seconds = Vec::with_capacity(records);
        seconds.push(0.0);
        Clock { elapsed: std::time::Duration::ZERO, since: std::time::Instant::now(), seconds }
    }

    /// Stops the clock before a record's metrics.
    pub fn pause(&mut self) {
        self.elapsed += self.since.elapsed();
    }

    /// Restarts the clock after a record, giving the records beyond those marked (the trace has grown to
    /// `records`) the time so far.
    pub fn resume(&mut self, records: usize) {
        while self.seconds.len() < records {
            self.seconds.push(self.elapsed.as_secs_f64());
        }
        self.since = std::time::Instant::now();
    }
}

/// On a fault at iteration `k`: the record of iterate `k − 1` (made by `make`), kept if the trace does not hold it
/// yet and it is sound, so that a run keeping few records still ends its trace at the last finite iterate.
pub(crate) fn keep_last(
    trace: &mut Vec<Record>,
    k: usize,
    (bound, residual): (f64, bool),
    make: impl FnOnce() -> Record,
) {
    if trace.last().is_some_and(|r| r.iteration + 1 < k) {
        let rec = make();
        if fault(&rec, bound, residual).is_none() {
            trace.push(rec);
        }
    }
}

/// Keeps the record of iteration `k` unless it is faulty; whether the run ends here (on a fault, or because the
/// tolerance is met by the projected step `moved` and `‖∇y G‖`).
pub(crate) fn accept(
    trace: &mut Vec<Record>,
    rec: Record,
    stop: Stop,
    (moved, residual): (f64, bool),
    k: usize,
) -> Option<End> {
    if let Some(cause) = fault(&rec, stop.divergence_bound, residual) {
        return Some(End::Fault(k, cause));
    }
    let converged = stop.tol.is_some_and(|tol| moved < tol && rec.lower_grad_norm < tol);
    trace.push(rec);
    converged.then_some(End::Converged(k))
}

/// Checks the stopping rule (see [`check_stop`]) and that a trace keeps every `k`-th iterate with `k ≥ 1`.
pub(crate) fn check_schedule(schedule: &Schedule) -> Result<(), SolveError> {
    if matches!(schedule.metrics, Metrics::Every(0) | Metrics::Full(0) | Metrics::Solved(0)) {
        let why = "metrics: Metrics::Every(0), Full(0) or Solved(0) keeps no iterate; use k ≥ 1, or Metrics::End";
        return Err(SolveError::Options(why.into()));
    }
    check_stop(schedule.stop)
}

/// Checks that the stopping tolerance and the divergence bound are positive.
pub(crate) fn check_stop(stop: Stop) -> Result<(), SolveError> {
    let positive = |v: f64| v > 0.0; // false for NaN
    if stop.tol.is_some_and(|t| !positive(t)) || !positive(stop.divergence_bound) {
        return Err(SolveError::Options(format!(
            "the stopping tolerance and divergence bound must be positive, not {stop:?}"
        )));
    }
    Ok(())
}

/// What is wrong with an iterate, checked at every iteration (kept or not): a non-finite `x`, `y` or direction,
/// or an iterate beyond `bound`. Builds no text unless something is wrong.
#[inline]
pub(crate) fn iterate_fault(x: &[f64], y: &[f64], dir_norm: f64, bound: f64) -> Option<String> {
    // The common case in one pass without branches per entry: a sum of squares is finite and within `bound²` only
    // when every entry is finite and the norm is within the bound (NaN and ∞ fail both comparisons).
    let within = |v: &[f64]| {
        let s: f64 = v.iter().map(|c| c * c).sum();
        s < f64::INFINITY && s <= bound * bound
    };
    if within(x) && within(y) && dir_norm.is_finite() {
        return None;
    }
    non_finite_iterate(x, y, dir_norm).or_else(|| diverged(x, y, bound))
}

/// A start whose record is not sound (a non-finite point or metric: the run would start from garbage) is an
/// error before the first iteration, so that no trace holds a non-finite record.
pub(crate) fn check_start_record(rec: &Record, bound: f64) -> Result<(), SolveError> {
    match fault(rec, bound, true) {
        Some(cause) => Err(SolveError::Options(format!("the start point cannot be used: {cause} there"))),
        None => Ok(()),
    }
}

/// What is wrong with a record, if anything: a non-finite value (the BGS residual too when `residual`: it was
/// computed) or an iterate beyond `bound`.
fn fault(rec: &Record, bound: f64, residual: bool) -> Option<String> {
    let (x, y) = (rec.x.as_slice(), rec.y.as_slice());
    // A matrix-free record leaves the residual NaN where it was not computed (see `Metrics::Full`).
    let residual = if residual { rec.bgs_residual } else { 0.0 };
    let finite = [rec.upper, rec.lower, rec.lower_grad_norm, residual].iter().all(|v| v.is_finite());
    if finite && rec.extras.iter().all(|(_, v)| v.is_finite()) && iterate_fault(x, y, rec.dir_norm, bound).is_none() {
        return None;
    }
    let values = [
        (rec.upper, "the upper objective F"),
        (rec.lower, "the lower objective G"),
        (rec.lower_grad_norm, "the lower gradient ∇y G"),
        (residual, "the BGS residual (H = ∇²yy G or B = ∇²xy G has a non-finite entry)"),
    ];
    non_finite_iterate(x, y, rec.dir_norm)
        .or_else(|| values.iter().find(|(v, _)| !v.is_finite()).map(|(_, what)| format!("{what} is not finite")))
        .or_else(|| rec.extras.iter().find(|(_, v)| !v.is_finite()).map(|(name, _)| format!("{name} is not finite")))
        .or_else(|| diverged(x, y, bound))
}

/// A non-finite `x`, `y` or direction norm, if any (the text is built only for it).
fn non_finite_iterate(x: &[f64], y: &[f64], dir_norm: f64) -> Option<String> {
    let finite = |v: &[f64]| v.iter().all(|c| c.is_finite());
    if !finite(x) {
        return Some("x is not finite".into());
    }
    if !finite(y) {
        return Some("y is not finite".into());
    }
    (!dir_norm.is_finite()).then(|| "the upper direction d is not finite".into())
}

/// `x` or `y` beyond `bound`, if so.
fn diverged(x: &[f64], y: &[f64], bound: f64) -> Option<String> {
    // Scaled by the largest entry, so that a norm near f64::MAX does not overflow.
    let norm = |v: &[f64]| {
        let big = v.iter().fold(0.0f64, |m, c| m.max(c.abs()));
        if big == 0.0 || !big.is_finite() {
            return big;
        }
        big * v.iter().map(|c| (c / big).powi(2)).sum::<f64>().sqrt()
    };
    let (nx, ny) = (norm(x), norm(y));
    (nx > bound || ny > bound).then(|| format!("diverged: ‖x‖ = {nx:.3e}, ‖y‖ = {ny:.3e} exceed {bound:.1e}"))
}

/// Checks that each named step is finite and positive.
pub(crate) fn check_steps(steps: &[(&str, f64)]) -> Result<(), SolveError> {
    match steps.iter().find(|(_, v)| !(v.is_finite() && *v > 0.0)) {
        Some((name, v)) => Err(SolveError::Options(format!("{name} must be finite and positive, not {v}"))),
        None => Ok(()),
    }
}

/// What one outer iteration produced: the new point is in the driver's `x` and `y`.
pub(crate) struct Step {
    /// `‖d_k‖`.
    pub dir_norm: f64,
    /// `‖(x_{k-1} − x_k)/γ‖`, which the stopping tolerance tests.
    pub moved: f64,
    /// Algorithm-specific metrics.
    pub extras: Vec<Extra>,
}

/// Checks that the start has the problem's lengths.
pub(crate) fn check_start<P: MatrixFreeProblem>(problem: &P, x0: &[f64], y0: &[f64]) -> Result<(), SolveError> {
    let (n, m) = problem.dims();
    if x0.len() != n || y0.len() != m {
        let why =
            format!("the start has lengths ({}, {}), but the problem's data make them ({n}, {m})", x0.len(), y0.len());
        return Err(SolveError::Options(why));
    }
    Ok(())
}

/// Projects `x` onto the box, if there is one.
#[inline]
pub(crate) fn project(bounds: Option<&Bounds<Dyn>>, x: &mut [f64]) {
    if let Some(b) = bounds {
        x.iter_mut().zip(b.lo.iter().zip(b.hi.iter())).for_each(|(v, (lo, hi))| *v = v.max(*lo).min(*hi));
    }
}

/// `x ← Π_X(x − γ d)` (`bounds`: the problem's box, read once per run); returns `‖(x_old − x_new)/γ‖`.
#[inline]
pub(crate) fn upper_step(bounds: Option<&Bounds<Dyn>>, x: &mut [f64], d: &[f64], gamma: f64, old: &mut [f64]) -> f64 {
    old.copy_from_slice(x);
    axpy(x, -gamma, d);
    project(bounds, x);
    axpy(old, -1.0, x);
    norm(old) / gamma
}

/// The metrics of `(x, y)` (the BGS residual when `residual` or when the problem has dense blocks, which make it
/// cheap), with `gx`, `gy` as scratch.
fn record<P: MatrixFreeProblem>(
    problem: &P,
    (x, y): (&[f64], &[f64]),
    (iteration, step): (usize, Step),
    residual: bool,
    (gx, gy): (&mut [f64], &mut [f64]),
) -> Record {
    let lower = problem.lower_grad(x, y, gx, gy);
    Record {
        iteration,
        x: DVector::from_column_slice(x),
        y: DVector::from_column_slice(y),
        upper: problem.upper(x, y),
        lower,
        lower_grad_norm: norm(gy),
        dir_norm: step.dir_norm,
        bgs_residual: if residual || problem.has_blocks() { bgs_residual(problem, x, y) } else { f64::NAN },
        upper_at_solution: None,
        extras: step.extras,
    }
}

/// Runs `iters` iterations of `step` from `(x0, y0)` (x0 projected first; `extras0` are the start's extra
/// metrics). `step(k, x, y, kept)` updates `x` and `y` in place from iteration `k − 1` to `k`; `kept` says whether
/// the iterate's record is kept (so whether its extra metrics are wanted). `observer(k, iters)` is called every 64
/// iterations and after the last, before that iterate's record is made; when it breaks, the run ends there with
/// [`Status::Stopped`] (that iterate recorded). Iterations whose record is not kept allocate nothing here.
#[inline(always)]
pub(crate) fn run<P: MatrixFreeProblem>(
    problem: &P,
    (x0, y0): (&[f64], &[f64]),
    schedule: Schedule,
    extras0: Vec<Extra>,
    observer: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
    mut step: impl FnMut(usize, &mut [f64], &mut [f64], bool) -> Step,
) -> SolveResult {
    let (n, m) = problem.dims();
    check_start(problem, x0, y0)?;
    check_schedule(&schedule)?;
    let Schedule { iters, stop, lower, metrics } = schedule;
    let (mut x, mut y) = (Buf::<P::X>::from_slice(x0), Buf::<P::Y>::from_slice(y0));
    project(problem.bounds().as_ref(), &mut x);
    let warnings = match lower.from_curvature {
        true => Vec::new(),
        false => step_warning(lower.name, lower.value, lower.curvature).into_iter().collect(),
    };
    let (mut gx, mut gy) = (Buf::<P::X>::zeros(n), Buf::<P::Y>::zeros(m));
    let start = Step { dir_norm: 0.0, moved: 0.0, extras: extras0 };
    let mut trace = Vec::with_capacity(metrics.records(iters));
    trace.push(record(problem, (&x, &y), (0, start), true, (&mut gx, &mut gy)));
    check_start_record(&trace[0], stop.divergence_bound)?;
    if metrics.solved() {
        trace[0].upper_at_solution = upper_at_solution(problem, &x, &y);
    }
    let mut clock = Clock::new(metrics.records(iters));
    // The previous iterate, recorded when a fault ends the run before it was.
    let (mut px, mut py, mut last_dir) = (x.clone(), y.clone(), 0.0);
    let previous = |trace: &mut Vec<Record>, clock: &mut Clock, (px, py): (&[f64], &[f64]), k, d| {
        clock.pause();
        let step = Step { dir_norm: d, moved: 0.0, extras: Vec::new() };
        let scratch = (&mut vec![0.0; n][..], &mut vec![0.0; m][..]);
        let make = || record(problem, (px, py), (k - 1, step), false, scratch);
        keep_last(trace, k, (stop.divergence_bound, problem.has_blocks()), make);
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
        // The observer hears of iteration k before its record is made; breaking ends the run with it recorded.
        let stopped = (k.is_multiple_of(64) || k == iters) && observer(k, iters).is_break() && k < iters;
        if kept || converged || stopped {
            clock.pause();
            let moved = s.moved;
            let mut rec = record(problem, (&x, &y), (k, s), metrics.full(), (&mut gx, &mut gy));
            if metrics.solved() {
                rec.upper_at_solution = upper_at_solution(problem, &x, &y);
            }
            let end = accept(&mut trace, rec, stop, (moved, metrics.full() || problem.has_blocks()), k);
            clock.resume(trace.len());
            if matches!(end, Some(End::Fault(..))) {
                previous(&mut trace, &mut clock, (&px, &py), k, last_dir);
            }
            if let Some(end) = end.or(stopped.then_some(End::Stopped(k))) {
                let end = match (finish(problem, &mut trace), end) {
                    (Err(fault), End::Converged(_) | End::Stopped(_)) => fault,
                    (_, end) => end,
                };
                return end.outcome(trace, clock.seconds, warnings);
            }
        }
        last_dir = dir_norm;
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
fn finish<P: MatrixFreeProblem>(problem: &P, trace: &mut Vec<Record>) -> Result<(), End> {
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
    lower_growth(trace)
}

/// How many times its size at the start (or 1, if smaller) the lower gradient may end: a run whose `‖∇y G‖`
/// grew more has lower steps that moved away from any minimum.
const LOWER_GROWTH: f64 = 1e6;

/// A fault at the last record when `‖∇y G‖` there is more than [`LOWER_GROWTH`] times its size at the start:
/// the lower steps diverged (a lower level unbounded below, such as `G = x y − y²`, or a step too large for its
/// curvature) although the iterates stayed below the divergence bound. The record is kept: it is finite.
fn lower_growth(trace: &[Record]) -> Result<(), End> {
    let (Some(first), Some(last)) = (trace.first(), trace.last()) else { return Ok(()) };
    let (start, end) = (first.lower_grad_norm, last.lower_grad_norm);
    // (A NaN end was a fault already.)
    let grew = end > LOWER_GROWTH * start.max(1.0);
    if last.iteration == 0 || !grew {
        return Ok(());
    }
    Err(End::Fault(
        last.iteration,
        format!(
            "diverged: the lower gradient ‖∇y G‖ grew from {start:.3e} at the start to {end:.3e}, so the lower steps \
             moved away from any minimum: the lower level may be unbounded below (no minimum in y), or its step too \
             large for its curvature"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_one_pass_fault_check_misses_no_fault_and_names_each() {
        let inf = f64::INFINITY;
        assert_eq!(iterate_fault(&[1.0], &[2.0, -3.0], 0.5, 1e12), None);
        assert_eq!(iterate_fault(&[inf], &[0.0], 0.0, 1e12).as_deref(), Some("x is not finite"));
        assert_eq!(iterate_fault(&[0.0], &[f64::NAN], 0.0, 1e12).as_deref(), Some("y is not finite"));
        let dir = iterate_fault(&[0.0], &[0.0], f64::NAN, 1e12);
        assert_eq!(dir.as_deref(), Some("the upper direction d is not finite"));
        // ±∞ that cancel in a plain sum, a bound whose square overflows, entries whose squares overflow.
        assert!(iterate_fault(&[inf, -inf], &[0.0], 0.0, 1e12).is_some());
        assert_eq!(iterate_fault(&[-inf], &[0.0], 0.0, 1e200).as_deref(), Some("x is not finite"));
        assert_eq!(iterate_fault(&[1e199], &[0.0], 0.0, 1e200), None);
        assert!(iterate_fault(&[1e300], &[0.0], 0.0, 1e12).unwrap().starts_with("diverged: ‖x‖ = 1.000e300"));
        assert!(iterate_fault(&[0.0], &[3e12, 0.0], 0.0, 1e12).unwrap().starts_with("diverged"));
    }
}
