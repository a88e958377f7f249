//! Emits the DAG nodes of one function as straight-line Rust: `let` bindings in topological order, with the
//! nodes of each branch of a `select` emitted inside that branch of a real `if`, so the branch not taken is
//! never evaluated.
//!
//! A node gets a `let` when it is used more than once (or is a `select`); a node used once is written inline
//! in its single user. Temporaries are numbered `t0, t1, …` in the order they are bound.
//!
//! Problems with data have loops. A node is emitted in the outermost scope where all its free loop variables are
//! bound, so work that does not depend on a loop's variable is done once, before the loop (a `Sum` becomes
//! `let mut tK = 0.0; for iL in 0..n { …; tK += body; }`). Results that are arrays are accumulated by
//! [`Item`]s: `out[i] += e;` statements inside loops, so a gradient is scattered sample by sample.

use std::collections::{BTreeSet, HashMap};

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::dag::{Array, Cmp, Dag, ExprId, Extent, Func, Node};
use crate::model::Model;
use crate::program::{Item, Place};

/// What a value is a multiple of, for reading a sparse data item along the stored entries of a row.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Factor {
    /// Zero whatever the entries.
    Zero,
    /// Zero where this entry (an `At` node of a sparse item) is zero.
    Entry(ExprId),
    /// Not known to vanish.
    None,
}

impl Factor {
    /// The factor of a product: either one's.
    fn either(self, other: Factor) -> Factor {
        match (self, other) {
            (Factor::Zero, _) | (_, Factor::Zero) => Factor::Zero,
            (Factor::Entry(e), _) | (_, Factor::Entry(e)) => Factor::Entry(e),
            _ => Factor::None,
        }
    }

    /// The factor of a sum: one both share.
    fn both(self, other: Factor) -> Factor {
        match (self, other) {
            (Factor::Zero, f) | (f, Factor::Zero) => f,
            (Factor::Entry(a), Factor::Entry(b)) if a == b => Factor::Entry(a),
            _ => Factor::None,
        }
    }
}

/// The deepest expression written inline; deeper ones are split with `let`.
const MAX_INLINE_DEPTH: usize = 12;

