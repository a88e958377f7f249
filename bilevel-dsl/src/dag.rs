//! The scalar expression DAG: an arena of hash-consed nodes, simplified as they are built.
//!
//! Invariants (checked by `debug_assert!` in [`Dag::insert`]):
//! - every child of a node has a smaller [`ExprId`] than the node, so ascending ids are a topological order;
//! - equal nodes exist once (the memo maps each node to its id);
//! - the operands of commutative nodes (`Add`, `Mul`) are in canonical order (constants first, then by id).
//!
//! Folding at construction only applies identities that hold in floating point for finite operands
//! (`a + 0`, `a * 1`, `--a`, `a ^ 1`, `a + a = 2a`, `a * a = a^2`, constant arithmetic) and the structural zero
//! `a * 0 = 0` that keeps derivatives sparse. Rules that change results, such as `a / a = 1` or `a - a = 0`, are never applied.

use std::collections::HashMap;

/// The index of a node in a [`Dag`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExprId(u32);

impl ExprId {
    /// The position of the node in the arena.
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// The id of the node at this position of the arena.
    pub fn from_index(i: usize) -> ExprId {
        ExprId(u32::try_from(i).expect("fewer than 2^32 nodes"))
    }
}

/// Elementary functions of one argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Func {
    /// `sin`
    Sin,
    /// `cos`
    Cos,
    /// `tan`
    Tan,
    /// `exp`
    Exp,
    /// `log` (natural)
    Log,
    /// `sqrt`
    Sqrt,
    /// `tanh`
    Tanh,
    /// `sigmoid(t) = 1 / (1 + exp(-t))`
    Sigmoid,
    /// `softplus(t) = log(1 + exp(t))`, evaluated without overflow
    Softplus,
}

impl Func {
    /// The function of the language with this name.
    pub fn from_name(name: &str) -> Option<Func> {
        use Func::*;
        Some(match name {
            "sin" => Sin,
            "cos" => Cos,
            "tan" => Tan,
            "exp" => Exp,
            "log" => Log,
            "sqrt" => Sqrt,
            "tanh" => Tanh,
            "sigmoid" => Sigmoid,
            "softplus" => Softplus,
            _ => return None,
        })
    }

    /// Evaluates the function (the same formula the generated code uses).
    pub fn apply(self, t: f64) -> f64 {
        use Func::*;
        match self {
            Sin => t.sin(),
            Cos => t.cos(),
            Tan => t.tan(),
            Exp => t.exp(),
            Log => t.ln(),
            Sqrt => t.sqrt(),
            Tanh => t.tanh(),
            Sigmoid => sigmoid(t),
            Softplus => softplus(t),
        }
    }
}

/// `1 / (1 + exp(-t))`.
pub fn sigmoid(t: f64) -> f64 {
    1.0 / (1.0 + (-t).exp())
}

/// `log(1 + exp(t))` without overflow for large `t`.
pub fn softplus(t: f64) -> f64 {
    t.max(0.0) + (-t.abs()).exp().ln_1p()
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cmp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl Cmp {
    /// Evaluates the comparison.
    pub fn apply(self, a: f64, b: f64) -> bool {
        match self {
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
        }
    }
}

/// The arrays a problem with data reads element by element (see [`Node::At`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Array {
    /// The upper variable `x`.
    X,
    /// The lower variable `y`.
    Y,
    /// A direction `u` in the space of `x` (the tangent a Hessian–vector product multiplies).
    DirX,
    /// A direction `v` in the space of `y`.
    DirY,
    /// The `data` item with this index.
    Data(u32),
}

/// How far a loop runs: a number known now or a `dim` bound when data are attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Extent {
    /// A fixed count.
    Fixed(usize),
    /// The `dim` with this index.
    Dim(u32),
}

impl Extent {
    /// How the size reads in the problem text: the number, or the name of the `dim` (from `dims`).
    pub fn name(self, dims: &[String]) -> String {
        match self {
            Extent::Fixed(n) => n.to_string(),
            Extent::Dim(d) => dims[d as usize].clone(),
        }
    }
}

/// A loop variable: it runs over `0..extent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Loop {
    /// One past the last value.
    pub extent: Extent,
}

