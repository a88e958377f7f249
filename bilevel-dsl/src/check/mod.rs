//! Semantic checks and expansion: resolves names, checks shapes and indices, and expands vector expressions
//! into scalar DAG nodes. Errors are collected (not stopped at), so the user sees them all at once.

use std::collections::HashMap;

use crate::ast::*;
use crate::dag::{Dag, ExprId, Extent, Node};
use crate::diag::Diagnostic;
use crate::model::{DataItem, Model, Param, Variable};

mod call;
mod expr;
mod sym;

pub(crate) use sym::Sym;

/// The value of an expression after expansion.
#[derive(Clone, Debug)]
enum Value {
    /// A number.
    Num(ExprId),
    /// A condition.
    Cond(ExprId),
    /// A vector.
    Vec(Vec<ExprId>),
    /// A matrix, as its rows.
    Mat(Vec<Vec<ExprId>>),
    /// A vector or matrix whose elements are given by one expression of loop variables (problems with data).
    Sym(Sym),
    /// A loop variable of a `sum` over a `dim`: it can only index.
    Index(ExprId, Extent),
    /// An expression that already has an error reported; silences follow-on errors.
    Error,
}

impl Value {
    fn describe(&self) -> String {
        match self {
            Value::Num(_) => "a number".into(),
            Value::Cond(_) => "a condition".into(),
            Value::Vec(v) => format!("a vector of length {}", v.len()),
            Value::Mat(m) => format!("a {}×{} matrix", m.len(), m.first().map_or(0, Vec::len)),
            Value::Sym(s) => s.describe(),
            Value::Index(..) => "a loop index".into(),
            Value::Error => "an invalid value".into(),
        }
    }
}

/// What a name refers to.
#[derive(Clone, Debug)]
struct Binding {
    value: Value,
    kind: &'static str,
}

/// Checks a parsed problem and expands it into a [`Model`], or returns every error found.
pub fn check(problem: &Problem) -> Result<Model, Vec<Diagnostic>> {
    let data_mode = problem.items.iter().any(|i| matches!(i.kind, ItemKind::Dim(_) | ItemKind::Data { .. }));
    let mut c = Checker { data_mode, ..Checker::default() };
    c.rust_name(&problem.name, "a problem");
    c.type_name(&problem.name);
    c.declarations(problem);
    c.definitions(problem);
    c.finish(problem)
}

#[derive(Default)]
struct Checker {
    dag: Dag,
    env: HashMap<String, Binding>,
    errors: Vec<Diagnostic>,
    x: Option<(Variable, Span)>,
    y: Option<(Variable, Span)>,
    params: Vec<Param>,
    bounds: Option<(Vec<f64>, Vec<f64>)>,
    start: (Option<Vec<f64>>, Option<Vec<f64>>),
    upper: Option<(ExprId, Span)>,
    lower: Option<(ExprId, Span)>,
    /// Names declared by `let`, with where, to explain a use before the declaration.
    lets: HashMap<String, Span>,
    /// The index names of the `sum`s and `mean`s checked so far, to explain a use outside them.
    sum_indices: Vec<String>,
    /// The levels whose objective was written (even if it has errors), so none is reported missing.
    objectives_written: Vec<Level>,
    /// The levels whose variable was declared (even if its type has errors), so none is reported missing.
    variables_written: Vec<Level>,
    /// Whether the problem declares a `dim` or `data`: then variables are arrays read through loops.
    data_mode: bool,
    /// The `dim`s in declaration order, and where each was declared.
    dims: Vec<String>,
    dim_spans: Vec<Span>,
    /// The `data` items in declaration order.
    data: Vec<DataItem>,
    /// The `sum`s being expanded, outermost first (where an expansion over budget is reported).
    sums: Vec<Span>,
    /// Whether the expansion went over [`MAX_EXPANSION`]; everything after it is an error, quickly.
    over_budget: bool,
}

/// The most DAG nodes the expansion of a problem to scalars may request (found or new). A sum of a sum over
/// 10⁵ terms each would otherwise build 10¹⁰ terms; problems whose size is in their data keep their loops (`dim`
/// and `data`) and cost nothing here.
pub const MAX_EXPANSION: u64 = 4_000_000;

/// Rust's strict and reserved keywords, which cannot be the names of generated types and fields.
const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
    "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self",
    "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract", "become",
    "box", "do", "final", "gen", "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Whether `name` can name the generated problem type: it starts with a capital letter, as Rust types do (a
