//! The problem text of a macro invocation: rebuilt from the Rust tokens, remembering the span of every token so
//! that an error found at a byte offset of the text points at the user's token (decision 1 of DESIGN.md).

use std::ops::Range;

use proc_macro2::{Delimiter, Punct, Spacing, Span, TokenStream, TokenTree};

/// Source text rebuilt from tokens, with the span of each token's bytes.
#[derive(Debug)]
pub struct SourceText {
    /// The text: tokens separated by one space (none after a joined punctuation such as the first `.` of `..`).
    pub text: String,
    tokens: Vec<(Range<usize>, Span)>,
}

impl SourceText {
    /// Rebuilds the text of a token stream. Doc comments, which reach a macro as `#[doc = "..."]` attributes, are
    /// turned back into `///` lines.
    pub fn from_tokens(tokens: TokenStream) -> Self {
        let mut s = SourceText { text: String::new(), tokens: Vec::new() };
        s.walk(tokens);
        s
    }

    fn push(&mut self, text: &str, span: Span, space: bool) {
        let start = self.text.len();
        self.text.push_str(text);
        self.tokens.push((start..self.text.len(), span));
        if space {
            self.text.push(' ');
        }
    }

    fn walk(&mut self, tokens: TokenStream) {
        let mut iter = tokens.into_iter().peekable();
        while let Some(tt) = iter.next() {
            match tt {
                TokenTree::Punct(p) if p.as_char() == '#' => {
                    if let Some(TokenTree::Group(g)) = iter.peek() {
                        if let Some(doc) = doc_attribute(g) {
                            let span = g.span();
                            iter.next();
                            for line in doc.lines() {
                                self.push(&format!("///{line}"), span, false);
                                self.text.push('\n');
                            }
                            continue;
                        }
                    }
                    self.punct(&p);
                }
                TokenTree::Punct(p) => self.punct(&p),
                TokenTree::Ident(i) => self.push(&i.to_string(), i.span(), true),
                TokenTree::Literal(l) => self.push(&l.to_string(), l.span(), true),
                TokenTree::Group(g) => {
                    let (open, close) = match g.delimiter() {
                        Delimiter::Parenthesis => ("(", ")"),
                        Delimiter::Brace => ("{", "}"),
                        Delimiter::Bracket => ("[", "]"),
                        Delimiter::None => ("", ""),
                    };
                    if !open.is_empty() {
                        self.push(open, g.span_open(), true);
                    }
                    self.walk(g.stream());
                    if !close.is_empty() {
                        self.push(close, g.span_close(), true);
                    }
                }
            }
        }
    }

    fn punct(&mut self, p: &Punct) {
        self.push(&p.as_char().to_string(), p.span(), p.spacing() == Spacing::Alone);
    }

    /// The spans of the first and last tokens that a byte range of the text covers (the nearest token when the
    /// range covers none, e.g. at the end of the input).
    pub fn spans(&self, range: Range<usize>) -> (Span, Span) {
        let covered: Vec<&Span> = self
            .tokens
            .iter()
            .filter(|(r, _)| r.start < range.end.max(range.start + 1) && range.start < r.end)
            .map(|(_, s)| s)
            .collect();
        if let (Some(first), Some(last)) = (covered.first(), covered.last()) {
            return (**first, **last);
        }
        let near = self.tokens.iter().find(|(r, _)| r.start >= range.start).or(self.tokens.last());
        let span = near.map_or_else(Span::call_site, |(_, s)| *s);
        (span, span)
    }
}

/// The text of a `[doc = "..."]` attribute body.
fn doc_attribute(group: &proc_macro2::Group) -> Option<String> {
    if group.delimiter() != Delimiter::Bracket {
        return None;
    }
    let mut it = group.stream().into_iter();
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(TokenTree::Ident(d)), Some(TokenTree::Punct(eq)), Some(TokenTree::Literal(lit)), None)
            if d == "doc" && eq.as_char() == '=' =>
        {
            let lit: syn::LitStr = syn::parse2(TokenTree::Literal(lit).into()).ok()?;
            Some(lit.value())
        }
        _ => None,
    }
}
