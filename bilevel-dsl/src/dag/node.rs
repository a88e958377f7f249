//! The node language of the DAG: ids, the nodes and what they name (functions, comparisons, arrays, loop
//! extents).

/// The index of a node in a [`Dag`](super::Dag).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExprId(pub(super) u32);

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
    /// Whether this is the loop of a `mean` over a `dim`: a stochastic method evaluates it over a batch of the
    /// `dim`'s indices only (see [`Node::Batch`]).
    pub sampled: bool,
}

impl Loop {
    /// The `dim` a sampled loop (a `mean`'s) runs over; `None` for any other loop.
    pub fn sample_dim(self) -> Option<u32> {
        match self {
            Loop { extent: Extent::Dim(d), sampled: true } => Some(d),
            _ => None,
        }
    }

    /// Whether an evaluation on a batch of the samples of `dim` `sampling` runs this loop over the batch.
    pub fn batched(self, sampling: Option<u32>) -> bool {
        sampling.is_some() && self.sample_dim() == sampling
    }
}

/// A node of the DAG. Numbers are `f64`; `Cmp`, `And`, `Or`, `Not` and `Bool` are conditions.
///
/// Problems with data add loops: [`Node::Idx`] is a loop variable, [`Node::Sum`] sums its body over one, and
/// [`Node::At`] reads an array element at indices that are loop variables or constants. A node's *free* loop
/// variables ([`Dag::free`](super::Dag::free)) are those it depends on that no `Sum` inside it binds: it stands
/// for one number per value of its free variables.
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
    /// The number of samples of `dim` number `d` an evaluation takes its `mean`s over: the size of the `dim`
    /// in a full evaluation, the batch's length in an evaluation on a batch. The divisor of a `mean`.
    Batch(u32),
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
            Const(_) | Bool(_) | X(_) | Y(_) | Param(_) | Idx(_) | Size(_) | Batch(_) => vec![],
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
