//! Signatures: the string CloudTrail signs, its public keys (from files or a key source),
//! and verification, the only way to a [`VerifiedDigest`].

mod key_file;
mod key_set;
mod key_source;
mod public_key;
mod signing_string;
mod verify;

pub use key_file::KeyFileError;
pub use key_set::PublicKeySet;
pub use key_source::KeySource;
pub use public_key::{PublicKey, Validity, MAX_KEY_BITS};
pub use signing_string::SigningString;
pub use verify::{SignatureError, VerifiedDigest};

#[cfg(test)]
mod tests;
