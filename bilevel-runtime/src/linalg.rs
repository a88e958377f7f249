//! The pseudo-inverse of a symmetric matrix by eigendecomposition, with a cutoff on small eigenvalues.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix, OVector, U1};

/// `A† v` for a symmetric `A`: eigenvalues with `|λ| ≤ max(rtol · max|λ|, floor)` are treated as zero.
///
/// The eigendecomposition is cyclic Jacobi ([`symmetric_eigen`]) on matrices of `A`'s own dimension type, so a
/// fixed-size `A` is decomposed on the stack: the pseudo-inverse allocates nothing. A non-finite entry in `A` or
/// `v` gives a vector of NaN (not a finite number the rotations happened to produce), so that the run using it
/// faults at that iteration instead of going on with a wrong step. The same computation as [`Pinv::apply`]
/// (the algorithms' version on slices, with its buffers kept from call to call).
///
/// ```
/// use bilevel_runtime::linalg::pinv_apply;
/// use bilevel_runtime::nalgebra::{Matrix2, Vector2};
/// let h = Matrix2::new(f64::INFINITY, 0.0, 0.0, 1.0);
/// assert!(pinv_apply(&h, &Vector2::new(1.0, 1.0), 1e-3, 0.0).iter().all(|v| v.is_nan()));
/// ```
pub fn pinv_apply<M: Dim>(a: &OMatrix<f64, M, M>, v: &OVector<f64, M>, rtol: f64, floor: f64) -> OVector<f64, M>
where
    DefaultAllocator: Allocator<M> + Allocator<M, M>,
{
    let (m, _) = a.shape_generic();
    let (mut s, mut vectors) = (a.clone(), a.clone());
    let mut out = OVector::<f64, M>::zeros_generic(m, U1);
    pinv_into(
        a.as_slice(),
        v.as_slice(),
        (rtol, floor),
        (s.as_mut_slice(), vectors.as_mut_slice()),
        out.as_mut_slice(),
    );
    out
}

/// The eigenvalues and eigenvectors (columns) of a symmetric matrix by cyclic Jacobi rotations, on matrices of
/// its own dimension type (no allocation for fixed sizes). Sweeps until the off-diagonal part is below
/// `1e-15 ‖A‖_F`, at most 64 sweeps; each rotation zeroes one off-diagonal entry exactly as in Golub & Van Loan
/// §8.5 (tangent of the smaller angle). Accurate to a few ulps of `‖A‖` in every eigenvalue.
///
/// ```
/// use bilevel_runtime::linalg::symmetric_eigen;
/// use bilevel_runtime::nalgebra::Matrix2;
/// let (values, _) = symmetric_eigen(&Matrix2::new(2.0, 1.0, 1.0, 2.0));
/// let mut values: Vec<f64> = values.iter().copied().collect();
/// values.sort_by(f64::total_cmp);
/// assert!((values[0] - 1.0).abs() < 1e-15 && (values[1] - 3.0).abs() < 1e-15);
/// ```
pub fn symmetric_eigen<M: Dim>(a: &OMatrix<f64, M, M>) -> (OVector<f64, M>, OMatrix<f64, M, M>)
where
    DefaultAllocator: Allocator<M> + Allocator<M, M>,
{
    let (m, _) = a.shape_generic();
    let (mut s, mut v) = (a.clone(), a.clone());
    let n = a.nrows();
    jacobi(a.as_slice(), s.as_mut_slice(), v.as_mut_slice(), n);
    (OVector::<f64, M>::from_iterator_generic(m, U1, (0..n).map(|i| s[(i, i)])), v)
}

