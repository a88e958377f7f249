use bilevel::bilevel;

bilevel! {
    problem P {
        upper x: real[3];
        lower y: real[2];
        minimize upper: norm2(x);
        minimize lower: norm2(y - x);
    }
}

fn main() {}
