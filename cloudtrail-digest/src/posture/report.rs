//! The posture report: per trail (and for the account), one result per check, each with
//! its status, why, the evidence it judged, the remediation and its mappings.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::facts::Unknown;

/// The version of the posture report's shape.
pub const POSTURE_SCHEMA_VERSION: u32 = 1;

/// How much a failing check matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckSeverity {
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical: integrity cannot be proven at all.
    Critical,
}

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// The practice is in place.
    Pass,
    /// It could not be told (access denied, another account, not applicable).
    Unknown,
    /// It is not.
    Fail,
}

/// The benchmarks a check answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Mappings {
    /// CIS AWS Foundations Benchmark recommendations, as `vVERSION NUMBER`.
    pub cis: Vec<String>,
    /// AWS Security Hub control ids.
    pub security_hub: Vec<String>,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Check {
    /// The stable id (`log-file-validation`).
    pub id: String,
    /// What it checks.
    pub title: String,
    /// How much a failure matters.
    pub severity: CheckSeverity,
    /// The outcome.
    pub status: CheckStatus,
    /// Why it is unknown, when it is.
    pub unknown: Option<Unknown>,
    /// What fails, one sentence each; and notes where practices conflict.
    pub findings: Vec<String>,
    /// The values from AWS it judged.
    pub evidence: serde_json::Value,
    /// How to fix it (an AWS CLI command).
    pub remediation: String,
    /// The benchmarks it answers.
    pub mappings: Mappings,
}

/// The checks of one trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct TrailPosture {
    /// `TrailARN`.
    pub arn: String,
    /// `Name`.
    pub name: String,
    /// `HomeRegion`.
    pub home_region: String,
    /// Its checks.
    pub checks: Vec<Check>,
}

/// Counts of check outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct CheckCounts {
    /// Passed.
    pub pass: u64,
    /// Failed.
    pub fail: u64,
    /// Unknown.
    pub unknown: u64,
}

/// The posture of an account's trails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct PostureReport {
    /// [`POSTURE_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The version of the library that wrote it.
    pub tool_version: String,
    /// The account examined, when known.
    pub account_id: Option<String>,
    /// When the facts were read.
    pub read_at: DateTime<Utc>,
    /// The worst outcome: fail, else unknown, else pass.
    pub status: CheckStatus,
    /// Counts over every check.
    pub totals: CheckCounts,
    /// Checks of the account as a whole (every region covered).
    pub account_checks: Vec<Check>,
    /// Each trail's checks.
    pub trails: Vec<TrailPosture>,
}

impl PostureReport {
    /// Every check, the account's first.
    pub fn checks(&self) -> impl Iterator<Item = &Check> {
        self.account_checks
            .iter()
            .chain(self.trails.iter().flat_map(|t| &t.checks))
    }
}
