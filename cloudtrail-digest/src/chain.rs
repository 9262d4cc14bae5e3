//! Walking one digest chain newest to oldest, as the reference does (spec section 5), with
//! every finding kept: two consecutive deleted digests are two findings.
//!
//! From the newest listed digest, each digest is fetched, parsed, checked to sit where its
//! JSON says it was written, and its signature verified; then the walk follows its
//! `previousDigestS3Object`. After a digest that is missing or invalid, the walk resumes
//! at the next older listed key, and every hour between the two that no digest covers is
//! reported as a digest that was not found.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use crate::checks::{self, SuccessorClaim};
use crate::digest::parse_time;
use crate::digest::Digest;
use crate::hash::unreadable;
use crate::hexvalue::Signature;
use crate::keys::{KeySource, SignatureError, Validity, VerifiedDigest};
use crate::layout::{ChainId, DigestKey};
use crate::listed::ListedLogs;
use crate::report::{DigestOutcome, DigestStatus, Finding, Notice, SignatureSource};
use crate::store::{Object, ObjectStore, StoreError};

/// The most missing hours of one gap reported one by one (ten years).
pub(crate) const MAX_INFERRED: usize = 24 * 3653;

/// How many listed digests are fetched at once ahead of the walk.
const PREFETCH: usize = 32;

/// The most bytes of digests held ahead of the walk.
const PREFETCH_BYTES: u64 = 32 * 1024 * 1024;

/// A digest fetched, or fetched ahead and dropped to stay within [`PREFETCH_BYTES`].
enum Fetched {
    Missing,
    Dropped,
    Got(Result<Object, StoreError>),
}

/// The largest digest object read: a stored digest larger than the largest inflated one
/// is no digest.
const MAX_STORED_DIGEST: u64 = crate::digest::MAX_DIGEST_BYTES;

/// A listed digest key and the end time its name gives.
pub(crate) type Listed = (String, DateTime<Utc>);

/// Receives each outcome of a walk, newest first, with the verified digest if it verified.
pub(crate) type Sink<'s> = dyn FnMut(DigestOutcome, Option<VerifiedDigest>) + 's;

/// The state of one walk.
struct Walk<'s, 'k> {
    sink: &'s mut Sink<'k>,
    notices: Vec<Notice>,
    /// Digests of the walk's bucket fetched ahead, by key.
    prefetched: HashMap<String, Result<Object, StoreError>>,
    /// The last outcome, held until its predecessor is visited: a broken link is a finding
    /// on both digests.
    held: Option<(DigestOutcome, Option<VerifiedDigest>)>,
    /// The largest digest read yet: how many fit in [`PREFETCH_BYTES`] ahead.
    largest: u64,
}

impl Walk<'_, '_> {
    /// Hands on the outcome held, and holds this one.
    fn emit(&mut self, outcome: DigestOutcome, verified: Option<VerifiedDigest>) {
        if let Some((o, v)) = self.held.replace((outcome, verified)) {
            (self.sink)(o, v);
        }
    }

    /// Hands on the outcome held, if any.
    fn flush(&mut self) {
        if let Some((o, v)) = self.held.take() {
            (self.sink)(o, v);
        }
    }
}

/// A parsed digest's pointer to its predecessor, with the predecessor's signature as the
/// digest names it.
struct Link {
    bucket: String,
    key: String,
    signature: Option<String>,
    /// What the digest that links here recorded about its predecessor.
    claim: SuccessorClaim,
}

/// Where the walk goes after a digest.
enum Next {
    /// Follow the digest's `previousDigest*` link.
    Follow(Link),
    /// A starting digest: continue at the next older listed digest, across a gap.
    Starting(Option<Link>),
    /// Missing or invalid: continue at the next older listed digest.
    Resume(Option<Link>),
}

struct Visit {
    outcome: DigestOutcome,
    verified: Option<VerifiedDigest>,
    next: Next,
    /// Findings on the successor that linked here (a broken link), kept only when this
    /// digest verified: otherwise its own failure explains the link.
    on_successor: Vec<Finding>,
}

pub(crate) struct ChainWalker<'a, S: ObjectStore + ?Sized> {
    pub(crate) store: &'a S,
    pub(crate) keys: &'a dyn KeySource,
    pub(crate) chain: &'a ChainId,
    pub(crate) bucket: &'a str,
    pub(crate) start: DateTime<Utc>,
    pub(crate) backfill: bool,
    /// Where digests are fetched ahead, apart from the pool that checks log files (else a
    /// fetch waits for a whole batch of log files). `None`: the global pool.
    pub(crate) pool: Option<&'a rayon::ThreadPool>,
}

