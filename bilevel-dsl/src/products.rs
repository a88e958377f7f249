//! Code generation for problems with data: the struct that holds the data, its `new`, and the
//! `MatrixFreeProblem` implementation whose methods are loops over the data.
//!
//! The derivatives are exact and symbolic, on the same DAG as the objectives:
//! - a gradient is the adjoint of each variable element ([`diff::adjoints`]): one number per value of the
//!   element's loop variables, which may itself be a sum over samples;
//! - a Hessian–vector product is the directional derivative of those adjoints along a direction `u` or `v`
//!   ([`diff::tangent`], forward over reverse), so it costs a small multiple of a gradient.
//!
//! Each result is written by accumulation statements ([`Item`]s). A result that is a sum over samples is
//! unfolded into a loop whose body adds to the output (`gy[l] += a_i · X[i][l]` inside `for i`), so gradients
//! are scattered sample by sample in O(N·p), never gathered element by element in O(N·p²); statements in loops
//! over the same variable share one loop, so the value, both gradients and their common subexpressions are
//! computed in one pass over the data. The generated code's size depends on the expressions only, never on the
//! sizes of the data.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::codegen::{param_defaults, param_fields};
use crate::dag::{Array, Dag, ExprId, Extent, Node};
use crate::diff;
use crate::emit::{extent, number, Emitter, Item, Place};
use crate::model::Model;

/// Generates the problem's struct, its data struct, `new`, and the `MatrixFreeProblem` implementation.
pub fn generate(model: &Model, krate: &TokenStream) -> TokenStream {
    let p = programs(model);
    let g = Gen { model, krate };
    let types = g.types();
    let name = format_ident!("{}", model.name);
    let name_str = &model.name;
    let sig = quote!(&self, x: &[f64], y: &[f64]);
    let (n, m) = (g.numel(&model.x.shape), g.numel(&model.y.shape));
    let (upper_value, lower_value) = (g.value(model.upper), g.value(model.lower));
    let (upper_grad, lower_grad) = (g.grad(&p.upper_grad), g.grad(&p.lower_grad));
    let (upper_hy, lower_hy) = (g.hvp(&p.upper_hvp_y, "v", false), g.hvp(&p.lower_hvp_y, "v", false));
    let (upper_hx, lower_hx) = (g.hvp(&p.upper_hvp_x, "u", true), g.hvp(&p.lower_hvp_x, "u", true));
    let na = quote!(#krate::nalgebra);
    let (x0, y0) = (number(model.start.0[0]).0, number(model.start.1[0]).0);
    let bounds = match &model.bounds {
        Some((lo, hi)) => {
            let (lo, hi) = (number(lo[0]).0, number(hi[0]).0);
            quote!(::core::option::Option::Some(#krate::Bounds {
                lo: #na::DVector::from_element(#n, #lo),
                hi: #na::DVector::from_element(#n, #hi),
            }))
        }
        None => quote!(::core::option::Option::None),
    };
    quote! {
        #types

        // Generated code is not the user's to change; see the note on fixed-size problems. Sizes keep the names
        // the user gave them (`N`, `X`), and loops index several arrays at once.
        #[allow(clippy::all, clippy::pedantic, non_snake_case)]
        impl #krate::MatrixFreeProblem for #name {
            type X = ::std::vec::Vec<f64>;
            type Y = ::std::vec::Vec<f64>;
            type YY = ::std::vec::Vec<f64>;
            type XY = ::std::vec::Vec<f64>;

            fn name(&self) -> &str {
                #name_str
            }

            fn dims(&self) -> (usize, usize) {
                (#n, #m)
            }

            fn start(&self) -> (#na::DVector<f64>, #na::DVector<f64>) {
                (#na::DVector::from_element(#n, #x0), #na::DVector::from_element(#m, #y0))
            }

            fn bounds(&self) -> ::core::option::Option<#krate::Bounds<#na::Dyn>> {
                #bounds
            }

            fn upper(#sig) -> f64 {
                #upper_value
            }

            fn lower(#sig) -> f64 {
                #lower_value
            }

            fn upper_grad(#sig, gx: &mut [f64], gy: &mut [f64]) -> f64 {
                #upper_grad
            }

            fn lower_grad(#sig, gx: &mut [f64], gy: &mut [f64]) -> f64 {
                #lower_grad
            }

            fn upper_hvp_y(#sig, v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
                #upper_hy
            }

            fn upper_hvp_x(#sig, u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
                #upper_hx
            }

            fn lower_hvp_y(#sig, v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
                #lower_hy
            }

            fn lower_hvp_x(#sig, u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
                #lower_hx
            }
        }
    }
}

