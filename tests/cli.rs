//! The `bilevel` command-line tool, run as a user runs it: each subcommand, the JSON contract of `solve`, every
//! exit code (0 success, 1 a failed run, 2 bad input), and docs/algorithms.md rows of P1–P4 through `solve --json`.

use assert_cmd::Command;
use serde_json::Value;

fn bilevel() -> Command {
    Command::cargo_bin("bilevel").expect("the binary is built")
}

fn problem(name: &str) -> String {
    format!("{}/examples/problems/{name}.bl", env!("CARGO_MANIFEST_DIR"))
}

/// `bilevel solve FILE --json ARGS` (exit status 0), parsed.
fn solve(name: &str, args: &[&str]) -> Value {
    let out = bilevel().arg("solve").arg(problem(name)).args(args).arg("--json").assert().success();
    assert!(out.get_output().stderr.is_empty(), "silent on stderr when it is not a terminal (no progress bar)");
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(text.lines().count(), 1, "exactly one JSON object: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn number(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("`{key}` is a number in {v}"))
}

fn component(v: &Value, key: &str, i: usize) -> f64 {
    v[key][i].as_f64().unwrap_or_else(|| panic!("`{key}[{i}]` is a number in {v}"))
}

#[test]
fn solve_json_follows_the_contract_and_reaches_p1_s_reference_point() {
    let args =
        ["--algo", "corrected-itd", "--inner", "5", "--lower-step", "0.2", "--upper-step", "0.5", "--iters", "3000"];
    let r = solve("counter_example", &args);
    for key in [
        "problem",
        "algorithm",
        "options",
        "iterations",
        "status",
        "x",
        "y",
        "upper",
        "lower",
        "lower_grad_norm",
        "bgs_residual",
        "seconds",
    ] {
        assert!(r.get(key).is_some(), "`{key}` missing from {r}");
    }
    assert_eq!((r["problem"].as_str(), r["algorithm"].as_str()), (Some("CounterExample"), Some("corrected-itd")));
    assert_eq!((r["status"].as_str(), r["iterations"].as_u64()), (Some("max_iterations"), Some(3000)));
    assert!((component(&r, "x", 0) - 0.5).abs() < 1e-6, "{r}");
    // Every option with its effective value: the given ones and the defaults.
    let options = &r["options"];
    assert_eq!((options["inner"].as_u64(), options["lower-step"].as_f64()), (Some(5), Some(0.2)));
    assert_eq!(
        (options["xi"].as_str(), options["rtol"].as_f64(), options["cold"].as_bool()),
        (Some("pinv"), Some(1e-3), Some(false))
    );
    assert!(r.get("trace").is_none() && r.get("error").is_none());
}

#[test]
fn solve_json_with_trace_keeps_every_iterate_with_its_metrics() {
    let r =
        solve("counter_example", &["--algo", "itd", "--inner", "5", "--lower-step", "0.2", "--iters", "20", "--trace"]);
    let trace = r["trace"].as_array().unwrap();
    assert_eq!(trace.len(), 21, "the start and 20 iterations");
    for (k, row) in trace.iter().enumerate() {
        assert_eq!(row["k"].as_u64(), Some(k as u64));
        for key in ["x", "y", "upper", "lower", "lower_grad_norm", "bgs_residual", "dir_norm"] {
            assert!(row.get(key).is_some(), "`{key}` missing from trace row {k}");
        }
    }
    assert_eq!(trace[20]["x"], r["x"]);
}

#[test]
fn reference_rows_of_p1_to_p4_through_solve_json() {
    let p1 = ["--lower-step", "0.2", "--upper-step", "0.5", "--iters", "3000", "--inner", "5"];
    let x = |algo: &str, extra: &[&str]| {
        let args: Vec<&str> = ["--algo", algo].iter().chain(&p1).chain(extra).copied().collect();
        component(&solve("counter_example", &args), "x", 0)
    };
    assert!((x("rhg", &[]) - 0.463026).abs() < 1e-6);
    assert!((x("itd", &[]) - 0.402028).abs() < 1e-6);
    assert!((x("corrected-itd", &["--start", "y=2,2"]) - 1.5).abs() < 1e-6);
    let bda = solve(
        "counter_example",
        &["--algo", "bda", "--inner", "64", "--lower-step", "0.2", "--su", "0.7", "--mu", "0.5", "--start", "y=2,2"],
    );
    assert!((component(&bda, "x", 0) - 1.02910).abs() < 1e-5, "{bda}");

    // P2: corrected ITD with the pseudo-inverse reaches an equilibrium; z-cg N = 1 the same point.
    let p2 =
        ["--algo", "corrected-itd", "--inner", "10", "--lower-step", "0.05", "--upper-step", "0.1", "--iters", "1500"];
    let pinv = solve("mexican_hat", &p2);
    assert!(number(&pinv, "bgs_residual") < 1e-8 && number(&pinv, "lower_grad_norm") < 1e-8, "{pinv}");
    assert!((component(&pinv, "x", 0) - 0.3041640).abs() < 1e-6 && (component(&pinv, "x", 1) - 0.4005633).abs() < 1e-6);
    let zcg = solve("mexican_hat", &[&p2[..], &["--xi", "z-cg", "--xi-iters", "1"]].concat());
    assert!((component(&zcg, "x", 0) - 0.3041640).abs() < 1e-6, "{zcg}");

    // P3: GALET with the paper's settings closes the optimality gap.
    let galet =
        solve("galet_example", &["--algo", "galet", "--iters", "300", "--lower-step", "1", "--start", "x=2;y=1,1"]);
    let (gx, gy) = (component(&galet, "x", 0), [component(&galet, "y", 0), component(&galet, "y", 1)]);
    let gap = (gx - 0.5).powi(2) + (0.5 + gy[0] - gy[1].sin()).powi(2);
    assert!(gap < 1e-12, "gap {gap}: {galet}");

    // P4: DPBG converges to the minimizer of F, not a lower solution; with F = (y − 2)² (a --set) it escapes.
    let dpbg = ["--algo", "dpbg", "--inner", "9", "--lower-step", "0.05", "--upper-step", "0.01", "--iters", "5000"];
    let near = solve("huber_bilevel", &dpbg);
    assert!((component(&near, "y", 0) - 0.1).abs() < 1e-4, "{near}");
    let far = solve(
        "huber_bilevel",
        &[&dpbg[..6], &["--upper-step", "0.05", "--iters", "5000", "--set", "target=2"]].concat(),
    );
    assert!((component(&far, "y", 0) - 2.0).abs() < 1e-4, "{far}");
}

#[test]
fn a_failed_run_prints_its_json_with_the_error_and_exits_1() {
    // α·L_G = 5 on P1: the lower steps diverge.
    let out = bilevel()
        .arg("solve")
        .arg(problem("counter_example"))
        .args(["--algo", "itd", "--lower-step", "5", "--iters", "200", "--json", "--trace"])
        .assert()
        .code(1);
    let r: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(r["status"].as_str(), Some("diverged"));
    assert!(r["error"].as_str().unwrap().contains("stopped at iteration"), "{r}");
    let trace = r["trace"].as_array().unwrap();
    assert!(!trace.is_empty() && trace.iter().all(|row| row["x"][0].as_f64().is_some_and(f64::is_finite)));
    assert!(r["warnings"][0].as_str().unwrap().contains("too large"), "{r}");
}

/// A file with thousands of mistakes: the first 50 are shown, the rest counted, and their "did you mean" hints,
/// which search every name in scope, are looked for only for the errors shown (the search made this file take 5.6 s).
#[test]
fn thousands_of_mistakes_show_the_first_fifty_and_count_the_rest() {
    let dir = std::env::temp_dir().join(format!("bilevel_many_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // `u{k}` is one edit from the `v{k}` declared just before: a "did you mean" for each error shown.
    let lets: String = (0..5000).map(|i| format!("    let v{i} = u{} + 1;\n", i.max(1) - 1)).collect();
    let text = format!("problem P {{\n    upper x: real;\n    lower y: real;\n{lets}    minimize upper: x;\n    minimize lower: (y - x)^2;\n}}\n");
    let file = dir.join("many.bl");
    std::fs::write(&file, text).unwrap();
    let out = bilevel().arg("check").arg(&file).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert_eq!(err.matches("error: cannot find `u").count(), 50, "{err}");
    assert!(err.contains("error: and 4950 more errors (the first 50 are shown"), "{err}");
    assert!(err.trim_end().ends_with("has 5000 errors"), "{err}");
    assert!(err.contains("did you mean `v7`?"), "the errors shown keep their hints: {err}");
}

#[test]
fn check_accepts_a_valid_file_and_shows_each_mistake_at_its_position_with_exit_2() {
    let out = bilevel().arg("check").arg(problem("mexican_hat")).assert().success();
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("problem `MexicanHat` is valid"));
    let dir = std::env::temp_dir().join(format!("bilevel-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("typo.bl");
    std::fs::write(&file, "problem P {\n    upper x: real;\n    lower y: real;\n    minimize upper: (x - z)^2;\n    minimize lower: y^2;\n}\n").unwrap();
    let out = bilevel().arg("check").arg(&file).assert().code(2);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains(&format!("{}:4:26", file.display())), "file:line:col in\n{err}");
    assert!(err.contains("`z`") && err.contains("(x - z)^2"), "the message and the line in\n{err}");
    assert!(err.contains('^'), "a caret under the mistake in\n{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_exits_2_with_a_message_naming_it() {
    let stderr_of = |args: &[&str]| {
        let out = bilevel().args(args).assert().code(2);
        String::from_utf8(out.get_output().stderr.clone()).unwrap()
    };
    let p1 = problem("counter_example");
    assert!(stderr_of(&["solve", &p1, "--algo", "newton"]).contains("unknown algorithm `newton`"));
    assert!(stderr_of(&["solve", &p1, "--algo", "bda", "--warmup", "3"]).contains("bda has no option --warmup"));
    assert!(stderr_of(&["solve", &p1, "--algo", "itd", "--upper-step", "-1"])
        .contains("upper_step must be finite and positive"));
    assert!(stderr_of(&["solve", &p1, "--algo", "itd", "--start", "z=1"]).contains("no variable `z`"));
    assert!(stderr_of(&["solve", &p1, "--algo", "itd", "--set", "c=1"]).contains("no param `c`"));
    assert!(stderr_of(&["solve", "/nonexistent/p.bl", "--algo", "itd"]).contains("cannot read `/nonexistent/p.bl`"));
    assert!(stderr_of(&["solve", &p1]).contains("--algo"), "clap's own usage errors exit 2 too");
}

#[test]
fn expand_prints_the_code_the_macro_generates() {
    let out = bilevel().arg("expand").arg(problem("galet_example")).assert().success();
    let code = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(code.contains("impl ::bilevel::Problem for GaletExample"), "{code}");
    assert!(code.contains("fn lower_hess("));
}

#[test]
fn an_error_over_a_very_long_line_shows_a_short_snippet() {
    let dir = scratch("limits");
    // A statement of 60 000 characters over the operator limit: the snippet is cut around the start.
    let long = dir.join("long.bl");
    let chain: Vec<String> = (0..2000).map(|k| format!("if y > {k} then (y - {k})^2 * x")).collect();
    let text = format!(
        "problem L {{\n    upper x: real;\n    lower y: real;\n    minimize upper: x^2;\n    minimize lower: {} else y^2;\n}}\n",
        chain.join(" else ")
    );
    std::fs::write(&long, &text).unwrap();
    let out = bilevel().arg("check").arg(&long).assert().code(2);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains("more than 5000 operators"), "{err}");
    assert!(err.len() < 1000, "{} characters of error for a {}-character line", err.len(), text.len());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A fresh scratch directory for one test's files.
fn scratch(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bilevel-cli-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn solve_writes_the_trace_as_csv_and_convergence_plots() {
    let dir = scratch("solve-files");
    let (csv, svg) = (dir.join("trace.csv"), dir.join("run.svg"));
    let p1 = problem("counter_example");
    let args = ["--algo", "itd", "--inner", "5", "--lower-step", "0.2", "--iters", "30"];
    bilevel().arg("solve").arg(&p1).args(args).arg("--trace-csv").arg(&csv).arg("--plot").arg(&svg).assert().success();
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(csv.lines().count(), 32, "a header and the 31 records:\n{csv}");
    assert!(csv.starts_with("iteration,"), "{csv}");
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(svg.contains("<svg") && svg.contains("BGS residual") && svg.contains("itd"), "a plot with its labels");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compare_tables_and_plots_several_algorithms_from_one_start() {
    let dir = scratch("compare");
    let svg = dir.join("compare.svg");
    let p1 = problem("counter_example");
    let common = ["--inner", "5", "--lower-step", "0.2", "--upper-step", "0.5", "--iters", "3000"];
    let out = bilevel()
        .arg("compare")
        .arg(&p1)
        .args(["--algos", "itd,rhg,corrected-itd"])
        .args(common)
        .arg("--plot")
        .arg(&svg)
        .assert()
        .success();
    let table = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let line =
        |algo: &str| table.lines().find(|l| l.starts_with(&format!("{algo} "))).unwrap_or_else(|| panic!("{table}"));
    assert!(line("itd").contains("(0.402028)") && line("rhg").contains("(0.463026)"), "{table}");
    assert!(line("corrected-itd").contains("(0.500000)"), "{table}");
    // F at the method's y and at the lower level solved at its x: rhg ends at a y that is not a lower solution.
    assert!(table.lines().next().unwrap().contains("F            F(x, y*(x))"), "{table}");
    assert!(line("rhg").contains("3.443493e-1  2.513671e-1"), "{table}");
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(["itd", "rhg", "corrected-itd"].iter().all(|a| svg.contains(a)), "one labelled line per algorithm");

    // As JSON: one object per run in the order given. Options go to the algorithms that take them (--su: BDA).
    let out = bilevel()
        .arg("compare")
        .arg(&p1)
        .args(["--algos", "itd,bda", "--su", "0.7", "--iters", "50", "--lower-step", "0.2", "--json"])
        .assert()
        .success();
    let runs: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.iter().map(|r| r["algorithm"].as_str().unwrap()).collect::<Vec<_>>(), ["itd", "bda"]);
    assert_eq!(runs[1]["options"]["su"].as_f64(), Some(0.7));
    assert!(runs[0]["options"].get("su").is_none());

    let out = bilevel().arg("compare").arg(&p1).args(["--algos", "itd,bda", "--kappa", "3"]).assert().code(2);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("--kappa 3: none of itd, bda takes it"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sweep_lists_every_setting_best_first_and_the_same_whatever_the_threads() {
    let p2 = problem("mexican_hat");
    let sweep = |threads: &str| {
        let out = bilevel()
            .env("RAYON_NUM_THREADS", threads)
            .arg("sweep")
            .arg(&p2)
            .args([
                "--algo",
                "corrected-itd",
                "--grid",
                "rtol=1e-10,1e-3;inner=1,10",
                "--starts",
                "2",
                "--start-seed",
                "7",
            ])
            .args(["--lower-step", "0.05", "--upper-step", "0.1", "--iters", "300", "--json"])
            .assert()
            .success();
        let mut runs: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        for run in runs.as_array_mut().unwrap() {
            run.as_object_mut().unwrap().remove("seconds");
        }
        runs
    };
    let (one, two) = (sweep("1"), sweep("2"));
    assert_eq!(one, two, "results do not depend on the number of threads");
    let runs = one.as_array().unwrap();
    assert_eq!(runs.len(), 4 * 3, "4 settings × (the start and 2 random starts)");
    let key = |r: &Value| r["upper_at_solution"].as_f64().or(r["upper"].as_f64()).unwrap();
    assert!(runs.windows(2).all(|w| key(&w[0]) <= key(&w[1])), "best first");
    // Ranked by another final metric: the same runs in its order.
    let out = bilevel()
        .arg("sweep")
        .arg(&p2)
        .args(["--algo", "corrected-itd", "--grid", "rtol=1e-10,1e-3;inner=1,10", "--rank-by", "bgs-residual"])
        .args(["--lower-step", "0.05", "--upper-step", "0.1", "--iters", "300", "--json"])
        .assert()
        .success();
    let by_residual: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let residual = |r: &Value| r["bgs_residual"].as_f64().unwrap();
    let by_residual = by_residual.as_array().unwrap();
    assert_eq!(by_residual.len(), 4);
    assert!(by_residual.windows(2).all(|w| residual(&w[0]) <= residual(&w[1])), "least residual first");
    // Every run records its start; `--start-range` widens the random ones.
    let starts = bilevel()
        .arg("sweep")
        .arg(&p2)
        .args(["--algo", "itd", "--grid", "inner=1", "--starts", "20", "--start-range", "5", "--iters", "1"])
        .args(["--lower-step", "0.05", "--json"])
        .assert()
        .success();
    let starts: Value = serde_json::from_slice(&starts.get_output().stdout).unwrap();
    let y0: Vec<Vec<f64>> = starts
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["y0"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect())
        .collect();
    assert!(y0.contains(&vec![0.6, 0.8]), "the start itself: {y0:?}");
    let offsets = y0.iter().flat_map(|y| [y[0] - 0.6, y[1] - 0.8]);
    assert!(offsets.clone().all(|d| d.abs() <= 5.0) && offsets.clone().any(|d| d.abs() > 1.0), "{y0:?}");
    let range = ["--algo", "itd", "--grid", "inner=1", "--start-range", "0"];
    let bad = bilevel().arg("sweep").arg(&p2).args(range).assert().code(2);
    assert!(String::from_utf8_lossy(&bad.get_output().stderr).contains("not a finite number > 0"));
    let bad = bilevel().arg("sweep").arg(&p2).args(["--algo", "itd", "--grid", "step=1,2"]).assert().code(2);
    assert!(String::from_utf8_lossy(&bad.get_output().stderr).contains("--grid: unknown option `step`"));
}

#[test]
fn derive_prints_every_derivative_in_math_notation() {
    let text = |name: &str| {
        let out = bilevel().arg("derive").arg(problem(name)).assert().success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    let hat = text("mexican_hat");
    for line in ["problem MexicanHat: upper x ∈ R^2, lower y ∈ R^2", "∇y F[0] = y[0] - c[0]", "G(x, y) = t3^2"] {
        assert!(hat.contains(line), "`{line}` in\n{hat}");
    }
    assert!(hat.contains("∇²yy G[0][1] = ") && hat.contains("∇²xy G[1][0] = "), "{hat}");
    assert!(!hat.contains("∇²yy G[1][0]"), "the upper triangle of a symmetric block only:\n{hat}");
    // A problem with data: gradients by element and Hessian–vector products, as sums over the samples.
    let ridge = text("ridge_diabetes");
    assert!(ridge.contains("∂G/∂w[") && ridge.contains("(∇²yy G · v) at w[") && ridge.contains("Σ_j"), "{ridge}");
}

mod common;

#[test]
fn a_problem_with_data_runs_from_its_files_as_the_compiled_code_runs_it() {
    use bilevel::{Algorithm, Method};
    let dir = scratch("data");
    let files = [
        ("X", "1.0,0.5,-0.3\n-0.4,1.2,0.8\n0.3,-0.9,0.2\n0.7,0.1,-1.1\n"),
        ("t", "1\n-1\n-1\n1\n"),
        ("Xv", "0.2,0.4,-0.6\n-1.0,0.3,0.5\n0.8,-0.2,0.9\n"),
        ("tv", "1\n1\n-1\n"),
    ];
    let mut data_args = Vec::new();
    for (name, text) in files {
        let path = dir.join(format!("{name}.csv"));
        std::fs::write(&path, text).unwrap();
        data_args.extend(["--data".to_string(), format!("{name}={}", path.display())]);
    }
    let file = format!("{}/tests/bl/logistic_regression.bl", env!("CARGO_MANIFEST_DIR"));
    let options = [("xi", "gd"), ("lower-step", "0.5"), ("upper-step", "0.5"), ("iters", "200")];
    let flags: Vec<String> = options.iter().flat_map(|(n, v)| [format!("--{n}"), v.to_string()]).collect();
    let out = bilevel()
        .arg("solve")
        .arg(&file)
        .args(["--algo", "corrected-itd", "--json"])
        .args(&flags)
        .args(&data_args)
        .assert()
        .success();
    let r: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let compiled = Method::from_options("corrected-itd", &options).unwrap();
    let run = compiled.solve(&common::logistic::small(), &[0.0; 3], &[0.0; 3]).unwrap();
    for (i, x) in run.x().iter().enumerate() {
        assert!((component(&r, "x", i) - x).abs() < 1e-10, "x[{i}]: tool {} vs compiled {x}", r["x"][i]);
    }
    // A data item missing, or of the wrong size, is bad input naming it.
    let out = bilevel().arg("solve").arg(&file).args(["--algo", "itd"]).args(&data_args[..6]).assert().code(2);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("data item `tv` is not given"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn landscape_draws_the_mexican_hat_with_its_ring_of_minima_and_a_trajectory() {
    let dir = scratch("landscape");
    let (svg, trace) = (dir.join("hat.svg"), dir.join("run.json"));
    let hat = problem("mexican_hat");
    let run =
        ["--algo", "corrected-itd", "--inner", "10", "--lower-step", "0.05", "--upper-step", "0.1", "--iters", "300"];
    bilevel().arg("landscape").arg(&hat).args(run).arg("--plot").arg(&svg).assert().success();
    let drawn = std::fs::read_to_string(&svg).unwrap();
    assert!(drawn.contains("G(x, y) at x = (0.3042, 0.4006)"), "G at the run's last x");
    assert!(drawn.matches("<rect").count() >= 3600, "a 60 × 60 heat map");
    assert!(drawn.matches("<circle").count() > 300, "the critical set and the 301 iterates");
    // The same from a saved trace; a problem that is not two-dimensional in y is refused.
    let out = bilevel().arg("solve").arg(&hat).args(run).args(["--json", "--trace"]).assert().success();
    std::fs::write(&trace, &out.get_output().stdout).unwrap();
    bilevel().arg("landscape").arg(&hat).arg("--trace").arg(&trace).arg("--plot").arg(&svg).assert().success();
    let out = bilevel().arg("landscape").arg(problem("galet_example")).arg("--plot").arg(&svg).assert().success();
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("G(x, y) at x = (0.0000)"));
    let out = bilevel()
        .arg("landscape")
        .arg(problem("counter_example"))
        .args(["--x", "1,2"])
        .arg("--plot")
        .arg(&svg)
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("--x 1,2: expected 1 numbers, not 2"));
    // Negative values are values, written `--x -1,0` or `--x=-1,0`; a heat map of 0 cells is refused.
    let at = |x: &[&str]| bilevel().arg("landscape").arg(&hat).args(x).arg("--plot").arg(&svg).assert().success();
    for x in [&["--x", "-0.5,0"][..], &["--x=-0.5,0"], &["--range", "-1.8,1.8;-1.5,1.5"]] {
        let out = at(x);
        assert!(!String::from_utf8_lossy(&out.get_output().stdout).is_empty(), "{x:?}");
    }
    assert!(std::fs::read_to_string(&svg).unwrap().contains("-1.5"), "the range given");
    let out = bilevel().arg("landscape").arg(&hat).args(["--cells", "0"]).arg("--plot").arg(&svg).assert().code(2);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("0 is not in 4..=400"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_sparse_item_reads_a_libsvm_file_as_the_dense_problem_reads_csv() {
    let dir = scratch("libsvm");
    let problem = |sparse: &str| {
        format!(
            "problem Logistic {{\n    dim N, p;\n    data X: {sparse}real[N, p];\n    data t: real[N];\n    \
             upper lam: real;\n    lower w: real[p];\n    \
             minimize lower: mean(i in 0..N: softplus(-t[i] * dot(X[i], w))) + exp(lam) * norm2(w);\n    \
             minimize upper: mean(i in 0..N: (dot(X[i], w) - t[i])^2);\n}}\n"
        )
    };
    let (sparse, dense) = (dir.join("sparse.bl"), dir.join("dense.bl"));
    std::fs::write(&sparse, problem("sparse ")).unwrap();
    std::fs::write(&dense, problem("")).unwrap();
    // Four samples of four features, half of the entries zero; feature 4 only in the last sample.
    let svm = dir.join("train.svm");
    std::fs::write(&svm, "+1 1:0.5 3:-1.2\n-1 2:0.8\n-1 1:-0.3 2:0.4\n+1 3:0.9 4:1.5 # last\n").unwrap();
    let (x, t) = (dir.join("X.csv"), dir.join("t.csv"));
    std::fs::write(&x, "0.5,0,-1.2,0\n0,0.8,0,0\n-0.3,0.4,0,0\n0,0,0.9,1.5\n").unwrap();
    std::fs::write(&t, "1\n-1\n-1\n1\n").unwrap();
    let run = |file: &std::path::Path, data: [String; 2]| {
        let args = ["--algo", "aid", "--xi", "cg", "--warmup", "20", "--iters", "50", "--json"];
        let data = ["--data", &data[0], "--data", &data[1]];
        let out = bilevel().arg("solve").arg(file).args(args).args(data).assert().success();
        serde_json::from_slice::<Value>(&out.get_output().stdout).unwrap()
    };
    let a = run(&sparse, [format!("X={}", svm.display()), format!("t={}:labels", svm.display())]);
    let b = run(&dense, [format!("X={}", x.display()), format!("t={}", t.display())]);
    assert!((number(&a, "upper") - number(&b, "upper")).abs() < 1e-12, "{} vs {}", a["upper"], b["upper"]);
    for i in 0..4 {
        assert!((component(&a, "y", i) - component(&b, "y", i)).abs() < 1e-12, "w[{i}]");
    }
    assert!(number(&a, "upper").is_finite() && component(&a, "x", 0) != 0.0, "the run moved: {a}");
    // A file too large to store densely is bad input saying why.
    let wide = dir.join("wide.svm");
    std::fs::write(&wide, "1 100000000:1\n").unwrap();
    bilevel().arg("check").arg(&sparse).assert().success();
    let out = bilevel()
        .arg("solve")
        .arg(&sparse)
        .args([
            "--algo",
            "itd",
            "--data",
            &format!("X={}", wide.display()),
            "--data",
            &format!("t={}:labels", wide.display()),
        ])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("once stored densely") && err.contains("bilevel!"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The upper optimizer is an option of the tool too (from the one option table): momentum reaches P1's corrected
/// point as the plain gradient does, and the JSON reports the rule and its β; a β without a rule that has one is
/// bad input.
#[test]
fn the_upper_optimizer_is_an_option_of_the_tool() {
    let args = [
        "--algo",
        "corrected-itd",
        "--inner",
        "5",
        "--lower-step",
        "0.2",
        "--upper-step",
        "0.1",
        "--iters",
        "3000",
        "--upper-optimizer",
        "momentum",
        "--beta",
        "0.5",
    ];
    let r = solve("counter_example", &args);
    assert!((component(&r, "x", 0) - 0.5).abs() < 1e-8, "{r}");
    assert_eq!(r["options"]["upper-optimizer"], "momentum", "{r}");
    assert_eq!(r["options"]["beta"].as_f64(), Some(0.5), "{r}");
    let out = bilevel().args(["solve", &problem("counter_example"), "--algo", "itd", "--beta", "0.5"]).assert().code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("--beta 0.5: the plain gradient step has no β"), "{stderr}");
}

/// The stochastic methods from the tool: `compare` of SOBA and SABA on the shipped subset of the
/// reference benchmark's data (`.npy` files), `h` every 100 steps; the plot draws `h` against time and against
/// per-sample gradients, and the JSON reports the options the batches were drawn with.
#[test]
fn compare_runs_the_stochastic_methods_on_data_files_and_plots_them_against_their_cost() {
    let dir = scratch("stochastic");
    let data = format!("{}/examples/data/stochastic", env!("CARGO_MANIFEST_DIR"));
    let item = |name: &str, file: &str| ["--data".to_string(), format!("{name}={data}/{file}.npy")];
    let args: Vec<String> =
        [item("X", "X_train"), item("t", "y_train"), item("Xv", "X_val"), item("tv", "y_val")].concat();
    let svg = dir.join("cost.svg");
    let out = bilevel()
        .arg("compare")
        .arg(problem("stochastic_logistic"))
        .args(["--algos", "soba,saba", "--iters", "200", "--eval-every", "100", "--outer-ratio", "0.1"])
        .args(["--batch", "32", "--seed", "3", "--json", "--plot"])
        .arg(&svg)
        .args(&args)
        .assert()
        .success();
    let runs: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    for (k, algo) in ["soba", "saba"].iter().enumerate() {
        assert_eq!(runs[k]["algorithm"], *algo);
        assert_eq!((runs[k]["options"]["batch"].as_u64(), runs[k]["options"]["seed"].as_u64()), (Some(32), Some(3)));
        // h(x0) = 0.6356; SOBA's first steps, with v still near 0, move x by a biased hypergradient.
        let h = runs[k]["upper_at_solution"].as_f64().unwrap();
        assert!(h.is_finite() && (*algo == "soba" || h < 0.6356), "{algo}: h = {h}");
    }
    let drawn = std::fs::read_to_string(&svg).unwrap();
    assert!(drawn.contains("per-sample gradients") && drawn.contains("against time"), "the cost panels");
    std::fs::remove_dir_all(&dir).unwrap();
}
