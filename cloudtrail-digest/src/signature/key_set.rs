//! A set of public keys found by fingerprint, and the key source it is: keys loaded from
//! files, where a missing fingerprint is a finding only if the files cover the digest.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::key_source::KeySource;
use super::public_key::PublicKey;
use super::verify::{SignatureError, VerifiedDigest};
use crate::format::digest_file::Digest;
use crate::format::hex::{Fingerprint, Signature};
use crate::format::time::display;

/// Public keys, found by any fingerprint that names them.
#[derive(Debug, Clone, Default)]
pub struct PublicKeySet {
    pub(super) keys: Vec<PublicKey>,
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
    /// [`SigningString`](super::SigningString)) with the key its `digestPublicKeyFingerprint` names.
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
                display(signed_at)
            ));
        }
        Ok(None)
    }
}
