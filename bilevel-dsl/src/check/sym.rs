//! Arrays of problems with data: vectors and matrices whose sizes are `dim`s bound at run time.
//!
//! Such an array is never expanded into scalars. It is one expression, its *element*, of loop variables that
//! stand for its indices: `y` is `y[k]` of a placeholder `k`, `X[i]` is `X[i][k]`, `A * y` is
//! `Σ_l A[k][l] · y[l]`. Indexing substitutes a loop index (or a constant) for the placeholder; reductions
//! (`sum`, `dot`, `norm2`) bind it in a `Sum` node, which the code generator turns into a loop.

use super::{Binding, Checker, Value};
use crate::ast::*;
use crate::dag::{Array, Dag, ExprId, Extent, Node};
use crate::model::{DataItem, Variable};

/// A vector or matrix given by its element.
#[derive(Clone, Debug)]
pub(crate) struct Sym {
    /// One extent per axis: one for a vector, two for a matrix.
    pub shape: Vec<Extent>,
    /// The loop variable standing for each axis in `elem`.
    pub vars: Vec<u32>,
    /// The element at the indices `vars`.
    pub elem: ExprId,
    /// The shape as the user wrote it (`N`, `N×p`), for messages.
    pub label: String,
}

impl Sym {
    pub fn describe(&self) -> String {
        match self.shape.len() {
            1 => format!("a vector of length {}", self.label),
            _ => format!("a {} matrix", self.label),
        }
    }
}

/// The elementwise operations on numbers (`+`, `min`, …).
pub(super) type BinFn = fn(&mut Dag, ExprId, ExprId) -> ExprId;

impl Checker {
    /// How an extent reads to the user.
    pub(super) fn extent_name(&self, e: Extent) -> String {
        e.name(&self.dims)
    }

    /// An array of this shape whose element `f` builds from the index nodes of fresh loop variables.
    pub(super) fn new_sym(&mut self, shape: Vec<Extent>, f: impl FnOnce(&mut Dag, &[ExprId]) -> ExprId) -> Sym {
        let vars: Vec<u32> = shape.iter().map(|e| self.dag.new_loop(*e)).collect();
        let idx: Vec<ExprId> = vars.iter().map(|k| self.dag.insert(Node::Idx(*k))).collect();
        let elem = f(&mut self.dag, &idx);
        let label = shape.iter().map(|e| self.extent_name(*e)).collect::<Vec<_>>().join("×");
        Sym { shape, vars, elem, label }
    }

    /// The element of `s` at the index nodes `idx` (one per axis).
    pub(super) fn sym_at(&mut self, s: &Sym, idx: &[ExprId]) -> ExprId {
        let pairs: Vec<(u32, ExprId)> = s.vars.iter().copied().zip(idx.iter().copied()).collect();
        self.dag.subst(s.elem, &pairs)
    }

    /// `dim N;`
    pub(super) fn dim(&mut self, name: &Ident) {
        self.rust_name(name, "a `dim`");
        let d = self.dims.len() as u32;
        if !self.env.contains_key(&name.name) {
            self.dims.push(name.name.clone());
            self.dim_spans.push(name.span.clone());
        }
        let size = self.dag.insert(Node::Size(d));
        self.bind(name, "a `dim`", Value::Num(size));
    }

    /// The extents of a type's sizes, or an error for a size that is not a number or a `dim`.
    fn extents(&mut self, shape: &[Size]) -> Option<Vec<Extent>> {
        let mut out = Vec::new();
        for size in shape {
            match size {
                Size::Fixed(0, s) => {
                    self.error_hint(s.clone(), "a size must be at least 1", "write `real` for a number");
                    return None;
                }
                Size::Fixed(k, _) => out.push(Extent::Fixed(*k)),
                Size::Named(n) => match self.dims.iter().position(|d| *d == n.name) {
                    Some(d) => out.push(Extent::Dim(d as u32)),
                    None => {
                        let msg = format!("cannot find the size `{}`", n.name);
                        let hint = format!("declare it with `dim {};` before this use", n.name);
                        self.error_hint(n.span.clone(), msg, hint);
                        return None;
                    }
                },
            }
        }
        Some(out)
    }

    /// `data X: real[N, p];`
    pub(super) fn data_item(&mut self, name: &Ident, shape: &[Size], sparse: bool, type_span: &Span, docs: &[String]) {
        self.rust_name(name, "a `data` item");
        let Some(extents) = self.extents(shape) else {
            return self.bind(name, "a `data` item", Value::Error);
        };
        if extents.is_empty() {
            let hint = "a data item is a vector `real[N]` or a matrix `real[N, p]`; use `param` for a number";
            self.error_hint(type_span.clone(), "a `data` item cannot be a number", hint);
            return self.bind(name, "a `data` item", Value::Error);
        }
        if sparse && extents.len() != 2 {
            let hint = "write a sparse matrix as `sparse real[N, p]`; a vector is stored dense: `real[N]`";
            self.error_hint(type_span.clone(), "a `sparse` data item must be a matrix", hint);
            return self.bind(name, "a `data` item", Value::Error);
        }
        let d = self.data.len() as u32;
        let sym =
            self.new_sym(extents.clone(), |dag, idx| dag.insert(Node::At(Array::Data(d), idx[0], idx.get(1).copied())));
        if !self.env.contains_key(&name.name) {
            self.data.push(DataItem { name: name.name.clone(), docs: docs.to_vec(), shape: extents, sparse });
        }
        self.bind(name, "a `data` item", Value::Sym(sym));
    }

