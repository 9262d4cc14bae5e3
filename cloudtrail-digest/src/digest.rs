//! Digest files: the gzip'd JSON CloudTrail delivers every hour (AWS CloudTrail User Guide,
//! "CloudTrail digest file structure").
//!
//! A [`Digest`] keeps the exact inflated bytes beside the typed fields: every hash covers
//! those bytes, so a digest is never re-serialized.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::gzip::{self, GzipError};
use crate::hexvalue::{Fingerprint, Sha256Hash};

/// The largest inflated digest accepted (a digest listing 100,000 logs is about 40 MB).
pub const MAX_DIGEST_BYTES: u64 = 256 * 1024 * 1024;

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

/// A parsed digest file with its exact inflated bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    raw: Vec<u8>,
    sha256: Sha256Hash,
    file: DigestFile,
}

impl Digest {
    /// Inflates and parses a digest object as stored (gzip'd JSON).
    pub fn from_gzip(gz: &[u8]) -> Result<Self, DigestFormatError> {
        Self::from_json(gzip::inflate_to_vec(gz, MAX_DIGEST_BYTES)?)
    }

    /// Parses inflated digest bytes.
    pub fn from_json(raw: Vec<u8>) -> Result<Self, DigestFormatError> {
        let value: Value =
            serde_json::from_slice(&raw).map_err(|e| DigestFormatError::Json(e.to_string()))?;
        let Value::Object(map) = value else {
            return Err(DigestFormatError::Json("top level is not an object".into()));
        };
        let file = parse_file(&map)?;
        let sha256 = Sha256Hash::of(&raw);
        Ok(Self { raw, sha256, file })
    }

    /// The exact inflated bytes.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// SHA-256 of the inflated bytes (what a successor's `previousDigestHashValue` names).
    pub fn sha256(&self) -> Sha256Hash {
        self.sha256
    }

    /// The typed fields.
    pub fn file(&self) -> &DigestFile {
        &self.file
    }
}

struct Fields<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
}

impl<'a> Fields<'a> {
    fn name(&self, field: &str) -> String {
        if self.path.is_empty() {
            field.to_owned()
        } else {
            format!("{}.{field}", self.path)
        }
    }

    fn malformed(&self, field: &str, expected: &'static str) -> DigestFormatError {
        DigestFormatError::Malformed {
            field: self.name(field),
            expected,
        }
    }

    /// A field that must be present; `Ok(None)` when it is JSON null.
    fn nullable_str(&self, field: &'static str) -> Result<Option<&'a str>, DigestFormatError> {
        match self.map.get(field) {
            None => Err(DigestFormatError::Missing(field)),
            Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.malformed(field, "a string or null")),
        }
    }

    /// A field that may be absent or null.
    fn optional_str(&self, field: &'static str) -> Result<Option<&'a str>, DigestFormatError> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.malformed(field, "a string or null")),
        }
    }

    fn str(&self, field: &'static str) -> Result<&'a str, DigestFormatError> {
        self.nullable_str(field)?
            .ok_or_else(|| self.malformed(field, "a string"))
    }

    fn time(&self, field: &'static str) -> Result<DateTime<Utc>, DigestFormatError> {
        let text = self.str(field)?;
        parse_time(text).ok_or_else(|| self.malformed(field, "an ISO 8601 UTC time"))
    }

    fn optional_time(
        &self,
        field: &'static str,
    ) -> Result<Option<DateTime<Utc>>, DigestFormatError> {
        self.optional_str(field)?
            .map(|t| parse_time(t).ok_or_else(|| self.malformed(field, "an ISO 8601 UTC time")))
            .transpose()
    }

    fn sha256(&self, text: &str, field: &'static str) -> Result<Sha256Hash, DigestFormatError> {
        Sha256Hash::from_hex(text).ok_or_else(|| self.malformed(field, "64 hex characters"))
    }
}

