//! Building an algorithm from named settings ([`Method::from_options`]): the option names the command-line tool
//! takes, shared with Rust code that drives runs from a table of settings. The same name means the same role in
//! every algorithm (`inner` is BGS-Opt's `T`, BDA's `K`, GALET's `N` and DPBG's `k`); an option an algorithm does
//! not have is an error naming the options it has.

use crate::driver::Metrics;
use crate::method::Method;
use crate::xi::XiSolver;
use crate::{Bda, BgsOpt, Dpbg, Galet};

/// The algorithms [`Method::from_options`] builds, by the names the papers and `docs/algorithms.md` use.
pub const ALGORITHMS: [&str; 8] = ["itd", "rhg", "truncated-itd", "corrected-itd", "aid", "bda", "galet", "dpbg"];

/// Every option, with what it sets (the symbols of each algorithm in brackets).
pub const OPTIONS: [(&str, &str); 15] = [
    ("iters", "outer iterations (K; L for BDA)"),
    ("inner", "inner steps per iteration (T unrolled steps; K for BDA; N lower steps for GALET; k for DPBG)"),
    ("warmup", "undifferentiated lower steps before the unrolled ones (M; BGS-Opt)"),
    ("lower-step", "the lower gradient step (α; s_l for BDA; β for GALET), or `auto` for 1/L_G at the start"),
    ("upper-step", "the upper step (γ; α_f for DPBG; α for GALET)"),
    ("cold", "restart y from y0 at every outer iteration instead of warm-starting it (BGS-Opt)"),
    ("xi", "how the correction ξ is solved: pinv, adaptive-pinv, z-cg, gd, cg or lsqr (corrected-itd, aid)"),
    ("rtol", "the relative eigenvalue cutoff of pinv and adaptive-pinv"),
    ("kappa", "the gradient-norm cutoff factor κ of adaptive-pinv"),
    ("xi-iters", "iterations of the ξ solver (z-cg, cg, lsqr); GALET's steps T on w"),
    ("xi-step", "the step β of the gd ξ solver; GALET's step ρ on w"),
    ("su", "BDA's upper inner step s_u"),
    ("mu", "BDA's weight μ of the upper objective in the inner steps"),
    ("w-reset", "restart GALET's w from 0 at every iteration (as the paper writes) instead of warm-starting it"),
    ("tol", "stop when ‖∇y G‖ and the projected upper step are both below this tolerance"),
];

/// What [`OPTIONS`] does not list: the trace option `every` (keep every k-th iterate).
const EVERY: &str = "every";

impl Method {
    /// The algorithm `algo` (one of [`ALGORITHMS`]) with its defaults, then each `(name, value)` of `options`
    /// applied (names from [`OPTIONS`], without the leading `--`; `every` = keep every k-th iterate in the
    /// trace; flags such as `cold` take `true` or `false`).
    ///
    /// ```
    /// use bilevel_runtime::{Algorithm, Method};
    /// let m = Method::from_options("corrected-itd", &[("inner", "5"), ("lower-step", "0.2"), ("xi", "z-cg")]).unwrap();
    /// assert_eq!(m.settings(), "T=5 M=0 α=0.2 γ=0.1 K=1000 warm z-cg N=1");
    /// let err = Method::from_options("bda", &[("warmup", "3")]).unwrap_err();
    /// assert!(err.starts_with("--warmup 3: bda has no option --warmup; it takes --iters"), "{err}");
    /// assert!(Method::from_options("itd", &[("inner", "-1")]).unwrap_err().contains("--inner"));
    /// ```
    pub fn from_options(algo: &str, options: &[(&str, &str)]) -> Result<Method, String> {
        let mut method = preset(algo)?;
        // The solver first: its own settings apply to it.
        let (xi, rest): (Vec<_>, Vec<_>) = options.iter().partition(|(name, _)| *name == "xi");
        for &(name, value) in xi.into_iter().chain(rest) {
            apply(&mut method, algo, name, value).map_err(|why| format!("--{name} {value}: {why}"))?;
        }
        if let Method::Bgs(BgsOpt { correction: Some(XiSolver::Gd { step }), lower_step, .. }) = &mut method {
            if step.is_nan() {
                *step = lower_step.ok_or("--xi gd needs a step: give --xi-step (or a --lower-step to take)")?;
            }
        }
        Ok(method)
    }

