//! The outer loop every algorithm shares: records the metrics of each iterate, stops on faults and tolerances,
//! and keeps everything computed before a fault.

use nalgebra::{DefaultAllocator, OVector};

use crate::dims::Alloc;
use crate::error::{SolveError, SolveResult};
use crate::matrix_free::{step_from_curvature, step_warning, upper_at_solution, Dense};
use crate::metrics::record;
use crate::problem::Problem;
use crate::trace::{Extra, Record, Run, Status};

/// What one outer iteration produced.
pub(crate) struct Step<P: Problem>
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    /// The new upper variable (already projected onto the box).
    pub x: OVector<f64, P::N>,
    /// The new lower variable.
    pub y: OVector<f64, P::M>,
    /// `‖d_k‖`.
    pub dir_norm: f64,
    /// The norm of the projected direction `(x_{k-1} − x_k) / γ` (equal to `‖d_k‖` when the box is not active),
    /// which the stopping tolerance tests.
    pub moved: f64,
    /// Algorithm-specific metrics of this iteration.
    pub extras: Vec<Extra>,
}

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
    /// The start and the last iterate only (the default): no per-iteration work beyond the algorithm's own.
    #[default]
    End,
}

impl Metrics {
    /// Whether iterate `k` (from 1) of a run of `iters` iterations is kept.
    pub fn keeps(self, k: usize, iters: usize) -> bool {
        k == iters
            || match self {
                Metrics::Every(every) | Metrics::Full(every) => every > 0 && k.is_multiple_of(every),
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
            Metrics::Every(every) | Metrics::Full(every) if every > 0 => iters.div_ceil(every),
            _ => usize::from(iters > 0),
        };
        (1 + kept).min(1 << 16)
    }

    /// Whether every record kept gets the costly metrics too.
    pub fn full(self) -> bool {
        matches!(self, Metrics::Full(_))
    }
}

/// How long a run goes and which lower step it checks against the curvature at the start.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Schedule {
    /// Outer iterations.
    pub iters: usize,
    /// When to stop early.
    pub stop: Stop,
    /// The name (as in REFERENCE.md) and value of the step of the lower gradient steps.
    pub lower_step: (&'static str, f64),
    /// Which iterates the trace keeps.
    pub metrics: Metrics,
}

/// The projected upper step `x_k = Π_X(x − γ d)` and the norm of `(x − x_k) / γ`, the projected direction the
/// stopping tolerance tests.
pub(crate) fn upper_step<P: Problem>(
    problem: &P,
    x: &OVector<f64, P::N>,
    d: &OVector<f64, P::N>,
    gamma: f64,
) -> (OVector<f64, P::N>, f64)
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    let next = project(problem, x - d.scale(gamma));
    let moved = (x - &next).norm() / gamma;
    (next, moved)
}

/// Projects onto the problem's box, if it has one.
pub(crate) fn project<P: Problem>(problem: &P, x: OVector<f64, P::N>) -> OVector<f64, P::N>
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    match problem.bounds() {
        Some(b) => b.project(&x),
        None => x,
    }
}

