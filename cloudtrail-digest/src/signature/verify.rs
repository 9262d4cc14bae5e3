//! Signature verification (AWS CloudTrail User Guide, "Custom implementations of
//! CloudTrail log file integrity validation", step "D. Verify the signature"): the only
//! way to a [`VerifiedDigest`], and so to the log file entries of a digest.

use rsa::Pkcs1v15Sign;

use super::public_key::{PublicKey, Unusable};
use super::signing_string::SigningString;
use crate::format::digest_file::{Digest, LogFileEntry};
use crate::format::hex::{Fingerprint, Signature};

impl PublicKey {
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
        // The fast path verifies in a tenth of the time; what it does not accept (a
        // mismatch, or a key size outside 2048-8192 bits) is decided by the `rsa` crate, so
        // the verdict is that of `rsa` whenever the fast path does not say valid.
        let valid = fast_verify(&loaded.pkcs1_der, signed.as_bytes(), signature.as_bytes()) || {
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
}

/// Why a digest's signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// No key with the digest's fingerprint.
    UnknownKey(Fingerprint),
    /// The key with that fingerprint is not a loadable RSA key.
    UnloadableKey(Fingerprint),
    /// The key is larger than [`MAX_KEY_BITS`](super::MAX_KEY_BITS): not verified, never called tampered.
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

/// RSA PKCS#1 v1.5 SHA-256 verification through a C crypto library the build already has:
/// the AWS SDK's own (`aws-lc-rs`) with feature `aws`, so that the build holds one C crypto
/// library, not two; else `ring` (feature `ring`, default); else none, and every signature
/// is decided by the pure-Rust `rsa` crate. Keys of 2048 to 8192 bits only.
pub(crate) fn fast_verify(pkcs1_der: &[u8], message: &[u8], signature: &[u8]) -> bool {
    #[cfg(feature = "aws")]
    use aws_lc_rs::signature as fast;
    #[cfg(all(feature = "ring", not(feature = "aws")))]
    use ring::signature as fast;
    #[cfg(any(feature = "aws", feature = "ring"))]
    {
        fast::UnparsedPublicKey::new(&fast::RSA_PKCS1_2048_8192_SHA256, pkcs1_der)
            .verify(message, signature)
            .is_ok()
    }
    #[cfg(not(any(feature = "aws", feature = "ring")))]
    {
        let _ = (pkcs1_der, message, signature);
        false
    }
}
