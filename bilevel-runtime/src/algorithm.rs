//! The interface every algorithm offers.

use std::ops::ControlFlow;

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix};

use crate::error::SolveResult;
use crate::matrix_free::{with_lower_step, LowerStep, MatrixFreeProblem};

/// A bilevel algorithm with its options: a value you configure, then run on a problem.
pub trait Algorithm {
    /// The algorithm's name as in docs/algorithms.md, e.g. `itd`, `corrected-itd`, `bda`.
    fn name(&self) -> String;

    /// Its settings as one line, e.g. `T=5 M=0 α=0.2 γ=0.5 K=3000 warm`.
    fn settings(&self) -> String;

    /// Runs from `(x0, y0)` (for DPBG, `y0` is the initialization `z0` of the lower steps; each a slice, an array,
    /// a `Vec` or an nalgebra vector) on any problem: one with data (its products), or one of fixed size with dense
    /// blocks (every [`Problem`](crate::Problem) is a [`MatrixFreeProblem`]). Unrolled steps are differentiated in
    /// reverse over the stored iterates, or by the forward Jacobian recursion where the problem has native blocks
    /// and the Jacobians are small; the ξ-solvers and GALET's `w` use products, or a point's blocks where it has
    /// them; buffers are allocated once per run. On a problem without native blocks
    /// ([`MatrixFreeProblem::has_blocks`]) the BGS residual is computed by LSQR at the start and at the final
    /// iterate only (NaN in between; see [`bgs_residual`](crate::metrics::bgs_residual)).
    fn solve<P: MatrixFreeProblem>(
        &self,
        problem: &P,
        x0: &(impl Entries + ?Sized),
        y0: &(impl Entries + ?Sized),
    ) -> SolveResult {
        self.solve_observed(problem, x0.entries(), y0.entries(), &mut |_, _| ControlFlow::Continue(()))
    }

    /// [`Algorithm::solve`] with `observer(k, iters)` called every 64 iterations and after the last
    /// (a progress bar, a log, a deadline, a check for Ctrl-C). While it continues, the run does not depend on it;
    /// when it breaks (`ControlFlow::Break(())`) after iteration `k < iters`, the run ends there with
    /// [`Status::Stopped`](crate::Status::Stopped), iterate `k` recorded and the final metrics computed.
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// use bilevel_runtime::{Algorithm, BgsOpt, Status};
    /// # use bilevel_runtime::{Bounds, Grad, Hess, Problem};
    /// # use bilevel_runtime::nalgebra::{Const, Matrix1, OVector, Vector1};
    /// # struct Q;
    /// # type V = OVector<f64, Const<1>>;
    /// # impl Problem for Q {
    /// #     type N = Const<1>; type M = Const<1>;
    /// #     fn name(&self) -> &str { "Q" }
    /// #     fn dims(&self) -> (Const<1>, Const<1>) { (Const, Const) }
    /// #     fn start(&self) -> (V, V) { (V::zeros(), V::zeros()) }
    /// #     fn bounds(&self) -> Option<Bounds<Const<1>>> { None }
    /// #     fn upper(&self, x: &V, y: &V) -> f64 { 0.5 * (x[0] * x[0] + (y[0] - 1.0).powi(2)) }
    /// #     fn lower(&self, x: &V, y: &V) -> f64 { 0.5 * (y[0] - x[0]).powi(2) }
    /// #     fn upper_grad(&self, x: &V, y: &V) -> Grad<Const<1>, Const<1>> { Grad { value: self.upper(x, y), x: *x, y: Vector1::new(y[0] - 1.0) } }
    /// #     fn lower_grad(&self, x: &V, y: &V) -> Grad<Const<1>, Const<1>> { let d = y[0] - x[0]; Grad { value: self.lower(x, y), x: Vector1::new(-d), y: Vector1::new(d) } }
    /// #     fn upper_hess(&self, x: &V, y: &V) -> Hess<Const<1>, Const<1>> { let g = self.upper_grad(x, y); Hess { value: g.value, grad_x: g.x, grad_y: g.y, yy: Matrix1::new(1.0), xy: Matrix1::new(0.0) } }
    /// #     fn lower_hess(&self, x: &V, y: &V) -> Hess<Const<1>, Const<1>> { let g = self.lower_grad(x, y); Hess { value: g.value, grad_x: g.x, grad_y: g.y, yy: Matrix1::new(1.0), xy: Matrix1::new(-1.0) } }
    /// #     fn upper_hess_xx(&self, x: &V, y: &V) -> Matrix1<f64> { Matrix1::new(1.0) }
    /// #     fn lower_hess_xx(&self, x: &V, y: &V) -> Matrix1<f64> { Matrix1::new(1.0) }
    /// # }
    /// let mut seen = Vec::new();
    /// let itd = BgsOpt { lower_step: Some(0.5), upper_step: 0.5, outer_iters: 200, ..BgsOpt::itd(3) };
    /// let mut watch = |k, iters| {
    ///     seen.push((k, iters));
    ///     ControlFlow::Continue(())
    /// };
    /// let run = itd.solve_observed(&Q, &[1.0], &[0.0], &mut watch).unwrap();
    /// assert_eq!(seen, [(64, 200), (128, 200), (192, 200), (200, 200)]);
    /// // Unrolled ITD stops where x + c (x − 1) = 0 with c = 1 − (1 − α)³ (the true optimum, c = 1, is x = ½).
    /// let c = 1.0 - 0.5f64.powi(3);
    /// assert!((run.x()[0] - c / (1.0 + c)).abs() < 1e-6);
    ///
    /// // An observer that stops the run after 128 iterations.
    /// let mut enough = |k, _| if k >= 128 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) };
    /// let stopped = itd.solve_observed(&Q, &[1.0], &[0.0], &mut enough).unwrap();
    /// assert_eq!(stopped.status, Status::Stopped { iteration: 128 });
    /// assert_eq!(stopped.last().iteration, 128);
    /// ```
    fn solve_observed<P: MatrixFreeProblem>(
        &self,
        problem: &P,
        x0: &[f64],
        y0: &[f64],
        observer: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
    ) -> SolveResult;
}

