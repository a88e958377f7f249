//! The data path's intermediate representation, shared by the code generator for problems with data
//! ([`crate::data_loops`]) and the evaluator that runs it without compiling ([`crate::eval`], the tool's loop tapes):
//! each derivative method as a [`Program`], accumulations ([`Item`]s) into `value` and the output slices, in
//! loops over the data, on nodes of the problem's DAG with the derivative nodes added.
//!
//! A result that is a sum over samples is unfolded into a loop whose body adds to the output
//! (`gy[l] += a_i · X[i][l]` inside `for i`), so gradients are scattered sample by sample in O(N·p), never
//! gathered element by element in O(N·p²); statements in loops over the same variable share one loop, so the
//! value, both gradients and their common subexpressions are computed in one pass over the data.

use crate::dag::{Array, Dag, ExprId, Node};
use crate::diff::{element_adjoints, hvp_tangents};
use crate::model::Model;

/// A statement of a function whose results are arrays: an accumulation, or a loop of statements.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `place += value;` or `place -= value;`.
    Acc {
        /// What is written.
        place: Place,
        /// `-` when false.
        positive: bool,
        /// What is added.
        value: ExprId,
    },
    /// `for i in 0..n { items }` over loop variable `var`.
    Loop {
        /// The loop variable.
        var: u32,
        /// The statements of the body.
        items: Vec<Item>,
    },
}

