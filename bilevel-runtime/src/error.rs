//! Errors of a run. A fault keeps everything computed before it.

use std::fmt;

use crate::trace::Run;

/// Why a run could not start or could not go on.
#[derive(Clone, Debug, PartialEq)]
pub enum SolveError {
    /// The options make no sense (for example a step that is not positive); nothing was run.
    Options(String),
    /// The run met a non-finite value or diverged at `iteration`; `run` holds the trace up to the last finite
    /// iterate (iteration `iteration - 1`).
    Fault {
        /// The iteration that failed (1-based; the start point is iteration 0).
        iteration: usize,
        /// What went wrong, e.g. "the upper direction d is not finite".
        cause: String,
        /// Everything computed before the fault (boxed: a run is large, and the error travels by value).
        run: Box<Run>,
    },
}

impl fmt::Display for SolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SolveError::Options(why) => write!(f, "invalid options: {why}"),
            SolveError::Fault { iteration, cause, run } => {
                let kept = match run.trace.len() {
                    1 => "the start".to_string(),
                    k => format!("the {k} finite iterates before it"),
                };
                write!(f, "stopped at iteration {iteration}: {cause} (the trace keeps {kept})")?;
                for warning in &run.warnings {
                    write!(f, "; {warning}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for SolveError {}

/// What `solve` returns: the run, or why it stopped early (with the work done so far).
pub type SolveResult = Result<Run, SolveError>;

/// `result` with `change` applied to its run: the finished one, or the one a fault kept (for what a run learns
/// outside its loop: notes on the choices made for it, warnings on its settings).
pub(crate) fn with_run(result: SolveResult, change: impl FnOnce(&mut Run)) -> SolveResult {
    match result {
        Ok(mut run) => {
            change(&mut run);
            Ok(run)
        }
        Err(SolveError::Fault { iteration, cause, mut run }) => {
            change(&mut run);
            Err(SolveError::Fault { iteration, cause, run })
        }
        Err(e) => Err(e),
    }
}
