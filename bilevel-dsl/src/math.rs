//! Derivatives in readable math notation (what `bilevel derive` prints): the objectives, their gradients and the
//! second-order blocks the algorithms use, as formulas over the problem's own names. A subexpression used more
//! than once is written once, as `t1 = …`, and referred to by name.
//!
//! ```
//! let model = bilevel_dsl::compile("problem P { upper x: real; lower y: real[2]; \
//!     minimize upper: (x - y[1])^2; minimize lower: y[0]^2 - x * y[0] + y[1]^2; }").unwrap();
//! let text = bilevel_dsl::math::derivation(&model);
//! assert!(text.contains("∇y G[0] = 2 * y[0] - x"), "{text}");
//! assert!(text.contains("∇²xy G[0][0] = -1"), "{text}");
//! ```

use std::collections::HashMap;
use std::fmt::Write;

use crate::dag::{Array, Cmp, Dag, ExprId, Func, Node};
use crate::diff::{derivatives, element_adjoints, hvp_tangents, Block};
use crate::model::Model;

/// The derivation of a problem: for a problem without data, `F`, `G`, their gradients and Hessian blocks in `y`
/// (structural zeros left out); for a problem with data, `F`, `G`, the gradient of each element and the
/// Hessian–vector products in `y`, as sums over the samples.
pub fn derivation(model: &Model) -> String {
    let mut dag = model.dag.clone();
    let mut out = format!("problem {}: {}\n", model.name, signature(model));
    let objectives = [("F", model.upper), ("G", model.lower)];
    for (name, f) in objectives {
        let lines =
            if model.has_data() { data_lines(&mut dag, name, f) } else { dense_lines(&mut dag, model, name, f) };
        let roots: Vec<ExprId> = lines.iter().map(|l| l.value).collect();
        let printer = Printer::new(&dag, model, &roots);
        out.push('\n');
        for (k, &id) in printer.shared.iter().enumerate() {
            let _ = writeln!(out, "  t{} = {}", k + 1, printer.definition(id));
        }
        for line in &lines {
            let label = match line.element {
                Some(e) => line.label.replace("{}", &printer.node(e, 0)),
                None => line.label.clone(),
            };
            let _ = writeln!(out, "{label} = {}", printer.expr(line.value, 0));
        }
    }
    out
}

/// One line of a derivation: `label = value`, with `{}` in the label standing for the variable element
/// `element` (in a problem with data, an element with a loop index stands for all of them).
struct Line {
    label: String,
    element: Option<ExprId>,
    value: ExprId,
}

impl Line {
    fn new(label: String, value: ExprId) -> Line {
        Line { label, element: None, value }
    }
}

/// `x ∈ Rⁿ, y ∈ Rᵐ` in the problem's names.
fn signature(model: &Model) -> String {
    let var = |v: &crate::model::Variable| match (v.scalar, v.shape.len()) {
        (true, _) => format!("{} ∈ R", v.name),
        (false, 0) => format!("{} ∈ R^{}", v.name, v.dim),
        (false, _) => format!("{} (sized by the data)", v.name),
    };
    format!("upper {}, lower {}", var(&model.x), var(&model.y))
}

/// The lines of one objective of a problem without data: value, gradients, `∇²yy` and `∇²xy`.
fn dense_lines(dag: &mut Dag, model: &Model, name: &str, f: ExprId) -> Vec<Line> {
    let d = derivatives(dag, (model.x.dim, model.y.dim), f);
    let mut lines = vec![Line::new(format!("{name}({}, {})", model.x.name, model.y.name), d.value)];
    let index = |scalar: bool, i: usize| if scalar { String::new() } else { format!("[{i}]") };
    let grad = |v: &crate::model::Variable, g: &[ExprId]| -> Vec<Line> {
        g.iter().enumerate().map(|(i, &g)| Line::new(format!("∇{} {name}{}", v.name, index(v.scalar, i)), g)).collect()
    };
    lines.extend(grad(&model.x, &d.grad_x));
    lines.extend(grad(&model.y, &d.grad_y));
    let (x, y) = (&model.x.name, &model.y.name);
    let block = |label: String, b: &Block| -> Vec<Line> {
        b.entries.iter().map(|&(i, j, id)| Line::new(format!("{label} {name}[{i}][{j}]"), id)).collect()
    };
    lines.extend(block(format!("∇²{y}{y}"), &d.yy));
    lines.extend(block(format!("∇²{x}{y}"), &d.xy));
    lines
}

