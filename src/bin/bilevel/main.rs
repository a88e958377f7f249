//! `bilevel`: check, expand and solve `.bl` problems from the shell, without compiling them (`bilevel --help`).
//!
//! Exit codes: 0 success, 1 a run failed (a non-finite value or divergence), 2 bad input (a file that cannot be
//! read, a problem text with mistakes, an unknown option or a value out of range).

mod args;
mod compare;
mod input;
mod landscape;
mod plots;
mod render;
mod report;
mod run;
mod solve;
mod sweep;

use clap::Parser;
use std::process::ExitCode;

use args::{Cli, Command};

/// Why the tool stops without success.
pub enum Failure {
    /// Bad input: the message is printed to stderr, exit code 2.
    Input(String),
    /// Bad input found in the problem text, to be rendered at its positions ([`input::positioned`]).
    Positioned(Vec<bilevel_dsl::Diagnostic>),
    /// The run failed: what was to be printed has been, exit code 1.
    Run,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Check { file } => input::check(&file).map(|(model, note)| {
            println!("{}: problem `{}` is valid ({})", file.display(), model.name, input::describe(&model));
            if let Some(note) = note {
                eprintln!("{note}");
            }
        }),
        Command::Derive { file } => {
            input::problem(&file).map(|(model, _)| print!("{}", bilevel_dsl::math::derivation(&model)))
        }
        Command::Expand { file } => input::problem(&file)
            .and_then(|(model, text)| input::expanded(&model, &file, &text))
            .map(|code| print!("{code}")),
        Command::Solve(args) => solve::solve(&args),
        Command::Compare(args) => compare::compare(&args),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Landscape(args) => landscape::landscape(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Run) => ExitCode::from(1),
        Err(Failure::Input(message)) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
        Err(Failure::Positioned(errors)) => {
            let texts: Vec<String> = errors.iter().map(|d| format!("error: {}", d.text())).collect();
            eprintln!("{}", texts.join("\n"));
            ExitCode::from(2)
        }
    }
}
