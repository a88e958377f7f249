//! The generated code itself, on a problem that uses every operator and function of the language: values,
//! gradients and Hessian blocks of the compiled `Problem` impl against finite differences of the compiled
//! values, consistency between the fused calls, and no NaN from an untaken branch.

use bilevel::nalgebra::{SMatrix, SVector};
use bilevel::{bilevel, Problem};

bilevel! {
    /// Every function of the language in one problem.
    problem Calculus {
        upper x: real[2];
        lower y: real[3];
        param p = [0.7, -0.4];
        param s = 1.5;
        const A = [[1, 2, 0], [0, 1, -1]];
        let u = A * y - x;
        minimize upper: sin(x[0]) * cos(y[1]) + tan(0.3 * y[2]) + exp(-norm2(u)) + log(1 + y[0]^2)
            + sqrt(1 + x[1]^2) + abs(y[0] - x[1]) + tanh(y[2]) + sigmoid(x[0] * y[1]) + softplus(y[0] - y[2])
            + min(y[0], x[0]) + max(y[1], x[1]) + clamp(y[2], -0.5, 0.5) + huber(3 * y[1] - x[0])
            + (1 + y[1]^2)^x[1] + 2^y[0] + p[0] * dot(x, x) + s * norm(u) + sum(i in 0..3: y[i]^3 / (i + 1))
            + (if y[0] > x[0] and not (y[1] < -2) then y[0] * y[2] else y[1]^2) + norm2(x * A - y) / (2 + x[0]^2);
        minimize lower: 0.5 * norm2(y) - dot(x, A * y) + huber(y[0] - y[1], 0.5) + p[1] * y[2]^4
            + (if y[2] > 0 then sqrt(y[2]) * x[0] else 0);
        start x = [0.1, 0.2], y = [0.3, -0.2, 0.1];
    }
}

type X = SVector<f64, 2>;
type Y = SVector<f64, 3>;

