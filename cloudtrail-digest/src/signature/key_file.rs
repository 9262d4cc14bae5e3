//! Key files: the JSON `aws cloudtrail list-public-keys` prints, PEM, or DER.

use base64::Engine as _;
use chrono::{DateTime, TimeZone as _, Utc};
use serde_json::Value;

use super::key_set::PublicKeySet;
use super::public_key::{PublicKey, Unusable, Validity, MAX_KEY_BITS};
use crate::format::hex::Fingerprint;

/// Why a key file could not be loaded. The key file is named by the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file is neither `list-public-keys` JSON, PEM nor DER, or one of its keys is
    /// malformed.
    #[error("{0}")]
    Format(String),
    /// A `Fingerprint` is not the hex MD5 of its key's DER bytes.
    #[error("key {index}: Fingerprint {stated} is not the MD5 of its Value (which is {actual})")]
    FingerprintMismatch {
        /// Position of the key in `PublicKeyList`.
        index: usize,
        /// The fingerprint the file states.
        stated: String,
        /// The MD5 of the DER bytes.
        actual: Fingerprint,
    },
}

fn format(message: impl Into<String>) -> KeyFileError {
    KeyFileError::Format(message.into())
}

impl PublicKeySet {
    /// Loads a key file: the JSON `aws cloudtrail list-public-keys` prints (or its bare
    /// `PublicKeyList` array), PEM (`RSA PUBLIC KEY` or `PUBLIC KEY` blocks, one or more), or
    /// one key in DER. A PEM or DER key, which declares no fingerprint, is named by the MD5
    /// of both its PKCS#1 and its `SubjectPublicKeyInfo` encodings.
    pub fn from_file_bytes(bytes: &[u8]) -> Result<Self, KeyFileError> {
        let text = std::str::from_utf8(bytes).ok().map(str::trim);
        match text {
            Some("") => Err(format("the file is empty")),
            Some(t) if t.starts_with(['{', '[']) => Self::from_list_public_keys_json(bytes),
            Some(t) if t.starts_with("-----BEGIN") => Self::from_pem(t),
            Some(t) if t.contains("-----BEGIN") => Err(format(
                "text before the first PEM block: not a key file (expected list-public-keys JSON, PEM or DER)",
            )),
            Some(_) if bytes.first() != Some(&0x30) => Err(format(
                "not a key file: expected the JSON `aws cloudtrail list-public-keys` prints, a PEM public key, or a DER public key",
            )),
            _ => Self::from_key_der(bytes, "the DER key"),
        }
    }

    fn from_pem(text: &str) -> Result<Self, KeyFileError> {
        let mut set = Self::new();
        let mut rest = text;
        let mut n = 0;
        while let Some(begin) = rest.find("-----BEGIN") {
            n += 1;
            let block = &rest[begin..];
            let end_marker = block
                .find("-----END")
                .and_then(|e| block[e + 8..].find("-----").map(|t| e + 8 + t + 5))
                .ok_or_else(|| format(format!("PEM block {n} has no END line")))?;
            let (label, der) = pem_rfc7468::decode_vec(&block.as_bytes()[..end_marker])
                .map_err(|e| format(format!("PEM block {n} is not valid PEM: {e}")))?;
            if label != "RSA PUBLIC KEY" && label != "PUBLIC KEY" {
                return Err(format(format!(
                    "PEM block {n} is a {label}, not a public key (RSA PUBLIC KEY or PUBLIC KEY)"
                )));
            }
            set.extend(Self::from_key_der(&der, &format!("PEM block {n}"))?);
            rest = &block[end_marker..];
        }
        if !rest.trim().is_empty() {
            return Err(format("text after the last PEM block"));
        }
        Ok(set)
    }

    fn from_key_der(der: &[u8], what: &str) -> Result<Self, KeyFileError> {
        let key = PublicKey::from_key_file_der(der);
        match key.key {
            Ok(_) => {}
            Err(Unusable::NotRsa) => {
                return Err(format(format!(
                    "{what} is not an RSA public key (PKCS#1 RSAPublicKey or SubjectPublicKeyInfo)"
                )))
            }
            Err(Unusable::TooLarge(bits)) => {
                return Err(format(format!(
                "{what} is an RSA key of {bits} bits, larger than the {MAX_KEY_BITS} bits verified"
            )))
            }
        }
        let mut set = Self::new();
        set.insert(key);
        Ok(set)
    }

