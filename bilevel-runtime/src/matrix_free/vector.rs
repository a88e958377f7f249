//! The few vector operations the algorithms need, on slices (no allocation), and the vectors they keep.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix};

/// `a · b`.
#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum()
}

/// `‖a‖`.
#[inline]
pub(crate) fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// `y ← y + s x`.
#[inline]
pub(crate) fn axpy(y: &mut [f64], s: f64, x: &[f64]) {
    y.iter_mut().zip(x).for_each(|(p, q)| *p += s * q);
}

/// `y ← s y`.
#[inline]
pub(crate) fn scale(y: &mut [f64], s: f64) {
    y.iter_mut().for_each(|p| *p *= s);
}

/// Whether every value is finite.
#[inline]
pub(crate) fn finite(a: &[f64]) -> bool {
    a.iter().all(|v| v.is_finite())
}

/// What the algorithms keep a vector (or the entries of a small matrix) of a problem in (see
/// [`MatrixFreeProblem::X`]): a fixed-size nalgebra vector or matrix for a problem of fixed size, on the stack and of a length the compiler knows (so that the algorithms' vector
/// operations on it unroll and stay in registers), or a `Vec` for a problem whose sizes come with its data.
///
/// [`MatrixFreeProblem::X`]: crate::MatrixFreeProblem::X
///
/// ```
/// use bilevel_runtime::matrix_free::Vector;
/// use bilevel_runtime::nalgebra::{Matrix2x3, Vector2};
/// assert_eq!(<Vec<f64> as Vector>::zeros(3).as_slice(), &[0.0; 3]);
/// assert_eq!(<Vector2<f64> as Vector>::zeros(2).as_slice(), &[0.0; 2]);
/// assert_eq!(<Matrix2x3<f64> as Vector>::zeros(6).as_slice(), &[0.0; 6]);
/// ```
pub trait Vector: Clone {
    /// `len` zeros (for a fixed-size vector, `len` must be its size).
    fn zeros(len: usize) -> Self;
    /// The entries.
    fn as_slice(&self) -> &[f64];
    /// The entries, to change.
    fn as_mut_slice(&mut self) -> &mut [f64];
}

impl Vector for Vec<f64> {
    fn zeros(len: usize) -> Self {
        vec![0.0; len]
    }
    fn as_slice(&self) -> &[f64] {
        self
    }
    fn as_mut_slice(&mut self) -> &mut [f64] {
        self
    }
}

impl<R: Dim, C: Dim> Vector for OMatrix<f64, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    /// `len` zeros: a fixed-size matrix of that many entries, or one whose run-time side holds them (`len × 1`
    /// when both sides are run-time).
    fn zeros(len: usize) -> Self {
        let (rows, cols) = match (R::try_to_usize(), C::try_to_usize()) {
            (Some(r), _) => (r, len.checked_div(r).unwrap_or(0)),
            (None, Some(c)) => (len.checked_div(c).unwrap_or(0), c),
            (None, None) => (len, 1),
        };
        OMatrix::zeros_generic(R::from_usize(rows), C::from_usize(cols))
    }
    #[inline]
    fn as_slice(&self) -> &[f64] {
        self.as_slice()
    }
    #[inline]
    fn as_mut_slice(&mut self) -> &mut [f64] {
        self.as_mut_slice()
    }
}

/// A [`Vector`] seen as a slice, for the algorithms' buffers: `&buffer` is a `&[f64]` of its entries.
#[derive(Clone, Debug)]
pub(crate) struct Buf<V>(V);

impl<V: Vector> Buf<V> {
    /// `len` zeros.
    pub fn zeros(len: usize) -> Self {
        Buf(V::zeros(len))
    }

    /// A copy of `values`.
    pub fn from_slice(values: &[f64]) -> Self {
        let mut b = Buf::zeros(values.len());
        b.copy_from_slice(values);
        b
    }
}

impl<V: Vector> std::ops::Deref for Buf<V> {
    type Target = [f64];
    #[inline]
    fn deref(&self) -> &[f64] {
        self.0.as_slice()
    }
}

impl<V: Vector> std::ops::DerefMut for Buf<V> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [f64] {
        self.0.as_mut_slice()
    }
}
