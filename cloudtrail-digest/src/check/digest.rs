//! Checks the reference does not make (spec section 6), each an integrity finding on a
//! digest: chain links (`previousDigestHashValue`, `previousDigestSignature`, contiguity),
//! consistency with the key, algorithms, the signing key's validity window, and log files
//! listed twice. Pure: bytes and fields in, findings out.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::check::listed::{ListedLogs, Scope};
use crate::format::digest_file::Digest;
use crate::format::hex::Sha256Hash;
use crate::format::key_name::{ChainId, LogKey};
use crate::report::Finding;
use crate::signature::{Validity, VerifiedDigest};

const SHA_256: &str = "SHA-256";
const SHA256_WITH_RSA: &str = "SHA256withRSA";

/// What a successor digest recorded about its predecessor.
#[derive(Debug, Clone)]
pub(crate) struct SuccessorClaim {
    /// The successor, `s3://BUCKET/KEY`.
    pub(crate) successor: String,
    pub(crate) start: DateTime<Utc>,
    pub(crate) hash_value: Option<Sha256Hash>,
    pub(crate) signature: Option<String>,
}

/// The findings of a broken link, for each of its two digests.
#[derive(Debug, Default)]
pub(crate) struct LinkFindings {
    pub(crate) on_predecessor: Vec<Finding>,
    /// Reported only when the predecessor verified: a predecessor whose own signature
    /// fails explains the broken link by itself.
    pub(crate) on_successor: Vec<Finding>,
}

/// Findings on a parsed digest by itself and its S3 metadata.
pub(crate) fn digest_findings(
    digest: &Digest,
    chain: &ChainId,
    metadata: Option<&BTreeMap<String, String>>,
) -> Vec<Finding> {
    let f = digest.file();
    let mut out = Vec::new();
    if let Some(a) = f
        .previous
        .hash_algorithm
        .as_deref()
        .filter(|a| *a != SHA_256)
    {
        out.push(Finding::PreviousHashAlgorithm {
            algorithm: a.to_owned(),
        });
    }
    if f.digest_end_time <= f.digest_start_time {
        out.push(Finding::EndNotAfterStart);
    }
    if f.aws_account_id != chain.location.account_id {
        out.push(Finding::AccountMismatch {
            in_json: f.aws_account_id.clone(),
            in_key: chain.location.account_id.clone(),
        });
    }
    if let Some(v) = f
        .digest_signature_algorithm
        .as_deref()
        .filter(|v| *v != SHA256_WITH_RSA)
    {
        out.push(Finding::SignatureAlgorithm {
            field: "digestSignatureAlgorithm".into(),
            value: v.to_owned(),
        });
    }
    if let Some(v) = metadata
        .and_then(|m| m.get("signature-algorithm"))
        .filter(|v| v.as_str() != SHA256_WITH_RSA)
    {
        out.push(Finding::SignatureAlgorithm {
            field: "signature-algorithm metadata".into(),
            value: v.clone(),
        });
    }
    out
}

/// Findings on a digest (`predecessor`, its `s3://` URL) against what its successor
/// recorded about it, for both digests of the link. `own_signature` is its signature from
/// its own metadata, when known.
pub(crate) fn link_findings(
    digest: &Digest,
    predecessor: &str,
    claim: &SuccessorClaim,
    own_signature: Option<&str>,
) -> LinkFindings {
    let (mut pre, mut post) = (Vec::new(), Vec::new());
    let successor = || claim.successor.clone();
    let predecessor = || predecessor.to_owned();
    if let Some(recorded) = claim.hash_value.filter(|h| *h != digest.sha256()) {
        let actual = digest.sha256();
        pre.push(Finding::PreviousHashMismatch {
            recorded,
            actual,
            successor: successor(),
        });
        post.push(Finding::PredecessorHashMismatch {
            recorded,
            actual,
            predecessor: predecessor(),
        });
    }
    if let (Some(own), Some(recorded)) = (own_signature, claim.signature.as_deref()) {
        if !own.eq_ignore_ascii_case(recorded) {
            pre.push(Finding::PreviousSignatureMismatch {
                successor: successor(),
            });
            post.push(Finding::PredecessorSignatureMismatch {
                predecessor: predecessor(),
            });
        }
    }
    let end = digest.file().digest_end_time;
    if end != claim.start {
        pre.push(Finding::NotContiguous {
            end,
            successor_start: claim.start,
            successor: successor(),
        });
        post.push(Finding::NotContiguousWithPredecessor {
            start: claim.start,
            predecessor_end: end,
            predecessor: predecessor(),
        });
    }
    LinkFindings {
        on_predecessor: pre,
        on_successor: post,
    }
}

/// A finding if the key was not valid when the digest was signed.
pub(crate) fn validity_finding(
    validity: Option<Validity>,
    signed_at: DateTime<Utc>,
) -> Option<Finding> {
    let v = validity?;
    (signed_at < v.start || signed_at > v.end).then_some(Finding::KeyOutsideValidity {
        signed_at,
        valid_from: v.start,
        valid_to: v.end,
    })
}

/// Findings on a verified digest's log entries: algorithm, location, and log files already
/// listed by a digest of any chain of the run, which `listed` records. `digest_url` is this
/// digest's `s3://` URL.
pub(crate) fn entry_findings(
    verified: &VerifiedDigest,
    digest_url: String,
    chain: &ChainId,
    listed: &mut ListedLogs,
) -> Vec<Finding> {
    let digest = listed.add_digest(digest_url);
    let mut out = Vec::new();
    for entry in verified.log_files() {
        if entry.hash_algorithm != SHA_256 {
            out.push(Finding::LogHashAlgorithm {
                log_key: entry.s3_object.clone(),
                algorithm: entry.hash_algorithm.clone(),
            });
        }
        let here = &chain.location;
        let elsewhere = LogKey::parse(&entry.s3_object).is_ok_and(|k| {
            k.location.account_id != here.account_id || k.location.region != here.region
        });
        if elsewhere {
            // A finding on this digest; it vouches for nothing in another account or
            // region, so the file is not recorded as listed (see `ListedLogs`).
            out.push(Finding::LogOutsideLocation {
                log_key: entry.s3_object.clone(),
            });
            continue;
        }
        if let Some(first) =
            listed.insert(Scope::of(here), &entry.s3_bucket, &entry.s3_object, digest)
        {
            out.push(Finding::DuplicateLog {
                log_key: entry.s3_object.clone(),
                first_listed_in: first.to_owned(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    #[test]
    fn the_key_must_be_valid_when_the_digest_was_signed_boundaries_included() {
        let t = |h| Utc.with_ymd_and_hms(2024, 3, 1, h, 0, 0).unwrap();
        let v = Some(Validity {
            start: t(1),
            end: t(3),
        });
        assert_eq!(validity_finding(v, t(1)), None);
        assert_eq!(validity_finding(v, t(3)), None);
        assert_eq!(
            validity_finding(None, t(9)),
            None,
            "keys from files have no window"
        );
        let late = validity_finding(v, t(4)).unwrap();
        assert_eq!(late.to_string(), "signed at 2024-03-01T04:00:00Z by a key valid only from 2024-03-01T01:00:00Z to 2024-03-01T03:00:00Z");
        assert!(validity_finding(v, t(0)).is_some());
    }
}