/// The next listed key strictly older than `before`, dropping the newer ones, as the
/// reference's `_get_last_digest` does.
fn pop_older(listed: &mut Vec<Listed>, before: DateTime<Utc>) -> Option<Listed> {
    while let Some((key, end)) = listed.pop() {
        if end < before {
            return Some((key, end));
        }
    }
    None
}

impl<S: ObjectStore + ?Sized> ChainWalker<'_, S> {
    /// Walks the chain over `listed` (ascending by key, all of this chain and kind), handing
    /// each outcome to `sink` as it is decided; returns the chain's notices.
    pub(crate) fn walk(
        &self,
        mut listed: Vec<Listed>,
        listed_logs: &mut ListedLogs,
        sink: &mut Sink<'_>,
    ) -> Vec<Notice> {
        let mut walk = Walk {
            sink,
            notices: Vec::new(),
            prefetched: HashMap::new(),
            held: None,
            largest: 0,
        };
        // Every listed digest must be reached; those the walk never visits are off the chain.
        let all_listed = listed.clone();
        let Some((mut key, mut key_end)) = listed.pop() else {
            return walk.notices;
        };
        let mut bucket = self.bucket.to_owned();
        let mut last_start = key_end;
        let mut link: Option<Link> = None;
        // Digests already visited: a link back to one (a cycle, possible only among digests
        // that cannot be verified) resumes at the next older listed digest instead.
        let mut visited: HashSet<(String, String)> = HashSet::new();
        while self.start <= last_start {
            let object = self.fetch(&mut walk, &bucket, &key, &listed);
            let mut visit = self.visit(&bucket, &key, object, link.take());
            if let Some(verified) = &visit.verified {
                let url = format!("s3://{bucket}/{key}");
                let found = checks::entry_findings(verified, url, self.chain, listed_logs);
                visit.outcome.findings.extend(found);
            }
            visited.insert((bucket.clone(), key.clone()));
            if let Some(start) = visit.outcome.start_time.filter(|_| visit.follows()) {
                last_start = start;
            }
            if let Some((successor, _)) = walk.held.as_mut() {
                successor.findings.append(&mut visit.on_successor);
            }
            walk.emit(visit.outcome, visit.verified);
            let (resume_from, carried, starting) = match visit.next {
                Next::Follow(l) if !visited.contains(&(l.bucket.clone(), l.key.clone())) => {
                    key_end = DigestKey::parse(&l.key).map_or(last_start, |k| k.end_time);
                    bucket.clone_from(&l.bucket);
                    key.clone_from(&l.key);
                    link = Some(l);
                    continue;
                }
                Next::Follow(_) => (key_end, None, false),
                Next::Starting(l) => (key_end, l, true),
                Next::Resume(l) => (key_end, l, false),
            };
            let next = std::iter::from_fn(|| pop_older(&mut listed, resume_from))
                .find(|(k, _)| !visited.contains(&(self.bucket.to_owned(), k.clone())));
            let Some((next_key, next_end)) = next else {
                break;
            };
            walk.flush();
            if starting {
                walk.notices.push(Notice::Gap {
                    backfill: self.backfill,
                    from: next_end,
                    to: last_start,
                });
            } else {
                self.infer_missing(&mut walk, next_end, resume_from);
            }
            self.bucket.clone_into(&mut bucket);
            link = carried.filter(|l| l.key == next_key && l.bucket == bucket);
            key = next_key;
            key_end = next_end;
        }
        walk.flush();
        for (key, end) in all_listed.into_iter().rev() {
            if end >= self.start && !visited.contains(&(self.bucket.to_owned(), key.clone())) {
                let outcome = self.outcome(self.bucket, &key, DigestStatus::OffChain, Some(end));
                (walk.sink)(outcome, None);
            }
        }
        walk.notices
    }

    /// Reads a digest, from what was fetched ahead if it is there; otherwise fetches it with
    /// the next older listed digests of the same bucket, concurrently.
    fn fetch(
        &self,
        walk: &mut Walk<'_, '_>,
        bucket: &str,
        key: &str,
        listed: &[Listed],
    ) -> Result<Object, StoreError> {
        let own_bucket = bucket == self.bucket;
        if own_bucket {
            if let Some(found) = walk.prefetched.remove(key) {
                return found;
            }
        }
        let mut batch: Vec<(&str, &str)> = vec![(bucket, key)];
        if own_bucket {
            // The walk goes on to older digests: what was fetched for newer ones is done.
            walk.prefetched.retain(|k, _| k.as_str() < key);
            // The listed digests older than this one (the listing is ascending by key, and
            // so by end time), newest first, unless already fetched.
            let older = listed.partition_point(|(k, _)| k.as_str() < key);
            let fetched = &walk.prefetched;
            let fit = PREFETCH_BYTES / walk.largest.max(1);
            let ahead = usize::try_from(fit).unwrap_or(usize::MAX).min(PREFETCH - 1);
            batch.extend(
                listed[..older]
                    .iter()
                    .rev()
                    .take(ahead)
                    .filter(|(k, _)| !fetched.contains_key(k))
                    .map(|(k, _)| (bucket, k.as_str())),
            );
        }
        let results: Mutex<Vec<Fetched>> =
            Mutex::new((0..batch.len()).map(|_| Fetched::Missing).collect());
        // What is fetched ahead is held within a budget of bytes: past it, a digest is
        // dropped and read again when the walk gets there.
        let held = std::sync::atomic::AtomicU64::new(0);
        let fetch = || {
            self.store.get_each(&batch, &|i, result| {
                let size = result
                    .as_ref()
                    .ok()
                    .and_then(|o| o.body.as_bytes())
                    .map_or(0, |b| b.len() as u64);
                let ahead = i > 0;
                let streamed = result.as_ref().is_ok_and(|o| o.body.as_bytes().is_none());
                let over = ahead
                    && held.fetch_add(size, std::sync::atomic::Ordering::AcqRel) + size
                        > PREFETCH_BYTES;
                // A body read as it arrives holds a connection open: never kept ahead.
                let slot = if ahead && (over || streamed) {
                    Fetched::Dropped
                } else {
                    Fetched::Got(result)
                };
                if let Ok(mut slots) = results.lock() {
                    slots[i] = slot;
                }
            });
        };
        match self.pool {
            Some(pool) => pool.install(fetch),
            None => fetch(),
        }
        let results = results
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for fetched in &results {
            if let Fetched::Got(Ok(o)) = fetched {
                walk.largest = walk.largest.max(o.size.unwrap_or(0));
            }
        }
        let mut first = None;
        for ((_, k), fetched) in batch.iter().zip(results) {
            let result = match fetched {
                Fetched::Got(result) => result,
                Fetched::Dropped => continue,
                Fetched::Missing => Err(StoreError::new(
                    crate::store::StoreErrorKind::Other,
                    "the store returned no result for this file",
                )),
            };
            if first.is_none() {
                first = Some(result);
            } else {
                walk.prefetched.insert((*k).to_owned(), result);
            }
        }
        first.unwrap_or_else(|| {
            Err(StoreError::new(
                crate::store::StoreErrorKind::Other,
                "no result",
            ))
        })
    }

    /// Reports a not-found digest for every hour strictly between an older digest ending at
    /// `older_end` and a missing or invalid one ending at `newer_end`.
    fn infer_missing(
        &self,
        walk: &mut Walk<'_, '_>,
        older_end: DateTime<Utc>,
        newer_end: DateTime<Utc>,
    ) {
        let slack = Duration::minutes(10);
        let mut ends = Vec::new();
        // Hours before the requested start are out of scope (the walk stops there too).
        let mut end = older_end + Duration::hours(1);
        if end < self.start {
            let skipped = (self.start - end).num_hours();
            end += Duration::hours(skipped);
        }
        while end + slack < newer_end {
            if end >= self.start {
                ends.push(end);
            }
            if ends.len() >= MAX_INFERRED {
                // Too many to name one by one (a planted key dated far in the past, say):
                // the rest is one explicit finding, never dropped.
                walk.notices.push(Notice::MissingDigests {
                    backfill: self.backfill,
                    from: end,
                    to: newer_end - Duration::hours(1),
                });
                break;
            }
            end += Duration::hours(1);
        }
        // Newest first, like the rest of the walk.
        for end in ends.into_iter().rev() {
            let outcome =
                DigestOutcome::inferred_missing(self.chain, self.bucket, end, self.backfill);
            (walk.sink)(outcome, None);
        }
    }

    fn visit(
        &self,
        bucket: &str,
        key: &str,
        object: Result<Object, StoreError>,
        link: Option<Link>,
    ) -> Visit {
        let end_time = DigestKey::parse(key).ok().map(|k| k.end_time);
        let mut outcome = self.outcome(bucket, key, DigestStatus::Valid, end_time);
        let fail = |mut outcome: DigestOutcome, status, link| {
            outcome.status = status;
            Visit {
                outcome,
                verified: None,
                next: Next::Resume(link),
                on_successor: Vec::new(),
            }
        };
        let (digest, metadata) = match object.map_err(|e| read_failure(&e)).and_then(|o| {
            outcome.object = o.info.clone();
            read_digest(o)
        }) {
            Ok(read) => read,
            Err(status) => return fail(outcome, status, None),
        };
        let file = digest.file();
        outcome.starting = file.previous == crate::digest::PreviousDigest::default();
        outcome.start_time = Some(file.digest_start_time);
        outcome.end_time = Some(file.digest_end_time);
        outcome.sha256 = Some(digest.sha256());
        let own_link = match (&file.previous.s3_bucket, &file.previous.s3_object) {
            (Some(b), Some(k)) => Some(Link {
                bucket: b.clone(),
                key: k.clone(),
                signature: file.previous.signature.clone(),
                claim: SuccessorClaim {
                    successor: format!("s3://{bucket}/{key}"),
                    start: file.digest_start_time,
                    hash_value: file.previous.hash_value,
                    signature: file.previous.signature.clone(),
                },
            }),
            _ => None,
        };
        if file.digest_s3_bucket != bucket || file.digest_s3_object != key {
            let status = DigestStatus::Moved {
                original_bucket: file.digest_s3_bucket.clone(),
                original_key: file.digest_s3_object.clone(),
            };
            return fail(outcome, status, own_link);
        }
        // A backfill digest is signed when it is generated, not at its end time.
        let signed_at = metadata
            .as_ref()
            .and_then(|m| m.get("backfill-generation-timestamp"))
            .and_then(|t| parse_time(t))
            .unwrap_or(file.digest_end_time);
        let (findings, on_successor) =
            self.parsed_findings(&digest, metadata.as_ref(), link.as_ref(), bucket, key);
        outcome.findings = findings;
        let signature = match self.signature(metadata.as_ref(), link) {
            Ok(s) => s,
            Err(status) => {
                let unverifiable = matches!(status, DigestStatus::Unverifiable { .. });
                let mut visit = fail(outcome, status, None);
                visit.next = match own_link {
                    Some(l) if unverifiable => Next::Follow(l),
                    l if unverifiable => Next::Starting(l),
                    l => Next::Resume(l),
                };
                return visit;
            }
        };
        outcome.signature_source = Some(signature.1);
        match self.verify(digest, &signature.0, signed_at) {
            Ok((verified, validity)) => {
                outcome.verified_with = Some(verified.fingerprint().clone());
                outcome
                    .findings
                    .extend(checks::validity_finding(validity, signed_at));
                Visit {
                    outcome,
                    verified: Some(verified),
                    next: own_link.map_or(Next::Starting(None), Next::Follow),
                    on_successor,
                }
            }
            Err(status) => fail(outcome, status, own_link),
        }
    }

    fn outcome(
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
            Err(reason) => return Err(DigestStatus::Unchecked { reason }),
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
                reason: format!(
                    "its public key {fingerprint} has {bits} bits, more than the {} this tool verifies",
                    crate::keys::MAX_KEY_BITS
                ),
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
                    reason: "S3 metadata has no backfill-generation-timestamp".into(),
                });
            }
            let missing = |what: &str| DigestStatus::SignatureMissing {
                reason: format!("S3 metadata has no {what}"),
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
                reason: "no signature: no S3 metadata and no successor digest names it".into(),
            });
        };
        let signature = Signature::from_hex(&text).ok_or_else(|| DigestStatus::Unverifiable {
            reason: "the successor digest's previousDigestSignature is not hex".into(),
        })?;
        Ok((signature, SignatureSource::Successor))
    }
}

