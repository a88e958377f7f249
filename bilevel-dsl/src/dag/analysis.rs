//! What is asked of a built [`Dag`]: the cone of some roots, which nodes they reach, and whether two expressions
//! are the same up to the name of a loop variable.

use std::collections::HashMap;

use super::{Dag, ExprId, Node};

impl Dag {
    /// The nodes reachable from `roots` (the roots included), in increasing order, which is topological: a node's
    /// children come before it. Costs the size of the cone, not of the DAG.
    pub fn cone(&self, roots: &[ExprId]) -> Vec<ExprId> {
        let mut seen: std::collections::HashSet<ExprId> = roots.iter().copied().collect();
        let mut stack: Vec<ExprId> = seen.iter().copied().collect();
        while let Some(id) = stack.pop() {
            for c in self.nodes[id.index()].children() {
                if seen.insert(c) {
                    stack.push(c);
                }
            }
        }
        let mut cone: Vec<ExprId> = seen.into_iter().collect();
        cone.sort_unstable_by_key(|id| id.index());
        cone
    }

    /// Whether each node up to the highest root is reachable from `roots` (indexed by node; a scan of every node
    /// below the roots: use [`Dag::cone`] when the roots reach few of them).
    pub fn reachable(&self, roots: &[ExprId]) -> Vec<bool> {
        let top = roots.iter().map(|r| r.index() + 1).max().unwrap_or(0);
        let mut seen = vec![false; top];
        for r in roots {
            seen[r.index()] = true;
        }
        for i in (0..top).rev() {
            if seen[i] {
                for c in self.nodes[i].children() {
                    seen[c.index()] = true;
                }
            }
        }
        seen
    }
}

/// Whether `a` with loop variable `k` renamed to `k2` is `b` (`(k, k2)` = `rename`): the same expression over
/// another loop's index, e.g. `Σ_l X[i][l] W[l][c]` and `Σ_l X[i][l] W[l][d]`.
pub fn alpha_equal(dag: &Dag, a: ExprId, b: ExprId, rename: (u32, u32)) -> bool {
    fn eq(dag: &Dag, a: ExprId, b: ExprId, (k, k2): (u32, u32), memo: &mut HashMap<(ExprId, ExprId), bool>) -> bool {
        if !dag.free(a).contains(&k) && !dag.free(b).contains(&k2) {
            return a == b;
        }
        if let Some(&known) = memo.get(&(a, b)) {
            return known;
        }
        let (na, nb) = (dag.node(a), dag.node(b));
        let same_kind = match (na, nb) {
            (Node::Idx(p), Node::Idx(q)) => p == k && q == k2,
            (Node::Func(f, _), Node::Func(g, _)) => f == g,
            (Node::Powi(_, p), Node::Powi(_, q)) => p == q,
            (Node::Cmp(p, ..), Node::Cmp(q, ..)) => p == q,
            (Node::Sum(p, _), Node::Sum(q, _)) | (Node::Max(p, _), Node::Max(q, _)) => p == q && p != k,
            (Node::At(p, _, c), Node::At(q, _, d)) => p == q && c.is_some() == d.is_some(),
            _ => std::mem::discriminant(&na) == std::mem::discriminant(&nb),
        };
        let (ca, cb) = (na.children(), nb.children());
        let mut pairwise =
            |cb: &[ExprId]| ca.len() == cb.len() && ca.iter().zip(cb).all(|(x, y)| eq(dag, *x, *y, (k, k2), memo));
        // `+` and `·` order their operands by id, which a renamed copy may have in the other order.
        let commutative = matches!(na, Node::Add(..) | Node::Mul(..));
        let equal = same_kind && (pairwise(&cb) || (commutative && pairwise(&[cb[1], cb[0]])));
        memo.insert((a, b), equal);
        equal
    }
    eq(dag, a, b, rename, &mut HashMap::new())
}
