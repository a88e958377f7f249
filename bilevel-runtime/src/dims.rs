//! One bound that bundles every nalgebra allocator an algorithm needs, so signatures stay readable.

use nalgebra::allocator::Allocator;
use nalgebra::Dim;

/// The allocators for vectors in `Rⁿ` and `Rᵐ` and for `n × m`, `m × m` and `n × n` matrices.
///
/// Write `where DefaultAllocator: Alloc<N, M>` instead of listing each allocator; a blanket impl makes every
/// allocator that has them all implement it (this is how `num-dual` keeps its bounds short).
pub trait Alloc<N: Dim, M: Dim>:
    Allocator<N> + Allocator<M> + Allocator<N, M> + Allocator<M, M> + Allocator<M, N> + Allocator<N, N>
{
}

impl<A, N: Dim, M: Dim> Alloc<N, M> for A where
    A: Allocator<N> + Allocator<M> + Allocator<N, M> + Allocator<M, M> + Allocator<M, N> + Allocator<N, N>
{
}
