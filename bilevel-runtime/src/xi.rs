//! Solvers for the correction `ξ ≈ −H† v` of corrected ITD and AID (Arbel & Mairal, eq. 5–7 and 36).

use crate::linalg::pinv_into;
use crate::matrix_free::curvature::Curvature;
use crate::matrix_free::krylov::{Krylov, Outcome};
use crate::matrix_free::vector::{axpy, norm, scale, Buf};
use crate::matrix_free::{from_products, MatrixFreeProblem};
use crate::trace::Extra;

/// How the correction `ξ_k ≈ −H(x_{k-1}, y_k)† v_k` (the minimum-norm least-squares solution of `H ξ = −v`) is
/// computed. The correction adds `B ξ_k` to the direction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum XiSolver {
    /// Exact, by symmetric eigendecomposition of `H`: eigenvalues with `|λ| ≤ rtol · max|λ|` are treated as zero.
    ///
    /// The default `rtol = 1e-3` was measured on the Mexican hat (P2, corrected ITD, K = 1500): near a degenerate
    /// critical manifold `H` has a spurious tiny eigenvalue; inverting it silently turns the correction into plain
    /// implicit differentiation. With T = 10 unrolled steps the run reaches an equilibrium for `rtol ≥ 1e-4`, with
    /// T = 5 only for `rtol ≥ 1e-3`, with T ≤ 3 only for `rtol = 1e-2`. The price of a large cutoff is that
    /// genuine eigenvalues of lower Hessians with condition number above `1/rtol` are discarded.
    Pinv {
        /// The relative cutoff.
        rtol: f64,
    },
    /// `Pinv` with an adaptive cutoff (no paper has it): drop `|λ| ≤ max(rtol · max|λ|, κ ‖∇y G(x, y_k)‖)`.
    /// Spurious eigenvalues near a degenerate manifold scale with the distance to it, hence with `‖∇y G‖`.
    AdaptivePinv {
        /// The relative cutoff.
        rtol: f64,
        /// The factor `κ` of the gradient-norm cutoff.
        kappa: f64,
    },
    /// Warm-started CGLS on `min_z ‖H² z + v‖²` (eq. 6–7): `iters` iterations from the previous `z`, then
    /// `ξ = H z`. Stops early when the normal residual is below `1e-15 ‖H² v‖`; a non-positive curvature or a
    /// non-finite value is a breakdown: `z` keeps its last good value and the iteration records `cg_breakdown = 1`.
    ZCg {
        /// CG iterations per outer iteration (`N`).
        iters: usize,
    },
    /// One gradient step per outer iteration (eq. 36): `ξ_k = ξ_{k-1} − β (H ξ_{k-1} + v_k)`, `ξ_0 = 0`. A component
    /// of `v` outside the range of `H` makes `ξ` grow linearly in the null space of `H`; this does not change `B ξ`
    /// in exact arithmetic but costs precision, so every iteration records `xi_norm = ‖ξ_k‖`.
    Gd {
        /// The step `β`.
        step: f64,
    },
    /// Warm-started conjugate gradients on `H ξ = −v` (AID's usual choice): `iters` iterations from the previous
    /// `ξ`, stopping when the residual is below `1e-15 ‖v‖`. For a positive semi-definite `H` with `v` in its
    /// range this converges to `−H† v`; a non-positive curvature or a non-finite value is a breakdown (`ξ` keeps
    /// its last good value, `cg_breakdown = 1`). Each iteration records `cg_residual` (`‖H ξ + v‖ / ‖v‖` at the end)
    /// and `xi_norm`: when `H` is singular and `v` has a component outside its range (every degenerate lower
    /// level), CG cannot converge — the residual stops decreasing while `‖ξ‖` grows without bound and the
    /// hypergradient is wrong; use `gd`, `z-cg` or `lsqr` there. `cg` is for lower levels whose `H` is regular.
    Cg {
        /// CG iterations per outer iteration.
        iters: usize,
    },
    /// LSQR from 0 on `H ξ = −v` (Paige & Saunders): converges to the minimum-norm least-squares solution
    /// `−H† v` whatever `v` is, using only products with `H` (two per iteration): the large-scale counterpart of
    /// `pinv`. Eigenvalues far below the largest are reached last, so `iters` plays the role of the cutoff: few
    /// iterations ignore the smallest ones, as a large `rtol` does. Records `lsqr_iterations`.
    Lsqr {
        /// Maximum iterations per outer iteration.
        iters: usize,
    },
}