/// What each algorithm gives the runtime to be an [`Algorithm`]: its name and settings, its lower step, and its run
/// with the lower step given. Choosing the step (given, or `1/L_G` at the start), checking the start and passing
/// the observer are then written once, in the blanket implementation below.
pub(crate) trait Iterate: Clone {
    /// The symbol of the lower step in docs/algorithms.md (`α`, `s_l`, `β`).
    const LOWER_STEP: &'static str;
    /// See [`Algorithm::name`].
    fn name(&self) -> String;
    /// See [`Algorithm::settings`].
    fn settings(&self) -> String;
    /// The lower step given, if any.
    fn lower_step(&self) -> Option<f64>;
    /// The lower step chosen when none is given, as a fraction of `1/L_G` at the start.
    fn curvature_fraction(&self) -> f64 {
        1.0
    }
    /// The same algorithm with the lower step `value`.
    fn with_lower_step(&self, value: f64) -> Self;
    /// The run from `(x0, y0)`, the lower step given (the start's lengths checked).
    fn iterate<P: MatrixFreeProblem>(
        &self,
        problem: &P,
        start: (&[f64], &[f64]),
        lower: LowerStep,
        observer: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
    ) -> SolveResult;
}

impl<A: Iterate> Algorithm for A {
    fn name(&self) -> String {
        Iterate::name(self)
    }

    fn settings(&self) -> String {
        Iterate::settings(self)
    }

    fn solve_observed<P: MatrixFreeProblem>(
        &self,
        problem: &P,
        x0: &[f64],
        y0: &[f64],
        observer: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
    ) -> SolveResult {
        with_lower_step((A::LOWER_STEP, self.lower_step(), self.curvature_fraction()), (problem, x0, y0), |lower| {
            self.with_lower_step(lower.value).iterate(problem, (x0, y0), lower, observer)
        })
    }
}

/// The entries of a start vector: a slice, an array, a `Vec` or an nalgebra vector.
///
/// ```
/// use bilevel_runtime::Entries;
/// use bilevel_runtime::nalgebra::Vector2;
/// assert_eq!(Vector2::new(1.0, 2.0).entries(), [1.0, 2.0].entries());
/// assert_eq!(vec![1.0, 2.0].entries(), &[1.0, 2.0][..]);
/// ```
pub trait Entries {
    /// The entries, in order.
    fn entries(&self) -> &[f64];
}

impl Entries for [f64] {
    fn entries(&self) -> &[f64] {
        self
    }
}

impl<const K: usize> Entries for [f64; K] {
    fn entries(&self) -> &[f64] {
        self
    }
}

impl Entries for Vec<f64> {
    fn entries(&self) -> &[f64] {
        self
    }
}

impl<R: Dim, C: Dim> Entries for OMatrix<f64, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    fn entries(&self) -> &[f64] {
        self.as_slice()
    }
}
