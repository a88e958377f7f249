//! The `param` values of a problem evaluated from its text, settable by name.

use bilevel_dsl::Model;

/// Every `param` component, and where each `param` starts among them.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Params {
    /// Each `param` by name: its first component among `values` and its length.
    names: Vec<(String, usize, usize)>,
    pub values: Vec<f64>,
}

impl Params {
    /// The defaults of the model's params.
    pub fn new(model: &Model) -> Params {
        let names = model.params.iter().map(|p| (p.name.clone(), p.offset, p.default.len())).collect();
        Params { names, values: model.param_defaults() }
    }

    /// Sets `param` `name` to `values` (one value for a number, one per component for a vector).
    pub fn set(&mut self, name: &str, values: &[f64]) -> Result<(), String> {
        let Some(&(_, offset, len)) = self.names.iter().find(|(p, ..)| p == name) else {
            let known: Vec<String> = self.names.iter().map(|(p, ..)| format!("`{p}`")).collect();
            let known =
                if known.is_empty() { "it has none".to_string() } else { format!("it has {}", known.join(", ")) };
            return Err(format!("the problem has no param `{name}`: {known}"));
        };
        if values.len() != len {
            return Err(format!("param `{name}` has {len} component(s), not {}", values.len()));
        }
        self.values[offset..offset + len].copy_from_slice(values);
        Ok(())
    }

    /// The names, in declaration order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|(name, ..)| name.as_str())
    }
}
