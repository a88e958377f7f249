use bilevel::bilevel;

bilevel! {
    problem P {
        upper x: real;
        lower y: real[2];
        minimize upper: x^2;
        minimize lower: sum(y^x);
    }
}

fn main() {}