/// lowercase name such as `y`, `t0` or `f64` would collide with the generated code's variables and types).
pub(crate) fn is_type_name(name: &str) -> bool {
    name.starts_with(char::is_uppercase)
}

/// The candidate closest to `name` by edit distance, if it is close enough to be a likely typo: one edit for
/// names of two to four characters, two for longer ones, none for a single letter (any letter is one edit from
/// any other), and never the name itself.
pub(crate) fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = match name.chars().count() {
        0 | 1 => return None,
        2..=4 => 1,
        _ => 2,
    };
    candidates
        .filter(|c| *c != name)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))
        .map(|(_, c)| c)
}

/// Edit distance over characters counting a swap of two neighbours as one edit (`bais` → `bias`), as typos go.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

const FUNCTIONS: &str = "sin, cos, tan, exp, log, sqrt, abs, tanh, sigmoid, softplus, min, max, clamp, huber, \
                         dot, norm2, norm, sum, mean, transpose, logsumexp, log_softmax, softmax";

impl Checker {
    /// A name in scope close to `name`, for a "did you mean" hint. Only the errors that will be shown look for one
    /// (past [`MAX_SHOWN`](crate::diag::MAX_SHOWN) they are counted, not rendered): the search is over every name
    /// in scope, which for thousands of errors among thousands of names would be quadratic.
    fn suggest(&self, name: &str) -> Option<&str> {
        if self.errors.len() >= crate::diag::MAX_SHOWN {
            return None;
        }
        closest(name, self.env.keys().map(String::as_str))
    }

    fn error(&mut self, span: Span, message: impl Into<String>) {
        self.errors.push(Diagnostic::new(span, message));
    }

    fn error_hint(&mut self, span: Span, message: impl Into<String>, hint: impl Into<String>) {
        self.errors.push(Diagnostic::new(span, message).hint(hint));
    }

    /// Reports a name that becomes a Rust identifier (the problem's type, a param's field) but is a Rust keyword.
    fn rust_name(&mut self, name: &Ident, what: &str) {
        if name.name == "_" {
            self.error_hint(name.span.clone(), format!("`_` cannot name {what}"), "choose a name");
        } else if RUST_KEYWORDS.contains(&name.name.as_str()) {
            let msg = format!("`{}` is a Rust keyword and cannot name {what}", name.name);
            self.error_hint(
                name.span.clone(),
                msg,
                "it becomes a Rust identifier in the generated code; choose another name",
            );
        }
    }

    /// Reports a problem name that cannot be the generated type's (see [`is_type_name`]), with the name
    /// capitalized as the hint.
    fn type_name(&mut self, name: &Ident) {
        let keyword = RUST_KEYWORDS.contains(&name.name.as_str()) || name.name == "_";
        if !keyword && !is_type_name(&name.name) {
            let mut capital = name.name.clone();
            if let Some(first) = capital.get(0..1) {
                capital.replace_range(0..1, &first.to_uppercase());
            }
            self.error_hint(
                name.span.clone(),
                format!("the problem name `{}` does not start with a capital letter", name.name),
                format!("it is the name of a Rust type; write it like one, e.g. `{capital}`"),
            );
        }
    }

    fn bind(&mut self, name: &Ident, kind: &'static str, value: Value) {
        if let Some(prev) = self.env.get(&name.name) {
            let hint = format!("`{}` is already declared as {}; choose another name", name.name, prev.kind);
            self.error_hint(name.span.clone(), format!("duplicate name `{}`", name.name), hint);
            return;
        }
        self.env.insert(name.name.clone(), Binding { value, kind });
    }

    /// Pass 1: variables, params and consts, in the order written.
    fn declarations(&mut self, problem: &Problem) {
        for item in &problem.items {
            match &item.kind {
                ItemKind::Dim(names) => names.iter().for_each(|n| self.dim(n)),
                ItemKind::Data { name, shape, type_span, sparse, value_span } => {
                    if let Some(at) = value_span {
                        let msg = "a `data` item gets its values when the problem is built, not in the problem";
                        let hint = "pass them to the generated `new` (from Rust or a file); for values fixed in the \
                                    text, write `const`";
                        self.error_hint(at.clone(), msg, hint);
                    }
                    self.data_item(name, shape, *sparse, type_span, &item.docs)
                }
                ItemKind::Var { level, name, shape, .. } => {
                    self.variables_written.push(*level);
                    if self.data_mode {
                        self.array_variable(*level, name, shape);
                    } else {
                        self.variable(*level, name, shape);
                    }
                    if !self.env.contains_key(&name.name) {
                        // Its type had an error: uses of the name are not reported again.
                        self.env.insert(name.name.clone(), Binding { value: Value::Error, kind: "a variable" });
                    }
                }
                ItemKind::Param { name, value } => self.param(name, value, &item.docs),
                ItemKind::Const { name, value } => {
                    let v = self.expr(value);
                    let ok = self.constant(&v, value.span.clone(), "a `const`").is_some();
                    self.bind(name, "a `const`", if ok { v } else { Value::Error });
                }
                ItemKind::Let { name, .. } => {
                    self.lets.entry(name.name.clone()).or_insert(name.span.clone());
                }
                _ => {}
            }
        }
    }

