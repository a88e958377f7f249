//! Tapes with loops: the derivative programs of a problem with data (`bilevel_dsl::data_loops`) compiled to nested
//! blocks of instructions. Each node is computed in the outermost loop where all its loop variables are bound
//! (a node that does not depend on a loop's variable is computed once, before the loop), so the work is the work
//! of the generated code: one pass over the samples per program.

use bilevel_dsl::dag::{Array, Dag, ExprId, Extent, Node};
use bilevel_dsl::program::{Item, Place, Program};
use bilevel_runtime::Batch;
use std::collections::{HashMap, HashSet};

use super::scalar::{binary, scalar, truth, unary, Binary, Scalar, Unary};

/// Where an accumulation goes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Value,
    /// The output laid out like `x`.
    X,
    /// The output laid out like `y`.
    Y,
}

/// One instruction: its result goes to register `out`.
#[derive(Clone, Debug, PartialEq)]
enum Op {
    Const(u32, f64),
    Param(u32, u32),
    Idx(u32, u32),
    /// `array[row * cols + col]`.
    At {
        out: u32,
        array: Array,
        row: u32,
        col: Option<u32>,
        cols: usize,
    },
    Unary(u32, Unary, u32),
    Binary(u32, Binary, u32, u32),
    Select(u32, u32, u32, u32),
    /// `out = Σ` (or max) over `var` in `0..extent` (over the batch's samples when `batched`) of register `body`
    /// after running `block`.
    Reduce {
        out: u32,
        max: bool,
        var: u32,
        extent: usize,
        batched: bool,
        block: usize,
        body: u32,
    },
    /// For `var` in `0..extent` (over the batch's samples when `batched`), run `block`.
    Loop {
        var: u32,
        extent: usize,
        batched: bool,
        block: usize,
    },
    /// The number of samples of the batch, as a number (the divisor of a batched `mean`).
    Samples(u32),
    /// `target[row * cols + col] ±= value`.
    Acc {
        target: Target,
        positive: bool,
        value: u32,
        row: Option<u32>,
        col: Option<u32>,
        cols: usize,
    },
    /// A fused `Reduce` of a product of two reads along the loop: `out = Σ_k a[k] b[k]`.
    Dot {
        out: u32,
        extent: usize,
        a: Strided,
        b: Strided,
    },
    /// A fused `Loop` accumulating a read times a loop-invariant register: `target[k·cols] ±= a[k] · scale`.
    Axpy {
        target: Target,
        positive: bool,
        cols: usize,
        extent: usize,
        a: Strided,
        scale: u32,
    },
}

/// A read `array[base + k · stride]` along a loop over `k`, `base` from registers when the loop starts.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Strided {
    array: Array,
    /// The register of a row index fixed during the loop (times `cols`).
    row: Option<u32>,
    /// The register of a column index fixed during the loop.
    col: Option<u32>,
    cols: usize,
    stride: usize,
}

impl Strided {
    /// The read of `At` op `op` along the loop whose index is register `k`, if it is a strided one.
    fn of(op: &Op, k: u32) -> Option<(u32, Strided)> {
        let Op::At { out, array, row, col, cols } = *op else { return None };
        let s = match (row == k, col) {
            (true, None) => Strided { array, row: None, col: None, cols, stride: cols },
            (true, Some(c)) if c != k => Strided { array, row: None, col: Some(c), cols, stride: cols },
            (false, Some(c)) if c == k => Strided { array, row: Some(row), col: None, cols, stride: 1 },
            _ => return None,
        };
        Some((out, s))
    }

    fn base(&self, regs: &[f64]) -> usize {
        self.row.map_or(0, |r| regs[r as usize] as usize * self.cols)
            + self.col.map_or(0, |c| regs[c as usize] as usize)
    }
}