/// The lines of one objective of a problem with data: the value, `∂/∂` each variable element it reads (an element
/// with a loop index stands for all of them), and the Hessian–vector products `(∇²yy · v)` and `(∇²xy · v)` by
/// element, `v` a direction in the space of `y`.
fn data_lines(dag: &mut Dag, name: &str, f: ExprId) -> Vec<Line> {
    let elements = element_adjoints(dag, f);
    let adjs: Vec<ExprId> = elements.iter().map(|(_, a)| *a).collect();
    let products = hvp_tangents(dag, &adjs, Array::DirY);
    let mut lines = vec![Line::new(name.to_string(), f)];
    let element = |label: String, e: ExprId, value: ExprId| Line { label, element: Some(e), value };
    lines.extend(elements.iter().map(|&(e, a)| element(format!("∂{name}/∂{{}}"), e, a)));
    for (&(e, _), &p) in elements.iter().zip(&products) {
        if dag.as_const(p) != Some(0.0) {
            let block = if matches!(dag.node(e), Node::At(Array::X, ..)) { "∇²xy" } else { "∇²yy" };
            lines.push(element(format!("({block} {name} · v) at {{}}"), e, p));
        }
    }
    lines
}

/// Binding strengths, loosest first.
const CMP: u8 = 1;
const ADD: u8 = 2;
const MUL: u8 = 3;
const NEG: u8 = 4;
const POW: u8 = 5;
const ATOM: u8 = 6;

/// Writes nodes of one DAG as formulas, naming the shared ones.
struct Printer<'a> {
    dag: &'a Dag,
    model: &'a Model,
    /// The shared nodes in evaluation order, each printed once as `tK`.
    shared: Vec<ExprId>,
    names: HashMap<ExprId, String>,
    /// The loop variables bound by the sums being printed: written `jK` (a free index is `iK`), so that a sum
    /// over a variable that is also an element's index reads unambiguously.
    bound: std::cell::RefCell<Vec<u32>>,
}

