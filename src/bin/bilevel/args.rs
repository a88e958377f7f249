//! The command line: subcommands and options (clap). The algorithm options are named as in
//! `bilevel::options::OPTIONS` and passed on to `Method::from_options`, the parser Rust code uses too.

use bilevel::options::{Kind, Opt, OPTIONS};
use clap::{Args, Parser, Subcommand, ValueEnum};
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
    /// Print F, G and every derivative the algorithms use, in math notation (blocks for problems without data,
    /// gradients by element and Hessian–vector products for problems with data).
    Derive {
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
    /// Run several algorithms on a problem from the same start; print a table and plot their convergence.
    #[command(allow_negative_numbers = true)]
    Compare(Box<CompareArgs>),
    /// Run one algorithm over a grid of settings (and random starts) on all cores; print the runs best first.
    #[command(allow_negative_numbers = true)]
    Sweep(Box<SweepArgs>),
    /// Draw G(x, ·) for m = 2 (or G over (x, y) for n = m = 1): a heat map, its critical set, the gradient flow
    /// of the lower level and a run's trajectory.
    #[command(allow_negative_numbers = true)]
    Landscape(Box<LandscapeArgs>),
}

/// `bilevel landscape`.
#[derive(Args, Debug)]
pub struct LandscapeArgs {
    #[command(flatten)]
    pub problem: ProblemArgs,
    /// The SVG file to write.
    #[arg(long)]
    pub plot: PathBuf,
    /// The upper variable at which G(x, ·) is drawn, e.g. "0,0" or "-1,0" (the start's x by default; m = 2 only).
    #[arg(long, allow_hyphen_values = true)]
    pub x: Option<String>,
    /// The trajectory of a run saved by `bilevel solve --json --trace` (its y, or (x, y) when n = m = 1).
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Or run this algorithm from the start (with the options below) and draw its trajectory.
    #[arg(long)]
    pub algo: Option<String>,
    #[command(flatten)]
    pub options: AlgorithmOptions,
    /// The ranges drawn, "lo,hi;lo,hi" (horizontal; vertical); around the start and the trajectory by default.
    #[arg(long, allow_hyphen_values = true)]
    pub range: Option<String>,
    /// Cells of the heat map along each axis, 4 to 400.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u16).range(4..=400))]
    pub cells: u16,
}

/// The problem of a run: its file, start and params.
#[derive(Args, Debug)]
pub struct ProblemArgs {
    /// The `.bl` file.
    pub file: PathBuf,
    /// The start point, e.g. "x=0;y=2,2" (by the problem's variable names; the problem's `start` otherwise).
    #[arg(long)]
    pub start: Option<String>,
    /// Set a `param`: NAME=VALUE, or NAME=V1,V2,... for a vector (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Attach a `data` item from a file: NAME=PATH, a CSV table of numbers or a `.npy` array (repeatable).
    #[arg(long = "data", value_name = "NAME=PATH")]
    pub data: Vec<String>,
}

/// `bilevel compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    #[command(flatten)]
    pub problem: ProblemArgs,
    /// The algorithms, comma-separated (e.g. itd,corrected-itd,bda). Each takes the options it has.
    #[arg(long, value_delimiter = ',', required = true)]
    pub algos: Vec<String>,
    #[command(flatten)]
    pub options: AlgorithmOptions,
    /// Write the convergence plots of all the runs to this SVG file.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Print one JSON array of the runs (each as `solve --json` prints it) instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// `bilevel sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    #[command(flatten)]
    pub problem: ProblemArgs,
    /// The algorithm.
    #[arg(long)]
    pub algo: String,
    /// The settings to try: OPTION=V1,V2,...;OPTION=... (every combination), e.g. 'lower-step=0.01,0.05;upper-step=0.1,0.5'.
    #[arg(long)]
    pub grid: String,
    /// Also run each setting from K random starts (x uniform in the box, or the start ± R; y the start ± R).
    #[arg(long, default_value_t = 0)]
    pub starts: usize,
    /// R, the half-width of the random starts around the start (where the box does not bound them).
    #[arg(long, default_value_t = 1.0, value_parser = positive)]
    pub start_range: f64,
    /// The seed of the random starts.
    #[arg(long, default_value_t = 0)]
    pub start_seed: u64,
    #[command(flatten)]
    pub options: AlgorithmOptions,
    /// Write one plot of every run's convergence to this SVG file.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Print one JSON array of the runs, best first, instead of the table.
    #[arg(long)]
    pub json: bool,
    /// What "best" means: the final value of this metric, least first (failed runs last).
    #[arg(long, value_enum, default_value_t = RankBy::UpperAtSolution)]
    pub rank_by: RankBy,
}