/// The arrays a loop tape reads: the point, the directions and the data (row-major, with their column counts).
pub struct Inputs<'a> {
    pub x: &'a [f64],
    pub y: &'a [f64],
    pub u: &'a [f64],
    pub v: &'a [f64],
    pub params: &'a [f64],
    pub data: &'a [(Vec<f64>, usize)],
}

/// A program as nested blocks of instructions (block 0 is the top level).
#[derive(Clone, Debug, PartialEq)]
pub struct LoopTape {
    blocks: Vec<Vec<Op>>,
    registers: usize,
    loop_vars: usize,
}

/// The samples a run takes its batched loops over: the batch, and its length.
#[derive(Clone, Copy, Debug)]
pub struct Samples<'a> {
    pub batch: Batch<'a>,
    pub len: usize,
}

/// Sizes known when the tape is built: each `dim`, and each variable's and data item's column count.
pub struct Layout<'a> {
    pub sizes: &'a [usize],
    /// Columns of `x` and `y` (1 for vectors).
    pub x_cols: usize,
    pub y_cols: usize,
    /// Columns of each data item.
    pub data_cols: &'a [usize],
}

impl LoopTape {
    /// Compiles `program` for the sizes of `layout`, the sampled loops over `dim` `sampling` (the `mean`s over
    /// it) batched: run over the samples the run is given.
    pub fn new(program: &Program, layout: &Layout, sampling: Option<u32>) -> LoopTape {
        let mut c = Compiler {
            dag: program.dag.clone(),
            layout,
            sampling,
            blocks: vec![Vec::new()],
            vars: vec![Vec::new()],
            register: HashMap::new(),
            placed: vec![HashSet::new()],
        };
        c.items(&program.items, &[0]);
        let loop_vars = c.dag.loop_count();
        let mut tape = LoopTape { blocks: c.blocks, registers: c.register.len(), loop_vars };
        tape.fuse();
        tape
    }

    /// Replaces the loops over the samples' features that are a dot product or an axpy (the inner loops of
    /// every linear model) by one instruction each, which runs them as a tight loop over the arrays.
    fn fuse(&mut self) {
        for b in 0..self.blocks.len() {
            for i in 0..self.blocks[b].len() {
                let fused = match self.blocks[b][i] {
                    Op::Reduce { out, max: false, var, extent, batched: false, block, body } => {
                        self.dot(out, var, extent, block, body)
                    }
                    Op::Loop { var, extent, batched: false, block } => self.axpy(var, extent, block),
                    _ => None,
                };
                if let Some(op) = fused {
                    self.blocks[b][i] = op;
                }
            }
        }
    }

    /// `[Idx k, At a, At b, Mul a b]` as a dot product.
    fn dot(&self, out: u32, var: u32, extent: usize, block: usize, body: u32) -> Option<Op> {
        let [Op::Idx(k, v), at_a, at_b, Op::Binary(m, Binary::Mul, l, r)] = self.blocks[block].as_slice() else {
            return None;
        };
        let ((ra, a), (rb, b)) = (Strided::of(at_a, *k)?, Strided::of(at_b, *k)?);
        let operands = (*l == ra && *r == rb) || (*l == rb && *r == ra);
        (*v == var && *m == body && operands).then_some(Op::Dot { out, extent, a, b })
    }

    /// `[Idx k, At a, Mul a s, Acc target[k] ±= that]` with `s` computed outside the loop, as an axpy.
    fn axpy(&self, var: u32, extent: usize, block: usize) -> Option<Op> {
        let [Op::Idx(k, v), at, Op::Binary(m, Binary::Mul, l, r), Op::Acc { target, positive, value, row, col: None, cols }] =
            self.blocks[block].as_slice()
        else {
            return None;
        };
        let (ra, a) = Strided::of(at, *k)?;
        let scale = if *l == ra { *r } else { *l };
        let inside = [*k, ra, *m];
        let fits = *v == var && *value == *m && *row == Some(*k) && (*l == ra || *r == ra) && !inside.contains(&scale);
        fits.then_some(Op::Axpy { target: *target, positive: *positive, cols: *cols, extent, a, scale })
    }

