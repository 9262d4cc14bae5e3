//! CloudTrail's public keys: RSA keys of any size up to [`MAX_KEY_BITS`], named by the MD5
//! fingerprints of their DER encodings (AWS CloudTrail User Guide, "Custom implementations
//! of CloudTrail log file integrity validation", step "C. Retrieve the public key").

use std::fmt;

use chrono::{DateTime, Utc};
use rsa::pkcs1::EncodeRsaPublicKey as _;
use rsa::pkcs8::EncodePublicKey as _;
use rsa::traits::PublicKeyParts as _;
use rsa::{BigUint, RsaPublicKey};
use serde::Serialize;

use crate::format::hex::Fingerprint;

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
pub(super) enum Unusable {
    /// Not an RSA public key at all (the reference: `Unable to load PKCS #1 key`).
    NotRsa,
    /// An RSA key larger than [`MAX_KEY_BITS`].
    TooLarge(usize),
}

/// A loaded RSA key, with its PKCS#1 DER for `ring`.
#[derive(Clone)]
pub(super) struct Loaded {
    pub(super) rsa: RsaPublicKey,
    pub(super) pkcs1_der: Vec<u8>,
}

/// One public key, possibly unusable (CloudTrail could publish bytes that are not an RSA
/// key: the reference reports `Unable to load PKCS #1 key` for such a key).
#[derive(Clone)]
pub struct PublicKey {
    /// The fingerprints that name this key: the first is the MD5 of the bytes it was given
    /// as; a key from a file that declares none is also named by the MD5 of its other
    /// encoding (PKCS#1 or `SubjectPublicKeyInfo`).
    pub(super) fingerprints: Vec<Fingerprint>,
    pub(super) validity: Option<Validity>,
    /// The region the key is for, when its source says so.
    pub(super) region: Option<String>,
    pub(super) key: Result<Loaded, Unusable>,
    /// The DER bytes it was given as.
    pub(super) der: Vec<u8>,
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
            der: der.to_vec(),
        }
    }

    /// A key as CloudTrail lists it (`ListPublicKeys`, or a file of its output): its
    /// window, its region, and the fingerprint CloudTrail states, which must be the MD5
    /// of the bytes.
    ///
    /// # Errors
    /// The stated fingerprint is not the bytes' (given back: the actual one).
    pub(crate) fn listed(
        der: &[u8],
        stated: &str,
        validity: Validity,
        region: Option<String>,
    ) -> Result<Self, Fingerprint> {
        let mut key = Self::from_der(der, Some(validity));
        if Fingerprint::from_hex(stated).as_ref() != Some(key.fingerprint()) {
            return Err(key.fingerprint().clone());
        }
        key.region = region;
        Ok(key)
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

    /// The DER bytes it was given as.
    pub fn der(&self) -> &[u8] {
        &self.der
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

    /// Whether the key may have signed a digest of `region` at `at`: its region (when
    /// known) and its window (when known) allow it.
    pub(super) fn covers(&self, region: &str, at: DateTime<Utc>) -> bool {
        self.region.as_deref().is_none_or(|r| r == region)
            && self.validity.is_none_or(|v| v.start <= at && at <= v.end)
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
