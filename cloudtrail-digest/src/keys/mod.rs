//! CloudTrail public keys and digest signature verification (AWS CloudTrail User Guide,
//! "Custom implementations of CloudTrail log file integrity validation", steps
//! "C. Retrieve the public key" and "D. Verify the signature").

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use chrono::{DateTime, TimeZone as _, Utc};
use rsa::pkcs1::{DecodeRsaPublicKey as _, EncodeRsaPublicKey as _};
use rsa::pkcs8::DecodePublicKey as _;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use serde::Serialize;
use serde_json::Value;

use crate::digest::{Digest, LogFileEntry};
use crate::hexvalue::{Fingerprint, Signature};
use crate::signing::SigningString;

/// Why a key file could not be loaded. The key file is named by the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file is neither `list-public-keys` JSON, PEM nor DER.
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

/// The period in which CloudTrail signs digests with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Validity {
    /// `ValidityStartTime`.
    pub start: DateTime<Utc>,
    /// `ValidityEndTime`.
    pub end: DateTime<Utc>,
}

/// One public key, possibly unusable (CloudTrail could publish bytes that are not an RSA key:
/// the reference reports `Unable to load PKCS #1 key` for such a key).
#[derive(Clone)]
pub struct PublicKey {
    fingerprint: Fingerprint,
    validity: Option<Validity>,
    key: Result<RsaPublicKey, String>,
    /// The key as PKCS#1 `RSAPublicKey` DER, for `ring` (empty if it did not load).
    pkcs1_der: Vec<u8>,
}

impl PublicKey {
    /// Builds a key from DER bytes (PKCS#1 `RSAPublicKey` or `SubjectPublicKeyInfo`). Bytes
    /// that are neither still make a key, which fails every verification.
    pub fn from_der(der: &[u8], validity: Option<Validity>) -> Self {
        let key = RsaPublicKey::from_pkcs1_der(der)
            .or_else(|_| RsaPublicKey::from_public_key_der(der))
            .map_err(|e| e.to_string());
        let pkcs1_der = key
            .as_ref()
            .ok()
            .and_then(|k| k.to_pkcs1_der().ok())
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default();
        Self {
            fingerprint: Fingerprint::of_der(der),
            validity,
            key,
            pkcs1_der,
        }
    }

    /// The key's fingerprint (MD5 of its DER bytes).
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// The validity window, when the key came from `ListPublicKeys`.
    pub fn validity(&self) -> Option<Validity> {
        self.validity
    }

    /// Whether the bytes parsed as an RSA public key.
    pub fn is_usable(&self) -> bool {
        self.key.is_ok()
    }

    /// Verifies a digest's signature (RSASSA-PKCS1-v1_5 with SHA-256 over its
    /// [`SigningString`]) with this key, which must be the one its
    /// `digestPublicKeyFingerprint` names.
    pub fn verify(
        &self,
        digest: Digest,
        signature: &Signature,
    ) -> Result<VerifiedDigest, SignatureError> {
        let fingerprint = digest.file().digest_public_key_fingerprint.clone();
        if fingerprint != self.fingerprint {
            return Err(SignatureError::UnknownKey(fingerprint));
        }
        let Ok(rsa_key) = &self.key else {
            return Err(SignatureError::UnloadableKey(fingerprint));
        };
        let signed = SigningString::new(&digest);
        // `ring` verifies in a tenth of the time; what it does not accept (a mismatch, or a
        // key size outside 2048-8192 bits) is decided by the `rsa` crate, so the verdict is
        // that of `rsa` whenever `ring` does not say valid.
        let fast = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            &self.pkcs1_der,
        );
        let valid = fast.verify(signed.as_bytes(), signature.as_bytes()).is_ok() || {
            use sha2::Digest as _;
            let hashed = sha2::Sha256::digest(signed.as_bytes());
            let scheme = Pkcs1v15Sign::new::<sha2::Sha256>();
            rsa_key
                .verify(scheme, &hashed, signature.as_bytes())
                .is_ok()
        };
        if valid {
            Ok(VerifiedDigest {
                digest,
                fingerprint,
            })
        } else {
            Err(SignatureError::Mismatch)
        }
    }
}

