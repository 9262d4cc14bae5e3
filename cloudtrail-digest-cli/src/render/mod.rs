//! Everything the commands print: the text report, the JSON report, and the one sanitizer
//! for every line that carries data from outside.

mod closing;
mod html;
mod inputs;
mod json;
#[cfg(feature = "aws")]
mod posture;
pub(crate) mod sanitize;
mod text;
mod verdict;

pub(crate) use closing::{exit_code, verdict_block};
pub(crate) use html::html;
pub(crate) use inputs::Inputs;
pub(crate) use json::{json, jsonl};
#[cfg(feature = "aws")]
pub(crate) use posture::{posture_json, posture_text};
pub(crate) use text::text;

/// Fails unless `file` under `schema/` is `schema` as committed (`BLESS=1` rewrites it after
/// a change that is meant).
#[cfg(test)]
pub(crate) fn assert_committed_schema(schema: &schemars::Schema, file: &str) {
    let mut text = serde_json::to_string_pretty(schema).unwrap();
    text.push('\n');
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../schema")
        .join(file);
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{} is not the schema of the output: run BLESS=1 cargo test -p cloudtrail-digest-cli schema",
        path.display()
    );
}
