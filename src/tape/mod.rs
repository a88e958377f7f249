//! Problems evaluated from their text, without compiling.
//!
//! [`TapeProblem`] takes a problem written in the language of `bilevel!` (a `.bl` file, or any string), derives
//! the same symbolic derivatives the macro derives, and turns each method of [`Problem`] into a *tape*: the nodes
//! the method needs, in dependency order, each one instruction reading earlier registers. Evaluating a tape is one
//! pass over a flat array, with one register buffer per call and no other allocation than the method's result.
//! The command-line tool runs problems this way, so that a problem can be explored without a Rust compiler; the
//! compiled code and the tape agree to rounding (tested on every reference problem).
//!
//! ```
//! use bilevel::tape::TapeProblem;
//! use bilevel::{Algorithm, BgsOpt, Problem, XiSolver};
//!
//! let text = "problem Shift {
//!     upper x: real;
//!     lower y: real;
//!     minimize upper: (y - 1)^2 + 0.1 * x^2;
//!     minimize lower: (y - x)^2;
//! }";
//! let problem = TapeProblem::from_text(text).unwrap();
//! let (x0, y0) = problem.start();
//! let aid = BgsOpt { lower_step: Some(0.25), upper_step: 0.5, outer_iters: 200, ..BgsOpt::aid(20, XiSolver::Cg { iters: 5 }) };
//! let run = aid.solve(&problem, &x0, &y0).unwrap();
//! assert!((run.x()[0] - 1.0 / 1.1).abs() < 1e-6); // F(x, x) = (x − 1)² + 0.1 x² is least at 1/1.1
//! ```

mod data;
mod loops;
mod params;
mod scalar;
mod slices;
mod text;

pub use data::DataTapeProblem;
pub use slices::Slices;
pub use text::{read_data, TextProblem, MAX_DENSE_ENTRIES};

use bilevel_dsl::dag::{Array, Dag, ExprId, Node};
use bilevel_dsl::diff::differentiate;
use bilevel_dsl::diff::{Block, Derivatives};
use bilevel_dsl::{Diagnostic, Model};
use bilevel_runtime::nalgebra::{DMatrix, DVector, Dyn};
use bilevel_runtime::{Bounds, Grad, Hess, Problem};
use std::collections::HashMap;

use params::Params;
use scalar::{binary, scalar, truth, unary, Binary, Scalar, Unary};

/// One instruction of a tape: its result goes to the next register; operands are earlier registers. The leaves
/// (constants, `x`, `y`, the params, `u`) have no instructions: their registers are filled before the run. The
/// arithmetic operations are one variant each, so that an instruction is one dispatch.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Add(u32, u32),
    Sub(u32, u32),
    Mul(u32, u32),
    Div(u32, u32),
    Neg(u32),
    /// `a²` as `a * a` (what `powi(2)` computes, without the call).
    Square(u32),
    Unary(Unary, u32),
    Binary(Binary, u32, u32),
    Select(u32, u32, u32),
}

/// The instructions computing some nodes of a DAG, and the registers holding them: first the tape's constants,
/// then `x` (n), `y` (m), the params and, for a product `∇²xx · u`, `u` (n), then one per instruction.
#[derive(Clone, Debug, PartialEq)]
struct Tape {
    constants: Vec<f64>,
    /// `(n, m, params, u)`: how many registers each input fills (`u`: n or 0).
    inputs: (usize, usize, usize, usize),
    ops: Vec<Op>,
    outputs: Vec<u32>,
}