/// The deepest `if` whose branches are evaluated lazily, inside the branch. Selects nested deeper (an `else if`
/// chain of hundreds of branches) are flat `let`s whose branches are computed before them. Measured: rustc (8 MB
/// stack) overflowed on the macro expansion of a 450-branch chain with lazy `if`s 24 deep, and compiles 600
/// branches at 8 deep (the same code written as a module compiled either way).
const MAX_BRANCH_DEPTH: usize = 8;

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
    /// The loop variables bound where code is being emitted.
    bound: Vec<u32>,
    /// Costly nodes to compute once into an array (see [`Emitter::materializing`]).
    materialize: BTreeSet<ExprId>,
    /// The materialized nodes bound now, with the loop variable that indexes their array and the array's name.
    arrays: HashMap<ExprId, (u32, proc_macro2::Ident)>,
    /// `let mut aK = scratch::zeros(n);` for each array (a buffer the runtime reuses from call to call),
    /// declared at the top of the function.
    buffers: Vec<TokenStream>,
    /// Whether code is being emitted inside a parallel chunk (sizes and data are locals there).
    local: bool,
    /// The input slices of the method (`x`, `y` and a direction), rebound as locals in parallel chunks.
    inputs: &'static [&'static str],
    /// The arrays declared inside a parallel loop (by their position in `buffers`), not at the top.
    chunk_buffers: BTreeSet<usize>,
    /// The output slices of a method whose top-level loops over samples run in parallel (`gx`, `gy` or `hx`, `hy`).
    parallel: Option<(&'static str, &'static str)>,
    /// Costly nodes emitted so far, and those emitted more than once or inside a loop they do not depend on.
    emitted: BTreeSet<ExprId>,
    repeated: BTreeSet<ExprId>,
    /// How many `if` branches enclose the code being emitted.
    branch_depth: usize,
    /// The work left (nodes written and names carried into branches), shared by the emitters of one problem; at
    /// zero, emission stops and the caller reports the code as too large (see [`Emitter::budgeted`]).
    budget: Option<&'a std::cell::Cell<usize>>,
    /// The `dim` whose sampled loops (the loops of `mean`s) run over the method's `batch` argument: the
    /// objective's sample `dim` in the methods that take a batch (see [`Emitter::sampling`]).
    sampling: Option<u32>,
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
        Emitter {
            dag,
            model,
            krate,
            uses,
            names: HashMap::new(),
            next: 0,
            bound: Vec::new(),
            materialize: BTreeSet::new(),
            parallel: None,
            chunk_buffers: BTreeSet::new(),
            local: false,
            inputs: &[],
            arrays: HashMap::new(),
            buffers: Vec::new(),
            emitted: BTreeSet::new(),
            repeated: BTreeSet::new(),
            branch_depth: 0,
            budget: None,
            sampling: None,
        }
    }

    /// The same emitter, running the sampled loops over `dim` (the loops of the `mean`s over it) over the
    /// samples of the method's `batch` (`for pK in 0..samples { let iK = batch.at(pK); … }`), with `samples`,
    /// the batch's length, as their count. Arrays indexed by such a loop have one entry per sample of the batch.
    pub fn sampling(mut self, dim: Option<u32>) -> Self {
        self.sampling = dim;
        self
    }

    /// Whether loop variable `k` runs over the batch.
    fn batched(&self, k: u32) -> bool {
        self.dag.loop_var(k).batched(self.sampling)
    }

    /// The index an array computed over loop variable `k` is read at: `pK`, the position in the batch, for a
    /// batched loop; the loop variable `iK` otherwise.
    fn slot(&self, k: u32) -> proc_macro2::Ident {
        if self.batched(k) {
            format_ident!("p{}", k)
        } else {
            format_ident!("i{}", k)
        }
    }

    /// The number of iterations of loop variable `k`: `samples` for a batched loop.
    fn count(&self, k: u32) -> TokenStream {
        if self.batched(k) {
            quote!(samples)
        } else {
            self.extent(self.dag.loop_var(k).extent)
        }
    }

    /// `for iK in range { body }`, or over the batch's samples at positions `range` for a batched loop.
    fn loop_over(&self, var: u32, range: TokenStream, body: TokenStream) -> TokenStream {
        let i = format_ident!("i{}", var);
        if self.batched(var) {
            let p = self.slot(var);
            quote!(for #p in #range { let #i = batch.at(#p); #body })
        } else {
            quote!(for #i in #range { #body })
        }
    }

    /// Whether a select here is written as a flat `let` with its branches computed before it (see
    /// [`MAX_BRANCH_DEPTH`]).
    fn eager_selects(&self) -> bool {
        self.branch_depth >= MAX_BRANCH_DEPTH
    }

    /// The same emitter, computing each of `nodes` (costly nodes: sums, maxima, functions, powers, that depend on
    /// one loop variable `k` more than the scope where they are needed) once per scope into an array `aK[k]`
    /// before use, instead of inside the loops that use it. Found by a first emission ([`Emitter::repeated`]): a
    /// node computed inside a loop it does not depend on (the scores `X[i] * W`, or their `exp`, inside a loop
    /// over features) or in several loops (the maximum and the sum of a `logsumexp`).
    pub fn materializing(mut self, nodes: BTreeSet<ExprId>) -> Self {
        self.materialize = nodes;
        self
    }

    /// The same emitter, running top-level loops over a `dim` in parallel, accumulating into `value` and the
    /// output slices `outputs`, reading the input slices `inputs`.
    pub fn parallel(mut self, outputs: (&'static str, &'static str), inputs: &'static [&'static str]) -> Self {
        self.parallel = Some(outputs);
        self.inputs = inputs;
        self
    }

    /// The costly nodes the emission so far computed more than once per value of their loop variables.
    pub fn repeated(&self) -> &BTreeSet<ExprId> {
        &self.repeated
    }

    /// The declarations of the arrays of materialized nodes used outside parallel loops, for the top of the
    /// function.
    pub fn buffers(&self) -> TokenStream {
        let top = self.buffers.iter().enumerate().filter(|(k, _)| !self.chunk_buffers.contains(k)).map(|(_, b)| b);
        quote!(#(#top)*)
    }

    /// Whether every free loop variable of the node is bound here.
    fn in_scope(&self, id: ExprId) -> bool {
        self.dag.free(id).iter().all(|k| self.bound.contains(k))
    }

    fn needs_binding(&self, id: ExprId) -> bool {
        let node = self.dag.node(id);
        !node.children().is_empty()
            && !matches!(node, Node::At(..) | Node::Detach(_))
            && (self.uses.get(&id).copied().unwrap_or(0) > 1
                || matches!(node, Node::Select(..) | Node::Sum(..) | Node::Max(..)))
    }

    /// The statements that bind what `roots` need in the current scope, then the roots' expressions.
    pub fn block(&mut self, roots: &[ExprId]) -> (Vec<TokenStream>, Vec<TokenStream>) {
        let stmts = self.bind_local(roots);
        let exprs = roots.iter().map(|r| self.expr(*r, 0)).collect();
        (stmts, exprs)
    }

    /// The statements that bind what `roots` need in the current scope: every node they reach (outside the
    /// branches of an `if`) whose loop variables are all bound here, including the parts of deeper loops' bodies
    /// that do not depend on those loops.
    fn bind_local(&mut self, roots: &[ExprId]) -> Vec<TokenStream> {
        let mut local = BTreeSet::new();
        let mut seen = BTreeSet::new();
        // Nodes of this scope used by a node of a deeper loop: bound here, never inlined into the loop.
        let mut hoisted = BTreeSet::new();
        // Nodes computed into an array here, each with the loop variable indexing it.
        let mut arrays = HashMap::new();
        let mut stack: Vec<ExprId> = roots.to_vec();
        while let Some(id) = stack.pop() {
            if self.names.contains_key(&id) || !seen.insert(id) {
                continue;
            }
            let here = self.in_scope(id);
            if here {
                local.insert(id);
            } else if let Some(k) = self.array_here(id) {
                arrays.insert(id, k);
            }
            let children = match self.dag.node(id) {
                // Only the condition is needed unconditionally; the branches are emitted inside the `if`.
                Node::Select(c, _, _) if !self.eager_selects() => vec![c],
                node => node.children(),
            };
            for c in children {
                if !here && self.in_scope(c) {
                    hoisted.insert(c);
                }
                stack.push(c);
            }
        }
        let mut stmts = Vec::new();
        // How many operators an inlined expression of each node would nest; a node is bound once it would nest
        // more than MAX_INLINE_DEPTH, which keeps lines readable and code generation's recursion shallow.
        let mut depth: HashMap<ExprId, usize> = HashMap::new();
        let order: BTreeSet<ExprId> = local.iter().chain(arrays.keys()).copied().collect();
        for id in order {
            if let Some(&k) = arrays.get(&id) {
                stmts.push(self.array(id, k));
                continue;
            }
            if let Some(name) = self.equivalent_array(id) {
                self.names.insert(id, name);
                continue;
            }
            self.note_repeats(id);
            let inline =
                1 + self.dag.node(id).children().iter().map(|c| depth.get(c).copied().unwrap_or(0)).max().unwrap_or(0);
            let leaf = self.dag.node(id).children().is_empty() || matches!(self.dag.node(id), Node::At(..));
            if self.needs_binding(id) || inline > MAX_INLINE_DEPTH || (hoisted.contains(&id) && !leaf) {
                stmts.push(self.binding(id));
            } else {
                depth.insert(id, inline);
            }
        }
        stmts
    }

    /// Records `id` as repeated if it is costly (a sum, a maximum, a function or a power) and is computed here
    /// inside a loop it does not depend on, or a second time.
    fn note_repeats(&mut self, id: ExprId) {
        if !matches!(self.dag.node(id), Node::Sum(..) | Node::Max(..) | Node::Func(..) | Node::Pow(..)) {
            return;
        }
        let free = self.dag.free(id);
        if free.is_empty() {
            return;
        }
        if self.bound.iter().any(|v| !free.contains(v)) || !self.emitted.insert(id) {
            self.repeated.insert(id);
        }
    }

    /// For a costly node that is an array computed already but for the name of its loop variable (the scores
    /// `Σ_l X[i][l] W[l][c]` of one loop over classes and of another), that array at this loop's index.
    fn equivalent_array(&self, id: ExprId) -> Option<TokenStream> {
        if !matches!(self.dag.node(id), Node::Sum(..) | Node::Max(..) | Node::Func(..) | Node::Pow(..)) {
            return None;
        }
        let free = self.dag.free(id);
        self.arrays.iter().find_map(|(&array, (k, buffer))| {
            let k = *k;
            self.names.get(&array)?; // the array is still valid here
            let extent = self.dag.loop_var(k);
            let k2 = free.iter().copied().find(|v| !self.dag.free(array).contains(v))?;
            let same = self.dag.loop_var(k2) == extent
                && self.dag.free(array).iter().filter(|v| **v != k).all(|v| free.contains(v))
                && crate::dag::alpha_equal(self.dag, array, id, (k, k2));
            let i = self.slot(k2);
            same.then(|| quote!(#buffer[#i]))
        })
    }

    /// The loop variable of the array `id` is computed into here, if it is to be materialized and only one of
    /// its loop variables is unbound.
    fn array_here(&self, id: ExprId) -> Option<u32> {
        if !self.materialize.contains(&id) {
            return None;
        }
        match self.dag.free(id).iter().filter(|k| !self.bound.contains(k)).collect::<Vec<_>>()[..] {
            [&k] => Some(k),
            _ => None,
        }
    }

    /// `for iK in 0..n { …; aJ[iK] = node; }`: every value of `id` over loop variable `k`, into a new array.
    fn array(&mut self, id: ExprId, k: u32) -> TokenStream {
        let buffer = format_ident!("a{}", self.buffers.len());
        let n = self.count(k);
        let krate = self.krate;
        self.buffers.push(quote!(let mut #buffer = #krate::scratch::zeros(#n);));
        let i = self.slot(k);
        let stmts = self.in_loop(k, |s| {
            let (mut stmts, exprs) = s.block(&[id]);
            let e = &exprs[0];
            stmts.push(quote!(#buffer[#i] = #e;));
            stmts
        });
        let lp = self.for_loop(k, quote!(#(#stmts)*));
        self.names.insert(id, quote!(#buffer[#i]));
        self.arrays.insert(id, (k, buffer));
        lp
    }

    /// The statements of `items` in the current scope.
    pub fn items(&mut self, items: &[Item]) -> Vec<TokenStream> {
        let mut roots = Vec::new();
        items.iter().for_each(|i| i.values(&mut roots));
        let mut stmts = self.bind_local(&roots);
        for item in items {
            match item {
                Item::Acc { place, positive, value } => {
                    let place = match place {
                        Place::Scalar(name) => {
                            let name = format_ident!("{}", name);
                            quote!(#name)
                        }
                        Place::At { target, array, row, col } => self.var_element(target, *array, *row, *col),
                    };
                    let e = self.expr(*value, 0);
                    stmts.push(if *positive { quote!(#place += #e;) } else { quote!(#place -= #e;) });
                }
                Item::Loop { var, items } => {
                    let var = *var;
                    let parallel = self.bound.is_empty() && matches!(self.dag.loop_var(var).extent, Extent::Dim(_));
                    match self.parallel.filter(|_| parallel) {
                        Some(outputs) => stmts.push(self.parallel_loop(var, items, outputs)),
                        None => {
                            let mut values = Vec::new();
                            items.iter().for_each(|i| i.values(&mut values));
                            let entry = self.sparse_entry(&values, var);
                            let body = self.in_loop(var, |s| {
                                s.name_entry(entry, var);
                                s.items(items)
                            });
                            stmts.push(self.for_loop_over(var, entry, quote!(#(#body)*)));
                        }
                    }
                }
            }
        }
        stmts
    }

    /// A top-level loop over a `dim` through the runtime's `parallel::accumulate`: chunks of samples on several
    /// threads, each accumulating into its own `value` and output slices (and its own arrays), summed in a fixed
    /// order so that results do not depend on the number of threads.
    fn parallel_loop(&mut self, var: u32, items: &[Item], (a, b): (&'static str, &'static str)) -> TokenStream {
        let before = self.buffers.len();
        self.local = true;
        let body = self.in_loop(var, |s| s.items(items));
        self.local = false;
        // The arrays computed inside the loop: each chunk has its own (those computed before it are only read).
        let buffers = &self.buffers[before..];
        self.chunk_buffers.extend(before..self.buffers.len());
        let (n, krate) = (self.count(var), self.krate);
        let (a, b) = (format_ident!("{}", a), format_ident!("{}", b));
        // The sizes, the data and the inputs the chunk reads as its locals: the compiler then keeps them in
        // registers instead of reloading them through the closure's captures after every store to an output.
        let used = mentions(&quote!(#(#buffers)* #(#body)*));
        let dims = self.model.dims.iter().filter(|d| used.contains(&format!("dim_{d}"))).map(|d| {
            let (local, field) = (format_ident!("dim_{}", d), format_ident!("{}", d));
            quote!(let #local = self.#field;)
        });
        let data = self.model.data.iter().filter(|item| used.contains(&format!("data_{}", item.name))).map(|item| {
            let (local, field) = (format_ident!("data_{}", item.name), format_ident!("{}", item.name));
            if item.sparse {
                quote!(let #local = &self.#field;)
            } else {
                quote!(let #local = self.#field.as_slice();)
            }
        });
        let inputs = self.inputs.iter().filter(|i| used.contains(**i)).map(|i| {
            let i = format_ident!("{}", i);
            quote!(let #i: &[f64] = #i;)
        });
        let lp = self.loop_over(var, quote!(range), quote!(#(#body)*));
        // A chunk that adds to the value sums its own (a product's chunks have none).
        let (value, value_out, lp) = match used.contains("value") {
            true => (quote!(value), quote!(value_out), quote!(let mut value = 0.0; #lp *value_out += value;)),
            false => (quote!(0.0), quote!(_), lp),
        };
        quote! {
            #krate::parallel::accumulate(#n, &mut #value, #a, #b, |range, #value_out, #a, #b| {
                #(#dims)*
                #(#data)*
                #(#inputs)*
                #(#buffers)*
                #lp
            });
        }
    }

    /// Runs `f` with loop variable `var` bound; names bound inside do not leak out.
    fn in_loop<T>(&mut self, var: u32, f: impl FnOnce(&mut Self) -> T) -> T {
        let outer = self.names.clone();
        // A loop may bind a variable an enclosing loop binds too; names that depend on the outer one are stale.
        // An array indexed by `var` stays valid.
        let (dag, arrays) = (self.dag, &self.arrays);
        self.names.retain(|id, _| !dag.free(*id).contains(&var) || arrays.get(id).is_some_and(|(k, _)| *k == var));
        self.bound.push(var);
        let result = f(self);
        self.bound.pop();
        self.names = outer;
        result
    }

    /// `for iK in 0..n { body }`, or `for (iK, sK) in X.row(r) { body }` over the stored entries of row `r` of
    /// a sparse data item when every value the body adds is a multiple of its entry `entry = X[r][iK]`.
    fn for_loop_over(&self, var: u32, entry: Option<ExprId>, body: TokenStream) -> TokenStream {
        let Some(Node::At(Array::Data(d), row, _)) = entry.map(|e| self.dag.node(e)).filter(|_| !self.batched(var))
        else {
            return self.for_loop(var, body);
        };
        let (i, value, r) = (format_ident!("i{}", var), format_ident!("s{}", var), self.index(row));
        let data = self.data_item(d);
        quote!(for (#i, #value) in #data.row(#r) { #body })
    }

    /// Inside a loop over the entries of a sparse row, the entry is the loop's value `sK`.
    fn name_entry(&mut self, entry: Option<ExprId>, var: u32) {
        if let Some(e) = entry {
            let value = format_ident!("s{}", var);
            self.names.insert(e, quote!(#value));
        }
    }

    /// The entry `X[r][k]` of a sparse data item (with `r` known before the loop over `k`) that every one of
    /// `values` is a multiple of, if there is one: then a loop over `k` adds nothing where the entry is not stored.
    fn sparse_entry(&self, values: &[ExprId], k: u32) -> Option<ExprId> {
        let mut memo = HashMap::new();
        let mut found = Factor::Zero;
        for v in values {
            found = found.both(self.factor(*v, k, &mut memo));
        }
        match found {
            Factor::Entry(e) => Some(e),
            _ => None,
        }
    }

    /// Which sparse entry indexed by `k` node `id` is a multiple of.
    fn factor(&self, id: ExprId, k: u32, memo: &mut HashMap<ExprId, Factor>) -> Factor {
        if let Some(f) = memo.get(&id) {
            return *f;
        }
        let f = match self.dag.node(id) {
            Node::At(Array::Data(d), r, Some(c))
                if self.model.data[d as usize].sparse
                    && self.dag.node(c) == Node::Idx(k)
                    && self.dag.free(r).iter().all(|v| *v != k && self.bound.contains(v)) =>
            {
                Factor::Entry(id)
            }
            Node::Const(_) if self.dag.as_const(id) == Some(0.0) => Factor::Zero,
            Node::Mul(a, b) => self.factor(a, k, memo).either(self.factor(b, k, memo)),
            Node::Div(a, _) | Node::Neg(a) => self.factor(a, k, memo),
            Node::Powi(a, n) if n > 0 => self.factor(a, k, memo),
            Node::Add(a, b) | Node::Sub(a, b) | Node::Select(_, a, b) => {
                self.factor(a, k, memo).both(self.factor(b, k, memo))
            }
            Node::Sum(j, body) if j != k => self.factor(body, k, memo),
            _ => Factor::None,
        };
        memo.insert(id, f);
        f
    }

    /// A data item as the code reads it here: `data_X` inside a parallel chunk, `self.X` elsewhere.
    fn data_item(&self, d: u32) -> TokenStream {
        let item = &self.model.data[d as usize];
        if self.local {
            let name = format_ident!("data_{}", item.name);
            quote!(#name)
        } else {
            let name = format_ident!("{}", item.name);
            quote!(self.#name)
        }
    }

    /// `for iK in 0..n { body }` (over the batch for a batched loop).
    fn for_loop(&self, var: u32, body: TokenStream) -> TokenStream {
        let n = self.count(var);
        self.loop_over(var, quote!(0..#n), body)
    }

    /// The number of iterations of a loop, as a `usize` expression.
    fn extent(&self, e: Extent) -> TokenStream {
        match e {
            Extent::Dim(d) if self.local => {
                let name = format_ident!("dim_{}", self.model.dims[d as usize]);
                quote!(#name)
            }
            _ => extent(self.model, e),
        }
    }

    /// An index node (`Idx` or an integer `Const`) as a `usize` expression.
    fn index(&self, id: ExprId) -> TokenStream {
        match self.dag.node(id) {
            Node::Idx(k) => {
                let i = format_ident!("i{}", k);
                quote!(#i)
            }
            _ => {
                let v = self.dag.as_const(id).expect("an index is a loop variable or a constant");
                let i = Literal::usize_unsuffixed(v as usize);
                quote!(#i)
            }
        }
    }

    /// `array[row]` or `array[(row, col)]`; matrix variables are stored row by row.
    fn element(&self, array: Array, row: ExprId, col: Option<ExprId>) -> TokenStream {
        match array {
            Array::X | Array::Y => self.var_element(if array == Array::X { "x" } else { "y" }, array, row, col),
            Array::DirX => self.var_element("u", Array::X, row, col),
            Array::DirY => self.var_element("v", Array::Y, row, col),
            Array::Data(d) if self.model.data[d as usize].sparse => {
                // An entry outside a loop over its row's stored entries: a search in the row.
                let (data, r) = (self.data_item(d), self.index(row));
                let c = self.index(col.expect("a sparse data item is a matrix"));
                quote!(#data.get(#r, #c))
            }
            Array::Data(d) if self.local => {
                // Inside a parallel chunk the data are local slices, read row by row.
                let (data, r) = (self.data_item(d), self.index(row));
                match (col, self.model.data[d as usize].shape.get(1)) {
                    (Some(c), Some(cols)) => {
                        let (c, cols) = (self.index(c), self.extent(*cols));
                        quote!(#data[#r * #cols + #c])
                    }
                    _ => quote!(#data[#r]),
                }
            }
            Array::Data(d) => {
                let (data, r) = (self.data_item(d), self.index(row));
                match col {
                    Some(c) => {
                        let c = self.index(c);
                        quote!(#data[(#r, #c)])
                    }
                    None => quote!(#data[#r]),
                }
            }
        }
    }

    /// Element `[row]` (or `[row][col]`, stored at `row * cols + col`) of slice `base`, laid out like variable
    /// `array` (`X` or `Y`).
    fn var_element(&self, base: &str, array: Array, row: ExprId, col: Option<ExprId>) -> TokenStream {
        let base = format_ident!("{}", base);
        let shape = if array == Array::X { &self.model.x.shape } else { &self.model.y.shape };
        let r = self.index(row);
        match (col, shape.as_slice()) {
            (Some(c), [_, cols]) => {
                let (c, cols) = (self.index(c), self.extent(*cols));
                quote!(#base[#r * #cols + #c])
            }
            _ => quote!(#base[#r]),
        }
    }

    /// `let tK = <node>;`, registering the name.
    fn binding(&mut self, id: ExprId) -> TokenStream {
        let value = match self.dag.node(id) {
            Node::Select(c, a, b) if self.eager_selects() => {
                let (cond, then, other) = (self.expr(c, 0), self.expr(a, 0), self.expr(b, 0));
                quote!(if #cond { #then } else { #other })
            }
            Node::Select(c, a, b) => {
                let cond = self.expr(c, 0);
                let then = self.branch(a);
                let other = self.branch(b);
                quote!(if #cond { #then } else { #other })
            }
            Node::Sum(k, body) => return self.reduction(id, k, body, quote!(0.0), |t, e| quote!(#t += #e;)),
            Node::Max(k, body) => {
                let start = quote!(f64::NEG_INFINITY);
                return self.reduction(id, k, body, start, |t, e| quote!(#t = #t.max(#e);));
            }
            _ => self.expr(id, 0),
        };
        if is_name(&value) {
            // A node whose expression is another's name (a detached value): that name, not a copy.
            self.names.insert(id, value);
            return TokenStream::new();
        }
        let name = format_ident!("t{}", self.next);
        self.next += 1;
        self.names.insert(id, quote!(#name));
        quote!(let #name = #value;)
    }

    /// `let mut tK = start; for … { …; combine(tK, body) }`: a sum or a maximum over loop variable `k`.
    fn reduction(
        &mut self,
        id: ExprId,
        k: u32,
        body: ExprId,
        start: TokenStream,
        combine: impl Fn(&proc_macro2::Ident, &TokenStream) -> TokenStream,
    ) -> TokenStream {
        let name = format_ident!("t{}", self.next);
        self.next += 1;
        // A maximum visits every entry (the zeros count); a sum of multiples of a sparse entry only the stored ones.
        let entry = if matches!(self.dag.node(id), Node::Sum(..)) { self.sparse_entry(&[body], k) } else { None };
        let stmts = self.in_loop(k, |s| {
            s.name_entry(entry, k);
            let (mut stmts, exprs) = s.block(&[body]);
            stmts.push(combine(&name, &exprs[0]));
            stmts
        });
        let lp = self.for_loop_over(k, entry, quote!(#(#stmts)*));
        self.names.insert(id, quote!(#name));
        quote!(let mut #name = #start; #lp)
    }

    /// The same emitter drawing on `budget`: each node written and each name carried into a branch costs one unit;
    /// when none is left, what is emitted is empty and the caller (which sees `budget` at 0) refuses the problem.
    /// Without it, nested `if`s over thousands of `let`s made emission quadratic before any size check.
    pub fn budgeted(self, budget: &'a std::cell::Cell<usize>) -> Self {
        Emitter { budget: Some(budget), ..self }
    }

    /// Spends `units` of the budget; whether any was left.
    fn spend(&self, units: usize) -> bool {
        match self.budget {
            Some(b) if b.get() == 0 => false,
            Some(b) => {
                b.set(b.get().saturating_sub(units));
                true
            }
            None => true,
        }
    }

    /// A block that computes `root`: its own bindings, which go out of scope after it, then the value. Used for
    /// each branch of an `if` and for a function with one output. A select used only here becomes an `if` in
    /// place rather than a binding.
    pub fn branch(&mut self, root: ExprId) -> TokenStream {
        if !self.spend(self.names.len() + 1) {
            return TokenStream::new();
        }
        let outer = self.names.clone();
        self.branch_depth += 1;
        let body = match self.dag.node(root) {
            Node::Select(c, a, b) if self.uses.get(&root) == Some(&1) && !self.eager_selects() => {
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
        self.branch_depth -= 1;
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
        if !self.spend(1) {
            return (TokenStream::new(), ATOM);
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
            Node::Select(..) | Node::Sum(..) | Node::Max(..) => {
                unreachable!("selects, sums and maxima are always bound by `block`")
            }
            Node::Detach(a) => self.expr_prec(a),
            Node::Idx(_) => (self.index(id), ATOM),
            Node::Batch(d) if Some(d) == self.sampling => (quote!((samples as f64)), ATOM),
            // A divisor of means over a dim not batched here is the dim's size, as in a full evaluation.
            Node::Size(d) | Node::Batch(d) => {
                let n = self.extent(Extent::Dim(d));
                (quote!((#n as f64)), ATOM)
            }
            Node::At(array, r, c) => (self.element(array, r, c), ATOM),
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

/// The number of elements of `e`, as a `usize` expression: a literal, or the field that holds a `dim`.
pub fn extent(model: &Model, e: Extent) -> TokenStream {
    match e {
        Extent::Fixed(n) => {
            let n = Literal::usize_unsuffixed(n);
            quote!(#n)
        }
        Extent::Dim(d) => {
            let name = format_ident!("{}", model.dims[d as usize]);
            quote!(self.#name)
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

/// Whether `tokens` is a single identifier (a binding's name).
fn is_name(tokens: &TokenStream) -> bool {
    let mut it = tokens.clone().into_iter();
    matches!((it.next(), it.next()), (Some(proc_macro2::TokenTree::Ident(_)), None))
}

/// The identifiers `tokens` mention, at any depth.
fn mentions(tokens: &TokenStream) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    let mut stack = vec![tokens.clone()];
    while let Some(ts) = stack.pop() {
        for tree in ts {
            match tree {
                proc_macro2::TokenTree::Ident(i) => {
                    out.insert(i.to_string());
                }
                proc_macro2::TokenTree::Group(g) => stack.push(g.stream()),
                _ => {}
            }
        }
    }
    out
}
