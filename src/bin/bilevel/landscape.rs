//! `bilevel landscape`: the lower objective as a heat map — G(x, ·) over y for m = 2, G over (x, y) for n = m = 1
//! — with its critical set (where ‖∇y G‖ has a local minimum near zero), the lower level's gradient flow
//! (arrows along −∇y G) and a run's trajectory: the picture of Arbel & Mairal's Fig. 1.

use bilevel::nalgebra::DVector;
use bilevel::plot::Landscape;
use bilevel::tape::TapeProblem;
use bilevel::Problem;
use serde_json::Value;
use std::ops::Range;

use crate::args::LandscapeArgs;
use crate::input::{self, bad};
use crate::run::{method, prepare, run};
use crate::Failure;
use bilevel::tape::TextProblem;

/// Which picture: G(x, ·) at a fixed x over (y[0], y[1]), or G over (x, y).
enum Plane {
    Lower(Vec<f64>),
    Joint,
}

/// Runs `bilevel landscape`.
pub fn landscape(args: &LandscapeArgs) -> Result<(), Failure> {
    let p = prepare(&args.problem)?;
    let TextProblem::Dense(tape) = &p.tape else {
        return Err(bad("landscape draws problems without data (G over two variables)".into()));
    };
    let (n, m) = (p.start.0.len(), p.start.1.len());
    let plane = match (n, m) {
        (_, 2) => Plane::Lower(Vec::new()),
        (1, 1) => Plane::Joint,
        _ => {
            return Err(bad(format!(
                "landscape draws problems with m = 2 (or n = m = 1); this one has n = {n}, m = {m}"
            )))
        }
    };
    let (path, last_x) = trajectory(args, &p, &plane)?;
    // G(x, ·) at the x given, else where the run ended, else at the start.
    let plane = match plane {
        Plane::Lower(_) => Plane::Lower(match &args.x {
            Some(text) => numbers(text, n).map_err(|e| bad(format!("--x {text}: {e}")))?,
            None => last_x.unwrap_or_else(|| p.start.0.clone()),
        }),
        joint => joint,
    };
    let start = match &plane {
        Plane::Lower(_) => (p.start.1[0], p.start.1[1]),
        Plane::Joint => (p.start.0[0], p.start.1[0]),
    };
    let (xr, yr) = match &args.range {
        Some(text) => ranges(text).map_err(|e| bad(format!("--range {text}: {e}")))?,
        None => around(start, &path),
    };
    let cells = usize::from(args.cells);
    let mut map = picture(tape, &plane, (xr, yr), cells);
    map.path = path;
    map.save(&args.plot).map_err(|e| bad(e.to_string()))?;
    println!("{}: {} with {} trajectory points", args.plot.display(), map.title, map.path.len());
    Ok(())
}

/// The heat map of G, its critical set and the flow field.
fn picture(tape: &TapeProblem, plane: &Plane, (xr, yr): (Range<f64>, Range<f64>), cells: usize) -> Landscape {
    // G and −∇y G at a point of the picture, as a direction in the picture's coordinates.
    let at = |a: f64, b: f64| -> (f64, (f64, f64)) {
        let (x, y) = match plane {
            Plane::Lower(x) => (DVector::from_column_slice(x), DVector::from_column_slice(&[a, b])),
            Plane::Joint => (DVector::from_element(1, a), DVector::from_element(1, b)),
        };
        let g = tape.lower_grad(&x, &y);
        let flow = match plane {
            Plane::Lower(_) => (-g.y[0], -g.y[1]),
            Plane::Joint => (0.0, -g.y[0]),
        };
        (g.value, flow)
    };
    let (xname, yname, title) = match plane {
        Plane::Lower(x) => {
            let x: Vec<String> = x.iter().map(|v| format!("{v:.4}")).collect();
            ("y[0]", "y[1]", format!("G(x, y) at x = ({})", x.join(", ")))
        }
        Plane::Joint => ("x", "y", "G(x, y)".to_string()),
    };
    // G and the flow at every cell, evaluated once for the colours and the critical set.
    let (xs, ys) = (Landscape::centres(&xr, cells), Landscape::centres(&yr, cells));
    let grid: Vec<Vec<(f64, (f64, f64))>> = ys.iter().map(|&b| xs.iter().map(|&a| at(a, b)).collect()).collect();
    let values = grid.iter().map(|row| row.iter().map(|(g, _)| *g).collect()).collect();
    let mut map = Landscape::new(&title, (xname, xr.clone()), (yname, yr.clone()), values);
    // The critical set ∇y G = 0: cells next to which every component of the flow changes sign.
    let flow: Vec<Vec<(f64, f64)>> = grid.iter().map(|row| row.iter().map(|(_, f)| *f).collect()).collect();
    let changes = |r: usize, c: usize, component: fn(&(f64, f64)) -> f64| {
        let here = component(&flow[r][c]);
        [(r + 1, c), (r, c + 1)].iter().any(|&(i, j)| i < cells && j < cells && here * component(&flow[i][j]) <= 0.0)
    };
    for (r, &b) in ys.iter().enumerate() {
        for (c, &a) in xs.iter().enumerate() {
            let critical = match plane {
                Plane::Lower(_) => changes(r, c, |f| f.0) && changes(r, c, |f| f.1),
                Plane::Joint => changes(r, c, |f| f.1),
            };
            if critical {
                map.marks.push((a, b));
            }
        }
    }
    // The flow: unit directions of −∇y G on a coarse grid, each as long as 0.7 of its cell.
    let arrows = 16;
    let (dx, dy) = ((xr.end - xr.start) / arrows as f64, (yr.end - yr.start) / arrows as f64);
    for &b in &Landscape::centres(&yr, arrows) {
        for &a in &Landscape::centres(&xr, arrows) {
            let (fx, fy) = at(a, b).1;
            let (sx, sy) = (fx / dx, fy / dy);
            let length = sx.hypot(sy);
            if length.is_finite() && length > 0.0 {
                let k = 0.35 / length;
                map.arrows.push(((a - k * sx * dx, b - k * sy * dy), (a + k * sx * dx, b + k * sy * dy)));
            }
        }
    }
    map
}

