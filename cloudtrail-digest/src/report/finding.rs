//! Integrity findings about a digest beyond its signature verdict: the checks the reference
//! does not make (spec section 6).

use chrono::{DateTime, Utc};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::format::hex::Sha256Hash;
use crate::format::time::display as time;

/// An integrity finding about a digest beyond its signature verdict: checks the reference
/// does not make (spec section 6). A digest with a finding counts as invalid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "finding", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Finding {
    /// Its SHA-256 is not the `previousDigestHashValue` its successor recorded (a broken
    /// link: the successor has [`Finding::PredecessorHashMismatch`] when this digest
    /// verified).
    PreviousHashMismatch {
        /// What the successor recorded.
        recorded: Sha256Hash,
        /// SHA-256 of this digest's inflated bytes.
        actual: Sha256Hash,
        /// The successor, `s3://BUCKET/KEY`.
        successor: String,
    },
    /// Its signature is not the `previousDigestSignature` its successor recorded.
    PreviousSignatureMismatch {
        /// The successor, `s3://BUCKET/KEY`.
        successor: String,
    },
    /// Its `digestEndTime` is not its successor's `digestStartTime`.
    NotContiguous {
        /// This digest's end.
        end: DateTime<Utc>,
        /// The successor's start.
        successor_start: DateTime<Utc>,
        /// The successor, `s3://BUCKET/KEY`.
        successor: String,
    },
    /// Its `previousDigestHashValue` is not the SHA-256 of the (verified) predecessor it
    /// links to: the other side of [`Finding::PreviousHashMismatch`].
    PredecessorHashMismatch {
        /// What this digest recorded.
        recorded: Sha256Hash,
        /// SHA-256 of the predecessor's inflated bytes.
        actual: Sha256Hash,
        /// The predecessor, `s3://BUCKET/KEY`.
        predecessor: String,
    },
    /// Its `previousDigestSignature` is not the signature of the (verified) predecessor it
    /// links to.
    PredecessorSignatureMismatch {
        /// The predecessor, `s3://BUCKET/KEY`.
        predecessor: String,
    },
    /// Its `digestStartTime` is not the `digestEndTime` of the (verified) predecessor it
    /// links to.
    NotContiguousWithPredecessor {
        /// This digest's start.
        start: DateTime<Utc>,
        /// The predecessor's end.
        predecessor_end: DateTime<Utc>,
        /// The predecessor, `s3://BUCKET/KEY`.
        predecessor: String,
    },
    /// `previousDigestHashAlgorithm` is not `SHA-256`.
    PreviousHashAlgorithm {
        /// The value.
        algorithm: String,
    },
    /// `digestEndTime` is not after `digestStartTime`.
    EndNotAfterStart,
    /// `awsAccountId` is not the account of the digest's key.
    AccountMismatch {
        /// In the JSON.
        in_json: String,
        /// In the key.
        in_key: String,
    },
    /// A listed log file lies under another account or region than the digest.
    LogOutsideLocation {
        /// The log file's key.
        log_key: String,
    },
    /// A listed log file's `hashAlgorithm` is not `SHA-256`.
    LogHashAlgorithm {
        /// The log file's key.
        log_key: String,
        /// The value.
        algorithm: String,
    },
    /// `digestSignatureAlgorithm` or the `signature-algorithm` metadata is not
    /// `SHA256withRSA`.
    SignatureAlgorithm {
        /// Which of the two.
        field: String,
        /// The value.
        value: String,
    },
    /// Signed by a key outside that key's validity window.
    KeyOutsideValidity {
        /// When the digest was signed (its end time, or its backfill generation time).
        signed_at: DateTime<Utc>,
        /// Start of the key's window.
        valid_from: DateTime<Utc>,
        /// End of the key's window.
        valid_to: DateTime<Utc>,
    },
    /// A log file listed twice, in this digest or an earlier-walked one.
    DuplicateLog {
        /// The log file's key.
        log_key: String,
        /// The digest that listed it first.
        first_listed_in: String,
    },
}

/// The finding in words.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text: String = match self {
            Self::PreviousHashMismatch { recorded, actual, successor } => format!(
                "its SHA-256 {actual} is not the previousDigestHashValue {recorded} its successor {successor} recorded"
            ),
            Self::PreviousSignatureMismatch { successor } => format!(
                "its signature is not the previousDigestSignature its successor {successor} recorded"
            ),
            Self::NotContiguous { end, successor_start, successor } => format!(
                "its digestEndTime {} is not the digestStartTime {} of its successor {successor}",
                time(*end),
                time(*successor_start)
            ),
            Self::PredecessorHashMismatch { recorded, actual, predecessor } => format!(
                "its previousDigestHashValue {recorded} is not the SHA-256 {actual} of its predecessor {predecessor}"
            ),
            Self::PredecessorSignatureMismatch { predecessor } => format!(
                "its previousDigestSignature is not the signature of its predecessor {predecessor}"
            ),
            Self::NotContiguousWithPredecessor { start, predecessor_end, predecessor } => format!(
                "its digestStartTime {} is not the digestEndTime {} of its predecessor {predecessor}",
                time(*start),
                time(*predecessor_end)
            ),
            Self::PreviousHashAlgorithm { algorithm } => {
                format!("previousDigestHashAlgorithm is {algorithm}, not SHA-256")
            }
            Self::EndNotAfterStart => "digestEndTime is not after digestStartTime".into(),
            Self::AccountMismatch { in_json, in_key } => {
                format!("awsAccountId {in_json} is not the account {in_key} of its key")
            }
            Self::LogOutsideLocation { log_key } => {
                format!("lists log file {log_key} of another account or region")
            }
            Self::LogHashAlgorithm { log_key, algorithm } => {
                format!("log file {log_key} has hashAlgorithm {algorithm}, not SHA-256")
            }
            Self::SignatureAlgorithm { field, value } => {
                format!("{field} is {value}, not SHA256withRSA")
            }
            Self::KeyOutsideValidity { signed_at, valid_from, valid_to } => format!(
                "signed at {} by a key valid only from {} to {}",
                time(*signed_at),
                time(*valid_from),
                time(*valid_to)
            ),
            Self::DuplicateLog { log_key, first_listed_in } => {
                format!("lists log file {log_key} already listed by {first_listed_in}")
            }
        };
        f.write_str(&text)
    }
}
