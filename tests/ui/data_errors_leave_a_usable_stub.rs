use bilevel::data::Array;
use bilevel::{bilevel, MatrixFreeProblem};

bilevel! {
    problem P {
        dim N, p;
        data X: real[N, p];
        data t: real[N];
        upper lam: real;
        lower w: real[p];
        minimize lower: mean(i in 0..N: (dot(X[i], w) - t[i])^2) + exp(lam) * norm2(w);
        minimize upper: mean(i in 0..N: (dot(X[i], w) - q)^2);
    }
}

// Code that builds the problem from its data and calls it reports no errors of its own: only the one above.
fn main() {
    let data = PData { X: Array::matrix(1, 1, vec![1.0]).unwrap(), t: Array::vector(vec![1.0]) };
    let p = P::new(data).unwrap();
    let (mut gx, mut gy) = ([0.0], [0.0]);
    let _ = p.lower_grad(&[0.0], &[0.0], &mut gx, &mut gy);
}