/// The points of the trajectory in the picture's coordinates (from `--trace`, from a run of `--algo`, or none)
/// and the run's last x.
fn trajectory(args: &LandscapeArgs, p: &crate::run::Prepared, plane: &Plane) -> Result<Path, Failure> {
    let point = |x: &[f64], y: &[f64]| match plane {
        Plane::Lower(_) => (y[0], y[1]),
        Plane::Joint => (x[0], y[0]),
    };
    if let Some(path) = &args.trace {
        let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read `{}`: {e}", path.display())))?;
        let run: Value =
            serde_json::from_str(&text).map_err(|e| bad(format!("`{}` is not JSON: {e}", path.display())))?;
        let rows = run["trace"]
            .as_array()
            .ok_or_else(|| bad(format!("`{}` has no `trace` (solve --json --trace)", path.display())))?;
        let numbers = |v: &Value| -> Option<Vec<f64>> { v.as_array()?.iter().map(Value::as_f64).collect() };
        let (n, m) = (p.start.0.len(), p.start.1.len());
        let mut last = None;
        let mut points = Vec::new();
        for r in rows {
            match (numbers(&r["x"]), numbers(&r["y"])) {
                (Some(x), Some(y)) if x.len() == n && y.len() == m => {
                    points.push(point(&x, &y));
                    last = Some(x);
                }
                _ => return Err(bad(format!("`{}`: a trace row without x and y of this problem", path.display()))),
            }
        }
        return Ok((points, last));
    }
    let Some(algo) = &args.algo else { return Ok((Vec::new(), None)) };
    let m = method(algo, &args.options.named(), true)?;
    let out = run(&m, &p.tape, (&p.start.0, &p.start.1))?;
    let points = out.run.trace.iter().map(|r| point(r.x.as_slice(), r.y.as_slice())).collect();
    Ok((points, Some(out.run.x().as_slice().to_vec())))
}

/// A trajectory in the picture's coordinates, and the last x of the run.
type Path = (Vec<(f64, f64)>, Option<Vec<f64>>);

/// Ranges around the start and the path, with a margin.
fn around(start: (f64, f64), path: &[(f64, f64)]) -> (Range<f64>, Range<f64>) {
    let points: Vec<(f64, f64)> =
        std::iter::once(start).chain(path.iter().copied()).filter(|p| p.0.is_finite() && p.1.is_finite()).collect();
    let span = |f: fn(&(f64, f64)) -> f64| {
        let lo = points.iter().map(f).fold(f64::INFINITY, f64::min);
        let hi = points.iter().map(f).fold(f64::NEG_INFINITY, f64::max);
        let margin = ((hi - lo) * 0.25).max(1.5);
        lo - margin..hi + margin
    };
    (span(|p| p.0), span(|p| p.1))
}

/// `"lo,hi;lo,hi"`.
fn ranges(text: &str) -> Result<(Range<f64>, Range<f64>), String> {
    let parts: Vec<Vec<f64>> = text.split(';').map(|p| numbers(p, 2)).collect::<Result<_, _>>()?;
    match parts.as_slice() {
        [a, b] if a[0] < a[1] && b[0] < b[1] => Ok((a[0]..a[1], b[0]..b[1])),
        _ => Err("expected lo,hi;lo,hi with lo < hi".into()),
    }
}

/// `count` comma-separated finite numbers.
fn numbers(text: &str, count: usize) -> Result<Vec<f64>, String> {
    let values = input::numbers(text)?;
    if values.len() != count {
        return Err(format!("expected {count} numbers, not {}", values.len()));
    }
    Ok(values)
}
