//! Direct evaluators of DAG nodes at a point, the oracles of derivative tests: [`eval`] for problems without
//! data, [`Loops`] for the loop programs of problems with data.

use std::collections::HashMap;

use crate::dag::{Array, Dag, ExprId, Extent, Node};
use crate::model::Model;
use crate::program::{Item, Place, Program};

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
            Node::Idx(_) | Node::Size(_) | Node::Batch(_) | Node::At(..) | Node::Sum(..) | Node::Max(..) => f64::NAN,
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

/// The numbers a problem with data is evaluated at: variables, a direction, params and data.
#[derive(Clone, Copy, Debug)]
pub struct Point<'a> {
    /// The upper variable, row by row.
    pub x: &'a [f64],
    /// The lower variable, row by row.
    pub y: &'a [f64],
    /// A direction in the space of `x` (`Array::DirX`), if a program reads one.
    pub u: &'a [f64],
    /// A direction in the space of `y` (`Array::DirY`).
    pub v: &'a [f64],
    /// The flattened params.
    pub params: &'a [f64],
    /// Each data item's values row by row, with its number of columns (1 for a vector).
    pub data: &'a [(&'a [f64], usize)],
    /// The value of each `dim`.
    pub sizes: &'a [usize],
}

/// What a [`Program`] accumulates: `value` and the two output vectors (`gx`/`gy` or `hx`/`hy`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outputs {
    /// The scalar accumulation.
    pub value: f64,
    /// The output laid out like `x`.
    pub x: Vec<f64>,
    /// The output laid out like `y`.
    pub y: Vec<f64>,
}

/// A direct evaluator of the loop programs of problems with data: the oracle of property tests of the generated
/// code, and a reference for the command-line tool. Each node is evaluated once per value of its free loop
/// variables (memoized), so it is meant for small data.
pub struct Loops<'a> {
    dag: &'a Dag,
    model: &'a Model,
    point: Point<'a>,
    /// The current value of each loop variable.
    env: Vec<usize>,
    memo: HashMap<(ExprId, Vec<usize>), f64>,
}

impl<'a> Loops<'a> {
    /// An evaluator of nodes of `dag` (the model's DAG or a program's) at `point`.
    pub fn new(dag: &'a Dag, model: &'a Model, point: Point<'a>) -> Self {
        Loops { dag, model, point, env: Vec::new(), memo: HashMap::new() }
    }

    /// Runs a program's statements: the value and the two output vectors.
    pub fn run(&mut self, program: &Program) -> Outputs {
        let mut out = Outputs {
            value: 0.0,
            x: vec![0.0; self.len(&self.model.x.shape)],
            y: vec![0.0; self.len(&self.model.y.shape)],
        };
        self.items(&program.items, &mut out);
        out
    }

    fn len(&self, shape: &[Extent]) -> usize {
        shape.iter().map(|e| self.extent(*e)).product()
    }

    fn extent(&self, e: Extent) -> usize {
        match e {
            Extent::Fixed(n) => n,
            Extent::Dim(d) => self.point.sizes[d as usize],
        }
    }

    fn set(&mut self, k: u32, i: usize) {
        let k = k as usize;
        if self.env.len() <= k {
            self.env.resize(k + 1, 0);
        }
        self.env[k] = i;
    }

    fn items(&mut self, items: &[Item], out: &mut Outputs) {
        for item in items {
            match item {
                Item::Acc { place, positive, value } => {
                    let v = if *positive { self.value(*value) } else { -self.value(*value) };
                    match *place {
                        Place::Scalar(_) => out.value += v,
                        Place::At { array, row, col, .. } => {
                            let at = self.offset(array, row, col);
                            let target = if array == Array::X { &mut out.x } else { &mut out.y };
                            target[at] += v;
                        }
                    }
                }
                Item::Loop { var, items } => {
                    for i in 0..self.extent(self.dag.loop_var(*var).extent) {
                        self.set(*var, i);
                        self.items(items, out);
                    }
                }
            }
        }
    }