    /// Every option of this algorithm with its effective value, in the order of [`OPTIONS`] (what a run's JSON
    /// reports).
    ///
    /// ```
    /// use bilevel_runtime::Method;
    /// let m = Method::from_options("galet", &[("iters", "300")]).unwrap();
    /// let options = m.options();
    /// assert!(options.contains(&("iters", "300".to_string())) && options.contains(&("lower-step", "auto".to_string())));
    /// ```
    pub fn options(&self) -> Vec<(&'static str, String)> {
        let step = |s: Option<f64>| s.map_or("auto".to_string(), |v| v.to_string());
        let tol = |t: Option<f64>| t.map_or("none".to_string(), |v| v.to_string());
        let mut out: Vec<(&'static str, String)> = match self {
            Method::Bgs(a) => {
                let mut o = vec![
                    ("iters", a.outer_iters.to_string()),
                    ("inner", a.unrolled_steps.to_string()),
                    ("warmup", a.warm_steps.to_string()),
                    ("lower-step", step(a.lower_step)),
                    ("upper-step", a.upper_step.to_string()),
                    ("cold", (!a.warm).to_string()),
                ];
                o.extend(a.correction.iter().flat_map(xi_options));
                o.push(("tol", tol(a.stop.tol)));
                o
            }
            Method::Bda(a) => vec![
                ("iters", a.outer_iters.to_string()),
                ("inner", a.inner_iters.to_string()),
                ("lower-step", step(a.lower_inner_step)),
                ("upper-step", a.upper_step.to_string()),
                ("su", a.upper_inner_step.to_string()),
                ("mu", a.mu.to_string()),
                ("tol", tol(a.stop.tol)),
            ],
            Method::Galet(a) => vec![
                ("iters", a.outer_iters.to_string()),
                ("inner", a.lower_iters.to_string()),
                ("lower-step", step(a.lower_step)),
                ("upper-step", a.upper_step.to_string()),
                ("xi-iters", a.w_iters.to_string()),
                ("xi-step", a.w_step.to_string()),
                ("w-reset", (!a.warm_w).to_string()),
                ("tol", tol(a.stop.tol)),
            ],
            Method::Dpbg(a) => vec![
                ("iters", a.iters.to_string()),
                ("inner", a.lower_iters.to_string()),
                ("lower-step", step(a.lower_step)),
                ("upper-step", a.step.to_string()),
                ("tol", tol(a.stop.tol)),
            ],
        };
        let every = match self.metrics() {
            Metrics::End => "end".to_string(),
            Metrics::Every(k) | Metrics::Full(k) => k.to_string(),
        };
        out.push((EVERY, every));
        out
    }
}

/// Whether algorithm `algo` takes option `name` (whatever its ξ solver, for the correction's settings): what a
/// comparison of several algorithms passes to each.
///
/// ```
/// use bilevel_runtime::options::takes;
/// assert!(takes("aid", "rtol") && takes("galet", "xi-step") && takes("bda", "every"));
/// assert!(!takes("bda", "warmup") && !takes("itd", "xi") && !takes("newton", "iters"));
/// ```
pub fn takes(algo: &str, name: &str) -> bool {
    let Ok(method) = preset(algo) else { return false };
    let correction = matches!(method, Method::Bgs(BgsOpt { correction: Some(_), .. }));
    let xi_family = ["xi", "rtol", "kappa", "xi-iters", "xi-step"];
    method.options().iter().any(|(n, _)| *n == name) || (correction && xi_family.contains(&name))
}

