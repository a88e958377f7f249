//! The back end for problems without data: the struct of a problem and its implementation of the runtime's
//! `Problem` trait, every derivative as fixed-size straight-line code.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use std::cell::Cell;

use crate::dag::{Dag, ExprId};
use crate::diag::Diagnostic;
use crate::diff::{self, differentiate, Derivatives};
use crate::emit::{number, Emitter};
use crate::model::Model;

/// Generates the problem's struct and its `Problem` implementation. `krate` is the path of the facade crate
/// (`::bilevel` for the macro). An error when the derivatives are too large to write out ([`diff::MAX_NODES`]).
pub fn generate(model: &Model, krate: &TokenStream) -> Result<TokenStream, Diagnostic> {
    let mut dag = model.dag.clone();
    let (upper, lower) = differentiate(model, &mut dag)?;
    let shapes = Shapes::of(model, krate);
    let budget = Cell::new(EMIT_BUDGET);
    let g = Gen { dag: &dag, model, krate, shapes: &shapes, budget: &budget };
    let name = format_ident!("{}", model.name);
    let name_str = &model.name;
    let (n, m) = (model.x.dim, model.y.dim);
    let (vn, vm, xx_type) = (shapes.vector_type(n), shapes.vector_type(m), shapes.matrix_type(n, n));
    let (dim_n, dim_m, size_n, size_m) = (shapes.dim_type(n), shapes.dim_type(m), shapes.dim(n), shapes.dim(m));
    let sig = quote!(&self, x: &#vn, y: &#vm);
    let item = g.item();
    let constant = |values: &[f64]| shapes.vector(values.iter().map(|v| number(*v).0).collect());
    let (start_x, start_y) = (constant(&model.start.0), constant(&model.start.1));
    let bounds = match &model.bounds {
        Some((lo, hi)) => {
            let (lo, hi) = (constant(lo), constant(hi));
            quote!(::core::option::Option::Some(#krate::Bounds { lo: #lo, hi: #hi }))
        }
        None => quote!(::core::option::Option::None),
    };
    let (upper_value, lower_value) = (g.value(upper.value), g.value(lower.value));
    let (upper_grad, lower_grad) = (g.grad(&upper), g.grad(&lower));
    let (upper_hess, lower_hess) = (g.hess(&upper), g.hess(&lower));
    let (upper_xx, lower_xx) = (g.hess_xx(&upper), g.hess_xx(&lower));
    if budget.get() == 0 {
        return Err(crate::expand::too_large(model, None));
    }
    Ok(quote! {
        #item

        // Generated code is not the user's to change: constants folded from their text can trip lints such as
        // `approx_constant`, all tokens share the call-site span (so clippy sees `[a, b - c]` as a missing
        // comma), and an objective need not use both variables.
        #[allow(clippy::all, clippy::pedantic, unused_variables)]
        impl #krate::Problem for #name {
            type N = #dim_n;
            type M = #dim_m;

            fn name(&self) -> &str {
                #name_str
            }

            fn dims(&self) -> (Self::N, Self::M) {
                (#size_n, #size_m)
            }

            fn start(&self) -> (#vn, #vm) {
                (#start_x, #start_y)
            }

            fn bounds(&self) -> ::core::option::Option<#krate::Bounds<Self::N>> {
                #bounds
            }

            fn upper(#sig) -> f64 {
                #upper_value
            }

            fn lower(#sig) -> f64 {
                #lower_value
            }

            fn upper_grad(#sig) -> #krate::Grad<Self::N, Self::M> {
                #upper_grad
            }

            fn lower_grad(#sig) -> #krate::Grad<Self::N, Self::M> {
                #lower_grad
            }

            fn upper_hess(#sig) -> #krate::Hess<Self::N, Self::M> {
                #upper_hess
            }

            fn lower_hess(#sig) -> #krate::Hess<Self::N, Self::M> {
                #lower_hess
            }

            fn upper_hess_xx(#sig) -> #xx_type {
                #upper_xx
            }

            fn lower_hess_xx(#sig) -> #xx_type {
                #lower_xx
            }
        }
    })
}

/// The most variables (`n + m`) of a problem whose vectors and matrices are fixed-size, on the stack. The dense
/// algorithms keep many `n × m`, `m × m` blocks (Jacobians, Hessians, eigendecompositions) on the stack: measured
/// in a debug build, `n = m = 96` overflowed the 2 MB stack of a test thread and `n = m = 192` the 8 MB of a main
/// thread (release: 256). Larger problems get `Dyn` sizes, their blocks on the heap.
pub const MAX_STACK_VARIABLES: usize = 96;

/// How the generated code spells vectors and matrices: `SVector`/`SMatrix` with `Const` sizes for small
/// problems, `DVector`/`DMatrix` with `Dyn` sizes above [`MAX_STACK_VARIABLES`].
struct Shapes {
    heap: bool,
    na: TokenStream,
}

impl Shapes {
    fn of(model: &Model, krate: &TokenStream) -> Shapes {
        Shapes { heap: model.x.dim + model.y.dim > MAX_STACK_VARIABLES, na: quote!(#krate::nalgebra) }
    }

    fn vector_type(&self, k: usize) -> TokenStream {
        let (na, k) = (&self.na, Literal::usize_unsuffixed(k));
        if self.heap {
            quote!(#na::DVector<f64>)
        } else {
            quote!(#na::SVector<f64, #k>)
        }
    }

    fn matrix_type(&self, r: usize, c: usize) -> TokenStream {
        let (na, r, c) = (&self.na, Literal::usize_unsuffixed(r), Literal::usize_unsuffixed(c));
        if self.heap {
            quote!(#na::DMatrix<f64>)
        } else {
            quote!(#na::SMatrix<f64, #r, #c>)
        }
    }

    /// The type of a size (`Const<k>` or `Dyn`).
    fn dim_type(&self, k: usize) -> TokenStream {
        let (na, k) = (&self.na, Literal::usize_unsuffixed(k));
        if self.heap {
            quote!(#na::Dyn)
        } else {
            quote!(#na::Const<#k>)
        }
    }

    /// A size as a value.
    fn dim(&self, k: usize) -> TokenStream {
        let (na, k) = (&self.na, Literal::usize_unsuffixed(k));
        if self.heap {
            quote!(#na::Dyn(#k))
        } else {
            quote!(#na::Const::<#k>)
        }
    }

    /// A vector of these elements.
    fn vector(&self, items: Vec<TokenStream>) -> TokenStream {
        let (na, k) = (&self.na, Literal::usize_unsuffixed(items.len()));
        if self.heap {
            quote!(#na::DVector::<f64>::from_vec(::std::vec![#(#items),*]))
        } else {
            quote!(#na::SVector::<f64, #k>::from([#(#items),*]))
        }
    }

    /// An `r × c` matrix of zeros.
    fn zeros(&self, r: usize, c: usize) -> TokenStream {
        let (na, r, c) = (&self.na, Literal::usize_unsuffixed(r), Literal::usize_unsuffixed(c));
        if self.heap {
            quote!(#na::DMatrix::<f64>::zeros(#r, #c))
        } else {
            quote!(#na::SMatrix::<f64, #r, #c>::zeros())
        }
    }
}

struct Gen<'a> {
    dag: &'a Dag,
    model: &'a Model,
    krate: &'a TokenStream,
    shapes: &'a Shapes,
    /// The emission work left for the whole problem (see [`Emitter::budgeted`]).
    budget: &'a Cell<usize>,
}

/// The emission work a problem may take (nodes written and names carried into branches): about twenty times the
/// nodes of the largest code rustc compiles in reasonable time ([`MAX_CODE_BYTES`](crate::MAX_CODE_BYTES), about
/// 400 000 nodes; the 4096-variable separable problem takes 260 000 units, P1–P4 under 300), and a few seconds
/// of work at most.
const EMIT_BUDGET: usize = 8_000_000;

impl Gen<'_> {
    /// The struct with one public field per `param`, and its `Default`.
    fn item(&self) -> TokenStream {
        let model = self.model;
        let name = format_ident!("{}", model.name);
        let mut docs: Vec<String> = model.docs.iter().map(|d| format!(" {d}")).collect();
        if !docs.is_empty() {
            docs.push(String::new());
        }
        docs.push(format!(
            " A bilevel problem generated by `bilevel!`: upper variable `{}` ∈ R^{}, lower variable `{}` ∈ R^{}.",
            model.x.name, model.x.dim, model.y.name, model.y.dim
        ));
        if model.params.is_empty() {
            return quote! {
                #(#[doc = #docs])*
                #[derive(Clone, Copy, Debug, Default, PartialEq)]
                pub struct #name;
            };
        }
        let (fields, defaults) = (param_fields(model), param_defaults(model));
        quote! {
            #(#[doc = #docs])*
            #[derive(Clone, Debug, PartialEq)]
            pub struct #name {
                #(#fields,)*
            }

            #[allow(clippy::all, clippy::pedantic)]
            impl ::core::default::Default for #name {
                fn default() -> Self {
                    #name { #(#defaults,)* }
                }
            }
        }
    }

    fn emitter(&self, outputs: &[ExprId]) -> Emitter<'_> {
        Emitter::new(self.dag, self.model, self.krate, outputs).budgeted(self.budget)
    }

    fn value(&self, f: ExprId) -> TokenStream {
        self.emitter(&[f]).branch(f)
    }

    fn grad(&self, d: &Derivatives) -> TokenStream {
        let roots: Vec<ExprId> =
            std::iter::once(d.value).chain(d.grad_x.iter().copied()).chain(d.grad_y.iter().copied()).collect();
        let (stmts, exprs) = self.emitter(&roots).block(&roots);
        let (n, m) = (self.model.x.dim, self.model.y.dim);
        let (value, gx, gy) = (&exprs[0], &exprs[1..1 + n], &exprs[1 + n..]);
        let krate = self.krate;
        debug_assert_eq!(gy.len(), m);
        let (x, y) = (self.shapes.vector(gx.to_vec()), self.shapes.vector(gy.to_vec()));
        quote! {
            #(#stmts)*
            #krate::Grad { value: #value, x: #x, y: #y }
        }
    }

    fn hess(&self, d: &Derivatives) -> TokenStream {
        let (n, m) = (self.model.x.dim, self.model.y.dim);
        let mut entries = self.symmetric_entries("yy", &d.yy);
        entries.extend(self.dense_entries("xy", &d.xy));
        let head = std::iter::once(d.value).chain(d.grad_x.iter().copied()).chain(d.grad_y.iter().copied());
        let roots: Vec<ExprId> = head.chain(entries.iter().map(|e| e.id)).collect();
        let (stmts, exprs) = self.emitter(&roots).block(&roots);
        let (value, gx, gy) = (&exprs[0], &exprs[1..1 + n], &exprs[1 + n..1 + n + m]);
        // The blocks are written in place in the result (built with zero blocks first): written into locals and
        // moved into the result, two m × m matrices were copied on every call (1.5× a hand-written loop at m = 128).
        let writes = matrix_writes(Some("hess"), &entries, &exprs[1 + n + m..]);
        let mutable = if entries.is_empty() { quote!() } else { quote!(mut) };
        let krate = self.krate;
        let (grad_x, grad_y) = (self.shapes.vector(gx.to_vec()), self.shapes.vector(gy.to_vec()));
        let (yy, xy) = (self.shapes.zeros(m, m), self.shapes.zeros(n, m));
        quote! {
            #(#stmts)*
            let #mutable hess = #krate::Hess { value: #value, grad_x: #grad_x, grad_y: #grad_y, yy: #yy, xy: #xy };
            #(#writes)*
            hess
        }
    }

    /// The body of `upper_hess_xx` / `lower_hess_xx`: `∇²xx` column by column, column `j` the product
    /// `∇²xx · e_j` (its upper triangle mirrored). Each product costs what the gradient costs, so the code grows like the gradient's, where the
    /// block itself can have n² entries (`norm(x)`); no algorithm calls it.
    fn hess_xx(&self, d: &Derivatives) -> TokenStream {
        let zeros = self.shapes.zeros(self.model.x.dim, self.model.x.dim);
        let n = Literal::usize_unsuffixed(self.model.x.dim);
        if d.xx_u.iter().all(|&id| self.dag.as_const(id) == Some(0.0)) {
            return zeros;
        }
        let (stmts, exprs) = self.emitter(&d.xx_u).block(&d.xx_u);
        quote! {
            let mut xx = #zeros;
            let mut u = [0.0_f64; #n];
            for j in 0..#n {
                u[j] = 1.0;
                #(#stmts)*
                let column: [f64; #n] = [#(#exprs),*];
                // The upper triangle, mirrored: the block is exactly symmetric.
                for i in 0..=j {
                    xx[(i, j)] = column[i];
                    xx[(j, i)] = column[i];
                }
                u[j] = 0.0;
            }
            xx
        }
    }

    /// The entries of a symmetric block given by its upper triangle, each off-diagonal one twice.
    fn symmetric_entries(&self, matrix: &'static str, upper: &diff::Block) -> Vec<Entry> {
        let mut entries = Vec::new();
        for &(i, j, id) in &upper.entries {
            entries.push(Entry { matrix, i, j, id });
            if i != j {
                entries.push(Entry { matrix, i: j, j: i, id });
            }
        }
        entries
    }

    /// The entries of a general block.
    fn dense_entries(&self, matrix: &'static str, block: &diff::Block) -> Vec<Entry> {
        block.entries.iter().map(|&(i, j, id)| Entry { matrix, i, j, id }).collect()
    }
}

/// One entry written into a generated matrix: structural zeros have none.
struct Entry {
    matrix: &'static str,
    i: usize,
    j: usize,
    id: ExprId,
}

/// `m[(i, j)] = e;` (or `owner.m[(i, j)] = e;`) for each entry with its expression.
fn matrix_writes(owner: Option<&str>, entries: &[Entry], exprs: &[TokenStream]) -> Vec<TokenStream> {
    let owner = owner.map(|o| {
        let o = format_ident!("{}", o);
        quote!(#o.)
    });
    entries
        .iter()
        .zip(exprs)
        .map(|(entry, e)| {
            let target = format_ident!("{}", entry.matrix);
            let (i, j) = (Literal::usize_unsuffixed(entry.i), Literal::usize_unsuffixed(entry.j));
            quote!(#owner #target[(#i, #j)] = #e;)
        })
        .collect()
}

/// The public field of each `param`, with its doc comment and default.
pub(crate) fn param_fields(model: &Model) -> Vec<TokenStream> {
    model
        .params
        .iter()
        .map(|p| {
            let field = format_ident!("{}", p.name);
            let default = p.default.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(", ");
            let mut pdocs: Vec<String> = p.docs.iter().map(|d| format!(" {d}")).collect();
            if !pdocs.is_empty() {
                pdocs.push(String::new());
            }
            pdocs.push(format!(
                " Parameter `{}` (default `{}`).",
                p.name,
                if p.scalar { default } else { format!("[{default}]") }
            ));
            let ty = if p.scalar {
                quote!(f64)
            } else {
                let k = Literal::usize_unsuffixed(p.default.len());
                quote!([f64; #k])
            };
            quote!(#(#[doc = #pdocs])* pub #field: #ty)
        })
        .collect()
}

/// `name: default` for each `param`.
pub(crate) fn param_defaults(model: &Model) -> Vec<TokenStream> {
    model
        .params
        .iter()
        .map(|p| {
            let field = format_ident!("{}", p.name);
            let values = p.default.iter().map(|v| number(*v).0);
            if p.scalar {
                let v = number(p.default[0]).0;
                quote!(#field: #v)
            } else {
                quote!(#field: [#(#values),*])
            }
        })
        .collect()
}
