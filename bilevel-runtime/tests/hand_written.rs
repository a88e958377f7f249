//! The runtime on its own, without the macro: a problem written by hand on the products interface, run by every
//! algorithm to its closed-form optimum, and the same problem with its dense blocks offered as a capability,
//! which must give the same runs.
//!
//! `G(x, y) = ½‖y − A x‖²` (so `y*(x) = A x`, `H = I`, `B = −Aᵀ`) and `F(x, y) = ½‖y − b − c x‖² + ½λ‖x‖²`
//! (coupled in x and y, `∇²xy F = −c I`), whose bilevel optimum is `x* = (ÃᵀÃ + λI)⁻¹ Ãᵀ b` with `Ã = A − c I`.

use bilevel_runtime::nalgebra::{DVector, Dyn, Matrix2, Vector2};
use bilevel_runtime::{Algorithm, Bounds, MatrixFreeProblem, Method};

const A: [[f64; 2]; 2] = [[1.0, 0.5], [0.2, 1.0]];
const B: [f64; 2] = [1.0, 2.0];
const LAMBDA: f64 = 0.1;
const C: f64 = 0.3;

/// `A v` (or `Aᵀ v`).
fn times(v: &[f64], transposed: bool) -> [f64; 2] {
    let a = |i: usize, j: usize| if transposed { A[j][i] } else { A[i][j] };
    [a(0, 0) * v[0] + a(0, 1) * v[1], a(1, 0) * v[0] + a(1, 1) * v[1]]
}

/// The problem by its products; `blocks` says whether it offers its dense blocks too.
struct Quadratic {
    blocks: bool,
}

impl MatrixFreeProblem for Quadratic {
    type X = Vec<f64>;
    type Y = Vec<f64>;
    type YY = Vec<f64>;
    type XY = Vec<f64>;

    fn name(&self) -> &str {
        "Quadratic"
    }
    fn dims(&self) -> (usize, usize) {
        (2, 2)
    }
    fn start(&self) -> (DVector<f64>, DVector<f64>) {
        (DVector::zeros(2), DVector::zeros(2))
    }
    fn bounds(&self) -> Option<Bounds<Dyn>> {
        None
    }
    fn upper(&self, x: &[f64], y: &[f64]) -> f64 {
        let r = [y[0] - B[0] - C * x[0], y[1] - B[1] - C * x[1]];
        0.5 * (r[0] * r[0] + r[1] * r[1]) + 0.5 * LAMBDA * (x[0] * x[0] + x[1] * x[1])
    }
    fn lower(&self, x: &[f64], y: &[f64]) -> f64 {
        let ax = times(x, false);
        0.5 * ((y[0] - ax[0]).powi(2) + (y[1] - ax[1]).powi(2))
    }
    fn upper_grad(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        for i in 0..2 {
            gy[i] = y[i] - B[i] - C * x[i];
            gx[i] = LAMBDA * x[i] - C * gy[i];
        }
        self.upper(x, y)
    }
    fn lower_grad(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        let ax = times(x, false);
        let r = [y[0] - ax[0], y[1] - ax[1]];
        let atr = times(&r, true);
        for i in 0..2 {
            gy[i] = r[i];
            gx[i] = -atr[i];
        }
        self.lower(x, y)
    }
    fn upper_hvp_y(&self, _: &[f64], _: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        hx.iter_mut().zip(v).for_each(|(h, v)| *h = -C * v);
        hy.copy_from_slice(v);
    }
    fn upper_hvp_x(&self, _: &[f64], _: &[f64], u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        hx.iter_mut().zip(u).for_each(|(h, u)| *h = (C * C + LAMBDA) * u);
        hy.iter_mut().zip(u).for_each(|(h, u)| *h = -C * u);
    }
    fn lower_hvp_y(&self, _: &[f64], _: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        let atv = times(v, true);
        hx.iter_mut().zip(atv).for_each(|(h, a)| *h = -a);
        hy.copy_from_slice(v);
    }
    fn lower_hvp_x(&self, _: &[f64], _: &[f64], u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        let au = times(u, false);
        hx.copy_from_slice(&times(&au, true));
        hy.iter_mut().zip(au).for_each(|(h, a)| *h = -a);
    }
    fn has_blocks(&self) -> bool {
        self.blocks
    }
    fn lower_blocks(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64], h: &mut [f64], b: &mut [f64]) -> f64 {
        // H = I; B = ∇²xy G has B[i][j] = −A[j][i], stored column by column.
        h.copy_from_slice(&[1.0, 0.0, 0.0, 1.0]);
        for j in 0..2 {
            for i in 0..2 {
                b[j * 2 + i] = -A[j][i];
            }
        }
        self.lower_grad(x, y, gx, gy)
    }
    fn upper_blocks(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64], h: &mut [f64], b: &mut [f64]) -> f64 {
        h.copy_from_slice(&[1.0, 0.0, 0.0, 1.0]);
        b.copy_from_slice(&[-C, 0.0, 0.0, -C]);
        self.upper_grad(x, y, gx, gy)
    }
}