impl Tape {
    /// The tape of `roots`: every node they depend on, once, in dependency order (node ids grow from children
    /// to parents in the hash-consed DAG, so the sorted cone is an evaluation order), for `n` upper and `m`
    /// lower variables and `params` parameter values.
    fn new(dag: &Dag, roots: &[ExprId], (n, m, params): (usize, usize, usize)) -> Tape {
        let cone = dag.cone(roots);
        let constants: Vec<f64> = cone
            .iter()
            .filter_map(|&id| match dag.node(id) {
                Node::Const(bits) => Some(f64::from_bits(bits)),
                Node::Bool(b) => Some(truth(b)),
                _ => None,
            })
            .collect();
        let uses_u = cone.iter().any(|&id| matches!(dag.node(id), Node::At(Array::DirX, ..)));
        let inputs = (n, m, params, if uses_u { n } else { 0 });
        let leaf = |offset: usize, i: u32| (constants.len() + offset) as u32 + i;
        let first = constants.len() + n + m + params + inputs.3;
        let mut register: HashMap<ExprId, u32> = HashMap::with_capacity(cone.len());
        let (mut ops, mut next_constant) = (Vec::with_capacity(cone.len()), 0u32);
        for &id in &cone {
            let r = |e: ExprId| register[&e];
            let node = dag.node(id);
            let op = match node {
                Node::Const(_) | Node::Bool(_) => {
                    register.insert(id, next_constant);
                    next_constant += 1;
                    continue;
                }
                Node::X(i) | Node::Y(i) | Node::Param(i) => {
                    let offset = match node {
                        Node::X(_) => 0,
                        Node::Y(_) => n,
                        _ => n + m,
                    };
                    register.insert(id, leaf(offset, i));
                    continue;
                }
                Node::At(Array::DirX, i, None) => {
                    let i = dag.as_const(i).expect("a direction index is a number") as u32;
                    register.insert(id, leaf(n + m + params, i));
                    continue;
                }
                // A shift that only steadies the evaluation: its value, as the compiled code computes it.
                Node::Detach(a) => {
                    register.insert(id, r(a));
                    continue;
                }
                Node::Select(c, a, b) => Op::Select(r(c), r(a), r(b)),
                node @ (Node::Idx(_) | Node::Size(_) | Node::At(..) | Node::Sum(..) | Node::Max(..)) => {
                    unreachable!("{node:?}: loops and data only occur in problems with data, which are refused")
                }
                _ => match scalar(node) {
                    Some(Scalar::Unary(Unary::Neg, a)) => Op::Neg(r(a)),
                    Some(Scalar::Unary(Unary::Powi(2), a)) => Op::Square(r(a)),
                    Some(Scalar::Unary(f, a)) => Op::Unary(f, r(a)),
                    Some(Scalar::Binary(f, a, b)) => match f {
                        Binary::Add => Op::Add(r(a), r(b)),
                        Binary::Sub => Op::Sub(r(a), r(b)),
                        Binary::Mul => Op::Mul(r(a), r(b)),
                        Binary::Div => Op::Div(r(a), r(b)),
                        _ => Op::Binary(f, r(a), r(b)),
                    },
                    None => unreachable!("{node:?} is handled above"),
                },
            };
            register.insert(id, (first + ops.len()) as u32);
            ops.push(op);
        }
        let outputs = roots.iter().map(|r| register[r]).collect();
        Tape { constants, inputs, ops, outputs }
    }

    /// Runs the tape at `(x, y)` with parameter values `params` (and direction `u`, for `∇²xx · u`), leaving every
    /// register in `regs`.
    fn run(&self, [x, y, u]: [&[f64]; 3], params: &[f64], regs: &mut Vec<f64>) {
        let (n, m, np, nu) = self.inputs;
        assert!(x.len() == n && y.len() == m, "a tape of n = {n}, m = {m} called with {} and {}", x.len(), y.len());
        assert!(
            params.len() == np && u.len() >= nu,
            "a tape called with {} params and |u| = {}",
            params.len(),
            u.len()
        );
        regs.clear();
        regs.reserve(self.constants.len() + n + m + np + nu + self.ops.len());
        regs.extend_from_slice(&self.constants);
        regs.extend_from_slice(x);
        regs.extend_from_slice(y);
        regs.extend_from_slice(params);
        regs.extend_from_slice(&u[..nu]);
        for op in &self.ops {
            let at = |k: u32| regs[k as usize];
            let v = match *op {
                Op::Add(a, b) => at(a) + at(b),
                Op::Sub(a, b) => at(a) - at(b),
                Op::Mul(a, b) => at(a) * at(b),
                Op::Div(a, b) => at(a) / at(b),
                Op::Neg(a) => -at(a),
                Op::Square(a) => at(a) * at(a),
                Op::Unary(f, a) => unary(f, at(a)),
                Op::Binary(f, a, b) => binary(f, at(a), at(b)),
                Op::Select(c, a, b) => {
                    if at(c) != 0.0 {
                        at(a)
                    } else {
                        at(b)
                    }
                }
            };
            regs.push(v);
        }
    }

