//! Emits the DAG nodes of one function as straight-line Rust: `let` bindings in topological order, with the
//! nodes of each branch of a `select` emitted inside that branch of a real `if`, so the branch not taken is
//! never evaluated.
//!
//! A node gets a `let` when it is used more than once (or is a `select`); a node used once is written inline
//! in its single user. Temporaries are numbered `t0, t1, …` in the order they are bound.

use std::collections::{BTreeSet, HashMap};

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::dag::{Cmp, Dag, ExprId, Func, Node};
use crate::model::Model;

/// The deepest expression written inline; deeper ones are split with `let`.
const MAX_INLINE_DEPTH: usize = 12;

/// Binding strength of the Rust expression an emitted node becomes (higher binds tighter).
type Prec = u8;
const OR: Prec = 1;
const AND: Prec = 2;
const CMP: Prec = 3;
const ADD: Prec = 4;
const MUL: Prec = 5;
const UNARY: Prec = 6;
const ATOM: Prec = 7;

/// Emits the body of one function whose results are the nodes `outputs` (a node may be listed twice, e.g. the
/// two symmetric entries of a Hessian; it then counts as used twice).
pub struct Emitter<'a> {
    dag: &'a Dag,
    model: &'a Model,
    krate: &'a TokenStream,
    uses: HashMap<ExprId, usize>,
    names: HashMap<ExprId, TokenStream>,
    next: usize,
}

impl<'a> Emitter<'a> {
    /// An emitter for a function with these outputs.
    pub fn new(dag: &'a Dag, model: &'a Model, krate: &'a TokenStream, outputs: &[ExprId]) -> Self {
        let reach = dag.reachable(outputs);
        let mut uses: HashMap<ExprId, usize> = HashMap::new();
        for o in outputs {
            *uses.entry(*o).or_default() += 1;
        }
        for (i, _) in reach.iter().enumerate().filter(|(_, r)| **r) {
            for c in dag.node(ExprId::from_index(i)).children() {
                *uses.entry(c).or_default() += 1;
            }
        }
        Emitter { dag, model, krate, uses, names: HashMap::new(), next: 0 }
    }

    fn needs_binding(&self, id: ExprId) -> bool {
        let node = self.dag.node(id);
        !node.children().is_empty()
            && (self.uses.get(&id).copied().unwrap_or(0) > 1 || matches!(node, Node::Select(..)))
    }

    /// The statements that bind what `roots` need in the current scope, then the roots' expressions.
    pub fn block(&mut self, roots: &[ExprId]) -> (Vec<TokenStream>, Vec<TokenStream>) {
        let mut local = BTreeSet::new();
        let mut stack: Vec<ExprId> = roots.to_vec();
        while let Some(id) = stack.pop() {
            if self.names.contains_key(&id) || !local.insert(id) {
                continue;
            }
            match self.dag.node(id) {
                // Only the condition is needed unconditionally; the branches are emitted inside the `if`.
                Node::Select(c, _, _) => stack.push(c),
                node => stack.extend(node.children()),
            }
        }
        let mut stmts = Vec::new();
        // How many operators an inlined expression of each node would nest; a node is bound once it would nest
        // more than MAX_INLINE_DEPTH, which keeps lines readable and code generation's recursion shallow.
        let mut depth: HashMap<ExprId, usize> = HashMap::new();
        for id in local {
            let inline =
                1 + self.dag.node(id).children().iter().map(|c| depth.get(c).copied().unwrap_or(0)).max().unwrap_or(0);
            if self.needs_binding(id) || inline > MAX_INLINE_DEPTH {
                stmts.push(self.binding(id));
            } else {
                depth.insert(id, inline);
            }
        }
        let exprs = roots.iter().map(|r| self.expr(*r, 0)).collect();
        (stmts, exprs)
    }

