//! Symbolic differentiation on the DAG: a reverse sweep builds gradient nodes; differentiating gradient nodes
//! again gives Hessian blocks.

use std::collections::HashMap;

use crate::ast::Span;
use crate::dag::{Array, Dag, ExprId, Func, Node};
use crate::diag::Diagnostic;
use crate::model::Model;

/// One objective of a problem without data and the derivative nodes the `Problem` methods return, all in one DAG
/// (what the code generator writes out and the tape evaluator runs).
#[derive(Clone, Debug)]
pub struct Derivatives {
    /// The objective.
    pub value: ExprId,
    /// `∇x`, one node per component.
    pub grad_x: Vec<ExprId>,
    /// `∇y`, one node per component.
    pub grad_y: Vec<ExprId>,
    /// Upper triangle of `∇²yy`.
    pub yy: Block,
    /// `∇²xy`, `n × m`.
    pub xy: Block,
    /// `∇²xx · u`, one node per component, for the direction `u` (`Array::DirX` elements): `∇²xx` column by
    /// column. A product costs what the gradient costs, where the block itself can be n² entries (`norm(x)`), and
    /// no algorithm needs the block, only an analysis of the upper level.
    pub xx_u: Vec<ExprId>,
}

/// The most nodes the DAG of a problem without data may have once differentiated. A dense Hessian of
/// `real[300]` takes about 94 000; `real[4096]` would take 8 million entries (its code would not compile in
/// reasonable time). [`derivatives`] stops growing the DAG once past it; see [`too_large`].
pub const MAX_NODES: usize = 1_000_000;

/// Whether differentiation stopped at [`MAX_NODES`] (or the DAG's lower [`Dag::node_limit`]); the derivatives in
/// `dag` are then incomplete.
pub fn too_large(dag: &Dag) -> bool {
    dag.len() > dag.node_limit()
}

/// The gradients and Hessian blocks of `f` over `x ∈ Rⁿ`, `y ∈ Rᵐ` (`dims = (n, m)`), as nodes of `dag`.
/// Incomplete when [`too_large`] is then true.
pub fn derivatives(dag: &mut Dag, (n, m): (usize, usize), f: ExprId) -> Derivatives {
    let xs: Vec<ExprId> = (0..n as u32).map(|i| dag.insert(Node::X(i))).collect();
    let ys: Vec<ExprId> = (0..m as u32).map(|i| dag.insert(Node::Y(i))).collect();
    let wrt: Vec<ExprId> = xs.iter().chain(&ys).copied().collect();
    let grad = gradient(dag, f, &wrt);
    let (grad_x, grad_y) = (grad[..n].to_vec(), grad[n..].to_vec());
    let (yy, xy) = hessian_blocks(dag, &grad_y, &xs, &ys);
    let xx_u = tangent(dag, &grad_x, |dag, node| match node {
        Node::X(i) => {
            let i = dag.constant(f64::from(i));
            Some(dag.insert(Node::At(Array::DirX, i, None)))
        }
        _ => None,
    });
    Derivatives { value: f, grad_x, grad_y, yy, xy, xx_u }
}

/// The derivative rules: `∂node/∂child` for each numeric child of `id`, one line per primitive.
///
/// A select passes its adjoint to the branch taken: `∂(if c then a else b)/∂a = if c then 1 else 0`. Products
/// with such masked values are moved into the branch by the DAG, so the untaken branch's derivative is never
/// evaluated. Conditions have no derivative.
fn partials(dag: &mut Dag, id: ExprId) -> Vec<(ExprId, ExprId)> {
    let one = dag.constant(1.0);
    let zero = dag.constant(0.0);
    match dag.node(id) {
        Node::Add(a, b) => vec![(a, one), (b, one)],
        Node::Sub(a, b) => vec![(a, one), (b, dag.constant(-1.0))],
        Node::Mul(a, b) => vec![(a, b), (b, a)],
        Node::Div(a, b) => vec![
            (a, dag.div(one, b)),
            (b, {
                let q = dag.div(id, b);
                dag.neg(q)
            }),
        ],
        Node::Neg(a) => vec![(a, dag.constant(-1.0))],
        Node::Powi(a, k) => vec![(a, {
            let p = dag.powi(a, k - 1);
            let k = dag.constant(k.into());
            dag.mul(k, p)
        })],
        Node::Pow(a, b) => {
            let b1 = dag.sub(b, one);
            let p = dag.pow(a, b1);
            let da = dag.mul(b, p);
            let ln = dag.func(Func::Log, a);
            vec![(a, da), (b, dag.mul(id, ln))]
        }
        Node::Func(f, a) => vec![(a, func_derivative(dag, f, a, id))],
        Node::Select(c, a, b) => vec![(a, dag.select(c, one, zero)), (b, dag.select(c, zero, one))],
        Node::Sum(_, body) => vec![(body, one)],
        // A shift whose value the expression does not depend on (see `Node::Detach`).
        Node::Max(..) | Node::Detach(_) => vec![],
        Node::Const(_) | Node::Bool(_) | Node::X(_) | Node::Y(_) | Node::Param(_) => vec![],
        Node::Idx(_) | Node::Size(_) | Node::Batch(_) | Node::At(..) => vec![],
        Node::Cmp(..) | Node::And(..) | Node::Or(..) | Node::Not(_) => vec![],
    }
}

