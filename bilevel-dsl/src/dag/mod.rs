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
//!
//! The node language (`node.rs`: [`Node`], [`ExprId`], …) is re-exported here; this module holds the arena
//! (hash-consing, loop variables, limits), `fold.rs` the constructors that simplify as they build, `analysis.rs`
//! the questions asked of a built DAG (cones, reachability, α-equality).

use std::collections::HashMap;

mod analysis;
mod fold;
mod node;

pub use analysis::alpha_equal;
pub use node::*;

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
        self.push_loop(Loop { extent, sampled: false })
    }

    /// A new loop variable for a `mean` over `0..extent`, which an evaluation on a batch runs over the batch's
    /// indices only ([`Loop::sampled`]).
    pub fn new_sampled_loop(&mut self, extent: Extent) -> u32 {
        self.push_loop(Loop { extent, sampled: matches!(extent, Extent::Dim(_)) })
    }

    /// A new loop variable of the same kind as `k`.
    pub fn new_loop_like(&mut self, k: u32) -> u32 {
        self.push_loop(self.loop_var(k))
    }

    fn push_loop(&mut self, l: Loop) -> u32 {
        self.loops.push(l);
        u32::try_from(self.loops.len() - 1).expect("fewer than 2^32 loops")
    }

    /// The number of values loop variable `k` takes, as a node: the count of its extent, or for a sampled loop
    /// the number of samples of the evaluation ([`Node::Batch`]).
    pub fn count(&mut self, k: u32) -> ExprId {
        let l = self.loop_var(k);
        match l.sample_dim() {
            Some(d) => self.insert(Node::Batch(d)),
            None => self.extent(l.extent),
        }
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
            let count = self.count(k);
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
            Const(_) | Bool(_) | X(_) | Y(_) | Param(_) | Idx(_) | Size(_) | Batch(_) => self.insert(node),
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
