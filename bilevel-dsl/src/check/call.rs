//! Function calls: the elementary functions, the piecewise ones (lowered to `select`) and the vector reductions.
//!
//! Values at kinks follow from the conditions below: `abs'(0) = 1`, `min(a, b)` and `max(a, b)` take `a` on a tie,
//! `clamp(t, lo, hi)` is `t` at `t = lo` and `t = hi`, and `huber(t, δ)` uses the quadratic piece at `|t| = δ`
//! (both pieces have the same value and slope there).

use super::{Checker, Sym, Value, FUNCTIONS};
use crate::ast::*;
use crate::dag::{Cmp, Dag, ExprId, Func};

/// `|t|`, as `if t < 0 then -t else t`.
pub fn abs(dag: &mut Dag, t: ExprId) -> ExprId {
    let zero = dag.constant(0.0);
    let c = dag.cmp(Cmp::Lt, t, zero);
    let m = dag.neg(t);
    dag.select(c, m, t)
}

/// `min(a, b)`, as `if a <= b then a else b`.
pub fn min(dag: &mut Dag, a: ExprId, b: ExprId) -> ExprId {
    let c = dag.cmp(Cmp::Le, a, b);
    dag.select(c, a, b)
}

/// `max(a, b)`, as `if a >= b then a else b`.
pub fn max(dag: &mut Dag, a: ExprId, b: ExprId) -> ExprId {
    let c = dag.cmp(Cmp::Ge, a, b);
    dag.select(c, a, b)
}

/// `clamp(t, lo, hi)`, as `if t < lo then lo else if t > hi then hi else t`.
pub fn clamp(dag: &mut Dag, t: ExprId, lo: ExprId, hi: ExprId) -> ExprId {
    let above = dag.cmp(Cmp::Gt, t, hi);
    let inner = dag.select(above, hi, t);
    let below = dag.cmp(Cmp::Lt, t, lo);
    dag.select(below, lo, inner)
}

/// Huber's function `t²/2` for `|t| ≤ δ`, else `δ (|t| − δ/2)`.
pub fn huber(dag: &mut Dag, t: ExprId, delta: ExprId) -> ExprId {
    let a = abs(dag, t);
    let c = dag.cmp(Cmp::Le, a, delta);
    let half = dag.constant(0.5);
    let t2 = dag.powi(t, 2);
    let quad = dag.mul(half, t2);
    let hd = dag.mul(half, delta);
    let shifted = dag.sub(a, hd);
    let lin = dag.mul(delta, shifted);
    dag.select(c, quad, lin)
}

/// The number of arguments each function takes (`None` for an unknown name).
fn arity(name: &str) -> Option<(usize, usize)> {
    Some(match name {
        _ if Func::from_name(name).is_some() => (1, 1),
        "abs" | "norm2" | "norm" | "sum" | "mean" | "transpose" => (1, 1),
        "logsumexp" | "log_softmax" | "softmax" => (1, 1),
        "min" | "max" | "dot" => (2, 2),
        "huber" => (1, 2),
        "clamp" => (3, 3),
        _ => return None,
    })
}

