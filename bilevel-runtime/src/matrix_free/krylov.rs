//! Krylov solvers on a symmetric operator `H` given by its products (`apply(v, out)` writes `H v` into `out`),
//! with every work vector in a [`Krylov`] allocated once per run.

use super::vector::{axpy, dot, finite, norm, scale};

/// Work vectors of length `m` for the solvers below.
pub(crate) struct Krylov {
    r: Vec<f64>,
    p: Vec<f64>,
    q: Vec<f64>,
    s: Vec<f64>,
    w: Vec<f64>,
}

/// How a solve ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Outcome {
    /// Iterations done.
    pub iterations: usize,
    /// A non-positive curvature or a non-finite value stopped it; the solution keeps its last good value.
    pub breakdown: bool,
    /// The final residual relative to the right-hand side (absolute when it is 0; CG only, NaN for the others).
    pub residual: f64,
}

/// The operator: `apply(v, out)` writes `H v` into `out`.
pub(crate) type Operator<'a> = dyn FnMut(&[f64], &mut [f64]) + 'a;

impl Krylov {
    pub fn new(m: usize) -> Krylov {
        let v = || vec![0.0; m];
        Krylov { r: v(), p: v(), q: v(), s: v(), w: v() }
    }

    /// Conjugate gradients on `H x = b` from the `x` given (warm start), at most `iters` iterations, stopping when
    /// `‖b − H x‖ ≤ tol ‖b‖`. For a positive semi-definite `H` and `b` in its range, from `x = 0` this converges to
    /// the minimum-norm solution `H† b`.
    pub fn cg(&mut self, apply: &mut Operator, b: &[f64], x: &mut [f64], iters: usize, tol: f64) -> Outcome {
        let Krylov { r, p, q, .. } = self;
        apply(x, q);
        r.iter_mut().zip(b).zip(q.iter()).for_each(|((r, b), hx)| *r = b - hx);
        p.copy_from_slice(r);
        let mut rr = dot(r, r);
        let b_norm = norm(b);
        let relative = |rr: f64| if b_norm > 0.0 { rr.sqrt() / b_norm } else { rr.sqrt() };
        let out = |k: usize, breakdown: bool, rr: f64| Outcome { iterations: k, breakdown, residual: relative(rr) };
        for k in 0..iters {
            if rr.sqrt() <= tol * b_norm {
                return out(k, false, rr);
            }
            apply(p, q);
            let curvature = dot(p, q);
            if !(curvature.is_finite() && curvature > 0.0) {
                return out(k, true, rr);
            }
            let a = rr / curvature;
            axpy(x, a, p);
            axpy(r, -a, q);
            let next = dot(r, r);
            if !next.is_finite() || !finite(x) {
                axpy(x, -a, p);
                return out(k, true, rr);
            }
            scale(p, next / rr);
            axpy(p, 1.0, r);
            rr = next;
        }
        out(iters, false, rr)
    }

    /// CGLS on `min_z ‖H² z + v‖²` from the `z` given (Arbel & Mairal eq. 6–7), at most `iters` iterations,
    /// stopping when the normal residual is below `1e-15 ‖H² v‖`. A non-positive curvature or a non-finite value
    /// is a breakdown: `z` keeps its last good value.
    pub fn cgls_square(&mut self, apply: &mut Operator, v: &[f64], z: &mut [f64], iters: usize) -> Outcome {
        let Krylov { r, p, q, s, w } = self;
        // `a(x, out)` writes H² x, through `w`.
        let mut a = |x: &[f64], out: &mut [f64], w: &mut [f64]| {
            apply(x, w);
            apply(w, out);
        };
        a(v, q, w);
        let stop = 1e-15 * norm(q);
        a(z, q, w);
        r.iter_mut().zip(v).zip(q.iter()).for_each(|((r, v), az)| *r = -(v + az)); // residual of H² z = −v
        a(r, s, w); // normal residual (H² is symmetric)
        p.copy_from_slice(s);
        let mut gamma = dot(s, s);
        for k in 0..iters {
            if gamma.sqrt() < stop {
                return Outcome { iterations: k, breakdown: false, residual: f64::NAN };
            }
            a(p, q, w);
            let delta = dot(q, q);
            if !(delta.is_finite() && delta > 0.0) {
                return Outcome { iterations: k, breakdown: true, residual: f64::NAN };
            }
            let alpha = gamma / delta;
            axpy(z, alpha, p);
            if !finite(z) {
                axpy(z, -alpha, p);
                return Outcome { iterations: k, breakdown: true, residual: f64::NAN };
            }
            axpy(r, -alpha, q);
            a(r, s, w);
            let next = dot(s, s);
            scale(p, next / gamma);
            axpy(p, 1.0, s);
            gamma = next;
        }
        Outcome { iterations: iters, breakdown: false, residual: f64::NAN }
    }

