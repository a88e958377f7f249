//! [`Method`]: any of the algorithms, chosen at run time.

use std::ops::ControlFlow;

use crate::algorithm::Algorithm;
use crate::error::SolveResult;
use crate::matrix_free::MatrixFreeProblem;
use crate::{Bda, BgsOpt, Dpbg, Galet, Metrics, Soba, TwoLoop};

/// One of the algorithms, for lists of runs to compare (the trait [`Algorithm`] has a generic method, so it
/// cannot be a trait object).
///
/// ```
/// use bilevel_runtime::{Algorithm, Bda, BgsOpt, Method};
/// let methods = [Method::from(BgsOpt::itd(5)), Method::from(Bda::default())];
/// assert_eq!(methods.map(|m| m.name()), ["itd".to_string(), "bda".to_string()]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Method {
    /// BGS-Opt: `itd`, `rhg`, `truncated-itd`, `corrected-itd`, `aid`.
    Bgs(BgsOpt),
    /// BDA.
    Bda(Bda),
    /// GALET.
    Galet(Galet),
    /// DPBG.
    Dpbg(Dpbg),
    /// SOBA, SABA and SRBA (stochastic, single loop).
    Soba(Soba),
    /// StocBiO and AmIGO (stochastic, inner loops).
    TwoLoop(TwoLoop),
}

impl From<TwoLoop> for Method {
    fn from(a: TwoLoop) -> Self {
        Method::TwoLoop(a)
    }
}

impl From<Soba> for Method {
    fn from(a: Soba) -> Self {
        Method::Soba(a)
    }
}

impl From<BgsOpt> for Method {
    fn from(a: BgsOpt) -> Self {
        Method::Bgs(a)
    }
}

impl From<Bda> for Method {
    fn from(a: Bda) -> Self {
        Method::Bda(a)
    }
}

impl From<Galet> for Method {
    fn from(a: Galet) -> Self {
        Method::Galet(a)
    }
}

impl From<Dpbg> for Method {
    fn from(a: Dpbg) -> Self {
        Method::Dpbg(a)
    }
}

/// Calls `$body` with `$a` bound to the wrapped algorithm.
macro_rules! each {
    ($m:expr, $a:ident => $body:expr) => {
        match $m {
            Method::Bgs($a) => $body,
            Method::Bda($a) => $body,
            Method::Galet($a) => $body,
            Method::Dpbg($a) => $body,
            Method::Soba($a) => $body,
            Method::TwoLoop($a) => $body,
        }
    };
}

impl Method {
    /// The same algorithm keeping these iterates in its trace.
    ///
    /// ```
    /// use bilevel_runtime::{BgsOpt, Method, Metrics};
    /// let m = Method::from(BgsOpt::itd(5)).with_metrics(Metrics::End);
    /// assert_eq!(m.metrics(), Metrics::End);
    /// ```
    pub fn with_metrics(mut self, metrics: Metrics) -> Method {
        each!(&mut self, a => a.metrics = metrics);
        self
    }

    /// Which iterates the trace keeps.
    pub fn metrics(&self) -> Metrics {
        each!(self, a => a.metrics)
    }
}

impl Algorithm for Method {
    fn name(&self) -> String {
        each!(self, a => a.name())
    }

    fn settings(&self) -> String {
        each!(self, a => a.settings())
    }

    fn solve_observed<P: MatrixFreeProblem>(
        &self,
        problem: &P,
        x0: &[f64],
        y0: &[f64],
        observer: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
    ) -> SolveResult {
        each!(self, a => a.solve_observed(problem, x0, y0, observer))
    }
}
