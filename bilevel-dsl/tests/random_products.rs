//! Property test of problems with data: random objectives over symbolic sizes, built from every construct that
//! compiles to loops (sums and means over a `dim`, rows, `dot`, products with data, `transpose`, `logsumexp`,
//! `log_softmax`, `softmax`, elementwise functions), checked on small random data by direct evaluation of the
//! generated loop programs: each gradient against central differences of the value, each Hessian–vector
//! product against central differences of the gradient. The generated Rust of each is also parsed.

use bilevel_dsl::data_loops;
use bilevel_dsl::eval::{Loops, Outputs, Point};
use bilevel_dsl::model::Model;
use bilevel_dsl::program::{self, Program};

/// A linear congruential generator: deterministic choices and numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// A number in [-1, 1].
    fn number(&mut self) -> f64 {
        (self.next() as f64 / (1u64 << 31) as f64) * 2.0 - 1.0
    }
    fn numbers(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.number()).collect()
    }
}

const FUNCTIONS: &[&str] = &["sin", "cos", "tanh", "sigmoid", "softplus"];

/// Random expressions of each kind: a number, a number per sample `i`, a number per feature `j`, a vector of
/// length `p`, a vector of length `N`.
struct Gen<'a>(&'a mut Rng);

impl Gen<'_> {
    fn f(&mut self) -> &'static str {
        FUNCTIONS[self.0.pick(FUNCTIONS.len())]
    }

    fn scalar(&mut self, d: usize) -> String {
        if d == 0 {
            return ["lam", "0.5", "norm2(w)"][self.0.pick(3)].to_string();
        }
        match self.0.pick(10) {
            0 | 1 => format!("mean(i in 0..N: {})", self.sample(d - 1)),
            2 => format!("sum(j in 0..p: {})", self.feature(d - 1)),
            3 => format!("dot({}, {})", self.vec_p(d - 1), self.vec_p(d - 1)),
            4 => format!("norm2({}) / N", self.vec_n(d - 1)),
            5 => format!("logsumexp({})", self.vec_p(d - 1)),
            6 => format!("({} + {})", self.scalar(d - 1), self.scalar(d - 1)),
            7 => format!("({} * {})", self.scalar(d - 1), self.scalar(d - 1)),
            8 => format!("lam * {}", self.scalar(d - 1)),
            _ => format!("{}({})", self.f(), self.scalar(d - 1)),
        }
    }

    fn sample(&mut self, d: usize) -> String {
        if d == 0 {
            return ["s[i]", "t[i]", "dot(X[i], w)", "s[i] * t[i]"][self.0.pick(4)].to_string();
        }
        match self.0.pick(7) {
            0 => format!("dot(X[i], {})", self.vec_p(d - 1)),
            1 => format!("{}({})", self.f(), self.sample(d - 1)),
            2 => format!("({} * {})", self.sample(d - 1), self.sample(d - 1)),
            3 => format!("({} + {})", self.sample(d - 1), self.scalar(d - 1)),
            4 => format!("dot(X[i], log_softmax({}))", self.vec_p(d - 1)),
            5 => format!("sigmoid(s[i]) * {}", self.sample(d - 1)),
            _ => format!("({})[i]", self.vec_n(d - 1)),
        }
    }

    fn feature(&mut self, d: usize) -> String {
        if d == 0 {
            return ["w[j]", "w[j]^2"][self.0.pick(2)].to_string();
        }
        match self.0.pick(4) {
            0 => format!("{}({})", self.f(), self.feature(d - 1)),
            1 => format!("({} * {})", self.feature(d - 1), self.feature(d - 1)),
            2 => format!("({} + {})", self.feature(d - 1), self.scalar(d - 1)),
            _ => format!("({})[j]", self.vec_p(d - 1)),
        }
    }

    fn vec_p(&mut self, d: usize) -> String {
        if d == 0 {
            return "w".to_string();
        }
        match self.0.pick(7) {
            0 => format!("{}({})", self.f(), self.vec_p(d - 1)),
            1 => format!("({} + {})", self.vec_p(d - 1), self.vec_p(d - 1)),
            2 => format!("{} * {}", self.scalar(d - 1), self.vec_p(d - 1)),
            3 => format!("transpose(X) * {} / N", self.vec_n(d - 1)),
            4 => format!("log_softmax({})", self.vec_p(d - 1)),
            5 => format!("softmax({})", self.vec_p(d - 1)),
            _ => "w".to_string(),
        }
    }

    fn vec_n(&mut self, d: usize) -> String {
        if d == 0 {
            return ["s", "t", "X * w"][self.0.pick(3)].to_string();
        }
        match self.0.pick(5) {
            0 => format!("X * {}", self.vec_p(d - 1)),
            1 => format!("{}({})", self.f(), self.vec_n(d - 1)),
            2 => format!("({} + {})", self.vec_n(d - 1), self.vec_n(d - 1)),
            3 => format!("{} * {}", self.scalar(d - 1), self.vec_n(d - 1)),
            _ => "s".to_string(),
        }
    }
}

