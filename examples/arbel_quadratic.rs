//! P5 of docs/algorithms.md: Arbel & Mairal's quadratic problem (App. E.1) at the paper's scale, d_x = 2000 and
//! d_y = 1000, with a lower Hessian of rank 900. Corrected ITD reaches the closed-form equilibrium
//! x* = A_f⁻¹ B_gᵀ A_g† C_f whatever T; plain ITD settles at another point, far from x* for small T.
//!
//! `cargo run --release --example arbel_quadratic [-- --json] [-- --full] [-- --plot fig3.svg]` (`--full` adds
//! T = 10 with K = 1000 and T = 100 with K = 100 — an outer step of T = 100 takes about two seconds here, and the
//! figure is against time; `--plot` draws the paper's Fig. 3: the distance to x* and ‖d_k‖ against the time of
//! the iterations, one line per run; `docs/arbel_fig3.svg` is the one of `--full`).

use std::time::Instant;

use bilevel::data::Array;
use bilevel::nalgebra::{DMatrix, DVector};
use bilevel::plot::{Figure, Panel, Series};
use bilevel::{bilevel, Algorithm, BgsOpt, MatrixFreeProblem, Method, Metrics, Run, XiSolver};

bilevel!(file = "examples/problems/arbel_quadratic.bl");

/// A deterministic generator of standard normal numbers (SplitMix64 and Box–Muller).
pub struct Gaussian(u64);

impl Gaussian {
    /// The generator with this seed.
    pub fn new(seed: u64) -> Gaussian {
        Gaussian(seed)
    }

    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// One standard normal number.
    pub fn sample(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// A `rows × cols` matrix of standard normal numbers.
    pub fn matrix(&mut self, rows: usize, cols: usize) -> DMatrix<f64> {
        DMatrix::from_fn(rows, cols, |_, _| self.sample())
    }
}

/// A Haar-random orthogonal matrix: Q of the QR decomposition of a Gaussian matrix, signs fixed by diag(R).
fn orthogonal(g: &mut Gaussian, size: usize) -> DMatrix<f64> {
    let qr = g.matrix(size, size).qr();
    let (mut q, r) = (qr.q(), qr.r());
    for j in 0..size {
        if r[(j, j)] < 0.0 {
            q.column_mut(j).neg_mut();
        }
    }
    q
}

/// `V diag(λ) Vᵀ`, symmetrized.
fn spectral(v: &DMatrix<f64>, lambda: &[f64]) -> DMatrix<f64> {
    let scaled = DMatrix::from_fn(v.nrows(), v.ncols(), |i, j| v[(i, j)] * lambda[j]);
    let a = &scaled * v.transpose();
    (&a + a.transpose()) * 0.5
}

/// The decreasing spectrum `0.9 · 10^(−i/(k−1))`, i = 0..k.
fn spectrum(k: usize) -> Vec<f64> {
    (0..k).map(|i| 0.9 * 10f64.powf(-(i as f64) / (k - 1).max(1) as f64)).collect()
}

/// An instance with `n` upper and `m` lower variables and a lower Hessian of rank `rank`, its equilibrium x* and
/// A_f (for the distance ½(x − x*)ᵀA_f(x − x*)).
pub struct Instance {
    /// The problem.
    pub problem: ArbelQuadratic,
    /// The closed-form equilibrium.
    pub x_star: DVector<f64>,
    /// A_f.
    pub af: DMatrix<f64>,
}

/// The construction of docs/algorithms.md with the given sizes and seed (the paper's: 2000, 1000, 900).
pub fn instance(n: usize, m: usize, rank: usize, seed: u64) -> Instance {
    let mut g = Gaussian::new(seed);
    let (qf, lf) = (orthogonal(&mut g, n), spectrum(n));
    let af = spectral(&qf, &lf);
    let v = orthogonal(&mut g, m).columns(0, rank).into_owned();
    let lg = spectrum(rank);
    let ag = spectral(&v, &lg);
    let bg = &ag * g.matrix(m, n);
    let cf = DVector::from_fn(m, |_, _| g.sample());
    // x* = A_f⁻¹ B_gᵀ A_g† C_f, with both inverses from the known eigendecompositions.
    let ag_pinv_cf = &v * DVector::from_fn(rank, |j, _| v.column(j).dot(&cf) / lg[j]);
    let rhs = bg.transpose() * ag_pinv_cf;
    let x_star = &qf * DVector::from_fn(n, |j, _| qf.column(j).dot(&rhs) / lf[j]);
    let data =
        ArbelQuadraticData { Af: Array::from(&af), Ag: Array::from(&ag), Bg: Array::from(&bg), Cf: Array::from(cf) };
    Instance { problem: ArbelQuadratic::new(data).expect("sizes agree"), x_star, af }
}

impl Instance {
    /// `½(x − x*)ᵀA_f(x − x*)`.
    pub fn distance(&self, x: &DVector<f64>) -> f64 {
        let e = x - &self.x_star;
        0.5 * e.dot(&(&self.af * &e))
    }
}

/// The runs of docs/algorithms.md: x0 = 0, y0 = 0, α = 0.9, γ = 1, M = 0, warm, K outer iterations.
pub fn methods(unrolled: &[usize], outer_iters: usize) -> Vec<Method> {
    // Every iterate is recorded: the table reads k = 1, 10, 100 and the figure every record.
    let set = |m: BgsOpt| {
        Method::from(BgsOpt { lower_step: Some(0.9), upper_step: 1.0, outer_iters, metrics: Metrics::Every(1), ..m })
    };
    let mut methods = Vec::new();
    for &t in unrolled {
        methods.push(set(BgsOpt::itd(t)));
        methods.push(set(BgsOpt::corrected_itd(t, XiSolver::Gd { step: 0.9 })));
    }
    methods
}

/// Times each product of `problem` (`--timing`).
fn timing(problem: &ArbelQuadratic) {
    let (n, m) = problem.dims();
    let (x, y, v) = (vec![0.1; n], vec![0.2; m], vec![0.3; m]);
    let (mut gx, mut gy) = (vec![0.0; n], vec![0.0; m]);
    let time = |name: &str, f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..10 {
            f();
        }
        println!("{name}: {:.2} ms", start.elapsed().as_secs_f64() * 100.0);
    };
    time("upper", &mut || {
        std::hint::black_box(problem.upper(&x, &y));
    });
    time("upper_grad", &mut || {
        std::hint::black_box(problem.upper_grad(&x, &y, &mut gx, &mut gy));
    });
    time("lower_grad", &mut || {
        std::hint::black_box(problem.lower_grad(&x, &y, &mut gx, &mut gy));
    });
    time("lower_hvp_y", &mut || problem.lower_hvp_y(&x, &y, &v, &mut gx, &mut gy));
}

