//! Problems with data evaluated from their text: the derivative programs of `bilevel_dsl::data_loops` as loop
//! tapes ([`super::loops`]) over data attached at run time, behind [`MatrixFreeProblem`].

use bilevel_dsl::dag::Extent;
use bilevel_dsl::program::{programs, Program};
use bilevel_dsl::program::{Item, Place};
use bilevel_dsl::Model;
use bilevel_runtime::data::Array as DataArray;
use bilevel_runtime::nalgebra::{DVector, Dyn};
use bilevel_runtime::{Batch, Bounds, MatrixFreeProblem, Samples, Sampling};

use super::loops::{self, Inputs, Layout, LoopTape};
use super::params::Params;

/// The programs of one objective.
#[derive(Clone, Debug, PartialEq)]
struct Objective {
    value: LoopTape,
    grad: LoopTape,
    hvp_y: LoopTape,
    hvp_x: LoopTape,
}

/// A problem with data, its data attached, evaluated through loop tapes.
///
/// ```
/// use bilevel::data::Array;
/// use bilevel::tape::DataTapeProblem;
/// use bilevel::MatrixFreeProblem;
/// let text = "problem Fit { dim N; data t: real[N]; upper s: real; lower w: real;
///     minimize upper: (w - 1)^2; minimize lower: sum(i in 0..N: (w - s * t[i])^2) / N; }";
/// let model = bilevel_dsl::compile(text).unwrap();
/// let p = DataTapeProblem::new(&model, vec![("t".into(), Array::vector(vec![1.0, 2.0, 3.0]))]).unwrap();
/// let (mut gx, mut gy) = ([0.0], [0.0]);
/// let g = p.lower_grad(&[1.0], &[2.0], &mut gx, &mut gy); // mean of (2 − t)² = (1 + 0 + 1) / 3
/// assert!((g - 2.0 / 3.0).abs() < 1e-15 && gy[0].abs() < 1e-15);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct DataTapeProblem {
    name: String,
    n: usize,
    m: usize,
    start: (f64, f64),
    bounds: Option<(f64, f64)>,
    params: Params,
    /// Each data item's values row by row, with its column count.
    data: Vec<(Vec<f64>, usize)>,
    upper: Objective,
    lower: Objective,
    /// Which dim each objective's means run over; its tapes batch the loops of those means when it is one dim.
    samples: Samples,
}