/// The verdict on a digest whose read failed: not found, or unchecked.
fn read_failure(e: &StoreError) -> DigestStatus {
    match unreadable(e) {
        Ok(()) => DigestStatus::NotFound { inferred: false },
        Err(reason) => DigestStatus::Unchecked { reason },
    }
}

/// Reads and parses a digest object, within [`MAX_STORED_DIGEST`] bytes: a larger object
/// is no digest; a read that fails leaves it unchecked.
fn read_digest(object: Object) -> Result<(Digest, Option<BTreeMap<String, String>>), DigestStatus> {
    let too_large = |size: u64| DigestStatus::InvalidFormat {
        reason: format!("{size} bytes or more, more than a digest may be ({MAX_STORED_DIGEST})"),
    };
    if let Some(size) = object.size.filter(|s| *s > MAX_STORED_DIGEST) {
        return Err(too_large(size));
    }
    let bytes = object.body.into_bytes(MAX_STORED_DIGEST).map_err(|e| {
        if e.kind() == std::io::ErrorKind::FileTooLarge {
            too_large(MAX_STORED_DIGEST + 1)
        } else {
            DigestStatus::Unchecked {
                reason: format!("reading it failed: {e}"),
            }
        }
    })?;
    let digest = Digest::from_gzip(&bytes).map_err(|e| DigestStatus::InvalidFormat {
        reason: e.to_string(),
    })?;
    Ok((digest, object.metadata))
}

impl Visit {
    /// Whether the walk trusts this digest's start time (it parsed and was not found
    /// elsewhere than it claims).
    fn follows(&self) -> bool {
        matches!(
            self.outcome.status,
            DigestStatus::Valid | DigestStatus::Unverifiable { .. }
        )
    }
}
