//! Reading a digest's JSON straight into typed fields, in one pass and without a generic
//! JSON tree (memory stays near the size of the inflated bytes), refusing a member that
//! appears twice: CloudTrail never writes one, and two readers of the same bytes (the last
//! value wins in one, the first in another) must never disagree about what was signed.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::log_files::LogFiles;
use super::model::{DigestFormatError, LogFileEntry};
use super::scalars::{fail, Member, Name, Others, Scalar};

/// The top-level members of a digest, as read.
#[derive(Default)]
pub(super) struct Members {
    pub(super) aws_account_id: Member,
    pub(super) digest_start_time: Member,
    pub(super) digest_end_time: Member,
    pub(super) digest_s3_bucket: Member,
    pub(super) digest_s3_object: Member,
    pub(super) digest_public_key_fingerprint: Member,
    pub(super) digest_signature_algorithm: Member,
    pub(super) newest_event_time: Member,
    pub(super) oldest_event_time: Member,
    pub(super) previous_s3_bucket: Member,
    pub(super) previous_s3_object: Member,
    pub(super) previous_hash_value: Member,
    pub(super) previous_hash_algorithm: Member,
    pub(super) previous_signature: Member,
    /// `None`: absent.
    pub(super) log_files: Option<Vec<LogFileEntry>>,
}

/// Reads the members of a digest's JSON. Errors name the member and what is wrong.
pub(super) fn read(raw: &[u8]) -> Result<Members, DigestFormatError> {
    let first = raw.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        // Not even the start of an object: say so, unless the bytes are not JSON at all.
        return Err(match serde_json::from_slice::<IgnoredAny>(raw) {
            Ok(_) => DigestFormatError::Json("top level is not an object".into()),
            Err(e) => DigestFormatError::Json(e.to_string()),
        });
    }
    let mut failure = None;
    let mut de = serde_json::Deserializer::from_slice(raw);
    let read = Top {
        failure: &mut failure,
    }
    .deserialize(&mut de)
    .and_then(|members| de.end().map(|()| members));
    match (read, failure) {
        (_, Some(f)) => Err(f),
        (Ok(members), None) => Ok(members),
        (Err(e), None) => Err(DigestFormatError::Json(e.to_string())),
    }
}

/// The digest's top level.
struct Top<'f> {
    failure: &'f mut Option<DigestFormatError>,
}

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = Members;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Members, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = Members;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
        let mut m = Members::default();
        let mut others = Others::default();
        while let Some(Name(name)) = map.next_key::<Name<'de>>()? {
            let slot = match name.as_ref() {
                "awsAccountId" => &mut m.aws_account_id,
                "digestStartTime" => &mut m.digest_start_time,
                "digestEndTime" => &mut m.digest_end_time,
                "digestS3Bucket" => &mut m.digest_s3_bucket,
                "digestS3Object" => &mut m.digest_s3_object,
                "digestPublicKeyFingerprint" => &mut m.digest_public_key_fingerprint,
                "digestSignatureAlgorithm" => &mut m.digest_signature_algorithm,
                "newestEventTime" => &mut m.newest_event_time,
                "oldestEventTime" => &mut m.oldest_event_time,
                "previousDigestS3Bucket" => &mut m.previous_s3_bucket,
                "previousDigestS3Object" => &mut m.previous_s3_object,
                "previousDigestHashValue" => &mut m.previous_hash_value,
                "previousDigestHashAlgorithm" => &mut m.previous_hash_algorithm,
                "previousDigestSignature" => &mut m.previous_signature,
                "logFiles" => {
                    if m.log_files.is_some() {
                        let dup = DigestFormatError::Duplicate(name.into_owned());
                        return Err(fail(self.failure, dup));
                    }
                    let seed = LogFiles {
                        failure: self.failure,
                    };
                    m.log_files = Some(map.next_value_seed(seed)?);
                    continue;
                }
                other => {
                    if others.repeated(other) {
                        let dup = DigestFormatError::Duplicate(name.into_owned());
                        return Err(fail(self.failure, dup));
                    }
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            if slot.is_some() {
                let dup = DigestFormatError::Duplicate(name.into_owned());
                return Err(fail(self.failure, dup));
            }
            *slot = Some(map.next_value::<Scalar>()?);
        }
        Ok(m)
    }
}