impl DataTapeProblem {
    /// The problem `model` with its data items given by name (every `data` item once, a matrix for a matrix
    /// item, a vector for a vector item); the `dim`s are bound by the data's sizes. A `sparse` item is given
    /// densely (e.g. `Sparse::to_dense`) and read like a dense one: the same values, at O(N·p) where the compiled
    /// code reads the stored entries only.
    pub fn new(model: &Model, data: Vec<(String, DataArray)>) -> Result<DataTapeProblem, String> {
        let mut sizes: Vec<Option<(usize, String)>> = vec![None; model.dims.len()];
        let mut values = Vec::new();
        for item in &model.data {
            let Some((_, array)) = data.iter().find(|(name, _)| *name == item.name) else {
                return Err(format!("data item `{}` is not given: give --data {}=PATH", item.name, item.name));
            };
            let shape = array.shape();
            if shape.len() != item.shape.len() {
                let kind = |k: usize| if k == 1 { "a vector" } else { "a matrix" };
                return Err(format!(
                    "data item `{}` is {}, but the file holds {}",
                    item.name,
                    kind(item.shape.len()),
                    kind(shape.len())
                ));
            }
            for (axis, (&size, extent)) in shape.iter().zip(&item.shape).enumerate() {
                bind(&mut sizes, model, &item.name, axis, size, *extent)?;
            }
            values.push((array.as_slice().to_vec(), shape.get(1).copied().unwrap_or(1)));
        }
        if let Some((d, _)) = sizes.iter().enumerate().find(|(_, s)| s.is_none()) {
            return Err(format!("dim `{}` is not the size of any data item", model.dims[d]));
        }
        let sizes: Vec<usize> = sizes.into_iter().map(|s| s.map_or(0, |(n, _)| n)).collect();
        for (name, _) in &data {
            if !model.data.iter().any(|d| d.name == *name) {
                return Err(format!("the problem has no data item `{name}`"));
            }
        }
        let size = |shape: &[Extent]| shape.iter().map(|e| extent(*e, &sizes)).product::<usize>();
        let cols = |shape: &[Extent]| shape.get(1).map_or(1, |e| extent(*e, &sizes));
        let data_cols: Vec<usize> = values.iter().map(|(_, c)| *c).collect();
        let layout =
            Layout { sizes: &sizes, x_cols: cols(&model.x.shape), y_cols: cols(&model.y.shape), data_cols: &data_cols };
        let p = programs(model);
        let objective = |f, grad: &Program, hvp_y: &Program, hvp_x: &Program| {
            let d = model.sampling(f);
            Objective {
                value: LoopTape::new(&value_program(model, f), &layout, d),
                grad: LoopTape::new(grad, &layout, d),
                hvp_y: LoopTape::new(hvp_y, &layout, d),
                hvp_x: LoopTape::new(hvp_x, &layout, d),
            }
        };
        let sampling = |f| match &model.sample_dims(f)[..] {
            [] => Sampling::None,
            [d] => Sampling::Dim { name: model.dims[*d as usize].clone(), size: sizes[*d as usize] },
            several => Sampling::Several(several.iter().map(|d| model.dims[*d as usize].clone()).collect()),
        };
        Ok(DataTapeProblem {
            name: model.name.clone(),
            n: if model.x.shape.is_empty() { model.x.dim } else { size(&model.x.shape) },
            m: if model.y.shape.is_empty() { model.y.dim } else { size(&model.y.shape) },
            start: (model.start.0.first().copied().unwrap_or(0.0), model.start.1.first().copied().unwrap_or(0.0)),
            bounds: model.bounds.as_ref().map(|(lo, hi)| (lo[0], hi[0])),
            params: Params::new(model),
            data: values,
            upper: objective(model.upper, &p.upper_grad, &p.upper_hvp_y, &p.upper_hvp_x),
            lower: objective(model.lower, &p.lower_grad, &p.lower_hvp_y, &p.lower_hvp_x),
            samples: Samples { upper: sampling(model.upper), lower: sampling(model.lower) },
        })
    }

    /// Sets `param` `name` to `values` (one value for a number, one per component for a vector).
    pub fn set_param(&mut self, name: &str, values: &[f64]) -> Result<(), String> {
        self.params.set(name, values)
    }

    /// Runs `tape` of an objective whose means run over `sampling` on `batch` with the point and a direction, into
    /// `value`, `ox` and `oy` (zeroed first).
    fn run(
        &self,
        (sampling, tape): (&Sampling, &LoopTape),
        batch: Batch,
        (x, y): (&[f64], &[f64]),
        (u, v): (&[f64], &[f64]),
        ox: &mut [f64],
        oy: &mut [f64],
    ) -> f64 {
        assert_eq!(
            (x.len(), y.len()),
            (self.n, self.m),
            "{}: x and y have lengths (n, m) = ({}, {})",
            self.name,
            self.n,
            self.m
        );
        ox.fill(0.0);
        oy.fill(0.0);
        let inputs = Inputs { x, y, u, v, params: &self.params.values, data: &self.data };
        let len = match sampling {
            Sampling::Dim { name, size } => batch.samples(&self.name, name, *size),
            Sampling::None | Sampling::Several(_) => 0,
        };
        let mut value = 0.0;
        tape.run(&inputs, loops::Samples { batch, len }, &mut value, ox, oy);
        value
    }
}

/// The program adding `f` to `value`.
fn value_program(model: &Model, f: bilevel_dsl::dag::ExprId) -> Program {
    Program {
        dag: model.dag.clone(),
        items: vec![Item::Acc { place: Place::Scalar("value"), positive: true, value: f }],
    }
}

fn extent(e: Extent, sizes: &[usize]) -> usize {
    match e {
        Extent::Fixed(n) => n,
        Extent::Dim(d) => sizes[d as usize],
    }
}