/// What an accumulation writes.
#[derive(Clone, Debug, PartialEq)]
pub enum Place {
    /// A local `f64` variable.
    Scalar(&'static str),
    /// An element of an output slice laid out like the variable `array` (`X` or `Y`): `target[row]`, or
    /// `target[row * cols + col]` for a matrix variable.
    At {
        /// The output slice.
        target: &'static str,
        /// The variable whose layout it has.
        array: Array,
        /// The row index (an `Idx` or `Const` node).
        row: ExprId,
        /// The column index of a matrix variable.
        col: Option<ExprId>,
    },
}

impl Item {
    /// Every value the item (and the items inside it) accumulates.
    pub fn values(&self, out: &mut Vec<ExprId>) {
        match self {
            Item::Acc { value, .. } => out.push(*value),
            Item::Loop { items, .. } => items.iter().for_each(|i| i.values(out)),
        }
    }
}

/// One objective's gradient: each variable element read by the objective and its adjoint.
struct Derivatives {
    value: ExprId,
    /// `(element, adjoint)` for every `At(X | Y, ..)` node the objective reads.
    adjoints: Vec<(ExprId, ExprId)>,
}

impl Derivatives {
    fn new(dag: &mut Dag, f: ExprId) -> Derivatives {
        Derivatives { value: f, adjoints: element_adjoints(dag, f) }
    }
}

/// What one method of a problem with data computes: accumulations ([`Item`]s) into `value` and the output slices
/// (`gx`/`gy` or `hx`/`hy`), in loops, over nodes of `dag` (the problem's DAG with the derivative nodes added).
#[derive(Clone, Debug)]
pub struct Program {
    /// The nodes.
    pub dag: Dag,
    /// The statements, loops over the same variable shared.
    pub items: Vec<Item>,
}

/// The derivative methods of a problem with data as [`Program`]s, for the code generator and for direct
/// evaluation ([`crate::eval::Loops`]).
#[derive(Clone, Debug)]
pub struct Programs {
    /// `F`, `∇x F` and `∇y F` (into `value`, `gx`, `gy`).
    pub upper_grad: Program,
    /// `G`, `∇x G` and `∇y G`.
    pub lower_grad: Program,
    /// `∇²xy F·v` and `∇²yy F·v` (into `hx`, `hy`) for a direction `v` (`Array::DirY`).
    pub upper_hvp_y: Program,
    /// `∇²xx F·u` and `∇²yx F·u` for a direction `u` (`Array::DirX`).
    pub upper_hvp_x: Program,
    /// `∇²xy G·v` and `∇²yy G·v`.
    pub lower_hvp_y: Program,
    /// `∇²xx G·u` and `∇²yx G·u`.
    pub lower_hvp_x: Program,
}

/// Every derivative method of a problem with data.
pub fn programs(model: &Model) -> Programs {
    let mut dag = model.dag.clone();
    let upper = Derivatives::new(&mut dag, model.upper);
    let lower = Derivatives::new(&mut dag, model.lower);
    Programs {
        upper_grad: grad_program(&dag, &upper),
        lower_grad: grad_program(&dag, &lower),
        upper_hvp_y: hvp_program(&dag, &upper, Array::DirY),
        upper_hvp_x: hvp_program(&dag, &upper, Array::DirX),
        lower_hvp_y: hvp_program(&dag, &lower, Array::DirY),
        lower_hvp_x: hvp_program(&dag, &lower, Array::DirX),
    }
}

/// The value and both gradients of one objective.
fn grad_program(dag: &Dag, d: &Derivatives) -> Program {
    let mut dag = dag.clone();
    let mut accs = Vec::new();
    unfold(&mut dag, d.value, Place::Scalar("value"), &mut accs);
    for &(leaf, adj) in &d.adjoints {
        let at = place(&dag, leaf, "gx", "gy");
        unfold(&mut dag, adj, at, &mut accs);
    }
    Program { dag, items: nest(accs) }
}

/// The product of one objective's Hessian with a direction in `x` (`DirX`) or `y` (`DirY`).
fn hvp_program(dag: &Dag, d: &Derivatives, dir: Array) -> Program {
    let mut dag = dag.clone();
    let adjs: Vec<ExprId> = d.adjoints.iter().map(|(_, a)| *a).collect();
    let tangents = hvp_tangents(&mut dag, &adjs, dir);
    let mut accs = Vec::new();
    for (&(leaf, _), &t) in d.adjoints.iter().zip(&tangents) {
        if dag.as_const(t) != Some(0.0) {
            let at = place(&dag, leaf, "hx", "hy");
            unfold(&mut dag, t, at, &mut accs);
        }
    }
    Program { dag, items: nest(accs) }
}

/// Accumulations with their loop paths, grouped into shared loops.
fn nest(accs: Vec<(Vec<u32>, Item)>) -> Vec<Item> {
    let mut items = Vec::new();
    for (path, acc) in accs {
        insert(&mut items, &path, acc);
    }
    items
}

/// Where the derivative for variable element `leaf` goes: `gx[..]` or `gy[..]` (or the names given).
fn place(dag: &Dag, leaf: ExprId, x: &'static str, y: &'static str) -> Place {
    match dag.node(leaf) {
        Node::At(array, row, col) => {
            let target = if array == Array::X { x } else { y };
            Place::At { target, array, row, col }
        }
        _ => unreachable!("variable elements are `At` nodes"),
    }
}

/// Adds to `out` the accumulations that add `value` to `place`, with the loop variables each needs.
///
/// A sum that depends on the place's index (or any sum, for a scalar place) becomes a loop around the
/// accumulation, also under `+`, `-` and a factor that does not depend on the index; the place's own index
/// variables are the innermost loops. A sum that does not depend on the index stays a value, computed once
/// outside the index's loop: unfolding it would repeat its loop for every element.
fn unfold(dag: &mut Dag, value: ExprId, place: Place, out: &mut Vec<(Vec<u32>, Item)>) {
    let mut pending = vec![(value, true, Vec::<u32>::new())];
    let place_vars: Vec<u32> = match place {
        Place::At { row, col, .. } => {
            [Some(row), col].into_iter().flatten().flat_map(|i| dag.free(i).to_vec()).collect()
        }
        Place::Scalar(_) => Vec::new(),
    };
    let indexed = |dag: &Dag, id: ExprId| place_vars.is_empty() || dag.free(id).iter().any(|k| place_vars.contains(k));
    while let Some((e, positive, loops)) = pending.pop() {
        let unfoldable = |dag: &Dag, id: ExprId| has_top_sum(dag, id, &indexed);
        let factor =
            |dag: &Dag, id: ExprId| place_vars.is_empty() || !dag.free(id).iter().any(|k| place_vars.contains(k));
        match dag.node(e) {
            Node::Sum(k, body) if indexed(dag, e) => {
                // A loop variable may be reused by an independent sum; give this loop its own if so.
                let (k, body) =
                    if loops.contains(&k) || place_vars.contains(&k) { rename(dag, k, body) } else { (k, body) };
                let mut inner = loops.clone();
                inner.push(k);
                pending.push((body, positive, inner));
            }
            Node::Add(a, b) if unfoldable(dag, a) || unfoldable(dag, b) => {
                pending.push((a, positive, loops.clone()));
                pending.push((b, positive, loops));
            }
            Node::Sub(a, b) if unfoldable(dag, a) || unfoldable(dag, b) => {
                pending.push((a, positive, loops.clone()));
                pending.push((b, !positive, loops));
            }
            Node::Neg(a) if unfoldable(dag, a) => pending.push((a, !positive, loops)),
            Node::Mul(a, b) if unfoldable(dag, b) && factor(dag, a) => {
                let scaled = scale(dag, b, a, Dag::mul, &indexed);
                pending.push((scaled, positive, loops));
            }
            Node::Mul(a, b) if unfoldable(dag, a) && factor(dag, b) => {
                let scaled = scale(dag, a, b, Dag::mul, &indexed);
                pending.push((scaled, positive, loops));
            }
            Node::Div(a, b) if unfoldable(dag, a) && factor(dag, b) => {
                let scaled = scale(dag, a, b, Dag::div, &indexed);
                pending.push((scaled, positive, loops));
            }
            _ => {
                let mut path = loops;
                path.extend(place_vars.iter().copied());
                row_major(dag, e, &mut path);
                out.push((path, Item::Acc { place: place.clone(), positive, value: e }));
            }
        }
    }
}

/// Reorders the loops `path` around an accumulation of `value` so that arrays stored row by row are read along
/// their rows: a loop over an array's column index goes inside the loop over its row index (`Σ_j A[i][j] x[j]`
/// into `out[i]` runs `for i { for j } }`, not down the columns). Otherwise the order is kept (samples outermost,
/// the output's own index innermost), and accumulations into one pass share its loops.
fn row_major(dag: &Dag, value: ExprId, path: &mut [u32]) {
    let reach = dag.reachable(&[value]);
    // `(row, column)`: the column's loop must be inside the row's.
    let mut before: Vec<(u32, u32)> = Vec::new();
    for (i, _) in reach.iter().enumerate().filter(|(_, r)| **r) {
        if let Node::At(_, row, Some(col)) = dag.node(ExprId::from_index(i)) {
            if let (Node::Idx(r), Node::Idx(c)) = (dag.node(row), dag.node(col)) {
                if path.contains(&r) && path.contains(&c) && !before.contains(&(r, c)) {
                    before.push((r, c));
                }
            }
        }
    }
    // Move each row loop just outside its column loop when it is inside it (a few passes settle any chain).
    for _ in 0..path.len() {
        let mut moved = false;
        for &(r, c) in &before {
            let (pr, pc) = (path.iter().position(|v| *v == r), path.iter().position(|v| *v == c));
            if let (Some(pr), Some(pc)) = (pr, pc) {
                if pr > pc && !before.contains(&(c, r)) {
                    path[pc..=pr].rotate_right(1);
                    moved = true;
                }
            }
        }
        if !moved {
            break;
        }
    }
}

/// The body of a sum over `k` with a fresh loop variable of the same range in place of `k`.
fn rename(dag: &mut Dag, k: u32, body: ExprId) -> (u32, ExprId) {
    let fresh = dag.new_loop_like(k);
    let idx = dag.insert(Node::Idx(fresh));
    (fresh, dag.subst(body, &[(k, idx)]))
}

/// Whether `id` is a sum that passes `wanted`, or a sum, difference, negation or scaling of one (what [`unfold`]
/// turns into loops), looking a few levels deep only: the structure that matters is at the top, and derivative
/// DAGs share so much that a full walk could take exponential time.
fn has_top_sum(dag: &Dag, id: ExprId, wanted: &dyn Fn(&Dag, ExprId) -> bool) -> bool {
    fn walk(dag: &Dag, id: ExprId, depth: usize, wanted: &dyn Fn(&Dag, ExprId) -> bool) -> bool {
        if depth == 0 {
            return false;
        }
        match dag.node(id) {
            Node::Sum(..) => wanted(dag, id),
            Node::Add(a, b) | Node::Sub(a, b) | Node::Mul(a, b) => {
                walk(dag, a, depth - 1, wanted) || walk(dag, b, depth - 1, wanted)
            }
            Node::Div(a, _) | Node::Neg(a) => walk(dag, a, depth - 1, wanted),
            _ => false,
        }
    }
    walk(dag, id, UNFOLD_DEPTH, wanted)
}

/// How deep below the top of a result [`unfold`] looks for sums to turn into loops.
const UNFOLD_DEPTH: usize = 6;

type Op = fn(&mut Dag, ExprId, ExprId) -> ExprId;

/// `s ∘ f` (`∘` is `*` or `/`) with the factor `f` pushed through the sums, differences and products of `s` into
/// the bodies of the sums that pass `wanted`, so that [`unfold`] can turn them into loops: `(Σ_k b) / N` becomes
/// `Σ_k (b / N)`. Parts without such a sum near the top are combined with `f` as they are.
fn scale(dag: &mut Dag, s: ExprId, f: ExprId, op: Op, wanted: &dyn Fn(&Dag, ExprId) -> bool) -> ExprId {
    if !has_top_sum(dag, s, wanted) {
        return op(dag, s, f);
    }
    match dag.node(s) {
        Node::Sum(k, body) => {
            // The factor is constant in the sum; if it uses a variable of the same number (a loop variable reused
            // by an unrelated sum), the sum gets a variable of its own first.
            let (k, body) = if dag.free(f).contains(&k) { rename(dag, k, body) } else { (k, body) };
            let inner = scale(dag, body, f, op, wanted);
            dag.sum(k, inner)
        }
        Node::Add(a, b) => {
            let (a, b) = (scale(dag, a, f, op, wanted), scale(dag, b, f, op, wanted));
            dag.add(a, b)
        }
        Node::Sub(a, b) => {
            let (a, b) = (scale(dag, a, f, op, wanted), scale(dag, b, f, op, wanted));
            dag.sub(a, b)
        }
        Node::Neg(a) => {
            let a = scale(dag, a, f, op, wanted);
            dag.neg(a)
        }
        Node::Mul(p, q) if has_top_sum(dag, q, wanted) => {
            let q = scale(dag, q, f, op, wanted);
            dag.mul(p, q)
        }
        Node::Mul(p, q) => {
            let p = scale(dag, p, f, op, wanted);
            dag.mul(p, q)
        }
        Node::Div(p, q) => {
            let p = scale(dag, p, f, op, wanted);
            dag.div(p, q)
        }
        _ => op(dag, s, f),
    }
}

/// Puts an accumulation into the loop nest `path`, sharing loops over the same variable.
fn insert(items: &mut Vec<Item>, path: &[u32], acc: Item) {
    let Some((&var, rest)) = path.split_first() else {
        items.push(acc);
        return;
    };
    let existing = items.iter_mut().position(|i| matches!(i, Item::Loop { var: v, .. } if *v == var));
    let at = existing.unwrap_or_else(|| {
        items.push(Item::Loop { var, items: Vec::new() });
        items.len() - 1
    });
    if let Item::Loop { items: inner, .. } = &mut items[at] {
        insert(inner, rest, acc);
    }
}
