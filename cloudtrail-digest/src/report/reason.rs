//! Why a file has the verdict it has, typed: what is wrong with its format, why it could
//! not be checked, why its signature could not be verified.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::format::digest_file::DigestFormatError;
use crate::format::gzip::GzipError;
use crate::format::hex::Fingerprint;
use crate::store::object::{StoreError, StoreErrorKind};

/// What is wrong with the format of a digest or log file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FormatProblem {
    /// The bytes do not start with a gzip header.
    NotGzip,
    /// The gzip stream is truncated or corrupt (bad header, deflate data, CRC or length).
    CorruptGzip {
        /// What is corrupt.
        detail: String,
    },
    /// Bytes follow the end of the gzip member: an appended member or garbage.
    TrailingData,
    /// The inflated content exceeds what such a file may be.
    InflatedTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The stored object is larger than a digest may be.
    StoredTooLarge {
        /// Its size (at least), in bytes.
        size: u64,
        /// The limit, in bytes.
        limit: u64,
    },
    /// The inflated bytes are not a JSON object.
    NotJson {
        /// The parser's message.
        detail: String,
    },
    /// A required field is absent.
    MissingField {
        /// The field.
        field: String,
    },
    /// A JSON member appears twice.
    DuplicateMember {
        /// The member.
        member: String,
    },
    /// A field holds a value of the wrong type or shape.
    MalformedField {
        /// The field's JSON path.
        field: String,
        /// What it should have been.
        expected: String,
    },
    /// A backfill digest's S3 metadata has no `backfill-generation-timestamp`.
    NoBackfillTimestamp,
}

impl FormatProblem {
    /// The problem a gzip error names; `None` for a read failure, which is no verdict on
    /// the file.
    pub(crate) fn of_gzip(error: GzipError) -> Option<Self> {
        Some(match error {
            GzipError::NotGzip => Self::NotGzip,
            GzipError::Corrupt(detail) => Self::CorruptGzip { detail },
            GzipError::TrailingData => Self::TrailingData,
            GzipError::TooLarge(limit) => Self::InflatedTooLarge { limit },
            GzipError::Read(_) => return None,
        })
    }
}

impl From<DigestFormatError> for FormatProblem {
    fn from(error: DigestFormatError) -> Self {
        match error {
            DigestFormatError::Gzip(GzipError::Read(detail)) => Self::CorruptGzip { detail },
            DigestFormatError::Gzip(g) => Self::of_gzip(g).unwrap_or(Self::NotGzip),
            DigestFormatError::Json(detail) => Self::NotJson { detail },
            DigestFormatError::Missing(field) => Self::MissingField {
                field: field.to_owned(),
            },
            DigestFormatError::Duplicate(member) => Self::DuplicateMember { member },
            DigestFormatError::Malformed { field, expected } => Self::MalformedField {
                field,
                expected: expected.to_owned(),
            },
        }
    }
}

impl fmt::Display for FormatProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotGzip => f.write_str("not gzip"),
            Self::CorruptGzip { detail } => write!(f, "corrupt gzip stream: {detail}"),
            Self::TrailingData => f.write_str("unexpected data after end of compressed stream"),
            Self::InflatedTooLarge { limit } => {
                write!(f, "inflated size exceeds the limit of {limit} bytes")
            }
            Self::StoredTooLarge { size, limit } => write!(
                f,
                "{size} bytes or more, more than a digest may be ({limit})"
            ),
            Self::NotJson { detail } => write!(f, "not a JSON object: {detail}"),
            Self::MissingField { field } => write!(f, "field {field} is missing"),
            Self::DuplicateMember { member } => write!(f, "duplicate member {member}"),
            Self::MalformedField { field, expected } => {
                write!(f, "field {field} is not {expected}")
            }
            Self::NoBackfillTimestamp => {
                f.write_str("S3 metadata has no backfill-generation-timestamp")
            }
        }
    }
}

/// Why a file could not be checked: it is neither valid nor tampered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum UncheckedReason {
    /// Reading it failed (anything but "not found", which is a finding).
    Read {
        /// The kind of failure.
        error: StoreErrorKind,
        /// The store's message.
        message: String,
    },
    /// Reading its body failed part-way.
    ReadInterrupted {
        /// What failed.
        message: String,
    },
    /// The public keys to verify it with could not be had.
    KeysUnavailable {
        /// Why.
        message: String,
    },
    /// Its public key is larger than this library verifies.
    KeyTooLarge {
        /// The key's fingerprint.
        fingerprint: Fingerprint,
        /// Its modulus size.
        bits: usize,
        /// The largest verified.
        max_bits: usize,
    },
}

impl UncheckedReason {
    /// A store's failure to read it.
    pub(crate) fn read(error: &StoreError) -> Self {
        Self::Read {
            error: error.kind(),
            message: error.reason().to_owned(),
        }
    }
}

impl fmt::Display for UncheckedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { message, .. } | Self::KeysUnavailable { message } => f.write_str(message),
            Self::ReadInterrupted { message } => write!(f, "reading it failed: {message}"),
            Self::KeyTooLarge {
                fingerprint,
                bits,
                max_bits,
            } => write!(
                f,
                "its public key {fingerprint} has {bits} bits, more than the {max_bits} this tool verifies"
            ),
        }
    }
}

/// Why a digest's signature could not be verified, with no evidence of tampering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnverifiedReason {
    /// No signature at all: the store has no metadata (a local copy without sidecars) and
    /// no successor digest names its signature.
    NoSignature,
    /// The successor digest's `previousDigestSignature` is not hex.
    SuccessorSignatureNotHex,
}

impl fmt::Display for UnverifiedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoSignature => "no signature: no S3 metadata and no successor digest names it",
            Self::SuccessorSignatureNotHex => {
                "the successor digest's previousDigestSignature is not hex"
            }
        })
    }
}
