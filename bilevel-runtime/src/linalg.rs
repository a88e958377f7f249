//! The pseudo-inverse of a symmetric matrix by eigendecomposition, with a cutoff on small eigenvalues.

use nalgebra::allocator::Allocator;
use nalgebra::{DMatrix, DVector, DefaultAllocator, Dim, OMatrix, OVector, U1};

/// `A† v` for a symmetric `A`: eigenvalues with `|λ| ≤ max(rtol · max|λ|, floor)` are treated as zero.
///
/// The decomposition runs on a dynamic copy of `A` (nalgebra's `SymmetricEigen`), so this works for every
/// dimension type without extra bounds.
pub fn pinv_apply<M: Dim>(a: &OMatrix<f64, M, M>, v: &OVector<f64, M>, rtol: f64, floor: f64) -> OVector<f64, M>
where
    DefaultAllocator: Allocator<M> + Allocator<M, M>,
{
    let (m, _) = a.shape_generic();
    let dense = DMatrix::from_iterator(a.nrows(), a.ncols(), a.iter().copied());
    let eig = dense.symmetric_eigen();
    let largest = eig.eigenvalues.iter().fold(0.0f64, |acc, l| acc.max(l.abs()));
    let cutoff = (rtol * largest).max(floor);
    let dv = DVector::from_iterator(v.len(), v.iter().copied());
    let mut out = DVector::zeros(v.len());
    for (i, lambda) in eig.eigenvalues.iter().enumerate() {
        if lambda.abs() > cutoff {
            let u = eig.eigenvectors.column(i);
            out += u * (u.dot(&dv) / lambda);
        }
    }
    OVector::<f64, M>::from_iterator_generic(m, U1, out.iter().copied())
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
}
