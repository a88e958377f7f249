//! The pest parser and the conversion of its parse tree into the [`ast`](crate::ast).

use pest::iterators::Pair;
use pest::Parser;

use crate::ast::*;
use crate::diag::Diagnostic;
use grammar::{Grammar, Rule};

mod grammar {
    #![allow(missing_docs)]
    /// The parser generated from `grammar.pest`.
    #[derive(pest_derive::Parser)]
    #[grammar = "grammar.pest"]
    pub struct Grammar;
}

/// Parses a whole problem text.
pub fn parse(source: &str) -> Result<Problem, Diagnostic> {
    check_text_direction(source)?;
    check_size(source)?;
    pest::set_error_detail(true);
    let mut pairs = Grammar::parse(Rule::file, source).map_err(|e| syntax_error(source, e))?;
    let file = pairs.next().expect("the file rule matched");
    let problem = file.into_inner().next().expect("a file holds one problem");
    check_literals(problem.clone())?;
    Ok(build_problem(problem))
}

/// Number literals an `f64` cannot hold (`1e999` would become infinity, `1e-999` zero) and sizes beyond `usize`
/// are errors at the literal, reported as written.
fn check_literals(problem: Pair<Rule>) -> Result<(), Diagnostic> {
    for pair in problem.into_inner().flatten() {
        let (text, at) = (pair.as_str(), span(&pair));
        match pair.as_rule() {
            Rule::number => {
                let value: f64 = text.parse().unwrap_or(f64::NAN);
                let nonzero = text.chars().any(|c| c.is_ascii_digit() && c != '0')
                    && !text.split(['e', 'E']).next().is_some_and(|m| m.chars().all(|c| c == '0' || c == '.'));
                if !value.is_finite() {
                    let msg = format!("the number `{}` is too large for a 64-bit float", shorten(text));
                    return Err(Diagnostic::new(at, msg).hint("the largest finite value is about 1.8e308"));
                }
                if value == 0.0 && nonzero {
                    let msg = format!("the number `{}` is too small for a 64-bit float: it would be 0", shorten(text));
                    return Err(Diagnostic::new(at, msg).hint("the smallest positive value is about 4.9e-324"));
                }
            }
            Rule::int if text.parse::<usize>().is_err() => {
                let msg = format!("the size `{}` is too large", shorten(text));
                return Err(Diagnostic::new(at, msg).hint(format!("sizes are at most {}", usize::MAX)));
            }
            _ => {}
        }
    }
    Ok(())
}

/// A literal as written, its middle elided if it is very long.
fn shorten(text: &str) -> String {
    match text.len() {
        0..=40 => text.to_string(),
        n => format!("{}…{} ({n} characters)", &text[..16], &text[n - 8..]),
    }
}

/// The most brackets that may be open at once.
pub const MAX_NESTING: usize = 256;
/// The most operators one declaration or objective may have.
pub const MAX_OPERATORS: usize = 5000;
/// The most commas one declaration or objective may have (the entries of a literal, the arguments of calls): a
/// literal of a million numbers took seconds to parse before any other check.
pub const MAX_COMMAS: usize = 100_000;

/// The invisible characters that change the direction text is displayed in, with their names.
const BIDI_CONTROLS: [(char, &str); 9] = [
    ('\u{202A}', "LEFT-TO-RIGHT EMBEDDING"),
    ('\u{202B}', "RIGHT-TO-LEFT EMBEDDING"),
    ('\u{202C}', "POP DIRECTIONAL FORMATTING"),
    ('\u{202D}', "LEFT-TO-RIGHT OVERRIDE"),
    ('\u{202E}', "RIGHT-TO-LEFT OVERRIDE"),
    ('\u{2066}', "LEFT-TO-RIGHT ISOLATE"),
    ('\u{2067}', "RIGHT-TO-LEFT ISOLATE"),
    ('\u{2068}', "FIRST STRONG ISOLATE"),
    ('\u{2069}', "POP DIRECTIONAL ISOLATE"),
];

/// Rejects a text with a bidirectional control character anywhere, comments included: it makes an editor show
/// the text in another order than the one it is read in ("Trojan source"; rustc denies them too). The error is
/// at the first one and counts the others.
fn check_text_direction(source: &str) -> Result<(), Diagnostic> {
    let name = |c: char| BIDI_CONTROLS.iter().find(|(b, _)| *b == c).map(|(_, n)| *n);
    let mut found = source.char_indices().filter(|(_, c)| name(*c).is_some());
    let Some((at, c)) = found.next() else { return Ok(()) };
    let more = found.count();
    let also = match more {
        0 => String::new(),
        1 => " (and 1 more)".to_string(),
        k => format!(" (and {k} more)"),
    };
    let msg = format!(
        "the invisible character U+{:04X} ({}) changes the order this text is shown in{also}",
        u32::from(c),
        name(c).expect("found by name")
    );
    let hint = "what an editor shows is then not what is read (\"Trojan source\"); delete the character";
    Err(Diagnostic::new(at..at + c.len_utf8(), msg).hint(hint))
}