/// Where the walk finds the public key that signed a digest.
///
/// A [`PublicKeySet`] is one (keys loaded from files, for every region); a source backed by
/// CloudTrail's `ListPublicKeys` asks the digest's region for the time the digest was signed.
pub trait KeySource: Send + Sync {
    /// The key with `fingerprint` for digests of `region` signed around `signed_at`.
    /// `Ok(None)`: no such key (an integrity finding); `Err`: the keys could not be had,
    /// so the digest is left unchecked.
    fn key(
        &self,
        region: &str,
        fingerprint: &Fingerprint,
        signed_at: DateTime<Utc>,
    ) -> Result<Option<PublicKey>, String>;
}

impl KeySource for PublicKeySet {
    fn key(
        &self,
        _region: &str,
        fingerprint: &Fingerprint,
        _signed_at: DateTime<Utc>,
    ) -> Result<Option<PublicKey>, String> {
        Ok(self.keys.get(fingerprint).cloned())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("fingerprint", &self.fingerprint)
            .field("validity", &self.validity)
            .field("usable", &self.key.is_ok())
            .finish_non_exhaustive()
    }
}

/// Why a digest's signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// No key with the digest's fingerprint.
    UnknownKey(Fingerprint),
    /// The key with that fingerprint is not a loadable RSA key.
    UnloadableKey(Fingerprint),
    /// The signature does not verify with the key.
    Mismatch,
}

/// Proof that a digest's signature verified: the only way to reach its log file entries.
///
/// Constructed only by [`PublicKeySet::verify`], so no log file can be checked against a
/// digest whose signature was not verified.
#[derive(Debug, Clone)]
pub struct VerifiedDigest {
    digest: Digest,
    fingerprint: Fingerprint,
}

impl VerifiedDigest {
    /// The verified digest.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The log files the verified digest lists.
    pub fn log_files(&self) -> &[LogFileEntry] {
        &self.digest.file().log_files
    }

    /// The fingerprint of the key that verified it.
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// Gives back the digest.
    pub fn into_digest(self) -> Digest {
        self.digest
    }
}

/// Public keys by fingerprint.
#[derive(Debug, Clone, Default)]
pub struct PublicKeySet {
    keys: BTreeMap<Fingerprint, PublicKey>,
}

impl PublicKeySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key; a key already present under the same fingerprint is kept.
    pub fn insert(&mut self, key: PublicKey) {
        self.keys.entry(key.fingerprint.clone()).or_insert(key);
    }

    /// Adds every key of another set.
    pub fn extend(&mut self, other: PublicKeySet) {
        for key in other.keys.into_values() {
            self.insert(key);
        }
    }

    /// The key with a fingerprint.
    pub fn get(&self, fingerprint: &Fingerprint) -> Option<&PublicKey> {
        self.keys.get(fingerprint)
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set has no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Every key, by fingerprint.
    pub fn iter(&self) -> impl Iterator<Item = &PublicKey> {
        self.keys.values()
    }

    /// Loads a key file: the JSON `aws cloudtrail list-public-keys` prints, a PEM file
    /// (`RSA PUBLIC KEY` or `PUBLIC KEY`), or raw DER.
    pub fn from_file_bytes(bytes: &[u8]) -> Result<Self, KeyFileError> {
        let text = std::str::from_utf8(bytes).ok().map(str::trim_start);
        match text {
            Some(t) if t.starts_with('{') => Self::from_list_public_keys_json(bytes),
            Some(t) if t.starts_with("-----BEGIN") => {
                let (_label, der) = pem_rfc7468::decode_vec(t.trim_end().as_bytes())
                    .map_err(|e| KeyFileError::Format(format!("invalid PEM: {e}")))?;
                Self::from_der_checked(&der)
            }
            _ => Self::from_der_checked(bytes),
        }
    }

    fn from_der_checked(der: &[u8]) -> Result<Self, KeyFileError> {
        let key = PublicKey::from_der(der, None);
        if let Err(e) = &key.key {
            return Err(KeyFileError::Format(format!("not an RSA public key: {e}")));
        }
        let mut set = Self::new();
        set.insert(key);
        Ok(set)
    }

    /// Loads the JSON that `aws cloudtrail list-public-keys` prints (`PublicKeyList` of
    /// base64 `Value`, `Fingerprint`, `ValidityStartTime`, `ValidityEndTime`). Validity
    /// times may be epoch seconds or ISO 8601 text. A key whose `Fingerprint` is not the
    /// MD5 of its `Value` is refused; one whose `Value` is not an RSA key is kept, so that
    /// the digests it signed are reported as unverifiable with that key.
    pub fn from_list_public_keys_json(bytes: &[u8]) -> Result<Self, KeyFileError> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| KeyFileError::Format(format!("invalid JSON: {e}")))?;
        let Some(list) = value.get("PublicKeyList").and_then(Value::as_array) else {
            return Err(KeyFileError::Format("no PublicKeyList array".into()));
        };
        let mut set = Self::new();
        for (index, entry) in list.iter().enumerate() {
            let field = |name: &str| {
                entry
                    .get(name)
                    .ok_or_else(|| KeyFileError::Format(format!("key {index}: {name} is missing")))
            };
            let der = field("Value")?
                .as_str()
                .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
                .ok_or_else(|| KeyFileError::Format(format!("key {index}: Value is not base64")))?;
            let stated = field("Fingerprint")?.as_str().unwrap_or_default();
            let actual = Fingerprint::of_der(&der);
            if Fingerprint::from_hex(stated).as_ref() != Some(&actual) {
                return Err(KeyFileError::FingerprintMismatch {
                    index,
                    stated: stated.to_owned(),
                    actual,
                });
            }
            let time = |name: &str| {
                parse_validity_time(field(name)?).ok_or_else(|| {
                    KeyFileError::Format(format!("key {index}: {name} is not a time"))
                })
            };
            let validity = Validity {
                start: time("ValidityStartTime")?,
                end: time("ValidityEndTime")?,
            };
            set.insert(PublicKey::from_der(&der, Some(validity)));
        }
        Ok(set)
    }

    /// Verifies a digest's signature (RSASSA-PKCS1-v1_5 with SHA-256 over its
    /// [`SigningString`]) with the key its `digestPublicKeyFingerprint` names.
    pub fn verify(
        &self,
        digest: Digest,
        signature: &Signature,
    ) -> Result<VerifiedDigest, SignatureError> {
        let fingerprint = &digest.file().digest_public_key_fingerprint;
        match self.keys.get(fingerprint) {
            Some(key) => key.verify(digest, signature),
            None => Err(SignatureError::UnknownKey(fingerprint.clone())),
        }
    }
}

