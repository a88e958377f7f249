//! [`Curvature`]: the second derivatives of one objective at the points a run visits, applied to vectors — from
//! each point's dense blocks where the problem has them, from its products otherwise. This is the one place
//! where the algorithms tell a small problem (blocks computed once per point) from a large one (products only).

use super::MatrixFreeProblem;

/// One of the two objectives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Objective {
    /// `F`.
    Upper,
    /// `G`.
    Lower,
}

/// The products `(B v, H v)` of one objective (`H = ∇²yy`, `B = ∇²xy`) at up to `slots` points `(x, y_t)`.
///
/// [`Curvature::keep`] evaluates the objective's gradients at a point and keeps it in a slot;
/// [`Curvature::apply`] applies the slot's second derivatives to a vector. A slot holds the point's `H` and `B`
/// (one fused call gives them with the gradients, and each product is then a small matrix–vector product) where
/// that pays, a point with several products on a problem with native blocks ([`Curvature::point`]); otherwise
/// it holds the point's `y`, and each product is the problem's own ([`Curvature::trajectory`]). Buffers are
/// allocated once.
pub(crate) struct Curvature {
    objective: Objective,
    /// Whether the slots hold blocks (or points).
    blocks: bool,
    m: usize,
    /// The numbers per slot.
    width: usize,
    /// Slot `t`: `H` (`m·m`) then `B` (`n·m`), column by column; or its `y` (`m`).
    store: Vec<f64>,
}

impl Curvature {
    /// Room for the `slots` points of a trajectory, each of which gets one product (the reverse sweep of unrolled
    /// steps): the points are kept and each product is the problem's own, computed when applied (for a problem of
    /// fixed size, straight-line code in which constant second derivatives fold away).
    pub fn trajectory<P: MatrixFreeProblem>(problem: &P, objective: Objective, slots: usize) -> Curvature {
        Curvature::with(problem, objective, slots, false)
    }

    /// Room for one point that gets several products (GALET's `w` steps, the ξ-solvers): its blocks when the
    /// problem has them ([`MatrixFreeProblem::has_blocks`]), computed once, each product then a small
    /// matrix–vector product.
    pub fn point<P: MatrixFreeProblem>(problem: &P, objective: Objective) -> Curvature {
        Curvature::with(problem, objective, 1, problem.has_blocks())
    }

    fn with<P: MatrixFreeProblem>(problem: &P, objective: Objective, slots: usize, blocks: bool) -> Curvature {
        let (n, m) = problem.dims();
        let width = if blocks { m * m + n * m } else { m };
        Curvature { objective, blocks, m, width, store: vec![0.0; slots * width] }
    }

    #[inline(always)]
    fn slot(&self, t: usize) -> &[f64] {
        &self.store[t * self.width..(t + 1) * self.width]
    }

    /// Keeps `(x, y)` in slot `t`: writes the objective's `∇x` into `gx` and `∇y` into `gy`, returns its value.
    #[inline(always)]
    pub fn keep<P: MatrixFreeProblem>(
        &mut self,
        problem: &P,
        t: usize,
        (x, y): (&[f64], &[f64]),
        (gx, gy): (&mut [f64], &mut [f64]),
    ) -> f64 {
        let slot = &mut self.store[t * self.width..(t + 1) * self.width];
        match (self.blocks, self.objective) {
            (true, objective) => {
                let (h, b) = slot.split_at_mut(self.m * self.m);
                match objective {
                    Objective::Upper => problem.upper_blocks(x, y, gx, gy, h, b),
                    Objective::Lower => problem.lower_blocks(x, y, gx, gy, h, b),
                }
            }
            (false, Objective::Upper) => {
                copy(slot, y);
                problem.upper_grad(x, y, gx, gy)
            }
            (false, Objective::Lower) => {
                copy(slot, y);
                problem.lower_grad(x, y, gx, gy)
            }
        }
    }

    /// Keeps `(x, y)` in slot `t` without asking for the gradients: `gx`, `gy` are scratch (what a fused call
    /// gives with the blocks is written there; a problem without blocks is not evaluated at all).
    #[inline(always)]
    pub fn place<P: MatrixFreeProblem>(
        &mut self,
        problem: &P,
        t: usize,
        (x, y): (&[f64], &[f64]),
        (gx, gy): (&mut [f64], &mut [f64]),
    ) {
        if self.blocks {
            self.keep(problem, t, (x, y), (gx, gy));
        } else {
            copy(&mut self.store[t * self.width..(t + 1) * self.width], y);
        }
    }

    /// Writes `B v` into `bv` and `H v` into `hv` at the point of slot `t` (kept with this `x`).
    #[inline(always)]
    pub fn apply<P: MatrixFreeProblem>(
        &self,
        problem: &P,
        t: usize,
        x: &[f64],
        v: &[f64],
        (bv, hv): (&mut [f64], &mut [f64]),
    ) {
        let slot = self.slot(t);
        match (self.blocks, self.objective) {
            (true, _) => {
                let (h, b) = slot.split_at(self.m * self.m);
                matvec(h, v, hv);
                matvec(b, v, bv);
            }
            (false, Objective::Upper) => problem.upper_hvp_y(x, slot, v, bv, hv),
            (false, Objective::Lower) => problem.lower_hvp_y(x, slot, v, bv, hv),
        }
    }

    /// `H` at slot `t` (`m × m`, column by column), when the slots hold blocks.
    pub fn hessian(&self, t: usize) -> Option<&[f64]> {
        self.blocks.then(|| &self.slot(t)[..self.m * self.m])
    }
}

/// `out ← A v` for `A` of `out.len()` rows stored column by column. Each entry is summed in a register, in the
/// order of the columns (the rounding of a column-by-column accumulation, without its chain through memory).
#[inline(always)]
pub(crate) fn matvec(a: &[f64], v: &[f64], out: &mut [f64]) {
    let rows = out.len();
    for (i, o) in out.iter_mut().enumerate() {
        *o = v.iter().enumerate().fold(0.0, |acc, (j, c)| acc + a[j * rows + i] * c);
    }
}

/// `to ← from` entry by entry: for the few numbers of a small problem's point, a loop the compiler unrolls where
/// `copy_from_slice` of a slot of run-time length would call `memcpy` (and keep the point out of registers).
#[inline(always)]
fn copy(to: &mut [f64], from: &[f64]) {
    to.iter_mut().zip(from).for_each(|(t, f)| *t = *f);
}