/// One objective's gradient: each variable element read by the objective and its adjoint.
struct Derivatives {
    value: ExprId,
    /// `(element, adjoint)` for every `At(X | Y, ..)` node the objective reads.
    adjoints: Vec<(ExprId, ExprId)>,
}

impl Derivatives {
    fn new(dag: &mut Dag, f: ExprId) -> Derivatives {
        Derivatives { value: f, adjoints: element_adjoints(dag, f) }
    }
}

/// `(element, ∂f/∂element)` for every variable element (`At(X | Y, ..)` node) `f` reads whose derivative is not
/// the constant 0: the gradient of a problem with data, by element.
pub fn element_adjoints(dag: &mut Dag, f: ExprId) -> Vec<(ExprId, ExprId)> {
    let adj = diff::adjoints(dag, f);
    let reach = dag.reachable(&[f]);
    (0..reach.len())
        .map(ExprId::from_index)
        .filter(|id| reach[id.index()] && matches!(dag.node(*id), Node::At(Array::X | Array::Y, ..)))
        .filter_map(|id| adj.get(&id).map(|a| (id, *a)))
        .filter(|(_, a)| dag.as_const(*a) != Some(0.0))
        .collect()
}

/// The directional derivatives of `adjoints` along a direction in `x` (`dir = DirX`) or `y` (`DirY`): forward
/// over reverse, the Hessian–vector products by element.
pub fn hvp_tangents(dag: &mut Dag, adjoints: &[ExprId], dir: Array) -> Vec<ExprId> {
    let seeded = if dir == Array::DirX { Array::X } else { Array::Y };
    diff::tangent(dag, adjoints, |dag, node| match node {
        Node::At(a, r, c) if a == seeded => Some(dag.insert(Node::At(dir, r, c))),
        _ => None,
    })
}

/// The output slices and the input slices of a method whose loops over samples run in parallel.
type Parallel = ((&'static str, &'static str), &'static [&'static str]);

struct Gen<'a> {
    model: &'a Model,
    krate: &'a TokenStream,
}