/// Deterministic points in [-1, 1]⁵ (the runtime's linear congruential generator).
fn points(count: usize) -> Vec<(X, Y)> {
    let mut lcg = bilevel::data::Lcg::new(0x2545F4914F6CDD1D);
    (0..count).map(|_| (X::from_fn(|_, _| lcg.signed()), Y::from_fn(|_, _| lcg.signed()))).collect()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

/// Central differences of `f` along each coordinate of (x, y).
fn fd<const R: usize>(
    f: impl Fn(&X, &Y) -> SVector<f64, R>,
    x: &X,
    y: &Y,
    h: f64,
) -> (SMatrix<f64, R, 2>, SMatrix<f64, R, 3>) {
    let dx = SMatrix::<f64, R, 2>::from_fn(|r, k| {
        let e = X::from_fn(|i, _| if i == k { h } else { 0.0 });
        (f(&(x + e), y)[r] - f(&(x - e), y)[r]) / (2.0 * h)
    });
    let dy = SMatrix::<f64, R, 3>::from_fn(|r, k| {
        let e = Y::from_fn(|i, _| if i == k { h } else { 0.0 });
        (f(x, &(y + e))[r] - f(x, &(y - e))[r]) / (2.0 * h)
    });
    (dx, dy)
}

#[test]
fn gradients_match_finite_differences_of_the_values() {
    let p = Calculus::default();
    for (x, y) in points(25) {
        for (name, value, grad) in
            [("upper", p.upper(&x, &y), p.upper_grad(&x, &y)), ("lower", p.lower(&x, &y), p.lower_grad(&x, &y))]
        {
            assert_eq!(grad.value, value, "{name}: the fused value equals the plain one");
            let f =
                |a: &X, b: &Y| SVector::<f64, 1>::from([if name == "upper" { p.upper(a, b) } else { p.lower(a, b) }]);
            let (dx, dy) = fd(f, &x, &y, 1e-6);
            for k in 0..2 {
                assert!(
                    close(grad.x[k], dx[(0, k)], 1e-6),
                    "{name} ∇x[{k}] at {x:?} {y:?}: {} vs {}",
                    grad.x[k],
                    dx[(0, k)]
                );
            }
            for k in 0..3 {
                assert!(
                    close(grad.y[k], dy[(0, k)], 1e-6),
                    "{name} ∇y[{k}] at {x:?} {y:?}: {} vs {}",
                    grad.y[k],
                    dy[(0, k)]
                );
            }
        }
    }
}

#[test]
fn hessian_blocks_match_finite_differences_of_the_gradients() {
    let p = Calculus::default();
    for (x, y) in points(25) {
        for upper in [true, false] {
            let hess = if upper { p.upper_hess(&x, &y) } else { p.lower_hess(&x, &y) };
            let grad = if upper { p.upper_grad(&x, &y) } else { p.lower_grad(&x, &y) };
            assert_eq!((hess.value, &hess.grad_x, &hess.grad_y), (grad.value, &grad.x, &grad.y));
            assert_eq!(hess.yy, hess.yy.transpose(), "∇²yy is symmetric");
            let gy = |a: &X, b: &Y| if upper { p.upper_grad(a, b).y } else { p.lower_grad(a, b).y };
            let (dx, dy) = fd(gy, &x, &y, 1e-5);
            for j in 0..3 {
                for k in 0..3 {
                    assert!(close(hess.yy[(k, j)], dy[(j, k)], 1e-5), "∇²yy[{k}][{j}] (upper: {upper})");
                }
                for i in 0..2 {
                    assert!(close(hess.xy[(i, j)], dx[(j, i)], 1e-5), "∇²xy[{i}][{j}] (upper: {upper})");
                }
            }
        }
    }
}

#[test]
fn xx_blocks_match_finite_differences_of_the_x_gradients() {
    let p = Calculus::default();
    for (x, y) in points(25) {
        for upper in [true, false] {
            let xx = if upper { p.upper_hess_xx(&x, &y) } else { p.lower_hess_xx(&x, &y) };
            assert_eq!(xx, xx.transpose(), "∇²xx is symmetric");
            let gx = |a: &X, b: &Y| if upper { p.upper_grad(a, b).x } else { p.lower_grad(a, b).x };
            let (dx, _) = fd(gx, &x, &y, 1e-5);
            for i in 0..2 {
                for j in 0..2 {
                    assert!(
                        close(xx[(i, j)], dx[(i, j)], 1e-5),
                        "∇²xx[{i}][{j}] (upper: {upper}): {} vs {}",
                        xx[(i, j)],
                        dx[(i, j)]
                    );
                }
            }
        }
    }
}

#[test]
fn an_untaken_branch_leaks_no_nan() {
    // sqrt(y[2]) is only evaluated when y[2] > 0; at y[2] < 0 every output must be finite.
    let p = Calculus::default();
    let (x, y) = (X::from([0.3, -0.1]), Y::from([0.2, 0.4, -0.7]));
    let h = p.lower_hess(&x, &y);
    assert!(h.value.is_finite() && h.grad_x.iter().chain(h.grad_y.iter()).all(|v| v.is_finite()));
    assert!(h.yy.iter().chain(h.xy.iter()).all(|v| v.is_finite()), "{h:?}");
}

#[test]
fn params_are_fields_with_their_declared_defaults() {
    let p = Calculus::default();
    assert_eq!((p.p, p.s), ([0.7, -0.4], 1.5));
    let (x, y) = p.start();
    let moved = Calculus { s: 2.5, ..p.clone() };
    let u = SMatrix::<f64, 2, 3>::new(1.0, 2.0, 0.0, 0.0, 1.0, -1.0) * y - x;
    assert!(close(moved.upper(&x, &y) - p.upper(&x, &y), u.norm(), 1e-12), "F changes by (2.5 − 1.5)·‖u‖");
    assert_eq!(p.name(), "Calculus");
    assert!(p.bounds().is_none());
    assert_eq!(y, Y::from([0.3, -0.2, 0.1]));
}

bilevel! {
    /// Constants that look like π and e must not trip clippy's `approx_constant` in the user's crate
    /// (`cargo clippy --all-targets -D warnings` checks this file).
    problem LooksLikePi {
        upper x: real;
        lower y: real;
        param p = 3.14159;
        const e = 2.71828;
        minimize upper: p * x^2 + e * y;
        minimize lower: (y - 0.318309886 * x)^2;
    }
}

#[test]
#[allow(clippy::approx_constant)] // the test itself writes the look-alikes
fn constants_are_emitted_exactly() {
    let p = LooksLikePi::default();
    assert_eq!(p.p, 3.14159);
    let (x, y) = (SVector::<f64, 1>::from([2.0]), SVector::<f64, 1>::from([0.5]));
    assert_eq!(p.upper(&x, &y), 3.14159 * 4.0 + 2.71828 * 0.5);
    assert!(close(p.lower_grad(&x, &y).x[0], -2.0 * 0.318309886 * (0.5 - 0.318309886 * 2.0), 1e-15));
}

mod shadowing {
    // A problem may be named like a prelude type: the generated code spells out the paths it uses.
    bilevel::bilevel! {
        problem Option {
            upper x: real in [0, 1];
            lower y: real;
            minimize upper: (x - y)^2;
            minimize lower: (y - 0.5)^2;
        }
    }
}

#[test]
fn a_problem_may_shadow_prelude_names() {
    let p = shadowing::Option;
    assert!(p.bounds().is_some());
    assert_eq!(p.name(), "Option");
}