    fn variable(&mut self, level: Level, name: &Ident, shape: &[Size]) {
        let size = match shape {
            [] => None,
            [Size::Fixed(k, s)] => Some((*k, s.clone())),
            [Size::Named(n)] => {
                let hint = format!("declare it first with `dim {};` (sizes of data bound at run time)", n.name);
                self.error_hint(n.span.clone(), format!("cannot find the size `{}`", n.name), hint);
                return;
            }
            [_, second, ..] => {
                let msg = "a matrix variable needs symbolic sizes";
                let hint = "matrix variables are for problems with data: declare their sizes with `dim`";
                self.error_hint(second.span(), msg, hint);
                return;
            }
        };
        let dim = match &size {
            Some((0, s)) => {
                self.error_hint(
                    s.clone(),
                    "a variable needs at least one component",
                    "write `real` for a number or `real[k]` with k ≥ 1",
                );
                return;
            }
            Some((k, s)) if *k > 4096 => {
                self.error(
                    s.clone(),
                    format!("`real[{k}]` is too large for generated straight-line code (at most 4096)"),
                );
                return;
            }
            Some((k, _)) => *k,
            None => 1,
        };
        let var = Variable { name: name.name.clone(), dim, scalar: size.is_none(), shape: Vec::new() };
        if self.second_variable(level, name) {
            return;
        }
        let nodes: Vec<ExprId> = (0..dim as u32)
            .map(|i| self.dag.insert(if level == Level::Upper { Node::X(i) } else { Node::Y(i) }))
            .collect();
        let value = if var.scalar { Value::Num(nodes[0]) } else { Value::Vec(nodes) };
        self.declare_variable(level, name, var, value);
    }

    /// Binds the variable's name and records it as the level's variable.
    fn declare_variable(&mut self, level: Level, name: &Ident, var: Variable, value: Value) {
        let kind = if level == Level::Upper { "the upper variable" } else { "the lower variable" };
        let duplicate = self.env.contains_key(&name.name);
        self.bind(name, kind, value);
        if duplicate {
            return; // reported by `bind`; a later declaration may still be the level's variable
        }
        let entry = Some((var, name.span.clone()));
        match level {
            Level::Upper => self.x = entry,
            Level::Lower => self.y = entry,
        }
    }

    /// Reports a second variable of a level; true if there was one.
    fn second_variable(&mut self, level: Level, name: &Ident) -> bool {
        let (slot, word) = match level {
            Level::Upper => (&self.x, "upper"),
            Level::Lower => (&self.y, "lower"),
        };
        let Some((prev, _)) = slot else { return false };
        let msg = format!("a second `{word}` variable `{}`", name.name);
        let hint = format!(
            "a problem has one {word} variable (`{}`); use a vector `real[k]` for several components",
            prev.name
        );
        self.error_hint(name.span.clone(), msg, hint);
        true
    }

    fn param(&mut self, name: &Ident, value: &Expr, docs: &[String]) {
        self.rust_name(name, "a `param`");
        let v = self.expr(value);
        let scalar = matches!(v, Value::Num(_));
        if matches!(v, Value::Mat(_)) {
            self.error_hint(value.span.clone(), "a `param` must be a number or a vector", "use `const` for a matrix");
            return self.bind(name, "a `param`", Value::Error);
        }
        let Some(default) = self.constant(&v, value.span.clone(), "a `param`") else {
            return self.bind(name, "a `param`", Value::Error);
        };
        let offset = self.params.iter().map(|p| p.default.len()).sum::<usize>();
        let nodes: Vec<ExprId> =
            (0..default.len()).map(|i| self.dag.insert(Node::Param((offset + i) as u32))).collect();
        let bound = if scalar { Value::Num(nodes[0]) } else { Value::Vec(nodes) };
        if !self.env.contains_key(&name.name) {
            self.params.push(Param { name: name.name.clone(), docs: docs.to_vec(), default, scalar, offset });
        }
        self.bind(name, "a `param`", bound);
    }