    /// The array a strided read reads.
    fn slice<'a>(inputs: &'a Inputs, array: Array) -> &'a [f64] {
        match array {
            Array::X => inputs.x,
            Array::Y => inputs.y,
            Array::DirX => inputs.u,
            Array::DirY => inputs.v,
            Array::Data(d) => &inputs.data[d as usize].0,
        }
    }

    /// Runs the program, its batched loops over `samples`: `value` and the outputs laid out like `x` and `y` are
    /// added to.
    /// The registers and loop indices live in buffers of the calling thread, kept from call to call: after the
    /// first call on a thread, a run allocates nothing.
    pub fn run(&self, inputs: &Inputs, samples: Samples, value: &mut f64, out_x: &mut [f64], out_y: &mut [f64]) {
        let (mut regs, mut env) = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
        regs.clear();
        regs.resize(self.registers, 0.0);
        env.clear();
        env.resize(self.loop_vars, 0);
        let mut state = State { regs, env, samples };
        let mut outs = Outs { value, x: out_x, y: out_y };
        self.block(0, inputs, &mut state, &mut outs);
        SCRATCH.with(|s| *s.borrow_mut() = (state.regs, state.env));
    }

    fn block(&self, b: usize, inputs: &Inputs, s: &mut State, outs: &mut Outs) {
        for op in &self.blocks[b] {
            match *op {
                Op::Const(out, c) => s.regs[out as usize] = c,
                Op::Param(out, k) => s.regs[out as usize] = inputs.params[k as usize],
                Op::Idx(out, k) => s.regs[out as usize] = s.env[k as usize] as f64,
                Op::At { out, array, row, col, cols } => {
                    let at = s.regs[row as usize] as usize * cols + col.map_or(0, |c| s.regs[c as usize] as usize);
                    s.regs[out as usize] = match array {
                        Array::X => inputs.x[at],
                        Array::Y => inputs.y[at],
                        Array::DirX => inputs.u[at],
                        Array::DirY => inputs.v[at],
                        Array::Data(d) => inputs.data[d as usize].0[at],
                    };
                }
                Op::Unary(out, f, a) => s.regs[out as usize] = unary(f, s.regs[a as usize]),
                Op::Binary(out, f, a, b) => s.regs[out as usize] = binary(f, s.regs[a as usize], s.regs[b as usize]),
                Op::Select(out, c, a, b) => {
                    let pick = if s.regs[c as usize] != 0.0 { a } else { b };
                    s.regs[out as usize] = s.regs[pick as usize];
                }
                Op::Reduce { out, max, var, extent, batched, block, body } => {
                    let mut acc = if max { f64::NEG_INFINITY } else { 0.0 };
                    let count = if batched { s.samples.len } else { extent };
                    for t in 0..count {
                        s.env[var as usize] = if batched { s.samples.batch.at(t) } else { t };
                        self.block(block, inputs, s, outs);
                        let v = s.regs[body as usize];
                        acc = if max { acc.max(v) } else { acc + v };
                    }
                    s.regs[out as usize] = acc;
                }
                Op::Loop { var, extent, batched, block } => {
                    let count = if batched { s.samples.len } else { extent };
                    for t in 0..count {
                        s.env[var as usize] = if batched { s.samples.batch.at(t) } else { t };
                        self.block(block, inputs, s, outs);
                    }
                }
                Op::Samples(out) => s.regs[out as usize] = s.samples.len as f64,
                Op::Dot { out, extent, a, b } => {
                    let (sa, sb) = (Self::slice(inputs, a.array), Self::slice(inputs, b.array));
                    let (ba, bb) = (a.base(&s.regs), b.base(&s.regs));
                    let mut acc = 0.0;
                    for k in 0..extent {
                        acc += sa[ba + k * a.stride] * sb[bb + k * b.stride];
                    }
                    s.regs[out as usize] = acc;
                }
                Op::Axpy { target, positive, cols, extent, a, scale } => {
                    let sa = Self::slice(inputs, a.array);
                    let (base, c) = (a.base(&s.regs), s.regs[scale as usize]);
                    let out: &mut [f64] = match target {
                        Target::X => outs.x,
                        Target::Y => outs.y,
                        Target::Value => unreachable!("an axpy writes a vector"),
                    };
                    for k in 0..extent {
                        let v = sa[base + k * a.stride] * c;
                        out[k * cols] += if positive { v } else { -v };
                    }
                }
                Op::Acc { target, positive, value, row, col, cols } => {
                    let v = if positive { s.regs[value as usize] } else { -s.regs[value as usize] };
                    let at = row.map_or(0, |r| s.regs[r as usize] as usize * cols)
                        + col.map_or(0, |c| s.regs[c as usize] as usize);
                    match target {
                        Target::Value => *outs.value += v,
                        Target::X => outs.x[at] += v,
                        Target::Y => outs.y[at] += v,
                    }
                }
            }
        }
    }
}