/// Binds or checks one axis of a data item against its declared extent.
fn bind(
    sizes: &mut [Option<(usize, String)>],
    model: &Model,
    item: &str,
    axis: usize,
    size: usize,
    declared: Extent,
) -> Result<(), String> {
    let what = if axis == 0 { "rows" } else { "columns" };
    match declared {
        Extent::Fixed(n) if n != size => Err(format!("data item `{item}` has {size} {what}, but its type says {n}")),
        Extent::Fixed(_) => Ok(()),
        Extent::Dim(d) => match &sizes[d as usize] {
            Some((bound, by)) if *bound != size => Err(format!(
                "data item `{item}` has {size} {what}, but `{}` = {bound} (bound by `{by}`)",
                model.dims[d as usize]
            )),
            Some(_) => Ok(()),
            None => {
                sizes[d as usize] = Some((size, item.to_string()));
                Ok(())
            }
        },
    }
}

impl MatrixFreeProblem for DataTapeProblem {
    type X = Vec<f64>;
    type Y = Vec<f64>;
    type YY = Vec<f64>;
    type XY = Vec<f64>;

    fn name(&self) -> &str {
        &self.name
    }
    fn dims(&self) -> (usize, usize) {
        (self.n, self.m)
    }
    fn start(&self) -> (DVector<f64>, DVector<f64>) {
        (DVector::from_element(self.n, self.start.0), DVector::from_element(self.m, self.start.1))
    }
    fn bounds(&self) -> Option<Bounds<Dyn>> {
        self.bounds
            .map(|(lo, hi)| Bounds { lo: DVector::from_element(self.n, lo), hi: DVector::from_element(self.n, hi) })
    }
    fn upper(&self, x: &[f64], y: &[f64]) -> f64 {
        self.upper_batch(Batch::All, x, y)
    }
    fn lower(&self, x: &[f64], y: &[f64]) -> f64 {
        self.lower_batch(Batch::All, x, y)
    }
    fn upper_grad(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        self.upper_grad_batch(Batch::All, x, y, gx, gy)
    }
    fn lower_grad(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        self.lower_grad_batch(Batch::All, x, y, gx, gy)
    }
    fn upper_hvp_y(&self, x: &[f64], y: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        self.upper_hvp_y_batch(Batch::All, x, y, v, hx, hy);
    }
    fn upper_hvp_x(&self, x: &[f64], y: &[f64], u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        self.upper_hvp_x_batch(Batch::All, x, y, u, hx, hy);
    }
    fn lower_hvp_y(&self, x: &[f64], y: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        self.lower_hvp_y_batch(Batch::All, x, y, v, hx, hy);
    }
    fn lower_hvp_x(&self, x: &[f64], y: &[f64], u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        self.lower_hvp_x_batch(Batch::All, x, y, u, hx, hy);
    }
    fn samples(&self) -> Samples {
        self.samples.clone()
    }
    fn upper_batch(&self, batch: Batch, x: &[f64], y: &[f64]) -> f64 {
        self.run((&self.samples.upper, &self.upper.value), batch, (x, y), (&[], &[]), &mut [], &mut [])
    }
    fn lower_batch(&self, batch: Batch, x: &[f64], y: &[f64]) -> f64 {
        self.run((&self.samples.lower, &self.lower.value), batch, (x, y), (&[], &[]), &mut [], &mut [])
    }
    fn upper_grad_batch(&self, batch: Batch, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        self.run((&self.samples.upper, &self.upper.grad), batch, (x, y), (&[], &[]), gx, gy)
    }
    fn lower_grad_batch(&self, batch: Batch, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        self.run((&self.samples.lower, &self.lower.grad), batch, (x, y), (&[], &[]), gx, gy)
    }
    fn upper_hvp_y_batch(&self, batch: Batch, x: &[f64], y: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        self.run((&self.samples.upper, &self.upper.hvp_y), batch, (x, y), (&[], v), hx, hy);
    }
    fn upper_hvp_x_batch(&self, batch: Batch, x: &[f64], y: &[f64], u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        self.run((&self.samples.upper, &self.upper.hvp_x), batch, (x, y), (u, &[]), hx, hy);
    }
    fn lower_hvp_y_batch(&self, batch: Batch, x: &[f64], y: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        self.run((&self.samples.lower, &self.lower.hvp_y), batch, (x, y), (&[], v), hx, hy);
    }
    fn lower_hvp_x_batch(&self, batch: Batch, x: &[f64], y: &[f64], u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        self.run((&self.samples.lower, &self.lower.hvp_x), batch, (x, y), (u, &[]), hx, hy);
    }
}
