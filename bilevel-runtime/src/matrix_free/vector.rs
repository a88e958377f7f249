//! The few vector operations the matrix-free algorithms need, on slices (no allocation).

/// `a · b`.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum()
}

/// `‖a‖`.
pub(crate) fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// `y ← y + s x`.
pub(crate) fn axpy(y: &mut [f64], s: f64, x: &[f64]) {
    y.iter_mut().zip(x).for_each(|(p, q)| *p += s * q);
}

/// `y ← s y`.
pub(crate) fn scale(y: &mut [f64], s: f64) {
    y.iter_mut().for_each(|p| *p *= s);
}

/// Whether every value is finite.
pub(crate) fn finite(a: &[f64]) -> bool {
    a.iter().all(|v| v.is_finite())
}
