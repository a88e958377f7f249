//! Diagnostics: what is wrong with a problem text, where, and how to fix it.

use std::fmt;

use crate::ast::Span;

/// One error in a problem text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The byte range of the offending text.
    pub span: Span,
    /// What is wrong, lowercase, quoting the user's syntax in backticks.
    pub message: String,
    /// How to fix it, when there is a likely fix.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error at `span` without a hint.
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Diagnostic { span, message: message.into(), hint: None }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The message followed by the hint, as one text (what the macro shows).
    pub fn text(&self) -> String {
        match &self.hint {
            Some(h) => format!("{}\n  = help: {h}", self.message),
            None => self.message.clone(),
        }
    }

    /// Renders the diagnostic as rustc does: `error: message`, then `--> file:line:col`, the source line and a
    /// caret under the offending text, and the hint.
    ///
    /// ```
    /// let text = "problem P { upper x: real; lower y: real; minimize upper: x; minimize lower: z; }";
    /// let errors = bilevel_dsl::compile(text).unwrap_err();
    /// let shown = errors[0].render("p.bl", text);
    /// assert!(shown.starts_with("error: cannot find `z` in this problem\n --> p.bl:1:78\n"), "{shown}");
    /// ```
    pub fn render(&self, file: &str, source: &str) -> String {
        format!("error: {}", self.located(file, source))
    }

    /// [`render`](Self::render) without the leading `error: ` (for a caller that adds its own, such as
    /// `compile_error!`).
    pub fn located(&self, file: &str, source: &str) -> String {
        let (line, col) = line_col(source, self.span.start);
        let text = source.lines().nth(line - 1).unwrap_or("");
        let width = source[self.span.start.min(source.len())..self.span.end.min(source.len())]
            .lines()
            .next()
            .map_or(1, |s| s.chars().count().max(1));
        let gutter = " ".repeat(line.to_string().len());
        let mut out = format!(
            "{}\n{gutter}--> {file}:{line}:{col}\n{gutter} |\n{line} | {text}\n{gutter} | {}{}",
            self.message,
            " ".repeat(col - 1),
            "^".repeat(width)
        );
        if let Some(h) = &self.hint {
            out.push_str(&format!("\n{gutter} = help: {h}"));
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// The 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// How many diagnostics a text's errors are shown with (the macro, the tool, the Python package): past it, the
/// rest are counted, not rendered, so that a file with thousands of mistakes is answered at once.
pub const MAX_SHOWN: usize = 50;

/// The diagnostics to show of `all` (the first [`MAX_SHOWN`], in source order), and a last line saying how many
/// more there are, if any.
///
/// ```
/// use bilevel_dsl::diag::{shown, MAX_SHOWN};
/// let text = "problem P { upper x: real; lower y: real; minimize upper: x; minimize lower: z; }";
/// let one = bilevel_dsl::compile(text).unwrap_err();
/// let many: Vec<_> = std::iter::repeat(one[0].clone()).take(MAX_SHOWN + 7).collect();
/// let (first, rest) = shown(&many);
/// assert_eq!(first.len(), MAX_SHOWN);
/// assert_eq!(rest.as_deref(), Some("and 7 more errors (the first 50 are shown; mend them and check again)"));
/// assert_eq!(shown(&one).1, None);
/// ```
pub fn shown(all: &[Diagnostic]) -> (&[Diagnostic], Option<String>) {
    match all.len().checked_sub(MAX_SHOWN) {
        Some(more) if more > 0 => {
            let noun = if more == 1 { "error" } else { "errors" };
            let rest = format!("and {more} more {noun} (the first {MAX_SHOWN} are shown; mend them and check again)");
            (&all[..MAX_SHOWN], Some(rest))
        }
        _ => (all, None),
    }
}