impl XiSolver {
    /// `pinv` with the measured default cutoff `rtol = 1e-3`.
    pub const PINV: XiSolver = XiSolver::Pinv { rtol: 1e-3 };
    /// The adaptive `pinv` with `rtol = 1e-3` and `κ = 10`.
    pub const ADAPTIVE_PINV: XiSolver = XiSolver::AdaptivePinv { rtol: 1e-3, kappa: 10.0 };

    /// A short description, e.g. `pinv rtol=0.001`.
    pub fn describe(&self) -> String {
        match self {
            XiSolver::Pinv { rtol } => format!("pinv rtol={rtol:e}"),
            XiSolver::AdaptivePinv { rtol, kappa } => format!("adaptive-pinv rtol={rtol:e} κ={kappa}"),
            XiSolver::ZCg { iters } => format!("z-cg N={iters}"),
            XiSolver::Gd { step } => format!("gd β={step}"),
            XiSolver::Cg { iters } => format!("cg N={iters}"),
            XiSolver::Lsqr { iters } => format!("lsqr N={iters}"),
        }
    }

    /// Checks the solver's own options.
    pub(crate) fn check(&self) -> Result<(), String> {
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!("the ξ-solver's {name} must be finite and positive, not {v}"))
            }
        };
        match *self {
            XiSolver::Pinv { rtol } => positive("rtol", rtol),
            XiSolver::AdaptivePinv { rtol, kappa } => positive("rtol", rtol).and(positive("κ", kappa)),
            XiSolver::ZCg { iters: 0 } => Err("z-cg needs at least one iteration".into()),
            XiSolver::Cg { iters: 0 } => Err("cg needs at least one iteration".into()),
            XiSolver::Lsqr { iters: 0 } => Err("lsqr needs at least one iteration".into()),
            XiSolver::ZCg { .. } | XiSolver::Cg { .. } | XiSolver::Lsqr { .. } => Ok(()),
            XiSolver::Gd { step } => positive("β", step),
        }
    }
}

/// The relative residual at which the `cg` solver stops.
pub(crate) const CG_TOL: f64 = 1e-15;

