//! Digest files: the gzip'd JSON CloudTrail delivers every hour (AWS CloudTrail User Guide,
//! "CloudTrail digest file structure").
//!
//! A [`Digest`] keeps the exact inflated bytes beside the typed fields: every hash covers
//! those bytes, so a digest is never re-serialized.

use crate::format::gzip;
use crate::format::hex::{Fingerprint, Sha256Hash};

mod json;
mod log_files;
mod model;
mod place;
mod scalars;

pub(crate) use model::MAX_DIGEST_BYTES;
pub use model::{DigestFile, DigestFormatError, LogFileEntry, PreviousDigest};
use place::Place;

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
        let file = parse_file(json::read(&raw)?)?;
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

/// Checks the members read, in a fixed order, naming the first field that is wrong.
fn parse_file(m: json::Members) -> Result<DigestFile, DigestFormatError> {
    let at = Place::Top;
    let digest_end_time_text = at.string(m.digest_end_time, "digestEndTime")?;
    let fingerprint = at.string(
        m.digest_public_key_fingerprint,
        "digestPublicKeyFingerprint",
    )?;
    let previous = PreviousDigest {
        s3_bucket: at.nullable(m.previous_s3_bucket, "previousDigestS3Bucket")?,
        s3_object: at.nullable(m.previous_s3_object, "previousDigestS3Object")?,
        hash_value: at
            .nullable(m.previous_hash_value, "previousDigestHashValue")?
            .map(|h| at.sha256(&h, "previousDigestHashValue"))
            .transpose()?,
        hash_algorithm: at.nullable(m.previous_hash_algorithm, "previousDigestHashAlgorithm")?,
        signature: at.nullable(m.previous_signature, "previousDigestSignature")?,
    };
    let log_files = m.log_files.ok_or(DigestFormatError::Missing("logFiles"))?;
    let start = at.string(m.digest_start_time, "digestStartTime")?;
    Ok(DigestFile {
        aws_account_id: at.string(m.aws_account_id, "awsAccountId")?,
        digest_start_time: at.time(&start, "digestStartTime")?,
        digest_end_time: at.time(&digest_end_time_text, "digestEndTime")?,
        digest_end_time_text,
        digest_s3_bucket: at.string(m.digest_s3_bucket, "digestS3Bucket")?,
        digest_s3_object: at.string(m.digest_s3_object, "digestS3Object")?,
        digest_public_key_fingerprint: Fingerprint::from_hex(&fingerprint).ok_or_else(|| {
            DigestFormatError::Malformed {
                field: "digestPublicKeyFingerprint".into(),
                expected: "32 hex characters",
            }
        })?,
        digest_signature_algorithm: at
            .optional(m.digest_signature_algorithm, "digestSignatureAlgorithm")?,
        newest_event_time: at.optional_time(m.newest_event_time, "newestEventTime")?,
        oldest_event_time: at.optional_time(m.oldest_event_time, "oldestEventTime")?,
        previous,
        log_files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::gzip::GzipError;

    const REAL: &str = include_str!("../../../../testdata/real/llm-guard-digest.json");

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
    fn a_member_written_twice_is_refused_wherever_it_is() {
        let dup = |from: &str, to: &str| {
            let text = REAL.replacen(from, to, 1);
            assert_ne!(text, REAL, "{from}");
            Digest::from_json(text.into_bytes()).unwrap_err()
        };
        // A second logFiles array (the signature covers the bytes; a reader keeping the last
        // one would check other log files than one keeping the first).
        assert_eq!(
            dup("\"logFiles\":[", "\"logFiles\":[],\"logFiles\":["),
            DigestFormatError::Duplicate("logFiles".into())
        );
        assert_eq!(
            dup(
                "\"digestS3Object\":",
                "\"digestS3Object\":\"x\",\"digestS3Object\":"
            ),
            DigestFormatError::Duplicate("digestS3Object".into())
        );
        // The same name spelled with an escape is the same member.
        assert_eq!(
            dup(
                "\"awsAccountId\":",
                "\"aws\\u0041ccountId\":\"1\",\"awsAccountId\":"
            ),
            DigestFormatError::Duplicate("awsAccountId".into())
        );
        // Inside an entry, and among members this reader does not use.
        assert_eq!(
            dup("\"hashValue\":", "\"hashValue\":\"00\",\"hashValue\":"),
            DigestFormatError::Duplicate("logFiles[0].hashValue".into())
        );
        assert_eq!(
            dup("{", "{\"extra\":1,\"extra\":2,"),
            DigestFormatError::Duplicate("extra".into())
        );
        assert_eq!(
            dup("\"hashAlgorithm\":", "\"x\":[],\"x\":{},\"hashAlgorithm\":"),
            DigestFormatError::Duplicate("logFiles[0].x".into())
        );
        assert_eq!(
            DigestFormatError::Duplicate("logFiles".into()).to_string(),
            "duplicate member logFiles"
        );
        // Unknown members once each are fine, whatever they hold.
        let extra = REAL.replacen('{', "{\"extra\":{\"a\":[1,{\"b\":null}]},", 1);
        assert!(Digest::from_json(extra.into_bytes()).is_ok());
    }

    #[test]
    fn names_what_is_wrong_with_the_shape() {
        assert_eq!(
            Digest::from_json(b"[]".to_vec()).unwrap_err(),
            DigestFormatError::Json("top level is not an object".into())
        );
        assert!(matches!(
            Digest::from_json(b"{\"a\":".to_vec()).unwrap_err(),
            DigestFormatError::Json(_)
        ));
        assert_eq!(
            edited("\"logFiles\":[", "\"logFiles\":null,\"x\":["),
            DigestFormatError::Malformed {
                field: "logFiles".into(),
                expected: "an array"
            }
        );
        assert_eq!(
            edited("\"logFiles\":[", "\"logFiles\":[7,"),
            DigestFormatError::Malformed {
                field: "logFiles[0]".into(),
                expected: "an object"
            }
        );
        assert_eq!(
            edited(
                "\"awsAccountId\":\"327878933619\"",
                "\"awsAccountId\":327878933619"
            ),
            DigestFormatError::Malformed {
                field: "awsAccountId".into(),
                expected: "a string or null"
            }
        );
        assert!(matches!(
            Digest::from_json(format!("{REAL} x").into_bytes()).unwrap_err(),
            DigestFormatError::Json(_)
        ));
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