impl Gen<'_> {
    /// The number of elements of a variable of this shape, as a `usize` expression.
    fn numel(&self, shape: &[Extent]) -> TokenStream {
        let mut factors = shape.iter().map(|e| extent(self.model, *e));
        match factors.next() {
            None => quote!(1),
            Some(first) => factors.fold(first, |acc, f| quote!(#acc * #f)),
        }
    }

    /// The struct with the params (public), the data and the sizes (private), the data struct, and `new`.
    fn types(&self) -> TokenStream {
        let model = self.model;
        let krate = self.krate;
        let name = format_ident!("{}", model.name);
        let data_name = format_ident!("{}Data", model.name);
        let mut docs: Vec<String> = model.docs.iter().map(|d| format!(" {d}")).collect();
        if !docs.is_empty() {
            docs.push(String::new());
        }
        docs.push(format!(
            " A bilevel problem with data generated by `bilevel!`: build it from its data with [`{}::new`].",
            model.name
        ));
        let (params, defaults) = (param_fields(model), param_defaults(model));
        let items: Vec<_> = model.data.iter().map(|d| format_ident!("{}", d.name)).collect();
        let types: Vec<_> = model.data.iter().map(|d| if d.sparse { quote!(Sparse) } else { quote!(Array) }).collect();
        let item_strs: Vec<&str> = model.data.iter().map(|d| d.name.as_str()).collect();
        let item_docs = model.data.iter().map(|d| {
            let mut docs: Vec<String> = d.docs.iter().map(|l| format!(" {l}")).collect();
            let shape: Vec<String> = d.shape.iter().map(|e| e.name(&model.dims)).collect();
            let sparse = if d.sparse { "sparse " } else { "" };
            docs.push(format!(" `{}: {sparse}real[{}]`", d.name, shape.join(", ")));
            docs
        });
        let shapes = model.data.iter().map(|d| {
            let axes = d.shape.iter().map(|e| match e {
                Extent::Fixed(k) => quote!(#krate::data::Extent::Fixed(#k)),
                Extent::Dim(i) => {
                    let i = *i as usize;
                    quote!(#krate::data::Extent::Dim(#i))
                }
            });
            quote!(&[#(#axes),*])
        });
        let dims: Vec<_> = model.dims.iter().map(|d| format_ident!("{}", d)).collect();
        let dim_strs: Vec<&str> = model.dims.iter().map(String::as_str).collect();
        let dim_index = 0..dims.len();
        let data_doc = format!(" The data of [`{}`], one array per `data` item.", model.name);
        quote! {
            #(#[doc = #docs])*
            #[derive(Clone, Debug)]
            #[allow(non_snake_case)]
            pub struct #name {
                #(#params,)*
                #(#items: #krate::data::#types,)*
                #(#dims: usize,)*
            }

            #[doc = #data_doc]
            #[derive(Clone, Debug)]
            #[allow(non_snake_case)]
            pub struct #data_name {
                #(#(#[doc = #item_docs])* pub #items: #krate::data::#types,)*
            }

            #[allow(clippy::all, clippy::pedantic)]
            impl #name {
                /// The problem on these data, with every `param` at its default. Checks every data item against
                /// its declared sizes (and the sizes against each other) and rejects NaN and infinite values.
                pub fn new(data: #data_name) -> ::core::result::Result<Self, #krate::data::DataError> {
                    let mut sizes = #krate::data::Sizes::new(&[#(#dim_strs),*]);
                    #(sizes.bind(#item_strs, &data.#items, #shapes)?;)*
                    ::core::result::Result::Ok(#name {
                        #(#defaults,)*
                        #(#items: data.#items,)*
                        #(#dims: sizes.get(#dim_index),)*
                    })
                }
            }
        }
    }

    /// The code `f` emits for `roots`, emitted again with the sums the previous emission repeated computed once
    /// into arrays ([`Emitter::materializing`]) until no new one is repeated; the arrays are declared first.
    fn emit(
        &self,
        dag: &Dag,
        roots: &[ExprId],
        parallel: Option<Parallel>,
        f: impl Fn(&mut Emitter) -> TokenStream,
    ) -> TokenStream {
        let mut materialize = BTreeSet::new();
        loop {
            let mut emitter = Emitter::new(dag, self.model, self.krate, roots).materializing(materialize.clone());
            if let Some((outputs, inputs)) = parallel {
                emitter = emitter.parallel(outputs, inputs);
            }
            let code = f(&mut emitter);
            let before = materialize.len();
            materialize.extend(emitter.repeated().iter().copied());
            if materialize.len() == before {
                let buffers = emitter.buffers();
                return quote!(#buffers #code);
            }
        }
    }

    /// Length checks of the slices a method receives (`true` for the layout of `x`, `false` for `y`).
    fn checks(&self, slices: &[(&str, bool)]) -> TokenStream {
        let krate = self.krate;
        let checks = slices.iter().map(|(s, upper)| {
            let id = format_ident!("{}", s);
            let len = self.numel(if *upper { &self.model.x.shape } else { &self.model.y.shape });
            quote!((#s, #id.len(), #len))
        });
        quote!(#krate::data::check_lengths(#krate::MatrixFreeProblem::name(self), &[#(#checks),*]);)
    }

    fn value(&self, f: ExprId) -> TokenStream {
        let checks = self.checks(&[("x", true), ("y", false)]);
        let body = self.emit(&self.model.dag, &[f], None, |e| e.branch(f));
        quote!(#checks #body)
    }

    fn grad(&self, program: &Program) -> TokenStream {
        let checks = self.checks(&[("x", true), ("y", false), ("gx", true), ("gy", false)]);
        let body = self.program(program, (("gx", "gy"), &["x", "y"]));
        quote! {
            #checks
            gx.fill(0.0);
            gy.fill(0.0);
            let mut value = 0.0;
            #body
            value
        }
    }

    /// A Hessian–vector product along the direction `dir_name` (`u`, laid out like `x` when `upper`, or `v`).
    fn hvp(&self, program: &Program, dir_name: &str, upper: bool) -> TokenStream {
        let checks = self.checks(&[("x", true), ("y", false), (dir_name, upper), ("hx", true), ("hy", false)]);
        let body = self.program(program, (("hx", "hy"), if upper { &["x", "y", "u"] } else { &["x", "y", "v"] }));
        quote! {
            #checks
            hx.fill(0.0);
            hy.fill(0.0);
            #body
        }
    }

    /// The statements of a program accumulating into `value` and the slices `outputs`; loops over samples run in
    /// parallel.
    fn program(&self, program: &Program, outputs: Parallel) -> TokenStream {
        let mut roots = Vec::new();
        program.items.iter().for_each(|i| i.values(&mut roots));
        self.emit(&program.dag, &roots, Some(outputs), |e| {
            let stmts = e.items(&program.items);
            quote!(#(#stmts)*)
        })
    }
}

/// What one method of a problem with data computes: accumulations ([`Item`]s) into `value` and the output slices
/// (`gx`/`gy` or `hx`/`hy`), in loops, over nodes of `dag` (the problem's DAG with the derivative nodes added).
#[derive(Clone, Debug)]
pub struct Program {
    /// The nodes.
    pub dag: Dag,
    /// The statements, loops over the same variable shared.
    pub items: Vec<Item>,
}

/// The derivative methods of a problem with data as [`Program`]s, for the code generator and for direct
/// evaluation ([`crate::eval::Loops`]).
#[derive(Clone, Debug)]
pub struct Programs {
    /// `F`, `∇x F` and `∇y F` (into `value`, `gx`, `gy`).
    pub upper_grad: Program,
    /// `G`, `∇x G` and `∇y G`.
    pub lower_grad: Program,
    /// `∇²xy F·v` and `∇²yy F·v` (into `hx`, `hy`) for a direction `v` (`Array::DirY`).
    pub upper_hvp_y: Program,
    /// `∇²xx F·u` and `∇²yx F·u` for a direction `u` (`Array::DirX`).
    pub upper_hvp_x: Program,
    /// `∇²xy G·v` and `∇²yy G·v`.
    pub lower_hvp_y: Program,
    /// `∇²xx G·u` and `∇²yx G·u`.
    pub lower_hvp_x: Program,
}

/// Every derivative method of a problem with data.
pub fn programs(model: &Model) -> Programs {
    let mut dag = model.dag.clone();
    let upper = Derivatives::new(&mut dag, model.upper);
    let lower = Derivatives::new(&mut dag, model.lower);
    Programs {
        upper_grad: grad_program(&dag, &upper),
        lower_grad: grad_program(&dag, &lower),
        upper_hvp_y: hvp_program(&dag, &upper, Array::DirY),
        upper_hvp_x: hvp_program(&dag, &upper, Array::DirX),
        lower_hvp_y: hvp_program(&dag, &lower, Array::DirY),
        lower_hvp_x: hvp_program(&dag, &lower, Array::DirX),
    }
}

/// The value and both gradients of one objective.
fn grad_program(dag: &Dag, d: &Derivatives) -> Program {
    let mut dag = dag.clone();
    let mut accs = Vec::new();
    unfold(&mut dag, d.value, Place::Scalar("value"), &mut accs);
    for &(leaf, adj) in &d.adjoints {
        let at = place(&dag, leaf, "gx", "gy");
        unfold(&mut dag, adj, at, &mut accs);
    }
    Program { dag, items: nest(accs) }
}

/// The product of one objective's Hessian with a direction in `x` (`DirX`) or `y` (`DirY`).
fn hvp_program(dag: &Dag, d: &Derivatives, dir: Array) -> Program {
    let mut dag = dag.clone();
    let adjs: Vec<ExprId> = d.adjoints.iter().map(|(_, a)| *a).collect();
    let tangents = hvp_tangents(&mut dag, &adjs, dir);
    let mut accs = Vec::new();
    for (&(leaf, _), &t) in d.adjoints.iter().zip(&tangents) {
        if dag.as_const(t) != Some(0.0) {
            let at = place(&dag, leaf, "hx", "hy");
            unfold(&mut dag, t, at, &mut accs);
        }
    }
    Program { dag, items: nest(accs) }
}

/// Accumulations with their loop paths, grouped into shared loops.
fn nest(accs: Vec<(Vec<u32>, Item)>) -> Vec<Item> {
    let mut items = Vec::new();
    for (path, acc) in accs {
        insert(&mut items, &path, acc);
    }
    items
}

/// Where the derivative for variable element `leaf` goes: `gx[..]` or `gy[..]` (or the names given).
fn place(dag: &Dag, leaf: ExprId, x: &'static str, y: &'static str) -> Place {
    match dag.node(leaf) {
        Node::At(array, row, col) => {
            let target = if array == Array::X { x } else { y };
            Place::At { target, array, row, col }
        }
        _ => unreachable!("variable elements are `At` nodes"),
    }
}

/// Adds to `out` the accumulations that add `value` to `place`, with the loop variables each needs.
///
/// A sum that depends on the place's index (or any sum, for a scalar place) becomes a loop around the
/// accumulation, also under `+`, `-` and a factor that does not depend on the index; the place's own index
/// variables are the innermost loops. A sum that does not depend on the index stays a value, computed once
/// outside the index's loop: unfolding it would repeat its loop for every element.
fn unfold(dag: &mut Dag, value: ExprId, place: Place, out: &mut Vec<(Vec<u32>, Item)>) {
    let mut pending = vec![(value, true, Vec::<u32>::new())];
    let place_vars: Vec<u32> = match place {
        Place::At { row, col, .. } => {
            [Some(row), col].into_iter().flatten().flat_map(|i| dag.free(i).to_vec()).collect()
        }
        Place::Scalar(_) => Vec::new(),
    };
    let indexed = |dag: &Dag, id: ExprId| place_vars.is_empty() || dag.free(id).iter().any(|k| place_vars.contains(k));
    while let Some((e, positive, loops)) = pending.pop() {
        let unfoldable = |dag: &Dag, id: ExprId| has_top_sum(dag, id, &indexed);
        let factor =
            |dag: &Dag, id: ExprId| place_vars.is_empty() || !dag.free(id).iter().any(|k| place_vars.contains(k));
        match dag.node(e) {
            Node::Sum(k, body) if indexed(dag, e) => {
                // A loop variable may be reused by an independent sum; give this loop its own if so.
                let (k, body) =
                    if loops.contains(&k) || place_vars.contains(&k) { rename(dag, k, body) } else { (k, body) };
                let mut inner = loops.clone();
                inner.push(k);
                pending.push((body, positive, inner));
            }
            Node::Add(a, b) if unfoldable(dag, a) || unfoldable(dag, b) => {
                pending.push((a, positive, loops.clone()));
                pending.push((b, positive, loops));
            }
            Node::Sub(a, b) if unfoldable(dag, a) || unfoldable(dag, b) => {
                pending.push((a, positive, loops.clone()));
                pending.push((b, !positive, loops));
            }
            Node::Neg(a) if unfoldable(dag, a) => pending.push((a, !positive, loops)),
            Node::Mul(a, b) if unfoldable(dag, b) && factor(dag, a) => {
                let scaled = scale(dag, b, a, Dag::mul, &indexed);
                pending.push((scaled, positive, loops));
            }
            Node::Mul(a, b) if unfoldable(dag, a) && factor(dag, b) => {
                let scaled = scale(dag, a, b, Dag::mul, &indexed);
                pending.push((scaled, positive, loops));
            }
            Node::Div(a, b) if unfoldable(dag, a) && factor(dag, b) => {
                let scaled = scale(dag, a, b, Dag::div, &indexed);
                pending.push((scaled, positive, loops));
            }
            _ => {
                let mut path = loops;
                path.extend(place_vars.iter().copied());
                row_major(dag, e, &mut path);
                out.push((path, Item::Acc { place: place.clone(), positive, value: e }));
            }
        }
    }
}

/// Reorders the loops `path` around an accumulation of `value` so that arrays stored row by row are read along
/// their rows: a loop over an array's column index goes inside the loop over its row index (`Σ_j A[i][j] x[j]`
/// into `out[i]` runs `for i { for j } }`, not down the columns). Otherwise the order is kept (samples outermost,
/// the output's own index innermost), and accumulations into one pass share its loops.
fn row_major(dag: &Dag, value: ExprId, path: &mut [u32]) {
    let reach = dag.reachable(&[value]);
    // `(row, column)`: the column's loop must be inside the row's.
    let mut before: Vec<(u32, u32)> = Vec::new();
    for (i, _) in reach.iter().enumerate().filter(|(_, r)| **r) {
        if let Node::At(_, row, Some(col)) = dag.node(ExprId::from_index(i)) {
            if let (Node::Idx(r), Node::Idx(c)) = (dag.node(row), dag.node(col)) {
                if path.contains(&r) && path.contains(&c) && !before.contains(&(r, c)) {
                    before.push((r, c));
                }
            }
        }
    }
    // Move each row loop just outside its column loop when it is inside it (a few passes settle any chain).
    for _ in 0..path.len() {
        let mut moved = false;
        for &(r, c) in &before {
            let (pr, pc) = (path.iter().position(|v| *v == r), path.iter().position(|v| *v == c));
            if let (Some(pr), Some(pc)) = (pr, pc) {
                if pr > pc && !before.contains(&(c, r)) {
                    path[pc..=pr].rotate_right(1);
                    moved = true;
                }
            }
        }
        if !moved {
            break;
        }
    }
}

/// The body of a sum over `k` with a fresh loop variable of the same range in place of `k`.
fn rename(dag: &mut Dag, k: u32, body: ExprId) -> (u32, ExprId) {
    let fresh = dag.new_loop(dag.loop_var(k).extent);
    let idx = dag.insert(Node::Idx(fresh));
    (fresh, dag.subst(body, &[(k, idx)]))
}

/// Whether `id` is a sum that passes `wanted`, or a sum, difference, negation or scaling of one (what [`unfold`]
/// turns into loops), looking a few levels deep only: the structure that matters is at the top, and derivative
/// DAGs share so much that a full walk could take exponential time.
fn has_top_sum(dag: &Dag, id: ExprId, wanted: &dyn Fn(&Dag, ExprId) -> bool) -> bool {
    fn walk(dag: &Dag, id: ExprId, depth: usize, wanted: &dyn Fn(&Dag, ExprId) -> bool) -> bool {
        if depth == 0 {
            return false;
        }
        match dag.node(id) {
            Node::Sum(..) => wanted(dag, id),
            Node::Add(a, b) | Node::Sub(a, b) | Node::Mul(a, b) => {
                walk(dag, a, depth - 1, wanted) || walk(dag, b, depth - 1, wanted)
            }
            Node::Div(a, _) | Node::Neg(a) => walk(dag, a, depth - 1, wanted),
            _ => false,
        }
    }
    walk(dag, id, UNFOLD_DEPTH, wanted)
}

/// How deep below the top of a result [`unfold`] looks for sums to turn into loops.
const UNFOLD_DEPTH: usize = 6;

type Op = fn(&mut Dag, ExprId, ExprId) -> ExprId;

/// `s ∘ f` (`∘` is `*` or `/`) with the factor `f` pushed through the sums, differences and products of `s` into
/// the bodies of the sums that pass `wanted`, so that [`unfold`] can turn them into loops: `(Σ_k b) / N` becomes
/// `Σ_k (b / N)`. Parts without such a sum near the top are combined with `f` as they are.
fn scale(dag: &mut Dag, s: ExprId, f: ExprId, op: Op, wanted: &dyn Fn(&Dag, ExprId) -> bool) -> ExprId {
    if !has_top_sum(dag, s, wanted) {
        return op(dag, s, f);
    }
    match dag.node(s) {
        Node::Sum(k, body) => {
            // The factor is constant in the sum; if it uses a variable of the same number (a loop variable reused
            // by an unrelated sum), the sum gets a variable of its own first.
            let (k, body) = if dag.free(f).contains(&k) { rename(dag, k, body) } else { (k, body) };
            let inner = scale(dag, body, f, op, wanted);
            dag.sum(k, inner)
        }
        Node::Add(a, b) => {
            let (a, b) = (scale(dag, a, f, op, wanted), scale(dag, b, f, op, wanted));
            dag.add(a, b)
        }
        Node::Sub(a, b) => {
            let (a, b) = (scale(dag, a, f, op, wanted), scale(dag, b, f, op, wanted));
            dag.sub(a, b)
        }
        Node::Neg(a) => {
            let a = scale(dag, a, f, op, wanted);
            dag.neg(a)
        }
        Node::Mul(p, q) if has_top_sum(dag, q, wanted) => {
            let q = scale(dag, q, f, op, wanted);
            dag.mul(p, q)
        }
        Node::Mul(p, q) => {
            let p = scale(dag, p, f, op, wanted);
            dag.mul(p, q)
        }
        Node::Div(p, q) => {
            let p = scale(dag, p, f, op, wanted);
            dag.div(p, q)
        }
        _ => op(dag, s, f),
    }
}

/// Puts an accumulation into the loop nest `path`, sharing loops over the same variable.
fn insert(items: &mut Vec<Item>, path: &[u32], acc: Item) {
    let Some((&var, rest)) = path.split_first() else {
        items.push(acc);
        return;
    };
    let existing = items.iter_mut().position(|i| matches!(i, Item::Loop { var: v, .. } if *v == var));
    let at = existing.unwrap_or_else(|| {
        items.push(Item::Loop { var, items: Vec::new() });
        items.len() - 1
    });
    if let Item::Loop { items: inner, .. } = &mut items[at] {
        insert(inner, rest, acc);
    }
}
