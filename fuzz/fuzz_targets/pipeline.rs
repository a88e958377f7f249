//! Any text through the whole front end: parse → check → differentiate → generate Rust. Every input must give
//! code or diagnostics; a panic, a stack overflow, a hang (libFuzzer's `-timeout`) or running out of memory
//! (`-rss_limit_mb`) is a finding. Run from the repository root:
//!
//! ```text
//! cargo +nightly fuzz run pipeline fuzz/corpus/pipeline fuzz/seeds -- -timeout=20 -rss_limit_mb=4096 -dict=fuzz/pipeline.dict
//! ```
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match bilevel_dsl::compile(text) {
        Ok(model) => {
            let krate: proc_macro2::TokenStream = "::bilevel".parse().expect("a path");
            // Generated code or a diagnostic at a position inside the text; never a panic.
            if let Err(d) = bilevel_dsl::generate(&model, &krate) {
                assert!(d.span.end <= text.len(), "a diagnostic outside the text: {d:?}");
            }
        }
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty(), "an error without a diagnostic");
            for d in &diagnostics {
                assert!(d.span.start <= d.span.end && d.span.end <= text.len(), "a span outside the text: {d:?}");
                assert!(!d.message.contains("internal error"), "{}", d.message);
            }
        }
    }
});