/// Rejects texts whose expressions are so deep that parsing and checking them (which recurse on the nesting)
/// could exhaust the stack: more than [`MAX_NESTING`] open brackets, or more than [`MAX_OPERATORS`] operators in
/// one statement (a chain `a + b + …`, `a ^ b ^ …` or `not not …` is as deep as it is long). Word operators
/// (`not`, `and`, `or`, `if`) count; comments do not. Also statements with more than [`MAX_COMMAS`] commas,
/// whose parsing alone would take seconds.
fn check_size(source: &str) -> Result<(), Diagnostic> {
    let (mut depth, mut operators, mut commas, mut statement_start) = (0usize, 0usize, 0usize, None::<usize>);
    let bytes = source.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'/' && bytes.get(i + 1) == Some(&b'/') {
            i = source[i..].find('\n').map_or(bytes.len(), |k| i + k + 1);
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let end =
                source[i..].find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_')).map_or(bytes.len(), |k| i + k);
            if matches!(&source[i..end], "not" | "and" | "or" | "if") {
                operators += 1;
            }
            statement_start.get_or_insert(i);
            i = end;
        } else {
            match c {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                b';' => {
                    (operators, commas) = (0, 0);
                    statement_start = None;
                }
                b',' => commas += 1,
                b'+' | b'-' | b'*' | b'/' | b'^' | b'<' | b'>' | b'=' | b'!' => operators += 1,
                _ => {}
            }
            if !(c.is_ascii_whitespace() || c == b';') {
                statement_start.get_or_insert(i);
            }
            i += 1;
        }
        if depth > MAX_NESTING {
            let msg = format!("brackets nest deeper than {MAX_NESTING} levels");
            return Err(Diagnostic::new(i - 1..i, msg).hint("name intermediate results with `let`"));
        }
        if operators > MAX_OPERATORS {
            let msg = format!("this statement has more than {MAX_OPERATORS} operators");
            let hint = "split it into several `let`s, or use `sum(i in a..b: ...)` for long sums";
            return Err(Diagnostic::new(statement_start.unwrap_or(0)..i, msg).hint(hint));
        }
        if commas > MAX_COMMAS {
            let msg = format!("this statement has more than {MAX_COMMAS} commas (entries of a literal)");
            let hint = "give large constants as `data` (declared with `dim` sizes and attached at run time: a \
                        file with the tool's --data, an array in Rust or NumPy)";
            return Err(Diagnostic::new(statement_start.unwrap_or(0)..i, msg).hint(hint));
        }
    }
    Ok(())
}

/// The parts of a parse-tree node, without its keywords (they are tokens only to end at a word boundary).
fn parts(pair: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    pair.into_inner().filter(|p| keyword(p.as_rule()).is_none())
}

/// The text of a keyword token.
fn keyword(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::kw_problem => "problem",
        Rule::kw_dim => "dim",
        Rule::kw_data => "data",
        Rule::kw_real => "real",
        Rule::kw_in => "in",
        Rule::kw_param => "param",
        Rule::kw_const => "const",
        Rule::kw_let => "let",
        Rule::kw_minimize => "minimize",
        Rule::kw_start => "start",
        Rule::kw_if => "if",
        Rule::kw_then => "then",
        Rule::kw_else => "else",
        Rule::kw_and => "and",
        Rule::kw_or => "or",
        _ => return None,
    })
}

fn span(pair: &Pair<Rule>) -> Span {
    pair.as_span().start()..pair.as_span().end()
}

fn ident(pair: Pair<Rule>) -> Ident {
    Ident { span: span(&pair), name: pair.as_str().to_string() }
}

fn build_problem(pair: Pair<Rule>) -> Problem {
    let mut docs = Vec::new();
    let mut name = None;
    let mut items = Vec::new();
    for p in parts(pair) {
        match p.as_rule() {
            Rule::doc => docs.push(doc_text(p)),
            Rule::ident => name = Some(ident(p)),
            Rule::item => items.push(build_item(p)),
            r => unreachable!("unexpected {r:?} in problem"),
        }
    }
    Problem { docs, name: name.expect("a problem has a name"), items }
}

