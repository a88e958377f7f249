//! The derivative table: every operator and function of the language, vectors, sums and `if`. For each
//! expression F(x, y) with x, y ∈ R², the symbolic gradient is checked against central finite differences of
//! the value, every Hessian entry against central differences of the symbolic gradient, the Hessian blocks of
//! `diff::hessian_blocks` against the full Hessian, and, where easy, the gradient against a closed form.
#![allow(clippy::needless_range_loop)] // indices are coordinates (x0, x1, y0, y1) shared by several arrays

use bilevel_dsl::dag::{ExprId, Node};
use bilevel_dsl::{compile, diff, eval::eval, Model};

/// x = (x0, x1), y = (y0, y1): the default point, away from every kink of the table.
const POINT: [f64; 4] = [0.3, -0.2, 0.5, 0.9];

type ClosedForm = fn(&[f64; 4]) -> [f64; 4];

/// (expression, point or None for [`POINT`], closed-form gradient in (x0, x1, y0, y1) or None)
type Row = (&'static str, Option<[f64; 4]>, Option<ClosedForm>);

const TABLE: &[Row] = &[
    ("x[0] + y[0]", None, Some(|_| [1.0, 0.0, 1.0, 0.0])),
    ("x[0] - y[1]", None, Some(|_| [1.0, 0.0, 0.0, -1.0])),
    ("x[0] * y[0]", None, Some(|v| [v[2], 0.0, v[0], 0.0])),
    ("x[0] / y[1]", None, Some(|v| [1.0 / v[3], 0.0, 0.0, -v[0] / (v[3] * v[3])])),
    ("-x[0] * y[0]", None, Some(|v| [-v[2], 0.0, -v[0], 0.0])),
    ("y[0]^2", None, Some(|v| [0.0, 0.0, 2.0 * v[2], 0.0])),
    ("y[0]^3 * x[1]", None, Some(|v| [0.0, v[2].powi(3), 3.0 * v[2] * v[2] * v[1], 0.0])),
    ("y[1]^(-2)", None, Some(|v| [0.0, 0.0, 0.0, -2.0 / v[3].powi(3)])),
    ("y[1]^2.5", None, Some(|v| [0.0, 0.0, 0.0, 2.5 * v[3].powf(1.5)])),
    ("y[1]^x[1]", None, None),
    ("2^y[0]", None, Some(|v| [0.0, 0.0, 2f64.powf(v[2]) * 2f64.ln(), 0.0])),
    ("sin(x[0] * y[0])", None, Some(|v| [v[2] * (v[0] * v[2]).cos(), 0.0, v[0] * (v[0] * v[2]).cos(), 0.0])),
    ("cos(y[0] + y[1])", None, None),
    ("tan(y[0])", None, Some(|v| [0.0, 0.0, 1.0 / v[2].cos().powi(2), 0.0])),
    ("exp(x[0] - y[1])", None, None),
    ("log(y[1] + 1)", None, Some(|v| [0.0, 0.0, 0.0, 1.0 / (v[3] + 1.0)])),
    ("sqrt(y[0] + x[0]^2)", None, None),
    ("abs(y[0] - x[1])", None, Some(|_| [0.0, -1.0, 1.0, 0.0])),
    ("abs(x[1] - y[0])", None, Some(|_| [0.0, -1.0, 1.0, 0.0])),
    ("tanh(2 * y[0])", None, Some(|v| [0.0, 0.0, 2.0 * (1.0 - (2.0 * v[2]).tanh().powi(2)), 0.0])),
    ("sigmoid(x[0] * y[1])", None, None),
    ("softplus(y[0] - y[1])", None, None),
    ("min(y[0], y[1])", None, Some(|_| [0.0, 0.0, 1.0, 0.0])),
    ("max(y[0], y[1])", None, Some(|_| [0.0, 0.0, 0.0, 1.0])),
    ("clamp(y[0], -1, 0.2)", None, Some(|_| [0.0; 4])),
    ("clamp(y[0], 0, 1) * x[0]", None, Some(|v| [v[2], 0.0, v[0], 0.0])),
    ("clamp(y[0], 0.7, 1)", None, Some(|_| [0.0; 4])),
    ("huber(y[0] - x[0])", None, Some(|v| [v[0] - v[2], 0.0, v[2] - v[0], 0.0])),
    ("huber(3 * y[1], 1)", None, Some(|_| [0.0, 0.0, 0.0, 3.0])),
    ("huber(y[0], 0.1)", None, Some(|_| [0.0, 0.0, 0.1, 0.0])),
    ("dot(y, x)", None, Some(|v| [v[2], v[3], v[0], v[1]])),
    (
        "norm2(y - x)",
        None,
        Some(|v| [2.0 * (v[0] - v[2]), 2.0 * (v[1] - v[3]), 2.0 * (v[2] - v[0]), 2.0 * (v[3] - v[1])]),
    ),
    ("norm(y - x)", None, None),
    ("sum(y)", None, Some(|_| [0.0, 0.0, 1.0, 1.0])),
    ("sum(i in 0..2: (y[i] - x[i])^2)", None, None),
    ("sum(i in 0..2: sum(j in 0..2: A[i][j] * y[i] * y[j]))", None, None),
    ("dot(A * y, x)", None, None),
    ("dot(y * A, x)", None, None),
    ("norm2(A * A * y)", None, None),
    ("p[0] * y[0]^2 + p[1] * x[0]", None, Some(|v| [-0.4, 0.0, 1.4 * v[2], 0.0])),
    ("if y[0] > x[0] then y[0]^2 else y[1]^3", None, Some(|v| [0.0, 0.0, 2.0 * v[2], 0.0])),
    (
        "if y[0] < x[0] then y[0]^2 else y[1]^3 * x[0]",
        None,
        Some(|v| [v[3].powi(3), 0.0, 0.0, 3.0 * v[3] * v[3] * v[0]]),
    ),
    ("if y[0] > 0 and y[1] > 0 then y[0] * y[1] else 0", None, None),
    ("if y[0] > 1 or not (y[1] < 0) then exp(y[0]) else 1", None, None),
    ("if y[0] >= 0.5 then x[0] else x[1]", Some([0.3, -0.2, 0.6, 0.9]), Some(|_| [1.0, 0.0, 0.0, 0.0])),
    ("if y[0] == 0.5 then 2 * x[1] else 0", None, Some(|_| [0.0, 2.0, 0.0, 0.0])),
    ("if y[0] != 0.5 then 0 else 3 * y[1]", None, Some(|_| [0.0, 0.0, 0.0, 3.0])),
    ("norm2(u)", None, None),
    ("norm2(2 * y - x / 2)", None, None),
    ("if y[0] > 0 then sqrt(y[0]) * x[0] else 0", Some([0.3, -0.2, -0.5, 0.9]), Some(|_| [0.0; 4])),
    ("exp(-norm2(y - x)) * sin(x[1])", None, None),
    ("(x[0] + y[0]) * (x[1] - y[1]) / (1 + y[0]^2)", None, None),
    ("log(sigmoid(y[0])) + softplus(-y[1])", None, None),
    ("(y[0] - x[0])^4 + (y[1] * x[1] - 1)^2", None, None),
];

fn model(expr: &str) -> Model {
    let source = format!(
        "problem T {{ upper x: real[2]; lower y: real[2]; param p = [0.7, -0.4]; \
         const A = [[1, 2], [3, 4]]; let u = y - x; minimize upper: {expr}; minimize lower: 0; }}"
    );
    compile(&source).unwrap_or_else(|e| panic!("`{expr}` does not compile: {e:?}"))
}

struct Derivs {
    value: ExprId,
    grad: Vec<ExprId>,
    hess: Vec<Vec<ExprId>>,
}

fn derivatives(m: &mut Model) -> Derivs {
    let vars: Vec<ExprId> = [Node::X(0), Node::X(1), Node::Y(0), Node::Y(1)].map(|n| m.dag.insert(n)).to_vec();
    let grad = diff::gradient(&mut m.dag, m.upper, &vars);
    let hess = grad.iter().map(|g| diff::gradient(&mut m.dag, *g, &vars)).collect();
    Derivs { value: m.upper, grad, hess }
}

fn at(m: &Model, ids: &[ExprId], v: &[f64; 4]) -> Vec<f64> {
    eval(&m.dag, ids, &v[..2], &v[2..], &m.param_defaults())
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

fn shifted(v: &[f64; 4], k: usize, h: f64) -> [f64; 4] {
    let mut w = *v;
    w[k] += h;
    w
}

#[test]
fn the_table_is_long_enough() {
    assert!(TABLE.len() >= 40, "the issue asks for at least 40 expressions");
}

#[test]
fn gradients_match_finite_differences_and_closed_forms() {
    for (expr, point, closed) in TABLE {
        let v = point.unwrap_or(POINT);
        let mut m = model(expr);
        let d = derivatives(&mut m);
        let grad = at(&m, &d.grad, &v);
        let h = 1e-6;
        for k in 0..4 {
            let f = |w: [f64; 4]| at(&m, &[d.value], &w)[0];
            let fd = (f(shifted(&v, k, h)) - f(shifted(&v, k, -h))) / (2.0 * h);
            assert!(close(grad[k], fd, 1e-6), "`{expr}`: ∂/∂v{k} = {} but finite differences give {fd}", grad[k]);
        }
        if let Some(closed) = closed {
            let want = closed(&v);
            for k in 0..4 {
                assert!(
                    close(grad[k], want[k], 1e-12),
                    "`{expr}`: ∂/∂v{k} = {} but the closed form is {}",
                    grad[k],
                    want[k]
                );
            }
        }
    }
}

#[test]
fn hessians_match_finite_differences_of_the_gradient() {
    for (expr, point, _) in TABLE {
        let v = point.unwrap_or(POINT);
        let mut m = model(expr);
        let d = derivatives(&mut m);
        let h = 1e-5;
        for (j, row) in d.hess.iter().enumerate() {
            let hess = at(&m, row, &v);
            for k in 0..4 {
                let g = |w: [f64; 4]| at(&m, &[d.grad[j]], &w)[0];
                let fd = (g(shifted(&v, k, h)) - g(shifted(&v, k, -h))) / (2.0 * h);
                assert!(
                    close(hess[k], fd, 1e-5),
                    "`{expr}`: ∂²/∂v{j}∂v{k} = {} but finite differences give {fd}",
                    hess[k]
                );
            }
        }
    }
}

#[test]
fn hessian_blocks_are_the_blocks_of_the_full_hessian() {
    for (expr, point, _) in TABLE {
        let v = point.unwrap_or(POINT);
        let mut m = model(expr);
        let d = derivatives(&mut m);
        let (xs, ys) = (
            &[m.dag.insert(Node::X(0)), m.dag.insert(Node::X(1))],
            &[m.dag.insert(Node::Y(0)), m.dag.insert(Node::Y(1))],
        );
        let (yy, xy) = diff::hessian_blocks(&mut m.dag, &d.grad[2..], xs, ys);
        for i in 0..2 {
            for j in 0..2 {
                let full_yy = at(&m, &[d.hess[2 + i][2 + j]], &v)[0];
                // A missing entry is a structural zero (or below the diagonal of the symmetric block).
                let value = |id: Option<ExprId>| id.map_or(0.0, |id| at(&m, &[id], &v)[0]);
                let ours_yy = value(yy.get(i.min(j), i.max(j)));
                assert!(close(ours_yy, full_yy, 1e-12), "`{expr}`: yy[{i}][{j}] = {ours_yy}, not {full_yy}");
                assert!(i <= j || yy.get(i, j).is_none(), "`{expr}`: yy[{i}][{j}] is below the diagonal");
                let full_xy = at(&m, &[d.hess[i][2 + j]], &v)[0];
                assert!(close(value(xy.get(i, j)), full_xy, 1e-12), "`{expr}`: xy[{i}][{j}]");
            }
        }
    }
}

/// The lower level of a separable problem with `m` variables on each side.
fn separable(m: usize) -> String {
    format!(
        "problem S {{ upper x: real[{m}]; lower y: real[{m}]; minimize upper: norm2(y) + 0.1 * norm2(x); \
         minimize lower: sum(i in 0..{m}: (y[i] - x[i])^2 + 0.1 * y[i]^4); }}"
    )
}

#[test]
fn a_separable_problem_has_blocks_and_code_linear_in_its_size() {
    // The blocks hold the structural non-zeros only: m diagonal entries each, not m².
    let m = 300;
    let mut model = compile(&separable(m)).unwrap();
    let (xs, ys): (Vec<ExprId>, Vec<ExprId>) =
        (0..m as u32).map(|i| (model.dag.insert(Node::X(i)), model.dag.insert(Node::Y(i)))).unzip();
    let wrt: Vec<ExprId> = xs.iter().chain(&ys).copied().collect();
    let grad_y = diff::gradient(&mut model.dag, model.lower, &wrt)[m..].to_vec();
    let (yy, xy) = diff::hessian_blocks(&mut model.dag, &grad_y, &xs, &ys);
    assert_eq!((yy.entries.len(), xy.entries.len()), (m, m));
    assert!(yy.entries.iter().chain(&xy.entries).all(|&(i, j, _)| i == j), "only diagonal entries");
    assert_eq!(at_y(&model, yy.get(7, 7).unwrap(), 0.5), 2.0 + 1.2 * 0.25);

    // Generated code grows like m: 4× the variables, 4× the text (within 10 %).
    let size = |m: usize| {
        let model = compile(&separable(m)).unwrap();
        bilevel_dsl::fixed_size::generate(&model, &"::bilevel".parse().unwrap()).unwrap().to_string().len() as f64
    };
    let ratio = size(256) / size(64);
    assert!((3.6..=4.4).contains(&ratio), "generated code grows {ratio}× from m = 64 to 256");
}

/// A node of the separable problem evaluated with every y at `y` and every x at 0.
fn at_y(model: &Model, id: ExprId, y: f64) -> f64 {
    let (n, m) = (model.x.dim, model.y.dim);
    eval(&model.dag, &[id], &vec![0.0; n], &vec![y; m], &model.param_defaults())[0]
}

#[test]
fn the_xx_block_costs_what_the_x_gradient_costs() {
    // `norm(x)` has a dense ∇²xx (n² entries); it is generated as n products ∇²xx·e_j, each the size of the
    // gradient, so the code grows like n (it was 48 MB at n = 1024).
    let text = |n: usize| {
        format!(
            "problem N {{ upper x: real[{n}]; lower y: real; minimize upper: norm(x) + y^2; \
             minimize lower: (y - sum(x))^2; }}"
        )
    };
    let size = |n: usize| {
        let model = compile(&text(n)).unwrap();
        bilevel_dsl::fixed_size::generate(&model, &"::bilevel".parse().unwrap()).unwrap().to_string().len() as f64
    };
    let ratio = size(1024) / size(256);
    assert!((3.6..=4.4).contains(&ratio), "generated code grows {ratio}× from n = 256 to 1024");
    assert!(size(1024) < 1.5e6, "{} bytes at n = 1024", size(1024));
}

/// `if y > 0 then (y - 0)^2 * x else if y > 1 then … else y^2` with `k` branches.
fn else_if_chain(k: usize) -> String {
    let chain: Vec<String> = (0..k).map(|b| format!("if y > {b} then (y - {b})^2 * x")).collect();
    format!(
        "problem C {{ upper x: real; lower y: real; minimize upper: x^2; minimize lower: {} else y^2; }}",
        chain.join(" else ")
    )
}

#[test]
fn derivatives_of_an_else_if_chain_are_linear_in_its_length_and_exact() {
    let nodes = |k: usize| {
        let model = compile(&else_if_chain(k)).unwrap();
        let mut dag = model.dag.clone();
        diff::derivatives(&mut dag, (1, 1), model.lower);
        (dag.len() - model.dag.len()) as f64
    };
    // Nested masks became one mask on a chain of conditions: 4× the branches, about 4× the nodes (it was 16×).
    let ratio = nodes(400) / nodes(100);
    assert!((3.5..=4.5).contains(&ratio), "derivative nodes grow {ratio}× from 100 to 400 branches");

    // The branch taken, and its derivatives: G = (y − b)² x for the first b < y, else y².
    let mut model = compile(&else_if_chain(6)).unwrap();
    let d = diff::derivatives(&mut model.dag, (1, 1), model.lower);
    let roots = [d.grad_x[0], d.grad_y[0], d.yy.get(0, 0).unwrap(), d.xy.get(0, 0).unwrap()];
    for (y, want) in [(-0.5, [0.0, -1.0, 2.0, 0.0]), (3.5, [12.25, 21.0, 6.0, 7.0])] {
        // At y = 3.5 the first branch (b = 0) is taken: ∂x = y², ∂y = 2 y x, ∂²yy = 2x, ∂²xy = 2y, with x = 3.
        let x = if y < 0.0 { 1.0 } else { 3.0 };
        let got = eval(&model.dag, &roots, &[x], &[y], &model.param_defaults());
        assert_eq!(got, want.to_vec(), "at y = {y}");
    }
}

/// The deepest nesting of bracketed groups in a token stream.
fn nesting(tokens: proc_macro2::TokenStream) -> usize {
    tokens
        .into_iter()
        .map(|t| match t {
            proc_macro2::TokenTree::Group(g) => 1 + nesting(g.stream()),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn the_code_of_a_long_else_if_chain_nests_a_bounded_number_of_blocks() {
    // rustc overflowed its stack expanding a 450-branch chain written as `if`s nested inside each other's branches;
    // past a depth the selects become flat `let`s.
    let depth = |k: usize| {
        let model = compile(&else_if_chain(k)).unwrap();
        nesting(bilevel_dsl::fixed_size::generate(&model, &"::bilevel".parse().unwrap()).unwrap())
    };
    let (short, long) = (depth(60), depth(240));
    assert_eq!(short, long, "the nesting does not grow with the chain");
    assert!(long < 40, "{long} nested groups");
}
