//! Reading a problem file, and the problem-dependent arguments (`--set`, `--start`).

use bilevel::tape::{TapeError, TextProblem};
use bilevel_dsl::Model;
use std::path::Path;

use crate::render::diagnostics;
use crate::Failure;

/// The checked problem of `file`, and its text; a file that cannot be read or has mistakes is bad input, with
/// every mistake rendered at its position.
pub fn problem(file: &Path) -> Result<(Model, String), Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::Input(format!("error: cannot read `{}`: {e}", file.display())))?;
    match bilevel_dsl::compile(&text) {
        Ok(model) => Ok((model, text)),
        Err(errors) => Err(Failure::Input(diagnostics(&file.display().to_string(), &text, &errors))),
    }
}

/// A failure whose diagnostics have positions in the problem text, rendered at them.
pub fn positioned(failure: Failure, file: &Path, text: &str) -> Failure {
    match failure {
        Failure::Positioned(errors) => Failure::Input(diagnostics(&file.display().to_string(), text, &errors)),
        other => other,
    }
}

/// The problem of `file` checked, its derivatives within the limits (an error: neither the tool nor `bilevel!`
/// can run it), and with a note when only the Rust that `bilevel!` would generate is over its limit (the tool
/// runs the problem; the macro refuses it).
pub fn check(file: &Path) -> Result<(Model, Option<String>), Failure> {
    let (model, text) = problem(file)?;
    let name = file.display().to_string();
    if !model.has_data() {
        bilevel_dsl::diff::differentiate(&model, &mut model.dag.clone())
            .map_err(|e| Failure::Input(diagnostics(&name, &text, &[e])))?;
    }
    let note = bilevel_dsl::generate(&model, &"::bilevel".parse().expect("a path"))
        .err()
        .map(|e| format!("note: the tool runs it, but `bilevel!` would refuse it: {}", e.text()));
    Ok((model, note))
}

/// A one-line description: sizes, params, data.
pub fn describe(model: &Model) -> String {
    let size = |v: &bilevel_dsl::model::Variable| match v.shape.len() {
        0 if v.scalar => "a number".to_string(),
        0 => format!("{} numbers", v.dim),
        _ => "sized by its data".to_string(),
    };
    let mut text =
        format!("upper `{}`: {}, lower `{}`: {}", model.x.name, size(&model.x), model.y.name, size(&model.y));
    if !model.params.is_empty() {
        let names: Vec<&str> = model.params.iter().map(|p| p.name.as_str()).collect();
        text.push_str(&format!(", params {}", names.join(", ")));
    }
    if !model.data.is_empty() {
        let names: Vec<&str> = model.data.iter().map(|d| d.name.as_str()).collect();
        text.push_str(&format!(", data {}", names.join(", ")));
    }
    text
}

/// The Rust code `bilevel!` generates for the problem, formatted; a problem too large to generate is bad input,
/// rendered at its position like a mistake.
pub fn expanded(model: &Model, file: &Path, text: &str) -> Result<String, Failure> {
    let tokens = bilevel_dsl::generate(model, &"::bilevel".parse().expect("a path"))
        .map_err(|e| Failure::Input(diagnostics(&file.display().to_string(), text, &[e])))?;
    Ok(match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        // Generated code always parses (tested); should it not, the tokens as they are.
        Err(_) => tokens.to_string(),
    })
}

/// The evaluator of a checked problem with its `--data NAME=PATH` attached and `--set NAME=VALUE` applied.
pub fn evaluator(model: &Model, data: &[String], sets: &[String]) -> Result<TextProblem, Failure> {
    let mut items = Vec::new();
    for given in data {
        if !model.has_data() {
            return Err(bad(format!("--data {given}: the problem has no `data` items")));
        }
        items.push(data_item(given).map_err(|e| bad(format!("--data {given}: {e}")))?);
    }
    let mut problem = TextProblem::new(model, items).map_err(|e| match e {
        TapeError::Text(errors) => Failure::Positioned(errors),
        other => bad(other.to_string()),
    })?;
    for set in sets {
        let (name, values) =
            set.split_once('=').ok_or_else(|| bad(format!("--set {set}: expected NAME=VALUE (or NAME=V1,V2,...)")))?;
        let values = numbers(values).map_err(|e| bad(format!("--set {set}: {e}")))?;
        problem.set_param(name.trim(), &values).map_err(|e| bad(format!("--set {set}: {e}")))?;
    }
    Ok(problem)
}

/// One `--data NAME=PATH` (see [`bilevel::tape::read_data`] for the files it reads).
fn data_item(given: &str) -> Result<(String, bilevel::data::Array), String> {
    let (name, spec) = given.split_once('=').ok_or("expected NAME=PATH")?;
    Ok((name.trim().to_string(), bilevel::tape::read_data(spec.trim())?))
}

/// The start point: the problem's, with `--start "x=0;y=2,2"` (by the variables' names) replacing either part.
pub fn start(
    model: &Model,
    given: Option<&str>,
    (x, y): (Vec<f64>, Vec<f64>),
) -> Result<(Vec<f64>, Vec<f64>), Failure> {
    let (mut x, mut y) = (x, y);
    for part in given.unwrap_or("").split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, values) =
            part.split_once('=').ok_or_else(|| bad(format!("--start: `{part}` is not NAME=VALUES")))?;
        let values = numbers(values).map_err(|e| bad(format!("--start {part}: {e}")))?;
        let (target, var) = match name.trim() {
            n if n == model.x.name => (&mut x, &model.x),
            n if n == model.y.name => (&mut y, &model.y),
            n => {
                let known = format!("`{}` or `{}`", model.x.name, model.y.name);
                return Err(bad(format!("--start: the problem has no variable `{n}`; its variables are {known}")));
            }
        };
        if values.len() != target.len() {
            let why = format!("`{}` has {} component(s), not {}", var.name, target.len(), values.len());
            return Err(bad(format!("--start {part}: {why}")));
        }
        *target = values;
    }
    Ok((x, y))
}

/// Comma-separated finite numbers.
pub fn numbers(text: &str) -> Result<Vec<f64>, String> {
    text.split(',')
        .map(|v| match v.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(n),
            _ => Err(format!("`{}` is not a finite number", v.trim())),
        })
        .collect()
}

/// Bad input with an `error:` prefix.
pub fn bad(message: String) -> Failure {
    Failure::Input(format!("error: {message}"))
}