/// The options of a ξ solver with their values.
fn xi_options(xi: &XiSolver) -> Vec<(&'static str, String)> {
    let name = |n: &str| ("xi", n.to_string());
    match *xi {
        XiSolver::Pinv { rtol } => vec![name("pinv"), ("rtol", rtol.to_string())],
        XiSolver::AdaptivePinv { rtol, kappa } => {
            vec![name("adaptive-pinv"), ("rtol", rtol.to_string()), ("kappa", kappa.to_string())]
        }
        XiSolver::ZCg { iters } => vec![name("z-cg"), ("xi-iters", iters.to_string())],
        XiSolver::Gd { step } => vec![name("gd"), ("xi-step", step.to_string())],
        XiSolver::Cg { iters } => vec![name("cg"), ("xi-iters", iters.to_string())],
        XiSolver::Lsqr { iters } => vec![name("lsqr"), ("xi-iters", iters.to_string())],
    }
}

/// The algorithm `algo` with its defaults (`aid` with M = 10 lower steps and `cg`, 20 iterations; the
/// corrected ones with `pinv`, rtol = 1e-3).
fn preset(algo: &str) -> Result<Method, String> {
    Ok(match algo {
        "itd" => BgsOpt::itd(10).into(),
        "rhg" => BgsOpt::rhg(10).into(),
        "truncated-itd" => BgsOpt::truncated_itd(10, 10).into(),
        "corrected-itd" => BgsOpt::corrected_itd(10, XiSolver::PINV).into(),
        "aid" => BgsOpt::aid(10, XiSolver::Cg { iters: 20 }).into(),
        "bda" => Bda::default().into(),
        "galet" => Galet::default().into(),
        "dpbg" => Dpbg::default().into(),
        _ => return Err(format!("unknown algorithm `{algo}`: use one of {}", ALGORITHMS.join(", "))),
    })
}

/// The options `algo` takes, for messages.
fn names_of(method: &Method) -> String {
    let names: Vec<String> = method.options().iter().map(|(n, _)| format!("--{n}")).collect();
    names.join(", ")
}

/// Applies one option.
fn apply(method: &mut Method, algo: &str, name: &str, value: &str) -> Result<(), String> {
    let applied = match method {
        Method::Bgs(a) => bgs(a, algo, name, value)?,
        Method::Bda(a) => bda(a, name, value)?,
        Method::Galet(a) => galet(a, name, value)?,
        Method::Dpbg(a) => dpbg(a, name, value)?,
    };
    if applied {
        return Ok(());
    }
    if name == EVERY {
        let every = match value {
            "end" => Metrics::End,
            k => Metrics::Every(count(k).and_then(|k| if k > 0 { Ok(k) } else { Err("must be at least 1".into()) })?),
        };
        *method = method.clone().with_metrics(every);
        return Ok(());
    }
    let known = OPTIONS.iter().any(|(n, _)| *n == name);
    Err(match known {
        true => format!("{algo} has no option --{name}; it takes {}", names_of(method)),
        false => format!("unknown option --{name}; the options are {}", names_of(method)),
    })
}

fn bgs(a: &mut BgsOpt, algo: &str, name: &str, value: &str) -> Result<bool, String> {
    match name {
        "iters" => a.outer_iters = count(value)?,
        "inner" if algo == "aid" => return Err("aid has no unrolled steps (T = 0); --warmup sets its M".into()),
        "inner" => a.unrolled_steps = count(value)?,
        "warmup" => a.warm_steps = count(value)?,
        "lower-step" => a.lower_step = lower_step(value)?,
        "upper-step" => a.upper_step = number(value)?,
        "cold" => a.warm = !flag(value)?,
        "tol" => a.stop.tol = Some(number(value)?),
        "xi" | "rtol" | "kappa" | "xi-iters" | "xi-step" => match &mut a.correction {
            Some(xi) => set_xi(xi, name, value)?,
            None => return Err(format!("{algo} has no correction ξ; corrected-itd and aid have one")),
        },
        _ => return Ok(false),
    }
    Ok(true)
}

