//! What a run records: one [`Record`] per outer iteration, and the [`Run`] that holds them.

use std::borrow::Cow;

use nalgebra::DVector;

/// One algorithm-specific metric of a record: its name (static for the runtime's own metrics, so that keeping it
/// allocates nothing) and its value.
pub type Extra = (Cow<'static, str>, f64);

/// The state and metrics of one outer iteration.
///
/// Entry 0 of a trace is the start; the record of iteration `k` holds `x_k` and the `y_k` computed from `x_{k-1}`
/// in iteration `k`, with every metric evaluated at `(x_k, y_k)` (the convention of `docs/algorithms.md`). With the
/// default [`Metrics`](crate::Metrics) entry `k` is iteration `k`; otherwise [`Record::iteration`] says which.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The iteration `k` (0 for the start).
    pub iteration: usize,
    /// The upper variable `x_k`.
    pub x: DVector<f64>,
    /// The lower variable `y_k`.
    pub y: DVector<f64>,
    /// `F(x_k, y_k)`.
    pub upper: f64,
    /// `G(x_k, y_k)`.
    pub lower: f64,
    /// `‖∇y G(x_k, y_k)‖`.
    pub lower_grad_norm: f64,
    /// `‖d_k‖`, the norm of the upper direction of iteration `k` (0 at the start).
    pub dir_norm: f64,
    /// `‖∇x F − B H† ∇y F‖` at `(x_k, y_k)`, projected on the box when there is one (see
    /// [`bgs_residual`](crate::metrics::bgs_residual)). It measures the upper level's stationarity *given* that
    /// `y_k` solves the lower level, so read it with [`lower_grad_norm`](Record::lower_grad_norm): an equilibrium
    /// has both at zero. (On the Huber example of Bolte et al. `x` enters neither objective, so `∇x F = 0`,
    /// `B = 0` and the residual is 0 everywhere, including where DPBG stops with `‖∇y G‖ > 0`.)
    pub bgs_residual: f64,
    /// `F(x_k, ŷ)` with `ŷ` the lower level solved from `y_k` to `‖∇y G‖ ≤ 1e-10` ([`solve_lower`]): the upper
    /// objective at the lower solution, which compares fairly methods that evaluate `F` at a biased `y` (BDA,
    /// DPBG). Computed for the final record of a run, and for every record with [`Metrics::Full`](crate::Metrics)
    /// (`None` elsewhere, and when the solve does not converge).
    ///
    /// [`solve_lower`]: crate::matrix_free::solve_lower
    pub upper_at_solution: Option<f64>,
    /// Metrics of a particular algorithm (e.g. GALET's `R_x`, `R_w`; `‖ξ‖` of the `gd` solver), by name.
    pub extras: Vec<Extra>,
}

impl Record {
    /// The value of the algorithm-specific metric `name`, if recorded.
    pub fn extra(&self, name: &str) -> Option<f64> {
        self.extras.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }
}

/// Why a run stopped without a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// All requested iterations were done.
    MaxIterations,
    /// The stopping tolerance was met at this iteration.
    Converged {
        /// The iteration at which the tolerance was met.
        iteration: usize,
    },
    /// The run's observer asked to stop after this iteration (see
    /// [`Algorithm::solve_observed`](crate::Algorithm::solve_observed)); the trace ends with it.
    Stopped {
        /// The last iteration done.
        iteration: usize,
    },
}

/// The outcome of a run: the final point, why it stopped, and the full trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// Why the run stopped.
    pub status: Status,
    /// One record per iteration, starting with the start point.
    pub trace: Vec<Record>,
    /// What the run found doubtful about its settings, e.g. a lower step too large for the lower level's
    /// curvature at the start (`α · L_G ≥ 2`). Empty when nothing was found.
    pub warnings: Vec<String>,
    /// What the run chose that was not given, e.g. the lower step `1/L_G` when the algorithm had none.
    pub notes: Vec<String>,
    /// For each record of the trace, the wall time in seconds the algorithm's iterations took up to it (the
    /// metrics of the records excluded): the time axis of convergence plots.
    pub seconds: Vec<f64>,
}

impl Run {
    /// The last record (the start point if no iteration was done).
    pub fn last(&self) -> &Record {
        self.trace.last().expect("a run always records its start point")
    }

    /// The final upper variable.
    pub fn x(&self) -> &DVector<f64> {
        &self.last().x
    }

    /// The final lower variable.
    pub fn y(&self) -> &DVector<f64> {
        &self.last().y
    }

    /// The number of iterations done (the iteration of the last record).
    pub fn iterations(&self) -> usize {
        self.last().iteration
    }
}
