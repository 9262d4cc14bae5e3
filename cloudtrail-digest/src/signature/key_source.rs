//! Where the walk finds the key that signed a digest.

use chrono::{DateTime, Utc};

use super::public_key::PublicKey;
use crate::format::hex::Fingerprint;

/// Where the walk finds the public key that signed a digest.
///
/// A [`PublicKeySet`](super::PublicKeySet) is one (keys loaded from files); a source backed by CloudTrail's
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

    /// Called once before the walk with the range the run validates (`start` to `end`),
    /// so that a source asking a service can ask for that range at once. Default: nothing.
    fn prepare(&self, start: DateTime<Utc>, end: DateTime<Utc>) {
        let _ = (start, end);
    }
}