/// The metric `sweep` sorts its runs by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RankBy {
    /// `F` at the lower level solved from the final `y` (`F` where that solve did not converge): compares runs that
    /// end at different `y` fairly.
    UpperAtSolution,
    /// `F` at the final `(x, y)`.
    Upper,
    /// The BGS residual `‖∇x F − B H† ∇y F‖`: how far from an equilibrium.
    BgsResidual,
    /// `‖∇y G‖`: how far `y` is from solving the lower level.
    LowerGradNorm,
    /// The run's time.
    Seconds,
}

/// `bilevel solve`.
#[derive(Args, Debug)]
pub struct SolveArgs {
    #[command(flatten)]
    pub problem: ProblemArgs,
    /// The algorithm: itd, rhg, truncated-itd, corrected-itd, aid, bda, galet or dpbg.
    #[arg(long)]
    pub algo: String,
    #[command(flatten)]
    pub options: AlgorithmOptions,
    /// Print one JSON object instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// With --json: include the trace (every iterate unless --every says otherwise).
    #[arg(long)]
    pub trace: bool,
    /// Write the trace as CSV to this file (every iterate unless --every says otherwise).
    #[arg(long = "trace-csv")]
    pub trace_csv: Option<PathBuf>,
    /// Write convergence plots (‖∇y G‖, the BGS residual and F against the iteration) to this SVG file.
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

/// The options of the algorithms, as given: one `--name value` per entry of `bilevel::options::OPTIONS` (flags
/// such as `--cold` take no value), each applying to the algorithms that have it. The arguments are made from
/// that table, so that an option is described once, for Rust and the tool alike.
#[derive(Debug, Default, Clone)]
pub struct AlgorithmOptions(Vec<(&'static str, String)>);

impl AlgorithmOptions {
    /// The options given, by their names in `bilevel::options::OPTIONS`, in the table's order.
    pub fn named(&self) -> Vec<(&'static str, String)> {
        self.0.clone()
    }
}

impl clap::FromArgMatches for AlgorithmOptions {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut named = Vec::new();
        for o in OPTIONS {
            match o.kind {
                Kind::Flag if matches.get_flag(o.name) => named.push((o.name, "true".to_string())),
                Kind::Flag => {}
                _ => named.extend(matches.get_one::<String>(o.name).map(|v| (o.name, v.clone()))),
            }
        }
        Ok(AlgorithmOptions(named))
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for AlgorithmOptions {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        OPTIONS.iter().fold(cmd, |cmd, o| {
            let arg = clap::Arg::new(o.name).long(o.name).help(help(o));
            cmd.arg(match o.kind {
                Kind::Flag => arg.action(clap::ArgAction::SetTrue),
                _ => arg.value_name(value_name(o.kind)).allow_negative_numbers(true),
            })
        })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

/// The help line of an option: its description with a capital.
fn help(o: &Opt) -> String {
    let mut chars = o.doc.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// What the help shows for an option's value.
fn value_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Count => "N",
        Kind::Number => "X",
        Kind::Step => "X|auto",
        Kind::Every => "K|end",
        Kind::Choice(_) | Kind::Flag => "NAME",
    }
}

/// A finite number > 0 (for `--start-range`).
fn positive(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("`{text}` is not a finite number > 0")),
    }
}
