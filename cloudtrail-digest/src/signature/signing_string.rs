//! The signing string (AWS CloudTrail User Guide, "Custom implementations of CloudTrail log
//! file integrity validation", step "B. Recreate the data signing string").

use crate::format::digest_file::Digest;

/// The exact bytes CloudTrail signs for a digest:
///
/// ```text
/// digestEndTime \n digestS3Bucket/digestS3Object \n hex(SHA-256(inflated digest)) \n previousDigestSignature
/// ```
///
/// joined with `\n` (never `\r\n`), with the literal text `null` for a null
/// `previousDigestSignature`. The values are the digest's own JSON values, so a digest
/// copied to another bucket or key still yields the string CloudTrail signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningString(Vec<u8>);

impl SigningString {
    /// Builds the signing string of `digest`.
    pub fn new(digest: &Digest) -> Self {
        let f = digest.file();
        let text = format!(
            "{}\n{}/{}\n{}\n{}",
            f.digest_end_time_text,
            f.digest_s3_bucket,
            f.digest_s3_object,
            digest.sha256().to_hex(),
            f.previous.signature.as_deref().unwrap_or("null")
        );
        Self(text.into_bytes())
    }

    /// The bytes to verify the signature over.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_the_signing_string_of_the_real_digest() {
        let raw = include_bytes!("../../../testdata/real/llm-guard-digest.json").to_vec();
        let digest = Digest::from_json(raw).unwrap();
        let expected = include_str!("../../../testdata/signing-string/llm-guard-expected.txt");
        assert_eq!(SigningString::new(&digest).as_bytes(), expected.as_bytes());
    }

    #[test]
    fn null_previous_signature_is_literal_null() {
        let raw = br#"{"awsAccountId":"111122223333","digestStartTime":"2024-01-01T00:00:00Z","digestEndTime":"2024-01-01T01:00:00Z","digestS3Bucket":"b","digestS3Object":"k","digestPublicKeyFingerprint":"d41d8cd98f00b204e9800998ecf8427e","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":null,"oldestEventTime":null,"previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":[]}"#;
        let digest = Digest::from_json(raw.to_vec()).unwrap();
        let expected = format!("2024-01-01T01:00:00Z\nb/k\n{}\nnull", digest.sha256());
        assert_eq!(SigningString::new(&digest).as_bytes(), expected.as_bytes());
    }
}
