//! Solvers for the correction `ξ ≈ −H† v` of corrected ITD and AID (Arbel & Mairal, eq. 5–7 and 36).

use nalgebra::{DefaultAllocator, OMatrix, OVector};

use crate::dims::Alloc;
use crate::linalg::pinv_apply;

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
            XiSolver::ZCg { .. } => Ok(()),
            XiSolver::Gd { step } => positive("β", step),
        }
    }
}

/// What a warm-started solver carries from one outer iteration to the next (`z` for z-cg, `ξ` for gd).
pub(crate) struct XiState<N: nalgebra::Dim, M: nalgebra::Dim>
where
    DefaultAllocator: Alloc<N, M>,
{
    warm: OVector<f64, M>,
    _n: std::marker::PhantomData<N>,
}

impl<N: nalgebra::Dim, M: nalgebra::Dim> XiState<N, M>
where
    DefaultAllocator: Alloc<N, M>,
{
    pub fn new(m: M) -> Self {
        XiState { warm: OVector::zeros_generic(m, nalgebra::U1), _n: std::marker::PhantomData }
    }

    /// `ξ` for `H`, `v` (and `‖∇y G‖` for the adaptive cutoff), with the metrics the solver reports.
    pub fn solve(
        &mut self,
        solver: &XiSolver,
        h: &OMatrix<f64, M, M>,
        v: &OVector<f64, M>,
        lower_grad_norm: f64,
    ) -> (OVector<f64, M>, Vec<(String, f64)>) {
        match *solver {
            XiSolver::Pinv { rtol } => (-pinv_apply(h, v, rtol, 0.0), Vec::new()),
            XiSolver::AdaptivePinv { rtol, kappa } => (-pinv_apply(h, v, rtol, kappa * lower_grad_norm), Vec::new()),
            XiSolver::ZCg { iters } => {
                let breakdown = cgls_h2(h, v, &mut self.warm, iters);
                (h * &self.warm, vec![("cg_breakdown".into(), f64::from(u8::from(breakdown)))])
            }
            XiSolver::Gd { step } => {
                self.warm = &self.warm - (h * &self.warm + v).scale(step);
                (self.warm.clone(), vec![("xi_norm".into(), self.warm.norm())])
            }
        }
    }
}

/// `iters` CGLS iterations on `min_z ‖A z + v‖²` with `A = H²`, from `z`. Returns whether CG broke down
/// (`z` then keeps its last good value).
fn cgls_h2<M: nalgebra::Dim>(h: &OMatrix<f64, M, M>, v: &OVector<f64, M>, z: &mut OVector<f64, M>, iters: usize) -> bool
where
    DefaultAllocator: nalgebra::allocator::Allocator<M> + nalgebra::allocator::Allocator<M, M>,
{
    let a = h * h;
    let stop = 1e-15 * (&a * v).norm();
    let mut r = -(v + &a * &*z); // residual of A z = −v
    let mut s = &a * &r; // normal residual Aᵀ r (A is symmetric)
    let mut p = s.clone();
    let mut gamma = s.norm_squared();
    for _ in 0..iters {
        if gamma.sqrt() < stop {
            break;
        }
        let q = &a * &p;
        let delta = q.norm_squared();
        if !(delta.is_finite() && delta > 0.0) {
            return true;
        }
        let alpha = gamma / delta;
        let z_next = &*z + p.scale(alpha);
        if !z_next.iter().all(|c| c.is_finite()) {
            return true;
        }
        *z = z_next;
        r -= q.scale(alpha);
        s = &a * &r;
        let gamma_next = s.norm_squared();
        p = &s + p.scale(gamma_next / gamma);
        gamma = gamma_next;
    }
    false
}
