//! Traces as CSV and JSON.

use std::fmt::Write;

use crate::json;
use crate::trace::{Record, Run, Status};

impl Run {
    /// The names of the algorithm-specific metrics, in order of first appearance.
    fn extra_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for (name, _) in self.trace.iter().flat_map(|r| &r.extras) {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
        names
    }

    /// The trace as CSV: one row per iteration with `iteration, x[0..n], y[0..m], upper, lower,
    /// lower_grad_norm, dir_norm, bgs_residual` and the algorithm-specific metrics (empty where not recorded).
    pub fn to_csv(&self) -> String {
        let first = &self.trace[0];
        let extras = self.extra_names();
        let mut header = vec!["iteration".to_string()];
        header.extend((0..first.x.len()).map(|i| format!("x[{i}]")));
        header.extend((0..first.y.len()).map(|i| format!("y[{i}]")));
        header.extend(["upper", "lower", "lower_grad_norm", "dir_norm", "bgs_residual"].map(String::from));
        header.extend(extras.iter().cloned());
        let mut out = header.join(",") + "\n";
        for r in &self.trace {
            let mut cells = vec![r.iteration.to_string()];
            cells.extend(r.x.iter().chain(r.y.iter()).map(|v| format!("{v:?}")));
            cells.extend([r.upper, r.lower, r.lower_grad_norm, r.dir_norm, r.bgs_residual].map(|v| format!("{v:?}")));
            cells.extend(extras.iter().map(|n| r.extra(n).map_or(String::new(), |v| format!("{v:?}"))));
            let _ = writeln!(out, "{}", cells.join(","));
        }
        out
    }

    /// The run as JSON: `{"status": ..., "iterations": ..., "trace": [{"x": [...], "y": [...], ...}, ...]}`.
    pub fn to_json(&self) -> String {
        let status = match self.status {
            Status::MaxIterations => json::string("max-iterations"),
            Status::Converged { iteration } => json::object(&[("converged", iteration.to_string())]),
            Status::Stopped { iteration } => json::object(&[("stopped", iteration.to_string())]),
        };
        let records: Vec<String> = self.trace.iter().map(record_json).collect();
        json::object(&[
            ("status", status),
            ("iterations", self.iterations().to_string()),
            ("trace", format!("[{}]", records.join(","))),
        ])
    }
}

fn record_json(r: &Record) -> String {
    let extras: Vec<(&str, String)> = r.extras.iter().map(|(n, v)| (n.as_ref(), json::number(*v))).collect();
    json::object(&[
        ("iteration", r.iteration.to_string()),
        ("x", json::array(r.x.iter())),
        ("y", json::array(r.y.iter())),
        ("upper", json::number(r.upper)),
        ("lower", json::number(r.lower)),
        ("lower_grad_norm", json::number(r.lower_grad_norm)),
        ("dir_norm", json::number(r.dir_norm)),
        ("bgs_residual", json::number(r.bgs_residual)),
        ("extras", json::object(&extras)),
    ])
}
