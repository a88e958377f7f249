//! The lower-level gradient steps `φ_T` and their Jacobians, shared by BGS-Opt and DPBG.

use nalgebra::{DefaultAllocator, OMatrix, OVector};

use crate::dims::Alloc;
use crate::problem::Problem;

/// `y_T = φ_T(x, y_0)` with `J_x ∈ R^{n×m}` and, when asked, `J_y ∈ R^{m×m}` (row convention of the papers).
pub(crate) struct Unrolled<P: Problem>
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    pub y: OVector<f64, P::M>,
    pub jx: OMatrix<f64, P::N, P::M>,
    pub jy: Option<OMatrix<f64, P::M, P::M>>,
}

/// `steps` plain gradient steps `y ← y − α ∇y G(x, y)` (not differentiated).
pub(crate) fn descend<P: Problem>(
    problem: &P,
    x: &OVector<f64, P::N>,
    mut y: OVector<f64, P::M>,
    steps: usize,
    alpha: f64,
) -> OVector<f64, P::M>
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    for _ in 0..steps {
        y -= problem.lower_grad(x, &y).y.scale(alpha);
    }
    y
}

/// `steps` gradient steps from `y`, differentiated: `J_x ← J_x (I − α H_t) − α B_t` from 0 and
/// `J_y ← J_y (I − α H_t)` from `I`, with `H_t, B_t` at `(x, y_t)`.
pub(crate) fn unroll<P: Problem>(
    problem: &P,
    x: &OVector<f64, P::N>,
    mut y: OVector<f64, P::M>,
    steps: usize,
    alpha: f64,
    with_jy: bool,
) -> Unrolled<P>
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    let (n, m) = problem.dims();
    let mut jx = OMatrix::<f64, P::N, P::M>::zeros_generic(n, m);
    let mut jy = with_jy.then(|| OMatrix::<f64, P::M, P::M>::identity_generic(m, m));
    for _ in 0..steps {
        let h = problem.lower_hess(x, &y);
        jx -= (&jx * &h.yy + &h.xy).scale(alpha);
        if let Some(jy) = jy.as_mut() {
            *jy -= (&*jy * &h.yy).scale(alpha);
        }
        y -= h.grad_y.scale(alpha);
    }
    Unrolled { y, jx, jy }
}