fn problem(rng: &mut Rng) -> String {
    let mut g = Gen(rng);
    let (lower, upper) = (g.scalar(3), g.scalar(3));
    format!(
        "problem R {{
            dim N, p;
            dim C;
            data X: real[N, p];
            data t: real[N];
            data Y: real[N, C];
            upper s: real[N];
            lower w: real[p];
            param lam = 0.7;
            minimize lower: {lower} + norm2(w);
            minimize upper: {upper} + 0.1 * norm2(s);
        }}"
    )
}

/// Terms of a multi-class problem: a matrix variable `W[p, C]`, class scores `X[i] * W`, one-hot rows `Y[i]`.
fn class_term(rng: &mut Rng, d: usize) -> String {
    if d == 0 {
        let leaves = [
            "logsumexp(X[i] * W)",
            "-dot(Y[i], log_softmax(X[i] * W))",
            "dot(softmax(X[i] * W), Y[i])",
            "norm2(X[i] * W)",
            "dot(X[i] * W, Y[i]) * s[i]",
        ];
        return leaves[rng.pick(leaves.len())].to_string();
    }
    match rng.pick(4) {
        0 => format!("sigmoid(s[i]) * {}", class_term(rng, d - 1)),
        1 => format!("({} + {})", class_term(rng, d - 1), class_term(rng, d - 1)),
        2 => format!("{}({})", FUNCTIONS[rng.pick(FUNCTIONS.len())], class_term(rng, d - 1)),
        _ => format!("({} * {})", class_term(rng, d - 1), class_term(rng, d - 1)),
    }
}

fn class_problem(rng: &mut Rng) -> String {
    let (lower, upper) = (class_term(rng, 2), class_term(rng, 2));
    format!(
        "problem R {{
            dim N, p, C;
            data X: real[N, p];
            data t: real[N];
            data Y: real[N, C];
            upper s: real[N];
            lower W: real[p, C];
            param lam = 0.7;
            minimize lower: mean(i in 0..N: {lower}) + lam * norm2(W);
            minimize upper: mean(i in 0..N: {upper}) + 0.1 * norm2(s);
        }}"
    )
}

const N: usize = 3;
const P: usize = 2;
/// Classes of the multi-class problems.
const C: usize = 3;

/// Runs a program at `(x, y)` with directions `(u, v)`.
fn run(model: &Model, program: &Program, data: &[(&[f64], usize)], at: [&[f64]; 4]) -> Outputs {
    let point = Point { x: at[0], y: at[1], u: at[2], v: at[3], params: &[0.7], data, sizes: &[N, P, C] };
    Loops::new(&program.dag, model, point).run(program)
}

fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.iter().zip(b).all(|(p, q)| (p - q).abs() <= tol * (1.0 + p.abs().max(q.abs())))
}

/// A function of `(x, y)` with vector values.
type VectorFn<'a> = dyn Fn(&[f64], &[f64]) -> Vec<f64> + 'a;

/// `(f(z + h d) − f(z − h d)) / 2h` of a vector function, along `d` in the space of `x` or of `y`.
fn differences(f: &VectorFn, x: &[f64], y: &[f64], dx: &[f64], dy: &[f64]) -> Vec<f64> {
    let h = 1e-5;
    let shift = |z: &[f64], d: &[f64], s: f64| -> Vec<f64> { z.iter().zip(d).map(|(a, b)| a + s * b).collect() };
    let plus = f(&shift(x, dx, h), &shift(y, dy, h));
    let minus = f(&shift(x, dx, -h), &shift(y, dy, -h));
    plus.iter().zip(&minus).map(|(a, b)| (a - b) / (2.0 * h)).collect()
}

