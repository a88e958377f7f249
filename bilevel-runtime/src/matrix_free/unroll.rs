//! Lower steps on slices: plain ones ([`descend`]), and the unrolled ones whose derivative in `x` (and in their
//! start) the hypergradient needs ([`Unrolled`]), differentiated in reverse over the kept iterates or forward
//! with the Jacobians carried along.

use super::curvature::{matvec, Curvature, Objective};
use super::vector::{axpy, dot, Buf};
use super::MatrixFreeProblem;

/// Scratch vectors for the steps: a gradient pair and a product pair.
pub(crate) struct Scratch<P: MatrixFreeProblem> {
    pub gx: Buf<P::X>,
    pub gy: Buf<P::Y>,
    pub hx: Buf<P::X>,
    pub hy: Buf<P::Y>,
}

impl<P: MatrixFreeProblem> Scratch<P> {
    pub fn new(n: usize, m: usize) -> Self {
        Scratch { gx: Buf::zeros(n), gy: Buf::zeros(m), hx: Buf::zeros(n), hy: Buf::zeros(m) }
    }
}

/// `steps` plain gradient steps `y ← y − α ∇y G(x, y)` (not differentiated).
#[inline]
pub(crate) fn descend<P: MatrixFreeProblem>(
    p: &P,
    x: &[f64],
    y: &mut [f64],
    steps: usize,
    alpha: f64,
    s: &mut Scratch<P>,
) {
    for _ in 0..steps {
        p.lower_grad(x, y, &mut s.gx, &mut s.gy);
        axpy(y, -alpha, &s.gy);
    }
}

/// The most Jacobian rows the forward recursion carries: beyond them, `rows · m²` flops per step cost more than
/// the reverse sweep's one product per step.
const FORWARD_ROWS: usize = 16;

/// Unrolled steps `y_{t+1} = y_t − w_F,t ∇y F(x, y_t) − w_G,t ∇y G(x, y_t)` at a fixed `x` — `w_F = 0` for the
/// BGS family and DPBG (`G`'s gradient steps), BDA's aggregation of both objectives otherwise — and their
/// derivative: with `J_x` (`n × m`) and `J_y` (`m × m`) the Jacobians of the last iterate in `x` and in the start
/// (row convention, as in the papers),
/// ```text
/// J_x ← J_x (I − w_F H_F − w_G H_G) − (w_F B_F + w_G B_G),   J_y ← J_y (I − w_F H_F − w_G H_G)
/// ```
/// from `J_x = 0`, `J_y = I`, with `H = ∇²yy` and `B = ∇²xy` of each objective at `(x, y_t)`.
/// [`Unrolled::pull_back`] then turns `(∇x F, ∇y F)` at the last iterate into `∇x F + J_x ∇y F` and
/// `J_y ∇y F`. This is the one implementation of that rule, in one of two ways chosen when it is made:
///
/// - **reverse** (any problem): the iterates are kept (`T·m` numbers) and the two vectors accumulated backwards,
///   one product `(B_t a, H_t a)` per step and objective, so no Jacobian is ever formed;
/// - **forward** (problems with native blocks, [`MatrixFreeProblem::has_blocks`], and at most 16 Jacobian rows:
///   `n`, plus `m` when `J_y` is asked for): each step's one fused call gives the gradient and the blocks, and
///   the rows of `J_x` and `J_y` are carried along with `y` — the recursion above, as a user of a small problem
///   would write it, in which the Jacobian's update does not wait on a backward sweep.
///
/// The two agree to rounding (the runtime's tests check them against each other, 1e-12). Buffers are allocated
/// when it is made; each call moves them into the function that loops over them (a fixed-size problem's then
/// live in registers) and back.
pub(crate) struct Unrolled<P: MatrixFreeProblem> {
    /// `(w_F, w_G)` of each step.
    weights: Vec<(f64, f64)>,
    /// Whether `F` enters the steps (some `w_F ≠ 0`).
    upper: bool,
    /// The state, out of its place only during a call.
    mode: Option<Mode<P>>,
}

/// How [`Unrolled`] differentiates, with its buffers.
enum Mode<P: MatrixFreeProblem> {
    Reverse(Reverse<P>),
    Forward(Forward<P>),
}

