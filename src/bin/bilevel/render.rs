//! Diagnostics of a problem file as rustc shows its own: `error: what`, ` --> file:line:col`, the source line
//! with the span underlined, and the hint (annotate-snippets, the renderer rustc uses).

use annotate_snippets::{Level, Renderer, Snippet};
use bilevel_dsl::Diagnostic;
use std::io::IsTerminal;

/// Every diagnostic of `text` (the contents of `file`), one after the other.
pub fn diagnostics(file: &str, text: &str, errors: &[Diagnostic]) -> String {
    let renderer = if std::io::stderr().is_terminal() { Renderer::styled() } else { Renderer::plain() };
    let (first, more) = bilevel_dsl::diag::shown(errors);
    let shown: Vec<String> = first
        .iter()
        .map(|d| {
            // A span at the very end (a missing `}`) still points at a character the snippet can show.
            let end = d.span.end.min(text.len());
            let start = d.span.start.min(end);
            let span = if start == end && end == text.len() && end > 0 { end - 1..end } else { start..end };
            // A span over a very long statement is underlined over its first words only, so that the renderer
            // can cut the line to the terminal's width around it.
            let span = span.start..span.end.min(clip(text, span.start, 60));
            let snippet = Snippet::source(text).origin(file).fold(true).annotation(Level::Error.span(span));
            let mut message = Level::Error.title(&d.message).snippet(snippet);
            if let Some(hint) = &d.hint {
                message = message.footer(Level::Help.title(hint));
            }
            renderer.render(message).to_string()
        })
        .collect();
    let count = match errors.len() {
        1 => "1 error".to_string(),
        n => format!("{n} errors"),
    };
    let more = more.map_or(String::new(), |m| format!("\n\nerror: {m}"));
    format!("{}{more}\n\nerror: {file} has {count}", shown.join("\n\n"))
}

/// The byte offset at most `chars` characters after `start`, and not past the end of its line.
fn clip(text: &str, start: usize, chars: usize) -> usize {
    let rest = &text[start..];
    let line = rest.find('\n').unwrap_or(rest.len());
    let width = rest.char_indices().nth(chars).map_or(rest.len(), |(i, _)| i);
    start + line.min(width).max(1.min(rest.len()))
}
