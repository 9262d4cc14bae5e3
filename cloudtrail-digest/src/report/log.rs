//! The verdict on a log file a digest lists.

use serde::{Deserialize, Serialize};

use super::reason::{FormatProblem, UncheckedReason};
use super::severity::Severity;
use crate::format::hex::Sha256Hash;
use crate::store::object::ObjectInfo;

/// The verdict on a log file a verified digest lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LogStatus {
    /// The SHA-256 of the inflated content matches the digest.
    Valid,
    /// The object does not exist.
    NotFound,
    /// The content was altered.
    HashMismatch {
        /// `hashValue` in the digest.
        expected: Sha256Hash,
        /// SHA-256 of the inflated content.
        actual: Sha256Hash,
    },
    /// Not gzip, or a corrupt or truncated gzip stream.
    InvalidFormat {
        /// What is wrong.
        problem: FormatProblem,
    },
    /// Bytes follow the end of the gzip member (an appended member or garbage).
    TrailingData,
    /// The object could not be read.
    Unchecked {
        /// Why.
        reason: UncheckedReason,
    },
}

impl LogStatus {
    /// How this verdict counts.
    pub fn severity(&self) -> Severity {
        match self {
            Self::Valid => Severity::Valid,
            Self::Unchecked { .. } => Severity::Unchecked,
            _ => Severity::Invalid,
        }
    }
}

/// A log file and its verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct LogOutcome {
    /// `s3Bucket` from the digest.
    pub bucket: String,
    /// `s3Object` from the digest.
    pub key: String,
    /// The verdict.
    #[serde(flatten)]
    pub status: LogStatus,
    /// The version read, where the store knows it.
    #[serde(flatten)]
    pub object: ObjectInfo,
}