fn doc_text(pair: Pair<Rule>) -> String {
    let text = pair.into_inner().next().map_or("", |t| t.as_str());
    text.strip_prefix(' ').unwrap_or(text).trim_end().to_string()
}

fn build_item(pair: Pair<Rule>) -> Item {
    let item_span = span(&pair);
    let mut docs = Vec::new();
    let mut kind = None;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::doc => docs.push(doc_text(p)),
            _ => kind = Some(build_item_kind(p)),
        }
    }
    Item { docs, kind: kind.expect("an item has a body"), span: item_span }
}

fn level(pair: &Pair<Rule>) -> Level {
    if pair.as_str() == "upper" {
        Level::Upper
    } else {
        Level::Lower
    }
}

fn build_item_kind(pair: Pair<Rule>) -> ItemKind {
    let rule = pair.as_rule();
    let mut inner = parts(pair);
    let mut next = || inner.next().expect("the grammar guarantees this part");
    match rule {
        Rule::dim_decl => ItemKind::Dim(inner.map(ident).collect()),
        Rule::data_decl => {
            let name = ident(next());
            let mut ty = next();
            let sparse = ty.as_rule() == Rule::sparse;
            if sparse {
                ty = next();
            }
            let value_span = inner.next().map(|v| span(&v));
            ItemKind::Data { name, type_span: span(&ty), shape: shape(ty), sparse, value_span }
        }
        Rule::var_decl => {
            let lv = level(&next());
            let name = ident(next());
            let shape = shape(next());
            let bounds = inner.next().map(|b| {
                let mut ends = parts(b);
                (build_expr(ends.next().expect("lo")), build_expr(ends.next().expect("hi")))
            });
            ItemKind::Var { level: lv, name, shape, bounds }
        }
        Rule::param_decl => ItemKind::Param { name: ident(next()), value: build_expr(next()) },
        Rule::const_decl => ItemKind::Const { name: ident(next()), value: build_expr(next()) },
        Rule::let_decl => ItemKind::Let { name: ident(next()), value: build_expr(next()) },
        Rule::objective => {
            let lv = next();
            ItemKind::Objective { level: level(&lv), level_span: span(&lv), expr: build_expr(next()) }
        }
        Rule::start_decl => ItemKind::Start(
            inner
                .map(|it| {
                    let mut parts = it.into_inner();
                    (ident(parts.next().expect("name")), build_expr(parts.next().expect("value")))
                })
                .collect(),
        ),
        r => unreachable!("unexpected {r:?} as an item"),
    }
}

/// The sizes of a type `real[a, b]`.
fn shape(ty: Pair<Rule>) -> Vec<Size> {
    parts(ty)
        .map(|size| {
            let p = size.into_inner().next().expect("a size is a number or a name");
            match p.as_rule() {
                Rule::int => Size::Fixed(p.as_str().parse().unwrap_or(usize::MAX), span(&p)),
                _ => Size::Named(ident(p)),
            }
        })
        .collect()
}

