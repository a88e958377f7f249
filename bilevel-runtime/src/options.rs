//! Building an algorithm from named settings ([`Method::from_options`]): the option names the command-line tool
//! takes, shared with Rust code that drives runs from a table of settings. The same name means the same role in
//! every algorithm (`inner` is BGS-Opt's `T`, BDA's `K`, GALET's `N` and DPBG's `k`); an option an algorithm does
//! not have is an error naming the options it has.
//!
//! Each option is described once, in [`OPTIONS`] (name, kind of value, what it sets); each algorithm binds the
//! names it takes to its fields once, in a table of its own, which reads ([`Method::options`]), sets
//! ([`Method::from_options`]) and lists ([`takes`]) them. The tool builds its arguments from [`OPTIONS`].

use std::fmt;

use crate::driver::Metrics;
use crate::method::Method;
use crate::stochastic::{Draw, Estimator, Linear};
use crate::upper::UpperOptimizer;
use crate::xi::XiSolver;
use crate::Algorithm;
use crate::{Bda, BgsOpt, Dpbg, Galet, Soba, TwoLoop};

/// The algorithms [`Method::from_options`] builds, by the names the papers and `docs/algorithms.md` use.
pub const ALGORITHMS: [&str; 13] = [
    "itd",
    "rhg",
    "truncated-itd",
    "corrected-itd",
    "aid",
    "bda",
    "galet",
    "dpbg",
    "soba",
    "saba",
    "srba",
    "stocbio",
    "amigo",
];

/// The kind of value an option takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A whole number ≥ 0.
    Count,
    /// A finite number.
    Number,
    /// A finite number, or `auto` (`1/L_G` at the start).
    Step,
    /// `true` or `false`; in the tool a flag without a value.
    Flag,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// A whole number ≥ 1, or `end`.
    Every,
}

/// One option: its name (`--name` in the tool), the kind of value it takes, and what it sets (the symbols of each
/// algorithm in brackets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opt {
    /// The name, without the leading `--`.
    pub name: &'static str,
    /// The kind of value.
    pub kind: Kind,
    /// What it sets.
    pub doc: &'static str,
}

const XI_SOLVERS: &[&str] = &["pinv", "adaptive-pinv", "z-cg", "gd", "cg", "lsqr"];
const UPPER_OPTIMIZERS: &[&str] = &["gradient", "momentum", "adam"];
const DRAWS: &[&str] = &[Draw::Shuffled.name(), Draw::Uniform.name()];

/// Every option, described once.
pub const OPTIONS: [Opt; 27] = [
    Opt { name: "iters", kind: Kind::Count, doc: "outer iterations (K; L for BDA)" },
    Opt {
        name: "inner",
        kind: Kind::Count,
        doc: "inner steps per iteration (T unrolled steps; K for BDA; N lower steps for GALET; k for DPBG; T stochastic steps for StocBiO, AmIGO)",
    },
    Opt {
        name: "warmup",
        kind: Kind::Count,
        doc: "undifferentiated lower steps before the unrolled ones (M; BGS-Opt)",
    },
    Opt {
        name: "lower-step",
        kind: Kind::Step,
        doc: "the lower gradient step (α; s_l for BDA; β for GALET; s for the stochastic methods), or `auto` for 1/L_G at the start",
    },
    Opt { name: "upper-step", kind: Kind::Number, doc: "the upper step (γ; α_f for DPBG; α for GALET)" },
    Opt {
        name: "upper-optimizer",
        kind: Kind::Choice(UPPER_OPTIMIZERS),
        doc: "how the hypergradient becomes the upper step: gradient, momentum (β = 0.9) or adam (BGS-Opt, BDA, GALET)",
    },
    Opt { name: "beta", kind: Kind::Number, doc: "the momentum β of the upper optimizer (Adam's β1)" },
    Opt { name: "beta2", kind: Kind::Number, doc: "Adam's β2, the decay of its squared gradients (0.999)" },
    Opt { name: "eps", kind: Kind::Number, doc: "Adam's ε, added to the root of its squared gradients (1e-8)" },
    Opt {
        name: "cold",
        kind: Kind::Flag,
        doc: "restart y from y0 at every outer iteration instead of warm-starting it (BGS-Opt)",
    },
    Opt {
        name: "xi",
        kind: Kind::Choice(XI_SOLVERS),
        doc: "how the correction ξ is solved: pinv, adaptive-pinv, z-cg, gd, cg or lsqr (corrected-itd, aid)",
    },
    Opt { name: "rtol", kind: Kind::Number, doc: "the relative eigenvalue cutoff of pinv and adaptive-pinv" },
    Opt { name: "kappa", kind: Kind::Number, doc: "the gradient-norm cutoff factor κ of adaptive-pinv" },
    Opt {
        name: "xi-iters",
        kind: Kind::Count,
        doc: "iterations of the ξ solver (z-cg, cg, lsqr); GALET's steps T on w; StocBiO's Neumann terms Q, AmIGO's steps on v",
    },
    Opt { name: "xi-step", kind: Kind::Number, doc: "the step β of the gd ξ solver; GALET's step ρ on w" },
    Opt { name: "su", kind: Kind::Number, doc: "BDA's upper inner step s_u" },
    Opt { name: "mu", kind: Kind::Number, doc: "BDA's weight μ of the upper objective in the inner steps" },
    Opt {
        name: "w-reset",
        kind: Kind::Flag,
        doc: "restart GALET's w from 0 at every iteration (as the paper writes) instead of warm-starting it",
    },
    Opt { name: "batch", kind: Kind::Count, doc: "samples per batch b (the stochastic methods)" },
    Opt {
        name: "sampler",
        kind: Kind::Choice(DRAWS),
        doc: "how batches are drawn: shuffled contiguous blocks, or uniform with replacement (the stochastic methods)",
    },
    Opt { name: "seed", kind: Kind::Count, doc: "the seed of the batches (the stochastic methods)" },
    Opt { name: "outer-ratio", kind: Kind::Number, doc: "the ratio r of the steps of y and x: x moves by s/r (the stochastic methods)" },
    Opt {
        name: "period",
        kind: Kind::Number,
        doc: "SRBA's refresh period with the full products, as a fraction of an epoch ((N_G + N_F)/b steps)",
    },
    Opt {
        name: "decay",
        kind: Kind::Number,
        doc: "the exponent a of the steps s/(t+1)^a (0: constant steps; SOBA, SABA, SRBA)",
    },
    Opt {
        name: "tol",
        kind: Kind::Number,
        doc: "stop when ‖∇y G‖ and the projected upper step are both below this tolerance",
    },
    Opt {
        name: "every",
        kind: Kind::Every,
        doc: "keep every k-th iterate in the trace (`end`: only the start and the end)",
    },
    Opt {
        name: "eval-every",
        kind: Kind::Every,
        doc: "as --every, each record with h(x) = F(x, y*(x)), the lower level solved accurately (off the clock; `off`: as --every)",
    },
];

