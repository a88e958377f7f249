//! P5 (Arbel & Mairal's quadratic with a degenerate lower level) on a reduced instance, n = 80, m = 40, rank 36,
//! built exactly as the example builds the paper's size: corrected ITD reaches the closed-form equilibrium x* with
//! T = 1 and T = 10, plain ITD settles elsewhere. The paper-sized runs are the example `arbel_quadratic`.

use bilevel::nalgebra::DVector;
use bilevel::Algorithm;

#[allow(dead_code)]
#[path = "../examples/arbel_quadratic.rs"]
mod arbel_quadratic;

use arbel_quadratic::{instance, methods};

#[test]
fn corrected_itd_reaches_x_star_and_itd_does_not() {
    let inst = instance(80, 40, 36, 7);
    for method in methods(&[1, 10], 1000) {
        let run = method.solve(&inst.problem, &[0.0; 80], &[0.0; 40]).unwrap();
        let distance = inst.distance(&DVector::from_column_slice(run.x().as_slice()));
        eprintln!("{} {}: distance {distance:e}", method.name(), method.settings());
        if method.name() == "corrected-itd" {
            assert!(distance < 1e-8, "{}: {distance:e}", method.settings());
        } else {
            assert!(distance > 1.0, "{}: {distance:e}", method.settings());
        }
    }
}