/// Parses an ISO 8601 time with a UTC offset, as CloudTrail writes it (`2023-10-15T22:04:04Z`).
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn parse_file(map: &Map<String, Value>) -> Result<DigestFile, DigestFormatError> {
    let f = Fields { map, path: "" };
    let digest_end_time_text = f.str("digestEndTime")?.to_owned();
    let fingerprint = f.str("digestPublicKeyFingerprint")?;
    let previous = PreviousDigest {
        s3_bucket: f.nullable_str("previousDigestS3Bucket")?.map(str::to_owned),
        s3_object: f.nullable_str("previousDigestS3Object")?.map(str::to_owned),
        hash_value: f
            .nullable_str("previousDigestHashValue")?
            .map(|h| f.sha256(h, "previousDigestHashValue"))
            .transpose()?,
        hash_algorithm: f
            .nullable_str("previousDigestHashAlgorithm")?
            .map(str::to_owned),
        signature: f
            .nullable_str("previousDigestSignature")?
            .map(str::to_owned),
    };
    let Some(Value::Array(entries)) = map.get("logFiles") else {
        return Err(match map.get("logFiles") {
            None => DigestFormatError::Missing("logFiles"),
            Some(_) => f.malformed("logFiles", "an array"),
        });
    };
    let log_files = entries
        .iter()
        .enumerate()
        .map(|(i, entry)| parse_entry(i, entry))
        .collect::<Result<_, _>>()?;
    Ok(DigestFile {
        aws_account_id: f.str("awsAccountId")?.to_owned(),
        digest_start_time: f.time("digestStartTime")?,
        digest_end_time: f.time("digestEndTime")?,
        digest_end_time_text,
        digest_s3_bucket: f.str("digestS3Bucket")?.to_owned(),
        digest_s3_object: f.str("digestS3Object")?.to_owned(),
        digest_public_key_fingerprint: Fingerprint::from_hex(fingerprint)
            .ok_or_else(|| f.malformed("digestPublicKeyFingerprint", "32 hex characters"))?,
        digest_signature_algorithm: f
            .optional_str("digestSignatureAlgorithm")?
            .map(str::to_owned),
        newest_event_time: f.optional_time("newestEventTime")?,
        oldest_event_time: f.optional_time("oldestEventTime")?,
        previous,
        log_files,
    })
}

fn parse_entry(index: usize, entry: &Value) -> Result<LogFileEntry, DigestFormatError> {
    let path = format!("logFiles[{index}]");
    let Value::Object(map) = entry else {
        return Err(DigestFormatError::Malformed {
            field: path,
            expected: "an object",
        });
    };
    let f = Fields { map, path: &path };
    let named = |e: DigestFormatError| match e {
        DigestFormatError::Missing(field) => DigestFormatError::Malformed {
            field: format!("{path}.{field}"),
            expected: "present",
        },
        other => other,
    };
    Ok(LogFileEntry {
        s3_bucket: f.str("s3Bucket").map_err(named)?.to_owned(),
        s3_object: f.str("s3Object").map_err(named)?.to_owned(),
        hash_value: f.sha256(f.str("hashValue").map_err(named)?, "hashValue")?,
        hash_algorithm: f.str("hashAlgorithm").map_err(named)?.to_owned(),
        newest_event_time: f.optional_time("newestEventTime")?,
        oldest_event_time: f.optional_time("oldestEventTime")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = include_str!("../../testdata/real/llm-guard-digest.json");

    #[test]
    fn parses_the_real_digest_sample() {
        let d = Digest::from_json(REAL.as_bytes().to_vec()).unwrap();
        let f = d.file();
        assert_eq!(f.aws_account_id, "327878933619");
        assert_eq!(f.digest_end_time_text, "2023-10-15T23:04:04Z");
        assert_eq!(f.digest_s3_bucket, "llm-guard-trail");
        assert!(f
            .digest_s3_object
            .starts_with("AWSLogs/327878933619/CloudTrail-Digest/"));
        assert_eq!(
            f.digest_public_key_fingerprint.as_str(),
            "be2f0b997552f44942837300ba1aba9d"
        );
        assert_eq!(f.log_file_count(), 5);
        assert_eq!(f.log_files[0].hash_algorithm, "SHA-256");
        assert_eq!(f.previous.signature.as_ref().map(String::len), Some(512));
        assert_eq!(d.raw(), REAL.as_bytes());
        assert_eq!(
            d.sha256().to_hex(),
            "4277102dccf54c0c247738ca5e6e3504b7370206ef1c82855994ec23441ae1ed"
        );
    }

    fn edited(from: &str, to: &str) -> DigestFormatError {
        Digest::from_json(REAL.replacen(from, to, 1).into_bytes()).unwrap_err()
    }

    #[test]
    fn names_the_bad_field() {
        assert_eq!(
            edited("\"digestEndTime\"", "\"digestEndTimeX\""),
            DigestFormatError::Missing("digestEndTime")
        );
        assert_eq!(
            edited("2023-10-15T23:04:04Z", "yesterday"),
            DigestFormatError::Malformed {
                field: "digestEndTime".into(),
                expected: "an ISO 8601 UTC time"
            }
        );
        assert_eq!(
            edited("\"hashValue\":\"4309", "\"hashValue\":\"x309"),
            DigestFormatError::Malformed {
                field: "logFiles[0].hashValue".into(),
                expected: "64 hex characters"
            }
        );
        assert_eq!(
            edited("\"s3Bucket\"", "\"bucket\""),
            DigestFormatError::Malformed {
                field: "logFiles[0].s3Bucket".into(),
                expected: "present"
            }
        );
        assert!(matches!(edited("{", "["), DigestFormatError::Json(_)));
    }

    #[test]
    fn gzip_errors_are_format_errors() {
        assert_eq!(
            Digest::from_gzip(REAL.as_bytes()),
            Err(DigestFormatError::Gzip(GzipError::NotGzip))
        );
        let d = Digest::from_gzip(&gzip::gzip(REAL.as_bytes())).unwrap();
        assert_eq!(d.raw(), REAL.as_bytes());
    }
}
