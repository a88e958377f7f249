//! Scalar functions that generated code calls (those without an `f64` method).

/// The logistic function `1 / (1 + exp(-t))`.
///
/// ```
/// assert_eq!(bilevel_runtime::math::sigmoid(0.0), 0.5);
/// ```
pub fn sigmoid(t: f64) -> f64 {
    1.0 / (1.0 + (-t).exp())
}

/// `log(1 + exp(t))`, computed as `max(t, 0) + log1p(exp(-|t|))` so it neither overflows nor loses precision.
///
/// ```
/// assert!((bilevel_runtime::math::softplus(1000.0) - 1000.0).abs() < 1e-12);
/// ```
pub fn softplus(t: f64) -> f64 {
    t.max(0.0) + (-t.abs()).exp().ln_1p()
}
