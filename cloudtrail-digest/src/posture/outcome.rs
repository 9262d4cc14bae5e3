//! What one check concluded, before the catalogue names it.

use serde_json::Value;

use super::facts::{Known, Unknown};
use super::report::CheckStatus;

/// A check's conclusion: its status, why it is unknown, what fails, and the evidence.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outcome {
    pub(crate) status: CheckStatus,
    pub(crate) unknown: Option<Unknown>,
    pub(crate) findings: Vec<String>,
    pub(crate) evidence: Value,
}

impl Outcome {
    /// Fail with the findings, if there are any; else pass.
    pub(crate) fn judge(findings: Vec<String>, evidence: Value) -> Self {
        let status = if findings.is_empty() {
            CheckStatus::Pass
        } else {
            CheckStatus::Fail
        };
        Self {
            status,
            unknown: None,
            findings,
            evidence,
        }
    }

    /// Not known, and why.
    pub(crate) fn unknown(why: Unknown, evidence: Value) -> Self {
        Self {
            status: CheckStatus::Unknown,
            unknown: Some(why),
            findings: Vec::new(),
            evidence,
        }
    }

    /// Adds a note (a finding that does not fail the check).
    pub(crate) fn note(mut self, note: impl Into<String>) -> Self {
        self.findings.push(note.into());
        self
    }
}

/// The fact, or the outcome that it is unknown.
pub(crate) fn known<'a, T>(fact: &'a Known<T>, evidence: &Value) -> Result<&'a T, Outcome> {
    fact.as_ref()
        .map_err(|why| Outcome::unknown(why.clone(), evidence.clone()))
}

/// The fact a trail may lack (`None`: it has no such thing), or the outcome that it is
/// unknown.
pub(crate) fn known_opt<'a, T>(
    fact: Option<&'a Known<T>>,
    evidence: &Value,
) -> Result<Option<&'a T>, Outcome> {
    fact.map(|f| known(f, evidence)).transpose()
}