    /// Output `k` after [`Tape::run`].
    fn output(&self, regs: &[f64], k: usize) -> f64 {
        regs[self.outputs[k] as usize]
    }
}

/// The tapes of one objective: its value; value and gradients; those and the Hessian blocks in `y`; `∇²xx`.
#[derive(Clone, Debug, PartialEq)]
struct ObjectiveTapes {
    value: Tape,
    grad: Tape,
    hess: Tape,
    /// `∇²xx · u`.
    xx_u: Tape,
    /// The entries of the upper triangle of `∇²yy`, in the order of the `hess` outputs after the gradients.
    yy: Vec<(usize, usize)>,
    /// The entries of `∇²xy`, after those of `∇²yy`.
    xy: Vec<(usize, usize)>,
}

impl ObjectiveTapes {
    /// The tapes of one objective's derivatives `d`, for `sizes = (n, m, params)`.
    fn new(dag: &Dag, d: &Derivatives, sizes: (usize, usize, usize)) -> ObjectiveTapes {
        let grads: Vec<ExprId> =
            std::iter::once(d.value).chain(d.grad_x.iter().copied()).chain(d.grad_y.iter().copied()).collect();
        let ids = |b: &Block| b.entries.iter().map(|&(_, _, id)| id).collect::<Vec<_>>();
        let places = |b: &Block| b.entries.iter().map(|&(i, j, _)| (i, j)).collect::<Vec<_>>();
        let hess_roots: Vec<ExprId> = grads.iter().copied().chain(ids(&d.yy)).chain(ids(&d.xy)).collect();
        ObjectiveTapes {
            value: Tape::new(dag, &[d.value], sizes),
            grad: Tape::new(dag, &grads, sizes),
            hess: Tape::new(dag, &hess_roots, sizes),
            xx_u: Tape::new(dag, &d.xx_u, sizes),
            yy: places(&d.yy),
            xy: places(&d.xy),
        }
    }
}

/// A problem without data, evaluated from its text through tapes (see the [module](self) documentation).
#[derive(Clone, Debug, PartialEq)]
pub struct TapeProblem {
    name: String,
    n: usize,
    m: usize,
    start: (Vec<f64>, Vec<f64>),
    bounds: Option<(Vec<f64>, Vec<f64>)>,
    params: Params,
    upper: ObjectiveTapes,
    lower: ObjectiveTapes,
}

/// Why a checked problem cannot become a [`TapeProblem`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TapeError {
    /// The problem text has mistakes, each with its position.
    Text(Vec<Diagnostic>),
    /// The problem has `data` or `dim` items; [`TapeProblem`] evaluates problems without data only
    /// ([`DataTapeProblem`] and [`TextProblem`] take data).
    HasData,
    /// The data given do not fit the problem's `data` items (a missing or unknown item, a wrong shape).
    Data(String),
}

impl std::fmt::Display for TapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TapeError::Text(d) => {
                let texts: Vec<String> = d.iter().map(Diagnostic::text).collect();
                f.write_str(&texts.join("\n"))
            }
            TapeError::Data(why) => f.write_str(why),
            TapeError::HasData => f.write_str(
                "this problem has `data` or `dim` items: it runs compiled (`bilevel!`, with its data attached); \
                 tapes evaluate problems without data",
            ),
        }
    }
}

impl std::error::Error for TapeError {}