    /// The numbers of a value that must be known at compile time; reports an error otherwise.
    fn constant(&mut self, v: &Value, span: Span, what: &str) -> Option<Vec<f64>> {
        let ids = match v {
            Value::Num(id) => vec![*id],
            Value::Vec(ids) => ids.clone(),
            Value::Mat(rows) => rows.concat(),
            Value::Cond(_) => {
                self.error(span, format!("the value of {what} must be a number, not a condition"));
                return None;
            }
            Value::Sym(_) | Value::Index(..) => {
                let hint = "it may use numbers and `const`s, not data, variables or loop indices";
                self.error_hint(span, format!("the value of {what} must be a constant, found {}", v.describe()), hint);
                return None;
            }
            Value::Error => return None,
        };
        let values: Option<Vec<f64>> = ids.iter().map(|id| self.dag.as_const(*id)).collect();
        if values.is_none() {
            self.error_hint(
                span,
                format!("the value of {what} must be a constant"),
                "it may use numbers and `const`s, not variables, `param`s or `let`s",
            );
        }
        values
    }

    /// Pass 2: lets, objectives, boxes and the start point, in the order written.
    fn definitions(&mut self, problem: &Problem) {
        for item in &problem.items {
            match &item.kind {
                ItemKind::Let { name, value } => {
                    let v = self.expr(value);
                    if let Value::Cond(_) = v {
                        self.error(value.span.clone(), "a `let` must be a number, vector or matrix, not a condition");
                    }
                    self.bind(name, "a `let`", v);
                }
                ItemKind::Objective { level, level_span, expr } => self.objective(*level, level_span, expr),
                ItemKind::Var { level, name, bounds: Some((lo, hi)), .. } => self.bounds(*level, name, lo, hi),
                ItemKind::Start(entries) => {
                    for (name, value) in entries {
                        self.start_value(name, value);
                    }
                }
                _ => {}
            }
        }
    }

    fn objective(&mut self, level: Level, level_span: &Span, expr: &Expr) {
        self.objectives_written.push(level);
        let v = self.expr(expr);
        let id = match v {
            Value::Num(id) => id,
            Value::Error => return,
            other => {
                let hint = if matches!(other, Value::Vec(_)) {
                    "reduce it to a number, e.g. with `norm2(...)`, `sum(...)` or `dot(...)`"
                } else {
                    "an objective is a real-valued expression"
                };
                self.error_hint(
                    expr.span.clone(),
                    format!("an objective must be a number, found {}", other.describe()),
                    hint,
                );
                return;
            }
        };
        let (slot, word) = match level {
            Level::Upper => (&mut self.upper, "upper"),
            Level::Lower => (&mut self.lower, "lower"),
        };
        if slot.is_some() {
            let msg = format!("a second `minimize {word}` objective");
            self.error_hint(
                level_span.clone(),
                msg,
                "each level has exactly one objective; combine the terms with `+`",
            );
        } else {
            *slot = Some((id, level_span.clone()));
        }
    }

    fn bounds(&mut self, level: Level, name: &Ident, lo: &Expr, hi: &Expr) {
        if level == Level::Lower {
            let span = lo.span.start..hi.span.end;
            self.error_hint(
                span,
                "a box is only supported on the upper variable",
                "the lower variable is unconstrained; put the constraint into `minimize lower` as a penalty",
            );
            return;
        }
        let Some((var, _)) = self.x.clone().filter(|(v, _)| v.name == name.name) else { return };
        let ends: Vec<Option<Vec<f64>>> = [lo, hi]
            .iter()
            .map(|e| {
                let v = self.expr(e);
                let values = self.constant(&v, e.span.clone(), "a box end")?;
                match values.len() {
                    1 if self.data_mode => Some(values),
                    1 => Some(vec![values[0]; var.dim]),
                    _ if self.data_mode => {
                        let hint = "in a problem with data, the box is the same for every component of the variable";
                        self.error_hint(e.span.clone(), "a box end must be a number here", hint);
                        None
                    }
                    k if k == var.dim => Some(values),
                    k => {
                        self.error(
                            e.span.clone(),
                            format!("a box end for `{}` (length {}) has length {k}", var.name, var.dim),
                        );
                        None
                    }
                }
            })
            .collect();
        if let [Some(l), Some(h)] = &ends[..] {
            if let Some(i) =
                (0..var.dim).find(|&i| l[i].partial_cmp(&h[i]).is_none_or(|o| o == std::cmp::Ordering::Greater))
            {
                let span = lo.span.start..hi.span.end;
                let msg = format!("invalid box: lower end {} is above upper end {}", l[i], h[i]);
                self.error_hint(span, msg, "write the box as `in [lo, hi]` with lo ≤ hi");
                return;
            }
            self.bounds = Some((l.clone(), h.clone()));
        }
    }

