//! Everything the commands print: the text report, the JSON report, and the one sanitizer
//! for every line that carries data from outside.

mod inputs;
mod json;
mod posture;
pub(crate) mod sanitize;
mod text;
mod verdict;

pub(crate) use inputs::Inputs;
pub(crate) use json::json;
pub(crate) use posture::{posture_json, posture_text};
pub(crate) use text::text;