/// A bad option or value, with the option as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionError {
    /// `algo` is not one of [`ALGORITHMS`].
    UnknownAlgorithm(String),
    /// No algorithm has an option of this name.
    UnknownOption {
        /// The option's name as given.
        name: String,
        /// Its value as given.
        value: String,
        /// The options of the algorithm asked for.
        options: Vec<&'static str>,
    },
    /// Another algorithm has this option, not `algo`.
    NotTaken {
        /// The algorithm.
        algo: String,
        /// The option's name.
        name: String,
        /// Its value as given.
        value: String,
        /// The options `algo` takes.
        options: Vec<&'static str>,
    },
    /// The value does not fit the option, or not this algorithm's use of it.
    BadValue {
        /// The option's name.
        name: String,
        /// Its value as given.
        value: String,
        /// What is wrong with it.
        why: String,
    },
    /// `--xi gd` with no step for it, given or to take from the lower step.
    NoGdStep,
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |options: &[&str]| options.iter().map(|n| format!("--{n}")).collect::<Vec<_>>().join(", ");
        match self {
            OptionError::UnknownAlgorithm(algo) => {
                write!(f, "unknown algorithm `{algo}`: use one of {}", ALGORITHMS.join(", "))
            }
            OptionError::UnknownOption { name, value, options } => {
                write!(f, "--{name} {value}: unknown option --{name}; the options are {}", list(options))
            }
            OptionError::NotTaken { algo, name, value, options } => {
                write!(f, "--{name} {value}: {algo} has no option --{name}; it takes {}", list(options))
            }
            OptionError::BadValue { name, value, why } => write!(f, "--{name} {value}: {why}"),
            OptionError::NoGdStep => write!(f, "--xi gd needs a step: give --xi-step (or a --lower-step to take)"),
        }
    }
}

impl std::error::Error for OptionError {}

/// One option of one algorithm: how to read it (`None` where it does not apply to this instance, e.g. `rtol` of
/// a `cg` correction) and how to set it from its text.
struct Field<A> {
    name: &'static str,
    /// The Rust field it sets, as docs/algorithms.md shows it.
    rust: &'static str,
    get: fn(&A) -> Option<String>,
    set: fn(&mut A, &str) -> Result<(), String>,
}

/// The option `$name` (`beta`, `beta2` or `eps`) of an algorithm's `upper_optimizer` field.
macro_rules! upper {
    ($name:literal) => {
        Field {
            name: $name,
            rust: "upper_optimizer",
            get: |a| optimizer_setting(&a.upper_optimizer, $name),
            set: |a, v| set_optimizer_setting(&mut a.upper_optimizer, $name, v),
        }
    };
}