/// Runs `iters` iterations of `step` from `(x0, y0)` (x0 is projected first; `extras0` are the start's extra
/// metrics). `step(k, x, y, kept)` computes iteration `k` from the previous iterate; `kept` says whether its record
/// is kept (so whether its extra metrics are wanted).
pub(crate) fn run<P: Problem>(
    problem: &P,
    x0: &OVector<f64, P::N>,
    y0: &OVector<f64, P::M>,
    schedule: Schedule,
    extras0: Vec<Extra>,
    mut step: impl FnMut(usize, &OVector<f64, P::N>, &OVector<f64, P::M>, bool) -> Step<P>,
) -> SolveResult<P::N, P::M>
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    check_schedule(&schedule)?;
    let Schedule { iters, stop, lower_step: (name, alpha), metrics } = schedule;
    let x0 = project(problem, x0.clone());
    let warnings = match step_from_curvature() {
        true => Vec::new(),
        false => lower_lipschitz(problem, &x0, y0).and_then(|l| step_warning(name, alpha, l)).into_iter().collect(),
    };
    let mut trace = Vec::with_capacity(metrics.records(iters));
    trace.push(record(problem, x0.clone(), y0.clone(), (0, 0.0), extras0));
    check_start_record(&trace[0], stop.divergence_bound)?;
    if metrics.full() {
        trace[0].upper_at_solution = upper_at_solution(&Dense(problem), x0.as_slice(), y0.as_slice());
    }
    let (mut x, mut y) = (x0, y0.clone());
    let mut clock = Clock::new(metrics.records(iters));
    let mut last_dir = 0.0;
    // The record of the previous iterate, kept when a fault ends the run before it was recorded.
    let previous = |trace: &mut Vec<Record<P::N, P::M>>,
                    clock: &mut Clock,
                    x: &OVector<f64, P::N>,
                    y: &OVector<f64, P::M>,
                    k,
                    d| {
        clock.pause();
        let make = || record(problem, x.clone(), y.clone(), (k - 1, d), Vec::new());
        keep_last(trace, k, (stop.divergence_bound, true), make);
        clock.resume(trace.len());
    };
    for k in 1..=iters {
        let kept = metrics.keeps(k, iters);
        let s = step(k, &x, &y, kept);
        if let Some(cause) = iterate_fault(s.x.as_slice(), s.y.as_slice(), s.dir_norm, stop.divergence_bound) {
            previous(&mut trace, &mut clock, &x, &y, k, last_dir);
            finish(problem, &mut trace);
            return End::Fault(k, cause).outcome(trace, clock.seconds, warnings);
        }
        let converged = stop.tol.is_some_and(|tol| s.moved < tol && problem.lower_grad(&s.x, &s.y).y.norm() < tol);
        if kept || converged {
            clock.pause();
            let mut rec = record(problem, s.x.clone(), s.y.clone(), (k, s.dir_norm), s.extras);
            if metrics.full() {
                rec.upper_at_solution = upper_at_solution(&Dense(problem), rec.x.as_slice(), rec.y.as_slice());
            }
            let end = accept(&mut trace, rec, stop, (s.moved, true), k);
            clock.resume(trace.len());
            if matches!(end, Some(End::Fault(..))) {
                previous(&mut trace, &mut clock, &x, &y, k, last_dir);
            }
            if let Some(end) = end {
                finish(problem, &mut trace);
                return end.outcome(trace, clock.seconds, warnings);
            }
        }
        (x, y, last_dir) = (s.x, s.y, s.dir_norm);
        crate::progress::tick(k, iters);
    }
    finish(problem, &mut trace);
    Ok(Run { status: Status::MaxIterations, trace, warnings, notes: Vec::new(), seconds: clock.seconds })
}

/// The upper objective at the lower solution for the last record (see [`Record::upper_at_solution`]).
fn finish<P: Problem>(problem: &P, trace: &mut [Record<P::N, P::M>])
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    if let Some(last) = trace.last_mut().filter(|r| r.upper_at_solution.is_none()) {
        last.upper_at_solution = upper_at_solution(&Dense(problem), last.x.as_slice(), last.y.as_slice());
    }
}

/// `L_G = max |λ(∇²yy G(x, y))|` from the dense lower Hessian (None if it is not finite).
fn lower_lipschitz<P: Problem>(problem: &P, x: &OVector<f64, P::N>, y: &OVector<f64, P::M>) -> Option<f64>
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    let h = problem.lower_hess(x, y).yy;
    if !h.iter().all(|v| v.is_finite()) {
        return None;
    }
    Some(crate::linalg::symmetric_eigen(&h).0.iter().fold(0.0f64, |acc, l| acc.max(l.abs())))
}

/// Why a run ends before its iteration count.
pub(crate) enum End {
    /// The tolerance was met at this iteration.
    Converged(usize),
    /// This iteration produced a fault.
    Fault(usize, String),
}

