//! A direct evaluator of DAG nodes at a point: the oracle for derivative tests and the core of the tape the
//! command-line tool will run.

use crate::dag::{Dag, ExprId, Node};

/// The values of `roots` at `(x, y)` with the given parameter values (conditions evaluate to 1 or 0), for a
/// problem without data (nodes of loops and arrays evaluate to NaN here).
pub fn eval(dag: &Dag, roots: &[ExprId], x: &[f64], y: &[f64], params: &[f64]) -> Vec<f64> {
    let top = roots.iter().map(|r| r.index() + 1).max().unwrap_or(0);
    let mut v: Vec<f64> = Vec::with_capacity(top);
    for i in 0..top {
        let at = |id: ExprId| v[id.index()];
        let truth = |b: bool| if b { 1.0 } else { 0.0 };
        let value = match dag.node(ExprId::from_index(i)) {
            Node::Const(bits) => f64::from_bits(bits),
            Node::Bool(b) => truth(b),
            Node::X(k) => x[k as usize],
            Node::Y(k) => y[k as usize],
            Node::Param(k) => params[k as usize],
            Node::Idx(_) | Node::Size(_) | Node::At(..) | Node::Sum(..) | Node::Max(..) => f64::NAN,
            Node::Detach(a) => at(a),
            Node::Add(a, b) => at(a) + at(b),
            Node::Sub(a, b) => at(a) - at(b),
            Node::Mul(a, b) => at(a) * at(b),
            Node::Div(a, b) => at(a) / at(b),
            Node::Neg(a) => -at(a),
            Node::Powi(a, k) => at(a).powi(k),
            Node::Pow(a, b) => at(a).powf(at(b)),
            Node::Func(f, a) => f.apply(at(a)),
            Node::Cmp(op, a, b) => truth(op.apply(at(a), at(b))),
            Node::And(a, b) => truth(at(a) != 0.0 && at(b) != 0.0),
            Node::Or(a, b) => truth(at(a) != 0.0 || at(b) != 0.0),
            Node::Not(a) => truth(at(a) == 0.0),
            Node::Select(c, a, b) => {
                if at(c) != 0.0 {
                    at(a)
                } else {
                    at(b)
                }
            }
        };
        v.push(value);
    }
    roots.iter().map(|r| v[r.index()]).collect()
}
