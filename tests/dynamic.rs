//! The runtime is generic over nalgebra dimensions: a problem with `Dyn` dimensions (as the command-line tool
//! will evaluate them) runs through the same algorithms as a compiled `Const` one and gives the same results.
//! The dynamic problem here is P1 with hand-written derivatives.

use bilevel::nalgebra::{DMatrix, DVector, Dyn};
use bilevel::{Algorithm, Bda, BgsOpt, Bounds, Dpbg, Galet, Grad, Hess, Method, Problem, XiSolver};

mod problems;
use problems::counter_example;

/// P1 by hand: F = ½(x − y₁)² + ½(y₀ − 1)², G = ½y₀² − x y₀.
struct HandWritten;

impl Problem for HandWritten {
    type N = Dyn;
    type M = Dyn;

    fn name(&self) -> &str {
        "HandWritten"
    }

    fn dims(&self) -> (Dyn, Dyn) {
        (Dyn(1), Dyn(2))
    }

    fn start(&self) -> (DVector<f64>, DVector<f64>) {
        (DVector::zeros(1), DVector::zeros(2))
    }

    fn bounds(&self) -> Option<Bounds<Dyn>> {
        Some(Bounds { lo: DVector::from_element(1, -100.0), hi: DVector::from_element(1, 100.0) })
    }

    fn upper(&self, x: &DVector<f64>, y: &DVector<f64>) -> f64 {
        0.5 * (x[0] - y[1]).powi(2) + 0.5 * (y[0] - 1.0).powi(2)
    }

    fn lower(&self, x: &DVector<f64>, y: &DVector<f64>) -> f64 {
        0.5 * y[0].powi(2) - x[0] * y[0]
    }

    fn upper_grad(&self, x: &DVector<f64>, y: &DVector<f64>) -> Grad<Dyn, Dyn> {
        let value = self.upper(x, y);
        Grad { value, x: DVector::from_vec(vec![x[0] - y[1]]), y: DVector::from_vec(vec![y[0] - 1.0, y[1] - x[0]]) }
    }

    fn lower_grad(&self, x: &DVector<f64>, y: &DVector<f64>) -> Grad<Dyn, Dyn> {
        Grad {
            value: self.lower(x, y),
            x: DVector::from_vec(vec![-y[0]]),
            y: DVector::from_vec(vec![y[0] - x[0], 0.0]),
        }
    }

    fn upper_hess(&self, x: &DVector<f64>, y: &DVector<f64>) -> Hess<Dyn, Dyn> {
        let g = self.upper_grad(x, y);
        let yy = DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 0.0, 1.0]);
        let xy = DMatrix::from_row_slice(1, 2, &[0.0, -1.0]);
        Hess { value: g.value, grad_x: g.x, grad_y: g.y, yy, xy }
    }

    fn upper_hess_xx(&self, _: &DVector<f64>, _: &DVector<f64>) -> DMatrix<f64> {
        DMatrix::from_element(1, 1, 1.0)
    }

    fn lower_hess_xx(&self, _: &DVector<f64>, _: &DVector<f64>) -> DMatrix<f64> {
        DMatrix::zeros(1, 1)
    }

    fn lower_hess(&self, x: &DVector<f64>, y: &DVector<f64>) -> Hess<Dyn, Dyn> {
        let g = self.lower_grad(x, y);
        let yy = DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 0.0, 0.0]);
        let xy = DMatrix::from_row_slice(1, 2, &[-1.0, 0.0]);
        Hess { value: g.value, grad_x: g.x, grad_y: g.y, yy, xy }
    }
}

#[test]
fn dynamic_and_compiled_problems_give_the_same_runs() {
    let methods: Vec<Method> = vec![
        counter_example::reference_settings(BgsOpt::itd(5)).into(),
        counter_example::reference_settings(BgsOpt::rhg(5)).into(),
        counter_example::reference_settings(BgsOpt::corrected_itd(5, XiSolver::PINV)).into(),
        counter_example::reference_settings(BgsOpt::corrected_itd(5, XiSolver::ZCg { iters: 1 })).into(),
        Bda { inner_iters: 8, outer_iters: 200, ..Bda::default() }.into(),
        Galet { outer_iters: 200, ..Galet::default() }.into(),
        Dpbg { iters: 200, ..Dpbg::default() }.into(),
    ];
    let compiled = counter_example::CounterExample;
    let (cx0, cy0) = compiled.start();
    let (dx0, dy0) = HandWritten.start();
    let (x, y) = (DVector::from_vec(vec![0.3]), DVector::from_vec(vec![-0.2, 0.7]));
    assert_eq!(compiled.upper_hess_xx(&cx0, &cy0)[(0, 0)], HandWritten.upper_hess_xx(&x, &y)[(0, 0)]);
    assert_eq!(compiled.lower_hess_xx(&cx0, &cy0)[(0, 0)], HandWritten.lower_hess_xx(&x, &y)[(0, 0)]);
    for m in methods {
        let c = m.solve(&compiled, &cx0, &cy0).unwrap();
        let d = m.solve(&HandWritten, &dx0, &dy0).unwrap();
        assert_eq!(c.trace.len(), d.trace.len());
        for (rc, rd) in c.trace.iter().zip(&d.trace) {
            assert!((rc.x[0] - rd.x[0]).abs() < 1e-12, "{}: x {} vs {}", m.name(), rc.x[0], rd.x[0]);
            assert!((rc.y[0] - rd.y[0]).abs() < 1e-12 && (rc.y[1] - rd.y[1]).abs() < 1e-12, "{}", m.name());
            assert!((rc.bgs_residual - rd.bgs_residual).abs() < 1e-12, "{}", m.name());
        }
    }
}