/// The pseudo-inverse of symmetric `m × m` matrices applied to vectors, on slices, with the buffers of the
/// eigendecomposition kept from call to call (what the algorithms use: no allocation per iteration).
///
/// ```
/// use bilevel_runtime::linalg::Pinv;
/// let mut pinv = Pinv::new(2);
/// let mut x = [0.0; 2];
/// // [[1, 1], [1, 1]] has eigenvalues 2 and 0: the minimum-norm least-squares solution of A x = (3, 1).
/// pinv.apply(&[1.0, 1.0, 1.0, 1.0], &[3.0, 1.0], (1e-12, 0.0), &mut x);
/// assert!((x[0] - 1.0).abs() < 1e-14 && (x[1] - 1.0).abs() < 1e-14);
/// ```
#[derive(Clone, Debug)]
pub struct Pinv {
    /// The matrix being diagonalized, column-major.
    s: Vec<f64>,
    /// Its eigenvectors, column-major.
    vectors: Vec<f64>,
}

impl Pinv {
    /// The buffers for `m × m` matrices.
    pub fn new(m: usize) -> Pinv {
        Pinv { s: vec![0.0; m * m], vectors: vec![0.0; m * m] }
    }

    /// `out ← A† v` for the symmetric `A` (`m × m`, column-major), eigenvalues with
    /// `|λ| ≤ max(rtol · max|λ|, floor)` treated as zero; NaN everywhere if `A` or `v` has a non-finite entry.
    #[inline]
    pub fn apply(&mut self, a: &[f64], v: &[f64], (rtol, floor): (f64, f64), out: &mut [f64]) {
        pinv_into(a, v, (rtol, floor), (&mut self.s, &mut self.vectors), out);
    }
}

/// `out ← A† v` (see [`Pinv::apply`]) with `s` and `vectors` as the eigendecomposition's buffers. Inlined, so
/// that a fixed-size problem's `m` (the length of `v`) is a constant of the loops.
#[inline]
pub(crate) fn pinv_into(
    a: &[f64],
    v: &[f64],
    (rtol, floor): (f64, f64),
    (s, vectors): (&mut [f64], &mut [f64]),
    out: &mut [f64],
) {
    let m = v.len();
    if !(a.iter().all(|c| c.is_finite()) && v.iter().all(|c| c.is_finite())) {
        out.iter_mut().for_each(|o| *o = f64::NAN);
        return;
    }
    jacobi(a, s, vectors, m);
    let largest = (0..m).fold(0.0f64, |acc, i| acc.max(s[i * m + i].abs()));
    let cutoff = (rtol * largest).max(floor);
    out.iter_mut().for_each(|o| *o = 0.0);
    for i in 0..m {
        let lambda = s[i * m + i];
        if lambda.abs() > cutoff {
            let u = &vectors[i * m..(i + 1) * m];
            let coef = u.iter().zip(v).fold(0.0, |acc, (p, q)| acc + p * q) / lambda;
            out.iter_mut().zip(u).for_each(|(o, p)| *o += coef * p);
        }
    }
}

/// Cyclic Jacobi on `a` (`n × n`, column-major): leaves the eigenvalues on the diagonal of `s` and the
/// eigenvectors in the columns of `v` (see [`symmetric_eigen`]).
#[inline]
fn jacobi(a: &[f64], s: &mut [f64], v: &mut [f64], n: usize) {
    assert_eq!((a.len(), s.len(), v.len()), (n * n, n * n, n * n), "n × n matrices");
    // The symmetric part, so a slightly asymmetric input is read as what it stands for.
    for j in 0..n {
        for i in 0..n {
            s[j * n + i] = (a[j * n + i] + a[i * n + j]) * 0.5;
            v[j * n + i] = if i == j { 1.0 } else { 0.0 };
        }
    }
    let scale = s.iter().fold(0.0, |acc, c| acc + c * c).sqrt();
    for _ in 0..64 {
        let off: f64 = (0..n).flat_map(|p| (p + 1..n).map(move |q| (p, q))).map(|(p, q)| s[q * n + p].powi(2)).sum();
        if off.sqrt() <= 1e-15 * scale || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if s[q * n + p] != 0.0 {
                    rotate(s, v, n, (p, q));
                }
            }
        }
    }
}

