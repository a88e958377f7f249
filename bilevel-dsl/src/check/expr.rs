//! Expansion of expressions: names, indexing, vector and matrix arithmetic, functions, sums and conditions.

use super::sym::BinFn;
use super::{Binding, Checker, Value, FUNCTIONS};
use crate::ast::*;
use crate::dag::{Cmp, Dag, ExprId, Func, Node};

impl Checker {
    /// Expands an expression; on error reports it and returns [`Value::Error`].
    pub(super) fn expr(&mut self, e: &Expr) -> Value {
        if self.over_budget {
            return Value::Error;
        }
        let value = self.expand(e);
        if self.check_budget(&e.span) {
            return Value::Error;
        }
        value
    }

    /// Whether the expansion went over [`super::MAX_EXPANSION`]; reports it once, at the outermost `sum` being
    /// expanded (the loop that multiplies the work) or else at `span`.
    fn check_budget(&mut self, span: &Span) -> bool {
        if !self.over_budget && self.dag.requests() > super::MAX_EXPANSION {
            self.over_budget = true;
            let span = self.sums.first().unwrap_or(span).clone();
            let msg = format!("expanding this to scalars takes more than {} operations", super::MAX_EXPANSION);
            let hint = "problems without `data` are expanded element by element; declare large arrays as `data` \
                        with `dim` sizes, whose sums stay loops";
            self.error_hint(span, msg, hint);
        }
        self.over_budget
    }