impl TapeProblem {
    /// Parses, checks and differentiates a problem text.
    pub fn from_text(text: &str) -> Result<TapeProblem, TapeError> {
        let model = bilevel_dsl::compile(text).map_err(TapeError::Text)?;
        TapeProblem::from_model(&model)
    }

    /// The tapes of a checked problem.
    pub fn from_model(model: &Model) -> Result<TapeProblem, TapeError> {
        if model.has_data() {
            return Err(TapeError::HasData);
        }
        let (n, m) = (model.x.dim, model.y.dim);
        let mut dag = model.dag.clone();
        let (upper, lower) = differentiate(model, &mut dag).map_err(|d| TapeError::Text(vec![d]))?;
        let params = Params::new(model);
        let sizes = (n, m, params.values.len());
        Ok(TapeProblem {
            name: model.name.clone(),
            n,
            m,
            start: model.start.clone(),
            bounds: model.bounds.clone(),
            params,
            upper: ObjectiveTapes::new(&dag, &upper, sizes),
            lower: ObjectiveTapes::new(&dag, &lower, sizes),
        })
    }

    /// Sets `param` `name` to `values` (one value for a number, one per component for a vector).
    ///
    /// ```
    /// use bilevel::tape::TapeProblem;
    /// use bilevel::Problem;
    /// let text = "problem P { upper x: real; lower y: real; param c = 2; minimize upper: y; minimize lower: (y - c * x)^2; }";
    /// let mut p = TapeProblem::from_text(text).unwrap();
    /// p.set_param("c", &[3.0]).unwrap();
    /// let (x, y) = p.start();
    /// assert_eq!(p.lower_grad(&x.add_scalar(1.0), &y).x[0], 18.0); // ∂/∂x (y − 3x)² = −6 (y − 3x) = 18 at (1, 0)
    /// assert!(p.set_param("d", &[1.0]).unwrap_err().contains("no param `d`"));
    /// ```
    pub fn set_param(&mut self, name: &str, values: &[f64]) -> Result<(), String> {
        self.params.set(name, values)
    }

    /// The names of the problem's `param`s, in declaration order.
    pub fn param_names(&self) -> impl Iterator<Item = &str> {
        self.params.names()
    }

    /// Runs `tape` at `(x, y)` and reads the registers with `read`. The registers are a buffer of this thread,
    /// reused from call to call (a run allocates only the results of the `Problem` methods).
    fn run<R>(&self, tape: &Tape, x: &DVector<f64>, y: &DVector<f64>, read: impl FnOnce(&[f64]) -> R) -> R {
        self.run_along(tape, [x.as_slice(), y.as_slice(), &[]], read)
    }

