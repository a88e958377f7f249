//! Solvers for the correction `ξ ≈ −H† v` of corrected ITD and AID (Arbel & Mairal, eq. 5–7 and 36).

use crate::trace::Extra;
use nalgebra::{DefaultAllocator, OMatrix, OVector};

use crate::dims::Alloc;
use crate::linalg::pinv_apply;
use crate::matrix_free::krylov::{Krylov, Outcome};

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

/// What a warm-started solver carries from one outer iteration to the next (`z` for z-cg, `ξ` for gd).
pub(crate) struct XiState<N: nalgebra::Dim, M: nalgebra::Dim>
where
    DefaultAllocator: Alloc<N, M>,
{
    warm: OVector<f64, M>,
    krylov: Krylov,
    _n: std::marker::PhantomData<N>,
}

impl<N: nalgebra::Dim, M: nalgebra::Dim> XiState<N, M>
where
    DefaultAllocator: Alloc<N, M>,
{
    pub fn new(m: M) -> Self {
        XiState {
            warm: OVector::zeros_generic(m, nalgebra::U1),
            krylov: Krylov::new(m.value()),
            _n: std::marker::PhantomData,
        }
    }

    /// `ξ` for `H`, `v` (and `‖∇y G‖` for the adaptive cutoff), with the metrics the solver reports.
    pub fn solve(
        &mut self,
        solver: &XiSolver,
        h: &OMatrix<f64, M, M>,
        v: &OVector<f64, M>,
        lower_grad_norm: f64,
    ) -> (OVector<f64, M>, XiMetrics) {
        match *solver {
            XiSolver::Pinv { rtol } => (-pinv_apply(h, v, rtol, 0.0), XiMetrics::default()),
            XiSolver::AdaptivePinv { rtol, kappa } => {
                (-pinv_apply(h, v, rtol, kappa * lower_grad_norm), XiMetrics::default())
            }
            XiSolver::ZCg { iters } => {
                let mut apply = |u: &[f64], out: &mut [f64]| product(h, u, out);
                let out = self.krylov.cgls_square(&mut apply, v.as_slice(), self.warm.as_mut_slice(), iters);
                (h * &self.warm, XiMetrics::of(&[("cg_breakdown", f64::from(u8::from(out.breakdown)))]))
            }
            XiSolver::Gd { step } => {
                self.warm = &self.warm - (h * &self.warm + v).scale(step);
                (self.warm.clone(), XiMetrics::of(&[("xi_norm", self.warm.norm())]))
            }
            XiSolver::Cg { iters } => {
                let mut apply = |u: &[f64], out: &mut [f64]| product(h, u, out);
                let minus_v = -v;
                let out = self.krylov.cg(&mut apply, minus_v.as_slice(), self.warm.as_mut_slice(), iters, CG_TOL);
                (self.warm.clone(), XiMetrics::cg(out, self.warm.norm()))
            }
            XiSolver::Lsqr { iters } => {
                let mut apply = |u: &[f64], out: &mut [f64]| product(h, u, out);
                let mut xi = v.clone();
                let out = self.krylov.lsqr(&mut apply, v.as_slice(), xi.as_mut_slice(), iters, 1e-12);
                (-xi, XiMetrics::of(&[("lsqr_iterations", out.iterations as f64)]))
            }
        }
    }
}

/// `out ← H u` for slices, accumulated column by column as nalgebra's matrix–vector product does (so that the
/// dense and the matrix-free runs of a problem round alike).
fn product<M: nalgebra::Dim>(h: &OMatrix<f64, M, M>, u: &[f64], out: &mut [f64])
where
    DefaultAllocator: nalgebra::allocator::Allocator<M, M>,
{
    out.iter_mut().for_each(|o| *o = 0.0);
    for (column, &scale) in h.column_iter().zip(u) {
        out.iter_mut().zip(column.iter()).for_each(|(o, h)| *o += scale * h);
    }
}