fn parse_validity_time(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::Number(n) => {
            let secs = n.as_f64()?;
            // Whole seconds: CloudTrail's windows are second-aligned.
            #[allow(clippy::cast_possible_truncation)]
            Utc.timestamp_opt(secs.floor() as i64, 0).single()
        }
        Value::String(s) => crate::digest::parse_time(s).or_else(|| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
                .ok()
                .map(|t| t.and_utc())
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: &[u8] = include_bytes!("../../testdata/real/aws-public-keys.json");

    #[test]
    fn loads_aws_published_keys_pkcs1_and_spki() {
        let set = PublicKeySet::from_list_public_keys_json(SAMPLES).unwrap();
        assert_eq!(set.len(), 4);
        for fp in [
            "8eba5db5bea9b640d1c96a77256fe7f2",
            "8933b39ddc64d26d8e14ffbf6566fee4",
            "31e8b5433410dfb61a9dc45cc65b22ff",
            "7f3f401420072e50a65a141430817ab3",
        ] {
            let key = set.get(&Fingerprint::from_hex(fp).unwrap()).unwrap();
            assert!(key.is_usable(), "{fp}");
        }
        let k = set
            .get(&Fingerprint::from_hex("7f3f401420072e50a65a141430817ab3").unwrap())
            .unwrap();
        assert_eq!(k.validity().unwrap().start.timestamp(), 1_453_076_702);
    }

    #[test]
    fn verifies_with_ring_and_both_libraries_agree() {
        use cloudtrail_digest_testgen::{cases::standard_trail, Generator, Hour, TestKey, Tree};
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/keys");
        let test_key = TestKey::load(&dir, 1).unwrap();
        let t0 = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 7).unwrap();
        let list = serde_json::json!({ "PublicKeyList": [test_key.list_entry(t0, t0)] });
        let set = PublicKeySet::from_list_public_keys_json(list.to_string().as_bytes()).unwrap();
        let hours = [Hour::default(); 2];
        let gen = Generator::new(1).chain(
            &mut Tree::default(),
            &standard_trail(),
            &[&test_key],
            t0,
            &hours,
            None,
        );
        let digest = Digest::from_json(gen[1].json.clone()).unwrap();
        let key = set
            .get(&digest.file().digest_public_key_fingerprint)
            .unwrap();
        let signature = Signature::from_hex(&gen[1].signature).unwrap();
        // The fast path itself accepts it (else every verification would fall back).
        let ring_key = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            &key.pkcs1_der,
        );
        let signed = SigningString::new(&digest);
        assert!(ring_key
            .verify(signed.as_bytes(), signature.as_bytes())
            .is_ok());
        assert!(key.verify(digest.clone(), &signature).is_ok());
        // Another digest's signature: a mismatch for both.
        let other = Signature::from_hex(&gen[0].signature).unwrap();
        assert!(ring_key
            .verify(signed.as_bytes(), other.as_bytes())
            .is_err());
        assert_eq!(
            key.verify(digest, &other).err(),
            Some(SignatureError::Mismatch)
        );
        // AWS's published keys, PKCS#1 and SPKI alike, convert for ring.
        let aws = PublicKeySet::from_list_public_keys_json(SAMPLES).unwrap();
        assert!(aws.keys.values().all(|k| !k.pkcs1_der.is_empty()));
    }

    #[test]
    fn refuses_a_wrong_fingerprint() {
        let text = String::from_utf8(SAMPLES.to_vec()).unwrap().replace(
            "8933b39ddc64d26d8e14ffbf6566fee4",
            "8933b39ddc64d26d8e14ffbf6566fee5",
        );
        let err = PublicKeySet::from_list_public_keys_json(text.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "key 1: Fingerprint 8933b39ddc64d26d8e14ffbf6566fee5 is not the MD5 of its Value (which is 8933b39ddc64d26d8e14ffbf6566fee4)"
        );
    }

    #[test]
    fn accepts_iso_validity_times_and_pem() {
        let json = r#"{"PublicKeyList":[{"Value":"MIIBCgKCAQEAlSS3cl92HDycr/MTj0moOhas8habjrraXw+KzlWF0axSI2tcF+3iJ9BKQAVSKxGwxwu3m0wG3J+kUl1xboEcEPHYoIYMbgfSw7KGnuDKwkLzsQWhUJ0cIbOHASox1vv/5fNXkrHhGbDCHeVXm804c83nvHUEFYThr1PfyP/8HwrCtR3FX5OANtQCP61C1nJtSSkC8JSQUOrIP4CuwJjc+4WGDk+BGH5m9iuiAKkipEHWmUl8/P7XpfpWQuk4h8g3pXZOrNXr08lbh4d39svj7UqdhvOXoBISp9t/EXYuePGEtBdrKD9Dz+VHwyUPtBQvYr9BnkF88qBnaPNhS44rzwIDAQAB","ValidityStartTime":"2016-01-18T00:25:02+00:00","ValidityEndTime":"2016-02-17T00:25:02Z","Fingerprint":"7f3f401420072e50a65a141430817ab3"}]}"#;
        let set = PublicKeySet::from_file_bytes(json.as_bytes()).unwrap();
        let key = set.iter().next().unwrap();
        assert_eq!(key.validity().unwrap().start.timestamp(), 1_453_076_702);
        let b64 = "MIIBCgKCAQEAlSS3cl92HDycr/MTj0moOhas8habjrraXw+KzlWF0axSI2tcF+3iJ9BKQAVSKxGwxwu3m0wG3J+kUl1xboEcEPHYoIYMbgfSw7KGnuDKwkLzsQWhUJ0cIbOHASox1vv/5fNXkrHhGbDCHeVXm804c83nvHUEFYThr1PfyP/8HwrCtR3FX5OANtQCP61C1nJtSSkC8JSQUOrIP4CuwJjc+4WGDk+BGH5m9iuiAKkipEHWmUl8/P7XpfpWQuk4h8g3pXZOrNXr08lbh4d39svj7UqdhvOXoBISp9t/EXYuePGEtBdrKD9Dz+VHwyUPtBQvYr9BnkF88qBnaPNhS44rzwIDAQAB";
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let pem = format!(
            "-----BEGIN RSA PUBLIC KEY-----\n{}\n-----END RSA PUBLIC KEY-----\n",
            lines.join("\n")
        );
        let from_pem = PublicKeySet::from_file_bytes(pem.as_bytes()).unwrap();
        assert_eq!(
            from_pem.iter().next().unwrap().fingerprint(),
            key.fingerprint()
        );
        assert!(PublicKeySet::from_file_bytes(b"not a key").is_err());
    }
}