    /// [`run`](Self::run) with a direction `u`.
    fn run_along<R>(&self, tape: &Tape, inputs: [&[f64]; 3], read: impl FnOnce(&[f64]) -> R) -> R {
        thread_local! {
            static REGISTERS: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        REGISTERS.with(|cell| {
            // A tape never calls back into a tape, so the buffer is free; should it not be, a fresh one.
            let mut fresh = Vec::new();
            let mut borrowed = cell.try_borrow_mut();
            let regs = match borrowed.as_deref_mut() {
                Ok(regs) => regs,
                Err(_) => &mut fresh,
            };
            tape.run(inputs, &self.params.values, regs);
            read(regs)
        })
    }

    fn grad_of(&self, t: &ObjectiveTapes, x: &DVector<f64>, y: &DVector<f64>) -> Grad<Dyn, Dyn> {
        let (n, m) = (self.n, self.m);
        self.run(&t.grad, x, y, |regs| Grad {
            value: t.grad.output(regs, 0),
            x: DVector::from_fn(n, |i, _| t.grad.output(regs, 1 + i)),
            y: DVector::from_fn(m, |i, _| t.grad.output(regs, 1 + n + i)),
        })
    }

    fn hess_of(&self, t: &ObjectiveTapes, x: &DVector<f64>, y: &DVector<f64>) -> Hess<Dyn, Dyn> {
        self.run(&t.hess, x, y, |regs| self.hess_from(t, regs))
    }

    /// The `Hess` of the registers of a run of `t.hess`.
    fn hess_from(&self, t: &ObjectiveTapes, regs: &[f64]) -> Hess<Dyn, Dyn> {
        let (n, m) = (self.n, self.m);
        let out = |k: usize| t.hess.output(regs, k);
        let mut yy = DMatrix::zeros(m, m);
        let mut xy = DMatrix::zeros(n, m);
        let first = 1 + n + m;
        for (k, &(i, j)) in t.yy.iter().enumerate() {
            yy[(i, j)] = out(first + k);
            yy[(j, i)] = out(first + k);
        }
        for (k, &(i, j)) in t.xy.iter().enumerate() {
            xy[(i, j)] = out(first + t.yy.len() + k);
        }
        Hess {
            value: out(0),
            grad_x: DVector::from_fn(n, |i, _| out(1 + i)),
            grad_y: DVector::from_fn(m, |i, _| out(1 + n + i)),
            yy,
            xy,
        }
    }

    /// `∇²xx` column by column, column `j` the product `∇²xx · e_j`, upper triangle mirrored (as the compiled code computes it).
    fn xx_of(&self, t: &ObjectiveTapes, x: &DVector<f64>, y: &DVector<f64>) -> DMatrix<f64> {
        let mut xx = DMatrix::zeros(self.n, self.n);
        let mut u = vec![0.0; self.n];
        for j in 0..self.n {
            u[j] = 1.0;
            self.run_along(&t.xx_u, [x.as_slice(), y.as_slice(), &u], |regs| {
                for i in 0..=j {
                    xx[(i, j)] = t.xx_u.output(regs, i);
                    xx[(j, i)] = xx[(i, j)];
                }
            });
            u[j] = 0.0;
        }
        xx
    }
}

impl Problem for TapeProblem {
    type N = Dyn;
    type M = Dyn;

    fn name(&self) -> &str {
        &self.name
    }
    fn dims(&self) -> (Dyn, Dyn) {
        (Dyn(self.n), Dyn(self.m))
    }
    fn start(&self) -> (DVector<f64>, DVector<f64>) {
        (DVector::from_column_slice(&self.start.0), DVector::from_column_slice(&self.start.1))
    }
    fn bounds(&self) -> Option<Bounds<Dyn>> {
        self.bounds
            .as_ref()
            .map(|(lo, hi)| Bounds { lo: DVector::from_column_slice(lo), hi: DVector::from_column_slice(hi) })
    }
    fn upper(&self, x: &DVector<f64>, y: &DVector<f64>) -> f64 {
        self.run(&self.upper.value, x, y, |regs| self.upper.value.output(regs, 0))
    }
    fn lower(&self, x: &DVector<f64>, y: &DVector<f64>) -> f64 {
        self.run(&self.lower.value, x, y, |regs| self.lower.value.output(regs, 0))
    }
    fn upper_grad(&self, x: &DVector<f64>, y: &DVector<f64>) -> Grad<Dyn, Dyn> {
        self.grad_of(&self.upper, x, y)
    }
    fn lower_grad(&self, x: &DVector<f64>, y: &DVector<f64>) -> Grad<Dyn, Dyn> {
        self.grad_of(&self.lower, x, y)
    }
    fn upper_hess(&self, x: &DVector<f64>, y: &DVector<f64>) -> Hess<Dyn, Dyn> {
        self.hess_of(&self.upper, x, y)
    }
    fn lower_hess(&self, x: &DVector<f64>, y: &DVector<f64>) -> Hess<Dyn, Dyn> {
        self.hess_of(&self.lower, x, y)
    }
    fn upper_hess_xx(&self, x: &DVector<f64>, y: &DVector<f64>) -> DMatrix<f64> {
        self.xx_of(&self.upper, x, y)
    }
    fn lower_hess_xx(&self, x: &DVector<f64>, y: &DVector<f64>) -> DMatrix<f64> {
        self.xx_of(&self.lower, x, y)
    }
}