impl End {
    /// The run's result, from the trace kept so far.
    pub fn outcome<N: nalgebra::Dim, M: nalgebra::Dim>(
        self,
        trace: Vec<Record<N, M>>,
        seconds: Vec<f64>,
        warnings: Vec<String>,
    ) -> SolveResult<N, M>
    where
        DefaultAllocator: Alloc<N, M>,
    {
        let run = |status| Run { status, trace, warnings, notes: Vec::new(), seconds };
        match self {
            End::Converged(iteration) => Ok(run(Status::Converged { iteration })),
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
pub(crate) fn keep_last<N: nalgebra::Dim, M: nalgebra::Dim>(
    trace: &mut Vec<Record<N, M>>,
    k: usize,
    (bound, residual): (f64, bool),
    make: impl FnOnce() -> Record<N, M>,
) where
    DefaultAllocator: Alloc<N, M>,
{
    if trace.last().is_some_and(|r| r.iteration + 1 < k) {
        let rec = make();
        if fault(&rec, bound, residual).is_none() {
            trace.push(rec);
        }
    }
}

/// Keeps the record of iteration `k` unless it is faulty; whether the run ends here (on a fault, or because the
/// tolerance is met by the projected step `moved` and `‖∇y G‖`).
pub(crate) fn accept<N: nalgebra::Dim, M: nalgebra::Dim>(
    trace: &mut Vec<Record<N, M>>,
    rec: Record<N, M>,
    stop: Stop,
    (moved, residual): (f64, bool),
    k: usize,
) -> Option<End>
where
    DefaultAllocator: Alloc<N, M>,
{
    if let Some(cause) = fault(&rec, stop.divergence_bound, residual) {
        return Some(End::Fault(k, cause));
    }
    let converged = stop.tol.is_some_and(|tol| moved < tol && rec.lower_grad_norm < tol);
    trace.push(rec);
    converged.then_some(End::Converged(k))
}

/// Checks the stopping rule (see [`check_stop`]) and that a trace keeps every `k`-th iterate with `k ≥ 1`.
pub(crate) fn check_schedule<N: nalgebra::Dim, M: nalgebra::Dim>(schedule: &Schedule) -> Result<(), SolveError<N, M>>
where
    DefaultAllocator: Alloc<N, M>,
{
    if matches!(schedule.metrics, Metrics::Every(0) | Metrics::Full(0)) {
        let why = "metrics: Metrics::Every(0) or Full(0) keeps no iterate; use k ≥ 1, or Metrics::End";
        return Err(SolveError::Options(why.into()));
    }
    check_stop(schedule.stop)
}

/// Checks that the stopping tolerance and the divergence bound are positive.
pub(crate) fn check_stop<N: nalgebra::Dim, M: nalgebra::Dim>(stop: Stop) -> Result<(), SolveError<N, M>>
where
    DefaultAllocator: Alloc<N, M>,
{
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
pub(crate) fn check_start_record<N: nalgebra::Dim, M: nalgebra::Dim>(
    rec: &Record<N, M>,
    bound: f64,
) -> Result<(), SolveError<N, M>>
where
    DefaultAllocator: Alloc<N, M>,
{
    match fault(rec, bound, true) {
        Some(cause) => Err(SolveError::Options(format!("the start point cannot be used: {cause} there"))),
        None => Ok(()),
    }
}

/// What is wrong with a record, if anything: a non-finite value (the BGS residual too when `residual`: it was
/// computed) or an iterate beyond `bound`.
fn fault<N: nalgebra::Dim, M: nalgebra::Dim>(rec: &Record<N, M>, bound: f64, residual: bool) -> Option<String>
where
    DefaultAllocator: Alloc<N, M>,
{
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
pub(crate) fn check_steps<N: nalgebra::Dim, M: nalgebra::Dim>(steps: &[(&str, f64)]) -> Result<(), SolveError<N, M>>
where
    DefaultAllocator: Alloc<N, M>,
{
    match steps.iter().find(|(_, v)| !(v.is_finite() && *v > 0.0)) {
        Some((name, v)) => Err(SolveError::Options(format!("{name} must be finite and positive, not {v}"))),
        None => Ok(()),
    }
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