/// A node of the DAG. Numbers are `f64`; `Cmp`, `And`, `Or`, `Not` and `Bool` are conditions.
///
/// Problems with data add loops: [`Node::Idx`] is a loop variable, [`Node::Sum`] sums its body over one, and
/// [`Node::At`] reads an array element at indices that are loop variables or constants. A node's *free* loop
/// variables ([`Dag::free`]) are those it depends on that no `Sum` inside it binds: it stands for one number
/// per value of its free variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    /// A number, stored as its bits (`-0.0` is stored as `0.0`).
    Const(u64),
    /// A condition known at construction.
    Bool(bool),
    /// Component `i` of the upper variable.
    X(u32),
    /// Component `i` of the lower variable.
    Y(u32),
    /// Scalar `i` of the flattened parameters.
    Param(u32),
    /// `a + b`
    Add(ExprId, ExprId),
    /// `a - b`
    Sub(ExprId, ExprId),
    /// `a * b`
    Mul(ExprId, ExprId),
    /// `a / b`
    Div(ExprId, ExprId),
    /// `-a`
    Neg(ExprId),
    /// `a ^ k` for an integer `k`
    Powi(ExprId, i32),
    /// `a ^ b` for a real `b`
    Pow(ExprId, ExprId),
    /// `f(a)`
    Func(Func, ExprId),
    /// `a op b`, a condition
    Cmp(Cmp, ExprId, ExprId),
    /// `c and d`
    And(ExprId, ExprId),
    /// `c or d`
    Or(ExprId, ExprId),
    /// `not c`
    Not(ExprId),
    /// `if c then a else b`
    Select(ExprId, ExprId, ExprId),
    /// The value of loop variable `k` (an index: only [`Node::At`] uses it).
    Idx(u32),
    /// The size bound to `dim` number `d`, as a number.
    Size(u32),
    /// `array[row]` or `array[row][col]`; the indices are `Idx` or `Const` nodes.
    At(Array, ExprId, Option<ExprId>),
    /// `Σ body` over the values of loop variable `k`.
    Sum(u32, ExprId),
    /// `max body` over the values of loop variable `k`. Only ever the shift of a `logsumexp`, inside
    /// [`Node::Detach`].
    Max(u32, ExprId),
    /// The value of `a`, with derivative zero: a shift such as the `m` of `m + log Σ exp(v − m)`, which makes
    /// the evaluation stable while the value (and so every derivative) does not depend on it.
    Detach(ExprId),
}

impl Node {
    /// The children of the node, in order.
    pub fn children(&self) -> Vec<ExprId> {
        use Node::*;
        match *self {
            Const(_) | Bool(_) | X(_) | Y(_) | Param(_) | Idx(_) | Size(_) => vec![],
            At(_, r, None) => vec![r],
            At(_, r, Some(c)) => vec![r, c],
            Neg(a) | Powi(a, _) | Func(_, a) | Not(a) | Sum(_, a) | Max(_, a) | Detach(a) => vec![a],
            Add(a, b) | Sub(a, b) | Mul(a, b) | Div(a, b) | Pow(a, b) | Cmp(_, a, b) | And(a, b) | Or(a, b) => {
                vec![a, b]
            }
            Select(c, a, b) => vec![c, a, b],
        }
    }
}

/// The arena of nodes. See the module documentation for its invariants.
#[derive(Clone, Debug, Default)]
pub struct Dag {
    nodes: Vec<Node>,
    memo: HashMap<Node, ExprId>,
    /// The free loop variables of each node, sorted (empty for every node of a problem without loops).
    free: Vec<Box<[u32]>>,
    /// The loop variables, indexed by the number in [`Node::Idx`] and [`Node::Sum`].
    loops: Vec<Loop>,
    /// How many nodes were asked for, found or new: the work of building the DAG (a sum of a sum repeats the
    /// same few nodes 10¹⁰ times without growing the DAG).
    requests: u64,
    /// A smaller limit than [`diff::MAX_NODES`](crate::diff::MAX_NODES) on the nodes differentiation may create
    /// (for tests of what happens beyond it).
    node_limit: Option<usize>,
}

impl Dag {
    /// An empty DAG.
    pub fn new() -> Self {
        Self::default()
    }