/// The metrics a ξ-solver reports, named without allocating: strings are made only for a record that is kept.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct XiMetrics {
    items: [(&'static str, f64); 3],
    len: usize,
}

impl XiMetrics {
    /// These metrics (at most three).
    pub fn of(items: &[(&'static str, f64)]) -> XiMetrics {
        let mut m = XiMetrics::default();
        m.items[..items.len()].copy_from_slice(items);
        m.len = items.len();
        m
    }

    /// The metrics of one `cg` solve.
    pub fn cg(out: Outcome, xi_norm: f64) -> XiMetrics {
        let breakdown = f64::from(u8::from(out.breakdown));
        XiMetrics::of(&[("cg_breakdown", breakdown), ("cg_residual", out.residual), ("xi_norm", xi_norm)])
    }

    /// The metrics with their names, for a record.
    pub fn named(&self) -> Vec<Extra> {
        self.items[..self.len].iter().map(|&(name, v)| (name.into(), v)).collect()
    }
}

/// What the ξ-solvers keep over a run: the warm start (`z` for z-cg, `ξ` for gd and cg), the Krylov buffers and,
/// for the pseudo-inverses, those of the eigendecomposition (and of `H`, for a problem without native blocks).
pub(crate) struct XiState<P: MatrixFreeProblem> {
    warm: Vec<f64>,
    krylov: Krylov,
    dense: Option<DenseBlocks<P>>,
}

/// The buffers of the pseudo-inverse solvers, in the problem's matrix types (moved into the solve for each call,
/// so that a fixed-size problem's decomposition runs in registers).
struct DenseBlocks<P: MatrixFreeProblem> {
    /// The matrix being diagonalized and its eigenvectors.
    s: Buf<P::YY>,
    vectors: Buf<P::YY>,
    /// `H` and `B` built from `m` products, for a problem without native blocks.
    h: Buf<P::YY>,
    b: Buf<P::XY>,
}

impl<P: MatrixFreeProblem> XiState<P> {
    /// The buffers `solver` needs on a problem of sizes `(n, m)`.
    pub fn new(solver: &XiSolver, (n, m): (usize, usize)) -> Self {
        let dense = matches!(solver, XiSolver::Pinv { .. } | XiSolver::AdaptivePinv { .. }).then(|| DenseBlocks {
            s: Buf::zeros(m * m),
            vectors: Buf::zeros(m * m),
            h: Buf::zeros(m * m),
            b: Buf::zeros(n * m),
        });
        XiState { warm: vec![0.0; m], krylov: Krylov::new(m), dense }
    }

    /// `ξ ≈ −H† v` (into `xi`) with `H = ∇²yy G(x, y)` at the point `(x, y)` kept in slot 0 of `at` (`lower_grad_norm`:
    /// `‖∇y G(x, y)‖`, for the adaptive cutoff), and the metrics the solver reports; `(bv, hv)` are scratch. `v` is
    /// left as it was given.
    #[inline]
    pub fn solve(
        &mut self,
        solver: &XiSolver,
        (problem, at, x): (&P, &Curvature, &[f64]),
        (v, lower_grad_norm): (&mut [f64], f64),
        xi: &mut [f64],
        (bv, hv): (&mut [f64], &mut [f64]),
    ) -> XiMetrics {
        let XiState { warm, krylov, dense } = self;
        let mut h = |u: &[f64], out: &mut [f64]| at.apply(problem, 0, x, u, (&mut *bv, out));
        match *solver {
            XiSolver::Pinv { rtol } | XiSolver::AdaptivePinv { rtol, .. } => {
                let floor = match *solver {
                    XiSolver::AdaptivePinv { kappa, .. } => kappa * lower_grad_norm,
                    _ => 0.0,
                };
                let mut blocks = dense.take().expect("made for the pseudo-inverses and put back");
                let DenseBlocks { s, vectors, h: built, b } = &mut blocks;
                let h = match at.hessian(0) {
                    Some(h) => h,
                    None => {
                        // Built from the m products at the point (a problem with data; no gradient needed).
                        let product = |u: &[f64], bu: &mut [f64], hu: &mut [f64]| at.apply(problem, 0, x, u, (bu, hu));
                        from_products(problem.dims(), product, hv, (built, b));
                        built
                    }
                };
                pinv_into(h, v, (rtol, floor), (s, vectors), xi);
                scale(xi, -1.0);
                *dense = Some(blocks);
                XiMetrics::default()
            }
            XiSolver::ZCg { iters } => {
                let out = krylov.cgls_square(&mut h, v, warm, iters);
                h(warm, xi);
                XiMetrics::of(&[("cg_breakdown", f64::from(u8::from(out.breakdown)))])
            }
            XiSolver::Gd { step } => {
                h(warm, xi);
                axpy(xi, 1.0, v);
                axpy(warm, -step, xi);
                xi.copy_from_slice(warm);
                XiMetrics::of(&[("xi_norm", norm(xi))])
            }
            XiSolver::Cg { iters } => {
                scale(v, -1.0);
                let out = krylov.cg(&mut h, v, warm, iters, CG_TOL);
                scale(v, -1.0);
                xi.copy_from_slice(warm);
                XiMetrics::cg(out, norm(xi))
            }
            XiSolver::Lsqr { iters } => {
                let out = krylov.lsqr(&mut h, v, xi, iters, 1e-12);
                scale(xi, -1.0);
                XiMetrics::of(&[("lsqr_iterations", out.iterations as f64)])
            }
        }
    }
}
