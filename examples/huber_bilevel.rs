//! P4 of docs/algorithms.md: the Huber illustration of Bolte et al. (Sec. 5.4). The lower objective `G = h(y² − 1)`
//! with Huber's `h` has minimizers `y = ±1`; the upper variable does not appear. Single-step multi-step ITD
//! (SMBG) converges to a lower-level solution; DPBG, which also moves the initialization `z` of its `k` lower
//! steps, converges to the unconstrained minimizer of F instead (Prop. 5.2), or escapes.
//!
//! Also writes the landscape of the paper's Fig. 2, `A^k(z)` and `φ^k(z) = F(A^k(z))` against `z` for k = 9,
//! as CSV to `huber_landscape_k9.csv` in the system's temporary directory (or the path after `--csv`).
//!
//! `cargo run --release --example huber_bilevel [-- --json] [--csv PATH]`

use bilevel::nalgebra::Vector1;
use bilevel::report::{json_requested, print_rows, Case, Row};
use bilevel::{bilevel, Algorithm, BgsOpt, Dpbg, Problem};

bilevel! {
    /// Bolte et al., Sec. 5.4: a Huber lower level with two minimizers.
    problem HuberBilevel {
        upper x: real;
        lower y: real;
        /// The point the upper level pulls y towards.
        param target = 0.1;
        minimize upper: (y - target)^2;
        minimize lower: huber(y^2 - 1);
        start x = 0, y = 0.5;
    }
}

/// Every row of the P4 table.
pub fn cases() -> Vec<Case<HuberBilevel>> {
    let smbg = BgsOpt { lower_step: Some(0.05), upper_step: 0.1, outer_iters: 200, ..BgsOpt::itd(10) };
    let case = |target: f64, method: bilevel::Method, y0: f64, expected: &str| Case {
        problem: HuberBilevel { target },
        method,
        x0: Vector1::new(0.0),
        y0: Vector1::new(y0),
        expected: expected.into(),
    };
    vec![
        case(0.1, smbg.clone().into(), 0.5, "y → 1 (a lower-level solution)"),
        case(0.1, smbg.into(), -0.3, "y → −1 (a lower-level solution)"),
        case(
            0.1,
            Dpbg { lower_step: Some(0.05), ..Dpbg::default() }.into(),
            0.5,
            "y → 0.1, z → 0.042561 (not a lower-level solution)",
        ),
        case(
            2.0,
            Dpbg { step: 0.05, lower_step: Some(0.05), ..Dpbg::default() }.into(),
            0.5,
            "F = (y − 2)²: y → 2, z → 5.16235 (escape)",
        ),
    ]
}

/// `A^k(z)`: `k` lower gradient steps of size `alpha` from `z`.
pub fn lower_steps(p: &HuberBilevel, z: f64, k: usize, alpha: f64) -> f64 {
    let x = Vector1::new(0.0);
    (0..k).fold(z, |y, _| y - alpha * p.lower_grad(&x, &Vector1::new(y)).y[0])
}

/// The landscape of the paper's Fig. 2 as CSV: `z, A^k(z), φ^k(z) = F(A^k(z)), F(z), G(z)` on `z ∈ [−2, 2]`.
pub fn landscape_csv(p: &HuberBilevel, k: usize, alpha: f64) -> String {
    let x = Vector1::new(0.0);
    let mut out = format!("z,A^{k}(z),phi^{k}(z),F(z),G(z)\n");
    for i in 0..=400 {
        let z = -2.0 + 0.01 * f64::from(i);
        let a = lower_steps(p, z, k, alpha);
        let (f, g) = (p.upper(&x, &Vector1::new(z)), p.lower(&x, &Vector1::new(z)));
        out.push_str(&format!("{z:.2},{a:?},{:?},{f:?},{g:?}\n", p.upper(&x, &Vector1::new(a))));
    }
    out
}

fn main() {
    let json = json_requested();
    let title = "P4 huber_bilevel: F = (y − target)², G = h(y² − 1); DPBG rows show the initialization z in `expected`";
    let mut rows = Vec::new();
    for case in cases() {
        match case.run() {
            Ok(run) => {
                let mut row = Row::of(&case.method, &run, &case.expected);
                if let Some(z) = run.last().extra("z[0]") {
                    row.expected = format!("{} (measured z = {z:.6})", row.expected);
                }
                rows.push(row);
            }
            Err(e) => eprintln!("{} ({}): {e}", case.method.name(), case.method.settings()),
        }
    }
    print_rows(title, &rows, json);
    let args: Vec<String> = std::env::args().collect();
    let path = match args.iter().position(|a| a == "--csv") {
        Some(i) => args.get(i + 1).cloned().unwrap_or_default(),
        // The system's temporary directory: `target/` may be elsewhere (CARGO_TARGET_DIR) or read-only.
        None => std::env::temp_dir().join("huber_landscape_k9.csv").display().to_string(),
    };
    let csv = landscape_csv(&HuberBilevel::default(), 9, 0.05);
    match std::fs::write(&path, csv) {
        Ok(()) => eprintln!("wrote the landscape of Fig. 2 (k = 9) to {path}"),
        Err(e) => eprintln!("could not write {path}: {e}"),
    }
}
