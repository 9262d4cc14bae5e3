//! Reading a digest's JSON straight into typed fields, in one pass and without a generic
//! JSON tree (memory stays near the size of the inflated bytes), refusing a member that
//! appears twice: CloudTrail never writes one, and two readers of the same bytes (the last
//! value wins in one, the first in another) must never disagree about what was signed.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::model::{DigestFormatError, LogFileEntry};
use crate::format::hex::Sha256Hash;
use crate::format::time::parse as parse_time;

/// A member's value as far as a digest field cares: a string, null, or anything else.
pub(super) enum Scalar {
    Null,
    Str(String),
    Other,
}

/// A member that may be absent; `Some(Scalar::Null)` is an explicit null.
pub(super) type Member = Option<Scalar>;

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

/// Records `failure` (the first one wins) and returns the error that stops the parser.
fn fail<E: de::Error>(slot: &mut Option<DigestFormatError>, failure: DigestFormatError) -> E {
    let message = failure.to_string();
    slot.get_or_insert(failure);
    E::custom(message)
}

/// A member name, borrowed from the input where it has no escapes.
struct Name<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Name(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Name(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Name(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> de::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar::Str(v))
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// Names of members not read, to find their duplicates too.
#[derive(Default)]
struct Others(Vec<String>);

impl Others {
    /// Whether `name` was seen before; remembers it.
    fn repeated(&mut self, name: &str) -> bool {
        if self.0.iter().any(|n| n == name) {
            return true;
        }
        self.0.push(name.to_owned());
        false
    }
}

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

/// The `logFiles` array.
struct LogFiles<'f> {
    failure: &'f mut Option<DigestFormatError>,
}

impl<'de> DeserializeSeed<'de> for LogFiles<'_> {
    type Value = Vec<LogFileEntry>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LogFiles<'_> {
    type Value = Vec<LogFileEntry>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        loop {
            let seed = Entry {
                index: entries.len(),
                failure: &mut *self.failure,
            };
            match seq.next_element_seed(seed)? {
                Some(entry) => entries.push(entry),
                None => return Ok(entries),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(not_an_array(self.failure))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(not_an_array(self.failure))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Err(not_an_array(self.failure))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(not_an_array(self.failure))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(not_an_array(self.failure))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(not_an_array(self.failure))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(not_an_array(self.failure))
    }
}

fn not_an_array<E: de::Error>(failure: &mut Option<DigestFormatError>) -> E {
    let e = DigestFormatError::Malformed {
        field: "logFiles".into(),
        expected: "an array",
    };
    fail(failure, e)
}

/// One entry of `logFiles`.
struct Entry<'f> {
    index: usize,
    failure: &'f mut Option<DigestFormatError>,
}

impl<'de> DeserializeSeed<'de> for Entry<'_> {
    type Value = LogFileEntry;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<LogFileEntry, D::Error> {
        d.deserialize_any(self)
    }
}

impl Entry<'_> {
    fn not_an_object<E: de::Error>(self) -> E {
        let e = DigestFormatError::Malformed {
            field: format!("logFiles[{}]", self.index),
            expected: "an object",
        };
        fail(self.failure, e)
    }
}

