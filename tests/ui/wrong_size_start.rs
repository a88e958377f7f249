use bilevel::bilevel;

bilevel! {
    problem P {
        upper x: real;
        lower y: real[2];
        minimize upper: x^2;
        minimize lower: norm2(y);
        start x = 0, y = [1, 2, 3];
    }
}

fn main() {}
