//! The rule that turns the hypergradient `d_k` into the upper step: plain projected gradient (the papers' rule),
//! heavy-ball momentum, or Adam (what the papers use on real data). The box is enforced after every step.

/// How the upper variable moves along the hypergradient `d_k`, before the projection onto the box:
/// `x_k = Π_X(x_{k-1} − γ s_k)` with `s_k` below.
///
/// ```
/// use bilevel_runtime::{BgsOpt, UpperOptimizer};
/// let itd = BgsOpt { upper_optimizer: UpperOptimizer::ADAM, upper_step: 1e-2, ..BgsOpt::itd(10) };
/// assert!(itd.upper_optimizer.describe().starts_with("adam"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum UpperOptimizer {
    /// `s_k = d_k` (the update rules).
    #[default]
    Gradient,
    /// Heavy ball: `s_k = β s_{k-1} + d_k`, `s_0 = 0`.
    Momentum {
        /// The momentum `β ∈ [0, 1)`.
        beta: f64,
    },
    /// Adam (Kingma & Ba 2015): `m_k = β₁ m_{k-1} + (1 − β₁) d_k`, `v_k = β₂ v_{k-1} + (1 − β₂) d_k²`,
    /// `s_k = m̂_k / (√v̂_k + ε)` with the bias corrections `m̂_k = m_k / (1 − β₁^k)`, `v̂_k = v_k / (1 − β₂^k)`.
    /// Each component moves by about `γ` per step whatever the scale of its gradient.
    Adam {
        /// `β₁ ∈ [0, 1)`.
        beta1: f64,
        /// `β₂ ∈ [0, 1)`.
        beta2: f64,
        /// `ε > 0`.
        eps: f64,
    },
}

impl UpperOptimizer {
    /// Adam with its usual constants `β₁ = 0.9`, `β₂ = 0.999`, `ε = 1e-8`.
    pub const ADAM: UpperOptimizer = UpperOptimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 };

    /// A short description for settings lines (empty for the plain gradient).
    pub fn describe(&self) -> String {
        match self {
            UpperOptimizer::Gradient => String::new(),
            UpperOptimizer::Momentum { beta } => format!("momentum β={beta}"),
            UpperOptimizer::Adam { beta1, beta2, eps } => format!("adam β1={beta1} β2={beta2} ε={eps:e}"),
        }
    }

    /// Checks the constants.
    pub(crate) fn check(&self) -> Result<(), String> {
        let unit = |name: &str, v: f64| {
            if (0.0..1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("the upper optimizer's {name} must be in [0, 1), not {v}"))
            }
        };
        match *self {
            UpperOptimizer::Gradient => Ok(()),
            UpperOptimizer::Momentum { beta } => unit("β", beta),
            UpperOptimizer::Adam { beta1, beta2, eps } => {
                unit("β1", beta1)?;
                unit("β2", beta2)?;
                if eps.is_finite() && eps > 0.0 {
                    Ok(())
                } else {
                    Err(format!("the upper optimizer's ε must be finite and positive, not {eps}"))
                }
            }
        }
    }
}

/// A step for a settings line: its value, or `1/L_G` when it is chosen from the curvature.
pub(crate) fn step_text(step: Option<f64>) -> String {
    step.map_or_else(|| "1/L_G".into(), |v| v.to_string())
}

/// A settings line with the optimizer's description appended (nothing for the plain gradient).
pub(crate) fn with_optimizer(settings: String, rule: &UpperOptimizer) -> String {
    match rule {
        UpperOptimizer::Gradient => settings,
        other => format!("{settings} {}", other.describe()),
    }
}

/// What an upper optimizer carries between iterations, allocated once per run.
pub(crate) struct UpperState {
    first: Vec<f64>,
    second: Vec<f64>,
    steps: i32,
}

impl UpperState {
    pub fn new(n: usize) -> UpperState {
        UpperState { first: vec![0.0; n], second: vec![0.0; n], steps: 0 }
    }

    /// Writes the step direction `s_k` for the hypergradient `d` into `out`.
    #[inline]
    pub fn direction(&mut self, rule: &UpperOptimizer, d: &[f64], out: &mut [f64]) {
        self.steps = self.steps.saturating_add(1);
        match *rule {
            UpperOptimizer::Gradient => out.copy_from_slice(d),
            UpperOptimizer::Momentum { beta } => {
                for ((m, g), o) in self.first.iter_mut().zip(d).zip(out.iter_mut()) {
                    *m = beta * *m + g;
                    *o = *m;
                }
            }
            UpperOptimizer::Adam { beta1, beta2, eps } => {
                let (c1, c2) = (1.0 - beta1.powi(self.steps), 1.0 - beta2.powi(self.steps));
                for (((m, v), g), o) in self.first.iter_mut().zip(self.second.iter_mut()).zip(d).zip(out.iter_mut()) {
                    *m = beta1 * *m + (1.0 - beta1) * g;
                    *v = beta2 * *v + (1.0 - beta2) * g * g;
                    *o = (*m / c1) / ((*v / c2).sqrt() + eps);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam_moves_each_component_by_about_the_step_and_momentum_accumulates() {
        let mut state = UpperState::new(2);
        let mut out = [0.0; 2];
        state.direction(&UpperOptimizer::ADAM, &[1e-6, -300.0], &mut out);
        assert!((out[0] - 1.0).abs() < 1e-2 && (out[1] + 1.0).abs() < 1e-9, "{out:?}");
        let mut state = UpperState::new(1);
        for _ in 0..3 {
            state.direction(&UpperOptimizer::Momentum { beta: 0.5 }, &[1.0], &mut out[..1]);
        }
        assert_eq!(out[0], 1.75);
        assert!(UpperOptimizer::Momentum { beta: 1.0 }.check().is_err());
    }
}