fn build_expr(pair: Pair<Rule>) -> Expr {
    let sp = span(&pair);
    let rule = pair.as_rule();
    let text = pair.as_str();
    let mut inner: Vec<Pair<Rule>> = parts(pair).collect();
    match rule {
        Rule::expr | Rule::primary => build_expr(inner.remove(0)),
        Rule::if_expr => {
            let mut it = inner.into_iter().map(build_expr);
            let (c, a, b) = (it.next().expect("c"), it.next().expect("a"), it.next().expect("b"));
            Expr { kind: ExprKind::If(Box::new(c), Box::new(a), Box::new(b)), span: sp }
        }
        Rule::or_expr => fold_same(inner, BinOp::Or),
        Rule::and_expr => fold_same(inner, BinOp::And),
        Rule::not_expr => {
            let operand = build_expr(inner.pop().expect("operand"));
            inner.iter().rev().fold(operand, |e, op| {
                let s = op.as_span().start()..e.span.end;
                Expr { kind: ExprKind::Not(Box::new(e)), span: s }
            })
        }
        Rule::cmp_expr | Rule::add_expr | Rule::mul_expr => fold_ops(inner),
        Rule::unary => {
            let operand = build_expr(inner.pop().expect("operand"));
            inner.iter().rev().fold(operand, |e, op| {
                let s = op.as_span().start()..e.span.end;
                Expr { kind: ExprKind::Neg(Box::new(e)), span: s }
            })
        }
        Rule::pow_expr => {
            let mut it = inner.into_iter().map(build_expr);
            let base = it.next().expect("base");
            match it.next() {
                Some(exp) => Expr { kind: ExprKind::Binary(BinOp::Pow, Box::new(base), Box::new(exp)), span: sp },
                None => base,
            }
        }
        Rule::postfix => {
            let mut it = inner.into_iter();
            let base = build_expr(it.next().expect("primary"));
            it.fold(base, |b, index| {
                let s = b.span.start..index.as_span().end();
                let i = build_expr(index.into_inner().next().expect("index expression"));
                Expr { kind: ExprKind::Index(Box::new(b), Box::new(i)), span: s }
            })
        }
        Rule::call => {
            let mut it = inner.into_iter();
            let f = ident(it.next().expect("function name"));
            Expr { kind: ExprKind::Call(f, it.map(build_expr).collect()), span: sp }
        }
        Rule::sum_range => {
            let mut it = inner.into_iter();
            let mean = it.next().expect("sum or mean").as_str() == "mean";
            let var = ident(it.next().expect("index"));
            let mut rest = it.map(build_expr);
            let (lo, hi, body) = (rest.next().expect("lo"), rest.next().expect("hi"), rest.next().expect("body"));
            let kind = ExprKind::Sum { mean, var, lo: Box::new(lo), hi: Box::new(hi), body: Box::new(body) };
            Expr { kind, span: sp }
        }
        Rule::vector => Expr { kind: ExprKind::Vector(inner.into_iter().map(build_expr).collect()), span: sp },
        // The grammar only lets digits, one `.` and an exponent through, so the number parses.
        Rule::number => Expr { kind: ExprKind::Num(text.parse().unwrap_or(f64::NAN)), span: sp },
        Rule::ident => Expr { kind: ExprKind::Name(text.to_string()), span: sp },
        r => unreachable!("unexpected {r:?} in an expression"),
    }
}

/// Builds a left-associated chain `a op b op c` whose operators are all `op`.
fn fold_same(operands: Vec<Pair<Rule>>, op: BinOp) -> Expr {
    let mut it = operands.into_iter().map(build_expr);
    let first = it.next().expect("one operand");
    it.fold(first, |a, b| {
        let s = a.span.start..b.span.end;
        Expr { kind: ExprKind::Binary(op, Box::new(a), Box::new(b)), span: s }
    })
}

/// Builds a left-associated chain `a op₁ b op₂ c` from operands and operator pairs.
fn fold_ops(parts: Vec<Pair<Rule>>) -> Expr {
    let mut it = parts.into_iter();
    let first = build_expr(it.next().expect("one operand"));
    let mut acc = first;
    while let (Some(op), Some(rhs)) = (it.next(), it.next()) {
        let op = match op.as_str() {
            "+" => BinOp::Add,
            "-" => BinOp::Sub,
            "*" => BinOp::Mul,
            "/" => BinOp::Div,
            "<" => BinOp::Lt,
            "<=" => BinOp::Le,
            ">" => BinOp::Gt,
            ">=" => BinOp::Ge,
            "==" => BinOp::Eq,
            _ => BinOp::Ne,
        };
        let rhs = build_expr(rhs);
        let s = acc.span.start..rhs.span.end;
        acc = Expr { kind: ExprKind::Binary(op, Box::new(acc), Box::new(rhs)), span: s };
    }
    acc
}

/// Turns pest's error into a diagnostic that lists what could come next in the user's terms.
fn syntax_error(source: &str, e: pest::error::Error<Rule>) -> Diagnostic {
    let pos = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let mut expected = std::collections::BTreeSet::new();
    if let Some(attempts) = e.parse_attempts() {
        for t in attempts.expected_tokens() {
            // pest does not export the token type; its text is enough. Skip character ranges (`a..z`),
            // built-in rules, whitespace and comments.
            let token = t.to_string();
            let range = token.chars().count() == 4 && token.get(1..3) == Some("..");
            let skip = range || token == "BUILTIN_RULE" || token.trim().is_empty() || token.starts_with("//");
            if !skip {
                expected.insert(format!("`{token}`"));
            }
        }
    }
    if let pest::error::ErrorVariant::ParsingError { positives, .. } = &e.variant {
        let name = |r: Rule| rule_name(r).map(String::from).or_else(|| keyword(r).map(|k| format!("`{k}`")));
        expected.extend(positives.iter().filter_map(|r| name(*r)));
    }
    let operators = ["`+`", "`-`", "`*`", "`/`", "`^`", "`<`", "`<=`", "`>`", "`>=`", "`==`", "`!=`", "`and`", "`or`"];
    if operators.iter().filter(|o| expected.contains(**o)).count() >= 3 {
        expected.retain(|t| !operators.contains(&t.as_str()) && t != "`[`");
        expected.insert("an operator".into());
    }
    let found = found_at(source, pos);
    let list: Vec<String> = expected.into_iter().collect();
    let message = match list.len() {
        0 => format!("unexpected {found}"),
        1 => format!("expected {}, found {found}", list[0]),
        _ => format!("expected one of {}, found {found}", list.join(", ")),
    };
    let end = (pos + found_len(source, pos)).max(pos);
    let semicolon = list.iter().any(|t| t == "`;`");
    let next_word = &source[pos..end];
    if let Some(missing) = missing_semicolon(source, pos, next_word, semicolon) {
        return missing;
    }
    let diag = Diagnostic::new(pos..end, message);
    if semicolon {
        diag.hint("every declaration and objective ends with `;`")
    } else if let Some(hint) = glued_keyword(next_word) {
        diag.hint(hint)
    } else {
        diag
    }
}

