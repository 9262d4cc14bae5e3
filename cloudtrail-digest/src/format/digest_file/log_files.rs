//! The `logFiles` array: each entry read into a [`LogFileEntry`], its place named in errors.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::model::{DigestFormatError, LogFileEntry};
use super::place::Place;
use super::scalars::{fail, Member, Name, Others, Scalar};

/// The `logFiles` array.
pub(super) struct LogFiles<'f> {
    pub(super) failure: &'f mut Option<DigestFormatError>,
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

pub(super) fn not_an_array<E: de::Error>(failure: &mut Option<DigestFormatError>) -> E {
    let e = DigestFormatError::Malformed {
        field: "logFiles".into(),
        expected: "an array",
    };
    fail(failure, e)
}

/// One entry of `logFiles`.
pub(super) struct Entry<'f> {
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

pub(super) const ENTRY_FIELDS: [&str; 6] = [
    "s3Bucket",
    "s3Object",
    "hashValue",
    "hashAlgorithm",
    "newestEventTime",
    "oldestEventTime",
];

/// Checks the members of a log file entry.
pub(super) fn entry(index: usize, fields: [Member; 6]) -> Result<LogFileEntry, DigestFormatError> {
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
