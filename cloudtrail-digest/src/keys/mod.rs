//! CloudTrail public keys and digest signature verification (AWS CloudTrail User Guide,
//! "Custom implementations of CloudTrail log file integrity validation", steps
//! "C. Retrieve the public key" and "D. Verify the signature").

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use rsa::pkcs1::EncodeRsaPublicKey as _;
use rsa::pkcs8::EncodePublicKey as _;
use rsa::traits::PublicKeyParts as _;
use rsa::{BigUint, Pkcs1v15Sign, RsaPublicKey};
use serde::Serialize;

use crate::digest::{Digest, LogFileEntry};
use crate::hexvalue::{Fingerprint, Signature};
use crate::signing::SigningString;

mod file;

pub use file::KeyFileError;

/// The largest RSA modulus verified, in bits. CloudTrail's keys are 2048 bits; a key file
/// may hold any size up to this, and a larger key leaves its digests unchecked, never
/// called tampered.
pub const MAX_KEY_BITS: usize = 16384;

/// The period in which CloudTrail signs digests with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Validity {
    /// `ValidityStartTime`.
    pub start: DateTime<Utc>,
    /// `ValidityEndTime`.
    pub end: DateTime<Utc>,
}

/// Why the bytes of a key are not a usable RSA public key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Unusable {
    /// Not an RSA public key at all (the reference: `Unable to load PKCS #1 key`).
    NotRsa,
    /// An RSA key larger than [`MAX_KEY_BITS`].
    TooLarge(usize),
}

/// A loaded RSA key, with its PKCS#1 DER for `ring`.
#[derive(Clone)]
struct Loaded {
    rsa: RsaPublicKey,
    pkcs1_der: Vec<u8>,
}

/// One public key, possibly unusable (CloudTrail could publish bytes that are not an RSA
/// key: the reference reports `Unable to load PKCS #1 key` for such a key).
#[derive(Clone)]
pub struct PublicKey {
    /// The fingerprints that name this key: the first is the MD5 of the bytes it was given
    /// as; a key from a file that declares none is also named by the MD5 of its other
    /// encoding (PKCS#1 or `SubjectPublicKeyInfo`).
    fingerprints: Vec<Fingerprint>,
    validity: Option<Validity>,
    /// The region the key is for, when its source says so.
    region: Option<String>,
    key: Result<Loaded, Unusable>,
}

/// The DER of an RSA public key given as PKCS#1 `RSAPublicKey` or as
/// `SubjectPublicKeyInfo`, as PKCS#1.
fn pkcs1_bytes(der: &[u8]) -> Option<&[u8]> {
    if rsa::pkcs1::RsaPublicKey::try_from(der).is_ok() {
        return Some(der);
    }
    let spki = rsa::pkcs8::SubjectPublicKeyInfoRef::try_from(der).ok()?;
    spki.algorithm
        .assert_algorithm_oid(rsa::pkcs1::ALGORITHM_OID)
        .ok()?;
    let inner = spki.subject_public_key.as_bytes()?;
    rsa::pkcs1::RsaPublicKey::try_from(inner)
        .ok()
        .map(|_| inner)
}

/// Loads an RSA public key of any size up to [`MAX_KEY_BITS`].
fn load(der: &[u8]) -> Result<Loaded, Unusable> {
    let pkcs1 = pkcs1_bytes(der).ok_or(Unusable::NotRsa)?;
    let parts = rsa::pkcs1::RsaPublicKey::try_from(pkcs1).map_err(|_| Unusable::NotRsa)?;
    let n = BigUint::from_bytes_be(parts.modulus.as_bytes());
    let e = BigUint::from_bytes_be(parts.public_exponent.as_bytes());
    let bits = n.bits();
    if bits > MAX_KEY_BITS {
        return Err(Unusable::TooLarge(bits));
    }
    let rsa = RsaPublicKey::new_with_max_size(n, e, MAX_KEY_BITS).map_err(|_| Unusable::NotRsa)?;
    let pkcs1_der = rsa
        .to_pkcs1_der()
        .map(|d| d.as_bytes().to_vec())
        .unwrap_or_default();
    Ok(Loaded { rsa, pkcs1_der })
}