impl<'de> Visitor<'de> for Entry<'_> {
    type Value = LogFileEntry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a log file entry")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LogFileEntry, A::Error> {
        let mut fields: [Member; 6] = Default::default();
        let mut others = Others::default();
        while let Some(Name(name)) = map.next_key::<Name<'de>>()? {
            let index = ENTRY_FIELDS.iter().position(|f| *f == name.as_ref());
            let repeated = match index {
                Some(i) => fields[i].is_some(),
                None => others.repeated(&name),
            };
            if repeated {
                let dup = DigestFormatError::Duplicate(format!("logFiles[{}].{name}", self.index));
                return Err(fail(self.failure, dup));
            }
            match index {
                Some(i) => fields[i] = Some(map.next_value::<Scalar>()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        entry(self.index, fields).map_err(|e| fail(self.failure, e))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<LogFileEntry, A::Error> {
        Err(self.not_an_object())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<LogFileEntry, E> {
        Err(self.not_an_object())
    }
    fn visit_unit<E: de::Error>(self) -> Result<LogFileEntry, E> {
        Err(self.not_an_object())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<LogFileEntry, E> {
        Err(self.not_an_object())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<LogFileEntry, E> {
        Err(self.not_an_object())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<LogFileEntry, E> {
        Err(self.not_an_object())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<LogFileEntry, E> {
        Err(self.not_an_object())
    }
}

const ENTRY_FIELDS: [&str; 6] = [
    "s3Bucket",
    "s3Object",
    "hashValue",
    "hashAlgorithm",
    "newestEventTime",
    "oldestEventTime",
];

/// Checks the members of a log file entry.
fn entry(index: usize, fields: [Member; 6]) -> Result<LogFileEntry, DigestFormatError> {
    let [bucket, object, hash, algorithm, newest, oldest] = fields;
    let at = Place::Entry(index);
    let present = |m: Member, name: &'static str| {
        m.ok_or_else(|| DigestFormatError::Malformed {
            field: at.name(name),
            expected: "present",
        })
    };
    let bucket = at.string(Some(present(bucket, "s3Bucket")?), "s3Bucket")?;
    let object = at.string(Some(present(object, "s3Object")?), "s3Object")?;
    let hash = at.string(Some(present(hash, "hashValue")?), "hashValue")?;
    let algorithm = at.string(Some(present(algorithm, "hashAlgorithm")?), "hashAlgorithm")?;
    Ok(LogFileEntry {
        s3_bucket: bucket,
        s3_object: object,
        hash_value: at.sha256(&hash, "hashValue")?,
        hash_algorithm: algorithm,
        newest_event_time: at.optional_time(newest, "newestEventTime")?,
        oldest_event_time: at.optional_time(oldest, "oldestEventTime")?,
    })
}

/// Where a member sits, for error messages: the top level or a `logFiles` entry.
#[derive(Clone, Copy)]
pub(super) enum Place {
    Top,
    Entry(usize),
}

impl Place {
    pub(super) fn name(self, field: &str) -> String {
        match self {
            Self::Top => field.to_owned(),
            Self::Entry(i) => format!("logFiles[{i}].{field}"),
        }
    }

    fn malformed(self, field: &str, expected: &'static str) -> DigestFormatError {
        DigestFormatError::Malformed {
            field: self.name(field),
            expected,
        }
    }

    /// A member that must be present; `Ok(None)` when it is null.
    pub(super) fn nullable(
        self,
        member: Member,
        field: &'static str,
    ) -> Result<Option<String>, DigestFormatError> {
        match member {
            None => Err(DigestFormatError::Missing(field)),
            Some(Scalar::Null) => Ok(None),
            Some(Scalar::Str(s)) => Ok(Some(s)),
            Some(Scalar::Other) => Err(self.malformed(field, "a string or null")),
        }
    }

    /// A member that may be absent or null.
    pub(super) fn optional(
        self,
        member: Member,
        field: &'static str,
    ) -> Result<Option<String>, DigestFormatError> {
        match member {
            None => Ok(None),
            other => self.nullable(other, field),
        }
    }

    /// A member that must be a string.
    pub(super) fn string(
        self,
        member: Member,
        field: &'static str,
    ) -> Result<String, DigestFormatError> {
        self.nullable(member, field)?
            .ok_or_else(|| self.malformed(field, "a string"))
    }

    pub(super) fn time(
        self,
        text: &str,
        field: &'static str,
    ) -> Result<chrono::DateTime<chrono::Utc>, DigestFormatError> {
        parse_time(text).ok_or_else(|| self.malformed(field, "an ISO 8601 UTC time"))
    }

    pub(super) fn optional_time(
        self,
        member: Member,
        field: &'static str,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, DigestFormatError> {
        self.optional(member, field)?
            .map(|t| self.time(&t, field))
            .transpose()
    }

    pub(super) fn sha256(
        self,
        text: &str,
        field: &'static str,
    ) -> Result<Sha256Hash, DigestFormatError> {
        Sha256Hash::from_hex(text).ok_or_else(|| self.malformed(field, "64 hex characters"))
    }
}