    /// An upper or lower variable of a problem with data: a number, a vector or a matrix.
    pub(super) fn array_variable(&mut self, level: Level, name: &Ident, shape: &[Size]) {
        let Some(extents) = self.extents(shape) else { return };
        if self.second_variable(level, name) {
            return;
        }
        let array = if level == Level::Upper { Array::X } else { Array::Y };
        let value = if extents.is_empty() {
            let zero = self.dag.constant(0.0);
            Value::Num(self.dag.insert(Node::At(array, zero, None)))
        } else {
            Value::Sym(
                self.new_sym(extents.clone(), |dag, idx| dag.insert(Node::At(array, idx[0], idx.get(1).copied()))),
            )
        };
        let dim = extents.iter().map(|e| if let Extent::Fixed(n) = e { *n } else { 0 }).product::<usize>();
        let var = Variable { name: name.name.clone(), dim, scalar: extents.is_empty(), shape: extents };
        self.declare_variable(level, name, var, value);
    }

    /// Applies `f` to each element.
    pub(super) fn sym_map(&mut self, s: Sym, f: impl Fn(&mut Dag, ExprId) -> ExprId) -> Sym {
        let elem = f(&mut self.dag, s.elem);
        Sym { elem, ..s }
    }

    /// `op` between the elements of two arrays of one shape.
    pub(super) fn sym_zip(
        &mut self,
        a: Sym,
        b: Sym,
        span: &Span,
        verb: &str,
        op: impl Fn(&mut Dag, ExprId, ExprId) -> ExprId,
    ) -> Value {
        if a.shape != b.shape {
            let msg = format!("cannot {verb} {} and {}", a.describe(), b.describe());
            let hint = "elementwise operations need arrays of the same sizes";
            self.error_hint(span.clone(), msg, hint);
            return Value::Error;
        }
        let idx: Vec<ExprId> = a.vars.iter().map(|k| self.dag.insert(Node::Idx(*k))).collect();
        let eb = self.sym_at(&b, &idx);
        let elem = op(&mut self.dag, a.elem, eb);
        Value::Sym(Sym { elem, ..a })
    }

    /// The sum of all elements.
    pub(super) fn sym_total(&mut self, s: &Sym) -> ExprId {
        let fresh: Vec<u32> = s.shape.iter().map(|e| self.dag.new_loop(*e)).collect();
        let idx: Vec<ExprId> = fresh.iter().map(|k| self.dag.insert(Node::Idx(*k))).collect();
        let elem = self.sym_at(s, &idx);
        self.dag.sum_over(&fresh, elem)
    }

    /// `mean(v)`: the sum of every element over their count, each axis over a `dim` a sampled loop (so a
    /// stochastic method averages over a batch of it, as `mean(i in 0..N: v[i])`).
    pub(super) fn sym_mean(&mut self, s: &Sym) -> ExprId {
        let fresh: Vec<u32> = s.shape.iter().map(|e| self.dag.new_sampled_loop(*e)).collect();
        let idx: Vec<ExprId> = fresh.iter().map(|k| self.dag.insert(Node::Idx(*k))).collect();
        let elem = self.sym_at(s, &idx);
        let total = self.dag.sum_over(&fresh, elem);
        let one = self.dag.constant(1.0);
        let count = fresh.iter().fold(one, |acc, k| {
            let n = self.dag.count(*k);
            self.dag.mul(acc, n)
        });
        self.dag.div(total, count)
    }

    /// `dot(u, v)` of two vectors of one length.
    pub(super) fn sym_dot(&mut self, u: Sym, v: Sym, span: &Span) -> Value {
        if u.shape.len() != 1 {
            let msg = format!("`dot` needs two vectors, found {} and {}", u.describe(), v.describe());
            self.error(span.clone(), msg);
            return Value::Error;
        }
        match self.sym_zip(u, v, span, "take `dot` of", Dag::mul) {
            Value::Sym(p) => Value::Num(self.sym_total(&p)),
            other => other,
        }
    }

