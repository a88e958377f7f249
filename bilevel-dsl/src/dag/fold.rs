//! The constructors of a [`Dag`] that fold as they build: constant arithmetic and the identities that hold in
//! floating point for finite operands (see the module documentation of [`crate::dag`]).

use super::{Cmp, Dag, ExprId, Func, Node};

impl Dag {
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
}