/// The table of an algorithm whose field `$f` is the option `$name`, read and parsed by `$kind`.
macro_rules! field {
    ($name:literal, $kind:ident, $($f:ident).+) => {
        Field {
            name: $name,
            rust: stringify!($($f).+),
            get: |a| Some(show::$kind(&a.$($f).+)),
            set: |a, v| { a.$($f).+ = parse::$kind(v)?; Ok(()) },
        }
    };
}

const BGS: &[Field<BgsOpt>] = &[
    field!("iters", count, outer_iters),
    Field {
        name: "inner",
        rust: "unrolled_steps",
        get: |a| Some(a.unrolled_steps.to_string()),
        set: |a, v| match a.variant() {
            "aid" => Err("aid has no unrolled steps (T = 0); --warmup sets its M".into()),
            _ => {
                a.unrolled_steps = parse::count(v)?;
                Ok(())
            }
        },
    },
    field!("warmup", count, warm_steps),
    field!("lower-step", step, lower_step),
    field!("upper-step", number, upper_step),
    field!("upper-optimizer", optimizer, upper_optimizer),
    upper!("beta"),
    upper!("beta2"),
    upper!("eps"),
    Field {
        name: "cold",
        rust: "warm (negated)",
        get: |a| Some((!a.warm).to_string()),
        set: |a, v| {
            a.warm = !parse::flag(v)?;
            Ok(())
        },
    },
    Field { name: "xi", rust: "correction", get: |a| xi(a, "xi"), set: |a, v| set_xi(a, "xi", v) },
    Field { name: "rtol", rust: "correction", get: |a| xi(a, "rtol"), set: |a, v| set_xi(a, "rtol", v) },
    Field { name: "kappa", rust: "correction", get: |a| xi(a, "kappa"), set: |a, v| set_xi(a, "kappa", v) },
    Field { name: "xi-iters", rust: "correction", get: |a| xi(a, "xi-iters"), set: |a, v| set_xi(a, "xi-iters", v) },
    Field { name: "xi-step", rust: "correction", get: |a| xi(a, "xi-step"), set: |a, v| set_xi(a, "xi-step", v) },
    field!("tol", tolerance, stop.tol),
];

const BDA: &[Field<Bda>] = &[
    field!("iters", count, outer_iters),
    field!("inner", count, inner_iters),
    field!("lower-step", step, lower_inner_step),
    field!("upper-step", number, upper_step),
    field!("upper-optimizer", optimizer, upper_optimizer),
    upper!("beta"),
    upper!("beta2"),
    upper!("eps"),
    field!("su", number, upper_inner_step),
    field!("mu", number, mu),
    field!("tol", tolerance, stop.tol),
];

const GALET: &[Field<Galet>] = &[
    field!("iters", count, outer_iters),
    field!("inner", count, lower_iters),
    field!("lower-step", step, lower_step),
    field!("upper-step", number, upper_step),
    field!("upper-optimizer", optimizer, upper_optimizer),
    upper!("beta"),
    upper!("beta2"),
    upper!("eps"),
    field!("xi-iters", count, w_iters),
    field!("xi-step", number, w_step),
    Field {
        name: "w-reset",
        rust: "warm_w (negated)",
        get: |a| Some((!a.warm_w).to_string()),
        set: |a, v| {
            a.warm_w = !parse::flag(v)?;
            Ok(())
        },
    },
    field!("tol", tolerance, stop.tol),
];

const DPBG: &[Field<Dpbg>] = &[
    field!("iters", count, iters),
    field!("inner", count, lower_iters),
    field!("lower-step", step, lower_step),
    field!("upper-step", number, step),
    field!("tol", tolerance, stop.tol),
];

const SOBA: &[Field<Soba>] = &[
    field!("iters", count, iters),
    field!("lower-step", step, step),
    field!("outer-ratio", number, outer_ratio),
    field!("decay", number, decay),
    Field {
        name: "period",
        rust: "estimator",
        get: |a| match a.estimator {
            Estimator::Sarah { period } => Some(period.to_string()),
            _ => None,
        },
        set: |a, v| match &mut a.estimator {
            Estimator::Sarah { period } => {
                *period = parse::number(v)?;
                Ok(())
            }
            _ => Err(format!("{} has no refresh period; srba has", Algorithm::name(a))),
        },
    },
    field!("batch", count, batches.batch),
    field!("sampler", draw, batches.draw),
    field!("seed", seed, batches.seed),
    field!("tol", tolerance, stop.tol),
];