impl<'a> Printer<'a> {
    fn new(dag: &'a Dag, model: &'a Model, roots: &[ExprId]) -> Printer<'a> {
        let cone = dag.cone(roots);
        let mut uses: HashMap<ExprId, usize> = HashMap::new();
        for &id in &cone {
            for c in dag.node(id).children() {
                *uses.entry(c).or_default() += 1;
            }
        }
        let compound = |id: ExprId| {
            !matches!(
                dag.node(id),
                Node::Const(_)
                    | Node::Bool(_)
                    | Node::X(_)
                    | Node::Y(_)
                    | Node::Param(_)
                    | Node::Idx(_)
                    | Node::Size(_)
                    | Node::Batch(_)
                    | Node::At(..)
            )
        };
        // Inside a sum the loop variable changes: only nodes without free loop variables are named.
        let shared: Vec<ExprId> = cone
            .into_iter()
            .filter(|&id| uses.get(&id).copied().unwrap_or(0) > 1 && compound(id) && dag.free(id).is_empty())
            .collect();
        let names = shared.iter().enumerate().map(|(k, &id)| (id, format!("t{}", k + 1))).collect();
        Printer { dag, model, shared, names, bound: std::cell::RefCell::new(Vec::new()) }
    }

    /// The formula of a shared node (not its name).
    fn definition(&self, id: ExprId) -> String {
        self.node(id, 0)
    }

    /// The formula of `id`, parenthesized if it binds looser than `outer`.
    fn expr(&self, id: ExprId, outer: u8) -> String {
        match self.names.get(&id) {
            Some(name) => name.clone(),
            None => self.node(id, outer),
        }
    }

    fn node(&self, id: ExprId, outer: u8) -> String {
        let (text, strength) = self.form(id);
        if strength < outer {
            format!("({text})")
        } else {
            text
        }
    }

    /// The text of a node and how strongly it binds.
    fn form(&self, id: ExprId) -> (String, u8) {
        let e = |c: ExprId, s: u8| self.expr(c, s);
        match self.dag.node(id) {
            Node::Const(bits) => {
                let v = f64::from_bits(bits);
                (short(v), if v < 0.0 { NEG } else { ATOM })
            }
            Node::Bool(b) => (b.to_string(), ATOM),
            Node::X(i) => (element(&self.model.x.name, self.model.x.scalar, i), ATOM),
            Node::Y(i) => (element(&self.model.y.name, self.model.y.scalar, i), ATOM),
            Node::Param(k) => (self.param(k as usize), ATOM),
            Node::Add(a, b) => match self.dag.node(b) {
                Node::Neg(c) => (format!("{} - {}", e(a, ADD), e(c, MUL)), ADD),
                _ => (format!("{} + {}", e(a, ADD), e(b, ADD)), ADD),
            },
            Node::Sub(a, b) => (format!("{} - {}", e(a, ADD), e(b, MUL)), ADD),
            Node::Mul(a, b) => (format!("{} * {}", e(a, MUL), e(b, NEG)), MUL),
            Node::Div(a, b) => (format!("{} / {}", e(a, MUL), e(b, NEG)), MUL),
            Node::Neg(a) => (format!("-{}", e(a, NEG)), NEG),
            Node::Powi(a, k) => (format!("{}^{k}", e(a, ATOM)), POW),
            Node::Pow(a, b) => (format!("{}^{}", e(a, ATOM), e(b, ATOM)), POW),
            Node::Func(f, a) => (format!("{}({})", func(f), e(a, 0)), ATOM),
            Node::Cmp(op, a, b) => (format!("{} {} {}", e(a, ADD), cmp(op), e(b, ADD)), CMP),
            Node::And(a, b) => (format!("{} and {}", e(a, CMP), e(b, CMP)), 0),
            Node::Or(a, b) => (format!("{} or {}", e(a, CMP), e(b, CMP)), 0),
            Node::Not(a) => (format!("not {}", e(a, CMP)), 0),
            Node::Select(c, a, b) => (format!("if {} then {} else {}", e(c, 0), e(a, 0), e(b, 0)), 0),
            Node::Detach(a) => self.form_of_named(a),
            Node::Idx(k) => (self.index(k), ATOM),
            Node::Size(d) | Node::Batch(d) => {
                (self.model.dims.get(d as usize).cloned().unwrap_or_else(|| format!("dim{d}")), ATOM)
            }
            Node::At(array, r, c) => {
                let name = match array {
                    Array::X => self.model.x.name.clone(),
                    Array::Y => self.model.y.name.clone(),
                    Array::DirX => "u".to_string(),
                    Array::DirY => "v".to_string(),
                    Array::Data(k) => self.model.data.get(k as usize).map_or(format!("data{k}"), |d| d.name.clone()),
                };
                let col = c.map(|c| format!("[{}]", e(c, 0))).unwrap_or_default();
                (format!("{name}[{}]{col}", e(r, 0)), ATOM)
            }
            Node::Sum(k, body) => (format!("Σ_j{k} {}", self.bound_in(k, || e(body, MUL))), ADD),
            Node::Max(k, body) => (format!("max_j{k} {}", self.bound_in(k, || e(body, MUL))), ADD),
        }
    }

    /// Loop variable `k`: `jK` where a sum being printed binds it, `iK` where it is free.
    fn index(&self, k: u32) -> String {
        if self.bound.borrow().contains(&k) {
            format!("j{k}")
        } else {
            format!("i{k}")
        }
    }

    /// `print` with loop variable `k` bound.
    fn bound_in(&self, k: u32, print: impl FnOnce() -> String) -> String {
        self.bound.borrow_mut().push(k);
        let text = print();
        self.bound.borrow_mut().pop();
        text
    }

    /// The form of `id`, or its name if it has one.
    fn form_of_named(&self, id: ExprId) -> (String, u8) {
        match self.names.get(&id) {
            Some(name) => (name.clone(), ATOM),
            None => self.form(id),
        }
    }

    /// A param component by its name.
    fn param(&self, k: usize) -> String {
        match self.model.params.iter().find(|p| (p.offset..p.offset + p.default.len()).contains(&k)) {
            Some(p) if p.scalar => p.name.clone(),
            Some(p) => format!("{}[{}]", p.name, k - p.offset),
            None => format!("param{k}"),
        }
    }
}

/// `x` or `x[i]`.
fn element(name: &str, scalar: bool, i: u32) -> String {
    if scalar {
        name.to_string()
    } else {
        format!("{name}[{i}]")
    }
}

/// A number as short as it reads exactly.
fn short(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn func(f: Func) -> &'static str {
    match f {
        Func::Sin => "sin",
        Func::Cos => "cos",
        Func::Tan => "tan",
        Func::Exp => "exp",
        Func::Log => "log",
        Func::Sqrt => "sqrt",
        Func::Tanh => "tanh",
        Func::Sigmoid => "sigmoid",
        Func::Softplus => "softplus",
    }
}

fn cmp(op: Cmp) -> &'static str {
    match op {
        Cmp::Lt => "<",
        Cmp::Le => "<=",
        Cmp::Gt => ">",
        Cmp::Ge => ">=",
        Cmp::Eq => "==",
        Cmp::Ne => "!=",
    }
}
