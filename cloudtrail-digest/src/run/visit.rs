//! Visiting one digest of a walk: read, parse, check where it sits, take the findings on
//! it and on the link that led to it, and verify its signature with the key its
//! fingerprint names.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::check::digest::{self as checks, SuccessorClaim};
use crate::check::unchecked;
use crate::format::digest_file::{Digest, PreviousDigest, MAX_DIGEST_BYTES};
use crate::format::hex::Signature;
use crate::format::key_name::{ChainId, DigestKey};
use crate::format::time::parse as parse_time;
use crate::report::{
    DigestOutcome, DigestStatus, Finding, FormatProblem, SignatureSource, UncheckedReason,
    UnverifiedReason,
};
use crate::signature::KeySource;
use crate::signature::{SignatureError, Validity, VerifiedDigest};
use crate::store::{Object, StoreError};

/// The largest digest object read: a stored digest larger than the largest inflated one
/// is no digest.
const MAX_STORED_DIGEST: u64 = MAX_DIGEST_BYTES;

/// A parsed digest's pointer to its predecessor, with the predecessor's signature as the
/// digest names it.
pub(crate) struct Link {
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) signature: Option<String>,
    /// What the digest that links here recorded about its predecessor.
    pub(crate) claim: SuccessorClaim,
}

/// Where the walk goes after a digest.
pub(crate) enum Next {
    /// Follow the digest's `previousDigest*` link.
    Follow(Link),
    /// A starting digest: continue at the next older listed digest, across a gap.
    Starting(Option<Link>),
    /// Missing or invalid: continue at the next older listed digest.
    Resume(Option<Link>),
}

pub(crate) struct Visit {
    pub(crate) outcome: DigestOutcome,
    pub(crate) verified: Option<VerifiedDigest>,
    pub(crate) next: Next,
    /// Findings on the successor that linked here (a broken link), kept only when this
    /// digest verified: otherwise its own failure explains the link.
    pub(crate) on_successor: Vec<Finding>,
}

/// What a walk visits digests with: the keys, the chain, and which kind of digest.
pub(crate) struct Visitor<'a> {
    pub(crate) keys: &'a dyn KeySource,
    pub(crate) chain: &'a ChainId,
    pub(crate) backfill: bool,
}

