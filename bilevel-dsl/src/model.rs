//! The checked problem: dimensions, parameters, box, start point and the two objectives as DAG nodes.

use crate::ast::Span;
use crate::dag::{Dag, ExprId, Extent, Node};

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
    /// Its shape in a problem with data: empty for a number, one extent for a vector, two for a matrix
    /// (stored row by row). Empty in a problem without data, where `dim` says it all.
    pub shape: Vec<Extent>,
}

/// A `data` item: an array whose values are attached at run time.
#[derive(Clone, Debug, PartialEq)]
pub struct DataItem {
    /// Its name (a field of the generated struct).
    pub name: String,
    /// Its doc comment lines.
    pub docs: Vec<String>,
    /// Its shape: one extent for a vector, two for a matrix.
    pub shape: Vec<Extent>,
    /// Whether it is a sparse matrix, read along its rows' nonzeros.
    pub sparse: bool,
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
    /// The names of the `dim`s (sizes bound when data are attached), indexed by [`Extent::Dim`].
    pub dims: Vec<String>,
    /// The `data` items, indexed by `Array::Data`.
    pub data: Vec<DataItem>,
    /// The box on `x`, `(lo, hi)` per component, if one was declared (one value for every component in a
    /// problem with data).
    pub bounds: Option<(Vec<f64>, Vec<f64>)>,
    /// The start point `(x₀, y₀)` (zero where not declared; one value for every component in a problem with
    /// data).
    pub start: (Vec<f64>, Vec<f64>),
    /// The expression DAG.
    pub dag: Dag,
    /// The upper objective `F`.
    pub upper: ExprId,
    /// The lower objective `G`.
    pub lower: ExprId,
    /// Where the objectives are written (`minimize upper: …`, `minimize lower: …`), for errors found after
    /// checking (a derivative too large to generate).
    pub objective_spans: (Span, Span),
}

impl Model {
    /// Whether the problem has data or symbolic sizes: then it compiles to loops and derivative products
    /// instead of straight-line code and dense blocks.
    pub fn has_data(&self) -> bool {
        !self.dims.is_empty() || !self.data.is_empty()
    }

    /// The `dim`s objective `f` (`self.upper` or `self.lower`) takes `mean`s over, each once, in order: the
    /// sample dims of a stochastic method. An evaluation on a batch restricts the means over the dim when there
    /// is exactly one ([`Model::sampling`]).
    pub fn sample_dims(&self, f: ExprId) -> Vec<u32> {
        let reach = self.dag.reachable(&[f]);
        let mut dims: Vec<u32> = (0..reach.len())
            .filter(|i| reach[*i])
            .filter_map(|i| match self.dag.node(ExprId::from_index(i)) {
                Node::Sum(k, _) => self.dag.loop_var(k).sample_dim(),
                _ => None,
            })
            .collect();
        dims.sort_unstable();
        dims.dedup();
        dims
    }

    /// The one `dim` objective `f` takes its `mean`s over, if there is exactly one: what a batch restricts.
    pub fn sampling(&self, f: ExprId) -> Option<u32> {
        match self.sample_dims(f)[..] {
            [d] => Some(d),
            _ => None,
        }
    }

    /// The default values of all parameter components, in DAG `Param` order.
    pub fn param_defaults(&self) -> Vec<f64> {
        self.params.iter().flat_map(|p| p.default.iter().copied()).collect()
    }
}