    /// `let tK = <node>;`, registering the name.
    fn binding(&mut self, id: ExprId) -> TokenStream {
        let value = match self.dag.node(id) {
            Node::Select(c, a, b) => {
                let cond = self.expr(c, 0);
                let then = self.branch(a);
                let other = self.branch(b);
                quote!(if #cond { #then } else { #other })
            }
            _ => self.expr(id, 0),
        };
        let name = format_ident!("t{}", self.next);
        self.next += 1;
        self.names.insert(id, quote!(#name));
        quote!(let #name = #value;)
    }

    /// A block that computes `root`: its own bindings, which go out of scope after it, then the value. Used for
    /// each branch of an `if` and for a function with one output. A select used only here becomes an `if` in
    /// place rather than a binding.
    pub fn branch(&mut self, root: ExprId) -> TokenStream {
        let outer = self.names.clone();
        let body = match self.dag.node(root) {
            Node::Select(c, a, b) if self.uses.get(&root) == Some(&1) => {
                let (stmts, exprs) = self.block(&[c]);
                let cond = &exprs[0];
                let (then, other) = (self.branch(a), self.branch(b));
                quote!(#(#stmts)* if #cond { #then } else { #other })
            }
            _ => {
                let (stmts, exprs) = self.block(&[root]);
                let e = &exprs[0];
                quote!(#(#stmts)* #e)
            }
        };
        self.names = outer;
        body
    }

    /// The Rust expression of a node, parenthesized if it binds less tightly than `min`.
    fn expr(&self, id: ExprId, min: Prec) -> TokenStream {
        let (tokens, prec) = self.expr_prec(id);
        if prec < min {
            quote!((#tokens))
        } else {
            tokens
        }
    }

    fn expr_prec(&self, id: ExprId) -> (TokenStream, Prec) {
        if let Some(name) = self.names.get(&id) {
            return (name.clone(), ATOM);
        }
        let bin = |a: ExprId, op: TokenStream, b: ExprId, prec: Prec| {
            let (l, r) = (self.expr(a, prec), self.expr(b, prec + 1));
            (quote!(#l #op #r), prec)
        };
        match self.dag.node(id) {
            Node::Const(bits) => number(f64::from_bits(bits)),
            Node::Bool(b) => (quote!(#b), ATOM),
            Node::X(i) => (index(quote!(x), i as usize), ATOM),
            Node::Y(i) => (index(quote!(y), i as usize), ATOM),
            Node::Param(k) => (self.param(k as usize), ATOM),
            Node::Add(a, b) => bin(a, quote!(+), b, ADD),
            Node::Sub(a, b) => bin(a, quote!(-), b, ADD),
            Node::Mul(a, b) => bin(a, quote!(*), b, MUL),
            Node::Div(a, b) => bin(a, quote!(/), b, MUL),
            Node::Neg(a) => {
                let a = self.expr(a, UNARY);
                (quote!(-#a), UNARY)
            }
            Node::Powi(a, k) => {
                let (a, k) = (self.expr(a, ATOM), Literal::i32_unsuffixed(k));
                (quote!(#a.powi(#k)), ATOM)
            }
            Node::Pow(a, b) => {
                // A constant base needs its type spelled out to take a method call: `2f64.powf(y[0])`.
                let base = match self.dag.as_const(a) {
                    Some(v) if v.is_finite() && v >= 0.0 => {
                        let lit = Literal::f64_suffixed(v);
                        quote!(#lit)
                    }
                    Some(v) => {
                        let lit = number(v).0;
                        quote!(f64::from(#lit))
                    }
                    None => self.expr(a, ATOM),
                };
                let b = self.expr(b, 0);
                (quote!(#base.powf(#b)), ATOM)
            }
            Node::Func(f, a) => (self.func(f, a), ATOM),
            Node::Cmp(op, a, b) => {
                let op = match op {
                    Cmp::Lt => quote!(<),
                    Cmp::Le => quote!(<=),
                    Cmp::Gt => quote!(>),
                    Cmp::Ge => quote!(>=),
                    Cmp::Eq => quote!(==),
                    Cmp::Ne => quote!(!=),
                };
                let (l, r) = (self.expr(a, ADD), self.expr(b, ADD));
                (quote!(#l #op #r), CMP)
            }
            Node::And(a, b) => bin(a, quote!(&&), b, AND),
            Node::Or(a, b) => bin(a, quote!(||), b, OR),
            Node::Not(a) => {
                let a = self.expr(a, ATOM);
                (quote!(!#a), UNARY)
            }
            Node::Select(..) => unreachable!("selects are always bound by `block`"),
        }
    }

    fn func(&self, f: Func, a: ExprId) -> TokenStream {
        let krate = self.krate;
        let method = match f {
            Func::Sin => quote!(sin),
            Func::Cos => quote!(cos),
            Func::Tan => quote!(tan),
            Func::Exp => quote!(exp),
            Func::Log => quote!(ln),
            Func::Sqrt => quote!(sqrt),
            Func::Tanh => quote!(tanh),
            Func::Sigmoid => {
                let a = self.expr(a, 0);
                return quote!(#krate::math::sigmoid(#a));
            }
            Func::Softplus => {
                let a = self.expr(a, 0);
                return quote!(#krate::math::softplus(#a));
            }
        };
        let a = self.expr(a, ATOM);
        quote!(#a.#method())
    }

    fn param(&self, k: usize) -> TokenStream {
        let p = self.model.params.iter().rev().find(|p| p.offset <= k).expect("every Param node has a declaration");
        let field = format_ident!("{}", p.name);
        if p.scalar {
            quote!(self.#field)
        } else {
            index(quote!(self.#field), k - p.offset)
        }
    }
}

fn index(base: TokenStream, i: usize) -> TokenStream {
    let i = Literal::usize_unsuffixed(i);
    quote!(#base[#i])
}

/// A number as a Rust `f64` expression.
pub fn number(v: f64) -> (TokenStream, Prec) {
    if v.is_nan() {
        (quote!(f64::NAN), ATOM)
    } else if v.is_infinite() {
        if v > 0.0 {
            (quote!(f64::INFINITY), ATOM)
        } else {
            (quote!(f64::NEG_INFINITY), ATOM)
        }
    } else if v < 0.0 {
        let lit = float(-v);
        (quote!(-#lit), UNARY)
    } else {
        let lit = float(v);
        (quote!(#lit), ATOM)
    }
}

/// A finite non-negative `f64` as the shortest literal that reads back exactly (`0.5`, `2.0`, `1e-300`).
fn float(v: f64) -> Literal {
    let text = format!("{v:?}");
    match text.parse::<TokenStream>().ok().and_then(|ts| ts.into_iter().next()) {
        Some(proc_macro2::TokenTree::Literal(lit)) => lit,
        _ => Literal::f64_unsuffixed(v),
    }
}