fn optimum() -> Vector2<f64> {
    let a = Matrix2::new(A[0][0], A[0][1], A[1][0], A[1][1]) - Matrix2::identity() * C;
    let lhs = a.transpose() * a + Matrix2::identity() * LAMBDA;
    lhs.lu().solve(&(a.transpose() * Vector2::new(B[0], B[1]))).expect("regular")
}

/// Every algorithm, with steps that suit this problem, from its option names.
fn methods() -> Vec<Method> {
    let common = [("lower-step", "0.5"), ("iters", "4000")];
    let with = |algo: &str, more: &[(&str, &str)]| {
        let options: Vec<(&str, &str)> = common.iter().chain(more).copied().collect();
        Method::from_options(algo, &options).unwrap_or_else(|e| panic!("{algo}: {e}"))
    };
    vec![
        with("itd", &[("inner", "40"), ("upper-step", "0.5")]),
        with("corrected-itd", &[("inner", "3"), ("upper-step", "0.5")]),
        with("aid", &[("warmup", "30"), ("upper-step", "0.5"), ("xi", "cg"), ("xi-iters", "5")]),
        with("galet", &[("inner", "5"), ("upper-step", "0.5"), ("xi-iters", "5"), ("xi-step", "0.5")]),
        with("corrected-itd", &[("inner", "3"), ("upper-step", "0.5"), ("xi", "lsqr"), ("xi-iters", "5")]),
    ]
}

#[test]
fn every_algorithm_reaches_the_closed_form_optimum_on_a_hand_written_problem() {
    let x_star = optimum();
    for blocks in [false, true] {
        let p = Quadratic { blocks };
        for m in methods() {
            let run = m.solve(&p, &[0.0; 2], &[0.0; 2]).unwrap_or_else(|e| panic!("{}: {e}", m.name()));
            let x = run.x();
            // ITD with 40 steps of 0.5 keeps a bias of order 0.5⁴⁰; the others stop at x* itself.
            let gap = ((x[0] - x_star[0]).powi(2) + (x[1] - x_star[1]).powi(2)).sqrt();
            assert!(gap < 1e-8, "{} {} (blocks: {blocks}): {x} vs {x_star}", m.name(), m.settings());
            assert!(run.last().bgs_residual < 1e-8, "{}: residual {}", m.name(), run.last().bgs_residual);
        }
    }
}

/// Algorithms whose limit is not `x*` here (BDA's aggregation and DPBG's free start bias them), compared only
/// with and without blocks: their unrolled steps run forward with blocks and in reverse without.
fn biased_methods() -> Vec<Method> {
    let with = |algo: &str, options: &[(&str, &str)]| Method::from_options(algo, options).unwrap();
    vec![
        with("bda", &[("lower-step", "0.5"), ("inner", "16"), ("iters", "300")]),
        with("dpbg", &[("lower-step", "0.5"), ("inner", "6"), ("upper-step", "0.2"), ("iters", "300")]),
    ]
}

#[test]
fn the_blocks_capability_gives_the_runs_of_the_products() {
    for m in methods().into_iter().chain(biased_methods()) {
        let m = m.with_metrics(bilevel_runtime::Metrics::Every(1));
        let products = m.solve(&Quadratic { blocks: false }, &[0.0; 2], &[0.0; 2]).unwrap();
        let blocks = m.solve(&Quadratic { blocks: true }, &[0.0; 2], &[0.0; 2]).unwrap();
        assert_eq!(products.trace.len(), blocks.trace.len());
        for (p, b) in products.trace.iter().zip(&blocks.trace) {
            let close = |u: f64, v: f64| (u - v).abs() <= 1e-12 * (1.0 + u.abs().max(v.abs()));
            assert!(p.x.iter().zip(b.x.iter()).all(|(u, v)| close(*u, *v)), "{} at {}", m.name(), p.iteration);
            assert!(close(p.upper, b.upper) && close(p.lower_grad_norm, b.lower_grad_norm), "{}", m.name());
        }
        // With blocks every record has its BGS residual; by products only the start and the end.
        assert!(blocks.trace.iter().all(|r| r.bgs_residual.is_finite()));
        assert!(products.trace[1].bgs_residual.is_nan());
    }
}