impl PublicKey {
    /// Builds a key from DER bytes (PKCS#1 `RSAPublicKey` or `SubjectPublicKeyInfo`), named
    /// by their MD5 as CloudTrail's `ListPublicKeys` names it. Bytes that are not an RSA key
    /// still make a key, which fails every verification.
    pub fn from_der(der: &[u8], validity: Option<Validity>) -> Self {
        Self {
            fingerprints: vec![Fingerprint::of_der(der)],
            validity,
            region: None,
            key: load(der),
        }
    }

    /// A key from a file that declares no fingerprint: also named by the MD5 of its other
    /// encoding, so that a key saved as PKCS#1 or as `SubjectPublicKeyInfo` (what
    /// `openssl rsa -pubout` writes) matches the fingerprint CloudTrail computed over
    /// either.
    pub(crate) fn from_key_file_der(der: &[u8]) -> Self {
        let mut key = Self::from_der(der, None);
        if let Ok(loaded) = &key.key {
            let spki = loaded.rsa.to_public_key_der().ok();
            let encodings = [
                Some(loaded.pkcs1_der.as_slice()),
                spki.as_ref().map(rsa::pkcs8::Document::as_bytes),
            ];
            for other in encodings.into_iter().flatten() {
                let fingerprint = Fingerprint::of_der(other);
                if !key.fingerprints.contains(&fingerprint) {
                    key.fingerprints.push(fingerprint);
                }
            }
        }
        key
    }

    /// The key's fingerprint (MD5 of the DER bytes it was given as).
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprints[0]
    }

    /// Every fingerprint that names the key.
    pub fn fingerprints(&self) -> &[Fingerprint] {
        &self.fingerprints
    }

    /// The validity window, when the key came from `ListPublicKeys`.
    pub fn validity(&self) -> Option<Validity> {
        self.validity
    }

    /// The region the key is for, when its source says so.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// Whether the bytes are an RSA public key this tool can verify with.
    pub fn is_usable(&self) -> bool {
        self.key.is_ok()
    }

    /// The modulus size in bits, when the key loaded.
    pub fn bits(&self) -> Option<usize> {
        Some(self.key.as_ref().ok()?.rsa.n().bits())
    }

    /// Verifies a digest's signature (RSASSA-PKCS1-v1_5 with SHA-256 over its
    /// [`SigningString`]) with this key, which must be one its
    /// `digestPublicKeyFingerprint` names.
    pub fn verify(
        &self,
        digest: Digest,
        signature: &Signature,
    ) -> Result<VerifiedDigest, SignatureError> {
        let fingerprint = digest.file().digest_public_key_fingerprint.clone();
        if !self.fingerprints.contains(&fingerprint) {
            return Err(SignatureError::UnknownKey(fingerprint));
        }
        let loaded = match &self.key {
            Ok(k) => k,
            Err(Unusable::NotRsa) => return Err(SignatureError::UnloadableKey(fingerprint)),
            Err(Unusable::TooLarge(bits)) => {
                return Err(SignatureError::KeyTooLarge {
                    fingerprint,
                    bits: *bits,
                })
            }
        };
        let signed = SigningString::new(&digest);
        // `ring` verifies in a tenth of the time; what it does not accept (a mismatch, or a
        // key size outside 2048-8192 bits) is decided by the `rsa` crate, so the verdict is
        // that of `rsa` whenever `ring` does not say valid.
        let fast = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            &loaded.pkcs1_der,
        );
        let valid = fast.verify(signed.as_bytes(), signature.as_bytes()).is_ok() || {
            use sha2::Digest as _;
            let hashed = sha2::Sha256::digest(signed.as_bytes());
            let scheme = Pkcs1v15Sign::new::<sha2::Sha256>();
            loaded
                .rsa
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

    /// Whether the key may have signed a digest of `region` at `at`: its region (when
    /// known) and its window (when known) allow it.
    fn covers(&self, region: &str, at: DateTime<Utc>) -> bool {
        self.region.as_deref().is_none_or(|r| r == region)
            && self.validity.is_none_or(|v| v.start <= at && at <= v.end)
    }
}