/// Sets the ξ solver (`xi`) or one of its settings.
fn set_xi(xi: &mut XiSolver, name: &str, value: &str) -> Result<(), String> {
    match (name, &mut *xi) {
        ("xi", _) => {
            *xi = match value {
                "pinv" => XiSolver::PINV,
                "adaptive-pinv" => XiSolver::ADAPTIVE_PINV,
                "z-cg" => XiSolver::ZCg { iters: 1 },
                "gd" => XiSolver::Gd { step: f64::NAN },
                "cg" => XiSolver::Cg { iters: 20 },
                "lsqr" => XiSolver::Lsqr { iters: 50 },
                other => return Err(format!("unknown ξ solver `{other}`: pinv, adaptive-pinv, z-cg, gd, cg or lsqr")),
            }
        }
        ("rtol", XiSolver::Pinv { rtol } | XiSolver::AdaptivePinv { rtol, .. }) => *rtol = number(value)?,
        ("kappa", XiSolver::AdaptivePinv { kappa, .. }) => *kappa = number(value)?,
        ("xi-iters", XiSolver::ZCg { iters } | XiSolver::Cg { iters } | XiSolver::Lsqr { iters }) => {
            *iters = count(value)?
        }
        ("xi-step", XiSolver::Gd { step }) => *step = number(value)?,
        (_, other) => return Err(format!("the ξ solver ({}) has no setting --{name}", other.describe())),
    }
    Ok(())
}

fn bda(a: &mut Bda, name: &str, value: &str) -> Result<bool, String> {
    match name {
        "iters" => a.outer_iters = count(value)?,
        "inner" => a.inner_iters = count(value)?,
        "lower-step" => a.lower_inner_step = lower_step(value)?,
        "upper-step" => a.upper_step = number(value)?,
        "su" => a.upper_inner_step = number(value)?,
        "mu" => a.mu = number(value)?,
        "tol" => a.stop.tol = Some(number(value)?),
        _ => return Ok(false),
    }
    Ok(true)
}

fn galet(a: &mut Galet, name: &str, value: &str) -> Result<bool, String> {
    match name {
        "iters" => a.outer_iters = count(value)?,
        "inner" => a.lower_iters = count(value)?,
        "lower-step" => a.lower_step = lower_step(value)?,
        "upper-step" => a.upper_step = number(value)?,
        "xi-iters" => a.w_iters = count(value)?,
        "xi-step" => a.w_step = number(value)?,
        "w-reset" => a.warm_w = !flag(value)?,
        "tol" => a.stop.tol = Some(number(value)?),
        _ => return Ok(false),
    }
    Ok(true)
}

fn dpbg(a: &mut Dpbg, name: &str, value: &str) -> Result<bool, String> {
    match name {
        "iters" => a.iters = count(value)?,
        "inner" => a.lower_iters = count(value)?,
        "lower-step" => a.lower_step = lower_step(value)?,
        "upper-step" => a.step = number(value)?,
        "tol" => a.stop.tol = Some(number(value)?),
        _ => return Ok(false),
    }
    Ok(true)
}

/// A whole number of steps or iterations.
fn count(value: &str) -> Result<usize, String> {
    value.parse().map_err(|_| format!("expected a whole number ≥ 0, not `{value}`"))
}

/// A finite number (the algorithms check ranges such as positivity when they start).
fn number(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("expected a finite number, not `{value}`")),
    }
}

/// A lower step, or `auto` for 1/L_G at the start.
fn lower_step(value: &str) -> Result<Option<f64>, String> {
    match value {
        "auto" => Ok(None),
        v => number(v).map(Some),
    }
}

/// `true` or `false`.
fn flag(value: &str) -> Result<bool, String> {
    value.parse().map_err(|_| format!("expected true or false, not `{value}`"))
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
    fn mistakes_are_errors_that_name_the_option() {
        let err = |algo: &str, options: &[(&str, &str)]| Method::from_options(algo, options).unwrap_err();
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