impl Checker {
    /// `logsumexp(v) = log Σ_k exp(v_k)`, `log_softmax(v) = v − logsumexp(v)` and `softmax(v) = exp(log_softmax(v))`
    /// of a vector, evaluated as `m + log Σ_k exp(v_k − m)` with `m = max_k v_k` so that no `exp` overflows. The
    /// value does not depend on `m`, so `m` is held constant in derivatives (`Dag::detach`): they are exact, and
    /// the gradient of `logsumexp` is `softmax(v)`.
    fn softmax_family(&mut self, name: &str, v: Value, span: &Span) -> Value {
        let lse = match &v {
            Value::Sym(s) if s.shape.len() == 1 => {
                let k = self.dag.new_loop(s.shape[0]);
                let idx = self.dag.insert(crate::dag::Node::Idx(k));
                let e = self.sym_at(s, &[idx]);
                let max = self.dag.max_over(k, e);
                let m = self.dag.detach(max);
                let shifted = self.dag.sub(e, m);
                let exp = self.dag.func(Func::Exp, shifted);
                let total = self.dag.sum(k, exp);
                let log = self.dag.func(Func::Log, total);
                self.dag.add(m, log)
            }
            Value::Vec(v) if !v.is_empty() => {
                let max = v[1..].iter().fold(v[0], |acc, t| max(&mut self.dag, acc, *t));
                let m = self.dag.detach(max);
                let zero = self.dag.constant(0.0);
                let total = v.iter().fold(zero, |acc, t| {
                    let shifted = self.dag.sub(*t, m);
                    let exp = self.dag.func(Func::Exp, shifted);
                    self.dag.add(acc, exp)
                });
                let log = self.dag.func(Func::Log, total);
                self.dag.add(m, log)
            }
            other => {
                let hint = "for the rows of a matrix, apply it to each row: `logsumexp(S[i])` inside a `sum`";
                self.error_hint(span.clone(), format!("`{name}` needs a vector, found {}", other.describe()), hint);
                return Value::Error;
            }
        };
        match name {
            "logsumexp" => Value::Num(lse),
            "log_softmax" => self.map(v, span, "take `log_softmax` of", move |dag, t| dag.sub(t, lse)),
            _ => self.map(v, span, "take `softmax` of", move |dag, t| {
                let d = dag.sub(t, lse);
                dag.func(Func::Exp, d)
            }),
        }
    }