thread_local! {
    /// The registers and loop indices of the calling thread's last run (taken while a run uses them).
    static SCRATCH: std::cell::RefCell<(Vec<f64>, Vec<usize>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

struct State<'a> {
    regs: Vec<f64>,
    env: Vec<usize>,
    samples: Samples<'a>,
}

struct Outs<'a> {
    value: &'a mut f64,
    x: &'a mut [f64],
    y: &'a mut [f64],
}

/// Builds the blocks. A *path* is the list of blocks from the top level to the one being filled; a node goes to
/// the outermost block of the path whose loop variables include all of its own.
struct Compiler<'a> {
    /// The program's nodes, with the bodies of sums renamed where they shadow a loop variable.
    dag: Dag,
    layout: &'a Layout<'a>,
    /// The `dim` whose sampled loops are batched.
    sampling: Option<u32>,
    blocks: Vec<Vec<Op>>,
    /// The loop variables bound in each block (its ancestors' and its own).
    vars: Vec<Vec<u32>>,
    register: HashMap<ExprId, u32>,
    /// The nodes computed in each block.
    placed: Vec<HashSet<ExprId>>,
}

impl Compiler<'_> {
    /// Whether loop variable `var` runs over the batch.
    fn batched(&self, var: u32) -> bool {
        self.dag.loop_var(var).batched(self.sampling)
    }

    fn extent(&self, var: u32) -> usize {
        match self.dag.loop_var(var).extent {
            Extent::Fixed(n) => n,
            Extent::Dim(d) => self.layout.sizes[d as usize],
        }
    }

    /// A new block inside `parent` binding `var`.
    fn child(&mut self, parent: usize, var: u32) -> usize {
        let mut vars = self.vars[parent].clone();
        vars.push(var);
        self.blocks.push(Vec::new());
        self.vars.push(vars);
        self.placed.push(HashSet::new());
        self.blocks.len() - 1
    }

    fn items(&mut self, items: &[Item], path: &[usize]) {
        let here = *path.last().expect("a path has the top level");
        for item in items {
            match item {
                Item::Acc { place, positive, value } => {
                    let value = self.node(*value, path);
                    let (target, row, col, cols) = match *place {
                        Place::Scalar(_) => (Target::Value, None, None, 0),
                        Place::At { array, row, col, .. } => {
                            let cols = if array == Array::X { self.layout.x_cols } else { self.layout.y_cols };
                            let target = if array == Array::X { Target::X } else { Target::Y };
                            let col = col.map(|c| self.node(c, path));
                            (target, Some(self.node(row, path)), col, cols)
                        }
                    };
                    self.blocks[here].push(Op::Acc { target, positive: *positive, value, row, col, cols });
                }
                Item::Loop { var, items } => {
                    let block = self.child(here, *var);
                    let inner: Vec<usize> = path.iter().copied().chain([block]).collect();
                    self.items(items, &inner);
                    let (extent, batched) = (self.extent(*var), self.batched(*var));
                    self.blocks[here].push(Op::Loop { var: *var, extent, batched, block });
                }
            }
        }
    }

    /// The register of `id`, computing it in the right block of `path` if not computed there yet.
    fn node(&mut self, id: ExprId, path: &[usize]) -> u32 {
        let free = self.dag.free(id).to_vec();
        let level = path.iter().position(|&b| free.iter().all(|k| self.vars[b].contains(k))).unwrap_or(path.len() - 1);
        if path[..=level].iter().any(|&b| self.placed[b].contains(&id)) {
            return self.register[&id];
        }
        let path = &path[..=level];
        let block = path[level];
        let out = match self.register.get(&id) {
            Some(&r) => r,
            None => {
                let r = self.register.len() as u32;
                self.register.insert(id, r);
                r
            }
        };
        let op = self.op(id, out, path);
        self.blocks[block].push(op);
        self.placed[block].insert(id);
        out
    }

    /// The instruction computing `id` into `out` in the last block of `path`, its operands computed first.
    fn op(&mut self, id: ExprId, out: u32, path: &[usize]) -> Op {
        let block = *path.last().expect("a path has the top level");
        let node = self.dag.node(id);
        match node {
            Node::Const(bits) => Op::Const(out, f64::from_bits(bits)),
            Node::Bool(b) => Op::Const(out, truth(b)),
            Node::Param(k) => Op::Param(out, k),
            Node::X(_) | Node::Y(_) => unreachable!("problems with data read variables through `At`"),
            Node::Idx(k) => Op::Idx(out, k),
            Node::Batch(d) if Some(d) == self.sampling => Op::Samples(out),
            Node::Size(d) | Node::Batch(d) => Op::Const(out, self.layout.sizes[d as usize] as f64),
            Node::At(array, row, col) => {
                let row = self.node(row, path);
                let col = col.map(|c| self.node(c, path));
                let cols = match array {
                    Array::X | Array::DirX => self.layout.x_cols,
                    Array::Y | Array::DirY => self.layout.y_cols,
                    Array::Data(d) => self.layout.data_cols[d as usize],
                };
                Op::At { out, array, row, col, cols }
            }
            Node::Sum(k, body) | Node::Max(k, body) => {
                // A sum over a variable an enclosing loop binds (`Σ_l X[i][l] W[l][c]` inside the loop over `l`
                // of the gradient of `W[l][c]`) runs over a fresh one: it would overwrite the outer loop's index
                // and read the outer loop's registers of the nodes that depend on it.
                let (k, body) = if self.vars[block].contains(&k) {
                    let fresh = self.dag.new_loop_like(k);
                    let idx = self.dag.insert(Node::Idx(fresh));
                    (fresh, self.dag.subst(body, &[(k, idx)]))
                } else {
                    (k, body)
                };
                let inner = self.child(block, k);
                let inner_path: Vec<usize> = path.iter().copied().chain([inner]).collect();
                let body = self.node(body, &inner_path);
                let max = matches!(node, Node::Max(..));
                Op::Reduce { out, max, var: k, extent: self.extent(k), batched: self.batched(k), block: inner, body }
            }
            Node::Select(c, a, b) => {
                let (c, a, b) = (self.node(c, path), self.node(a, path), self.node(b, path));
                Op::Select(out, c, a, b)
            }
            _ => match scalar(node) {
                Some(Scalar::Unary(f, a)) => Op::Unary(out, f, self.node(a, path)),
                Some(Scalar::Binary(f, a, b)) => {
                    let (a, b) = (self.node(a, path), self.node(b, path));
                    Op::Binary(out, f, a, b)
                }
                None => unreachable!("{node:?} is handled above"),
            },
        }
    }
}
