//! P6 (data hyper-cleaning on the digits data) on reduced settings: the first 80 training and validation rows,
//! a few outer iterations. The learned weights already separate the corrupted samples from the clean ones, and
//! the validation loss falls. The full runs are the example `hyper_cleaning`.

use bilevel::{Algorithm, BgsOpt, Galet, Method, XiSolver};

#[allow(dead_code)]
#[path = "../examples/hyper_cleaning.rs"]
mod hyper_cleaning;

use hyper_cleaning::{digits_limited, precision_recall};

#[test]
fn weights_fall_on_the_corrupted_samples() {
    let digits = digits_limited(80).unwrap();
    let methods = [
        Method::from(BgsOpt { lower_step: Some(0.15), upper_step: 3e4, outer_iters: 6, ..BgsOpt::itd(3) }),
        Method::from(BgsOpt {
            lower_step: Some(0.15),
            upper_step: 1e4,
            outer_iters: 6,
            ..BgsOpt::corrected_itd(3, XiSolver::Gd { step: 0.15 })
        }),
        Method::from(Galet {
            outer_iters: 6,
            lower_iters: 3,
            lower_step: Some(0.15),
            w_iters: 3,
            w_step: 0.03,
            upper_step: 3e4,
            ..Galet::default()
        }),
    ];
    for method in methods {
        let run = method.solve(&digits.problem, &[0.0; 80], &[0.0; 650]).unwrap();
        let s = run.x().as_slice();
        let mean = |corrupted: bool| {
            let picked: Vec<f64> =
                s.iter().zip(&digits.corrupted).filter(|(_, c)| **c == corrupted).map(|(v, _)| *v).collect();
            picked.iter().sum::<f64>() / picked.len() as f64
        };
        let (precision, recall) = precision_recall(s, &digits.corrupted);
        let (first, last) = (run.trace[0].upper, run.last().upper);
        eprintln!("{}: mean s clean {:.3}, corrupted {:.3}; precision {precision:.2} recall {recall:.2}; F {first:.4} -> {last:.4}", method.name(), mean(false), mean(true));
        assert!(mean(true) < mean(false) - 0.1, "{}: corrupted samples keep their weight", method.name());
        // With so few steps GALET lowers every weight (its w starts at 0), so only the BGS methods are held to
        // flagging mostly corrupted samples.
        if method.name() != "galet" {
            assert!(precision > 0.55, "{}: precision {precision}", method.name());
        }
        assert!(last < first, "{}: the validation loss did not fall", method.name());
    }
}

/// Hyper-cleaning with a stochastic method: SABA on batches of 64 of the 600 training and 600 validation rows
/// (each step reads 64 of each), the weights' step 1000 times the lower one (`r = 1.5e-4`, the full-batch runs'
/// γ = 1e3 in expectation). After 3000 steps `h` = F(s, W*(s)) is within 0.015 of the full-batch methods' 0.2267
/// (0.2263 after 6000 steps), and `σ(s_i) < ½` finds the corrupted samples as they do.
#[test]
fn saba_cleans_the_digits_on_batches() {
    let digits = hyper_cleaning::digits().unwrap();
    let options = [("iters", "3000"), ("lower-step", "0.15"), ("outer-ratio", "1.5e-4"), ("eval-every", "1500")];
    let run = Method::from_options("saba", &options).unwrap().solve(&digits.problem, &[0.0; 600], &[0.0; 650]).unwrap();
    let h: Vec<f64> = run.trace.iter().map(|r| r.upper_at_solution.unwrap()).collect();
    assert!(h[0] > 0.99 && h[2] < 0.2267 + 0.015 && h[2] < h[1], "{h:?}");
    let (precision, recall) = precision_recall(run.x().as_slice(), &digits.corrupted);
    assert!(precision > 0.9 && recall > 0.9, "precision {precision}, recall {recall}");
}