/// Where the walk finds the public key that signed a digest.
///
/// A [`PublicKeySet`] is one (keys loaded from files); a source backed by CloudTrail's
/// `ListPublicKeys` asks the digest's region for the time the digest was signed.
pub trait KeySource: Send + Sync {
    /// The key with `fingerprint` for digests of `region` signed around `signed_at`.
    /// `Ok(None)`: the source holds the keys of that region and time and none has this
    /// fingerprint (an integrity finding); `Err` (a sentence saying why): the keys could
    /// not be had, so the digest is left unchecked, never called tampered.
    fn key(
        &self,
        region: &str,
        fingerprint: &Fingerprint,
        signed_at: DateTime<Utc>,
    ) -> Result<Option<PublicKey>, String>;
}

/// Keys from files: a missing fingerprint is a finding only where the files hold keys of
/// the digest's region valid when it was signed; otherwise the user gave the wrong keys,
/// and the digest is unchecked.
impl KeySource for PublicKeySet {
    fn key(
        &self,
        region: &str,
        fingerprint: &Fingerprint,
        signed_at: DateTime<Utc>,
    ) -> Result<Option<PublicKey>, String> {
        if let Some(key) = self.get(fingerprint) {
            return Ok(Some(key.clone()));
        }
        if self.keys.is_empty() {
            return Err("no public key in the given key files".into());
        }
        if !self
            .keys
            .iter()
            .any(|k| k.region().is_none_or(|r| r == region))
        {
            return Err(format!(
                "no public key for region {region} in the given key files"
            ));
        }
        if !self.keys.iter().any(|k| k.covers(region, signed_at)) {
            return Err(format!(
                "no public key in the given key files for region {region} is valid at {}: give keys covering that time",
                signed_at.format("%Y-%m-%dT%H:%M:%SZ")
            ));
        }
        Ok(None)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("fingerprints", &self.fingerprints)
            .field("validity", &self.validity)
            .field("region", &self.region)
            .field("usable", &self.key.is_ok())
            .finish_non_exhaustive()
    }
}

/// Why a digest's signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// No key with the digest's fingerprint.
    UnknownKey(Fingerprint),
    /// The key with that fingerprint is not a loadable RSA key.
    UnloadableKey(Fingerprint),
    /// The key is larger than [`MAX_KEY_BITS`]: not verified, never called tampered.
    KeyTooLarge {
        /// The key's fingerprint.
        fingerprint: Fingerprint,
        /// Its modulus size.
        bits: usize,
    },
    /// The signature does not verify with the key.
    Mismatch,
}

/// Proof that a digest's signature verified: the only way to reach its log file entries.
///
/// Constructed only by [`PublicKey::verify`], so no log file can be checked against a
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

/// Public keys, found by any fingerprint that names them.
#[derive(Debug, Clone, Default)]
pub struct PublicKeySet {
    keys: Vec<PublicKey>,
    /// Fingerprint to index in `keys`.
    by_fingerprint: BTreeMap<Fingerprint, usize>,
}

impl PublicKeySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key; a fingerprint already naming a key keeps naming that one.
    pub fn insert(&mut self, key: PublicKey) {
        let index = self.keys.len();
        let mut new = false;
        for fingerprint in key.fingerprints() {
            if let std::collections::btree_map::Entry::Vacant(e) =
                self.by_fingerprint.entry(fingerprint.clone())
            {
                e.insert(index);
                new = true;
            }
        }
        if new {
            self.keys.push(key);
        }
    }

    /// Adds every key of another set.
    pub fn extend(&mut self, other: PublicKeySet) {
        for key in other.keys {
            self.insert(key);
        }
    }

    /// The key a fingerprint names.
    pub fn get(&self, fingerprint: &Fingerprint) -> Option<&PublicKey> {
        self.by_fingerprint
            .get(fingerprint)
            .and_then(|&i| self.keys.get(i))
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set has no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Every key.
    pub fn iter(&self) -> impl Iterator<Item = &PublicKey> {
        self.keys.iter()
    }

    /// Verifies a digest's signature (RSASSA-PKCS1-v1_5 with SHA-256 over its
    /// [`SigningString`]) with the key its `digestPublicKeyFingerprint` names.
    pub fn verify(
        &self,
        digest: Digest,
        signature: &Signature,
    ) -> Result<VerifiedDigest, SignatureError> {
        let fingerprint = &digest.file().digest_public_key_fingerprint;
        match self.get(fingerprint) {
            Some(key) => key.verify(digest, signature),
            None => Err(SignatureError::UnknownKey(fingerprint.clone())),
        }
    }
}

#[cfg(test)]
mod tests;
