//! The typed fields of a digest file, and why bytes are not one.

use chrono::{DateTime, Utc};

use crate::format::gzip::GzipError;
use crate::format::hex::{Fingerprint, Sha256Hash};

/// The largest inflated digest accepted (a digest listing 100,000 logs is about 40 MB).
pub(crate) const MAX_DIGEST_BYTES: u64 = 256 * 1024 * 1024;

/// Why a digest file is not a well-formed digest: reported as `invalid format`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestFormatError {
    /// The object is not a single well-formed gzip member.
    #[error(transparent)]
    Gzip(#[from] GzipError),
    /// The inflated bytes are not a JSON object.
    #[error("not a JSON object: {0}")]
    Json(String),
    /// A required field is absent.
    #[error("field {0} is missing")]
    Missing(&'static str),
    /// A member appears twice (CloudTrail never writes one; readers could disagree).
    #[error("duplicate member {0}")]
    Duplicate(String),
    /// A field holds a value of the wrong type or shape.
    #[error("field {field} is not {expected}")]
    Malformed {
        /// The field's JSON path.
        field: String,
        /// What it should have been.
        expected: &'static str,
    },
}

/// One entry of a digest's `logFiles` array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFileEntry {
    /// `s3Bucket`.
    pub s3_bucket: String,
    /// `s3Object`.
    pub s3_object: String,
    /// `hashValue`: SHA-256 of the inflated log file.
    pub hash_value: Sha256Hash,
    /// `hashAlgorithm` (`SHA-256`).
    pub hash_algorithm: String,
    /// `newestEventTime`.
    pub newest_event_time: Option<DateTime<Utc>>,
    /// `oldestEventTime`.
    pub oldest_event_time: Option<DateTime<Utc>>,
}

/// The `previousDigest*` fields; all null in a starting digest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PreviousDigest {
    /// `previousDigestS3Bucket`.
    pub s3_bucket: Option<String>,
    /// `previousDigestS3Object`.
    pub s3_object: Option<String>,
    /// `previousDigestHashValue`.
    pub hash_value: Option<Sha256Hash>,
    /// `previousDigestHashAlgorithm`.
    pub hash_algorithm: Option<String>,
    /// `previousDigestSignature`, as written (hex).
    pub signature: Option<String>,
}

/// The typed fields of a digest file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestFile {
    /// `awsAccountId`.
    pub aws_account_id: String,
    /// `digestStartTime`.
    pub digest_start_time: DateTime<Utc>,
    /// `digestEndTime`.
    pub digest_end_time: DateTime<Utc>,
    /// `digestEndTime` exactly as written: the signing string uses this text.
    pub digest_end_time_text: String,
    /// `digestS3Bucket`: where CloudTrail wrote this digest.
    pub digest_s3_bucket: String,
    /// `digestS3Object`: the key CloudTrail wrote this digest under.
    pub digest_s3_object: String,
    /// `digestPublicKeyFingerprint`.
    pub digest_public_key_fingerprint: Fingerprint,
    /// `digestSignatureAlgorithm` (`SHA256withRSA`).
    pub digest_signature_algorithm: Option<String>,
    /// `newestEventTime`, null in an empty digest.
    pub newest_event_time: Option<DateTime<Utc>>,
    /// `oldestEventTime`, null in an empty digest.
    pub oldest_event_time: Option<DateTime<Utc>>,
    /// The link to the previous digest.
    pub previous: PreviousDigest,
    pub(crate) log_files: Vec<LogFileEntry>,
}

impl DigestFile {
    /// The number of log files the digest lists. The entries themselves are reached only
    /// through [`crate::VerifiedDigest::log_files`], once the signature has been verified.
    pub fn log_file_count(&self) -> usize {
        self.log_files.len()
    }
}
