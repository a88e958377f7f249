//! The pseudo-inverse of a symmetric matrix by eigendecomposition, with a cutoff on small eigenvalues.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix, OVector, U1};

/// `A† v` for a symmetric `A`: eigenvalues with `|λ| ≤ max(rtol · max|λ|, floor)` are treated as zero.
///
/// The eigendecomposition is cyclic Jacobi ([`symmetric_eigen`]) on matrices of `A`'s own dimension type, so a
/// fixed-size `A` is decomposed on the stack: the pseudo-inverse allocates nothing. A non-finite entry in `A` or
/// `v` gives a vector of NaN (not a finite number the rotations happened to produce), so that the run using it
/// faults at that iteration instead of going on with a wrong step.
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
    if !(a.iter().all(|c| c.is_finite()) && v.iter().all(|c| c.is_finite())) {
        return OVector::<f64, M>::from_element_generic(m, U1, f64::NAN);
    }
    let (values, vectors) = symmetric_eigen(a);
    let largest = values.iter().fold(0.0f64, |acc, l| acc.max(l.abs()));
    let cutoff = (rtol * largest).max(floor);
    let mut out = OVector::<f64, M>::zeros_generic(m, U1);
    for (i, lambda) in values.iter().enumerate() {
        if lambda.abs() > cutoff {
            let u = vectors.column(i);
            out.axpy(u.dot(v) / lambda, &u, 1.0);
        }
    }
    out
}

/// The eigenvalues and eigenvectors (columns) of a symmetric matrix by cyclic Jacobi rotations, on matrices of
/// its own dimension type (no allocation for fixed sizes). Sweeps until the off-diagonal part is below
/// `1e-15 ‖A‖_F`, at most 64 sweeps; each rotation zeroes one off-diagonal entry exactly as in Golub & Van Loan
/// §8.5 (tangent of the smaller angle). Accurate to a few ulps of `‖A‖` in every eigenvalue.
pub fn symmetric_eigen<M: Dim>(a: &OMatrix<f64, M, M>) -> (OVector<f64, M>, OMatrix<f64, M, M>)
where
    DefaultAllocator: Allocator<M> + Allocator<M, M>,
{
    let (m, _) = a.shape_generic();
    let n = a.nrows();
    // The symmetric part, so a slightly asymmetric input is read as what it stands for.
    let mut s = (a + a.transpose()) * 0.5;
    let mut v = OMatrix::<f64, M, M>::identity_generic(m, m);
    let scale = s.norm();
    for _ in 0..64 {
        let off: f64 = (0..n).flat_map(|p| (p + 1..n).map(move |q| (p, q))).map(|(p, q)| s[(p, q)].powi(2)).sum();
        if off.sqrt() <= 1e-15 * scale || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if s[(p, q)] != 0.0 {
                    rotate(&mut s, &mut v, p, q);
                }
            }
        }
    }
    (OVector::<f64, M>::from_iterator_generic(m, U1, (0..n).map(|i| s[(i, i)])), v)
}

/// One Jacobi rotation of rows and columns `p`, `q` that zeroes `s[(p, q)]`, applied to the eigenvectors too.
fn rotate<M: Dim>(s: &mut OMatrix<f64, M, M>, v: &mut OMatrix<f64, M, M>, p: usize, q: usize)
where
    DefaultAllocator: Allocator<M, M>,
{
    let theta = (s[(q, q)] - s[(p, p)]) / (2.0 * s[(p, q)]);
    let t = theta.signum() / (theta.abs() + theta.hypot(1.0));
    let c = 1.0 / t.hypot(1.0);
    let sn = t * c;
    let n = s.nrows();
    for k in 0..n {
        let (kp, kq) = (s[(k, p)], s[(k, q)]);
        s[(k, p)] = c * kp - sn * kq;
        s[(k, q)] = sn * kp + c * kq;
    }
    for k in 0..n {
        let (pk, qk) = (s[(p, k)], s[(q, k)]);
        s[(p, k)] = c * pk - sn * qk;
        s[(q, k)] = sn * pk + c * qk;
    }
    s[(p, q)] = 0.0;
    s[(q, p)] = 0.0;
    for k in 0..n {
        let (kp, kq) = (v[(k, p)], v[(k, q)]);
        v[(k, p)] = c * kp - sn * kq;
        v[(k, q)] = sn * kp + c * kq;
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
