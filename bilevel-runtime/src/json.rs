//! Minimal JSON writing for traces and result rows (numbers, strings, arrays; non-finite numbers become `null`).

use std::fmt::Write;

/// A JSON number, or `null` when not finite.
pub(crate) fn number(v: f64) -> String {
    if v.is_finite() {
        format!("{v:?}")
    } else {
        "null".into()
    }
}

/// A JSON string literal.
pub(crate) fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON array of numbers.
pub(crate) fn array<'a>(values: impl IntoIterator<Item = &'a f64>) -> String {
    let items: Vec<String> = values.into_iter().map(|v| number(*v)).collect();
    format!("[{}]", items.join(","))
}

/// A JSON object from already-encoded values.
pub(crate) fn object(fields: &[(&str, String)]) -> String {
    let items: Vec<String> = fields.iter().map(|(k, v)| format!("{}:{v}", string(k))).collect();
    format!("{{{}}}", items.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_numbers_strings_and_objects() {
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(1.0), "1.0");
        assert_eq!(number(f64::NAN), "null");
        assert_eq!(string("a \"b\"\n\u{1}"), "\"a \\\"b\\\"\\n\\u0001\"");
        assert_eq!(object(&[("x", array(&[1.0, -2.5]))]), "{\"x\":[1.0,-2.5]}");
    }
}