/// `f'(a)`, where `id` is the node `f(a)` (reused where the derivative is a function of the value).
fn func_derivative(dag: &mut Dag, f: Func, a: ExprId, id: ExprId) -> ExprId {
    let one = dag.constant(1.0);
    match f {
        Func::Sin => dag.func(Func::Cos, a),
        Func::Cos => {
            let s = dag.func(Func::Sin, a);
            dag.neg(s)
        }
        Func::Tan => {
            let t2 = dag.powi(id, 2);
            dag.add(one, t2)
        }
        Func::Exp => id,
        Func::Log => dag.div(one, a),
        Func::Sqrt => {
            let half = dag.constant(0.5);
            dag.div(half, id)
        }
        Func::Tanh => {
            let t2 = dag.powi(id, 2);
            dag.sub(one, t2)
        }
        Func::Sigmoid => {
            let c = dag.sub(one, id);
            dag.mul(id, c)
        }
        Func::Softplus => dag.func(Func::Sigmoid, a),
    }
}

/// The gradient of `f` with respect to each node of `wrt` (normally variable nodes), by one reverse sweep.
///
/// Nodes created during the sweep get ids above `f`, so the sweep over `f` and its descendants is unaffected.
pub fn gradient(dag: &mut Dag, f: ExprId, wrt: &[ExprId]) -> Vec<ExprId> {
    let adjoint = adjoints(dag, f);
    let zero = dag.constant(0.0);
    wrt.iter().map(|w| adjoint.get(w).copied().unwrap_or(zero)).collect()
}

/// The adjoint `∂f/∂n` of every node `n` that `f` depends on, by one reverse sweep.
///
/// With loops, a node stands for one number per value of its free loop variables, and so does its adjoint. A
/// node outside a loop that is used inside it receives the sum over the loop of what each iteration passes
/// back: each term is wrapped in a `Sum` over the loop variables the child does not have.
pub fn adjoints(dag: &mut Dag, f: ExprId) -> HashMap<ExprId, ExprId> {
    // Only the nodes `f` depends on, from `f` down (each sweep of a Hessian costs its own cone, not the DAG).
    let cone = dag.cone(&[f]);
    let mut adjoint: HashMap<ExprId, ExprId> = HashMap::from([(f, dag.constant(1.0))]);
    for &id in cone.iter().rev() {
        if too_large(dag) {
            break;
        }
        let Some(&adj) = adjoint.get(&id) else { continue };
        for (child, partial) in partials(dag, id) {
            let term = dag.mul(adj, partial);
            let term = sum_out(dag, term, id, child);
            let sum = match adjoint.get(&child) {
                Some(&old) => dag.add(old, term),
                None => term,
            };
            adjoint.insert(child, sum);
        }
    }
    adjoint
}

/// `term`, which stands for one number per value of the loop variables of node `from` (and its own), summed over
/// those that `target` does not have. A term may be the same for every value of a variable of `from` without
/// mentioning it (`1` flowing from `Σ_j (w_j + ‖w‖²)` to `‖w‖²`): it is still summed, that is multiplied by
/// the count.
fn sum_out(dag: &mut Dag, term: ExprId, from: ExprId, target: ExprId) -> ExprId {
    let mut extra: Vec<u32> =
        dag.free(term).iter().chain(dag.free(from)).copied().filter(|k| !dag.free(target).contains(k)).collect();
    extra.sort_unstable();
    extra.dedup();
    dag.sum_over(&extra, term)
}

/// The directional derivatives of `roots` by one forward sweep: `seed` gives the derivative of each leaf
/// (`None` for zero), e.g. a direction component for each variable element. Applied to gradient nodes, this is
/// forward-over-reverse: Hessian–vector products.
pub fn tangent(dag: &mut Dag, roots: &[ExprId], seed: impl Fn(&mut Dag, Node) -> Option<ExprId>) -> Vec<ExprId> {
    let reach = dag.reachable(roots);
    let zero = dag.constant(0.0);
    let mut tan: HashMap<ExprId, ExprId> = HashMap::new();
    for (i, _) in reach.iter().enumerate().filter(|(_, r)| **r) {
        if too_large(dag) {
            break;
        }
        let id = ExprId::from_index(i);
        let node = dag.node(id);
        let t = if node.children().is_empty() || matches!(node, Node::At(..)) {
            seed(dag, node).unwrap_or(zero)
        } else {
            let mut acc = zero;
            for (child, partial) in partials(dag, id) {
                let Some(&tc) = tan.get(&child) else { continue };
                let term = dag.mul(partial, tc);
                let term = sum_out(dag, term, child, id);
                acc = dag.add(acc, term);
            }
            acc
        };
        if t != zero {
            tan.insert(id, t);
        }
    }
    roots.iter().map(|r| tan.get(r).copied().unwrap_or(zero)).collect()
}