    /// The position of `[row]` or `[row][col]` in a variable (or direction) laid out like `x` or `y`.
    fn offset(&mut self, array: Array, row: ExprId, col: Option<ExprId>) -> usize {
        let upper = matches!(array, Array::X | Array::DirX);
        let shape = if upper { &self.model.x.shape } else { &self.model.y.shape };
        let cols = shape.get(1).map_or(1, |e| self.extent(*e));
        let r = self.value(row) as usize;
        r * cols + col.map_or(0, |c| self.value(c) as usize)
    }

    /// The value of node `id` at the current loop indices.
    pub fn value(&mut self, id: ExprId) -> f64 {
        let key = (id, self.dag.free(id).iter().map(|k| self.env.get(*k as usize).copied().unwrap_or(0)).collect());
        if let Some(v) = self.memo.get(&key) {
            return *v;
        }
        let truth = |b: bool| if b { 1.0 } else { 0.0 };
        let v = match self.dag.node(id) {
            Node::Const(bits) => f64::from_bits(bits),
            Node::Bool(b) => truth(b),
            Node::X(k) => self.point.x[k as usize],
            Node::Y(k) => self.point.y[k as usize],
            Node::Param(k) => self.point.params[k as usize],
            Node::Idx(k) => self.env[k as usize] as f64,
            Node::Size(d) | Node::Batch(d) => self.point.sizes[d as usize] as f64,
            Node::At(array, row, col) => self.element(array, row, col),
            Node::Sum(k, body) => self.reduce(k, body, 0.0, |acc, v| acc + v),
            Node::Max(k, body) => self.reduce(k, body, f64::NEG_INFINITY, f64::max),
            Node::Detach(a) => self.value(a),
            Node::Add(a, b) => self.value(a) + self.value(b),
            Node::Sub(a, b) => self.value(a) - self.value(b),
            Node::Mul(a, b) => self.value(a) * self.value(b),
            Node::Div(a, b) => self.value(a) / self.value(b),
            Node::Neg(a) => -self.value(a),
            Node::Powi(a, k) => self.value(a).powi(k),
            Node::Pow(a, b) => self.value(a).powf(self.value(b)),
            Node::Func(f, a) => f.apply(self.value(a)),
            Node::Cmp(op, a, b) => truth(op.apply(self.value(a), self.value(b))),
            Node::And(a, b) => truth(self.value(a) != 0.0 && self.value(b) != 0.0),
            Node::Or(a, b) => truth(self.value(a) != 0.0 || self.value(b) != 0.0),
            Node::Not(a) => truth(self.value(a) == 0.0),
            Node::Select(c, a, b) => {
                if self.value(c) != 0.0 {
                    self.value(a)
                } else {
                    self.value(b)
                }
            }
        };
        self.memo.insert(key, v);
        v
    }

    fn element(&mut self, array: Array, row: ExprId, col: Option<ExprId>) -> f64 {
        match array {
            Array::Data(d) => {
                let (values, cols) = self.point.data[d as usize];
                let r = self.value(row) as usize;
                values[r * cols + col.map_or(0, |c| self.value(c) as usize)]
            }
            _ => {
                let at = self.offset(array, row, col);
                let source = match array {
                    Array::X => self.point.x,
                    Array::Y => self.point.y,
                    Array::DirX => self.point.u,
                    _ => self.point.v,
                };
                source[at]
            }
        }
    }

    /// `combine` over the values of `body` for each value of loop variable `k`.
    fn reduce(&mut self, k: u32, body: ExprId, start: f64, combine: fn(f64, f64) -> f64) -> f64 {
        let saved = self.env.get(k as usize).copied().unwrap_or(0);
        let mut acc = start;
        for i in 0..self.extent(self.dag.loop_var(k).extent) {
            self.set(k, i);
            acc = combine(acc, self.value(body));
        }
        self.set(k, saved);
        acc
    }
}
