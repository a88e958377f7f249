use bilevel::bilevel;

bilevel! {
    problem P {
        upper x: real;
        lower y: real;
        param bias = 1;
        minimize upper: (x - bais)^2;
        minimize lower: (y - x)^2;
    }
}

fn main() {}
