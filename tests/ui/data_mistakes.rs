use bilevel::bilevel;

// Mistakes of a problem with data, each at its place: a size that was never declared, data given a value in
// the text, a data item's name used for a variable, a loop index outside its sum, `logsumexp` of a matrix.
bilevel! {
    problem P {
        dim N, p;
        data X: real[N, p];
        data Z: real[N, q];
        data t: real[N] = 1;
        upper X: real[N];
        upper s: real[N];
        lower w: real[p];
        minimize lower: mean(i in 0..N: s[i] * (dot(X[i], w) - t[i])^2) + w[i];
        minimize upper: logsumexp(X);
    }
}

fn main() {}
