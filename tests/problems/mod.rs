//! The reference problems without data (P1–P4 of docs/algorithms.md), as the examples define them, included once
//! for the tests and benchmarks: `mod problems;` then `use problems::mexican_hat::MexicanHat;`. The examples stay
//! where a user reads them (each shows its problem's text, its reference settings and its tables); this module is
//! the one place that reaches into them.
#![allow(dead_code)]

/// P1, BDA's Example 1.
#[path = "../../examples/counter_example.rs"]
pub mod counter_example;
/// P3, GALET's example.
#[path = "../../examples/galet_example.rs"]
pub mod galet_example;
/// P4, Bolte et al.'s Huber example.
#[path = "../../examples/huber_bilevel.rs"]
pub mod huber_bilevel;
/// P2, the Mexican hat.
#[path = "../../examples/mexican_hat.rs"]
pub mod mexican_hat;