    /// LSQR (Paige & Saunders 1982) on `H x = b` from `x = 0`: converges to the minimum-norm least-squares
    /// solution `H† b`, whether or not `b` is in the range of `H`. Stops after `iters` iterations or when
    /// `‖H r‖ ≤ atol ‖H‖ ‖r‖` (`r = b − H x`, norms estimated by the iteration). Components of `b` along eigenvalues
    /// of `H` much smaller than the largest converge last, so the iteration count acts as the cutoff of `pinv`.
    pub fn lsqr(&mut self, apply: &mut Operator, b: &[f64], x: &mut [f64], iters: usize, atol: f64) -> Outcome {
        let Krylov { r: u, p: v, q: w, s: hv, .. } = self;
        x.iter_mut().for_each(|c| *c = 0.0);
        u.copy_from_slice(b);
        let mut beta = norm(u);
        if beta == 0.0 {
            return Outcome { iterations: 0, breakdown: false, residual: f64::NAN };
        }
        scale(u, 1.0 / beta);
        apply(u, v);
        let mut alpha = norm(v);
        if alpha == 0.0 {
            return Outcome { iterations: 0, breakdown: false, residual: f64::NAN };
        }
        scale(v, 1.0 / alpha);
        w.copy_from_slice(v);
        let (mut phi_bar, mut rho_bar) = (beta, alpha);
        let mut norm_h2 = alpha * alpha;
        for k in 0..iters {
            // u ← (H v − α u)/β, v ← (H u − β v)/α
            beta = bidiagonal_step(apply, v, u, alpha, hv);
            if beta > 0.0 {
                alpha = bidiagonal_step(apply, u, v, beta, hv);
            }
            norm_h2 += alpha * alpha + beta * beta;
            let rho = rho_bar.hypot(beta);
            let (c, s) = (rho_bar / rho, beta / rho);
            let theta = s * alpha;
            rho_bar = -c * alpha;
            let phi = c * phi_bar;
            phi_bar *= s;
            axpy(x, phi / rho, w);
            scale(w, -theta / rho);
            axpy(w, 1.0, v);
            if !finite(x) {
                return Outcome { iterations: k + 1, breakdown: true, residual: f64::NAN };
            }
            // ‖H r‖ = φ̄ α |c| and ‖r‖ = φ̄.
            let normal = phi_bar * alpha * c.abs();
            if beta == 0.0 || alpha == 0.0 || normal <= atol * norm_h2.sqrt() * phi_bar {
                return Outcome { iterations: k + 1, breakdown: false, residual: f64::NAN };
            }
        }
        Outcome { iterations: iters, breakdown: false, residual: f64::NAN }
    }
}

/// One step of Golub–Kahan bidiagonalization of a symmetric `H`: `to ← H from − coef · to`, normalized;
/// returns the norm before normalizing (0 leaves `to` as it is).
fn bidiagonal_step(apply: &mut Operator, from: &[f64], to: &mut [f64], coef: f64, scratch: &mut [f64]) -> f64 {
    apply(from, scratch);
    scale(to, -coef);
    axpy(to, 1.0, scratch);
    let size = norm(to);
    if size > 0.0 {
        scale(to, 1.0 / size);
    }
    size
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `H = Q diag(λ) Qᵀ` with a rotation `Q` in the plane of the first two coordinates.
    fn operator(lambda: [f64; 3]) -> impl FnMut(&[f64], &mut [f64]) {
        let (c, s) = (0.6, 0.8);
        move |v: &[f64], out: &mut [f64]| {
            let t = [c * v[0] + s * v[1], -s * v[0] + c * v[1], v[2]];
            let d = [lambda[0] * t[0], lambda[1] * t[1], lambda[2] * t[2]];
            out[0] = c * d[0] - s * d[1];
            out[1] = s * d[0] + c * d[1];
            out[2] = d[2];
        }
    }

    #[test]
    fn cg_solves_a_regular_system_and_lsqr_finds_the_minimum_norm_solution_of_a_singular_one() {
        let mut k = Krylov::new(3);
        let mut h = operator([2.0, 0.5, 4.0]);
        let b = [1.0, -2.0, 3.0];
        let mut x = [0.0; 3];
        assert!(!k.cg(&mut h, &b, &mut x, 10, 1e-14).breakdown);
        let mut hx = [0.0; 3];
        h(&x, &mut hx);
        assert!(hx.iter().zip(&b).all(|(p, q)| (p - q).abs() < 1e-12), "{hx:?}");

        // Singular: eigenvalue 0 along the second rotated axis (−0.8, 0.6, 0); b has a component there.
        let mut h = operator([2.0, 0.0, 4.0]);
        let mut x = [0.0; 3];
        let out = k.lsqr(&mut h, &b, &mut x, 20, 1e-14);
        assert!(!out.breakdown);
        // H† b: the range component of b divided by its eigenvalue.
        let t0 = 0.6 * b[0] + 0.8 * b[1];
        let want = [0.6 * t0 / 2.0, 0.8 * t0 / 2.0, b[2] / 4.0];
        assert!(x.iter().zip(&want).all(|(p, q)| (p - q).abs() < 1e-12), "{x:?} vs {want:?}");
    }

    #[test]
    fn cgls_on_the_square_gives_the_same_correction_as_the_pseudo_inverse() {
        let mut k = Krylov::new(3);
        let mut h = operator([2.0, 0.0, 4.0]);
        let v = [1.0, -2.0, 3.0];
        let mut z = [0.0; 3];
        k.cgls_square(&mut h, &v, &mut z, 10);
        let mut xi = [0.0; 3];
        h(&z, &mut xi); // ξ = H z ≈ −H† v
        let t0 = 0.6 * v[0] + 0.8 * v[1];
        let want = [-0.6 * t0 / 2.0, -0.8 * t0 / 2.0, -v[2] / 4.0];
        assert!(xi.iter().zip(&want).all(|(p, q)| (p - q).abs() < 1e-10), "{xi:?} vs {want:?}");
    }

    #[test]
    fn cg_reports_negative_curvature() {
        let mut k = Krylov::new(3);
        let mut h = operator([-1.0, 1.0, 1.0]);
        let mut x = [0.0; 3];
        assert!(k.cg(&mut h, &[1.0, 0.0, 0.0], &mut x, 5, 1e-14).breakdown);
    }
}