const TWO_LOOP: &[Field<TwoLoop>] = &[
    field!("iters", count, iters),
    field!("inner", count, inner_steps),
    field!("lower-step", step, step),
    field!("outer-ratio", number, outer_ratio),
    Field {
        name: "xi-iters",
        rust: "linear",
        get: |a| {
            Some(match a.linear {
                Linear::Neumann { terms } => terms.to_string(),
                Linear::Sgd { steps } => steps.to_string(),
            })
        },
        set: |a, v| {
            let k = parse::count(v)?;
            match &mut a.linear {
                Linear::Neumann { terms } => *terms = k,
                Linear::Sgd { steps } => *steps = k,
            }
            Ok(())
        },
    },
    field!("batch", count, batches.batch),
    field!("sampler", draw, batches.draw),
    field!("seed", seed, batches.seed),
    field!("tol", tolerance, stop.tol),
];

/// Calls `$body` with `$a` the algorithm and `$t` its table.
macro_rules! with_table {
    ($m:expr, ($a:ident, $t:ident) => $body:expr) => {
        match $m {
            Method::Bgs($a) => {
                let $t = BGS;
                $body
            }
            Method::Bda($a) => {
                let $t = BDA;
                $body
            }
            Method::Galet($a) => {
                let $t = GALET;
                $body
            }
            Method::Dpbg($a) => {
                let $t = DPBG;
                $body
            }
            Method::Soba($a) => {
                let $t = SOBA;
                $body
            }
            Method::TwoLoop($a) => {
                let $t = TWO_LOOP;
                $body
            }
        }
    };
}

impl Method {
    /// The algorithm `algo` (one of [`ALGORITHMS`]) with its defaults, then each `(name, value)` of `options`
    /// applied (names from [`OPTIONS`], without the leading `--`; flags such as `cold` take `true` or `false`).
    /// The ξ solver and the upper optimizer are set first, so that their own settings apply to them whatever
    /// the order given.
    ///
    /// ```
    /// use bilevel_runtime::{Algorithm, Method};
    /// let m = Method::from_options("corrected-itd", &[("inner", "5"), ("lower-step", "0.2"), ("xi", "z-cg")]).unwrap();
    /// assert_eq!(m.settings(), "T=5 M=0 α=0.2 γ=0.1 K=1000 warm z-cg N=1");
    /// let err = Method::from_options("bda", &[("warmup", "3")]).unwrap_err().to_string();
    /// assert!(err.starts_with("--warmup 3: bda has no option --warmup; it takes --iters"), "{err}");
    /// assert!(Method::from_options("itd", &[("inner", "-1")]).unwrap_err().to_string().contains("--inner"));
    /// let adam = Method::from_options("galet", &[("upper-optimizer", "adam"), ("beta", "0.8")]).unwrap();
    /// assert!(adam.settings().ends_with("adam β1=0.8 β2=0.999 ε=1e-8"), "{}", adam.settings());
    /// ```
    pub fn from_options(algo: &str, options: &[(&str, &str)]) -> Result<Method, OptionError> {
        let mut method = preset(algo)?;
        let first = |name: &str| matches!(name, "xi" | "upper-optimizer");
        let (leading, rest): (Vec<_>, Vec<_>) = options.iter().partition(|(name, _)| first(name));
        for &(name, value) in leading.into_iter().chain(rest) {
            apply(&mut method, algo, name, value)?;
        }
        if let Method::Bgs(BgsOpt { correction: Some(XiSolver::Gd { step }), lower_step, .. }) = &mut method {
            if step.is_nan() {
                *step = lower_step.ok_or(OptionError::NoGdStep)?;
            }
        }
        Ok(method)
    }

    /// Every option of this algorithm with its effective value, in the order of its table (what a run's JSON
    /// reports).
    ///
    /// ```
    /// use bilevel_runtime::Method;
    /// let m = Method::from_options("galet", &[("iters", "300")]).unwrap();
    /// let options = m.options();
    /// assert!(options.contains(&("iters", "300".to_string())) && options.contains(&("lower-step", "auto".to_string())));
    /// ```
    pub fn options(&self) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> =
            with_table!(self, (a, table) => table.iter().filter_map(|f| (f.get)(a).map(|v| (f.name, v))).collect());
        out.push(("every", show::every(&self.metrics())));
        let solved = match self.metrics() {
            Metrics::Solved(k) => k.to_string(),
            _ => "off".to_string(),
        };
        out.push(("eval-every", solved));
        out
    }

    /// The names of the options this algorithm takes.
    fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = with_table!(self, (_a, table) => table.iter().map(|f| f.name).collect());
        names.extend(["every", "eval-every"]);
        names
    }
}

/// Whether algorithm `algo` takes option `name` (whatever its ξ solver or upper optimizer, for their settings):
/// what a comparison of several algorithms passes to each.
///
/// ```
/// use bilevel_runtime::options::takes;
/// assert!(takes("aid", "rtol") && takes("galet", "xi-step") && takes("bda", "every") && takes("bda", "beta"));
/// assert!(!takes("bda", "warmup") && !takes("itd", "xi") && !takes("newton", "iters") && !takes("dpbg", "beta"));
/// ```
pub fn takes(algo: &str, name: &str) -> bool {
    let Ok(method) = preset(algo) else { return false };
    // BGS-Opt's table has the correction's settings; the variants without a correction do not take them.
    let no_correction = matches!(method, Method::Bgs(BgsOpt { correction: None, .. }));
    let xi_family = ["xi", "rtol", "kappa", "xi-iters", "xi-step"];
    method.names().contains(&name) && !(no_correction && xi_family.contains(&name))
}

