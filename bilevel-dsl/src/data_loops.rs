//! The back end for problems with data: the struct that holds the data, its `new`, and the
//! `MatrixFreeProblem` implementation whose methods are loops over the data.
//!
//! The derivatives are exact and symbolic, on the same DAG as the objectives:
//! - a gradient is the adjoint of each variable element ([`crate::diff::adjoints`]): one number per value of the
//!   element's loop variables, which may itself be a sum over samples;
//! - a Hessian–vector product is the directional derivative of those adjoints along a direction `u` or `v`
//!   ([`crate::diff::tangent`], forward over reverse), so it costs a small multiple of a gradient.
//!
//! Each method is a [`Program`] ([`crate::program`]: accumulation statements in loops, which a sum over samples
//! unfolds so that gradients are scattered sample by sample in O(N·p)), emitted here as Rust loops; statements in
//! loops over the same variable share one loop, so the value, both gradients and their common subexpressions are
//! computed in one pass over the data. The generated code's size depends on the expressions only, never on the
//! sizes of the data.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::dag::{Dag, ExprId, Extent};
use crate::emit::{extent, number, Emitter};
use crate::fixed_size::{param_defaults, param_fields};
use crate::model::Model;
use crate::program::{programs, Program};

/// Generates the problem's struct, its data struct, `new`, and the `MatrixFreeProblem` implementation.
pub fn generate(model: &Model, krate: &TokenStream) -> TokenStream {
    let p = programs(model);
    let g = Gen { model, krate };
    let types = g.types();
    let name = format_ident!("{}", model.name);
    let name_str = &model.name;
    let sig = quote!(&self, x: &[f64], y: &[f64]);
    let bsig = quote!(&self, batch: #krate::Batch<'_>, x: &[f64], y: &[f64]);
    let (n, m) = (g.numel(&model.x.shape), g.numel(&model.y.shape));
    let (up, low) = (model.sampling(model.upper), model.sampling(model.lower));
    let (upper_value, lower_value) = (g.value(model.upper, up), g.value(model.lower, low));
    let (upper_grad, lower_grad) = (g.grad(&p.upper_grad, up), g.grad(&p.lower_grad, low));
    let (upper_hy, lower_hy) = (g.hvp(&p.upper_hvp_y, "v", false, up), g.hvp(&p.lower_hvp_y, "v", false, low));
    let (upper_hx, lower_hx) = (g.hvp(&p.upper_hvp_x, "u", true, up), g.hvp(&p.lower_hvp_x, "u", true, low));
    let (upper_samples, lower_samples) = (g.sampling(model.upper), g.sampling(model.lower));
    let na = quote!(#krate::nalgebra);
    let all = quote!(#krate::Batch::All);
    let mf = quote!(#krate::MatrixFreeProblem);
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
                #mf::upper_batch(self, #all, x, y)
            }

            fn lower(#sig) -> f64 {
                #mf::lower_batch(self, #all, x, y)
            }

            fn upper_grad(#sig, gx: &mut [f64], gy: &mut [f64]) -> f64 {
                #mf::upper_grad_batch(self, #all, x, y, gx, gy)
            }

            fn lower_grad(#sig, gx: &mut [f64], gy: &mut [f64]) -> f64 {
                #mf::lower_grad_batch(self, #all, x, y, gx, gy)
            }

            fn upper_hvp_y(#sig, v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
                #mf::upper_hvp_y_batch(self, #all, x, y, v, hx, hy)
            }

            fn upper_hvp_x(#sig, u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
                #mf::upper_hvp_x_batch(self, #all, x, y, u, hx, hy)
            }

            fn lower_hvp_y(#sig, v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
                #mf::lower_hvp_y_batch(self, #all, x, y, v, hx, hy)
            }

            fn lower_hvp_x(#sig, u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
                #mf::lower_hvp_x_batch(self, #all, x, y, u, hx, hy)
            }

            fn samples(&self) -> #krate::Samples {
                #krate::Samples { upper: #upper_samples, lower: #lower_samples }
            }

            fn upper_batch(#bsig) -> f64 {
                #upper_value
            }

            fn lower_batch(#bsig) -> f64 {
                #lower_value
            }

            fn upper_grad_batch(#bsig, gx: &mut [f64], gy: &mut [f64]) -> f64 {
                #upper_grad
            }

            fn lower_grad_batch(#bsig, gx: &mut [f64], gy: &mut [f64]) -> f64 {
                #lower_grad
            }

            fn upper_hvp_y_batch(#bsig, v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
                #upper_hy
            }

            fn upper_hvp_x_batch(#bsig, u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
                #upper_hx
            }

            fn lower_hvp_y_batch(#bsig, v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
                #lower_hy
            }

            fn lower_hvp_x_batch(#bsig, u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
                #lower_hx
            }
        }
    }
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
        (parallel, sampling): (Option<Parallel>, Option<u32>),
        f: impl Fn(&mut Emitter) -> TokenStream,
    ) -> TokenStream {
        let mut materialize = BTreeSet::new();
        loop {
            let mut emitter =
                Emitter::new(dag, self.model, self.krate, roots).materializing(materialize.clone()).sampling(sampling);
            if let Some((outputs, inputs)) = parallel {
                emitter = emitter.parallel(outputs, inputs);
            }
            let code = f(&mut emitter);
            let before = materialize.len();
            materialize.extend(emitter.repeated().iter().copied());
            if materialize.len() == before {
                let buffers = emitter.buffers();
                let samples = self.batch_samples(sampling);
                return quote!(#samples #buffers #code);
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

    /// `let samples = batch.samples(…);`, the number of samples the batched loops run over (checking the
    /// batch against the sample dim), or a note that the batch is not used.
    fn batch_samples(&self, sampling: Option<u32>) -> TokenStream {
        let krate = self.krate;
        match sampling {
            Some(d) => {
                let dim = &self.model.dims[d as usize];
                let n = extent(self.model, Extent::Dim(d));
                quote!(let samples = batch.samples(#krate::MatrixFreeProblem::name(self), #dim, #n);)
            }
            None => quote!(let _ = batch;),
        }
    }

    /// The `Sampling` of objective `f`, as an expression.
    fn sampling(&self, f: ExprId) -> TokenStream {
        let krate = self.krate;
        let names: Vec<&str> =
            self.model.sample_dims(f).iter().map(|d| self.model.dims[*d as usize].as_str()).collect();
        match names[..] {
            [] => quote!(#krate::Sampling::None),
            [name] => {
                let n = extent(self.model, Extent::Dim(self.model.sampling(f).expect("one sample dim")));
                quote!(#krate::Sampling::Dim { name: #name.to_string(), size: #n })
            }
            _ => quote!(#krate::Sampling::Several(vec![#(#names.to_string()),*])),
        }
    }

    fn value(&self, f: ExprId, sampling: Option<u32>) -> TokenStream {
        let checks = self.checks(&[("x", true), ("y", false)]);
        let body = self.emit(&self.model.dag, &[f], (None, sampling), |e| e.branch(f));
        quote!(#checks #body)
    }

    fn grad(&self, program: &Program, sampling: Option<u32>) -> TokenStream {
        let checks = self.checks(&[("x", true), ("y", false), ("gx", true), ("gy", false)]);
        let body = self.program(program, (("gx", "gy"), &["x", "y"]), sampling);
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
    fn hvp(&self, program: &Program, dir_name: &str, upper: bool, sampling: Option<u32>) -> TokenStream {
        let checks = self.checks(&[("x", true), ("y", false), (dir_name, upper), ("hx", true), ("hy", false)]);
        let inputs: &'static [&'static str] = if upper { &["x", "y", "u"] } else { &["x", "y", "v"] };
        let body = self.program(program, (("hx", "hy"), inputs), sampling);
        quote! {
            #checks
            hx.fill(0.0);
            hy.fill(0.0);
            #body
        }
    }

    /// The statements of a program accumulating into `value` and the slices `outputs`; loops over samples run in
    /// parallel.
    fn program(&self, program: &Program, outputs: Parallel, sampling: Option<u32>) -> TokenStream {
        let mut roots = Vec::new();
        program.items.iter().for_each(|i| i.values(&mut roots));
        self.emit(&program.dag, &roots, (Some(outputs), sampling), |e| {
            let stmts = e.items(&program.items);
            quote!(#(#stmts)*)
        })
    }
}