    /// `A * v`, `v * A` and `A * B` with at least one array of symbolic size.
    pub(super) fn sym_product(&mut self, a: Sym, b: Sym, span: &Span) -> Value {
        let (ra, rb) = (a.shape.len(), b.shape.len());
        // The axis of `a` and of `b` that the product sums over.
        let inner = (a.shape[ra - 1], b.shape[0]);
        if ra == 1 && rb == 1 {
            let msg = format!("cannot multiply two vectors ({} and {})", a.describe(), b.describe());
            self.error_hint(span.clone(), msg, "write `dot(u, v)` for the inner product");
            return Value::Error;
        }
        if inner.0 != inner.1 {
            let msg = format!("cannot multiply {} by {}: the inner sizes differ", a.describe(), b.describe());
            self.error(span.clone(), msg);
            return Value::Error;
        }
        let shape: Vec<Extent> = a.shape[..ra - 1].iter().chain(&b.shape[1..]).copied().collect();
        let k = self.dag.new_loop(inner.0);
        let kk = self.dag.insert(Node::Idx(k));
        let out = self.new_sym(shape, |_, _| kk);
        let (outer_a, outer_b) = out.vars.split_at(ra - 1);
        let ia: Vec<ExprId> = outer_a.iter().map(|v| self.dag.insert(Node::Idx(*v))).chain([kk]).collect();
        let ib: Vec<ExprId> = [kk].into_iter().chain(outer_b.iter().map(|v| self.dag.insert(Node::Idx(*v)))).collect();
        let (ea, eb) = (self.sym_at(&a, &ia), self.sym_at(&b, &ib));
        let prod = self.dag.mul(ea, eb);
        let elem = self.dag.sum(k, prod);
        Value::Sym(Sym { elem, ..out })
    }

    /// `s[index]` for an array of a problem with data: a loop index or a constant in range.
    pub(super) fn sym_index(&mut self, s: Sym, index: &Expr, what: &str) -> Value {
        let axis = s.shape[0];
        let node = match self.expr(index) {
            Value::Index(node, extent) => {
                if extent != axis {
                    let msg = format!(
                        "the index runs over 0..{} but {what} has length {}",
                        self.extent_name(extent),
                        self.extent_name(axis)
                    );
                    let hint = "a loop index can only index arrays whose size is the loop's range";
                    self.error_hint(index.span.clone(), msg, hint);
                    return Value::Error;
                }
                node
            }
            Value::Error => return Value::Error,
            Value::Num(id) => match (self.dag.as_const(id), axis) {
                (Some(c), Extent::Fixed(n)) if c.fract() == 0.0 && c >= 0.0 && (c as usize) < n => id,
                (Some(c), Extent::Fixed(n)) if c.fract() == 0.0 => {
                    let msg = format!("index {c} is out of range for {what}, which has length {n}");
                    let hint = format!("indices start at 0, so the last one is {}", n - 1);
                    self.error_hint(index.span.clone(), msg, hint);
                    return Value::Error;
                }
                (Some(_), Extent::Dim(d)) => {
                    let msg = format!(
                        "a constant index into {what}, whose length {} is known only at run time",
                        self.dims[d as usize]
                    );
                    let hint = format!("index it with the variable of `sum(i in 0..{}: ...)`", self.dims[d as usize]);
                    self.error_hint(index.span.clone(), msg, hint);
                    return Value::Error;
                }
                _ => {
                    let hint = "an index is a constant integer or the variable of a `sum`";
                    self.error_hint(index.span.clone(), "an index must be a constant integer or a loop index", hint);
                    return Value::Error;
                }
            },
            other => {
                let msg = format!("an index must be an integer, found {}", other.describe());
                self.error(index.span.clone(), msg);
                return Value::Error;
            }
        };
        let first = [(s.vars[0], node)];
        let elem = self.dag.subst(s.elem, &first);
        if s.shape.len() == 1 {
            return Value::Num(elem);
        }
        let label = self.extent_name(s.shape[1]);
        Value::Sym(Sym { shape: s.shape[1..].to_vec(), vars: s.vars[1..].to_vec(), elem, label })
    }

    /// `sum(i in 0..N: body)` (or `mean`) over a `dim`: a loop, never unrolled.
    pub(super) fn sym_sum(&mut self, var: &Ident, d: u32, body: &Expr, mean: bool) -> Value {
        let k = if mean { self.dag.new_sampled_loop(Extent::Dim(d)) } else { self.dag.new_loop(Extent::Dim(d)) };
        let index = self.dag.insert(Node::Idx(k));
        let saved = self.env.remove(&var.name);
        self.env.insert(var.name.clone(), Binding { value: Value::Index(index, Extent::Dim(d)), kind: "a sum index" });
        let v = self.expr(body);
        self.env.remove(&var.name);
        if let Some(prev) = saved {
            self.env.insert(var.name.clone(), prev);
        }
        let count = self.dag.count(k);
        let reduce = |dag: &mut Dag, e: ExprId| {
            let s = dag.sum(k, e);
            if mean {
                dag.div(s, count)
            } else {
                s
            }
        };
        match v {
            Value::Num(e) => Value::Num(reduce(&mut self.dag, e)),
            Value::Sym(s) => Value::Sym(self.sym_map(s, reduce)),
            Value::Vec(v) => Value::Vec(v.into_iter().map(|e| reduce(&mut self.dag, e)).collect()),
            Value::Error => Value::Error,
            other => {
                self.error(
                    body.span.clone(),
                    format!("the summand must be a number or an array, not {}", other.describe()),
                );
                Value::Error
            }
        }
    }
}
