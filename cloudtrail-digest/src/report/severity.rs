//! How verdicts count: the severity scale and counts of verdicts.

use serde::{Deserialize, Serialize};

/// How a verdict counts toward the outcome of a run, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Verified, or nothing to verify.
    Valid,
    /// Not verified, without evidence of tampering: coverage is incomplete.
    Incomplete,
    /// Could not be checked (a read failure other than "not found"): neither valid nor
    /// tampered.
    Unchecked,
    /// An integrity finding.
    Invalid,
}

/// Counts of verdicts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Counts {
    /// Valid.
    pub valid: u64,
    /// Integrity findings.
    pub invalid: u64,
    /// Not verified: coverage incomplete (for log files, no verified digest covers them).
    pub unverified: u64,
    /// Could not be read.
    pub unchecked: u64,
    /// Log files whose digest is not due yet.
    #[serde(default)]
    pub pending: u64,
}

impl Counts {
    /// Counts one more verdict of `severity`.
    pub(crate) fn add(&mut self, severity: Severity) {
        match severity {
            Severity::Valid => self.valid += 1,
            Severity::Invalid => self.invalid += 1,
            Severity::Incomplete => self.unverified += 1,
            Severity::Unchecked => self.unchecked += 1,
        }
    }

    /// Every verdict counted.
    pub fn total(&self) -> u64 {
        self.valid + self.invalid + self.unverified + self.unchecked + self.pending
    }

    /// The worst severity counted (valid when nothing is).
    pub fn severity(&self) -> Severity {
        [
            (self.invalid, Severity::Invalid),
            (self.unchecked, Severity::Unchecked),
            (self.unverified, Severity::Incomplete),
        ]
        .into_iter()
        .find(|(n, _)| *n > 0)
        .map_or(Severity::Valid, |(_, s)| s)
    }

    /// Adds every count of `other`.
    pub(crate) fn merge(&mut self, other: &Self) {
        self.valid += other.valid;
        self.invalid += other.invalid;
        self.unverified += other.unverified;
        self.unchecked += other.unchecked;
        self.pending += other.pending;
    }
}
