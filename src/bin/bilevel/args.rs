//! The command line: subcommands and options (clap). The algorithm options are named as in
//! `bilevel::options::OPTIONS` and passed on to `Method::from_options`, the parser Rust code uses too.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Bilevel optimization of problems written in `.bl` files: min_x F(x, y) where y minimizes G(x, y).
///
/// The derivatives are derived symbolically from the file and evaluated without compiling; the same text in
/// `bilevel!` compiles to the same numbers.
#[derive(Parser, Debug)]
#[command(name = "bilevel", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do with a problem file.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Parse and check a problem; print every mistake with its position (exit 0 when valid, 2 otherwise).
    Check {
        /// The `.bl` file.
        file: PathBuf,
    },
    /// Print the Rust code `bilevel!` generates for a problem, formatted.
    Expand {
        /// The `.bl` file.
        file: PathBuf,
    },
    /// Run one algorithm on a problem and print a summary (or, with --json, one JSON object).
    #[command(allow_negative_numbers = true)]
    Solve(Box<SolveArgs>),
}

/// `bilevel solve`.
#[derive(Args, Debug)]
pub struct SolveArgs {
    /// The `.bl` file.
    pub file: PathBuf,
    /// The algorithm: itd, rhg, truncated-itd, corrected-itd, aid, bda, galet or dpbg.
    #[arg(long)]
    pub algo: String,
    #[command(flatten)]
    pub options: AlgorithmOptions,
    /// The start point, e.g. "x=0;y=2,2" (by the problem's variable names; the problem's `start` otherwise).
    #[arg(long)]
    pub start: Option<String>,
    /// Set a `param`: NAME=VALUE, or NAME=V1,V2,... for a vector (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Print one JSON object instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// With --json: include the trace (every iterate unless --every says otherwise).
    #[arg(long)]
    pub trace: bool,
}

/// The options of the algorithms (`bilevel::options::OPTIONS`): each applies to the algorithms that have it.
#[derive(Args, Debug, Default)]
pub struct AlgorithmOptions {
    /// Outer iterations (K; L for BDA).
    #[arg(long)]
    pub iters: Option<String>,
    /// Inner steps per iteration (T unrolled steps; K for BDA; N for GALET; k for DPBG).
    #[arg(long)]
    pub inner: Option<String>,
    /// Undifferentiated lower steps before the unrolled ones (M; BGS-Opt).
    #[arg(long)]
    pub warmup: Option<String>,
    /// The lower step (α; s_l for BDA; β for GALET), or `auto` for 1/L_G at the start.
    #[arg(long = "lower-step")]
    pub lower_step: Option<String>,
    /// The upper step (γ; α_f for DPBG; α for GALET).
    #[arg(long = "upper-step")]
    pub upper_step: Option<String>,
    /// Restart y from y0 at every outer iteration (BGS-Opt).
    #[arg(long)]
    pub cold: bool,
    /// The ξ solver: pinv, adaptive-pinv, z-cg, gd, cg or lsqr (corrected-itd, aid).
    #[arg(long)]
    pub xi: Option<String>,
    /// The relative eigenvalue cutoff of pinv and adaptive-pinv.
    #[arg(long)]
    pub rtol: Option<String>,
    /// The gradient-norm cutoff factor of adaptive-pinv.
    #[arg(long)]
    pub kappa: Option<String>,
    /// Iterations of the ξ solver (z-cg, cg, lsqr); GALET's steps on w.
    #[arg(long = "xi-iters")]
    pub xi_iters: Option<String>,
    /// The step of the gd ξ solver; GALET's step on w.
    #[arg(long = "xi-step")]
    pub xi_step: Option<String>,
    /// BDA's upper inner step s_u.
    #[arg(long)]
    pub su: Option<String>,
    /// BDA's weight μ.
    #[arg(long)]
    pub mu: Option<String>,
    /// Restart GALET's w from 0 at every iteration.
    #[arg(long = "w-reset")]
    pub w_reset: bool,
    /// Stop when ‖∇y G‖ and the projected upper step are below this tolerance.
    #[arg(long)]
    pub tol: Option<String>,
    /// Keep every k-th iterate in the trace (`end`: only the start and the end).
    #[arg(long)]
    pub every: Option<String>,
}

impl AlgorithmOptions {
    /// The options given, by their names in `bilevel::options::OPTIONS`.
    pub fn named(&self) -> Vec<(&'static str, String)> {
        let values = [
            ("iters", &self.iters),
            ("inner", &self.inner),
            ("warmup", &self.warmup),
            ("lower-step", &self.lower_step),
            ("upper-step", &self.upper_step),
            ("xi", &self.xi),
            ("rtol", &self.rtol),
            ("kappa", &self.kappa),
            ("xi-iters", &self.xi_iters),
            ("xi-step", &self.xi_step),
            ("su", &self.su),
            ("mu", &self.mu),
            ("tol", &self.tol),
            ("every", &self.every),
        ];
        let mut named: Vec<(&'static str, String)> =
            values.into_iter().filter_map(|(name, v)| v.clone().map(|v| (name, v))).collect();
        for (name, set) in [("cold", self.cold), ("w-reset", self.w_reset)] {
            if set {
                named.push((name, "true".into()));
            }
        }
        named
    }
}