/// The options of `algos` as a Markdown table, one row per option of the first one's table: the tool's name,
/// the Rust field it sets, each algorithm's default (`—` where the option does not apply to it) and what it sets
/// (from [`OPTIONS`]). docs/algorithms.md lists the options this way, so its tables are this function's output
/// (a test compares them).
///
/// ```
/// use bilevel_runtime::options::markdown;
/// let table = markdown(&["itd", "aid"]).unwrap();
/// assert!(table.starts_with("| option | Rust field | itd | aid | what it sets |"), "{table}");
/// assert!(table.contains("| `--xi` | `correction` | — | cg |"), "{table}");
/// assert!(markdown(&["newton"]).is_err());
/// ```
pub fn markdown(algos: &[&str]) -> Result<String, OptionError> {
    let methods = algos.iter().map(|algo| preset(algo)).collect::<Result<Vec<_>, _>>()?;
    let rows: Vec<(&str, &str)> =
        with_table!(&methods[0], (_a, table) => table.iter().map(|f| (f.name, f.rust)).collect());
    let rows = rows.into_iter().chain([("every", "metrics"), ("eval-every", "metrics")]);
    let mut out = format!("| option | Rust field | {} | what it sets |\n", algos.join(" | "));
    out += &format!("|---|---|{}---|\n", "---|".repeat(algos.len()));
    for (name, rust) in rows {
        let defaults = methods.iter().zip(algos).map(|(m, algo)| match takes(algo, name) {
            true => m.options().into_iter().find(|(n, _)| *n == name).map_or("—".into(), |(_, v)| v),
            false => "—".into(),
        });
        let doc = OPTIONS.iter().find(|o| o.name == name).map_or("", |o| o.doc);
        out += &format!("| `--{name}` | `{rust}` | {} | {doc} |\n", defaults.collect::<Vec<_>>().join(" | "));
    }
    Ok(out)
}

/// The algorithm `algo` with its defaults (`aid` with M = 10 lower steps and `cg`, 20 iterations; the
/// corrected ones with `pinv`, rtol = 1e-3).
fn preset(algo: &str) -> Result<Method, OptionError> {
    Ok(match algo {
        "itd" => BgsOpt::itd(10).into(),
        "rhg" => BgsOpt::rhg(10).into(),
        "truncated-itd" => BgsOpt::truncated_itd(10, 10).into(),
        "corrected-itd" => BgsOpt::corrected_itd(10, XiSolver::PINV).into(),
        "aid" => BgsOpt::aid(10, XiSolver::Cg { iters: 20 }).into(),
        "bda" => Bda::default().into(),
        "galet" => Galet::default().into(),
        "dpbg" => Dpbg::default().into(),
        "soba" => Soba::default().into(),
        "saba" => Soba::saba().into(),
        "srba" => Soba::srba().into(),
        "stocbio" => TwoLoop::stocbio().into(),
        "amigo" => TwoLoop::amigo().into(),
        _ => return Err(OptionError::UnknownAlgorithm(algo.into())),
    })
}

/// Applies one option.
fn apply(method: &mut Method, algo: &str, name: &str, value: &str) -> Result<(), OptionError> {
    let bad = |why: String| OptionError::BadValue { name: name.into(), value: value.into(), why };
    if name == "every" {
        *method = method.clone().with_metrics(parse::every(value).map_err(bad)?);
        return Ok(());
    }
    if name == "eval-every" {
        if value == "off" {
            return Ok(());
        }
        let metrics = match parse::every(value).map_err(bad)? {
            Metrics::Every(k) => Metrics::Solved(k),
            other => other,
        };
        *method = method.clone().with_metrics(metrics);
        return Ok(());
    }
    let found = with_table!(method, (a, table) => table.iter().find(|f| f.name == name).map(|f| (f.set)(a, value)));
    match found {
        Some(result) => result.map_err(bad),
        None => {
            let (name, value, options) = (name.to_string(), value.to_string(), method.names());
            Err(match OPTIONS.iter().any(|o| o.name == name) {
                true => OptionError::NotTaken { algo: algo.into(), name, value, options },
                false => OptionError::UnknownOption { name, value, options },
            })
        }
    }
}

