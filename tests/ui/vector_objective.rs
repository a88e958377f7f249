use bilevel::bilevel;

bilevel! {
    problem P {
        upper x: real[2];
        lower y: real[2];
        minimize upper: x - y;
        minimize lower: norm2(y - x);
    }
}

fn main() {}
