//! The checked problem: dimensions, parameters, box, start point and the two objectives as DAG nodes.

use crate::ast::Span;
use crate::dag::{Dag, ExprId};

/// A `param`: a named constant that becomes a public field of the generated struct.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// Its name (the field name).
    pub name: String,
    /// Its doc comment lines.
    pub docs: Vec<String>,
    /// Its default value, one entry per component.
    pub default: Vec<f64>,
    /// Whether it was declared as a number (an `f64` field) rather than a vector (an `[f64; k]` field).
    pub scalar: bool,
    /// The index of its first component among all parameter components (the `Param` nodes of the DAG).
    pub offset: usize,
}

/// A variable (`upper x` or `lower y`).
#[derive(Clone, Debug, PartialEq)]
pub struct Variable {
    /// Its name.
    pub name: String,
    /// Its dimension.
    pub dim: usize,
    /// Whether it was declared as a number (`real`) rather than a vector (`real[k]`).
    pub scalar: bool,
}

/// A checked problem, ready for differentiation and code generation.
#[derive(Clone, Debug)]
pub struct Model {
    /// The problem's name.
    pub name: String,
    /// Where the name was written.
    pub name_span: Span,
    /// Doc comment lines of the problem.
    pub docs: Vec<String>,
    /// The upper variable `x ∈ Rⁿ`.
    pub x: Variable,
    /// The lower variable `y ∈ Rᵐ`.
    pub y: Variable,
    /// The parameters in declaration order.
    pub params: Vec<Param>,
    /// The box on `x`, `(lo, hi)` per component, if one was declared.
    pub bounds: Option<(Vec<f64>, Vec<f64>)>,
    /// The start point `(x₀, y₀)` (zero where not declared).
    pub start: (Vec<f64>, Vec<f64>),
    /// The expression DAG.
    pub dag: Dag,
    /// The upper objective `F`.
    pub upper: ExprId,
    /// The lower objective `G`.
    pub lower: ExprId,
}

impl Model {
    /// The default values of all parameter components, in DAG `Param` order.
    pub fn param_defaults(&self) -> Vec<f64> {
        self.params.iter().flat_map(|p| p.default.iter().copied()).collect()
    }
}