/// A setting of BGS-Opt's correction ξ (`xi` is its solver): its value, if the solver has it.
fn xi(a: &BgsOpt, name: &str) -> Option<String> {
    let solver = a.correction.as_ref()?;
    let value = match (name, *solver) {
        ("xi", s) => show::xi(&s),
        ("rtol", XiSolver::Pinv { rtol } | XiSolver::AdaptivePinv { rtol, .. }) => rtol.to_string(),
        ("kappa", XiSolver::AdaptivePinv { kappa, .. }) => kappa.to_string(),
        ("xi-iters", XiSolver::ZCg { iters } | XiSolver::Cg { iters } | XiSolver::Lsqr { iters }) => iters.to_string(),
        ("xi-step", XiSolver::Gd { step }) => step.to_string(),
        _ => return None,
    };
    Some(value)
}

/// Sets the ξ solver (`xi`) or one of its settings.
fn set_xi(a: &mut BgsOpt, name: &str, value: &str) -> Result<(), String> {
    let variant = a.variant();
    let Some(xi) = a.correction.as_mut() else {
        return Err(format!("{variant} has no correction ξ; corrected-itd and aid have one"));
    };
    match (name, &mut *xi) {
        ("xi", _) => {
            *xi = match value {
                "pinv" => XiSolver::PINV,
                "adaptive-pinv" => XiSolver::ADAPTIVE_PINV,
                "z-cg" => XiSolver::ZCg { iters: 1 },
                "gd" => XiSolver::Gd { step: f64::NAN },
                "cg" => XiSolver::Cg { iters: 20 },
                "lsqr" => XiSolver::Lsqr { iters: 50 },
                other => return Err(format!("unknown ξ solver `{other}`: {}", XI_SOLVERS.join(", "))),
            }
        }
        ("rtol", XiSolver::Pinv { rtol } | XiSolver::AdaptivePinv { rtol, .. }) => *rtol = parse::number(value)?,
        ("kappa", XiSolver::AdaptivePinv { kappa, .. }) => *kappa = parse::number(value)?,
        ("xi-iters", XiSolver::ZCg { iters } | XiSolver::Cg { iters } | XiSolver::Lsqr { iters }) => {
            *iters = parse::count(value)?
        }
        ("xi-step", XiSolver::Gd { step }) => *step = parse::number(value)?,
        (_, other) => return Err(format!("the ξ solver ({}) has no setting --{name}", other.describe())),
    }
    Ok(())
}

/// The upper optimizer's setting `name` (`beta`: the momentum's β or Adam's β1; `beta2`, `eps`: Adam's), if it
/// has it.
fn optimizer_setting(rule: &UpperOptimizer, name: &str) -> Option<String> {
    match (name, *rule) {
        ("beta", UpperOptimizer::Momentum { beta } | UpperOptimizer::Adam { beta1: beta, .. }) => {
            Some(beta.to_string())
        }
        ("beta2", UpperOptimizer::Adam { beta2, .. }) => Some(beta2.to_string()),
        ("eps", UpperOptimizer::Adam { eps, .. }) => Some(eps.to_string()),
        _ => None,
    }
}

/// Sets the upper optimizer's setting `name` (see [`optimizer_setting`]).
fn set_optimizer_setting(rule: &mut UpperOptimizer, name: &str, value: &str) -> Result<(), String> {
    match (name, rule) {
        ("beta", UpperOptimizer::Momentum { beta } | UpperOptimizer::Adam { beta1: beta, .. }) => {
            *beta = parse::number(value)?
        }
        ("beta2", UpperOptimizer::Adam { beta2, .. }) => *beta2 = parse::number(value)?,
        ("eps", UpperOptimizer::Adam { eps, .. }) => *eps = parse::number(value)?,
        ("beta", UpperOptimizer::Gradient) => {
            return Err("the plain gradient step has no β: give --upper-optimizer momentum or adam".into())
        }
        (_, rule) => {
            let what = match rule {
                UpperOptimizer::Gradient => "the plain gradient step".to_string(),
                other => other.describe(),
            };
            return Err(format!("{what} has no --{name}: it is Adam's (--upper-optimizer adam)"));
        }
    }
    Ok(())
}

/// Values as the options show them.
mod show {
    use super::*;

    pub fn count(v: &usize) -> String {
        v.to_string()
    }
    pub fn number(v: &f64) -> String {
        v.to_string()
    }
    pub fn step(v: &Option<f64>) -> String {
        v.map_or("auto".to_string(), |v| v.to_string())
    }
    pub fn tolerance(v: &Option<f64>) -> String {
        v.map_or("none".to_string(), |v| v.to_string())
    }
    pub fn optimizer(v: &UpperOptimizer) -> String {
        match v {
            UpperOptimizer::Gradient => "gradient",
            UpperOptimizer::Momentum { .. } => "momentum",
            UpperOptimizer::Adam { .. } => "adam",
        }
        .into()
    }
    pub fn xi(v: &XiSolver) -> String {
        match v {
            XiSolver::Pinv { .. } => "pinv",
            XiSolver::AdaptivePinv { .. } => "adaptive-pinv",
            XiSolver::ZCg { .. } => "z-cg",
            XiSolver::Gd { .. } => "gd",
            XiSolver::Cg { .. } => "cg",
            XiSolver::Lsqr { .. } => "lsqr",
        }
        .into()
    }
    pub fn seed(v: &u64) -> String {
        v.to_string()
    }
    pub fn draw(v: &Draw) -> String {
        v.name().into()
    }
    pub fn every(v: &Metrics) -> String {
        match v {
            Metrics::End => "end".to_string(),
            Metrics::Every(k) | Metrics::Full(k) | Metrics::Solved(k) => k.to_string(),
        }
    }
}