impl Visitor<'_> {
    /// Visits one digest: reads and parses it, checks that it sits where its JSON says it
    /// was written, takes the findings on it and its link, and verifies its signature.
    pub(crate) fn visit(
        &self,
        bucket: &str,
        key: &str,
        object: Result<Object, StoreError>,
        link: Option<Link>,
    ) -> Visit {
        let end_time = DigestKey::parse(key).ok().map(|k| k.end_time);
        let mut outcome = self.outcome(bucket, key, DigestStatus::Valid, end_time);
        let read = object.map_err(|e| read_failure(&e)).and_then(|o| {
            outcome.object = o.info.clone();
            read_digest(o)
        });
        let (digest, metadata) = match read {
            Ok(read) => read,
            Err(status) => return Visit::failed(outcome, status, None),
        };
        let own_link = describe(&mut outcome, &digest);
        let file = digest.file();
        if file.digest_s3_bucket != bucket || file.digest_s3_object != key {
            let status = DigestStatus::Moved {
                original_bucket: file.digest_s3_bucket.clone(),
                original_key: file.digest_s3_object.clone(),
            };
            return Visit::failed(outcome, status, own_link);
        }
        let (findings, on_successor) =
            self.parsed_findings(&digest, metadata.as_ref(), link.as_ref(), bucket, key);
        outcome.findings = findings;
        let mut visit = self.verify_visit(outcome, digest, metadata.as_ref(), link, own_link);
        if visit.verified.is_some() {
            visit.on_successor = on_successor;
        }
        visit
    }

    /// Verifies a parsed digest's signature, from its metadata or its successor's link.
    fn verify_visit(
        &self,
        mut outcome: DigestOutcome,
        digest: Digest,
        metadata: Option<&BTreeMap<String, String>>,
        link: Option<Link>,
        own_link: Option<Link>,
    ) -> Visit {
        // A backfill digest is signed when it is generated, not at its end time.
        let signed_at = metadata
            .and_then(|m| m.get("backfill-generation-timestamp"))
            .and_then(|t| parse_time(t))
            .unwrap_or(digest.file().digest_end_time);
        let (signature, source) = match self.signature(metadata, link) {
            Ok(s) => s,
            Err(status) => {
                let unverifiable = matches!(status, DigestStatus::Unverifiable { .. });
                let mut visit = Visit::failed(outcome, status, None);
                visit.next = match own_link {
                    Some(l) if unverifiable => Next::Follow(l),
                    l if unverifiable => Next::Starting(l),
                    l => Next::Resume(l),
                };
                return visit;
            }
        };
        outcome.signature_source = Some(source);
        match self.verify(digest, &signature, signed_at) {
            Ok((verified, validity)) => {
                outcome.verified_with = Some(verified.fingerprint().clone());
                outcome
                    .findings
                    .extend(checks::validity_finding(validity, signed_at));
                Visit {
                    outcome,
                    verified: Some(verified),
                    next: own_link.map_or(Next::Starting(None), Next::Follow),
                    on_successor: Vec::new(),
                }
            }
            Err(status) => Visit::failed(outcome, status, own_link),
        }
    }

    pub(crate) fn outcome(
        &self,
        bucket: &str,
        key: &str,
        status: DigestStatus,
        end_time: Option<DateTime<Utc>>,
    ) -> DigestOutcome {
        DigestOutcome::placeholder(bucket, key, self.backfill, status, end_time)
    }

    /// Findings on a parsed digest by itself, and against what its successor recorded about
    /// it (when the walk reached it through that successor's link), whatever its verdict;
    /// then the findings of a broken link on the successor.
    fn parsed_findings(
        &self,
        digest: &Digest,
        metadata: Option<&BTreeMap<String, String>>,
        link: Option<&Link>,
        bucket: &str,
        key: &str,
    ) -> (Vec<Finding>, Vec<Finding>) {
        let mut findings = checks::digest_findings(digest, self.chain, metadata);
        let mut on_successor = Vec::new();
        if let Some(claim) = link
            .filter(|l| l.bucket == bucket && l.key == key)
            .map(|l| &l.claim)
        {
            let own_signature = metadata
                .and_then(|m| m.get("signature"))
                .map(String::as_str);
            let url = format!("s3://{bucket}/{key}");
            let link = checks::link_findings(digest, &url, claim, own_signature);
            findings.extend(link.on_predecessor);
            on_successor = link.on_successor;
        }
        (findings, on_successor)
    }

    /// Finds the key the digest names, in its region, and verifies the signature with it.
    fn verify(
        &self,
        digest: Digest,
        signature: &Signature,
        signed_at: DateTime<Utc>,
    ) -> Result<(VerifiedDigest, Option<Validity>), DigestStatus> {
        let fingerprint = &digest.file().digest_public_key_fingerprint;
        let region = &self.chain.location.region;
        let verified = match self.keys.key(region, fingerprint, signed_at) {
            Ok(Some(key)) => key.verify(digest, signature).map(|v| (v, key.validity())),
            Ok(None) => Err(SignatureError::UnknownKey(fingerprint.clone())),
            Err(message) => {
                let reason = UncheckedReason::KeysUnavailable { message };
                return Err(DigestStatus::Unchecked { reason });
            }
        };
        verified.map_err(|e| match e {
            SignatureError::UnknownKey(fingerprint) => DigestStatus::UnknownKey {
                region: region.clone(),
                fingerprint,
            },
            SignatureError::UnloadableKey(fingerprint) => {
                DigestStatus::UnloadableKey { fingerprint }
            }
            SignatureError::KeyTooLarge { fingerprint, bits } => DigestStatus::Unchecked {
                reason: UncheckedReason::KeyTooLarge {
                    fingerprint,
                    bits,
                    max_bits: crate::signature::MAX_KEY_BITS,
                },
            },
            SignatureError::Mismatch => DigestStatus::SignatureMismatch,
        })
    }

    /// The signature to verify: from the object's metadata when the store knows it, else
    /// from the successor digest that named this one as its predecessor.
    fn signature(
        &self,
        metadata: Option<&BTreeMap<String, String>>,
        link: Option<Link>,
    ) -> Result<(Signature, SignatureSource), DigestStatus> {
        if let Some(meta) = metadata {
            if self.backfill && !meta.contains_key("backfill-generation-timestamp") {
                return Err(DigestStatus::InvalidFormat {
                    problem: FormatProblem::NoBackfillTimestamp,
                });
            }
            let missing = |entry: &str| DigestStatus::SignatureMissing {
                entry: entry.to_owned(),
            };
            let text = meta.get("signature").ok_or_else(|| missing("signature"))?;
            if !meta.contains_key("signature-algorithm") {
                return Err(missing("signature-algorithm"));
            }
            let signature = Signature::from_hex(text).ok_or(DigestStatus::SignatureMalformed)?;
            return Ok((signature, SignatureSource::Metadata));
        }
        let Some(text) = link.and_then(|l| l.signature) else {
            return Err(DigestStatus::Unverifiable {
                reason: UnverifiedReason::NoSignature,
            });
        };
        let signature = Signature::from_hex(&text).ok_or(DigestStatus::Unverifiable {
            reason: UnverifiedReason::SuccessorSignatureNotHex,
        })?;
        Ok((signature, SignatureSource::Successor))
    }
}