/// Fig. 3 of the paper: `½(x_k − x*)ᵀA_f(x_k − x*)` and `‖d_k‖` against the time of the iterations, one line
/// per run.
fn figure(inst: &Instance, runs: &[(String, Run)]) -> Figure {
    let lines = |f: &dyn Fn(&bilevel::Record) -> f64| {
        runs.iter()
            .map(|(label, run)| {
                Series::new(label, run.seconds.iter().zip(&run.trace).map(|(t, r)| (*t, f(r))).collect())
            })
            .collect()
    };
    let distance = Panel {
        series: lines(&|r| inst.distance(&r.x)),
        ..Panel::new("distance to x*", "time (s)", "½(x − x*)ᵀA_f(x − x*)").log_x().log_y()
    };
    let direction = Panel {
        series: lines(&|r| r.dir_norm),
        ..Panel::new("upper direction", "time (s)", "‖d_k‖").log_x().log_y()
    };
    Figure::new(vec![distance, direction])
}

fn main() {
    let json = bilevel::report::json_requested();
    let args: Vec<String> = std::env::args().collect();
    let plot = args.iter().position(|a| a == "--plot").map(|i| args.get(i + 1).cloned().unwrap_or_default());
    let full = std::env::args().any(|a| a == "--full");
    let start = Instant::now();
    let inst = instance(2000, 1000, 900, 2022);
    let (n, m) = inst.problem.dims();
    if std::env::args().any(|a| a == "--timing") {
        return timing(&inst.problem);
    }
    if !json {
        println!(
            "P5 arbel_quadratic: n = {n}, m = {m}, rank H = 900 (instance built in {:.1} s)\n",
            start.elapsed().as_secs_f64()
        );
        println!(
            "{:<14} {:<40} {:>9}   distance ½(x − x*)ᵀA_f(x − x*) at k = 1 / 10 / 100 / 1000",
            "algorithm", "settings", "ms/iter"
        );
    }
    let mut settings = methods(&[1, 10], 1000);
    settings.truncate(if full { 4 } else { 2 });
    if full {
        settings.extend(methods(&[100], 100));
    }
    let mut runs = Vec::new();
    for method in settings {
        let run = match method.solve(&inst.problem, &vec![0.0; n], &vec![0.0; m]) {
            Ok(run) => run,
            Err(e) => {
                eprintln!("{} ({}): {e}", method.name(), method.settings());
                continue;
            }
        };
        // The iterations' own time (the records' metrics excluded).
        let per_iter = run.seconds.last().copied().unwrap_or(0.0) / run.iterations().max(1) as f64;
        let at = |k: usize| run.trace.get(k).map_or(f64::NAN, |r| inst.distance(&r.x));
        let t: usize = method.settings().split_whitespace().next().and_then(|s| s[2..].parse().ok()).unwrap_or(0);
        if json {
            println!(
                "{{\"algorithm\":\"{}\",\"settings\":\"{}\",\"T\":{t},\"correction\":{},\"iterations\":{},\"seconds_per_iteration\":{per_iter:e},\"distance\":{:e}}}",
                method.name(),
                method.settings(),
                method.name() == "corrected-itd",
                run.iterations(),
                at(run.iterations())
            );
        } else {
            println!(
                "{:<14} {:<40} {:>9.2}   {}",
                method.name(),
                method.settings(),
                per_iter * 1e3,
                // "—" past the end of a shorter run.
                [1, 10, 100, 1000]
                    .map(|k| if k < run.trace.len() { format!("{:.1e}", at(k)) } else { "—".into() })
                    .join(" / ")
            );
        }
        let t = method.settings().split_whitespace().next().unwrap_or_default().replace('=', " = ");
        runs.push((format!("{} {t}", method.name()), run));
    }
    if let Some(path) = plot {
        match figure(&inst, &runs).save(&path) {
            Ok(()) => eprintln!("wrote {path}"),
            Err(e) => eprintln!("{e}"),
        }
    }
}
