//! The verdict on a digest file.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::finding::Finding;
use super::log::LogOutcome;
use super::reason::{FormatProblem, UncheckedReason, UnverifiedReason};
use super::severity::{Counts, Severity};
use crate::format::hex::{Fingerprint, Sha256Hash};
use crate::store::object::ObjectInfo;

/// Where the signature of a digest came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum SignatureSource {
    /// The digest object's S3 metadata (`signature`), or its `.meta.json` sidecar.
    Metadata,
    /// The successor digest's `previousDigestSignature` (AWS's documented offline method).
    Successor,
}

/// The verdict on a digest file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DigestStatus {
    /// The signature verified.
    Valid,
    /// The object does not exist. `inferred` is set for a digest the chain shows must have
    /// existed but whose key no surviving digest names (the key is then the expected one).
    NotFound {
        /// Whether the key was inferred from the chain's timeline.
        inferred: bool,
    },
    /// Not a well-formed digest (gzip, JSON, a missing or malformed field, metadata).
    InvalidFormat {
        /// What is wrong.
        problem: FormatProblem,
    },
    /// The digest's JSON names another bucket or key than where it was found.
    Moved {
        /// `digestS3Bucket`.
        original_bucket: String,
        /// `digestS3Object`.
        original_key: String,
    },
    /// No public key with the digest's fingerprint.
    UnknownKey {
        /// The region whose keys were searched.
        region: String,
        /// The fingerprint.
        fingerprint: Fingerprint,
    },
    /// The key with that fingerprint is not a loadable RSA key.
    UnloadableKey {
        /// The fingerprint.
        fingerprint: Fingerprint,
    },
    /// The signature does not verify.
    SignatureMismatch,
    /// The S3 metadata lacks an entry the signature needs.
    SignatureMissing {
        /// The metadata entry missing: `signature` or `signature-algorithm`.
        entry: String,
    },
    /// The signature text is not hex.
    SignatureMalformed,
    /// No signature is available to verify it with: neither valid nor invalid.
    Unverifiable {
        /// Why.
        reason: UnverifiedReason,
    },
    /// The object could not be read, or its key could not be had.
    Unchecked {
        /// Why.
        reason: UncheckedReason,
    },
    /// A digest of the chain's listing in range that no digest links to and the walk never
    /// reached: planted, or cut out of the chain.
    OffChain,
}

impl DigestStatus {
    /// How this verdict counts.
    pub fn severity(&self) -> Severity {
        match self {
            Self::Valid => Severity::Valid,
            Self::Unverifiable { .. } => Severity::Incomplete,
            Self::Unchecked { .. } => Severity::Unchecked,
            _ => Severity::Invalid,
        }
    }
}

/// A digest file and its verdict, with the verdicts of the log files it lists when its
/// signature verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct DigestOutcome {
    /// The bucket it was read from.
    pub bucket: String,
    /// The key it was read from.
    pub key: String,
    /// Whether it is a backfill digest.
    pub backfill: bool,
    /// The verdict.
    #[serde(flatten)]
    pub status: DigestStatus,
    /// `digestStartTime`, when the digest parsed.
    pub start_time: Option<DateTime<Utc>>,
    /// `digestEndTime`, when the digest parsed (else the time in its key).
    pub end_time: Option<DateTime<Utc>>,
    /// The fingerprint of the public key that verified it.
    pub verified_with: Option<Fingerprint>,
    /// Where its signature came from.
    pub signature_source: Option<SignatureSource>,
    /// SHA-256 of its inflated bytes, when it parsed.
    pub sha256: Option<Sha256Hash>,
    /// Whether it starts a chain (its `previousDigest*` fields are null): validation or
    /// logging started, or started again, at its start.
    pub starting: bool,
    /// The log files it lists, checked only if it verified; without the valid ones when
    /// the run was asked to omit them.
    pub logs: Vec<LogOutcome>,
    /// The verdicts on the log files it lists, counted, omitted ones included.
    pub log_counts: Counts,
    /// Findings beyond the signature verdict.
    pub findings: Vec<Finding>,
    /// The version read, where the store knows it.
    #[serde(flatten)]
    pub object: ObjectInfo,
}

impl DigestOutcome {
    /// An outcome with nothing known yet but where the digest is and its verdict.
    pub(crate) fn placeholder(
        bucket: &str,
        key: &str,
        backfill: bool,
        status: DigestStatus,
        end_time: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            backfill,
            status,
            start_time: None,
            end_time,
            verified_with: None,
            signature_source: None,
            sha256: None,
            starting: false,
            logs: Vec::new(),
            log_counts: Counts::default(),
            findings: Vec::new(),
            object: ObjectInfo::default(),
        }
    }

    /// Sets the verdicts on the log files it lists, counting them; keeps only those that
    /// are not valid if `omit_valid`.
    pub(crate) fn set_logs(
        &mut self,
        logs: impl IntoIterator<Item = LogOutcome>,
        omit_valid: bool,
    ) {
        self.log_counts = Counts::default();
        self.logs.clear();
        for log in logs {
            let severity = log.status.severity();
            self.log_counts.add(severity);
            if !(omit_valid && severity == Severity::Valid) {
                self.logs.push(log);
            }
        }
    }

    /// How this digest counts: its verdict, or invalid if it has a finding.
    pub fn severity(&self) -> Severity {
        let findings = (!self.findings.is_empty()).then_some(Severity::Invalid);
        self.status
            .severity()
            .max(findings.unwrap_or(Severity::Valid))
    }
}