/// The state of the reverse sweep.
struct Reverse<P: MatrixFreeProblem> {
    /// `F`'s (when it enters) and `G`'s curvature at each iterate.
    upper: Curvature,
    lower: Curvature,
    /// Gradients and products of `F` and of `G`.
    f: Scratch<P>,
    g: Scratch<P>,
}

/// The state of the forward recursion.
struct Forward<P: MatrixFreeProblem> {
    /// `J_x` (`n × m`) and, when asked for, `J_y` (`m × m`), row by row: each row a tangent in the space of `y`.
    jx: Buf<P::XY>,
    jy: Option<Buf<P::YY>>,
    /// `H` and `B` of `F` and of `G` at the current iterate, column by column, and the step's mixes
    /// `w_F H_F + w_G H_G`, `w_F B_F + w_G B_G`.
    hf: Buf<P::YY>,
    bf: Buf<P::XY>,
    hg: Buf<P::YY>,
    bg: Buf<P::XY>,
    h: Buf<P::YY>,
    b: Buf<P::XY>,
    /// The iterate, the gradients (`f.gy`, `g.gy`) and the product `(w_F H_F + w_G H_G) r` of a row (`g.hy`).
    y: Buf<P::Y>,
    f: Scratch<P>,
    g: Scratch<P>,
}

impl<P: MatrixFreeProblem> Unrolled<P> {
    /// Room for `weights.len()` steps; `jy`: whether [`Unrolled::pull_back`] must give `J_y ∇y F` too.
    pub fn new(problem: &P, weights: Vec<(f64, f64)>, jy: bool) -> Self {
        let (n, m) = problem.dims();
        let upper = weights.iter().any(|&(wf, _)| wf != 0.0);
        let rows = n + if jy { m } else { 0 };
        let mode = if problem.has_blocks() && rows <= FORWARD_ROWS {
            let (yy, xy) = (|| Buf::<P::YY>::zeros(m * m), || Buf::<P::XY>::zeros(n * m));
            Mode::Forward(Forward {
                jx: xy(),
                jy: jy.then(yy),
                hf: yy(),
                bf: xy(),
                hg: yy(),
                bg: xy(),
                h: yy(),
                b: xy(),
                y: Buf::zeros(m),
                f: Scratch::new(n, m),
                g: Scratch::new(n, m),
            })
        } else {
            let slots = weights.len();
            Mode::Reverse(Reverse {
                upper: Curvature::trajectory(problem, Objective::Upper, if upper { slots } else { 0 }),
                lower: Curvature::trajectory(problem, Objective::Lower, slots),
                f: Scratch::new(n, m),
                g: Scratch::new(n, m),
            })
        };
        Unrolled { weights, upper, mode: Some(mode) }
    }

    /// The steps from `y` (left at the last iterate), keeping what [`Unrolled::pull_back`] needs.
    #[inline]
    pub fn steps(&mut self, p: &P, x: &[f64], y: &mut [f64]) {
        let mut mode = self.mode.take().expect("put back by every call");
        match &mut mode {
            Mode::Reverse(r) => r.steps(p, x, y, (&self.weights, self.upper)),
            Mode::Forward(f) => f.steps(p, x, y, (&self.weights, self.upper)),
        }
        self.mode = Some(mode);
    }

    /// Given `d = ∇x F` and `a = ∇y F` at the last iterate of [`Unrolled::steps`] (at the same `x`), leaves
    /// `d = ∇x F + J_x ∇y F` and, if made with `jy`, `a = J_y ∇y F` (otherwise `a` is scratch).
    #[inline]
    pub fn pull_back(&mut self, p: &P, x: &[f64], (d, a): (&mut [f64], &mut [f64])) {
        let mut mode = self.mode.take().expect("put back by every call");
        match &mut mode {
            Mode::Reverse(r) => r.pull_back(p, x, (d, a), (&self.weights, self.upper)),
            Mode::Forward(f) => f.pull_back((d, a)),
        }
        self.mode = Some(mode);
    }
}

/// `v ← v − w_F f − w_G g`, with `f` only where `F` enters.
#[inline(always)]
fn step(v: &mut [f64], (wf, f, upper): (f64, &[f64], bool), (wg, g): (f64, &[f64])) {
    if upper {
        axpy(v, -wf, f);
    }
    axpy(v, -wg, g);
}