/// A block of second derivatives by its entries `(i, j, node)` that are not the constant 0 — of a symmetric block,
/// those of the upper triangle (`i ≤ j`). A separable problem's blocks have O(m) entries, so everything built from
/// a block costs what its entries cost, not m².
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Block {
    /// The entries, of a symmetric block column by column (`j`, then `i ≤ j`), of a general block row by row.
    pub entries: Vec<(usize, usize, ExprId)>,
}

impl Block {
    /// Entry `(i, j)`, `None` where it is structurally zero (or below the diagonal of a symmetric block). A scan
    /// over the entries: for tests and small blocks.
    pub fn get(&self, i: usize, j: usize) -> Option<ExprId> {
        self.entries.iter().find(|&&(a, b, _)| (a, b) == (i, j)).map(|&(_, _, id)| id)
    }
}

/// The Hessian blocks of a function from its gradient in `y`: `(∇²yy, ∇²xy)`, with `∇²yy` as its upper
/// triangle and `∇²xy` as an `n × m` block (entry `(i, j)` is `∂²/∂xᵢ∂yⱼ`).
///
/// One reverse sweep per component of the gradient, each over that component's own cone; each sweep reads the
/// variables its cone reached (a separable G reaches two) instead of all `n + m`.
pub fn hessian_blocks(dag: &mut Dag, grad_y: &[ExprId], xs: &[ExprId], ys: &[ExprId]) -> (Block, Block) {
    let n = xs.len();
    let position: HashMap<ExprId, usize> = xs.iter().chain(ys).enumerate().map(|(k, &v)| (v, k)).collect();
    let (mut yy, mut xy) = (Block::default(), Block::default());
    for (j, &g) in grad_y.iter().enumerate() {
        if too_large(dag) {
            break;
        }
        let mut column: Vec<(usize, ExprId)> = second_derivatives(dag, g, &position);
        column.sort_unstable();
        for (k, id) in column {
            if k < n {
                xy.entries.push((k, j, id));
            } else if k - n <= j {
                yy.entries.push((k - n, j, id));
            }
        }
    }
    xy.entries.sort_unstable_by_key(|&(i, j, _)| (i, j));
    (yy, xy)
}

/// `(k, ∂g/∂v_k)` for each variable `v_k` (by its `position`) that `g` depends on, structural zeros left out.
fn second_derivatives(dag: &mut Dag, g: ExprId, position: &HashMap<ExprId, usize>) -> Vec<(usize, ExprId)> {
    let adjoint = adjoints(dag, g);
    adjoint
        .into_iter()
        .filter_map(|(node, d)| Some((*position.get(&node)?, d)))
        .filter(|&(_, d)| dag.as_const(d) != Some(0.0))
        .collect()
}

/// `(element, ∂f/∂element)` for every variable element (`At(X | Y, ..)` node) `f` reads whose derivative is not
/// the constant 0: the gradient of a problem with data, by element.
pub fn element_adjoints(dag: &mut Dag, f: ExprId) -> Vec<(ExprId, ExprId)> {
    let adj = adjoints(dag, f);
    let reach = dag.reachable(&[f]);
    (0..reach.len())
        .map(ExprId::from_index)
        .filter(|id| reach[id.index()] && matches!(dag.node(*id), Node::At(Array::X | Array::Y, ..)))
        .filter_map(|id| adj.get(&id).map(|a| (id, *a)))
        .filter(|(_, a)| dag.as_const(*a) != Some(0.0))
        .collect()
}

/// The directional derivatives of `adjoints` along a direction in `x` (`dir = DirX`) or `y` (`DirY`): forward
/// over reverse, the Hessian–vector products by element.
pub fn hvp_tangents(dag: &mut Dag, adjoints: &[ExprId], dir: Array) -> Vec<ExprId> {
    let seeded = if dir == Array::DirX { Array::X } else { Array::Y };
    tangent(dag, adjoints, |dag, node| match node {
        Node::At(a, r, c) if a == seeded => Some(dag.insert(Node::At(dir, r, c))),
        _ => None,
    })
}

/// The derivatives of both objectives, or an error at the objective whose derivatives took the DAG past
/// [`MAX_NODES`] (differentiation stops growing the DAG there, so the first one over is the one to blame).
pub fn differentiate(model: &Model, dag: &mut Dag) -> Result<(Derivatives, Derivatives), Diagnostic> {
    let dims = (model.x.dim, model.y.dim);
    let (upper_span, lower_span) = &model.objective_spans;
    let error = |dag: &Dag, span: &Span| {
        let msg = format!("the derivatives of this objective take more than {} expression nodes", dag.node_limit());
        let hint = "straight-line code holds every Hessian entry (a dense `real[k]` has k² of them); declare large \
                    arrays as `data` with `dim` sizes, whose derivatives are matrix-free products";
        Diagnostic::new(span.clone(), msg).hint(hint)
    };
    let upper = derivatives(dag, dims, model.upper);
    if too_large(dag) {
        return Err(error(dag, upper_span));
    }
    let lower = derivatives(dag, dims, model.lower);
    if too_large(dag) {
        return Err(error(dag, lower_span));
    }
    Ok((upper, lower))
}
