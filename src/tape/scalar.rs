//! The arithmetic both kinds of tape share: the scalar operations of a DAG node and how they evaluate (the
//! same formulas the generated code uses).

use bilevel_dsl::dag::{Cmp, ExprId, Func, Node};

/// An operation of one operand.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Unary {
    /// The operand itself (a `Detach`: a value with no derivative).
    Copy,
    Neg,
    Powi(i32),
    Func(Func),
    Not,
}

/// An operation of two operands.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Cmp(Cmp),
    And,
    Or,
}

/// The scalar operation of a node and its operands, if it is one.
pub(super) enum Scalar {
    Unary(Unary, ExprId),
    Binary(Binary, ExprId, ExprId),
}

/// The scalar operation of `node`, or `None` for leaves, selects, loops and reads.
pub(super) fn scalar(node: Node) -> Option<Scalar> {
    let (u, b) = (Scalar::Unary, Scalar::Binary);
    Some(match node {
        Node::Add(x, y) => b(Binary::Add, x, y),
        Node::Sub(x, y) => b(Binary::Sub, x, y),
        Node::Mul(x, y) => b(Binary::Mul, x, y),
        Node::Div(x, y) => b(Binary::Div, x, y),
        Node::Pow(x, y) => b(Binary::Pow, x, y),
        Node::Cmp(op, x, y) => b(Binary::Cmp(op), x, y),
        Node::And(x, y) => b(Binary::And, x, y),
        Node::Or(x, y) => b(Binary::Or, x, y),
        Node::Neg(x) => u(Unary::Neg, x),
        Node::Powi(x, k) => u(Unary::Powi(k), x),
        Node::Func(f, x) => u(Unary::Func(f), x),
        Node::Not(x) => u(Unary::Not, x),
        Node::Detach(x) => u(Unary::Copy, x),
        _ => return None,
    })
}

pub(super) fn unary(f: Unary, a: f64) -> f64 {
    match f {
        Unary::Copy => a,
        Unary::Neg => -a,
        Unary::Powi(k) => a.powi(k),
        Unary::Func(f) => f.apply(a),
        Unary::Not => truth(a == 0.0),
    }
}

pub(super) fn binary(f: Binary, a: f64, b: f64) -> f64 {
    match f {
        Binary::Add => a + b,
        Binary::Sub => a - b,
        Binary::Mul => a * b,
        Binary::Div => a / b,
        Binary::Pow => a.powf(b),
        Binary::Cmp(c) => truth(c.apply(a, b)),
        Binary::And => truth(a != 0.0 && b != 0.0),
        Binary::Or => truth(a != 0.0 || b != 0.0),
    }
}

/// A condition as a number: 1 or 0.
pub(super) fn truth(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}