    fn start_value(&mut self, name: &Ident, value: &Expr) {
        let var = match (&self.x, &self.y) {
            (Some((x, _)), _) if x.name == name.name => (x.clone(), 0),
            (_, Some((y, _))) if y.name == name.name => (y.clone(), 1),
            _ => {
                let msg = format!("`start` names `{}`, which is not a variable", name.name);
                self.error_hint(
                    name.span.clone(),
                    msg,
                    "`start` sets the upper and lower variables, e.g. `start x = 0, y = [0, 0];`",
                );
                return;
            }
        };
        let v = self.expr(value);
        let Some(values) = self.constant(&v, value.span.clone(), "a start point") else { return };
        let fits = if self.data_mode || var.0.scalar {
            matches!(v, Value::Num(_))
        } else {
            matches!(v, Value::Vec(_)) && values.len() == var.0.dim
        };
        if !fits {
            let want = if var.0.scalar || self.data_mode {
                "a number".to_string()
            } else {
                format!("a vector of length {}", var.0.dim)
            };
            let msg = format!("start value for `{}` must be {want}, found {}", var.0.name, v.describe());
            self.error(value.span.clone(), msg);
            return;
        }
        let slot = if var.1 == 0 { &mut self.start.0 } else { &mut self.start.1 };
        if slot.replace(values).is_some() {
            self.error(name.span.clone(), format!("the start value of `{}` is given twice", name.name));
        }
    }

    /// Every `dim` must be a size of some `data` item, since that is how its value becomes known.
    fn dims_are_bound(&mut self) {
        for d in 0..self.dims.len() {
            let used = self.data.iter().any(|item| item.shape.contains(&Extent::Dim(d as u32)));
            if !used {
                let msg = format!("`{}` is not the size of any `data` item, so its value is never known", self.dims[d]);
                let hint = "use it in the type of a `data` item (`data X: real[N, p];`), or write the number instead";
                self.error_hint(self.dim_spans[d].clone(), msg, hint);
            }
        }
    }

    fn finish(mut self, problem: &Problem) -> Result<Model, Vec<Diagnostic>> {
        let at = problem.name.span.clone();
        let missing = [
            (
                !self.variables_written.contains(&Level::Upper),
                "missing the upper variable",
                "declare it, e.g. `upper x: real;`",
            ),
            (
                !self.variables_written.contains(&Level::Lower),
                "missing the lower variable",
                "declare it, e.g. `lower y: real[2];`",
            ),
            (
                !self.objectives_written.contains(&Level::Upper),
                "missing the upper objective",
                "add `minimize upper: <expression>;`",
            ),
            (
                !self.objectives_written.contains(&Level::Lower),
                "missing the lower objective",
                "add `minimize lower: <expression>;`",
            ),
        ];
        for (absent, msg, hint) in missing {
            if absent {
                self.error_hint(at.clone(), format!("{msg} in problem `{}`", problem.name.name), hint);
            }
        }
        if self.errors.is_empty() {
            // After an error in a data item's type, a `dim` may look unused; only report it on a clean text.
            self.dims_are_bound();
        }
        if !self.errors.is_empty() {
            self.errors.sort_by_key(|d| d.span.start);
            return Err(self.errors);
        }
        let (x, y) = (self.x.expect("checked").0, self.y.expect("checked").0);
        // With data, sizes are known only at run time: one start value (and one box) holds for every component.
        let (nx, ny) = if self.data_mode { (1, 1) } else { (x.dim, y.dim) };
        let start = (self.start.0.unwrap_or(vec![0.0; nx]), self.start.1.unwrap_or(vec![0.0; ny]));
        Ok(Model {
            name: problem.name.name.clone(),
            name_span: at,
            docs: problem.docs.clone(),
            x,
            y,
            params: self.params,
            dims: self.dims,
            data: self.data,
            bounds: self.bounds,
            start,
            dag: self.dag,
            upper: self.upper.clone().expect("checked").0,
            lower: self.lower.clone().expect("checked").0,
            objective_spans: (self.upper.expect("checked").1, self.lower.expect("checked").1),
        })
    }
}
