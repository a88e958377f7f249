#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub use bilevel_macros::bilevel;
pub use bilevel_runtime::*;

pub mod tape;