    pub(super) fn call(&mut self, f: &Ident, args: &[Expr], span: &Span) -> Value {
        let name = f.name.as_str();
        let Some((lo, hi)) = arity(name) else {
            let msg = format!("unknown function `{name}`");
            let hint = match super::closest(name, FUNCTIONS.split(", ")) {
                Some(close) => format!("did you mean `{close}`? The functions are {FUNCTIONS}"),
                None => format!("the functions are {FUNCTIONS}"),
            };
            self.error_hint(f.span.clone(), msg, hint);
            return Value::Error;
        };
        if args.len() < lo || args.len() > hi {
            let want = if lo == hi { format!("{lo}") } else { format!("{lo} or {hi}") };
            let plural = if hi == 1 { "" } else { "s" };
            let msg = format!(
                "`{name}` takes {want} argument{plural} but {} {} given",
                args.len(),
                if args.len() == 1 { "was" } else { "were" }
            );
            self.error(span.clone(), msg);
            return Value::Error;
        }
        let values: Vec<Value> = args.iter().map(|a| self.expr(a)).collect();
        if values.iter().any(|v| matches!(v, Value::Error)) {
            return Value::Error;
        }
        let mut vals = values.into_iter();
        let first = vals.next().expect("at least one argument");
        if let Some(func) = Func::from_name(name) {
            return self.map(first, span, &format!("apply `{name}` to"), move |dag, a| dag.func(func, a));
        }
        match name {
            "abs" => self.map(first, span, "take `abs` of", abs),
            "min" => self.zip(first, vals.next().expect("arity"), span, "take `min` of", min),
            "max" => self.zip(first, vals.next().expect("arity"), span, "take `max` of", max),
            "clamp" => {
                let (lo, hi) = (vals.next().expect("arity"), vals.next().expect("arity"));
                let (Value::Num(l), Value::Num(h)) = (&lo, &hi) else {
                    let msg =
                        format!("the bounds of `clamp` must be numbers, found {} and {}", lo.describe(), hi.describe());
                    self.error(span.clone(), msg);
                    return Value::Error;
                };
                let (l, h) = (*l, *h);
                self.map(first, span, "`clamp`", move |dag, t| clamp(dag, t, l, h))
            }
            "huber" => {
                let delta = match vals.next() {
                    None => self.dag.constant(1.0),
                    Some(Value::Num(d)) => d,
                    Some(other) => {
                        self.error(
                            args[1].span.clone(),
                            format!("the δ of `huber` must be a number, found {}", other.describe()),
                        );
                        return Value::Error;
                    }
                };
                if self.dag.as_const(delta).is_some_and(|d| d.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)) {
                    self.error(args[1].span.clone(), "the δ of `huber` must be positive");
                    return Value::Error;
                }
                self.map(first, span, "take `huber` of", move |dag, t| huber(dag, t, delta))
            }
            "dot" => match (first, vals.next().expect("arity")) {
                (Value::Sym(u), Value::Sym(v)) => self.sym_dot(u, v, span),
                (Value::Vec(u), Value::Vec(v)) if u.len() == v.len() => Value::Num(self.dot(&u, &v)),
                (u, v) => {
                    let msg = format!(
                        "`dot` needs two vectors of the same length, found {} and {}",
                        u.describe(),
                        v.describe()
                    );
                    self.error(span.clone(), msg);
                    Value::Error
                }
            },
            "norm2" | "norm" => {
                let sq = match first {
                    Value::Num(t) => self.dag.powi(t, 2),
                    Value::Sym(v) => {
                        let squares = self.sym_map(v, |dag, t| dag.powi(t, 2));
                        self.sym_total(&squares)
                    }
                    Value::Vec(v) => self.dot(&v, &v),
                    other => {
                        self.error(
                            span.clone(),
                            format!("`{name}` needs a number or a vector, found {}", other.describe()),
                        );
                        return Value::Error;
                    }
                };
                Value::Num(if name == "norm" { self.dag.func(Func::Sqrt, sq) } else { sq })
            }
            "logsumexp" | "log_softmax" | "softmax" => self.softmax_family(name, first, span),
            "transpose" => match first {
                Value::Sym(a) if a.shape.len() == 2 => {
                    let label = format!("{}×{}", self.extent_name(a.shape[1]), self.extent_name(a.shape[0]));
                    Value::Sym(Sym {
                        shape: vec![a.shape[1], a.shape[0]],
                        vars: vec![a.vars[1], a.vars[0]],
                        label,
                        ..a
                    })
                }
                Value::Mat(rows) => {
                    Value::Mat((0..rows[0].len()).map(|j| rows.iter().map(|r| r[j]).collect()).collect())
                }
                other => {
                    self.error(span.clone(), format!("`transpose` needs a matrix, found {}", other.describe()));
                    Value::Error
                }
            },
            "mean" => {
                let (total, count) = match &first {
                    Value::Sym(v) => return Value::Num(self.sym_mean(v)),
                    Value::Vec(v) => {
                        let zero = self.dag.constant(0.0);
                        (v.iter().fold(zero, |acc, t| self.dag.add(acc, *t)), self.dag.constant(v.len() as f64))
                    }
                    other => {
                        let hint = "for a range, write `mean(i in 0..N: expression)`";
                        self.error_hint(
                            span.clone(),
                            format!("`mean` needs a vector, found {}", other.describe()),
                            hint,
                        );
                        return Value::Error;
                    }
                };
                Value::Num(self.dag.div(total, count))
            }
            _ => match first {
                // "sum" of a vector; `sum(i in a..b: e)` is parsed separately.
                Value::Num(t) => Value::Num(t),
                Value::Sym(v) => Value::Num(self.sym_total(&v)),
                Value::Vec(v) => {
                    let zero = self.dag.constant(0.0);
                    Value::Num(v.into_iter().fold(zero, |acc, t| self.dag.add(acc, t)))
                }
                other => {
                    let hint = "for a range, write `sum(i in a..b: expression)`";
                    self.error_hint(span.clone(), format!("`sum` needs a vector, found {}", other.describe()), hint);
                    Value::Error
                }
            },
        }
    }
}