    /// Loads the JSON that `aws cloudtrail list-public-keys` prints (`PublicKeyList` of
    /// base64 `Value`, `Fingerprint`, `ValidityStartTime`, `ValidityEndTime`), or the bare
    /// array. Validity times may be epoch seconds or ISO 8601 text. An entry may name its
    /// `Region` (as `cloudtrail-digest keys` writes it); without one a key serves every
    /// region. A key whose `Fingerprint` is not the MD5 of its `Value` is refused; one whose
    /// `Value` is not an RSA key is kept, so that the digests it signed are reported as
    /// unverifiable with that key.
    pub fn from_list_public_keys_json(bytes: &[u8]) -> Result<Self, KeyFileError> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| format(format!("invalid list-public-keys JSON: {e}")))?;
        let list = match &value {
            Value::Array(list) => list,
            Value::Object(map) => match map.get("PublicKeyList") {
                Some(Value::Array(list)) => list,
                Some(_) => return Err(format("PublicKeyList is not an array")),
                None => return Err(format("no PublicKeyList: not list-public-keys JSON")),
            },
            _ => return Err(format("not list-public-keys JSON")),
        };
        let mut set = Self::new();
        for (index, entry) in list.iter().enumerate() {
            set.insert(list_entry(index, entry)?);
        }
        Ok(set)
    }

    /// The keys as `aws cloudtrail list-public-keys` JSON (`{"PublicKeyList": [...]}`,
    /// times in epoch seconds, each key's region as `Region`), which
    /// [`PublicKeySet::from_list_public_keys_json`] reads back.
    pub fn to_list_public_keys_json(&self) -> Value {
        let entries: Vec<Value> = self
            .iter()
            .map(|k| {
                let validity = k.validity();
                serde_json::json!({
                    "Value": base64::engine::general_purpose::STANDARD.encode(k.der()),
                    "ValidityStartTime": validity.map(|v| v.start.timestamp()),
                    "ValidityEndTime": validity.map(|v| v.end.timestamp()),
                    "Fingerprint": k.fingerprint().as_str(),
                    "Region": k.region(),
                })
            })
            .collect();
        serde_json::json!({ "PublicKeyList": entries })
    }
}

/// One `PublicKeyList` entry.
fn list_entry(index: usize, entry: &Value) -> Result<PublicKey, KeyFileError> {
    let field = |name: &str| {
        entry
            .get(name)
            .ok_or_else(|| format(format!("key {index}: {name} is missing")))
    };
    let der = field("Value")?
        .as_str()
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
        .ok_or_else(|| format(format!("key {index}: Value is not base64")))?;
    let stated = field("Fingerprint")?.as_str().unwrap_or_default();
    let time = |name: &str| {
        parse_validity_time(field(name)?)
            .ok_or_else(|| format(format!("key {index}: {name} is not a time")))
    };
    let validity = Validity {
        start: time("ValidityStartTime")?,
        end: time("ValidityEndTime")?,
    };
    let region = match entry.get("Region") {
        None | Some(Value::Null) => None,
        Some(Value::String(r)) => Some(r.clone()),
        Some(_) => return Err(format(format!("key {index}: Region is not a string"))),
    };
    PublicKey::listed(&der, stated, validity, region).map_err(|actual| {
        KeyFileError::FingerprintMismatch {
            index,
            stated: stated.to_owned(),
            actual,
        }
    })
}

fn parse_validity_time(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::Number(n) => {
            let secs = n.as_f64()?;
            // Whole seconds: CloudTrail's windows are second-aligned.
            #[allow(clippy::cast_possible_truncation)]
            Utc.timestamp_opt(secs.floor() as i64, 0).single()
        }
        Value::String(s) => crate::format::time::parse(s).or_else(|| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
                .ok()
                .map(|t| t.and_utc())
        }),
        _ => None,
    }
}