/// The verdict on a digest whose read failed: not found, or unchecked.
fn read_failure(e: &StoreError) -> DigestStatus {
    match unchecked(e) {
        None => DigestStatus::NotFound { inferred: false },
        Some(reason) => DigestStatus::Unchecked { reason },
    }
}

/// Reads and parses a digest object, within [`MAX_STORED_DIGEST`] bytes: a larger object
/// is no digest; a read that fails leaves it unchecked.
fn read_digest(object: Object) -> Result<(Digest, Option<BTreeMap<String, String>>), DigestStatus> {
    let too_large = |size: u64| DigestStatus::InvalidFormat {
        problem: FormatProblem::StoredTooLarge {
            size,
            limit: MAX_STORED_DIGEST,
        },
    };
    if let Some(size) = object.size.filter(|s| *s > MAX_STORED_DIGEST) {
        return Err(too_large(size));
    }
    let bytes = object.body.into_bytes(MAX_STORED_DIGEST).map_err(|e| {
        if e.kind() == std::io::ErrorKind::FileTooLarge {
            too_large(MAX_STORED_DIGEST + 1)
        } else {
            DigestStatus::Unchecked {
                reason: UncheckedReason::ReadInterrupted {
                    message: e.to_string(),
                },
            }
        }
    })?;
    let digest =
        Digest::from_gzip(&bytes).map_err(|e| DigestStatus::InvalidFormat { problem: e.into() })?;
    Ok((digest, object.metadata))
}

/// Records what a parsed digest says of itself; returns its link to its predecessor.
fn describe(outcome: &mut DigestOutcome, digest: &Digest) -> Option<Link> {
    let file = digest.file();
    outcome.starting = file.previous == PreviousDigest::default();
    outcome.start_time = Some(file.digest_start_time);
    outcome.end_time = Some(file.digest_end_time);
    outcome.sha256 = Some(digest.sha256());
    let (Some(bucket), Some(key)) = (&file.previous.s3_bucket, &file.previous.s3_object) else {
        return None;
    };
    Some(Link {
        bucket: bucket.clone(),
        key: key.clone(),
        signature: file.previous.signature.clone(),
        claim: SuccessorClaim {
            successor: format!("s3://{}/{}", outcome.bucket, outcome.key),
            start: file.digest_start_time,
            hash_value: file.previous.hash_value,
            signature: file.previous.signature.clone(),
        },
    })
}

impl Visit {
    /// A digest that did not verify: the walk resumes at the next older listed digest.
    fn failed(mut outcome: DigestOutcome, status: DigestStatus, link: Option<Link>) -> Self {
        outcome.status = status;
        Self {
            outcome,
            verified: None,
            next: Next::Resume(link),
            on_successor: Vec::new(),
        }
    }

    /// Whether the walk trusts this digest's start time (it parsed and was not found
    /// elsewhere than it claims).
    pub(crate) fn follows(&self) -> bool {
        matches!(
            self.outcome.status,
            DigestStatus::Valid | DigestStatus::Unverifiable { .. }
        )
    }
}