    fn expand(&mut self, e: &Expr) -> Value {
        match &e.kind {
            ExprKind::Num(v) => Value::Num(self.dag.constant(*v)),
            ExprKind::Name(name) => self.name(name, &e.span),
            ExprKind::Index(base, index) => self.index(base, index, &e.span),
            ExprKind::Vector(elems) => self.vector(elems, &e.span),
            ExprKind::Call(f, args) => self.call(f, args, &e.span),
            ExprKind::Sum { mean, var, lo, hi, body } => {
                self.sums.push(e.span.clone());
                let value = self.sum(var, lo, hi, body, *mean);
                let over = self.check_budget(&e.span);
                self.sums.pop();
                if over {
                    Value::Error
                } else {
                    value
                }
            }
            ExprKind::Neg(a) => {
                let v = self.expr(a);
                self.map(v, &a.span, "negate", Dag::neg)
            }
            ExprKind::Not(a) => match self.expr(a) {
                Value::Cond(c) => Value::Cond(self.dag.not(c)),
                v => self.expected_condition(v, &a.span),
            },
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, &e.span),
            ExprKind::If(c, a, b) => self.conditional(c, a, b, &e.span),
        }
    }

    fn name(&mut self, name: &str, span: &Span) -> Value {
        if let Some(Binding { value, .. }) = self.env.get(name) {
            return value.clone();
        }
        if self.sum_indices.iter().any(|i| i == name) {
            let msg = format!("`{name}` is the index of a `sum` and exists only inside it");
            let hint = format!("move this use inside the `sum(... {name} in ...: ...)`, or sum over `{name}` here");
            self.error_hint(span.clone(), msg, hint);
            return Value::Error;
        }
        let msg = format!("cannot find `{name}` in this problem");
        let hint = if self.lets.get(name).is_some_and(|at| at.start > span.start) {
            format!("`{name}` is declared by a `let` further down; move that `let` above this use")
        } else if Func::from_name(name).is_some() || FUNCTIONS.split(", ").any(|f| f == name) {
            format!("`{name}` is a function; call it as `{name}(...)`")
        } else if let Some(close) = self.suggest(name) {
            format!("did you mean `{close}`?")
        } else {
            "declare it with `upper`, `lower`, `param`, `const` or `let` before using it".into()
        };
        self.error_hint(span.clone(), msg, hint);
        Value::Error
    }

    /// A constant non-negative integer (an index or a sum bound), or an error.
    fn integer(&mut self, e: &Expr, what: &str) -> Option<i64> {
        let v = self.expr(e);
        let c = match v {
            Value::Num(id) => self.dag.as_const(id),
            Value::Error => return None,
            Value::Index(..) => {
                let msg = format!("{what} must be a constant integer, found the index of a `sum` over a `dim`");
                let hint = "an index over a `dim` can only index arrays of that size";
                self.error_hint(e.span.clone(), msg, hint);
                return None;
            }
            _ => None,
        };
        match c {
            Some(c) if c.fract() == 0.0 && c.abs() < 1e15 => Some(c as i64),
            _ => {
                let hint = "it may use numbers, `const`s and sum indices, not variables or `param`s";
                self.error_hint(e.span.clone(), format!("{what} must be a constant integer"), hint);
                None
            }
        }
    }

    fn index(&mut self, base: &Expr, index: &Expr, span: &Span) -> Value {
        let b = self.expr(base);
        let what = match &base.kind {
            ExprKind::Name(n) => format!("`{n}`"),
            _ => "this value".into(),
        };
        if let Value::Sym(s) = b {
            return self.sym_index(s, index, &what);
        }
        let Some(i) = self.integer(index, "an index") else { return Value::Error };
        let len = match &b {
            Value::Vec(v) => v.len(),
            Value::Mat(rows) => rows.len(),
            Value::Error => return Value::Error,
            other => {
                let msg = format!("cannot index {what}: it is {}", other.describe());
                self.error_hint(span.clone(), msg, "only vectors and matrices can be indexed");
                return Value::Error;
            }
        };
        if i < 0 || i as usize >= len {
            let msg = format!("index {i} is out of range for {what}, which has length {len}");
            self.error_hint(index.span.clone(), msg, format!("indices start at 0, so the last one is {}", len - 1));
            return Value::Error;
        }
        match b {
            Value::Vec(v) => Value::Num(v[i as usize]),
            Value::Mat(mut rows) => Value::Vec(rows.swap_remove(i as usize)),
            _ => unreachable!("checked above"),
        }
    }

    fn vector(&mut self, elems: &[Expr], span: &Span) -> Value {
        if elems.is_empty() {
            self.error(span.clone(), "an empty vector `[]` has no value");
            return Value::Error;
        }
        let values: Vec<Value> = elems.iter().map(|e| self.expr(e)).collect();
        if values.iter().any(|v| matches!(v, Value::Error)) {
            return Value::Error;
        }
        if let Some(nums) = values.iter().map(|v| if let Value::Num(id) = v { Some(*id) } else { None }).collect() {
            return Value::Vec(nums);
        }
        let rows: Option<Vec<Vec<ExprId>>> =
            values.iter().map(|v| if let Value::Vec(r) = v { Some(r.clone()) } else { None }).collect();
        match rows {
            Some(rows) if rows.iter().all(|r| r.len() == rows[0].len()) => Value::Mat(rows),
            Some(rows) => {
                let lens: Vec<String> = rows.iter().map(|r| r.len().to_string()).collect();
                let msg = format!("the rows of a matrix must have the same length, found lengths {}", lens.join(", "));
                self.error(span.clone(), msg);
                Value::Error
            }
            None => {
                let kinds: Vec<String> = values.iter().map(Value::describe).collect();
                let msg = format!(
                    "the elements of `[...]` must all be numbers or all be vectors, found {}",
                    kinds.join(", ")
                );
                self.error(span.clone(), msg);
                Value::Error
            }
        }
    }

    fn sum(&mut self, var: &Ident, lo: &Expr, hi: &Expr, body: &Expr, mean: bool) -> Value {
        self.sum_indices.push(var.name.clone());
        if let Value::Num(h) = self.expr(hi) {
            if let Node::Size(d) = self.dag.node(h) {
                if self.integer(lo, "a sum bound") != Some(0) {
                    let hint = format!(
                        "a sum over a `dim` runs over all of it: `sum(i in 0..{}: ...)`",
                        self.dims[d as usize]
                    );
                    self.error_hint(lo.span.clone(), "a sum over a `dim` must start at 0", hint);
                    return Value::Error;
                }
                return self.sym_sum(var, d, body, mean);
            }
        }
        let (Some(a), Some(b)) = (self.integer(lo, "a sum bound"), self.integer(hi, "a sum bound")) else {
            return Value::Error;
        };
        if b <= a {
            let msg = format!("empty sum range `{a}..{b}`");
            let hint =
                "the upper end is excluded: `sum(i in a..b: ...)` runs over i = a, a+1, …, b-1, so it needs a < b";
            self.error_hint(lo.span.start..hi.span.end, msg, hint);
            return Value::Error;
        }
        if b - a > 100_000 {
            self.error(
                lo.span.start..hi.span.end,
                format!("the sum range `{a}..{b}` is too long to expand (at most 100000 terms)"),
            );
            return Value::Error;
        }
        let saved = self.env.remove(&var.name);
        let mut total: Option<Value> = None;
        for i in a..b {
            let index = Value::Num(self.dag.constant(i as f64));
            self.env.insert(var.name.clone(), Binding { value: index, kind: "a sum index" });
            let term = self.expr(body);
            total = Some(match total {
                None => term,
                Some(acc) => self.zip(acc, term, &body.span, "add", Dag::add),
            });
            if matches!(total, Some(Value::Error)) || self.dag.requests() > super::MAX_EXPANSION {
                break;
            }
        }
        self.env.remove(&var.name);
        if let Some(prev) = saved {
            self.env.insert(var.name.clone(), prev);
        }
        match total.expect("the range is not empty") {
            Value::Cond(_) => {
                self.error(body.span.clone(), "the summand must be a number or vector, not a condition");
                Value::Error
            }
            v if mean => {
                let count = Value::Num(self.dag.constant((b - a) as f64));
                self.zip(v, count, &body.span, "divide", Dag::div)
            }
            v => v,
        }
    }

    pub(super) fn expected_condition(&mut self, v: Value, span: &Span) -> Value {
        if !matches!(v, Value::Error) {
            let hint = "write a comparison such as `t <= 1`, or combine comparisons with `and`, `or`, `not`";
            self.error_hint(span.clone(), format!("expected a condition, found {}", v.describe()), hint);
        }
        Value::Error
    }

    /// Applies `f` to a number or to each component of a vector or matrix.
    pub(super) fn map(&mut self, v: Value, span: &Span, verb: &str, f: impl Fn(&mut Dag, ExprId) -> ExprId) -> Value {
        match v {
            Value::Num(a) => Value::Num(f(&mut self.dag, a)),
            Value::Vec(a) => Value::Vec(a.into_iter().map(|x| f(&mut self.dag, x)).collect()),
            Value::Mat(rows) => {
                Value::Mat(rows.into_iter().map(|r| r.into_iter().map(|x| f(&mut self.dag, x)).collect()).collect())
            }
            Value::Sym(s) => Value::Sym(self.sym_map(s, f)),
            Value::Cond(_) | Value::Index(..) => {
                self.error(span.clone(), format!("cannot {verb} {}", v.describe()));
                Value::Error
            }
            Value::Error => Value::Error,
        }
    }

    /// Applies `op` component-wise to values of the same shape, or a number with each component of the other.
    pub(super) fn zip(&mut self, a: Value, b: Value, span: &Span, verb: &str, op: BinFn) -> Value {
        use Value::*;
        let dag = &mut self.dag;
        match (a, b) {
            (Error, _) | (_, Error) => Error,
            (Num(p), Num(q)) => Num(op(dag, p, q)),
            (Num(p), Sym(s)) => Sym(self.sym_map(s, move |dag, q| op(dag, p, q))),
            (Sym(s), Num(q)) => Sym(self.sym_map(s, move |dag, p| op(dag, p, q))),
            (Sym(s), Sym(t)) => self.sym_zip(s, t, span, verb, op),
            (Num(p), Vec(v)) => Vec(v.into_iter().map(|q| op(dag, p, q)).collect()),
            (Vec(v), Num(q)) => Vec(v.into_iter().map(|p| op(dag, p, q)).collect()),
            (Num(p), Mat(m)) => Mat(m.into_iter().map(|r| r.into_iter().map(|q| op(dag, p, q)).collect()).collect()),
            (Mat(m), Num(q)) => Mat(m.into_iter().map(|r| r.into_iter().map(|p| op(dag, p, q)).collect()).collect()),
            (Vec(u), Vec(v)) if u.len() == v.len() => Vec(u.into_iter().zip(v).map(|(p, q)| op(dag, p, q)).collect()),
            (Mat(m), Mat(n)) if m.len() == n.len() && m[0].len() == n[0].len() => Mat(m
                .into_iter()
                .zip(n)
                .map(|(r, s)| r.into_iter().zip(s).map(|(p, q)| op(dag, p, q)).collect())
                .collect()),
            (a, b) => {
                self.error(span.clone(), format!("cannot {verb} {} and {}", a.describe(), b.describe()));
                Error
            }
        }
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, span: &Span) -> Value {
        let (va, vb) = (self.expr(a), self.expr(b));
        if matches!(va, Value::Error) || matches!(vb, Value::Error) {
            return Value::Error;
        }
        match op {
            BinOp::And | BinOp::Or => match (va, vb) {
                (Value::Cond(p), Value::Cond(q)) => {
                    Value::Cond(if op == BinOp::And { self.dag.and(p, q) } else { self.dag.or(p, q) })
                }
                (Value::Cond(_), v) => self.expected_condition(v, &b.span),
                (v, _) => self.expected_condition(v, &a.span),
            },
            _ if matches!(va, Value::Cond(_)) || matches!(vb, Value::Cond(_)) => {
                let hint =
                    "conditions can only be combined with `and`, `or`, `not` and used in `if ... then ... else ...`";
                self.error_hint(span.clone(), format!("`{}` needs numbers, not conditions", op.symbol()), hint);
                Value::Error
            }
            BinOp::Add => self.zip(va, vb, span, "add", Dag::add),
            BinOp::Sub => self.zip(va, vb, span, "subtract", Dag::sub),
            BinOp::Mul => self.product(va, vb, span),
            BinOp::Div => match vb {
                Value::Num(_) => self.zip(va, vb, span, "divide", Dag::div),
                other => {
                    self.error(span.clone(), format!("cannot divide by {}", other.describe()));
                    Value::Error
                }
            },
            BinOp::Pow => match (va, vb) {
                (Value::Num(p), Value::Num(q)) => Value::Num(self.dag.pow(p, q)),
                (p, q) => {
                    let msg = format!("`^` needs numbers, found {} and {}", p.describe(), q.describe());
                    self.error_hint(
                        span.clone(),
                        msg,
                        "for a vector `v`, `norm2(v)` is the sum of its squared components",
                    );
                    Value::Error
                }
            },
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne => self.comparison(op, va, vb, span),
        }
    }

    fn comparison(&mut self, op: BinOp, va: Value, vb: Value, span: &Span) -> Value {
        let cmp = match op {
            BinOp::Lt => Cmp::Lt,
            BinOp::Le => Cmp::Le,
            BinOp::Gt => Cmp::Gt,
            BinOp::Ge => Cmp::Ge,
            BinOp::Eq => Cmp::Eq,
            _ => Cmp::Ne,
        };
        match (va, vb) {
            (Value::Num(p), Value::Num(q)) => Value::Cond(self.dag.cmp(cmp, p, q)),
            (p, q) => {
                let msg = format!("`{}` compares numbers, found {} and {}", op.symbol(), p.describe(), q.describe());
                self.error_hint(span.clone(), msg, "compare components, e.g. `y[0] <= 1`, or norms");
                Value::Error
            }
        }
    }

    /// `*`: scaling by a number, matrix–vector, vector–matrix and matrix–matrix products.
    fn product(&mut self, va: Value, vb: Value, span: &Span) -> Value {
        use Value::*;
        match (va, vb) {
            (a @ Num(_), b) | (b, a @ Num(_)) => self.zip(a, b, span, "multiply", Dag::mul),
            (Mat(m), Vec(v)) if m[0].len() == v.len() => Vec(m.iter().map(|r| self.dot(r, &v)).collect()),
            (Vec(v), Mat(m)) if m.len() == v.len() => {
                let cols = transpose(&m);
                Vec(cols.iter().map(|c| self.dot(&v, c)).collect())
            }
            (Mat(a), Mat(b)) if a[0].len() == b.len() => {
                let cols = transpose(&b);
                Mat(a.iter().map(|r| cols.iter().map(|c| self.dot(r, c)).collect()).collect())
            }
            (Sym(a), Sym(b)) => self.sym_product(a, b, span),
            (Vec(u), Vec(v)) => {
                let msg = format!("cannot multiply two vectors (lengths {} and {})", u.len(), v.len());
                self.error_hint(span.clone(), msg, "write `dot(u, v)` for the inner product");
                Error
            }
            (a, b) => {
                let msg = format!("cannot multiply {} by {}: the inner dimensions differ", a.describe(), b.describe());
                self.error(span.clone(), msg);
                Error
            }
        }
    }

    pub(super) fn dot(&mut self, u: &[ExprId], v: &[ExprId]) -> ExprId {
        let zero = self.dag.constant(0.0);
        u.iter().zip(v).fold(zero, |acc, (p, q)| {
            let t = self.dag.mul(*p, *q);
            self.dag.add(acc, t)
        })
    }

    fn conditional(&mut self, c: &Expr, a: &Expr, b: &Expr, span: &Span) -> Value {
        let cond = match self.expr(c) {
            Value::Cond(id) => id,
            v => return self.expected_condition(v, &c.span),
        };
        let (va, vb) = (self.expr(a), self.expr(b));
        match (va, vb) {
            (Value::Error, _) | (_, Value::Error) => Value::Error,
            (Value::Num(p), Value::Num(q)) => Value::Num(self.dag.select(cond, p, q)),
            (Value::Vec(u), Value::Vec(v)) if u.len() == v.len() => {
                Value::Vec(u.into_iter().zip(v).map(|(p, q)| self.dag.select(cond, p, q)).collect())
            }
            (Value::Sym(u), Value::Sym(v)) if u.shape == v.shape => {
                self.sym_zip(u, v, span, "select between", move |dag, p, q| dag.select(cond, p, q))
            }
            (p, q) => {
                let msg = format!("the branches of `if` differ: {} and {}", p.describe(), q.describe());
                self.error_hint(
                    span.clone(),
                    msg,
                    "both branches must have the same shape (numbers, or vectors of one length)",
                );
                Value::Error
            }
        }
    }
}

fn transpose(m: &[Vec<ExprId>]) -> Vec<Vec<ExprId>> {
    (0..m[0].len()).map(|j| m.iter().map(|r| r[j]).collect()).collect()
}
