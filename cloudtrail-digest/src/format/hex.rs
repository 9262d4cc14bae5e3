//! Hex-encoded values that appear in digest files and S3 metadata, decoded once at the boundary.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A SHA-256 hash, parsed from (and displayed as) 64 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256Hash(pub [u8; 32]);

impl Sha256Hash {
    /// Parses 64 hex characters (either case). Returns `None` for any other text.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).ok()?;
        Some(Self(out))
    }

    /// SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest as _;
        Self(sha2::Sha256::digest(bytes).into())
    }

    /// Lowercase hex, as CloudTrail writes it.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Sha256Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Hash({self})")
    }
}

impl Serialize for Sha256Hash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Sha256Hash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::from_hex(&text)
            .ok_or_else(|| serde::de::Error::custom("a SHA-256 hash is 64 hex characters"))
    }
}

/// A CloudTrail public key fingerprint: the hex MD5 of the key's DER bytes, kept lowercase.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::from_hex(&text)
            .ok_or_else(|| serde::de::Error::custom("a key fingerprint is 32 hex characters"))
    }
}

impl Fingerprint {
    /// Parses 32 hex characters (either case), normalised to lowercase.
    pub fn from_hex(text: &str) -> Option<Self> {
        (text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(text.to_ascii_lowercase()))
    }

    /// The fingerprint of DER-encoded key bytes, as CloudTrail computes it.
    pub fn of_der(der: &[u8]) -> Self {
        use md5::Digest as _;
        Self(hex::encode(md5::Md5::digest(der)))
    }

    /// The lowercase hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.0)
    }
}

/// An RSA signature, decoded from the hex text of the `signature` S3 metadata
/// or of a successor's `previousDigestSignature`.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature(Vec<u8>);

impl Signature {
    /// Decodes hex text. Returns `None` if it is empty, of odd length or not hex.
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = hex::decode(text).ok()?;
        (!bytes.is_empty()).then_some(Self(bytes))
    }

    /// The raw signature bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex::encode(&self.0))
    }
}

/// A hex value's schema: a string of `digits` lowercase hex characters.
#[cfg(feature = "schema")]
fn hex_schema(digits: usize) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "pattern": format!("^[0-9a-f]{{{digits}}}$"),
    })
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Sha256Hash {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Sha256Hash".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        hex_schema(64)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Fingerprint {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Fingerprint".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        hex_schema(32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_hex_round_trip_and_rejects() {
        let h = Sha256Hash::of(b"abc");
        assert_eq!(
            h.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Sha256Hash::from_hex(&h.to_hex().to_uppercase()), Some(h));
        assert_eq!(Sha256Hash::from_hex("ba78"), None);
        assert_eq!(Sha256Hash::from_hex(&"zz".repeat(32)), None);
    }

    #[test]
    fn fingerprint_is_md5_of_der() {
        assert_eq!(
            Fingerprint::of_der(b"").as_str(),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_eq!(
            Fingerprint::from_hex("D41D8CD98F00B204E9800998ECF8427E"),
            Some(Fingerprint::of_der(b""))
        );
        assert_eq!(
            Fingerprint::from_hex("d41d8cd98f00b204e9800998ecf8427"),
            None
        );
    }

    #[test]
    fn signature_rejects_non_hex() {
        assert_eq!(Signature::from_hex("0a0B").unwrap().as_bytes(), &[10, 11]);
        assert!(Signature::from_hex("0g").is_none());
        assert!(Signature::from_hex("abc").is_none());
        assert!(Signature::from_hex("").is_none());
    }
}