/// One Jacobi rotation of rows and columns `p`, `q` of `s` (`n × n`, column-major) that zeroes `s[p, q]`,
/// applied to the eigenvectors `v` too.
#[inline]
fn rotate(s: &mut [f64], v: &mut [f64], n: usize, (p, q): (usize, usize)) {
    let at = |i: usize, j: usize| j * n + i;
    let theta = (s[at(q, q)] - s[at(p, p)]) / (2.0 * s[at(p, q)]);
    // tan of the smaller angle; past 1e150, θ² would overflow and t = 1/(2θ) to the last bit.
    let t =
        if theta.abs() < 1e150 { theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt()) } else { 0.5 / theta };
    let c = 1.0 / (t * t + 1.0).sqrt();
    let sn = t * c;
    for k in 0..n {
        let (kp, kq) = (s[at(k, p)], s[at(k, q)]);
        s[at(k, p)] = c * kp - sn * kq;
        s[at(k, q)] = sn * kp + c * kq;
    }
    for k in 0..n {
        let (pk, qk) = (s[at(p, k)], s[at(q, k)]);
        s[at(p, k)] = c * pk - sn * qk;
        s[at(q, k)] = sn * pk + c * qk;
    }
    s[at(p, q)] = 0.0;
    s[at(q, p)] = 0.0;
    for k in 0..n {
        let (kp, kq) = (v[at(k, p)], v[at(k, q)]);
        v[at(k, p)] = c * kp - sn * kq;
        v[at(k, q)] = sn * kp + c * kq;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{Matrix2, Vector2};

    #[test]
    fn inverts_a_regular_matrix_and_drops_the_null_space_of_a_singular_one() {
        let a = Matrix2::new(2.0, 1.0, 1.0, 2.0);
        let v = Vector2::new(1.0, -1.0);
        let x = pinv_apply(&a, &v, 1e-12, 0.0);
        assert!((a * x - v).norm() < 1e-14);
        let s = Matrix2::new(1.0, 1.0, 1.0, 1.0); // eigenvalues 2 and 0, null space (1, -1)
        let x = pinv_apply(&s, &Vector2::new(3.0, 1.0), 1e-12, 0.0);
        assert!((x - Vector2::new(1.0, 1.0)).norm() < 1e-14, "the minimum-norm least-squares solution");
        let x = pinv_apply(&Matrix2::new(1.0, 0.0, 0.0, 1e-4), &v, 1e-3, 0.0);
        assert_eq!(x, Vector2::new(1.0, 0.0), "eigenvalue 1e-4 ≤ 1e-3 · 1 is cut");
    }

    #[test]
    fn jacobi_agrees_with_nalgebra_on_random_symmetric_matrices() {
        let mut state = 7u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        };
        for size in [1, 2, 5, 12, 30] {
            let g = nalgebra::DMatrix::from_fn(size, size, |_, _| next());
            let a = &g + g.transpose();
            let (values, vectors) = symmetric_eigen(&a);
            let mut ours: Vec<f64> = values.iter().copied().collect();
            let mut theirs: Vec<f64> = a.clone().symmetric_eigenvalues().iter().copied().collect();
            ours.sort_by(f64::total_cmp);
            theirs.sort_by(f64::total_cmp);
            let scale = a.norm();
            for (p, q) in ours.iter().zip(&theirs) {
                assert!((p - q).abs() <= 1e-13 * scale, "size {size}: {p} vs {q}");
            }
            // A V = V Λ and VᵀV = I.
            let residual = &a * &vectors - &vectors * nalgebra::DMatrix::from_diagonal(&values);
            assert!(residual.norm() <= 1e-13 * scale, "size {size}: {}", residual.norm());
            let identity = nalgebra::DMatrix::<f64>::identity(size, size);
            assert!((vectors.transpose() * &vectors - identity).norm() < 1e-13);
        }
    }
}