/// Values parsed from their text, by kind.
mod parse {
    use super::*;

    /// A whole number of steps or iterations.
    pub fn count(value: &str) -> Result<usize, String> {
        value.parse().map_err(|_| format!("expected a whole number ≥ 0, not `{value}`"))
    }

    /// A finite number (the algorithms check ranges such as positivity when they start).
    pub fn number(value: &str) -> Result<f64, String> {
        match value.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(format!("expected a finite number, not `{value}`")),
        }
    }

    /// A lower step, or `auto` for 1/L_G at the start.
    pub fn step(value: &str) -> Result<Option<f64>, String> {
        match value {
            "auto" => Ok(None),
            v => number(v).map(Some),
        }
    }

    /// A stopping tolerance.
    pub fn tolerance(value: &str) -> Result<Option<f64>, String> {
        number(value).map(Some)
    }

    /// `true` or `false`.
    pub fn flag(value: &str) -> Result<bool, String> {
        value.parse().map_err(|_| format!("expected true or false, not `{value}`"))
    }

    /// An upper optimizer by name, with its usual constants.
    pub fn optimizer(value: &str) -> Result<UpperOptimizer, String> {
        match value {
            "gradient" => Ok(UpperOptimizer::Gradient),
            "momentum" => Ok(UpperOptimizer::Momentum { beta: 0.9 }),
            "adam" => Ok(UpperOptimizer::ADAM),
            other => Err(format!("unknown upper optimizer `{other}`: {}", UPPER_OPTIMIZERS.join(", "))),
        }
    }

    /// The seed of the batches.
    pub fn seed(value: &str) -> Result<u64, String> {
        value.parse().map_err(|_| format!("expected a whole number ≥ 0, not `{value}`"))
    }

    /// How batches are drawn.
    pub fn draw(value: &str) -> Result<Draw, String> {
        [Draw::Shuffled, Draw::Uniform]
            .into_iter()
            .find(|d| d.name() == value)
            .ok_or_else(|| format!("unknown sampler `{value}`: {}", DRAWS.join(", ")))
    }

    /// Every k-th iterate (k ≥ 1), or `end`.
    pub fn every(value: &str) -> Result<Metrics, String> {
        match value {
            "end" => Ok(Metrics::End),
            k => match count(k)? {
                0 => Err("must be at least 1".into()),
                k => Ok(Metrics::Every(k)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Algorithm;

    #[test]
    fn every_algorithm_builds_and_reports_the_options_it_was_given() {
        for algo in ALGORITHMS {
            let m = Method::from_options(algo, &[("iters", "7"), ("lower-step", "0.3"), ("tol", "1e-9")]).unwrap();
            let options = m.options();
            for (name, value) in [("iters", "7"), ("lower-step", "0.3"), ("tol", "0.000000001"), ("every", "end")] {
                assert!(options.contains(&(name, value.to_string())), "{algo}: {name} in {options:?}");
            }
            // The names the runtime gives the BGS-Opt variants are the names they were built by.
            assert_eq!(m.name(), algo);
        }
    }

    #[test]
    fn the_same_names_set_each_algorithm_s_own_symbols() {
        let galet = Method::from_options("galet", &[("inner", "3"), ("xi-step", "0.2"), ("w-reset", "true")]);
        let Ok(Method::Galet(g)) = galet else { panic!("{galet:?}") };
        assert_eq!((g.lower_iters, g.w_step, g.warm_w), (3, 0.2, false));
        let bda = Method::from_options("bda", &[("inner", "64"), ("su", "0.7"), ("mu", "0.4"), ("every", "10")]);
        let Ok(Method::Bda(b)) = bda else { panic!("{bda:?}") };
        assert_eq!((b.inner_iters, b.upper_inner_step, b.mu, b.metrics), (64, 0.7, 0.4, Metrics::Every(10)));
        let aid = Method::from_options("aid", &[("warmup", "50"), ("xi-iters", "5"), ("lower-step", "0.1")]);
        let Ok(Method::Bgs(a)) = aid else { panic!("{aid:?}") };
        assert_eq!((a.warm_steps, a.correction), (50, Some(XiSolver::Cg { iters: 5 })));
        // The gd step defaults to the lower step; the solver's settings apply whatever the order given.
        let gd = Method::from_options("corrected-itd", &[("lower-step", "0.05"), ("xi", "gd")]).unwrap();
        assert_eq!(gd.options().iter().find(|(n, _)| *n == "xi-step").unwrap().1, "0.05");
        let pinv = Method::from_options("corrected-itd", &[("rtol", "1e-6"), ("xi", "adaptive-pinv")]).unwrap();
        let Method::Bgs(BgsOpt { correction: Some(xi), .. }) = pinv else { panic!() };
        assert_eq!(xi, XiSolver::AdaptivePinv { rtol: 1e-6, kappa: 10.0 });
    }

    #[test]
    fn adams_constants_are_options_and_only_adams() {
        let adam =
            Method::from_options("bda", &[("upper-optimizer", "adam"), ("beta2", "0.99"), ("eps", "1e-6")]).unwrap();
        let Method::Bda(Bda { upper_optimizer, .. }) = adam else { panic!("bda") };
        assert_eq!(upper_optimizer, UpperOptimizer::Adam { beta1: 0.9, beta2: 0.99, eps: 1e-6 });
        let shown = adam.options();
        assert!(shown.contains(&("beta2", "0.99".into())) && shown.contains(&("eps", "0.000001".into())), "{shown:?}");
        let momentum = Method::from_options("itd", &[("upper-optimizer", "momentum"), ("eps", "1e-6")]);
        let why = momentum.unwrap_err().to_string();
        assert!(why.contains("momentum β=0.9 has no --eps: it is Adam's"), "{why}");
        assert!(!Method::from_options("galet", &[]).unwrap().options().iter().any(|(n, _)| *n == "beta2"));
    }

    #[test]
    fn the_upper_optimizer_and_its_beta_in_any_order() {
        for options in
            [[("beta", "0.5"), ("upper-optimizer", "momentum")], [("upper-optimizer", "momentum"), ("beta", "0.5")]]
        {
            let Ok(Method::Bda(b)) = Method::from_options("bda", &options) else { panic!("{options:?}") };
            assert_eq!(b.upper_optimizer, UpperOptimizer::Momentum { beta: 0.5 });
        }
        let adam = Method::from_options("itd", &[("upper-optimizer", "adam")]).unwrap();
        let shown = adam.options();
        assert!(shown.contains(&("upper-optimizer", "adam".into())) && shown.contains(&("beta", "0.9".into())));
        let plain = Method::from_options("itd", &[]).unwrap().options();
        assert!(plain.contains(&("upper-optimizer", "gradient".into())) && !plain.iter().any(|(n, _)| *n == "beta"));
    }

    #[test]
    fn errors_are_typed() {
        let err = |algo: &str, options: &[(&str, &str)]| Method::from_options(algo, options).unwrap_err();
        assert_eq!(err("newton", &[]), OptionError::UnknownAlgorithm("newton".into()));
        assert!(
            matches!(err("dpbg", &[("beta", "0.5")]), OptionError::NotTaken { algo, name, .. } if algo == "dpbg" && name == "beta")
        );
        assert!(matches!(err("itd", &[("steps", "3")]), OptionError::UnknownOption { name, .. } if name == "steps"));
        let bad = err("galet", &[("upper-optimizer", "newton")]);
        assert!(matches!(&bad, OptionError::BadValue { name, .. } if name == "upper-optimizer"), "{bad:?}");
        assert_eq!(err("corrected-itd", &[("xi", "gd")]), OptionError::NoGdStep);
    }

    #[test]
    fn mistakes_are_errors_that_name_the_option() {
        let err = |algo: &str, options: &[(&str, &str)]| Method::from_options(algo, options).unwrap_err().to_string();
        assert!(err("newton", &[]).starts_with("unknown algorithm `newton`: use one of itd, rhg"));
        assert!(err("itd", &[("steps", "3")]).starts_with("--steps 3: unknown option --steps; the options are --iters"));
        assert!(err("itd", &[("xi", "pinv")]).contains("itd has no correction ξ"));
        assert!(err("aid", &[("inner", "5")]).contains("--warmup sets its M"));
        assert!(
            err("corrected-itd", &[("kappa", "3")]).contains("the ξ solver (pinv rtol=1e-3) has no setting --kappa")
        );
        assert!(err("corrected-itd", &[("xi", "gd")]).contains("give --xi-step"));
        assert!(err("galet", &[("upper-step", "inf")]).contains("expected a finite number, not `inf`"));
        assert!(err("bda", &[("every", "0")]).contains("--every 0: must be at least 1"));
        assert!(
            err("dpbg", &[("cold", "true")]).starts_with("--cold true: dpbg has no option --cold; it takes --iters")
        );
    }
}