#[test]
fn random_objectives_have_consistent_gradients_and_products() {
    let mut rng = Rng(2026);
    for case in 0..150 {
        let text = problem(&mut rng);
        check(&text, case, &mut rng, P);
    }
}

#[test]
fn random_multi_class_objectives_have_consistent_gradients_and_products() {
    let mut rng = Rng(7);
    for case in 0..60 {
        let text = class_problem(&mut rng);
        check(&text, case, &mut rng, P * C);
    }
}

/// Compiles `text` (whose lower variable has `m` elements), parses its generated Rust, and checks its gradients
/// and products at a random point on random data.
fn check(text: &str, case: usize, rng: &mut Rng, m: usize) {
    let model = bilevel_dsl::compile(text).unwrap_or_else(|e| panic!("case {case}: {e:?}\n{text}"));
    let krate: proc_macro2::TokenStream = "::bilevel".parse().unwrap();
    syn::parse2::<syn::File>(data_loops::generate(&model, &krate))
        .unwrap_or_else(|e| panic!("case {case}: generated code does not parse: {e}\n{text}"));
    let p = program::programs(&model);
    let (x_data, t_data) = (rng.numbers(N * P), rng.numbers(N));
    let labels: Vec<f64> = (0..N * C).map(|k| if k % C == k / C % C { 1.0 } else { 0.0 }).collect();
    let data: [(&[f64], usize); 3] = [(&x_data, P), (&t_data, 1), (&labels, C)];
    let (x, y, u, v) = (rng.numbers(N), rng.numbers(m), rng.numbers(N), rng.numbers(m));
    let (zero_x, zero_y) = (vec![0.0; N], vec![0.0; m]);
    for (level, grad, hvp_y, hvp_x) in
        [("G", &p.lower_grad, &p.lower_hvp_y, &p.lower_hvp_x), ("F", &p.upper_grad, &p.upper_hvp_y, &p.upper_hvp_x)]
    {
        let gradient = |x: &[f64], y: &[f64]| run(&model, grad, &data, [x, y, &zero_x, &zero_y]);
        let value = |x: &[f64], y: &[f64]| vec![gradient(x, y).value];
        let g = gradient(&x, &y);
        let direct = Loops::new(
            &model.dag,
            &model,
            Point { x: &x, y: &y, u: &u, v: &v, params: &[0.7], data: &data, sizes: &[N, P, C] },
        )
        .value(if level == "G" { model.lower } else { model.upper });
        assert!(
            close(&[g.value], &[direct], 1e-12),
            "case {case}: {level} = {} with its gradient, {direct} alone",
            g.value
        );
        // The gradient along two random directions against differences of the value.
        for _ in 0..2 {
            let (dx, dy) = (rng.numbers(N), rng.numbers(m));
            let want: f64 = g.x.iter().zip(&dx).chain(g.y.iter().zip(&dy)).map(|(a, b)| a * b).sum();
            let fd = differences(&value, &x, &y, &dx, &dy);
            assert!(close(&[want], &fd, 1e-6), "case {case}: ∇{level}·d = {want}, differences {fd:?}\n{text}");
        }
        let both = |x: &[f64], y: &[f64]| {
            let g = gradient(x, y);
            [g.x, g.y].concat()
        };
        let h = run(&model, hvp_y, &data, [&x, &y, &zero_x, &v]);
        let fd = differences(&both, &x, &y, &zero_x, &v);
        assert!(close(&[h.x, h.y].concat(), &fd, 1e-6), "case {case}: ∇²{level}·v vs {fd:?}\n{text}");
        let h = run(&model, hvp_x, &data, [&x, &y, &u, &zero_y]);
        let fd = differences(&both, &x, &y, &u, &zero_y);
        assert!(close(&[h.x, h.y].concat(), &fd, 1e-6), "case {case}: ∇²{level}·u vs {fd:?}\n{text}");
    }
}