impl<P: MatrixFreeProblem> Reverse<P> {
    #[inline(always)]
    fn steps(&mut self, p: &P, x: &[f64], y: &mut [f64], (weights, upper): (&[(f64, f64)], bool)) {
        let Reverse { upper: upper_at, lower: lower_at, f, g } = self;
        for (t, &(wf, wg)) in weights.iter().enumerate() {
            if upper {
                upper_at.keep(p, t, (x, y), (&mut f.gx, &mut f.gy));
            }
            lower_at.keep(p, t, (x, y), (&mut g.gx, &mut g.gy));
            step(y, (wf, &f.gy, upper), (wg, &g.gy));
        }
    }

    #[inline(always)]
    fn pull_back(
        &mut self,
        p: &P,
        x: &[f64],
        (d, a): (&mut [f64], &mut [f64]),
        (weights, upper): (&[(f64, f64)], bool),
    ) {
        let Reverse { upper: upper_at, lower: lower_at, f, g } = self;
        for (t, &(wf, wg)) in weights.iter().enumerate().rev() {
            if upper {
                upper_at.apply(p, t, x, a, (&mut f.hx, &mut f.hy));
            }
            lower_at.apply(p, t, x, a, (&mut g.hx, &mut g.hy));
            step(d, (wf, &f.hx, upper), (wg, &g.hx));
            step(a, (wf, &f.hy, upper), (wg, &g.hy));
        }
    }
}

impl<P: MatrixFreeProblem> Forward<P> {
    #[inline(always)]
    fn steps(&mut self, p: &P, x: &[f64], y: &mut [f64], (weights, upper): (&[(f64, f64)], bool)) {
        let Forward { jx, jy, hf, bf, hg, bg, h, b, y: yt, f, g } = self;
        let m = yt.len();
        yt.copy_from_slice(y);
        jx.iter_mut().for_each(|c| *c = 0.0);
        if let Some(jy) = jy {
            jy.iter_mut().enumerate().for_each(|(k, c)| *c = f64::from(k % (m + 1) == 0));
        }
        for &(wf, wg) in weights {
            if upper {
                p.upper_blocks(x, yt, &mut f.gx, &mut f.gy, hf, bf);
            }
            p.lower_blocks(x, yt, &mut g.gx, &mut g.gy, hg, bg);
            mix(h, (wf, hf, upper), (wg, hg));
            mix(b, (wf, bf, upper), (wg, bg));
            let n = jx.len() / m;
            for (i, row) in jx.chunks_exact_mut(m).enumerate() {
                tangent(row, &mut g.hy, h);
                // Row i of B, column by column: B[i, j] = b[j·n + i].
                row.iter_mut().enumerate().for_each(|(j, c)| *c -= b[j * n + i]);
            }
            if let Some(jy) = jy {
                for row in jy.chunks_exact_mut(m) {
                    tangent(row, &mut g.hy, h);
                }
            }
            step(yt, (wf, &f.gy, upper), (wg, &g.gy));
        }
        y.copy_from_slice(yt);
    }

    #[inline(always)]
    fn pull_back(&mut self, (d, a): (&mut [f64], &mut [f64])) {
        let Forward { jx, jy, g, .. } = self;
        let m = a.len();
        d.iter_mut().zip(jx.chunks_exact(m)).for_each(|(d, row)| *d += dot(row, a));
        if let Some(jy) = jy {
            g.hy.iter_mut().zip(jy.chunks_exact(m)).for_each(|(v, row)| *v = dot(row, a));
            a.copy_from_slice(&g.hy);
        }
    }
}

/// `r ← r − H r` for a row `r` of a Jacobian (`H r` into `p`; `H` symmetric).
#[inline(always)]
fn tangent(r: &mut [f64], p: &mut [f64], h: &[f64]) {
    matvec(h, r, p);
    axpy(r, -1.0, p);
}

/// `out ← w_F f + w_G g`, with `f` only where `F` enters.
#[inline(always)]
fn mix(out: &mut [f64], (wf, f, upper): (f64, &[f64], bool), (wg, g): (f64, &[f64])) {
    if upper {
        out.iter_mut().zip(f).zip(g).for_each(|((o, f), g)| *o = wf * f + wg * g);
    } else {
        out.iter_mut().zip(g).for_each(|(o, g)| *o = wg * g);
    }
}