    /// The node with this id.
    pub fn node(&self, id: ExprId) -> Node {
        self.nodes[id.index()]
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there is no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The value of a constant node.
    pub fn as_const(&self, id: ExprId) -> Option<f64> {
        match self.node(id) {
            Node::Const(bits) => Some(f64::from_bits(bits)),
            _ => None,
        }
    }

    fn is(&self, id: ExprId, v: f64) -> bool {
        self.as_const(id) == Some(v)
    }

    /// Adds a node (or finds the equal one). Does no simplification.
    pub fn insert(&mut self, node: Node) -> ExprId {
        self.requests += 1;
        if let Some(&id) = self.memo.get(&node) {
            return id;
        }
        let id = ExprId(u32::try_from(self.nodes.len()).expect("fewer than 2^32 nodes"));
        debug_assert!(node.children().iter().all(|c| *c < id), "children come before parents");
        let free = self.free_of(&node);
        self.free.push(free);
        self.nodes.push(node);
        self.memo.insert(node, id);
        id
    }

    fn free_of(&self, node: &Node) -> Box<[u32]> {
        let mut vars: Vec<u32> = node.children().iter().flat_map(|c| self.free[c.index()].iter().copied()).collect();
        match *node {
            Node::Idx(k) => vars.push(k),
            Node::Sum(k, _) | Node::Max(k, _) => vars.retain(|v| *v != k),
            _ => {}
        }
        vars.sort_unstable();
        vars.dedup();
        vars.into_boxed_slice()
    }

    /// Lowers the limit on the nodes differentiation may create (see [`crate::diff::too_large`]).
    pub fn limit_nodes(&mut self, limit: usize) {
        self.node_limit = Some(limit);
    }

    /// The most nodes differentiation may create: [`crate::diff::MAX_NODES`] unless lowered.
    pub fn node_limit(&self) -> usize {
        self.node_limit.unwrap_or(crate::diff::MAX_NODES)
    }

    /// How many nodes were requested so far (found or added): the work spent building the DAG.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// The free loop variables of a node, sorted.
    pub fn free(&self, id: ExprId) -> &[u32] {
        &self.free[id.index()]
    }

    /// A new loop variable running over `0..extent`.
    pub fn new_loop(&mut self, extent: Extent) -> u32 {
        self.loops.push(Loop { extent });
        u32::try_from(self.loops.len() - 1).expect("fewer than 2^32 loops")
    }

    /// Loop variable `k`.
    /// How many loop variables the DAG has (they are numbered from 0).
    pub fn loop_count(&self) -> usize {
        self.loops.len()
    }

    /// The loop variable `k`.
    pub fn loop_var(&self, k: u32) -> Loop {
        self.loops[k as usize]
    }

    /// The number of elements of `extent`, as a node (a constant or a `Size`).
    pub fn extent(&mut self, extent: Extent) -> ExprId {
        match extent {
            Extent::Fixed(n) => self.constant(n as f64),
            Extent::Dim(d) => self.insert(Node::Size(d)),
        }
    }

    /// `Σ body` over loop variable `k`. A body that does not depend on `k` is multiplied by the count instead.
    pub fn sum(&mut self, k: u32, body: ExprId) -> ExprId {
        if self.is(body, 0.0) {
            return body;
        }
        if !self.free(body).contains(&k) {
            let count = self.extent(self.loop_var(k).extent);
            return self.mul(count, body);
        }
        self.insert(Node::Sum(k, body))
    }

    /// `max body` over loop variable `k` (the body itself if it does not depend on `k`).
    pub fn max_over(&mut self, k: u32, body: ExprId) -> ExprId {
        if !self.free(body).contains(&k) {
            return body;
        }
        self.insert(Node::Max(k, body))
    }

    /// `a` with derivative zero (see [`Node::Detach`]); a constant stays itself.
    pub fn detach(&mut self, a: ExprId) -> ExprId {
        if self.as_const(a).is_some() {
            return a;
        }
        self.insert(Node::Detach(a))
    }

    /// `Σ body` over each of the loop variables `vars` (innermost first).
    pub fn sum_over(&mut self, vars: &[u32], body: ExprId) -> ExprId {
        vars.iter().fold(body, |acc, &k| self.sum(k, acc))
    }

    /// `body` with every free occurrence of each loop variable `k` of `pairs` replaced by its index node, all at
    /// once (so `[(a, Idx(b)), (b, Idx(a))]` swaps two variables).
    pub fn subst(&mut self, body: ExprId, pairs: &[(u32, ExprId)]) -> ExprId {
        let mut map: HashMap<ExprId, ExprId> = HashMap::new();
        let reach = self.reachable(&[body]);
        for (i, &reached) in reach.iter().enumerate() {
            let id = ExprId::from_index(i);
            if !reached || !pairs.iter().any(|(k, _)| self.free(id).contains(k)) {
                continue;
            }
            let node = self.node(id);
            let new = match (node, pairs.iter().find(|(k, _)| node == Node::Idx(*k))) {
                (_, Some(&(_, to))) => to,
                _ => {
                    let get = |c: ExprId| map.get(&c).copied().unwrap_or(c);
                    self.remake(node, get)
                }
            };
            map.insert(id, new);
        }
        map.get(&body).copied().unwrap_or(body)
    }

    /// Builds `node` again with its children mapped by `f`, through the simplifying constructors.
    pub fn remake(&mut self, node: Node, f: impl Fn(ExprId) -> ExprId) -> ExprId {
        use Node::*;
        match node {
            Const(_) | Bool(_) | X(_) | Y(_) | Param(_) | Idx(_) | Size(_) => self.insert(node),
            At(a, r, c) => self.insert(At(a, f(r), c.map(&f))),
            Add(a, b) => self.add(f(a), f(b)),
            Sub(a, b) => self.sub(f(a), f(b)),
            Mul(a, b) => self.mul(f(a), f(b)),
            Div(a, b) => self.div(f(a), f(b)),
            Neg(a) => self.neg(f(a)),
            Powi(a, k) => self.powi(f(a), k),
            Pow(a, b) => self.pow(f(a), f(b)),
            Func(g, a) => self.func(g, f(a)),
            Cmp(op, a, b) => self.cmp(op, f(a), f(b)),
            And(a, b) => self.and(f(a), f(b)),
            Or(a, b) => self.or(f(a), f(b)),
            Not(a) => self.not(f(a)),
            Select(c, a, b) => self.select(f(c), f(a), f(b)),
            Sum(k, a) => self.sum(k, f(a)),
            Max(k, a) => self.max_over(k, f(a)),
            Detach(a) => self.detach(f(a)),
        }
    }

    /// A number.
    pub fn constant(&mut self, v: f64) -> ExprId {
        let v = if v == 0.0 { 0.0 } else { v };
        self.insert(Node::Const(v.to_bits()))
    }

    /// A condition known now.
    pub fn boolean(&mut self, b: bool) -> ExprId {
        self.insert(Node::Bool(b))
    }

    /// Orders the operands of a commutative node: constants first, then by id.
    fn canonical(&self, a: ExprId, b: ExprId) -> (ExprId, ExprId) {
        let key = |id: ExprId| (self.as_const(id).is_none(), id);
        if key(a) <= key(b) {
            (a, b)
        } else {
            (b, a)
        }
    }

    /// `(c, p, q)` if `id` is `if c then p else q`.
    fn as_select(&self, id: ExprId) -> Option<(ExprId, ExprId, ExprId)> {
        match self.node(id) {
            Node::Select(c, p, q) => Some((c, p, q)),
            _ => None,
        }
    }

    /// `if c then p else q` with one branch a constant 0: the form the adjoint of a branch takes.
    fn as_masked(&self, id: ExprId) -> Option<(ExprId, ExprId, ExprId)> {
        self.as_select(id).filter(|&(_, p, q)| self.is(p, 0.0) || self.is(q, 0.0))
    }

    /// Whether `id` is `if c then 1 else 0` or `if c then 0 else 1`.
    fn is_bare_mask(&self, id: ExprId) -> bool {
        self.as_select(id)
            .is_some_and(|(_, p, q)| (self.is(p, 0.0) && self.is(q, 1.0)) || (self.is(p, 1.0) && self.is(q, 0.0)))
    }

    /// `if c then p ∘ p2 else q ∘ q2` when `a` and `b` are selects on the same condition `c`.
    fn merge_selects(&mut self, a: ExprId, b: ExprId, op: fn(&mut Dag, ExprId, ExprId) -> ExprId) -> Option<ExprId> {
        let ((c, p, q), (c2, p2, q2)) = (self.as_select(a)?, self.as_select(b)?);
        if c != c2 {
            return None;
        }
        let (t, f) = (op(self, p, p2), op(self, q, q2));
        Some(self.select(c, t, f))
    }

    /// `if c then p ∘ b else q ∘ b` when `a = if c then p else q` has a zero branch. A product or quotient with
    /// a masked value moves into the branch, so work that belongs to one branch (for example the derivative of
    /// `sqrt(t)` under `if t > 0`) is only evaluated when that branch is taken. The zero branch stays zero, so
    /// nothing is duplicated.
    fn push_into_mask(&mut self, a: ExprId, b: ExprId, op: fn(&mut Dag, ExprId, ExprId) -> ExprId) -> Option<ExprId> {
        let (c, p, q) = self.as_masked(a)?;
        let (t, f) = (op(self, p, b), op(self, q, b));
        Some(self.select(c, t, f))
    }

    /// `a + b`.
    pub fn add(&mut self, a: ExprId, b: ExprId) -> ExprId {
        if let (Some(x), Some(y)) = (self.as_const(a), self.as_const(b)) {
            return self.constant(x + y);
        }
        if self.is(a, 0.0) {
            return b;
        }
        if self.is(b, 0.0) {
            return a;
        }
        if a == b {
            // Exact in floating point: a + a is 2a.
            let two = self.constant(2.0);
            return self.mul(two, a);
        }
        match (self.node(a), self.node(b)) {
            (_, Node::Neg(b1)) => return self.sub(a, b1),
            (Node::Neg(a1), _) => return self.sub(b, a1),
            _ => {}
        }
        if let Some(r) = self.merge_selects(a, b, Dag::add) {
            return r;
        }
        let (a, b) = self.canonical(a, b);
        self.insert(Node::Add(a, b))
    }

    /// `a - b`.
    pub fn sub(&mut self, a: ExprId, b: ExprId) -> ExprId {
        if let (Some(x), Some(y)) = (self.as_const(a), self.as_const(b)) {
            return self.constant(x - y);
        }
        if self.is(b, 0.0) {
            return a;
        }
        if self.is(a, 0.0) {
            return self.neg(b);
        }
        if let Node::Neg(b1) = self.node(b) {
            return self.add(a, b1);
        }
        if let Node::Neg(a1) = self.node(a) {
            let s = self.add(a1, b);
            return self.neg(s);
        }
        if let Some(r) = self.merge_selects(a, b, Dag::sub) {
            return r;
        }
        self.insert(Node::Sub(a, b))
    }

    /// `a * b`.
    pub fn mul(&mut self, a: ExprId, b: ExprId) -> ExprId {
        let (a, b) = self.canonical(a, b);
        if let (Some(x), Some(y)) = (self.as_const(a), self.as_const(b)) {
            return self.constant(x * y);
        }
        if self.is(a, 0.0) {
            return a;
        }
        if self.is(a, 1.0) {
            return b;
        }
        if self.is(a, -1.0) {
            return self.neg(b);
        }
        if a == b {
            // Exact: `powi(2)` is the same multiplication, and its derivative is one term, 2a.
            return self.powi(a, 2);
        }
        match (self.node(a), self.node(b)) {
            (_, Node::Neg(b1)) => {
                let m = self.mul(a, b1);
                return self.neg(m);
            }
            (Node::Neg(a1), _) => {
                let m = self.mul(a1, b);
                return self.neg(m);
            }
            (Node::Const(_), Node::Mul(b1, b2)) if self.as_const(b1).is_some() => {
                let k = self.mul(a, b1);
                return self.mul(k, b2);
            }
            _ => {}
        }
        // A factor that is a bare mask (`if c then 1 else 0`) takes the other factor into its branch in one node.
        // Pushing the mask into the other factor instead would copy a chain of masked selects (the adjoint deep in
        // an `else if` chain) once per link: quadratic in the chain.
        let (first, second) = if self.is_bare_mask(a) && !self.is_bare_mask(b) { (a, b) } else { (b, a) };
        let pushed = self.merge_selects(a, b, Dag::mul).or_else(|| self.push_into_mask(first, second, Dag::mul));
        if let Some(r) = pushed.or_else(|| self.push_into_mask(second, first, Dag::mul)) {
            return r;
        }
        self.insert(Node::Mul(a, b))
    }

    /// `a / b`.
    pub fn div(&mut self, a: ExprId, b: ExprId) -> ExprId {
        if let (Some(x), Some(y)) = (self.as_const(a), self.as_const(b)) {
            return self.constant(x / y);
        }
        if self.is(a, 0.0) || self.is(b, 1.0) {
            return a;
        }
        if self.is(b, -1.0) {
            return self.neg(a);
        }
        match (self.node(a), self.node(b)) {
            (Node::Neg(a1), _) => {
                let d = self.div(a1, b);
                return self.neg(d);
            }
            (_, Node::Neg(b1)) => {
                let d = self.div(a, b1);
                return self.neg(d);
            }
            _ => {}
        }
        if let Some(r) = self.merge_selects(a, b, Dag::div).or_else(|| self.push_into_mask(a, b, Dag::div)) {
            return r;
        }
        self.insert(Node::Div(a, b))
    }

    /// `-a`.
    pub fn neg(&mut self, a: ExprId) -> ExprId {
        if let Some(x) = self.as_const(a) {
            return self.constant(-x);
        }
        match self.node(a) {
            Node::Neg(a1) => return a1,
            Node::Sub(p, q) => return self.sub(q, p),
            _ => {}
        }
        if let Some((c, p, q)) = self.as_masked(a) {
            let (t, f) = (self.neg(p), self.neg(q));
            return self.select(c, t, f);
        }
        self.insert(Node::Neg(a))
    }

    /// `a ^ k` for an integer `k`.
    pub fn powi(&mut self, a: ExprId, k: i32) -> ExprId {
        match k {
            0 => return self.constant(1.0),
            1 => return a,
            _ => {}
        }
        if let Some(x) = self.as_const(a) {
            return self.constant(x.powi(k));
        }
        self.insert(Node::Powi(a, k))
    }

    /// `a ^ b`: an integer power when `b` is a small integer constant, `sqrt` for `b = 0.5`.
    pub fn pow(&mut self, a: ExprId, b: ExprId) -> ExprId {
        if let Some(e) = self.as_const(b) {
            if e.fract() == 0.0 && e.abs() <= 64.0 {
                return self.powi(a, e as i32);
            }
            if e == 0.5 {
                return self.func(Func::Sqrt, a);
            }
            if let Some(x) = self.as_const(a) {
                return self.constant(x.powf(e));
            }
        }
        self.insert(Node::Pow(a, b))
    }

    /// `f(a)`.
    pub fn func(&mut self, f: Func, a: ExprId) -> ExprId {
        if let Some(x) = self.as_const(a) {
            return self.constant(f.apply(x));
        }
        self.insert(Node::Func(f, a))
    }

    /// The condition `a op b`.
    pub fn cmp(&mut self, op: Cmp, a: ExprId, b: ExprId) -> ExprId {
        if let (Some(x), Some(y)) = (self.as_const(a), self.as_const(b)) {
            return self.boolean(op.apply(x, y));
        }
        self.insert(Node::Cmp(op, a, b))
    }

    fn as_bool(&self, id: ExprId) -> Option<bool> {
        match self.node(id) {
            Node::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// `c and d`.
    pub fn and(&mut self, c: ExprId, d: ExprId) -> ExprId {
        match (self.as_bool(c), self.as_bool(d)) {
            (Some(false), _) | (_, Some(false)) => self.boolean(false),
            (Some(true), _) => d,
            (_, Some(true)) => c,
            _ => self.insert(Node::And(c, d)),
        }
    }

    /// `c or d`.
    pub fn or(&mut self, c: ExprId, d: ExprId) -> ExprId {
        match (self.as_bool(c), self.as_bool(d)) {
            (Some(true), _) | (_, Some(true)) => self.boolean(true),
            (Some(false), _) => d,
            (_, Some(false)) => c,
            _ => self.insert(Node::Or(c, d)),
        }
    }

    /// `not c`.
    pub fn not(&mut self, c: ExprId) -> ExprId {
        match self.node(c) {
            Node::Bool(b) => self.boolean(!b),
            Node::Not(c1) => c1,
            _ => self.insert(Node::Not(c)),
        }
    }

    /// `if c then a else b`.
    ///
    /// A mask inside a mask is one mask on both conditions: `if c then (if d then p else 0) else 0` is
    /// `if c and d then p else 0` (and likewise with the zeros on the other sides). The adjoint of the k-th branch
    /// of an `else if` chain is k masks deep; as one mask on a shared chain of conditions, each term that flows
    /// into the branch adds one node, not k, and the chain's derivatives stay linear in its length.
    pub fn select(&mut self, c: ExprId, a: ExprId, b: ExprId) -> ExprId {
        match self.as_bool(c) {
            Some(true) => return a,
            Some(false) => return b,
            None if a == b => return a,
            None => {}
        }
        let (zero_else, zero_then) = (self.is(b, 0.0), self.is(a, 0.0));
        if zero_else || zero_then {
            // The condition under which the outer select takes the non-zero side, and that side.
            let (outer, inner) = if zero_else { (c, a) } else { (self.not(c), b) };
            if let Some((d, p, q)) = self.as_masked(inner) {
                let (cond, value) = if self.is(q, 0.0) { (d, p) } else { (self.not(d), q) };
                let both = self.and(outer, cond);
                let zero = self.constant(0.0);
                return self.select(both, value, zero);
            }
        }
        self.insert(Node::Select(c, a, b))
    }

    /// The nodes reachable from `roots` (the roots included), in increasing order, which is topological: a node's
    /// children come before it. Costs the size of the cone, not of the DAG.
    pub fn cone(&self, roots: &[ExprId]) -> Vec<ExprId> {
        let mut seen: std::collections::HashSet<ExprId> = roots.iter().copied().collect();
        let mut stack: Vec<ExprId> = seen.iter().copied().collect();
        while let Some(id) = stack.pop() {
            for c in self.nodes[id.index()].children() {
                if seen.insert(c) {
                    stack.push(c);
                }
            }
        }
        let mut cone: Vec<ExprId> = seen.into_iter().collect();
        cone.sort_unstable_by_key(|id| id.index());
        cone
    }

    /// Whether each node up to the highest root is reachable from `roots` (indexed by node; a scan of every node
    /// below the roots: use [`Dag::cone`] when the roots reach few of them).
    pub fn reachable(&self, roots: &[ExprId]) -> Vec<bool> {
        let top = roots.iter().map(|r| r.index() + 1).max().unwrap_or(0);
        let mut seen = vec![false; top];
        for r in roots {
            seen[r.index()] = true;
        }
        for i in (0..top).rev() {
            if seen[i] {
                for c in self.nodes[i].children() {
                    seen[c.index()] = true;
                }
            }
        }
        seen
    }
}

/// Whether `a` with loop variable `k` renamed to `k2` is `b` (`(k, k2)` = `rename`): the same expression over
/// another loop's index, e.g. `Σ_l X[i][l] W[l][c]` and `Σ_l X[i][l] W[l][d]`.
pub fn alpha_equal(dag: &Dag, a: ExprId, b: ExprId, rename: (u32, u32)) -> bool {
    fn eq(dag: &Dag, a: ExprId, b: ExprId, (k, k2): (u32, u32), memo: &mut HashMap<(ExprId, ExprId), bool>) -> bool {
        if !dag.free(a).contains(&k) && !dag.free(b).contains(&k2) {
            return a == b;
        }
        if let Some(&known) = memo.get(&(a, b)) {
            return known;
        }
        let (na, nb) = (dag.node(a), dag.node(b));
        let same_kind = match (na, nb) {
            (Node::Idx(p), Node::Idx(q)) => p == k && q == k2,
            (Node::Func(f, _), Node::Func(g, _)) => f == g,
            (Node::Powi(_, p), Node::Powi(_, q)) => p == q,
            (Node::Cmp(p, ..), Node::Cmp(q, ..)) => p == q,
            (Node::Sum(p, _), Node::Sum(q, _)) | (Node::Max(p, _), Node::Max(q, _)) => p == q && p != k,
            (Node::At(p, _, c), Node::At(q, _, d)) => p == q && c.is_some() == d.is_some(),
            _ => std::mem::discriminant(&na) == std::mem::discriminant(&nb),
        };
        let (ca, cb) = (na.children(), nb.children());
        let mut pairwise =
            |cb: &[ExprId]| ca.len() == cb.len() && ca.iter().zip(cb).all(|(x, y)| eq(dag, *x, *y, (k, k2), memo));
        // `+` and `·` order their operands by id, which a renamed copy may have in the other order.
        let commutative = matches!(na, Node::Add(..) | Node::Mul(..));
        let equal = same_kind && (pairwise(&cb) || (commutative && pairwise(&[cb[1], cb[0]])));
        memo.insert((a, b), equal);
        equal
    }
    eq(dag, a, b, rename, &mut HashMap::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DAG with x0, x1 and the constants 0, 1, 2.
    fn setup() -> (Dag, ExprId, ExprId) {
        let mut d = Dag::new();
        let (a, b) = (d.insert(Node::X(0)), d.insert(Node::X(1)));
        (d, a, b)
    }

    #[test]
    fn expressions_that_differ_only_in_a_loop_variable_are_alpha_equal() {
        let mut d = Dag::new();
        let (c, c2, l) = (d.new_loop(Extent::Dim(0)), d.new_loop(Extent::Dim(0)), d.new_loop(Extent::Dim(1)));
        let idx = |d: &mut Dag, k| d.insert(Node::Idx(k));
        // Σ_l y[l][c] · X[0][l], for two class variables c, and one that reads another array.
        let score = |d: &mut Dag, c: u32, array: Array| {
            let (ic, il, zero) = (idx(d, c), idx(d, l), d.constant(0.0));
            let (w, x) = (d.insert(Node::At(array, il, Some(ic))), d.insert(Node::At(Array::Data(0), zero, Some(il))));
            let body = d.mul(w, x);
            d.sum(l, body)
        };
        let (a, b, other) = (score(&mut d, c, Array::Y), score(&mut d, c2, Array::Y), score(&mut d, c2, Array::DirY));
        assert_ne!(a, b);
        assert!(alpha_equal(&d, a, b, (c, c2)));
        assert!(!alpha_equal(&d, a, other, (c, c2)), "another array");
        assert!(!alpha_equal(&d, a, b, (c2, c)), "the renaming goes one way");
    }

    #[test]
    fn identities_fold_at_construction() {
        let (mut d, a, b) = setup();
        let (zero, one, two) = (d.constant(0.0), d.constant(1.0), d.constant(2.0));
        assert_eq!(d.add(a, zero), a);
        assert_eq!(d.add(zero, a), a);
        assert_eq!(d.sub(a, zero), a);
        assert_eq!(d.mul(a, one), a);
        assert_eq!(d.mul(one, a), a);
        assert_eq!(d.mul(a, zero), zero);
        assert_eq!(d.div(a, one), a);
        assert_eq!(d.powi(a, 1), a);
        assert_eq!(d.powi(a, 0), one);
        let na = d.neg(a);
        assert_eq!(d.neg(na), a);
        assert_eq!(d.add(a, na), d.sub(a, a), "a + (-a) becomes a - a, never 0");
        let twice = d.mul(two, a);
        assert_eq!(d.add(a, a), twice);
        let square = d.powi(a, 2);
        assert_eq!(d.mul(a, a), square);
        let sum = d.add(one, two);
        assert_eq!(d.as_const(sum), Some(3.0));
        let prod = d.mul(two, two);
        assert_eq!(d.as_const(prod), Some(4.0));
        let ab = d.sub(a, b);
        assert_eq!(d.neg(ab), d.sub(b, a));
        let p = d.pow(a, two);
        assert_eq!(p, d.powi(a, 2));
    }

    #[test]
    fn results_changing_rules_are_not_applied() {
        let (mut d, a, _) = setup();
        let q = d.div(a, a);
        assert!(d.as_const(q).is_none(), "a / a stays a division (NaN at a = 0)");
        let s = d.sub(a, a);
        assert!(d.as_const(s).is_none(), "a - a stays a subtraction (NaN for infinite a)");
    }

    #[test]
    fn equal_subexpressions_exist_once_and_commutative_operands_are_ordered() {
        let (mut d, a, b) = setup();
        let ab = d.mul(a, b);
        assert_eq!(d.mul(b, a), ab);
        assert_eq!(d.add(a, b), d.add(b, a));
        let before = d.len();
        let s1 = d.func(Func::Sin, ab);
        let s2 = d.func(Func::Sin, ab);
        assert_eq!(s1, s2);
        assert_eq!(d.len(), before + 1);
        let two = d.constant(2.0);
        let twice = d.mul(a, two);
        assert_eq!(d.node(twice), Node::Mul(two, a), "constants come first");
    }

    #[test]
    fn masked_products_move_into_their_branch() {
        let (mut d, a, b) = setup();
        let (zero, one) = (d.constant(0.0), d.constant(1.0));
        let c = d.cmp(Cmp::Gt, a, zero);
        let mask = d.select(c, one, zero);
        let s = d.func(Func::Sqrt, b);
        let prod = d.mul(mask, s);
        assert_eq!(d.node(prod), Node::Select(c, s, zero), "sqrt(b) is only evaluated when c holds");
        let other = d.select(c, zero, a);
        let merged = d.add(prod, other);
        assert_eq!(d.node(merged), Node::Select(c, s, a), "selects on one condition merge");
    }

    #[test]
    fn conditions_fold() {
        let (mut d, a, b) = setup();
        let (t, f) = (d.boolean(true), d.boolean(false));
        let c = d.cmp(Cmp::Lt, a, b);
        assert_eq!(d.select(t, a, b), a);
        assert_eq!(d.select(f, a, b), b);
        assert_eq!(d.select(c, a, a), a);
        assert_eq!(d.and(c, t), c);
        assert_eq!(d.or(c, t), t);
        let nc = d.not(c);
        assert_eq!(d.not(nc), c);
        let (one, two) = (d.constant(1.0), d.constant(2.0));
        assert_eq!(d.cmp(Cmp::Le, one, two), t);
    }
}
