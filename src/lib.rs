//! # bilevel
//!
//! Bilevel optimization with exact symbolic derivatives compiled to specialized Rust.
//!
//! Write a problem with the [`bilevel!`] macro; it derives every gradient and Hessian block the algorithms need and
//! implements [`Problem`] for a generated struct. Then run an algorithm of the runtime on it:
//!
//! ```
//! use bilevel::{bilevel, Algorithm, BgsOpt, Problem};
//!
//! bilevel! {
//!     /// BDA paper, Example 1
//!     problem CounterExample {
//!         upper x: real in [-100, 100];
//!         lower y: real[2];
//!         minimize upper: 0.5 * (x - y[1])^2 + 0.5 * (y[0] - 1)^2;
//!         minimize lower: 0.5 * y[0]^2 - x * y[0];
//!     }
//! }
//!
//! let p = CounterExample::default();
//! let (x0, y0) = p.start();
//! let itd = BgsOpt { lower_step: 0.2, upper_step: 0.5, outer_iters: 3000, ..BgsOpt::itd(5) };
//! let run = itd.solve(&p, &x0, &y0).unwrap();
//! let c: f64 = 1.0 - 0.8f64.powi(5);
//! assert!((run.x()[0] - c / (1.0 + c)).abs() < 1e-6);
//! ```
#![warn(missing_docs)]

pub use bilevel_macros::bilevel;
pub use bilevel_runtime::*;