/// A statement that ended without `;` before the next one (`next_word` at `pos`), reported just after its last
/// token as rustc does, rather than at the next line's first word.
fn missing_semicolon(source: &str, pos: usize, next_word: &str, semicolon_expected: bool) -> Option<Diagnostic> {
    let before = end_of_previous_token(source, pos);
    let last = source[..before].chars().next_back()?;
    // pest does not list `;` before a doc comment (it tries the comment rules further on), so a doc comment after
    // the end of an expression or a type counts as a missing `;` too.
    let doc_next =
        source[pos..].starts_with("///") && (last.is_ascii_alphanumeric() || matches!(last, ')' | ']' | '_' | '.'));
    let statement_next = semicolon_expected && (STATEMENT_WORDS.contains(&next_word) || next_word == "}");
    if !(statement_next || doc_next) {
        return None;
    }
    let found = if doc_next { "///" } else { next_word };
    let at = before - last.len_utf8()..before;
    Some(
        Diagnostic::new(at, format!("expected `;`, found `{found}`"))
            .hint("add `;` here: every declaration and objective ends with `;`"),
    )
}

/// The words that begin a declaration or an objective.
const STATEMENT_WORDS: [&str; 9] = ["upper", "lower", "dim", "data", "param", "const", "let", "minimize", "start"];

/// The byte offset just after the last token before `pos`, skipping white space and comments.
fn end_of_previous_token(source: &str, pos: usize) -> usize {
    let mut at = pos;
    loop {
        at = source[..at].trim_end().len();
        let line_start = source[..at].rfind('\n').map_or(0, |i| i + 1);
        match source[line_start..at].find("//") {
            Some(c) if at > 0 => at = line_start + c,
            _ => return at,
        }
    }
}

/// A hint for a word that starts with a keyword glued to a name (`letz` for `let z`).
fn glued_keyword(word: &str) -> Option<String> {
    let keywords = ["problem", "minimize", "upper", "lower", "param", "const", "start", "real", "then", "else", "let"];
    let (k, rest) = keywords.iter().find_map(|k| Some((*k, word.strip_prefix(k)?)))?;
    let name = !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    name.then(|| format!("a keyword is a word of its own: did you mean `{k} {rest}`?"))
}

/// The user-facing name of a grammar rule that can appear in "expected ..." (None for internal rules).
fn rule_name(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::ident => "a name",
        Rule::number | Rule::int => "a number",
        Rule::expr | Rule::primary | Rule::unary | Rule::postfix => "an expression",
        Rule::item
        | Rule::var_decl
        | Rule::param_decl
        | Rule::const_decl
        | Rule::let_decl
        | Rule::objective
        | Rule::dim_decl
        | Rule::data_decl => {
            "a declaration (`upper`, `lower`, `dim`, `data`, `param`, `const`, `let`, `minimize`, `start`)"
        }
        Rule::level => "`upper` or `lower`",
        Rule::ty => "a type (`real`, `real[k]` or `real[k, l]`)",
        Rule::size => "a size (a number or a `dim`)",
        Rule::problem => "`problem`",
        Rule::EOI => "the end of the input",
        _ => return None,
    })
}

fn found_len(source: &str, pos: usize) -> usize {
    let rest = &source[pos.min(source.len())..];
    let word = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.').map(char::len_utf8).sum();
    match word {
        0 => rest.chars().next().map_or(0, char::len_utf8),
        n => n,
    }
}

fn found_at(source: &str, pos: usize) -> String {
    match found_len(source, pos) {
        0 => "the end of the input".into(),
        n => format!("`{}`", &source[pos..pos + n]),
    }
}
